package broker

// Transaction markers (KIP-98, KIP-890), both sides.
//
// The coordinator's side (markerWriter.WriteMarkers) is Kafka's
// TransactionMarkerChannelManager: a transaction's partitions are grouped
// by their leader in the current metadata image; those this node leads
// take the local path, and each other leader gets one WriteTxnMarkers
// (v1+, the version the leader negotiates) on this broker's listener,
// through the replica fetchers' client of that broker (leaderClients, so
// the dial seam applies). A partition that answers NOT_LEADER_OR_FOLLOWER,
// NOT_ENOUGH_REPLICAS, REQUEST_TIMED_OUT or a network error comes back to
// the coordinator's shard, which sends it again after its backoff
// (txn.Config.MarkerRetryBackoff) to the leader the image then names,
// until it is written, the partition is gone, or a newer coordinator or
// producer epoch fences it.
//
// The partition's side (serve, and the local path) is Kafka's
// ReplicaManager.appendRecords for markers: with acks=-1, so it refuses
// a marker while the ISR is below min.insync.replicas
// (NOT_ENOUGH_REPLICAS) and answers once every in-sync replica has it,
// within offsets.commit.timeout.ms (NOT_ENOUGH_REPLICAS_AFTER_APPEND or
// REQUEST_TIMED_OUT otherwise). Markers of __consumer_offsets partitions
// go through the group coordinator's shard, which applies or drops the
// pending transactional offsets.

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/internal/coordinator"
	"github.com/samsa-io/samsa/internal/coordinator/txn"
	"github.com/samsa-io/samsa/internal/partition"
	"github.com/samsa-io/samsa/internal/record"
)

// markerWriter writes the transaction coordinator's markers, and the
// markers other coordinators send this node.
type markerWriter struct{ b *Broker }

