package api

import (
	"context"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/internal/metadata"
	"github.com/samsa-io/samsa/internal/wire"
)

// Partition is one partition this broker hosts, as the API needs it. The
// errors it returns wrap kerr values.
type Partition interface {
	// Append appends a batch as the leader; it is durable here once
	// Commit(next) returns, and on every in-sync replica once
	// WaitReplicated(next) does. With acks -1 it first checks that the
	// ISR holds min.insync.replicas (NOT_ENOUGH_REPLICAS, nothing
	// appended).
	Append(batch []byte, acks int16) (base, logAppendTime, logStart, next int64, err error)
	Commit(next int64) error
	// WaitReplicated waits for acks=all until the high watermark reaches
	// next: NOT_ENOUGH_REPLICAS_AFTER_APPEND when the ISR is below
	// min.insync.replicas, REQUEST_TIMED_OUT when ctx ends first,
	// NOT_LEADER_OR_FOLLOWER when leadership moved.
	WaitReplicated(ctx context.Context, next int64) error
	// Read returns batches from offset up to the high watermark: as a file
	// region to send as it is, or as bytes (when the log verifies CRCs on
	// read).
	Read(offset int64, maxBytes int, minOne bool) (records Records, hw, lastStable, logStart int64, err error)
	// ReadCommitted is Read for read_committed consumers: up to the last
	// stable offset, with the aborted transactions overlapping the range.
	ReadCommitted(offset int64, maxBytes int, minOne bool) (records Records, hw, lastStable, logStart int64, aborted []AbortedTxn, err error)
	// Watch calls notify whenever the high watermark moves, until cancel.
	Watch(notify func()) (cancel func())
	// ReadReplica serves a follower's fetch as the leader: batches up to
	// the log end, the follower's position recorded (high watermark,
	// ISR), or a diverging epoch (KIP-320).
	ReadReplica(f ReplicaFetch) (ReplicaRead, error)
	// WatchEnd calls notify whenever the batches a follower may fetch
	// grow, until cancel.
	WatchEnd(notify func()) (cancel func())
	// ListOffset looks a timestamp up below the high watermark, or with
	// committed (READ_COMMITTED) below the last stable offset.
	ListOffset(timestamp int64, committed bool) (offset, ts int64, epoch int32, err error)
	// EndOffsetForEpoch answers OffsetForLeaderEpoch as the leader
	// (NOT_LEADER_OR_FOLLOWER elsewhere).
	EndOffsetForEpoch(epoch int32) (int32, int64, error)
	CheckEpoch(clientEpoch int32) error
	LeaderEpoch() int32
	HighWatermark() int64
	LogStartOffset() int64
	Size() int64
	// DeleteRecordsBefore raises the log start offset (-1: the high
	// watermark) and returns the new one.
	DeleteRecordsBefore(offset int64) (int64, error)
}

// ReplicaFetch is one partition of a follower's Fetch (replica id >= 0).
type ReplicaFetch struct {
	ReplicaID   int32
	BrokerEpoch int64 // ReplicaState.Epoch from v15, else -1
	// CurrentLeaderEpoch is the epoch the follower believes current (-1:
	// none sent).
	CurrentLeaderEpoch int32
	Offset             int64
	// LastFetchedEpoch is the epoch of the follower's last batch (v12+,
	// KIP-320), -1 when unknown.
	LastFetchedEpoch int32
	LogStartOffset   int64
	MaxBytes         int
	MinOne           bool
}

// ReplicaRead answers a ReplicaFetch. DivergingEpoch and DivergingEnd,
// unless -1, are KIP-320's diverging epoch: the follower must truncate,
// and nothing was read.
type ReplicaRead struct {
	Records                             Records
	HighWatermark, LastStable, LogStart int64
	DivergingEpoch                      int32
	DivergingEnd                        int64
}

// AbortedTxn is an aborted transaction a read_committed fetch reports.
type AbortedTxn struct {
	ProducerID, FirstOffset int64
}

// Records are batches read for a fetch: Bytes, or a Region of a segment
// file, which the caller must release (wire.Region.Release) once written
// or abandoned.
type Records struct {
	Bytes  []byte
	Region *wire.Region
}

// Admin is the controller: it takes Kafka's admin requests and answers
// them, as Kafka's controller takes the request data.
type Admin interface {
	CreateTopics(ctx context.Context, req *kmsg.CreateTopicsRequest) *kmsg.CreateTopicsResponse
	DeleteTopics(ctx context.Context, req *kmsg.DeleteTopicsRequest) *kmsg.DeleteTopicsResponse
	CreatePartitions(ctx context.Context, req *kmsg.CreatePartitionsRequest) *kmsg.CreatePartitionsResponse
	AlterConfigs(ctx context.Context, req *kmsg.AlterConfigsRequest) *kmsg.AlterConfigsResponse
	IncrementalAlterConfigs(ctx context.Context, req *kmsg.IncrementalAlterConfigsRequest) *kmsg.IncrementalAlterConfigsResponse
}

// Configs describes configs with their sources and synonyms.
type Configs interface {
	DescribeConfigs(im *metadata.Image, req *kmsg.DescribeConfigsRequest) *kmsg.DescribeConfigsResponse
}

// Deps is what the handler needs from the broker.
type Deps struct {
	NodeID    int32
	ClusterID string
	Image     func() *metadata.Image
	// Partition returns a hosted partition or an error wrapping
	// UNKNOWN_TOPIC_OR_PARTITION, NOT_LEADER_OR_FOLLOWER or
	// KAFKA_STORAGE_ERROR.
	Partition func(topic string, p int32) (Partition, error)
	Admin     Admin
	Groups    Groups
	// ProducerIDs gives idempotent producers their ids (InitProducerId
	// without a transactional id); nil answers COORDINATOR_NOT_AVAILABLE.
	ProducerIDs ProducerIDs
	// TxnCoordinator answers InitProducerId with a transactional id; nil
	// answers COORDINATOR_NOT_AVAILABLE.
	TxnCoordinator TxnCoordinator
	// Transactions answers the other transaction requests; nil answers
	// COORDINATOR_NOT_AVAILABLE.
	Transactions Transactions
	// TransactionVersion is the cluster's finalized transaction.version
	// feature level, advertised in ApiVersions (features.go): 2 turns on
	// KIP-890 part 2 in clients and implicit partition adds on Produce v12+.
	TransactionVersion int16
	// Producers lists a led partition's producers (DescribeProducers), or
	// returns an error wrapping UNKNOWN_TOPIC_OR_PARTITION or
	// NOT_LEADER_OR_FOLLOWER.
	Producers func(topic string, partition int32) ([]ActiveProducer, error)
	Configs   Configs
	// LogDir is the path DescribeLogDirs reports.
	LogDir string
	// AutoCreateTopics is auto.create.topics.enable.
	AutoCreateTopics bool
	// FetchSessionCacheSlots is max.incremental.fetch.session.cache.slots;
	// 0 disables incremental fetch sessions.
	FetchSessionCacheSlots int
	// FetchMaxBytes is fetch.max.bytes: a cap on every fetch response
	// (KIP-74's first batch aside); 0 means Kafka's 55 MiB.
	FetchMaxBytes int64
	Logger        *slog.Logger
	Now           func() time.Time
	// Observe, when set, records each request's handling time.
	Observe func(key int16, d time.Duration)
	// Produced and Fetched, when set, count bytes and records per topic.
	Produced func(topic string, bytes, records int64)
	Fetched  func(topic string, bytes, records int64)
}
