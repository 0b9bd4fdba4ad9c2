package coordinator

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/internal/coordinator/group"
	"github.com/samsa-io/samsa/internal/record"
)

// opFunc is one operation on a shard's state.
type opFunc func(s *group.Shard, now time.Time, h group.Handle) group.Effects

// operation is a request waiting in a shard's queue.
type operation struct {
	call
	fn opFunc
	// raw, when set, runs instead of fn on the shard's goroutine with
	// access to its partition (a transaction marker's append): its
	// response goes out at once, or once next is committed when next is
	// not negative.
	raw func(s *shard) (resp kmsg.Response, next int64)
}

// shard is the runtime of one partition of __consumer_offsets: one
// goroutine owns the group.Shard and every field below.
type shard struct {
	c     *Coordinator
	p     int32
	epoch int32           // the leader epoch it serves
	ctx   context.Context // ends when the shard unloads
	queue[operation]

	part    Partition
	state   *group.Shard
	next    group.Handle
	pending map[group.Handle]operation
	commits committer[group.Response]
}

func newShard(c *Coordinator, p, epoch int32, ctx context.Context) *shard {
	return &shard{c: c, p: p, epoch: epoch, ctx: ctx, queue: newQueue[operation](), pending: map[group.Handle]operation{}}
}

// run loads the shard, then serves operations, deadlines and cleanups until
// it unloads.
func (s *shard) run() {
	s.commits.start(s.ctx)
	defer s.commits.stop()
	defer s.shutdown()
	if !s.loadUntilDone() {
		return
	}
	cleanup := time.NewTicker(s.c.cfg.RetentionCheck)
	defer cleanup.Stop()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for s.ctx.Err() == nil {
		resetTimer(timer, s.state.NextDeadline(), s.c.cfg.Now())
		select {
		case <-s.ctx.Done():
			return
		case op := <-s.ops:
			if op.raw != nil {
				s.runRaw(op)
				continue
			}
			h := s.park(op)
			s.apply(op.fn(s.state, s.c.cfg.Now(), h))
		case res := <-s.commits.results:
			s.committed(res)
		case <-timer.C:
			s.apply(s.state.Tick(s.c.cfg.Now()))
		case <-cleanup.C:
			s.apply(s.state.Cleanup(s.c.cfg.Now()))
		}
	}
}

// loadUntilDone loads the shard, retrying; requests that arrive while it
// cannot load get COORDINATOR_LOAD_IN_PROGRESS. It is false on stop.
func (s *shard) loadUntilDone() bool {
	return s.retryLoad(s.ctx.Done(), s.load, s.reject(kerr.CoordinatorLoadInProgress.Code), s.c.log, "group coordinator", s.p)
}

// reject answers an operation with code.
func (s *shard) reject(code int16) func(operation) {
	return func(op operation) { op.resp <- errorResponse(op.req, code) }
}

// load replays the partition's committed records into a fresh
// group.Shard, then Loaded.
func (s *shard) load() error {
	state := group.NewShard(s.c.cfg.Group)
	part, err := replayCommitted(s.ctx, s.c.cfg.Partition, s.p, s.epoch, replayGroupBatch(state, s.c.log))
	if err != nil {
		return err
	}
	s.part, s.state = part, state
	s.apply(state.Loaded(s.c.cfg.Now()))
	return nil
}

// replayGroupRecord applies one record of a non-transactional batch.
// Records of types Samsa does not have are skipped with a warning, as
// Kafka's CoordinatorLoaderImpl skips them (a partition Kafka wrote, or a
// left over from an aborted upgrade); any other bad record fails the load.
func replayGroupRecord(state *group.Shard, log *slog.Logger) func(key, value []byte, at int64) error {
	return func(key, value []byte, at int64) error {
		err := state.Replay(key, value)
		if errors.Is(err, group.ErrNotClassic) {
			log.Warn("skipping a group coordinator record of a type Samsa does not have", "offset", at, "err", err)
			return nil
		}
		return err
	}
}

