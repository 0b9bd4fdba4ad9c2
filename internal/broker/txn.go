package broker

// Transactions (KIP-98; Kafka 4.x transactions v2, KIP-890): the
// transaction coordinator on __transaction_state (created on first use as
// Kafka creates it: transaction.state.log.num.partitions partitions,
// compacted), and the MarkerWriter that writes its COMMIT/ABORT markers as
// the partitions' leader: a control batch appended to each partition this
// node leads, through the group coordinator's shard for __consumer_offsets
// partitions (so pending transactional offsets are applied or dropped).
// A partition another node leads answers NOT_LEADER_OR_FOLLOWER, which the
// coordinator retries: Samsa runs single-node today, and WriteTxnMarkers to
// other leaders comes with replication.

import (
	"context"
	"errors"
	"regexp"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/internal/config"
	"github.com/samsa-io/samsa/internal/coordinator"
	"github.com/samsa-io/samsa/internal/coordinator/txn"
	"github.com/samsa-io/samsa/internal/partition"
	"github.com/samsa-io/samsa/internal/record"
)

// transactionVersion is the cluster's finalized transaction.version
// feature level (KIP-584): 2, Kafka 4.0's default, transactions v2
// (KIP-890 part 2). ApiVersions advertises it and the transaction
// coordinator runs at it, so they cannot disagree.
const transactionVersion = 2

// startTxn builds the transaction coordinator and loads the shards of an
// existing __transaction_state.
func (b *Broker) startTxn() (func(), error) {
	v, err := config.ValidateBroker(b.cfg.Props)
	if err != nil {
		return nil, err
	}
	tc := txn.DefaultConfig()
	tc.MaxTimeout = v.Duration("transaction.max.timeout.ms")
	tc.IDExpiration = v.Duration("transactional.id.expiration.ms")
	tc.ProducerIDs = b.pids
	tc.TransactionVersion = transactionVersion
	partitions := int32(v.Int("transaction.state.log.num.partitions"))
	replication := int16(v.Int("transaction.state.log.replication.factor"))
	segment := strconv.Itoa(v.Int("transaction.state.log.segment.bytes"))
	c, err := coordinator.NewTxn(coordinator.TxnConfig{
		NodeID: b.cfg.NodeID, NumPartitions: partitions,
		OffsetsPartitions: int32(v.Int("offsets.topic.num.partitions")),
		Txn:               tc,
		AbortInterval:     v.Duration("transaction.abort.timed.out.transaction.cleanup.interval.ms"),
		ExpireInterval:    v.Duration("transaction.remove.expired.transaction.cleanup.interval.ms"),
		Image:             b.store.Image,
		Partition: func(p int32) (coordinator.Partition, error) {
			part, err := b.parts.Get(coordinator.TxnTopic, p)
			if err != nil {
				return nil, err
			}
			if !part.IsLeader() {
				return nil, partition.ErrNotLeader
			}
			return offsetsView{part}, nil
		},
		CreateTopic: func(ctx context.Context) error {
			return b.createTxnTopic(ctx, partitions, replication, segment)
		},
		Markers: markerWriter{b},
		Logger:  b.log, Now: b.cfg.Now,
	})
	if err != nil {
		return nil, err
	}
	b.txn = c
	c.Start()
	return c.Close, nil
}

// createTxnTopic creates __transaction_state as Kafka does: compacted,
// uncompressed, transaction.state.log.segment.bytes.
func (b *Broker) createTxnTopic(ctx context.Context, partitions int32, replication int16, segment string) error {
	return b.createInternalTopic(ctx, coordinator.TxnTopic, partitions, replication, map[string]string{
		"cleanup.policy": "compact", "compression.type": "uncompressed", "segment.bytes": segment,
	})
}

// markerWriter writes the transaction coordinator's markers.
type markerWriter struct{ b *Broker }

func (w markerWriter) WriteMarkers(ctx context.Context, m txn.Marker) []txn.MarkerResult {
	out := make([]txn.MarkerResult, 0, len(m.Partitions))
	for _, tp := range m.Partitions {
		r := txn.MarkerResult{TransactionalID: m.TransactionalID, ProducerID: m.ProducerID, ProducerEpoch: m.ProducerEpoch, Partition: tp}
		r.ErrorCode, r.Gone = w.write(ctx, m, tp)
		out = append(out, r)
	}
	return out
}

// write writes one partition's marker and returns its error code, or gone
// when the partition no longer exists.
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
	part, err := w.b.parts.Get(tp.Topic, tp.Partition)
	if err != nil {
		return codeOf(err), false
	}
	batch, err := record.BuildEndTxn(marker)
	if err == nil {
		_, err = part.AppendMarker(batch, m.TransactionVersion)
	}
	if err != nil {
		w.b.log.Debug("transaction marker not written", "topic", tp.Topic, "partition", tp.Partition, "producer", m.ProducerID, "err", err)
	}
	return codeOf(err), false
}

