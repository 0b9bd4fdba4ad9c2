package api

// The partition leader's half of transactions v2 (KIP-890), Kafka 4.x's
// ReplicaManager.appendRecordsWithTransactionVerification and
// AddPartitionsToTxnManager. Before a transactional batch is appended, a
// producer with no transaction open in the partition at the batch's epoch
// is checked with the transaction coordinator by an AddPartitionsToTxn v5
// of the batch's transaction:
//
//   - Produce v12+ with transaction.version 2 (KIP-890 part 2): the client
//     sent no AddPartitionsToTxn, so the leader adds the partition
//     (VerifyOnly false); a transaction that is not open yet starts.
//   - older Produce versions (KIP-890 part 1): VerifyOnly, so a batch of a
//     hanging or zombie producer whose partition is not in the ongoing
//     transaction is refused (TRANSACTION_ABORTABLE from v11, which
//     clients handle, INVALID_TXN_STATE below it).
//
// An add answered CONCURRENT_TRANSACTIONS (the previous transaction's
// markers are still being written) is retried here every 20 ms for up to
// 100 ms, Kafka's add.partitions.to.txn.retry.backoff.ms and
// add.partitions.to.txn.retry.backoff.max.ms defaults, so the producer
// rarely sees it. The coordinator's errors are then turned into the ones producers handle, as
// Kafka does: PRODUCER_FENCED is INVALID_PRODUCER_EPOCH; the retriable
// CONCURRENT_TRANSACTIONS (the previous transaction's markers are still
// being written), NOT_COORDINATOR and COORDINATOR_* are
// NOT_ENOUGH_REPLICAS, which every producer retries without a metadata
// refresh. TxnOffsetCommit v5 adds the group's __consumer_offsets partition
// the same way (txn_offset_commit.go).

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ongoingTxns is a partition that knows its producers' open transactions.
type ongoingTxns interface {
	OngoingTxn(producerID int64, epoch int16) bool
}

// verifyTxnProduce checks a transactional batch with the transaction
// coordinator before it is appended; nil lets it through.
func (h *Handler) verifyTxnProduce(ctx context.Context, version int16, txnID *string, topic string, partition int32, p Partition, batch []byte) error {
	if txnID == nil || h.deps.Transactions == nil {
		return nil
	}
	pid, epoch, ok := txnProducer(batch)
	if !ok {
		return nil // not transactional; the append refuses what is malformed
	}
	if o, ok := p.(ongoingTxns); ok && o.OngoingTxn(pid, epoch) {
		return nil
	}
	add := version >= 12 && h.deps.TransactionVersion >= 2
	code := h.addToTxn(ctx, *txnID, pid, epoch, topic, partition, !add)
	if code == kerr.TransactionAbortable.Code && version < 11 {
		code = kerr.InvalidTxnState.Code // clients before Produce v11 do not know TRANSACTION_ABORTABLE
	}
	if code == 0 {
		return nil
	}
	return fmt.Errorf("%w: the partition could not be verified in or added to transaction %q", kerr.ErrorForCode(code), *txnID)
}

// txnProducer reads a RecordBatch v2 header's producer id and epoch
// (bytes 43-50, 51-52) when its attributes (bytes 21-22) mark it
// transactional (bit 4).
func txnProducer(batch []byte) (int64, int16, bool) {
	if len(batch) < 61 || batch[16] != 2 || binary.BigEndian.Uint16(batch[21:])&0x10 == 0 {
		return 0, 0, false
	}
	pid := int64(binary.BigEndian.Uint64(batch[43:]))
	return pid, int16(binary.BigEndian.Uint16(batch[51:])), pid >= 0
}

// addToTxn sends one partition to the coordinator as an
// AddPartitionsToTxn v5 from a partition leader and returns the
// partition's error, mapped to what producers handle.
func (h *Handler) addToTxn(ctx context.Context, txnID string, producerID int64, epoch int16, topic string, partition int32, verifyOnly bool) int16 {
	req := kmsg.NewPtrAddPartitionsToTxnRequest()
	req.Version = 5
	rt := kmsg.NewAddPartitionsToTxnRequestTransaction()
	rt.TransactionalID, rt.ProducerID, rt.ProducerEpoch, rt.VerifyOnly = txnID, producerID, epoch, verifyOnly
	rt.Topics = []kmsg.AddPartitionsToTxnRequestTransactionTopic{{Topic: topic, Partitions: []int32{partition}}}
	req.Transactions = []kmsg.AddPartitionsToTxnRequestTransaction{rt}
	deadline := time.Now().Add(addRetryMax)
	for {
		code := h.addOnce(ctx, req)
		if verifyOnly || code != kerr.ConcurrentTransactions.Code || time.Now().Add(addRetryBackoff).After(deadline) {
			return leaderVerifyCode(code)
		}
		select {
		case <-time.After(addRetryBackoff):
		case <-ctx.Done():
			return leaderVerifyCode(code)
		}
	}
}

// Kafka's add.partitions.to.txn.retry.backoff.ms and
// add.partitions.to.txn.retry.backoff.max.ms defaults.
const (
	addRetryBackoff = 20 * time.Millisecond
	addRetryMax     = 100 * time.Millisecond
)

// addOnce sends req and returns its first error.
func (h *Handler) addOnce(ctx context.Context, req *kmsg.AddPartitionsToTxnRequest) int16 {
	resp := h.deps.Transactions.AddPartitionsToTxn(ctx, req)
	code := resp.ErrorCode
	for _, t := range resp.Transactions {
		for _, rt := range t.Topics {
			for _, p := range rt.Partitions {
				if code == 0 {
					code = p.ErrorCode
				}
			}
		}
	}
	return code
}

// leaderVerifyCode maps a coordinator's answer as Kafka's partition leader
// does before it reaches the producer.
func leaderVerifyCode(code int16) int16 {
	switch code {
	case kerr.ProducerFenced.Code:
		return kerr.InvalidProducerEpoch.Code
	case kerr.ClusterAuthorizationFailed.Code:
		return kerr.InvalidTxnState.Code
	case kerr.ConcurrentTransactions.Code, kerr.NetworkException.Code, kerr.CoordinatorLoadInProgress.Code,
		kerr.CoordinatorNotAvailable.Code, kerr.NotCoordinator.Code, kerr.RequestTimedOut.Code:
		return kerr.NotEnoughReplicas.Code
	}
	return code
}
