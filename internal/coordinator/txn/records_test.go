package txn

import (
	"bytes"
	"encoding/hex"
	"testing"
)

// The bytes Kafka's TransactionLog writes (TransactionLogKey v0 and
// TransactionLogValue v1, flexible), worked out from its JSON schemas: the
// key is the int16 version 0 and the id as a STRING; the value is version
// 1, producer id, epoch, timeout, state, a compact nullable partition
// array (null for Empty), last update and start timestamps, then tagged
// fields: 0 PreviousProducerId, 1 NextProducerId, 2 ClientTransactionVersion.
func TestRecordBytesMatchKafka(t *testing.T) {
	tx := &txnMeta{id: "t", producerID: 1000, prevProducerID: 1000, nextProducerID: -1, epoch: 3, timeoutMs: 60000,
		state: Ongoing, partitions: map[TopicPartition]struct{}{{"a", 1}: {}}, startMs: 5, updateMs: 6, tv: 2}
	r := tx.record(2)
	if got := hex.EncodeToString(r.Key); got != "0000000174" {
		t.Fatalf("key %s", got)
	}
	want := "0001" + "00000000000003e8" + "0003" + "0000ea60" + "01" +
		"02" + "0261" + "02" + "00000001" + "00" + // one topic "a", partitions [1], no tags
		"0000000000000006" + "0000000000000005" +
		"02" + "00" + "08" + "00000000000003e8" + "02" + "02" + "0002" // tags 0 and 2
	if got := hex.EncodeToString(r.Value); got != want {
		t.Fatalf("value\n got %s\nwant %s", got, want)
	}
	// Value version 0 (transaction.version 0): no tags, a plain nullable array.
	tx.state, tx.partitions = Empty, map[TopicPartition]struct{}{}
	v0 := tx.record(0).Value
	if want := "0000" + "00000000000003e8" + "0003" + "0000ea60" + "00" + "ffffffff" + "0000000000000006" + "0000000000000005"; hex.EncodeToString(v0) != want {
		t.Fatalf("v0 value %x", v0)
	}
	// Round trip through Replay.
	s := NewShard(DefaultConfig(), 0)
	tx.state, tx.partitions, tx.nextProducerID = PrepareCommit, map[TopicPartition]struct{}{{"a", 1}: {}, {"b", 0}: {}}, 2000
	rec := tx.record(2)
	if err := s.Replay(rec.Key, rec.Value); err != nil {
		t.Fatal(err)
	}
	got := s.txns["t"]
	if persisted(got) != persisted(tx) || len(got.partitions) != 2 || got.lastEpoch != noEpoch {
		t.Fatalf("replayed %+v, want %+v", persisted(got), persisted(tx))
	}
	if err := s.Replay(rec.Key, nil); err != nil || s.txns["t"] != nil {
		t.Fatalf("tombstone: %v", err)
	}
	if err := s.Replay([]byte{0, 9, 0, 0}, rec.Value); err == nil || !bytes.Contains([]byte(err.Error()), []byte("unknown")) {
		t.Fatalf("unknown key version: %v", err)
	}
}
