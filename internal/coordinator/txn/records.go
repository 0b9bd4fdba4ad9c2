package txn

// Records of __transaction_state, as Kafka 4.x writes them
// (TransactionLog.java): key version 0 (TransactionLogKey, the
// transactional id), value TransactionLogValue version 1 once
// transaction.version >= 1 (flexible, tagged fields) and 0 before
// (TransactionVersion.transactionLogValueVersion). kmsg.TxnMetadataKey and
// kmsg.TxnMetadataValue are the same schemas.
//
// Kafka writes the tagged ClientTransactionVersion (tag 2) and leaves
// PreviousProducerId (tag 0) and NextProducerId (tag 1) at their defaults,
// so a coordinator that loads a PrepareCommit of a transaction whose epoch
// overflowed forgets the producer id it promised. Samsa also writes tags 0
// and 1 (they are in Kafka's schema, so Kafka and kafka-dump-log decode
// them): a restart in the middle of such a commit still rotates to the
// promised producer id. Like Kafka, the last epoch is not stored: it is -1
// after a load.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/twmb/franz-go/pkg/kmsg"
)

const (
	keyVersion = 0
	noID       = int64(-1)
	noEpoch    = int16(-1)
)

// ErrUnknownRecord is returned by Replay for a record key of a version
// Samsa does not know; Kafka's loader skips such records ("a left over from
// an aborted upgrade"), and so should the runtime.
var ErrUnknownRecord = errors.New("txn: unknown __transaction_state record key version")

func txnKey(id string) []byte {
	k := kmsg.NewTxnMetadataKey()
	k.Version, k.TransactionalID = keyVersion, id
	return k.AppendTo(nil)
}

// record is t's TransactionLogValue, written at the cluster's
// transaction.version.
func (t *txnMeta) record(transactionVersion int16) Record {
	v := kmsg.NewTxnMetadataValue()
	if transactionVersion >= 1 {
		v.Version = 1
		v.PreviousProducerID, v.NextProducerID = t.prevProducerID, t.nextProducerID
		v.ClientTransactionVersion = t.tv
	}
	v.ProducerID, v.ProducerEpoch = t.producerID, t.epoch
	v.TimeoutMillis, v.State = t.timeoutMs, kmsg.TransactionState(t.state)
	v.LastUpdateTimestamp, v.StartTimestamp = t.updateMs, t.startMs
	if t.state != Empty { // Kafka writes a null partition list for Empty
		v.Topics = []kmsg.TxnMetadataValueTopic{}
		for _, topic := range t.topics() {
			vt := kmsg.NewTxnMetadataValueTopic()
			vt.Topic, vt.Partitions = topic, t.partitionsOf(topic)
			v.Topics = append(v.Topics, vt)
		}
	}
	return Record{Key: txnKey(t.id), Value: v.AppendTo(nil)}
}

func tombstone(id string) Record { return Record{Key: txnKey(id)} }

// topics returns the transaction's topics, sorted.
func (t *txnMeta) topics() []string {
	var ts []string
	for tp := range t.partitions {
		if !slices.Contains(ts, tp.Topic) {
			ts = append(ts, tp.Topic)
		}
	}
	slices.Sort(ts)
	return ts
}

func (t *txnMeta) partitionsOf(topic string) []int32 {
	ps := []int32{}
	for tp := range t.partitions {
		if tp.Topic == topic {
			ps = append(ps, tp.Partition)
		}
	}
	slices.Sort(ps)
	return ps
}

// sortedPartitions returns the transaction's partitions in order.
func (t *txnMeta) sortedPartitions() []TopicPartition {
	return sortPartitions(slices.Collect(maps.Keys(t.partitions)))
}

func sortPartitions(tps []TopicPartition) []TopicPartition {
	slices.SortFunc(tps, func(a, b TopicPartition) int {
		if a.Topic != b.Topic {
			if a.Topic < b.Topic {
				return -1
			}
			return 1
		}
		return int(a.Partition) - int(b.Partition)
	})
	return tps
}

// Replay applies one record of __transaction_state, read back at load.
// Tombstones delete. Call Loaded once every record is replayed.
func (s *Shard) Replay(key, value []byte) error {
	if len(key) < 2 {
		return fmt.Errorf("txn: record key of %d bytes", len(key))
	}
	if v := int16(binary.BigEndian.Uint16(key)); v != keyVersion {
		return fmt.Errorf("%w: %d", ErrUnknownRecord, v)
	}
	var k kmsg.TxnMetadataKey
	if err := k.ReadFrom(bytes.Clone(key)); err != nil {
		return fmt.Errorf("txn: transaction log key: %w", err)
	}
	if value == nil {
		delete(s.txns, k.TransactionalID)
		return nil
	}
	t, err := decodeValue(k.TransactionalID, bytes.Clone(value))
	if err != nil {
		return err
	}
	s.txns[t.id] = t
	return nil
}

// decodeValue rebuilds a transaction as Kafka's TransactionLog.read does.
func decodeValue(id string, value []byte) (*txnMeta, error) {
	var v kmsg.TxnMetadataValue
	if err := v.ReadFrom(value); err != nil {
		return nil, fmt.Errorf("txn: transaction log value of %q: %w", id, err)
	}
	if v.Version < 0 || v.Version > 1 {
		return nil, fmt.Errorf("txn: transaction log value of %q has unknown version %d", id, v.Version)
	}
	st := State(v.State)
	if st < Empty || st > PrepareEpochFence || st == Dead || st == PrepareEpochFence {
		return nil, fmt.Errorf("txn: transaction log value of %q has state %d", id, v.State)
	}
	t := &txnMeta{
		id: id, producerID: v.ProducerID, prevProducerID: v.PreviousProducerID, nextProducerID: v.NextProducerID,
		epoch: v.ProducerEpoch, lastEpoch: noEpoch, timeoutMs: v.TimeoutMillis, state: st,
		partitions: map[TopicPartition]struct{}{}, startMs: v.StartTimestamp, updateMs: v.LastUpdateTimestamp,
		tv: v.ClientTransactionVersion,
	}
	if st != Empty {
		for _, vt := range v.Topics {
			for _, p := range vt.Partitions {
				t.partitions[TopicPartition{Topic: vt.Topic, Partition: p}] = struct{}{}
			}
		}
	}
	return t, nil
}
