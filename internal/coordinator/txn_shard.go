package coordinator

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/samsa-io/samsa/internal/coordinator/txn"
	"github.com/samsa-io/samsa/internal/record"
)

// txnOp is a request waiting in a shard's queue.
type txnOp struct {
	call
	fn txnFunc
}

// txnOut is what waits for a commit: a response or a marker to send.
type txnOut struct {
	resp   *txn.Response
	marker *txn.Marker
}

// markerBatch is a marker's results, tagged with the load they belong to.
type markerBatch struct {
	load    uint64
	results []txn.MarkerResult
}

// txnShard is the runtime of one partition of __transaction_state: one
// goroutine owns the txn.Shard and every field below.
type txnShard struct {
	c     *TxnCoordinator
	p     int32
	epoch int32           // the leader epoch: the coordinator epoch
	ctx   context.Context // ends when the shard unloads
	queue[txnOp]
	results chan markerBatch

	part    Partition
	state   *txn.Shard
	load    uint64 // bumped at every load: older marker results are dropped
	next    txn.Handle
	pending map[txn.Handle]txnOp
	commits committer[txnOut]
}

func newTxnShard(c *TxnCoordinator, p, epoch int32, ctx context.Context) *txnShard {
	return &txnShard{c: c, p: p, epoch: epoch, ctx: ctx, queue: newQueue[txnOp](), results: make(chan markerBatch, 64),
		pending: map[txn.Handle]txnOp{}}
}

func (s *txnShard) run() {
	s.commits.start(s.ctx)
	defer s.commits.stop()
	defer s.shutdown()
	if !s.loadUntilDone() {
		return
	}
	abort := time.NewTicker(s.c.cfg.AbortInterval)
	defer abort.Stop()
	expire := time.NewTicker(s.c.cfg.ExpireInterval)
	defer expire.Stop()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for s.ctx.Err() == nil {
		resetTimer(timer, s.state.NextDeadline(), s.c.cfg.Now())
		select {
		case <-s.ctx.Done():
			return
		case op := <-s.ops:
			s.next++
			s.pending[s.next] = op
			s.apply(op.fn(s.state, s.c.cfg.Now(), s.next))
		case res := <-s.commits.results:
			s.committed(res)
		case b := <-s.results:
			if b.load == s.load {
				s.apply(s.state.MarkersWritten(s.c.cfg.Now(), b.results))
			}
		case <-timer.C:
			s.apply(s.state.Tick(s.c.cfg.Now()))
		case <-abort.C:
			s.apply(s.state.AbortTimedOut(s.c.cfg.Now()))
		case <-expire.C:
			s.apply(s.state.Cleanup(s.c.cfg.Now()))
		}
	}
}

// loadUntilDone loads, retrying; requests meanwhile get
// COORDINATOR_LOAD_IN_PROGRESS. It is false on stop.
func (s *txnShard) loadUntilDone() bool {
	return s.retryLoad(s.ctx.Done(), s.loadOnce, s.reject(kerr.CoordinatorLoadInProgress.Code), s.c.log, "transaction coordinator", s.p)
}

// reject answers an operation with code.
func (s *txnShard) reject(code int16) func(txnOp) {
	return func(op txnOp) { op.resp <- txnErrorResponse(op.req, code) }
}

// loadOnce replays the partition's committed records into a new
// txn.Shard at the partition's leader epoch (the coordinator epoch, as in
// Kafka), then Loaded, which resends the markers of prepared transactions.
func (s *txnShard) loadOnce() error {
	state := txn.NewShard(s.c.cfg.Txn, s.epoch)
	part, err := replayCommitted(s.ctx, s.c.cfg.Partition, s.p, s.epoch, replayTxnBatch(state, s.c.log))
	if err != nil {
		return err
	}
	s.part, s.state = part, state
	s.load++
	s.apply(state.Loaded(s.c.cfg.Now()))
	return nil
}

// replayTxnBatch replays one batch of __transaction_state; records Samsa
// does not know are skipped with a warning.
func replayTxnBatch(state *txn.Shard, log *slog.Logger) func(h record.Header, batch []byte) error {
	return func(h record.Header, batch []byte) error {
		if h.Control() {
			return nil
		}
		return eachRecord(h, batch, func(key, value []byte, at int64) error {
			err := state.Replay(key, value)
			if errors.Is(err, txn.ErrUnknownRecord) {
				log.Warn("skipping a __transaction_state record Samsa does not know", "offset", at, "err", err)
				return nil
			}
			return err
		})
	}
}

