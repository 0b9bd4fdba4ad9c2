package log

import (
	"errors"
	"strings"
	"testing"

	"github.com/samsa-io/samsa/internal/vfs"
)

// openTestDir opens a log directory of 1000-byte segments on fsys.
func openTestDir(t *testing.T, fsys vfs.FS) (*Dir, DirOptions) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.SegmentBytes = 1000
	opts := DirOptions{Config: func(TopicPartition) Config { return cfg }}
	d, _, err := OpenDir(fsys, "data", opts)
	if err != nil {
		t.Fatal(err)
	}
	return d, opts
}

func TestDirCheckpointsAcrossRestarts(t *testing.T) {
	fsys := vfs.NewMem()
	d, opts := openTestDir(t, fsys)
	tps := []TopicPartition{{"orders", 0}, {"orders", 1}, {"my-topic", 12}}
	for i, tp := range tps {
		l, err := d.Create(tp)
		if err != nil {
			t.Fatal(err)
		}
		for j := 0; j < 5*(i+1); j++ {
			mustAppend(t, l, valueBatch(t, 1, 4, 100))
		}
	}
	if _, err := d.Create(tps[0]); !errors.Is(err, ErrExists) {
		t.Fatalf("second create: %v", err)
	}
	if err := d.DeleteRecords(tps[1], 9); err != nil {
		t.Fatal(err)
	}
	// The log start is durable at once: a crash now keeps it.
	fsys.Crash()
	d2, rep, err := OpenDir(fsys, "data", opts)
	if err != nil || len(rep.Failed) != 0 || len(rep.Recovered) != 3 {
		t.Fatalf("reopen after crash: %v %+v", err, rep)
	}
	if l := d2.Log(tps[1]); l.LogStartOffset() != 9 || l.LogEndOffset() != 40 {
		t.Fatalf("orders-1 [%d, %d), want [9, 40)", l.LogStartOffset(), l.LogEndOffset())
	}
	if l := d2.Log(tps[2]); l.LogEndOffset() != 60 {
		t.Fatalf("my-topic-12 ends at %d, want 60", l.LogEndOffset())
	}
	// After a clean close the recovery points cover everything, so only the
	// active segments are rescanned; the high watermarks the replica layer
	// recorded come back.
	d2.Log(tps[2]).SetHighWatermark(42)
	if err := d2.Close(); err != nil {
		t.Fatal(err)
	}
	data, _ := fsys.ReadFile("data/" + recoveryPointFile)
	if !strings.Contains(string(data), "my-topic 12 60\n") || !strings.HasPrefix(string(data), "0\n3\n") {
		t.Fatalf("recovery-point checkpoint:\n%s", data)
	}
	d3, rep, err := OpenDir(fsys, "data", opts)
	if err != nil {
		t.Fatal(err)
	}
	if hw := d3.Log(tps[2]).HighWatermark(); hw != 42 {
		t.Errorf("my-topic-12's checkpointed high watermark %d, want 42", hw)
	}
	if hw := d3.Log(tps[0]).HighWatermark(); hw != 0 {
		t.Errorf("orders-0's high watermark %d, never recorded, want 0", hw)
	}
	for tp, r := range rep.Recovered {
		if r.Scanned != 1 {
			t.Errorf("%v: rescanned %d segments after a clean shutdown", tp, r.Scanned)
		}
	}
}

func TestDirIsolatesACorruptPartition(t *testing.T) {
	fsys := vfs.NewMem()
	d, opts := openTestDir(t, fsys)
	good, bad := TopicPartition{"good", 0}, TopicPartition{"bad", 0}
	for _, tp := range []TopicPartition{good, bad} {
		l, _ := d.Create(tp)
		for j := 0; j < 10; j++ {
			mustAppend(t, l, valueBatch(t, 1, 4, 100))
		}
	}
	// Damage a middle segment of "bad" and lose the checkpoints, so that
	// recovery rescans it.
	if err := fsys.FlipBit("data/bad-0/00000000000000000000.log", 100, 2); err != nil {
		t.Fatal(err)
	}
	fsys.Crash()
	d2, rep, err := OpenDir(fsys, "data", opts)
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(rep.Failed[bad], ErrCorrupt) || d2.Log(bad) != nil {
		t.Fatalf("bad partition: %v", rep.Failed[bad])
	}
	if l := d2.Log(good); l == nil || l.LogEndOffset() != 40 {
		t.Fatal("the healthy partition did not open")
	}
	if err := d2.Delete(good); err != nil {
		t.Fatal(err)
	}
	if _, err := fsys.Stat("data/good-0"); !vfs.IsNotExist(err) {
		t.Fatalf("deleted partition still on disk: %v", err)
	}
}

func TestPartitionMetadataRecordsTheTopicID(t *testing.T) {
	fsys := vfs.NewMem()
	d, _, err := OpenDir(fsys, "data", DirOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tp := TopicPartition{Topic: "a", Partition: 0}
	if _, err := d.Create(tp); err != nil {
		t.Fatal(err)
	}
	if id, err := d.TopicID(tp); id != "" || err != nil {
		t.Fatalf("fresh log: %q %v", id, err)
	}
	if err := d.SetTopicID(tp, "AAAAAAAAAAAAAAAAAAAAAQ"); err != nil {
		t.Fatal(err)
	}
	d.Close()
	fsys.Crash()
	d, _, err = OpenDir(fsys, "data", DirOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if id, err := d.TopicID(tp); id != "AAAAAAAAAAAAAAAAAAAAAQ" || err != nil {
		t.Fatalf("after crash: %q %v", id, err)
	}
	if _, err := d.TopicID(TopicPartition{Topic: "b"}); err == nil {
		t.Fatal("no error for a missing partition")
	}
}
