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

// runner is a shard: run serves it until its context ends.
type runner interface{ run() }

// shardEntry is the running shard of one partition, for the leader epoch
// it was loaded at.
type shardEntry[S runner] struct {
	shard  S
	epoch  int32
	cancel context.CancelFunc // unloads the shard
	done   chan struct{}      // closed once run returned
}

// runtime runs a coordinator's shards, one goroutine per partition of its
// internal topic that this node leads, as Kafka's CoordinatorRuntime
// schedules a load when the broker becomes a partition's leader and an
// unload when it stops being it. A shard belongs to one leader epoch: a
// new epoch, even of this node again, unloads the old shard and loads a
// new one from the log, once the old one has answered everything.
type runtime[S runner] struct {
	topic    string
	nodeID   int32
	image    func() *metadata.Image
	newShard func(p, epoch int32, ctx context.Context) S

	stop chan struct{}  // closed by close
	wg   sync.WaitGroup // the shards and every goroutine they start

	mu struct {
		sync.Mutex
		shards map[int32]*shardEntry[S]
		// unloading is the done channel of each partition's last unloaded
		// shard: its successor loads only after it.
		unloading map[int32]chan struct{}
		closed    bool
	}
}

func newRuntime[S runner](topic string, nodeID int32, image func() *metadata.Image, newShard func(p, epoch int32, ctx context.Context) S) *runtime[S] {
	r := &runtime[S]{topic: topic, nodeID: nodeID, image: image, newShard: newShard, stop: make(chan struct{})}
	r.mu.shards = map[int32]*shardEntry[S]{}
	r.mu.unloading = map[int32]chan struct{}{}
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
	for _, e := range r.mu.shards {
		e.cancel()
	}
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

// follow makes the shards match the current image: a shard for every
// partition this node leads, at its leader epoch, and none for the
// others. The broker calls it on every metadata image.
func (r *runtime[S]) follow() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.mu.closed {
		return
	}
	t := r.topicMeta() // under mu: a later caller sees a newer image
	for p, e := range r.mu.shards {
		if epoch, ok := r.ledEpoch(t, p); !ok || epoch != e.epoch {
			r.unloadLocked(p, e)
		}
	}
	if t == nil {
		return
	}
	for i := range t.Partitions {
		if p := int32(i); r.mu.shards[p] == nil && t.Partitions[i].Leader == r.nodeID {
			r.startLocked(p, t.Partitions[i].LeaderEpoch)
		}
	}
}

// ledEpoch is partition p's leader epoch if this node leads it in t.
func (r *runtime[S]) ledEpoch(t *metadata.Topic, p int32) (int32, bool) {
	if t == nil || p < 0 || int(p) >= len(t.Partitions) || t.Partitions[p].Leader != r.nodeID {
		return -1, false
	}
	return t.Partitions[p].LeaderEpoch, true
}

// startLocked starts partition p's shard for epoch; it loads once the
// partition's previous shard, if any, has stopped.
func (r *runtime[S]) startLocked(p, epoch int32) *shardEntry[S] {
	ctx, cancel := context.WithCancel(context.Background())
	e := &shardEntry[S]{shard: r.newShard(p, epoch, ctx), epoch: epoch, cancel: cancel, done: make(chan struct{})}
	prev := r.mu.unloading[p]
	delete(r.mu.unloading, p)
	r.mu.shards[p] = e
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer close(e.done)
		defer cancel()
		if prev != nil {
			<-prev
		}
		e.shard.run()
	}()
	return e
}

// unloadLocked stops partition p's shard e: it answers what waits in it
// with NOT_COORDINATOR, and the clients find the new coordinator.
func (r *runtime[S]) unloadLocked(p int32, e *shardEntry[S]) {
	e.cancel()
	delete(r.mu.shards, p)
	r.mu.unloading[p] = e.done
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

// ledShard is partition p's shard if this node leads p in the current
// image, started (or replaced, for a newer epoch) if needed.
func (r *runtime[S]) ledShard(p int32) (S, bool) {
	var zero S
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.mu.closed {
		return zero, false
	}
	epoch, ok := r.ledEpoch(r.topicMeta(), p)
	if !ok {
		return zero, false
	}
	e := r.mu.shards[p]
	if e != nil && e.epoch != epoch {
		r.unloadLocked(p, e)
		e = nil
	}
	if e == nil {
		e = r.startLocked(p, epoch)
	}
	return e.shard, true
}

// coordinator is the node coordinating partition p (FindCoordinator's
// answer: its leader), whose shard starts here if it is this node.
func (r *runtime[S]) coordinator(p int32) (int32, error) {
	leader, err := r.leader(p)
	if err != nil {
		return -1, err
	}
	if leader == r.nodeID {
		if _, ok := r.ledShard(p); !ok && r.closed() {
			return -1, fmt.Errorf("%w: %v", kerr.CoordinatorNotAvailable, ErrClosed)
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
		select {
		case <-stop:
			return false
		default:
		}
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
