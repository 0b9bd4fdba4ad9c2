package txn

import (
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Shard is the transactional ids of one partition of __transaction_state.
// It is not safe for concurrent use: one goroutine (the shard runtime) owns
// it. See the package documentation for the contract.
type Shard struct {
	cfg Config
	// coordinatorEpoch is the leader epoch of the partition this shard
	// loaded at; every marker carries it so that partition leaders refuse
	// markers of a coordinator that lost the partition.
	coordinatorEpoch int32
	txns             map[string]*txnMeta
	// retrying names the transactions with a marker waiting to be resent.
	retrying map[string]struct{}
}

// NewShard returns an empty shard loaded at the given coordinator epoch.
func NewShard(cfg Config, coordinatorEpoch int32) *Shard {
	return &Shard{cfg: cfg, coordinatorEpoch: coordinatorEpoch, txns: map[string]*txnMeta{}, retrying: map[string]struct{}{}}
}

// IDs returns the shard's transactional ids, sorted.
func (s *Shard) IDs() []string {
	ids := make([]string, 0, len(s.txns))
	for id := range s.txns {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// transit applies a transition from cur (nil for a new id) to next: it
// checks it is one Kafka allows, writes next's record and reports it.
func (s *Shard) transit(o *op, cur, next *txnMeta) {
	from := Empty
	if cur != nil {
		from = cur.state
	}
	if !next.state.validPrevious(from) {
		panic(fmt.Sprintf("txn: %s: invalid transition %s -> %s", next.id, from, next.state))
	}
	if next.epoch < 0 || next.producerID < 0 {
		panic(fmt.Sprintf("txn: %s: transition to %s with producer %d epoch %d", next.id, next.state, next.producerID, next.epoch))
	}
	if cur != nil {
		next.prevProducerID = cur.producerID
	} else {
		next.prevProducerID = next.producerID
	}
	next.updateMs = o.nowMs()
	o.fx.Records = append(o.fx.Records, next.record(s.cfg.TransactionVersion))
	o.fx.Transitions = append(o.fx.Transitions, Transition{
		TransactionalID: next.id, From: from, To: next.state, ProducerID: next.producerID, ProducerEpoch: next.epoch,
	})
	s.txns[next.id] = next
}

// Loaded finishes a load: the markers of every transaction loaded in
// PrepareCommit or PrepareAbort are sent again (Kafka's
// loadTransactionsForTxnTopicPartition), so a coordinator that restarted in
// the middle of a commit finishes it.
func (s *Shard) Loaded(now time.Time) Effects {
	o := &op{now: now}
	for _, id := range s.IDs() {
		if t := s.txns[id]; t.state.preparing() {
			s.startMarkers(o, t)
		}
	}
	return o.fx
}

// Unload gives the partition up. No request ever waits inside the shard
// (a busy transaction answers CONCURRENT_TRANSACTIONS), so there is nothing
// to answer; marker results that arrive later are ignored.
func (s *Shard) Unload(time.Time) Effects {
	clear(s.txns)
	clear(s.retrying)
	return Effects{}
}

// Cleanup expires idle transactional ids (Kafka's
// removeExpiredTransactionalIds): an id in Empty, CompleteCommit or
// CompleteAbort whose last update is transactional.id.expiration.ms old is
// tombstoned. Call it every
// transaction.remove.expired.transaction.cleanup.interval.ms.
func (s *Shard) Cleanup(now time.Time) Effects {
	o := &op{now: now}
	limit := now.Add(-s.cfg.IDExpiration).UnixMilli()
	for _, id := range s.IDs() {
		t := s.txns[id]
		if !t.state.expirable() || t.updateMs > limit {
			continue
		}
		o.fx.Records = append(o.fx.Records, tombstone(id))
		o.fx.Transitions = append(o.fx.Transitions, Transition{
			TransactionalID: id, From: t.state, To: Dead, ProducerID: t.producerID, ProducerEpoch: t.epoch,
		})
		delete(s.txns, id)
	}
	return o.fx
}

// Describe answers DescribeTransactions for one id (Kafka's
// handleDescribeTransactions): INVALID_REQUEST for an empty id,
// TRANSACTIONAL_ID_NOT_FOUND for an unknown one.
func (s *Shard) Describe(id string) kmsg.DescribeTransactionsResponseTransactionState {
	d := kmsg.NewDescribeTransactionsResponseTransactionState()
	d.TransactionalID = id
	t := s.txns[id]
	switch {
	case id == "":
		d.ErrorCode = kerr.InvalidRequest.Code
		return d
	case t == nil:
		d.ErrorCode = kerr.TransactionalIDNotFound.Code
		return d
	}
	d.State, d.TimeoutMillis, d.StartTimestamp = t.state.String(), t.timeoutMs, t.startMs
	d.ProducerID, d.ProducerEpoch = t.producerID, t.epoch
	for _, topic := range t.topics() {
		dt := kmsg.NewDescribeTransactionsResponseTransactionStateTopic()
		dt.Topic, dt.Partitions = topic, t.partitionsOf(topic)
		d.Topics = append(d.Topics, dt)
	}
	return d
}

// ListFilter is a ListTransactions request's filters; empty ones keep
// everything.
type ListFilter struct {
	States      []string // state names, as Kafka spells them (v0+)
	ProducerIDs []int64  // v0+
	// MinDuration keeps, when >= 0, only transactions running longer than
	// it (v1+, KIP-994; -1 disables it).
	MinDuration time.Duration
	// Pattern keeps only ids it matches (v2+, KIP-1152); nil keeps all.
	Pattern *regexp.Regexp
}

// List answers ListTransactions for this shard (Kafka's
// listTransactionStates): the matching transactions sorted by id, and the
// state filters that name no state.
func (s *Shard) List(now time.Time, f ListFilter) (out []kmsg.ListTransactionsResponseTransactionState, unknown []string) {
	var states []State
	for _, name := range f.States {
		if st, ok := stateByName(name); ok {
			states = append(states, st)
		} else {
			unknown = append(unknown, name)
		}
	}
	for _, id := range s.IDs() {
		t := s.txns[id]
		if !f.keeps(now, t, states) {
			continue
		}
		lt := kmsg.NewListTransactionsResponseTransactionState()
		lt.TransactionalID, lt.ProducerID, lt.TransactionState = id, t.producerID, t.state.String()
		out = append(out, lt)
	}
	return out, unknown
}

func (f *ListFilter) keeps(now time.Time, t *txnMeta, states []State) bool {
	switch {
	case len(f.ProducerIDs) > 0 && !slices.Contains(f.ProducerIDs, t.producerID):
		return false
	case len(f.States) > 0 && !slices.Contains(states, t.state):
		return false
	case f.MinDuration >= 0 && now.UnixMilli()-t.startMs <= f.MinDuration.Milliseconds():
		return false
	case f.Pattern != nil && !f.Pattern.MatchString(t.id):
		return false
	}
	return true
}
