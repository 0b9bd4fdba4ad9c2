package txn

// Transaction markers, as Kafka 4.x's TransactionMarkerChannelManager and
// TransactionMarkerRequestCompletionHandler: once the Prepare record is
// durable the markers go to every partition of the transaction; a
// partition is done when its leader wrote the marker, when it no longer
// exists, or when its log format cannot take markers
// (UNSUPPORTED_FOR_MESSAGE_FORMAT); INVALID_PRODUCER_EPOCH and
// TRANSACTION_COORDINATOR_FENCED stop the sending (a newer coordinator or
// producer epoch owns the partition); any other error is retried after the
// backoff. Once every partition is done the Complete record is written
// (prepareComplete): the partitions are cleared and, when the epoch
// overflowed under transactions v2, the id moves to the producer id
// promised in the Prepare record, at epoch 0.

import (
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// startMarkers sends the markers of a prepared transaction, or completes
// it at once when it has no partition.
func (s *Shard) startMarkers(o *op, t *txnMeta) {
	t.markers, t.stalled = map[TopicPartition]*markerState{}, false
	delete(s.retrying, t.id)
	for tp := range t.partitions {
		t.markers[tp] = &markerState{inflight: true}
	}
	if len(t.markers) == 0 {
		s.complete(o, t)
		return
	}
	o.fx.Markers = append(o.fx.Markers, s.marker(t, t.sortedPartitions()))
}

func (s *Shard) marker(t *txnMeta, tps []TopicPartition) Marker {
	return Marker{
		TransactionalID: t.id, ProducerID: t.producerID, ProducerEpoch: t.epoch,
		Commit: t.state == PrepareCommit, CoordinatorEpoch: s.coordinatorEpoch,
		TransactionVersion: int8(t.tv), Partitions: tps,
	}
}

// complete writes the Complete record of a transaction whose markers are
// all written.
func (s *Shard) complete(o *op, t *txnMeta) {
	next := t.clone()
	next.state = CompleteAbort
	if t.state == PrepareCommit {
		next.state = CompleteCommit
	}
	if bumpsEpoch(t.tv) && t.nextProducerID != noID {
		next.producerID, next.epoch = t.nextProducerID, 0
	}
	next.nextProducerID = noID
	next.partitions = map[TopicPartition]struct{}{}
	delete(s.retrying, t.id)
	s.transit(o, t, next)
}

// MarkersWritten takes the outcome of marker writes. Results for a
// transaction that has moved on (another epoch, a reload) are ignored.
func (s *Shard) MarkersWritten(now time.Time, results []MarkerResult) Effects {
	o := &op{now: now}
	touched := map[string]*txnMeta{}
	var order []string
	for _, r := range results {
		t := s.txns[r.TransactionalID]
		if t == nil || t.markers == nil || t.producerID != r.ProducerID || t.epoch != r.ProducerEpoch {
			continue
		}
		ms := t.markers[r.Partition]
		if ms == nil || !ms.inflight {
			continue
		}
		s.markerDone(o, t, r, ms)
		if touched[t.id] == nil {
			touched[t.id] = t
			order = append(order, t.id)
		}
	}
	for _, id := range order {
		if t := touched[id]; len(t.markers) == 0 && !t.stalled && s.txns[id] == t {
			s.complete(o, t)
		}
	}
	return o.fx
}

func (s *Shard) markerDone(o *op, t *txnMeta, r MarkerResult, ms *markerState) {
	switch r.ErrorCode {
	case 0, kerr.UnsupportedForMessageFormat.Code:
		delete(t.markers, r.Partition)
		return
	case kerr.InvalidProducerEpoch.Code, kerr.TransactionCoordinatorFenced.Code:
		if !t.stalled {
			o.fx.Warnings = append(o.fx.Warnings, fmt.Sprintf(
				"txn: %s: marker for %s-%d refused with error %d; stopped sending its markers",
				t, r.Partition.Topic, r.Partition.Partition, r.ErrorCode))
		}
		t.stalled = true
		delete(s.retrying, t.id)
		return
	}
	if r.Gone {
		delete(t.markers, r.Partition)
		return
	}
	if t.stalled {
		return
	}
	ms.inflight, ms.retryAt = false, o.now.Add(s.cfg.MarkerRetryBackoff)
	s.retrying[t.id] = struct{}{}
}

// Tick resends the markers whose retry backoff is over.
func (s *Shard) Tick(now time.Time) Effects {
	o := &op{now: now}
	for _, id := range sortedKeys(s.retrying) {
		t := s.txns[id]
		if t == nil || t.markers == nil || t.stalled {
			delete(s.retrying, id)
			continue
		}
		var due []TopicPartition
		waiting := false
		for tp, ms := range t.markers {
			switch {
			case ms.inflight:
			case !ms.retryAt.After(now):
				ms.inflight = true
				due = append(due, tp)
			default:
				waiting = true
			}
		}
		if !waiting {
			delete(s.retrying, id)
		}
		if len(due) > 0 {
			o.fx.Markers = append(o.fx.Markers, s.marker(t, sortPartitions(due)))
		}
	}
	return o.fx
}

// NextDeadline returns when Tick next has a marker to resend, or the zero
// time.
func (s *Shard) NextDeadline() time.Time {
	var at time.Time
	for id := range s.retrying {
		t := s.txns[id]
		if t == nil {
			continue
		}
		for _, ms := range t.markers {
			if !ms.inflight && (at.IsZero() || ms.retryAt.Before(at)) {
				at = ms.retryAt
			}
		}
	}
	return at
}

func sortedKeys(m map[string]struct{}) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
