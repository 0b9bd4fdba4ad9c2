package api

// What the transaction requests (keys 24-28, 65, 66) need from the broker:
// the transaction coordinator (Kafka 4.x, transactions v2, KIP-890) and
// the partition leaders' marker writing. The handlers, one file per key,
// route to it; Samsa has no ACLs yet, so the TRANSACTIONAL_ID and
// CLUSTER_ACTION checks Kafka makes are the authorizer's to add.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Transactions is the transaction coordinator and marker writer.
type Transactions interface {
	// Coordinator is the node coordinating a transactional id (creating
	// __transaction_state on first use), or an error wrapping
	// COORDINATOR_NOT_AVAILABLE.
	Coordinator(ctx context.Context, transactionalID string) (int32, error)
	AddPartitionsToTxn(ctx context.Context, req *kmsg.AddPartitionsToTxnRequest) *kmsg.AddPartitionsToTxnResponse
	AddOffsetsToTxn(ctx context.Context, req *kmsg.AddOffsetsToTxnRequest) *kmsg.AddOffsetsToTxnResponse
	EndTxn(ctx context.Context, req *kmsg.EndTxnRequest) *kmsg.EndTxnResponse
	DescribeTransaction(ctx context.Context, transactionalID string) kmsg.DescribeTransactionsResponseTransactionState
	ListTransactions(ctx context.Context, req *kmsg.ListTransactionsRequest) *kmsg.ListTransactionsResponse
	// WriteTxnMarkers writes markers to the partitions this node leads.
	WriteTxnMarkers(ctx context.Context, req *kmsg.WriteTxnMarkersRequest) *kmsg.WriteTxnMarkersResponse
	// OffsetsPartition is the group's partition of __consumer_offsets
	// (offsets.topic.num.partitions), which TxnOffsetCommit adds or
	// verifies (KIP-890).
	OffsetsPartition(group string) int32
}

// TxnOffsets is the group coordinator's half of transactions: it keeps a
// transaction's offsets pending until its marker (KIP-98, KIP-447).
type TxnOffsets interface {
	TxnOffsetCommit(ctx context.Context, req *kmsg.TxnOffsetCommitRequest) kmsg.Response
	// OffsetFetchStable is OffsetFetch with require_stable.
	OffsetFetchStable(ctx context.Context, group string, topics []kmsg.OffsetFetchRequestGroupTopic, memberID *string, memberEpoch int32) kmsg.OffsetFetchResponseGroup
}

// noTxn answers when the node has no transaction coordinator.
var (
	noTxnErr  = kerr.CoordinatorNotAvailable
	noTxnCode = noTxnErr.Code
)
