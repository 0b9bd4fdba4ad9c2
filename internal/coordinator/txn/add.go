package txn

// AddPartitionsToTxn and AddOffsetsToTxn, as Kafka 4.x's
// TransactionCoordinator.handleAddPartitionsToTransaction and
// handleVerifyPartitionsInTransaction:
//   - v0-3 come from clients (transactions v1): one transaction, every
//     partition answered with the same error.
//   - v4+ are batched and come from brokers (CLUSTER_ACTION): a partition
//     leader verifies, before it appends a transactional batch, that the
//     partition is in the producer's transaction (VerifyOnly, KIP-890 part
//     1: NONE or TRANSACTION_ABORTABLE per partition), and with
//     transactions v2 (KIP-890 part 2) adds it itself (VerifyOnly false).
//     A request above v3 marks the transaction as transactions v2
//     (TransactionVersion.transactionVersionForAddPartitionsToTxn).
//   - The producer must be the current one: INVALID_PRODUCER_ID_MAPPING
//     for another producer id, PRODUCER_FENCED for another epoch (so a
//     delayed request of epoch N after the bump to N+1 is refused, the
//     KIP-890 case), INVALID_PRODUCER_EPOCH before v2 (KIP-588).
//   - A transaction being completed answers CONCURRENT_TRANSACTIONS.
//   - Partitions already in an Ongoing transaction are answered at once
//     without a record.
// AddOffsetsToTxn adds the group's partition of __consumer_offsets, always
// at transaction version 0 (Kafka's handleAddOffsetsToTxnRequest).

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// OffsetsTopic is the internal topic of committed offsets.
const OffsetsTopic = "__consumer_offsets"

// AddPartitions handles one transaction of an AddPartitionsToTxn of the
// given version; for v0-3 the caller builds the transaction from the
// request's top-level fields (VerifyOnly false). The response carries that
// transaction alone (in Topics up to v3, in Transactions from v4); the
// runtime merges the transactions of a batch.
func (s *Shard) AddPartitions(now time.Time, h Handle, version int16, rt kmsg.AddPartitionsToTxnRequestTransaction) Effects {
	o := &op{now: now}
	var tps []TopicPartition
	for _, t := range rt.Topics {
		for _, p := range t.Partitions {
			tps = append(tps, TopicPartition{Topic: t.Topic, Partition: p})
		}
	}
	var codes map[TopicPartition]int16
	code := int16(0)
	switch {
	case rt.TransactionalID == "":
		code = kerr.InvalidRequest.Code
	case version >= 4 && rt.VerifyOnly:
		codes, code = s.verify(rt, tps)
	default:
		tv := int16(0)
		if version > 3 {
			tv = 2
		}
		code = s.addPartitions(o, rt.TransactionalID, rt.ProducerID, rt.ProducerEpoch, tps, tv)
	}
	code = fencedCode(code, version, 2)
	o.respond(h, addResponse(version, rt, func(tp TopicPartition) int16 {
		if codes != nil {
			return codes[tp]
		}
		return code
	}))
	return o.fx
}

// AddOffsets handles an AddOffsetsToTxn; offsetsPartition is the group's
// partition of __consumer_offsets (the runtime computes it).
func (s *Shard) AddOffsets(now time.Time, h Handle, req *kmsg.AddOffsetsToTxnRequest, offsetsPartition int32) Effects {
	o := &op{now: now}
	resp := kmsg.NewPtrAddOffsetsToTxnResponse()
	resp.Version = req.Version
	code := kerr.InvalidRequest.Code
	if req.TransactionalID != "" {
		tp := TopicPartition{Topic: OffsetsTopic, Partition: offsetsPartition}
		code = s.addPartitions(o, req.TransactionalID, req.ProducerID, req.ProducerEpoch, []TopicPartition{tp}, 0)
	}
	resp.ErrorCode = fencedCode(code, req.Version, 2)
	o.respond(h, resp)
	return o.fx
}

// checkProducer is the producer check every transaction request makes.
func checkProducer(t *txnMeta, producerID int64, epoch int16) int16 {
	switch {
	case t == nil || t.producerID != producerID:
		return kerr.InvalidProducerIDMapping.Code
	case t.epoch != epoch:
		return kerr.ProducerFenced.Code
	case t.state.preparing():
		return kerr.ConcurrentTransactions.Code
	}
	return 0
}

func (s *Shard) addPartitions(o *op, id string, producerID int64, epoch int16, tps []TopicPartition, tv int16) int16 {
	t := s.txns[id]
	if code := checkProducer(t, producerID, epoch); code != 0 {
		return code
	}
	added := false
	for _, tp := range tps {
		if _, ok := t.partitions[tp]; !ok {
			added = true
		}
	}
	if t.state == Ongoing && !added {
		return 0
	}
	next := t.clone()
	if t.state != Ongoing {
		next.startMs = o.nowMs()
	}
	next.state, next.tv = Ongoing, tv
	for _, tp := range tps {
		next.partitions[tp] = struct{}{}
	}
	s.transit(o, t, next)
	return 0
}

// verify answers a VerifyOnly transaction: NONE for a partition in the
// transaction, TRANSACTION_ABORTABLE for one that is not.
func (s *Shard) verify(rt kmsg.AddPartitionsToTxnRequestTransaction, tps []TopicPartition) (map[TopicPartition]int16, int16) {
	t := s.txns[rt.TransactionalID]
	if code := checkProducer(t, rt.ProducerID, rt.ProducerEpoch); code != 0 {
		return nil, code
	}
	codes := make(map[TopicPartition]int16, len(tps))
	for _, tp := range tps {
		if _, ok := t.partitions[tp]; !ok {
			codes[tp] = kerr.TransactionAbortable.Code
		}
	}
	return codes, 0
}

func addResponse(version int16, rt kmsg.AddPartitionsToTxnRequestTransaction, code func(TopicPartition) int16) *kmsg.AddPartitionsToTxnResponse {
	resp := kmsg.NewPtrAddPartitionsToTxnResponse()
	resp.Version = version
	var topics []kmsg.AddPartitionsToTxnResponseTransactionTopic
	for _, t := range rt.Topics {
		rt := kmsg.NewAddPartitionsToTxnResponseTransactionTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewAddPartitionsToTxnResponseTransactionTopicPartition()
			rp.Partition, rp.ErrorCode = p, code(TopicPartition{Topic: t.Topic, Partition: p})
			rt.Partitions = append(rt.Partitions, rp)
		}
		topics = append(topics, rt)
	}
	if version >= 4 {
		res := kmsg.NewAddPartitionsToTxnResponseTransaction()
		res.TransactionalID, res.Topics = rt.TransactionalID, topics
		resp.Transactions = []kmsg.AddPartitionsToTxnResponseTransaction{res}
		return resp
	}
	for _, t := range topics {
		rt := kmsg.NewAddPartitionsToTxnResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewAddPartitionsToTxnResponseTopicPartition()
			rp.Partition, rp.ErrorCode = p.Partition, p.ErrorCode
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}
