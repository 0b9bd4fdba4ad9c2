package txn

import (
	"fmt"
	"maps"
	"math"
	"time"
)

// txnMeta is one transactional id's metadata, Kafka's TransactionMetadata.
// Samsa applies a transition to it as soon as the operation runs (the
// runtime answers only once the record is durable and rebuilds the shard
// by replay when an append fails), so Kafka's pendingState has no
// counterpart: a transaction being completed is in PrepareCommit or
// PrepareAbort, which every request treats as Kafka treats a pending
// transition (CONCURRENT_TRANSACTIONS).
type txnMeta struct {
	id             string
	producerID     int64
	prevProducerID int64 // the producer id before the last transition
	nextProducerID int64 // the id a completion rotates to when the epoch overflows
	epoch          int16
	lastEpoch      int16
	timeoutMs      int32
	state          State
	partitions     map[TopicPartition]struct{}
	startMs        int64 // -1 when no transaction has started
	updateMs       int64
	tv             int16 // the client's transaction version (0 or 2)

	// markers holds, while the state is PrepareCommit or PrepareAbort, the
	// partitions whose marker is not acknowledged yet.
	markers map[TopicPartition]*markerState
	// stalled is set when a marker write was fenced (a newer coordinator
	// or producer epoch): Kafka stops sending and leaves the transaction
	// prepared until the partition is loaded again.
	stalled bool
}

type markerState struct {
	inflight bool
	retryAt  time.Time
}

// clone copies t's persistent fields for a transition.
func (t *txnMeta) clone() *txnMeta {
	c := *t
	c.partitions = maps.Clone(t.partitions)
	c.markers, c.stalled = nil, false
	return &c
}

// epochExhausted reports an epoch a client may no longer be given: the
// coordinator keeps math.MaxInt16 to fence with (Kafka's isEpochExhausted).
func epochExhausted(e int16) bool { return e >= math.MaxInt16-1 }

// bumpsEpoch reports a transaction version whose ends bump the epoch
// (TransactionVersion.supportsEpochBump, KIP-890 part 2).
func bumpsEpoch(tv int16) bool { return tv >= 2 }

func (t *txnMeta) String() string {
	return fmt.Sprintf("%s pid=%d epoch=%d state=%s", t.id, t.producerID, t.epoch, t.state)
}