// runRaw runs a raw operation; a response that waits for a commit waits
// with the shard's other appends.
func (s *shard) runRaw(op operation) {
	resp, next := op.raw(s)
	if next < 0 {
		op.resp <- resp
		return
	}
	h := s.park(op)
	s.commits.wait(s.part, next, []group.Response{{Handle: h, Msg: resp}})
}

// park remembers an operation until its response comes.
func (s *shard) park(op operation) group.Handle {
	s.next++
	s.pending[s.next] = op
	return s.next
}

// apply appends fx's records as one batch, waits for their commit, then
// delivers the responses. On failure it answers as Kafka does (writeCode),
// unloads and rebuilds the shard.
func (s *shard) apply(fx group.Effects) {
	for _, t := range fx.Transitions {
		s.c.log.Debug("group state", "group", t.Group, "from", t.From, "to", t.To, "generation", t.Generation)
	}
	if len(fx.Records) == 0 {
		s.afterCommit(fx.Responses)
		return
	}
	next, err := s.append(fx.Records, fx.Txn)
	if err != nil {
		s.reload(err, fx.Responses)
		return
	}
	s.commits.wait(s.part, next, fx.Responses)
}

// afterCommit delivers responses now if nothing appended is waiting for
// its commit, else with the last append's.
func (s *shard) afterCommit(rs []group.Response) {
	if !s.commits.attach(rs) {
		s.deliver(rs)
	}
}

// committed delivers the responses whose records a commit covered; a
// failed commit reloads the shard.
func (s *shard) committed(res commitResult) {
	rs, ok, err := s.commits.done(res)
	if !ok {
		return
	}
	if err != nil {
		s.reload(err, rs)
		return
	}
	s.deliver(rs)
}

// reload answers the failed responses and every append still waiting
// with err's code (failCode), unloads, and rebuilds the state by replay:
// from the records committed, which include the failed ones if their
// replication completes later, as Kafka's coordinators leave them.
func (s *shard) reload(err error, failed []group.Response) {
	if s.ctx.Err() == nil {
		s.c.log.Warn("group coordinator write failed; reloading", "partition", s.p, "err", err)
	}
	for _, r := range append(failed, s.commits.abandon()...) {
		if op, ok := s.pending[r.Handle]; ok {
			s.fail(r.Handle, failCode(op.req, err))
		}
	}
	s.deliver(s.state.Unload(s.c.cfg.Now()).Responses)
	s.loadUntilDone()
}

func (s *shard) append(recs []group.Record, tx *group.TxnProducer) (int64, error) {
	now := s.c.cfg.Now().UnixMilli()
	rs := make([]record.Record, len(recs))
	for i, r := range recs {
		rs[i] = record.Record{OffsetDelta: int32(i), Key: r.Key, Value: r.Value}
	}
	spec := record.BatchSpec{
		BaseTimestamp: now, ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1, LastOffsetDelta: -1,
	}
	if tx != nil { // a transaction's offsets: its marker decides them
		spec.Transactional, spec.ProducerID, spec.ProducerEpoch = true, tx.ID, tx.Epoch
	}
	batch, err := record.Build(spec, rs)
	if err != nil {
		return 0, err
	}
	return s.part.Append(batch)
}

func (s *shard) deliver(rs []group.Response) {
	for _, r := range rs {
		if op, ok := s.pending[r.Handle]; ok {
			delete(s.pending, r.Handle)
			op.resp <- r.Msg
		}
	}
}

func (s *shard) fail(h group.Handle, code int16) {
	if op, ok := s.pending[h]; ok {
		delete(s.pending, h)
		op.resp <- errorResponse(op.req, code)
	}
}

// shutdown answers whatever is still waiting.
func (s *shard) shutdown() {
	defer close(s.done)
	for _, r := range s.commits.abandon() {
		s.fail(r.Handle, kerr.NotCoordinator.Code)
	}
	if s.state != nil {
		s.deliver(s.state.Unload(s.c.cfg.Now()).Responses)
	}
	for h := range s.pending {
		s.fail(h, kerr.NotCoordinator.Code)
	}
	s.drain(s.reject(kerr.NotCoordinator.Code))
}
