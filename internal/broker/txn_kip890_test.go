package broker_test

// KIP-890 on the partition leader, with raw requests at pinned versions
// against a live node: ApiVersions advertises transaction.version 2; a
// transactional Produce v12+ adds its partition to the transaction itself
// (part 2); an older Produce for a partition not in the transaction is
// refused (part 1: TRANSACTION_ABORTABLE at v11, INVALID_TXN_STATE below);
// an idempotent write from a producer with a transaction open is
// INVALID_TXN_STATE; TxnOffsetCommit v5 adds the group's offsets partition.

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/internal/record"
)

// initTxn creates __transaction_state through FindCoordinator and returns
// the producer id and epoch of a new transactional id.
func initTxn(t *testing.T, e *env, id string) (int64, int16) {
	t.Helper()
	fc := kmsg.NewPtrFindCoordinatorRequest()
	fc.CoordinatorType, fc.CoordinatorKey = 1, id
	init := kmsg.NewPtrInitProducerIDRequest()
	init.TransactionalID, init.TransactionTimeoutMillis = kmsg.StringPtr(id), 60000
	for deadline := time.Now().Add(20 * time.Second); ; {
		fr := kmsg.NewPtrFindCoordinatorResponse()
		call(t, e, fc, 3, fr)
		ir := kmsg.NewPtrInitProducerIDResponse()
		if fr.ErrorCode == 0 {
			call(t, e, init, 5, ir)
			if ir.ErrorCode == 0 {
				return ir.ProducerID, ir.ProducerEpoch
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no transaction coordinator: find %d, init %d", fr.ErrorCode, ir.ErrorCode)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// produceBatch sends one batch of one record at a pinned Produce version
// and returns the partition's error.
func produceBatch(t *testing.T, e *env, version int16, txnID *string, topic string, partition int32, spec record.BatchSpec) int16 {
	t.Helper()
	batch, err := record.Build(spec, []record.Record{{Value: []byte("v")}})
	if err != nil {
		t.Fatal(err)
	}
	req := kmsg.NewPtrProduceRequest()
	req.TransactionID, req.Acks, req.TimeoutMillis = txnID, -1, 5000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Partition, rp.Records = partition, batch
	rt.Partitions = []kmsg.ProduceRequestTopicPartition{rp}
	req.Topics = []kmsg.ProduceRequestTopic{rt}
	resp := kmsg.NewPtrProduceResponse()
	call(t, e, req, version, resp)
	return resp.Topics[0].Partitions[0].ErrorCode
}

func describeTxn(t *testing.T, e *env, id string) kmsg.DescribeTransactionsResponseTransactionState {
	t.Helper()
	dr := kmsg.NewPtrDescribeTransactionsRequest()
	dr.TransactionalIDs = []string{id}
	d := kmsg.NewPtrDescribeTransactionsResponse()
	call(t, e, dr, 0, d)
	return d.TransactionStates[0]
}

func TestApiVersionsAdvertisesTransactionVersion2(t *testing.T) {
	e := newEnv(t)
	// ApiVersions' response header is never flexible: ask through the client.
	resp, err := kmsg.NewPtrApiVersionsRequest().RequestWith(context.Background(), e.cl)
	if err != nil {
		t.Fatal(err)
	}
	if resp.FinalizedFeaturesEpoch < 0 {
		t.Fatalf("FinalizedFeaturesEpoch %d: clients ignore the finalized features", resp.FinalizedFeaturesEpoch)
	}
	i := slices.IndexFunc(resp.FinalizedFeatures, func(f kmsg.ApiVersionsResponseFinalizedFeature) bool { return f.Name == "transaction.version" })
	if i < 0 || resp.FinalizedFeatures[i].MaxVersionLevel != 2 {
		t.Fatalf("finalized features %+v: want transaction.version 2", resp.FinalizedFeatures)
	}
	j := slices.IndexFunc(resp.SupportedFeatures, func(f kmsg.ApiVersionsResponseSupportedFeature) bool { return f.Name == "transaction.version" })
	if j < 0 || resp.SupportedFeatures[j].MinVersion != 0 || resp.SupportedFeatures[j].MaxVersion != 2 {
		t.Fatalf("supported features %+v: want transaction.version 0-2", resp.SupportedFeatures)
	}
}

func TestProduceVerifiesOrAddsItsPartitionToTheTransaction(t *testing.T) {
	e := newEnv(t)
	e.create("k890", 3, nil)
	const id = "tx-890"
	pid, epoch := initTxn(t, e, id)
	txnID := kmsg.StringPtr(id)
	spec := func(seq int32, transactional bool) record.BatchSpec {
		return record.BatchSpec{ProducerID: pid, ProducerEpoch: epoch, BaseSequence: seq, Transactional: transactional, LastOffsetDelta: -1, BaseTimestamp: time.Now().UnixMilli()}
	}
	// KIP-890 part 1: a client of transactions v1 must have added the
	// partition; nothing was added, so older Produce versions are refused.
	if code := produceBatch(t, e, 11, txnID, "k890", 0, spec(0, true)); code != kerr.TransactionAbortable.Code {
		t.Fatalf("Produce v11 to a partition not in the transaction: %v, want TRANSACTION_ABORTABLE", kerr.ErrorForCode(code))
	}
	if code := produceBatch(t, e, 10, txnID, "k890", 0, spec(0, true)); code != kerr.InvalidTxnState.Code {
		t.Fatalf("Produce v10 to a partition not in the transaction: %v, want INVALID_TXN_STATE", kerr.ErrorForCode(code))
	}
	if s := describeTxn(t, e, id); s.State != "Empty" || len(s.Topics) != 0 {
		t.Fatalf("after refused produces: %+v, want Empty with no partitions", s)
	}
	// KIP-890 part 2: Produce v12 adds partition 1 itself and starts the
	// transaction.
	if code := produceBatch(t, e, 12, txnID, "k890", 1, spec(0, true)); code != 0 {
		t.Fatalf("Produce v12: %v", kerr.ErrorForCode(code))
	}
	s := describeTxn(t, e, id)
	if s.State != "Ongoing" || len(s.Topics) != 1 || !slices.Equal(s.Topics[0].Partitions, []int32{1}) {
		t.Fatalf("after Produce v12: %+v, want Ongoing with k890[1]", s)
	}
	// The partition is in the transaction now: v11 passes verification.
	if code := produceBatch(t, e, 11, txnID, "k890", 1, spec(1, true)); code != 0 {
		t.Fatalf("Produce v11 to a partition in the transaction: %v", kerr.ErrorForCode(code))
	}
	// An idempotent write of the same producer while its transaction is
	// open is refused, as Kafka's ProducerAppendInfo does.
	if code := produceBatch(t, e, 11, nil, "k890", 1, spec(2, false)); code != kerr.InvalidTxnState.Code {
		t.Fatalf("idempotent Produce during the transaction: %v, want INVALID_TXN_STATE", kerr.ErrorForCode(code))
	}
	// TxnOffsetCommit v5 adds the group's partition of __consumer_offsets
	// without AddOffsetsToTxn.
	tc := kmsg.NewPtrTxnOffsetCommitRequest()
	tc.TransactionalID, tc.Group, tc.ProducerID, tc.ProducerEpoch, tc.Generation = id, "g890", pid, epoch, -1
	tp := kmsg.NewTxnOffsetCommitRequestTopicPartition()
	tp.Partition, tp.Offset = 1, 1
	tc.Topics = []kmsg.TxnOffsetCommitRequestTopic{{Topic: "k890", Partitions: []kmsg.TxnOffsetCommitRequestTopicPartition{tp}}}
	tr := kmsg.NewPtrTxnOffsetCommitResponse()
	call(t, e, tc, 5, tr)
	if code := tr.Topics[0].Partitions[0].ErrorCode; code != 0 {
		t.Fatalf("TxnOffsetCommit v5: %v", kerr.ErrorForCode(code))
	}
	s = describeTxn(t, e, id)
	if !slices.ContainsFunc(s.Topics, func(t kmsg.DescribeTransactionsResponseTransactionStateTopic) bool {
		return t.Topic == "__consumer_offsets"
	}) {
		t.Fatalf("after TxnOffsetCommit v5: %+v, want the group's __consumer_offsets partition in the transaction", s)
	}
	// The transaction commits with EndTxn v5, bumping the epoch.
	end := kmsg.NewPtrEndTxnRequest()
	end.TransactionalID, end.ProducerID, end.ProducerEpoch, end.Commit = id, pid, epoch, true
	er := kmsg.NewPtrEndTxnResponse()
	call(t, e, end, 5, er)
	if er.ErrorCode != 0 || er.ProducerEpoch != epoch+1 {
		t.Fatalf("EndTxn v5: %v epoch %d", kerr.ErrorForCode(er.ErrorCode), er.ProducerEpoch)
	}
}