// codeOf is the Kafka error code an error wraps (0 for nil).
func codeOf(err error) int16 {
	if err == nil {
		return 0
	}
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Code
	}
	return kerr.UnknownServerError.Code
}

// txnView adapts the transaction coordinator to the API's interfaces.
type txnView struct{ b *Broker }

func (v txnView) InitProducerID(ctx context.Context, r *kmsg.InitProducerIDRequest) *kmsg.InitProducerIDResponse {
	return v.b.txn.InitProducerID(ctx, r).(*kmsg.InitProducerIDResponse)
}

func (v txnView) Coordinator(ctx context.Context, id string) (int32, error) {
	return v.b.txn.Coordinator(ctx, id)
}

func (v txnView) AddPartitionsToTxn(ctx context.Context, r *kmsg.AddPartitionsToTxnRequest) *kmsg.AddPartitionsToTxnResponse {
	return v.b.txn.AddPartitionsToTxn(ctx, r)
}

func (v txnView) AddOffsetsToTxn(ctx context.Context, r *kmsg.AddOffsetsToTxnRequest) *kmsg.AddOffsetsToTxnResponse {
	return v.b.txn.AddOffsetsToTxn(ctx, r).(*kmsg.AddOffsetsToTxnResponse)
}

func (v txnView) OffsetsPartition(group string) int32 { return v.b.txn.OffsetsPartitionFor(group) }

func (v txnView) EndTxn(ctx context.Context, r *kmsg.EndTxnRequest) *kmsg.EndTxnResponse {
	return v.b.txn.EndTxn(ctx, r).(*kmsg.EndTxnResponse)
}

func (v txnView) DescribeTransaction(ctx context.Context, id string) kmsg.DescribeTransactionsResponseTransactionState {
	return v.b.txn.DescribeTransaction(ctx, id)
}

func (v txnView) ListTransactions(ctx context.Context, r *kmsg.ListTransactionsRequest) *kmsg.ListTransactionsResponse {
	f := txn.ListFilter{States: r.StateFilters, ProducerIDs: r.ProducerIDFilters, MinDuration: -1}
	if r.Version >= 1 && r.DurationFilterMillis >= 0 {
		f.MinDuration = time.Duration(r.DurationFilterMillis) * time.Millisecond
	}
	fail := func(code int16) *kmsg.ListTransactionsResponse {
		resp := r.ResponseKind().(*kmsg.ListTransactionsResponse)
		resp.ErrorCode = code
		return resp
	}
	if r.Version >= 2 && r.TransactionalIDPattern != nil && *r.TransactionalIDPattern != "" {
		re, err := regexp.Compile(*r.TransactionalIDPattern)
		if err != nil {
			return fail(kerr.InvalidRegularExpression.Code)
		}
		f.Pattern = re
	}
	resp, err := v.b.txn.ListTransactions(ctx, f)
	if err != nil {
		return fail(kerr.CoordinatorNotAvailable.Code)
	}
	resp.Version = r.Version
	return resp
}

// WriteTxnMarkers writes the markers a coordinator sent to this node.
func (v txnView) WriteTxnMarkers(ctx context.Context, r *kmsg.WriteTxnMarkersRequest) *kmsg.WriteTxnMarkersResponse {
	resp := r.ResponseKind().(*kmsg.WriteTxnMarkersResponse)
	w := markerWriter{v.b}
	for _, m := range r.Markers {
		tm := txn.Marker{ProducerID: m.ProducerID, ProducerEpoch: m.ProducerEpoch, Commit: m.Committed,
			CoordinatorEpoch: m.CoordinatorEpoch, TransactionVersion: m.TransactionVersion}
		rm := kmsg.NewWriteTxnMarkersResponseMarker()
		rm.ProducerID = m.ProducerID
		for _, t := range m.Topics {
			rt := kmsg.NewWriteTxnMarkersResponseMarkerTopic()
			rt.Topic = t.Topic
			for _, p := range t.Partitions {
				code, _ := w.write(ctx, tm, txn.TopicPartition{Topic: t.Topic, Partition: p})
				rt.Partitions = append(rt.Partitions, kmsg.WriteTxnMarkersResponseMarkerTopicPartition{Partition: p, ErrorCode: code})
			}
			rm.Topics = append(rm.Topics, rt)
		}
		resp.Markers = append(resp.Markers, rm)
	}
	return resp
}