// apply appends fx's records as one batch; its responses and markers wait
// for their commit.
func (s *txnShard) apply(fx txn.Effects) {
	for _, t := range fx.Transitions {
		s.c.log.Debug("transaction state", "id", t.TransactionalID, "from", t.From, "to", t.To,
			"producer", t.ProducerID, "epoch", t.ProducerEpoch)
	}
	for _, w := range fx.Warnings {
		s.c.log.Warn(w, "partition", s.p)
	}
	var outs []txnOut
	for i := range fx.Responses {
		outs = append(outs, txnOut{resp: &fx.Responses[i]})
	}
	for i := range fx.Markers {
		outs = append(outs, txnOut{marker: &fx.Markers[i]})
	}
	if len(fx.Records) == 0 {
		if !s.commits.attach(outs) {
			s.deliver(outs)
		}
		return
	}
	next, err := s.append(fx.Records)
	if err != nil {
		s.reload(err, outs)
		return
	}
	s.commits.wait(s.part, next, outs)
}

func (s *txnShard) append(recs []txn.Record) (int64, error) {
	rs := make([]record.Record, len(recs))
	for i, r := range recs {
		rs[i] = record.Record{OffsetDelta: int32(i), Key: r.Key, Value: r.Value}
	}
	batch, err := record.Build(record.BatchSpec{
		BaseTimestamp: s.c.cfg.Now().UnixMilli(), ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1, LastOffsetDelta: -1,
	}, rs)
	if err != nil {
		return 0, err
	}
	return s.part.Append(batch)
}

func (s *txnShard) committed(res commitResult) {
	outs, ok, err := s.commits.done(res)
	if !ok {
		return
	}
	if err != nil {
		s.reload(err, outs)
		return
	}
	s.deliver(outs)
}

// reload answers what failed and every append still waiting with err's
// code (writeCode: COORDINATOR_NOT_AVAILABLE or NOT_COORDINATOR, as
// Kafka's TransactionStateManager maps a failed append), drops their
// markers, and rebuilds the state by replay of the committed records
// (which include the failed ones if their replication completes later:
// the markers of a Prepare record go out then).
func (s *txnShard) reload(err error, failed []txnOut) {
	if s.ctx.Err() == nil {
		s.c.log.Warn("transaction coordinator write failed; reloading", "partition", s.p, "err", err)
	}
	for _, o := range append(failed, s.commits.abandon()...) {
		if o.resp != nil {
			s.fail(o.resp.Handle, writeCode(err))
		}
	}
	s.loadUntilDone()
}

func (s *txnShard) deliver(outs []txnOut) {
	for _, o := range outs {
		if o.marker != nil {
			s.send(*o.marker)
			continue
		}
		if op, ok := s.pending[o.resp.Handle]; ok {
			delete(s.pending, o.resp.Handle)
			op.resp <- o.resp.Msg
		}
	}
}

// send writes a marker off the shard's goroutine and feeds its results
// back; an unload cancels it.
func (s *txnShard) send(m txn.Marker) {
	load := s.load
	s.c.rt.wg.Add(1)
	go func() {
		defer s.c.rt.wg.Done()
		results := s.c.cfg.Markers.WriteMarkers(s.ctx, m)
		select {
		case s.results <- markerBatch{load: load, results: results}:
		case <-s.ctx.Done():
		}
	}()
}

func (s *txnShard) fail(h txn.Handle, code int16) {
	if op, ok := s.pending[h]; ok {
		delete(s.pending, h)
		op.resp <- txnErrorResponse(op.req, code)
	}
}

func (s *txnShard) shutdown() {
	defer close(s.done)
	for _, o := range s.commits.abandon() {
		if o.resp != nil {
			s.fail(o.resp.Handle, kerr.NotCoordinator.Code)
		}
	}
	for h := range s.pending {
		s.fail(h, kerr.NotCoordinator.Code)
	}
	s.drain(s.reject(kerr.NotCoordinator.Code))
}
