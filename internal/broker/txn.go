package broker

// Transactions (KIP-98; Kafka 4.x transactions v2, KIP-890): the
// transaction coordinator on __transaction_state (created on first use as
// Kafka creates it: transaction.state.log.num.partitions partitions,
// transaction.state.log.replication.factor replicas, compacted, with
// min.insync.replicas from transaction.state.log.min.isr), and the
// transaction APIs' adapter. Its shards load and unload as this node
// gains and loses the leadership of __transaction_state's partitions; the
// markers go out through txn_markers.go.

import (
	"context"
	"regexp"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/internal/config"
	"github.com/samsa-io/samsa/internal/coordinator"
	"github.com/samsa-io/samsa/internal/coordinator/txn"
	"github.com/samsa-io/samsa/internal/metadata"
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
	minISR := strconv.Itoa(v.Int("transaction.state.log.min.isr"))
	c, err := coordinator.NewTxn(coordinator.TxnConfig{
		NodeID: b.cfg.NodeID, NumPartitions: partitions,
		OffsetsPartitions: int32(v.Int("offsets.topic.num.partitions")),
		Txn:               tc,
		AbortInterval:     v.Duration("transaction.abort.timed.out.transaction.cleanup.interval.ms"),
		ExpireInterval:    v.Duration("transaction.remove.expired.transaction.cleanup.interval.ms"),
		Image:             b.store.Image,
		Partition: func(p, epoch int32) (coordinator.Partition, error) {
			return b.coordinatorPartition(coordinator.TxnTopic, p, epoch)
		},
		CreateTopic: func(ctx context.Context) error {
			return b.createTxnTopic(ctx, partitions, replication, segment, minISR)
		},
		Markers: markerWriter{b},
		Logger:  b.log, Now: b.cfg.Now,
	})
	if err != nil {
		return nil, err
	}
	b.txn = c
	b.store.Subscribe(func(_, _ *metadata.Image) { c.Follow() }) // after the replica manager's
	c.Start()
	return c.Close, nil
}

// createTxnTopic creates __transaction_state as Kafka does: compacted,
// uncompressed, transaction.state.log.segment.bytes, and
// transaction.state.log.min.isr as its min.insync.replicas
// (TransactionLog's topic configs).
func (b *Broker) createTxnTopic(ctx context.Context, partitions int32, replication int16, segment, minISR string) error {
	return b.createInternalTopic(ctx, coordinator.TxnTopic, partitions, replication, map[string]string{
		"cleanup.policy": "compact", "compression.type": "uncompressed", "segment.bytes": segment,
		"min.insync.replicas": minISR,
	})
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
	return v.b.addPartitionsToTxn(ctx, r) // txn_verify.go
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

// WriteTxnMarkers writes the markers a coordinator sent to this node as
// the partitions' leader (txn_markers.go).
func (v txnView) WriteTxnMarkers(ctx context.Context, r *kmsg.WriteTxnMarkersRequest) *kmsg.WriteTxnMarkersResponse {
	return markerWriter{v.b}.serve(ctx, r)
}
