package coordinator

// The shard runtime both coordinators share: the running shards of an
// internal topic's partitions this node leads, the partition-leader checks
// that route a request to them, each shard's operation queue with its
// submit-and-wait, and the load loop that retries until a shard's state is
// rebuilt. What a shard holds and how it applies an operation stay with
// each coordinator.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/internal/metadata"
)

// runner is a shard: run serves it until the runtime stops.
type runner interface{ run() }

// runtime runs a coordinator's shards, one goroutine per partition of its
// internal topic, started on first use and stopped together.
type runtime[S runner] struct {
	topic    string
	nodeID   int32
	image    func() *metadata.Image
	newShard func(p int32) S

	stop chan struct{}  // closed by close
	wg   sync.WaitGroup // the shards and every goroutine they start

	mu struct {
		sync.Mutex
		shards map[int32]S
		closed bool
	}
}

func newRuntime[S runner](topic string, nodeID int32, image func() *metadata.Image, newShard func(p int32) S) *runtime[S] {
	r := &runtime[S]{topic: topic, nodeID: nodeID, image: image, newShard: newShard, stop: make(chan struct{})}
	r.mu.shards = map[int32]S{}
	return r
}

// close stops every shard and waits for them; false if already closed.
func (r *runtime[S]) close() bool {
	r.mu.Lock()
	if r.mu.closed {
		r.mu.Unlock()
		return false
	}
	r.mu.closed = true
	r.mu.Unlock()
	close(r.stop)
	r.wg.Wait()
	return true
}

func (r *runtime[S]) closed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.mu.closed
}

// spawn runs fn on a goroutine close waits for; false once closed.
func (r *runtime[S]) spawn(fn func()) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.mu.closed {
		return false
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		fn()
	}()
	return true
}

// shardFor returns partition p's shard, starting it if needed.
func (r *runtime[S]) shardFor(p int32) (S, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.mu.closed {
		var zero S
		return zero, ErrClosed
	}
	if s, ok := r.mu.shards[p]; ok {
		return s, nil
	}
	s := r.newShard(p)
	r.mu.shards[p] = s
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		s.run()
	}()
	return s, nil
}

// topicMeta is the topic in the current metadata image, nil if none.
func (r *runtime[S]) topicMeta() *metadata.Topic {
	return r.image().Topic(r.topic)
}

// leader is the leader of partition p; the error wraps
// COORDINATOR_NOT_AVAILABLE when the partition or its leader is unknown.
func (r *runtime[S]) leader(p int32) (int32, error) {
	t := r.topicMeta()
	if t == nil || int(p) >= len(t.Partitions) {
		return -1, fmt.Errorf("%w: %s has no partition %d", kerr.CoordinatorNotAvailable, r.topic, p)
	}
	leader := t.Partitions[p].Leader
	if leader < 0 {
		return -1, fmt.Errorf("%w: %s partition %d has no leader", kerr.CoordinatorNotAvailable, r.topic, p)
	}
	return leader, nil
}

// leads reports whether this node leads partition p.
func (r *runtime[S]) leads(p int32) bool {
	leader, err := r.leader(p)
	return err == nil && leader == r.nodeID
}

// ledShard is partition p's shard if this node leads p, started if needed.
func (r *runtime[S]) ledShard(p int32) (S, bool) {
	if !r.leads(p) {
		var zero S
		return zero, false
	}
	s, err := r.shardFor(p)
	return s, err == nil
}

// coordinator is the node coordinating partition p, whose shard starts
// here if it is this node.
func (r *runtime[S]) coordinator(p int32) (int32, error) {
	leader, err := r.leader(p)
	if err != nil {
		return -1, err
	}
	if leader == r.nodeID {
		if _, err := r.shardFor(p); err != nil {
			return -1, fmt.Errorf("%w: %v", kerr.CoordinatorNotAvailable, err)
		}
	}
	return leader, nil
}

// call is what every queued operation carries: its request, for an error
// response, and where its response goes.
type call struct {
	req  kmsg.Request
	resp chan kmsg.Response
}

func newCall(req kmsg.Request) call {
	return call{req: req, resp: make(chan kmsg.Response, 1)}
}

// errShardGone is submit's error when the shard ended without answering.
var errShardGone = errors.New("coordinator: shard stopped")

// stopped reports whether submit's error is the end of the coordinator or
// the shard, not the context's.
func stopped(err error) bool {
	return errors.Is(err, ErrClosed) || errors.Is(err, errShardGone)
}

// queue is a shard's operation queue.
type queue[O any] struct {
	ops  chan O
	done chan struct{} // closed once the shard has answered everything
}

func newQueue[O any]() queue[O] {
	return queue[O]{ops: make(chan O, 64), done: make(chan struct{})}
}

// submit queues op and waits for its response on resp. Without one, the
// error is ErrClosed when stop closed first, errShardGone when the shard
// ended, or ctx's.
func (q queue[O]) submit(ctx context.Context, stop <-chan struct{}, op O, resp <-chan kmsg.Response) (kmsg.Response, error) {
	select {
	case q.ops <- op:
	case <-stop:
		return nil, ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case r := <-resp:
		return r, nil
	case <-q.done:
		select {
		case r := <-resp:
			return r, nil
		default:
			return nil, errShardGone
		}
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// drain answers every queued operation with reject, without waiting.
func (q queue[O]) drain(reject func(O)) {
	for {
		select {
		case op := <-q.ops:
			reject(op)
		default:
			return
		}
	}
}

// resetTimer sets a shard's timer to fire at its next deadline, or in an
// hour when it has none (zero at).
func resetTimer(t *time.Timer, at, now time.Time) {
	d := time.Hour
	if !at.IsZero() {
		d = max(at.Sub(now), 0)
	}
	t.Reset(d)
}

// loadRetry is how long a shard waits before loading again after a failure.
const loadRetry = 100 * time.Millisecond

// retryLoad calls load until it succeeds, every loadRetry; operations
// that arrive meanwhile go to reject (COORDINATOR_LOAD_IN_PROGRESS). A
// partition not hosted yet fails the first attempts of a new topic, so
// failures log at debug, and every 100th (10 s) at warn, worth an
// operator's look. It is false on stop.
func (q queue[O]) retryLoad(stop <-chan struct{}, load func() error, reject func(O), log *slog.Logger, what string, p int32) bool {
	for attempt := 1; ; attempt++ {
		err := load()
		if err == nil {
			return true
		}
		level := slog.LevelDebug
		if attempt%100 == 0 {
			level = slog.LevelWarn
		}
		log.Log(context.Background(), level, "loading a "+what+" shard failed; retrying", "partition", p, "attempt", attempt, "err", err)
		retry := time.NewTimer(loadRetry)
		for waiting := true; waiting; {
			select {
			case <-stop:
				retry.Stop()
				return false
			case op := <-q.ops:
				reject(op)
			case <-retry.C:
				waiting = false
			}
		}
	}
}
