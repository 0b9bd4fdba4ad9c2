package coordinator

// The runtime side of transactional offset commits (KIP-98, KIP-447; see
// group/txn_offsets.go): TxnOffsetCommit, OffsetFetch with require_stable,
// and the transaction markers of __consumer_offsets partitions, which the
// broker's MarkerWriter hands to the shard so that the marker is appended
// in order with the shard's own writes and the pending offsets are applied
// or dropped at once (Kafka's GroupCoordinator.onTransactionCompleted).

import (
	"context"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/internal/coordinator/group"
	"github.com/samsa-io/samsa/internal/record"
)

// TxnOffsetCommit handles a TxnOffsetCommit.
func (c *Coordinator) TxnOffsetCommit(ctx context.Context, req *kmsg.TxnOffsetCommitRequest) kmsg.Response {
	return c.do(ctx, req.Group, req, func(s *group.Shard, now time.Time, h group.Handle) group.Effects {
		return s.TxnCommitOffsets(now, h, req)
	})
}

// OffsetFetchStable is OffsetFetch with require_stable: partitions with
// pending transactional offsets answer UNSTABLE_OFFSET_COMMIT.
func (c *Coordinator) OffsetFetchStable(ctx context.Context, groupID string, topics []kmsg.OffsetFetchRequestGroupTopic, memberID *string, epoch int32) kmsg.OffsetFetchResponseGroup {
	return c.fetchOffsets(ctx, groupID, topics, func(s *group.Shard) kmsg.OffsetFetchResponseGroup {
		return s.FetchStableOffsets(groupID, topics, memberID, epoch)
	})
}

// CompleteTransaction writes a transaction marker to partition p of
// __consumer_offsets through its shard and applies (COMMIT) or drops
// (ABORT) the producer's pending offsets there. It returns the partition's
// error code once the marker is committed (on every in-sync replica, as
// Kafka appends markers with acks=-1): NOT_LEADER_OR_FOLLOWER when this
// node does not lead it (or stops), REQUEST_TIMED_OUT when ctx ends
// first, the log's refusal (TRANSACTION_COORDINATOR_FENCED,
// INVALID_PRODUCER_EPOCH), or the replication's failure
// (NOT_ENOUGH_REPLICAS_AFTER_APPEND, REQUEST_TIMED_OUT).
func (c *Coordinator) CompleteTransaction(ctx context.Context, p int32, m record.EndTxn, tv int8) int16 {
	req := kmsg.NewPtrWriteTxnMarkersRequest()
	rm := kmsg.NewWriteTxnMarkersRequestMarker()
	rm.ProducerID, rm.ProducerEpoch, rm.Committed, rm.CoordinatorEpoch = m.ProducerID, m.ProducerEpoch, m.Commit, m.CoordinatorEpoch
	rm.Topics = []kmsg.WriteTxnMarkersRequestMarkerTopic{{Topic: Topic, Partitions: []int32{p}}}
	req.Markers = []kmsg.WriteTxnMarkersRequestMarker{rm}
	s, ok := c.rt.ledShard(p)
	if !ok {
		return kerr.NotLeaderForPartition.Code
	}
	op := operation{call: newCall(req), raw: func(s *shard) (kmsg.Response, int64) {
		return s.appendMarker(req, m, tv)
	}}
	r, err := s.submit(ctx, c.rt.stop, op, op.resp)
	switch {
	case stopped(err):
		return kerr.NotLeaderForPartition.Code
	case err != nil:
		return kerr.RequestTimedOut.Code
	}
	code := r.(*kmsg.WriteTxnMarkersResponse).Markers[0].Topics[0].Partitions[0].ErrorCode
	if code == kerr.NotCoordinator.Code {
		code = kerr.NotLeaderForPartition.Code // the shard unloaded meanwhile
	}
	return code
}

// appendMarker appends m's marker to the shard's partition and applies or
// drops the producer's pending offsets; its response waits for the
// marker's commit (next), unless the log refused it (next -1).
func (s *shard) appendMarker(req *kmsg.WriteTxnMarkersRequest, m record.EndTxn, tv int8) (kmsg.Response, int64) {
	resp := markersError(req, 0)
	batch, err := record.BuildEndTxn(m)
	next := int64(-1)
	if err == nil {
		next, err = s.part.AppendMarker(batch, tv)
	}
	if err != nil {
		s.c.log.Warn("transaction marker on "+Topic+" refused", "partition", s.p, "producer", m.ProducerID, "err", err)
		resp.Markers[0].Topics[0].Partitions[0].ErrorCode = codeOf(err)
		return resp, -1
	}
	s.state.CompleteTxn(m.ProducerID, m.Commit)
	return resp, next
}

// replayGroupBatch replays one batch of __consumer_offsets with
// transactions: a transactional batch's offsets stay pending for its
// producer, a marker applies or drops them.
func replayGroupBatch(state *group.Shard, log *slog.Logger) func(h record.Header, batch []byte) error {
	return func(h record.Header, batch []byte) error {
		switch {
		case h.Control():
			if m, err := record.ParseEndTxn(batch); err == nil {
				state.CompleteTxn(m.ProducerID, m.Commit)
			}
			return nil
		case h.Transactional():
			return eachRecord(h, batch, func(key, value []byte, _ int64) error {
				return state.ReplayTxn(h.ProducerID, key, value)
			})
		default:
			return eachRecord(h, batch, replayGroupRecord(state, log))
		}
	}
}

func txnCommitError(r *kmsg.TxnOffsetCommitRequest, code int16) *kmsg.TxnOffsetCommitResponse {
	resp := r.ResponseKind().(*kmsg.TxnOffsetCommitResponse)
	for _, t := range r.Topics {
		rt := kmsg.NewTxnOffsetCommitResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rt.Partitions = append(rt.Partitions, kmsg.TxnOffsetCommitResponseTopicPartition{Partition: p.Partition, ErrorCode: code})
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}

func markersError(r *kmsg.WriteTxnMarkersRequest, code int16) *kmsg.WriteTxnMarkersResponse {
	resp := r.ResponseKind().(*kmsg.WriteTxnMarkersResponse)
	for _, m := range r.Markers {
		rm := kmsg.NewWriteTxnMarkersResponseMarker()
		rm.ProducerID = m.ProducerID
		for _, t := range m.Topics {
			rt := kmsg.NewWriteTxnMarkersResponseMarkerTopic()
			rt.Topic = t.Topic
			for _, p := range t.Partitions {
				rt.Partitions = append(rt.Partitions, kmsg.WriteTxnMarkersResponseMarkerTopicPartition{Partition: p, ErrorCode: code})
			}
			rm.Topics = append(rm.Topics, rt)
		}
		resp.Markers = append(resp.Markers, rm)
	}
	return resp
}