// WriteMarkers writes m's markers to every partition of m and returns one
// result per partition; it is called off the coordinator shard's
// goroutine, and ctx ends when the shard unloads.
func (w markerWriter) WriteMarkers(ctx context.Context, m txn.Marker) []txn.MarkerResult {
	im := w.b.store.Image()
	byLeader := map[int32][]txn.TopicPartition{}
	var out []txn.MarkerResult
	for _, tp := range m.Partitions {
		t := im.Topic(tp.Topic)
		switch {
		case t == nil || int(tp.Partition) >= len(t.Partitions):
			out = append(out, markerResult(m, tp, kerr.UnknownTopicOrPartition.Code, true))
		case t.Partitions[tp.Partition].Leader < 0:
			out = append(out, markerResult(m, tp, kerr.NotLeaderForPartition.Code, false))
		default:
			leader := t.Partitions[tp.Partition].Leader
			byLeader[leader] = append(byLeader[leader], tp)
		}
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for leader, tps := range byLeader {
		wg.Go(func() {
			var rs []txn.MarkerResult
			if leader == w.b.cfg.NodeID {
				rs = w.writeLocal(ctx, m, tps)
			} else {
				rs = w.send(ctx, leader, m, tps)
			}
			mu.Lock()
			out = append(out, rs...)
			mu.Unlock()
		})
	}
	wg.Wait()
	return out
}

func markerResult(m txn.Marker, tp txn.TopicPartition, code int16, gone bool) txn.MarkerResult {
	return txn.MarkerResult{TransactionalID: m.TransactionalID, ProducerID: m.ProducerID, ProducerEpoch: m.ProducerEpoch,
		Partition: tp, ErrorCode: code, Gone: gone}
}

// writeLocal writes the markers of partitions this node leads, at once.
func (w markerWriter) writeLocal(ctx context.Context, m txn.Marker, tps []txn.TopicPartition) []txn.MarkerResult {
	out := make([]txn.MarkerResult, len(tps))
	var wg sync.WaitGroup
	for i, tp := range tps {
		wg.Go(func() {
			code, gone := w.write(ctx, m, tp)
			out[i] = markerResult(m, tp, code, gone)
		})
	}
	wg.Wait()
	return out
}

// markerRequestTimeout bounds a WriteTxnMarkers to another leader: its
// replication wait (offsets.commit.timeout.ms) and a margin.
func (w markerWriter) markerRequestTimeout() time.Duration {
	return w.b.commitTimeout() + 5*time.Second
}

// send sends m's markers for tps to leader and returns their results;
// a failed request fails every partition with NETWORK_EXCEPTION, to be
// sent again.
func (w markerWriter) send(ctx context.Context, leader int32, m txn.Marker, tps []txn.TopicPartition) []txn.MarkerResult {
	req := kmsg.NewPtrWriteTxnMarkersRequest()
	rm := kmsg.NewWriteTxnMarkersRequestMarker()
	rm.ProducerID, rm.ProducerEpoch, rm.Committed = m.ProducerID, m.ProducerEpoch, m.Commit
	rm.CoordinatorEpoch, rm.TransactionVersion = m.CoordinatorEpoch, m.TransactionVersion
	index := map[string]int{}
	for _, tp := range tps {
		i, ok := index[tp.Topic]
		if !ok {
			i = len(rm.Topics)
			index[tp.Topic] = i
			rm.Topics = append(rm.Topics, kmsg.WriteTxnMarkersRequestMarkerTopic{Topic: tp.Topic})
		}
		rm.Topics[i].Partitions = append(rm.Topics[i].Partitions, tp.Partition)
	}
	req.Markers = append(req.Markers, rm)
	codes, err := w.request(ctx, leader, req)
	out := make([]txn.MarkerResult, 0, len(tps))
	for _, tp := range tps {
		code, ok := codes[tp]
		switch {
		case err != nil:
			code = kerr.NetworkException.Code
		case !ok:
			code = kerr.UnknownServerError.Code // the leader left it out: send it again
		}
		out = append(out, markerResult(m, tp, code, false))
	}
	if err != nil && ctx.Err() == nil {
		w.b.log.Debug("transaction markers not sent", "leader", leader, "producer", m.ProducerID, "err", err)
	}
	return out
}

// request sends req to broker id and returns each partition's code.
func (w markerWriter) request(ctx context.Context, id int32, req *kmsg.WriteTxnMarkersRequest) (map[txn.TopicPartition]int16, error) {
	cl, err := w.b.leaders.client(id)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, w.markerRequestTimeout())
	defer cancel()
	r, err := cl.SeedBrokers()[0].Request(ctx, req)
	if err != nil {
		return nil, err
	}
	resp := r.(*kmsg.WriteTxnMarkersResponse)
	if resp.Version < 1 {
		return nil, fmt.Errorf("broker: WriteTxnMarkers v%d from broker %d, want v1+", resp.Version, id)
	}
	codes := map[txn.TopicPartition]int16{}
	for _, rm := range resp.Markers {
		for _, rt := range rm.Topics {
			for _, rp := range rt.Partitions {
				codes[txn.TopicPartition{Topic: rt.Topic, Partition: rp.Partition}] = rp.ErrorCode
			}
		}
	}
	return codes, nil
}

// serve answers a WriteTxnMarkers from a coordinator: every partition's
// marker at once, each answered once replicated.
func (w markerWriter) serve(ctx context.Context, r *kmsg.WriteTxnMarkersRequest) *kmsg.WriteTxnMarkersResponse {
	resp := r.ResponseKind().(*kmsg.WriteTxnMarkersResponse)
	var wg sync.WaitGroup
	for _, m := range r.Markers {
		tm := txn.Marker{ProducerID: m.ProducerID, ProducerEpoch: m.ProducerEpoch, Commit: m.Committed,
			CoordinatorEpoch: m.CoordinatorEpoch, TransactionVersion: m.TransactionVersion}
		rm := kmsg.NewWriteTxnMarkersResponseMarker()
		rm.ProducerID = m.ProducerID
		for _, t := range m.Topics {
			rt := kmsg.NewWriteTxnMarkersResponseMarkerTopic()
			rt.Topic = t.Topic
			rt.Partitions = make([]kmsg.WriteTxnMarkersResponseMarkerTopicPartition, len(t.Partitions))
			for i, p := range t.Partitions {
				rp := &rt.Partitions[i]
				rp.Partition = p
				wg.Go(func() {
					rp.ErrorCode, _ = w.write(ctx, tm, txn.TopicPartition{Topic: t.Topic, Partition: p})
				})
			}
			rm.Topics = append(rm.Topics, rt)
		}
		resp.Markers = append(resp.Markers, rm)
	}
	wg.Wait()
	return resp
}

