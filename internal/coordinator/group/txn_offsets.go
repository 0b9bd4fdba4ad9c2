package group

// Transactional offset commits (KIP-98, KIP-447), as Kafka 4.x's
// OffsetMetadataManager: TxnOffsetCommit (key 28) writes the offsets to
// __consumer_offsets in a transactional batch of the producer, and keeps
// them pending per producer id; the transaction's COMMIT marker on this
// partition applies them, ABORT drops them (CompleteTxn; at load, replay of
// the batch and its marker does the same). OffsetFetch with require_stable
// answers UNSTABLE_OFFSET_COMMIT for a partition with pending offsets.
// The request is validated as an OffsetCommit is (a generation of -1 and
// no member: a simple consumer), with Kafka's transactional rules for the
// member fields: v0-2 carry none, so only the group is checked.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"time"
)

// pendingOffset is one offset of an undecided transaction.
type pendingOffset struct {
	group string
	tp    topicPartition
	off   offset
}

// TxnCommitOffsets handles a TxnOffsetCommit.
func (s *Shard) TxnCommitOffsets(now time.Time, h Handle, req *kmsg.TxnOffsetCommitRequest) Effects {
	o := &op{now: now}
	resp := kmsg.NewPtrTxnOffsetCommitResponse()
	resp.Version = req.Version
	g := s.groups[req.Group]
	code := int16(0)
	generation, member := req.Generation, req.MemberID
	if req.Version < 3 {
		generation, member = -1, ""
	}
	switch {
	case g != nil && g.consumer != nil:
		code = g.consumer.validateCommit(member, generation, 9)
	case g != nil:
		code = g.validateOffsetCommit(member, req.InstanceID, generation)
		if generation < 0 && member == "" && req.InstanceID == nil && g.state != Dead {
			code = 0 // a producer without group metadata (v0-2): Kafka accepts it
		}
	case generation < 0:
		g = s.create(req.Group, now)
	default:
		code = kerr.IllegalGeneration.Code
	}
	for _, t := range req.Topics {
		rt := kmsg.NewTxnOffsetCommitResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewTxnOffsetCommitResponseTopicPartition()
			rp.Partition, rp.ErrorCode = p.Partition, code
			meta := ""
			if p.Metadata != nil {
				meta = *p.Metadata
			}
			if code == 0 && len(meta) > s.cfg.OffsetMetadataMaxBytes {
				rp.ErrorCode = kerr.OffsetMetadataTooLarge.Code
			}
			if rp.ErrorCode == 0 {
				tp := topicPartition{topic: t.Topic, partition: p.Partition}
				off := offset{offset: p.Offset, leaderEpoch: p.LeaderEpoch, metadata: meta, commitMs: now.UnixMilli(), expireMs: -1}
				if req.Version < 2 {
					off.leaderEpoch = -1
				}
				s.pending[req.ProducerID] = append(s.pending[req.ProducerID], pendingOffset{group: req.Group, tp: tp, off: off})
				o.record(offsetRecord(req.Group, tp, off))
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	if len(o.fx.Records) > 0 {
		o.fx.Txn = &TxnProducer{ID: req.ProducerID, Epoch: req.ProducerEpoch}
	}
	o.respond(h, resp)
	if g != nil {
		s.track(g)
	}
	return o.fx
}

// ReplayTxn applies one record of a transactional batch of producer pid,
// read back at load: offset commits stay pending until the marker.
func (s *Shard) ReplayTxn(pid int64, key, value []byte) error {
	var k kmsg.OffsetCommitKey
	if len(key) < 2 || key[0] != 0 || key[1] > 1 || value == nil {
		return s.Replay(key, value)
	}
	if err := k.ReadFrom(key); err != nil {
		return s.Replay(key, value)
	}
	var v kmsg.OffsetCommitValue
	if err := v.ReadFrom(value); err != nil {
		return s.Replay(key, value)
	}
	off := offset{offset: v.Offset, leaderEpoch: -1, metadata: v.Metadata, commitMs: v.CommitTimestamp, expireMs: -1}
	if v.Version >= 3 {
		off.leaderEpoch = v.LeaderEpoch
	}
	s.pending[pid] = append(s.pending[pid], pendingOffset{group: k.Group, tp: topicPartition{k.Topic, k.Partition}, off: off})
	return nil
}

// CompleteTxn applies (commit) or drops the pending offsets of producer
// pid once its marker is written to (or replayed from) this partition.
func (s *Shard) CompleteTxn(pid int64, commit bool) {
	ps := s.pending[pid]
	delete(s.pending, pid)
	if !commit {
		return
	}
	for _, p := range ps {
		g := s.groups[p.group]
		if g == nil {
			g = newGroup(p.group, &s.cfg, time.Time{})
			s.groups[p.group] = g
		}
		g.offsets[p.tp] = p.off
	}
}

// FetchStableOffsets is FetchOffsets with require_stable (KIP-447): a
// partition with a pending transactional commit answers
// UNSTABLE_OFFSET_COMMIT, which the client retries.
func (s *Shard) FetchStableOffsets(group string, topics []kmsg.OffsetFetchRequestGroupTopic, memberID *string, epoch int32) kmsg.OffsetFetchResponseGroup {
	resp := s.FetchOffsets(group, topics, memberID, epoch)
	unstable := map[topicPartition]bool{}
	for _, ps := range s.pending {
		for _, p := range ps {
			if p.group == group {
				unstable[p.tp] = true
			}
		}
	}
	for i := range resp.Topics {
		for j := range resp.Topics[i].Partitions {
			p := &resp.Topics[i].Partitions[j]
			if unstable[topicPartition{resp.Topics[i].Topic, p.Partition}] {
				p.ErrorCode, p.Offset = kerr.UnstableOffsetCommit.Code, -1
			}
		}
	}
	return resp
}
