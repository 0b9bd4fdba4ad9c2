package coordinator

import (
	"context"
	"sync"
)

// committer waits for a shard's appends to commit off the shard's
// goroutine, so the shard keeps taking operations while the log syncs and
// the followers fetch; one Commit covers every append before it (the
// log's group commit, the high watermark).
// What it holds (responses, and for transactions markers too) is kept in
// append order and released once its records, and every record appended
// before them, are committed.
type committer[R any] struct {
	ctx      context.Context // the shard's: ends a Commit at unload
	results  chan commitResult
	signal   chan struct{}
	quit     chan struct{}
	finished chan struct{}

	mu     sync.Mutex
	target commitReq // the latest append to wait for
	has    bool

	// Owned by the shard's goroutine.
	epoch   uint64
	waiting []waitingAppend[R]
}

type commitReq struct {
	epoch uint64
	part  Partition
	next  int64
}

type commitResult struct {
	epoch uint64
	next  int64
	err   error
}

// waitingAppend is an append's responses, held until next is committed.
type waitingAppend[R any] struct {
	next      int64
	responses []R
}

func (c *committer[R]) start(ctx context.Context) {
	c.ctx = ctx
	c.results = make(chan commitResult)
	c.signal = make(chan struct{}, 1)
	c.quit = make(chan struct{})
	c.finished = make(chan struct{})
	go c.loop()
}

func (c *committer[R]) stop() {
	close(c.quit)
	<-c.finished
}

func (c *committer[R]) loop() {
	defer close(c.finished)
	for {
		select {
		case <-c.quit:
			return
		case <-c.signal:
		}
		c.mu.Lock()
		req, has := c.target, c.has
		c.has = false
		c.mu.Unlock()
		if !has {
			continue
		}
		err := req.part.Commit(c.ctx, req.next)
		select {
		case c.results <- commitResult{epoch: req.epoch, next: req.next, err: err}:
		case <-c.quit:
			return
		}
	}
}

// wait holds rs until part has committed up to next.
func (c *committer[R]) wait(part Partition, next int64, rs []R) {
	c.waiting = append(c.waiting, waitingAppend[R]{next: next, responses: rs})
	c.mu.Lock()
	c.target, c.has = commitReq{epoch: c.epoch, part: part, next: next}, true
	c.mu.Unlock()
	select {
	case c.signal <- struct{}{}:
	default:
	}
}

// attach adds rs to the last waiting append; false if none is waiting.
func (c *committer[R]) attach(rs []R) bool {
	if len(c.waiting) == 0 {
		return false
	}
	last := &c.waiting[len(c.waiting)-1]
	last.responses = append(last.responses, rs...)
	return true
}

// done takes a commit's result: the responses it releases (or, with an
// error, those it failed), and false for a result from before a reload.
func (c *committer[R]) done(res commitResult) ([]R, bool, error) {
	if res.epoch != c.epoch {
		return nil, false, nil
	}
	var rs []R
	n := 0
	for n < len(c.waiting) && c.waiting[n].next <= res.next {
		rs = append(rs, c.waiting[n].responses...)
		n++
	}
	c.waiting = c.waiting[n:]
	return rs, true, res.err
}

// abandon forgets every waiting append and returns their responses;
// results of commits already asked for are ignored from now on.
func (c *committer[R]) abandon() []R {
	var rs []R
	for _, w := range c.waiting {
		rs = append(rs, w.responses...)
	}
	c.waiting = nil
	c.epoch++
	c.mu.Lock()
	c.has = false
	c.mu.Unlock()
	return rs
}