// write writes one partition's marker as its leader and returns its error
// code once the marker is on every in-sync replica, or gone when the
// partition no longer exists.
func (w markerWriter) write(ctx context.Context, m txn.Marker, tp txn.TopicPartition) (int16, bool) {
	t := w.b.store.Image().Topic(tp.Topic)
	if t == nil || int(tp.Partition) >= len(t.Partitions) {
		return kerr.UnknownTopicOrPartition.Code, true
	}
	marker := record.EndTxn{ProducerID: m.ProducerID, ProducerEpoch: m.ProducerEpoch, Commit: m.Commit,
		CoordinatorEpoch: m.CoordinatorEpoch, Timestamp: w.b.cfg.Now().UnixMilli()}
	if tp.Topic == coordinator.Topic {
		return w.b.groups.CompleteTransaction(ctx, tp.Partition, marker, m.TransactionVersion), false
	}
	err := w.writeReplicated(ctx, tp, marker, m.TransactionVersion)
	if err != nil && ctx.Err() == nil {
		w.b.log.Debug("transaction marker not written", "topic", tp.Topic, "partition", tp.Partition, "producer", m.ProducerID, "err", err)
	}
	return codeOf(err), false
}

// writeReplicated appends a marker with acks=-1 and waits for the ISR.
func (w markerWriter) writeReplicated(ctx context.Context, tp txn.TopicPartition, m record.EndTxn, tv int8) error {
	part, err := w.b.parts.Get(tp.Topic, tp.Partition)
	if err != nil {
		return err
	}
	if !part.IsLeader() {
		return partition.ErrNotLeader
	}
	if err := w.b.enoughReplicas(part); err != nil {
		return err
	}
	batch, err := record.BuildEndTxn(m)
	if err != nil {
		return err
	}
	next, err := appendMarker(part, batch, tv)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, w.b.commitTimeout())
	defer cancel()
	return part.WaitReplicated(ctx, next)
}

// appendMarker appends a marker (durable here once it returns) and
// returns the offset to wait for: the one after it, or the log end for a
// marker the log already had (a coordinator sending it again), which
// covers the first one.
func appendMarker(p *partition.Partition, batch []byte, tv int8) (int64, error) {
	a, err := p.AppendMarker(batch, tv)
	if err != nil {
		return 0, err
	}
	if a.BaseOffset < 0 {
		return p.Log().LogEndOffset(), nil
	}
	return a.Next, nil
}

// enoughReplicas refuses an acks=-1 write while p's ISR is below its
// min.insync.replicas (capped at the replication factor), as Kafka's
// appendRecordsToLeader does: NOT_ENOUGH_REPLICAS, nothing appended.
func (b *Broker) enoughReplicas(p *partition.Partition) error {
	im := b.store.Image()
	want := b.minInsync(im, p.TP.Topic)
	if t := im.Topic(p.TP.Topic); t != nil && int(p.TP.Partition) < len(t.Partitions) {
		want = min(want, len(t.Partitions[p.TP.Partition].Replicas))
	}
	isr, _ := p.ISR()
	if len(isr) < max(want, 1) {
		return fmt.Errorf("%w: %s-%d has %d in-sync replicas, min.insync.replicas %d", kerr.NotEnoughReplicas, p.TP.Topic, p.TP.Partition, len(isr), want)
	}
	return nil
}

// codeOf is the Kafka error code an error wraps (0 for nil; a context's
// end is REQUEST_TIMED_OUT).
func codeOf(err error) int16 {
	if err == nil {
		return 0
	}
	var ke *kerr.Error
	switch {
	case errors.As(err, &ke):
		return ke.Code
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return kerr.RequestTimedOut.Code
	}
	return kerr.UnknownServerError.Code
}
