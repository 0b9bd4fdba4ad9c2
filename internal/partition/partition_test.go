package partition

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/samsa-io/samsa/internal/log"
	"github.com/samsa-io/samsa/internal/metadata"
	"github.com/samsa-io/samsa/internal/record"
	"github.com/samsa-io/samsa/internal/vfs"
)

const node = 1

// logConfig reads retention.ms overrides from the image, as the broker's
// catalog-driven function does, so tests see configs reach live logs.
func logConfig(im *metadata.Image, topic string) log.Config {
	c := log.DefaultConfig()
	if v, ok := im.TopicConfigs(topic)["retention.ms"]; ok {
		ms, _ := strconv.ParseInt(v, 10, 64)
		c.Retention = time.Duration(ms) * time.Millisecond
	}
	return c
}

type fixture struct {
	t    *testing.T
	fsys *vfs.MemFS
	dir  *log.Dir
	m    *Manager
	im   *metadata.Image
	idx  uint64
}

func newFixture(t *testing.T, fsys *vfs.MemFS) *fixture {
	t.Helper()
	d, _, err := log.OpenDir(fsys, "data", log.DirOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return &fixture{t: t, fsys: fsys, dir: d, m: NewManager(Config{NodeID: node, Dir: d, LogConfig: logConfig}), im: metadata.Empty()}
}

func (f *fixture) apply(recs ...metadata.Record) {
	f.t.Helper()
	f.idx++
	next, err := f.im.Apply(f.idx, recs)
	if err != nil {
		f.t.Fatal(err)
	}
	old := f.im
	f.im = next
	f.m.Apply(old, next)
}

func topic(name string, id metadata.UUID, replicas ...[]int32) []metadata.Record {
	recs := []metadata.Record{{Topic: &metadata.TopicRecord{Name: name, ID: id}}}
	for i, r := range replicas {
		recs = append(recs, metadata.Record{Partition: &metadata.PartitionRecord{
			TopicID: id, Partition: int32(i), Replicas: r, ISR: r, Leader: r[0], LeaderEpoch: 3}})
	}
	return recs
}

func batch(t *testing.T, ts int64, values ...string) []byte {
	t.Helper()
	recs := make([]record.Record, len(values))
	for i, v := range values {
		recs[i] = record.Record{OffsetDelta: int32(i), TimestampDelta: int64(i), Value: []byte(v)}
	}
	b, err := record.Build(record.BatchSpec{BaseTimestamp: ts, MaxTimestamp: ts, LastOffsetDelta: -1, ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1}, recs)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestManagerFollowsTheImage(t *testing.T) {
	f := newFixture(t, vfs.NewMem())
	a, b := metadata.NewUUID(), metadata.NewUUID()
	f.apply(topic("a", a, []int32{1}, []int32{1})...)
	if len(f.m.Partitions()) != 0 {
		t.Fatal("acted before Start (during replay)")
	}
	f.m.Start(f.im)
	f.apply(topic("b", b, []int32{2}, []int32{2, 1})...)
	var got []string
	for _, p := range f.m.Partitions() {
		got = append(got, p.TP.DirName())
	}
	if want := "[a-0 a-1 b-1]"; fmtList(got) != want {
		t.Fatalf("hosted %v, want %s", got, want)
	}
	p, err := f.m.Get("b", 1)
	if err != nil || p.IsLeader() || p.LeaderEpoch() != 3 {
		t.Fatalf("b-1: %v leader %v", err, p != nil && p.IsLeader())
	}
	if _, err := f.m.Get("b", 0); !errors.Is(err, ErrUnknown) {
		t.Fatalf("b-0: %v", err)
	}
	// A config change reaches the live log.
	v := "1000"
	f.apply(metadata.Record{Config: &metadata.ConfigRecord{ResourceType: metadata.ResourceTopic, ResourceName: "a", Name: "retention.ms", Value: &v}})
	pa, _ := f.m.Get("a", 0)
	if pa.Log().Config().Retention != time.Second {
		t.Fatalf("retention %v", pa.Log().Config().Retention)
	}
	// Deleting a topic deletes its logs.
	f.apply(metadata.Record{RemoveTopic: &metadata.RemoveTopicRecord{ID: a}})
	if _, err := f.m.Get("a", 0); !errors.Is(err, ErrUnknown) || len(f.dir.Partitions()) != 1 {
		t.Fatalf("a still hosted: %v, logs %v", err, f.dir.Partitions())
	}
}

func fmtList(s []string) string {
	out := "["
	for i, v := range s {
		if i > 0 {
			out += " "
		}
		out += v
	}
	return out + "]"
}

func TestAppendCommitReadAndWake(t *testing.T) {
	f := newFixture(t, vfs.NewMem())
	f.m.Start(f.im)
	f.apply(topic("a", metadata.NewUUID(), []int32{1})...)
	p, _ := f.m.Get("a", 0)
	woken := make(chan struct{}, 1)
	cancel := p.Watch(func() { woken <- struct{}{} })
	defer cancel()
	res, err := p.Append(batch(t, 1000, "x", "y"))
	next := res.Next
	if err != nil || res.BaseOffset != 0 || next != 2 {
		t.Fatalf("append %+v %v", res, err)
	}
	if r, _ := p.Read(0, 1<<20, true); r.Records != nil || r.HighWatermark != 0 {
		t.Fatal("uncommitted data visible")
	}
	if err := p.Commit(next); err != nil {
		t.Fatal(err)
	}
	select {
	case <-woken:
	default:
		t.Fatal("waiter not woken")
	}
	r, err := p.Read(0, 1<<20, true)
	if err != nil || r.HighWatermark != 2 || len(r.Records) == 0 {
		t.Fatalf("read %+v %v", r, err)
	}
	h, _ := record.ParseHeader(r.Records)
	if h.PartitionLeaderEpoch != 3 || h.BaseOffset != 0 {
		t.Fatalf("batch header %+v", h)
	}
	if _, err := p.Read(3, 100, true); !errors.Is(err, ErrOutOfRange) {
		t.Fatalf("past end: %v", err)
	}
	if r, err := p.Read(2, 100, true); err != nil || r.Records != nil {
		t.Fatalf("at end: %v", err)
	}
	p.Append(batch(t, 5000, "z"))
	p.Commit(3)
	for _, c := range []struct {
		ts   int64
		want int64
	}{{Earliest, 0}, {Latest, 3}, {MaxTimestamp, 2}, {1000, 0}, {1001, 1}, {1002, 2}, {6000, -1}} {
		got, err := p.ListOffset(c.ts, false)
		if err != nil || got.Offset != c.want {
			t.Errorf("ListOffset(%d) = %+v %v, want %d", c.ts, got, err, c.want)
		}
	}
	if e, end := p.EndOffsetForEpoch(3); e != 3 || end != 3 {
		t.Fatalf("epoch end %d %d", e, end)
	}
	if p.CheckEpoch(2) != ErrFenced || p.CheckEpoch(4) != ErrStaleEpoch || p.CheckEpoch(-1) != nil {
		t.Fatal("epoch checks")
	}
}

func TestNotLeaderCannotAppend(t *testing.T) {
	f := newFixture(t, vfs.NewMem())
	f.m.Start(f.im)
	f.apply(topic("a", metadata.NewUUID(), []int32{2, 1})...)
	p, _ := f.m.Get("a", 0)
	if _, err := p.Append(batch(t, 1, "x")); err != ErrNotLeader {
		t.Fatalf("follower append: %v", err)
	}
}

// A topic deleted and recreated under the same name while the broker was
// down: at start the old log is replaced, and a deleted topic's log goes.
func TestStartReplacesLogsOfOlderTopics(t *testing.T) {
	fsys := vfs.NewMem()
	f := newFixture(t, fsys)
	f.m.Start(f.im)
	oldA, gone := metadata.NewUUID(), metadata.NewUUID()
	f.apply(topic("a", oldA, []int32{1})...)
	f.apply(topic("gone", gone, []int32{1})...)
	p, _ := f.m.Get("a", 0)
	res, _ := p.Append(batch(t, 1, "old"))
	p.Commit(res.Next)
	f.dir.Close()

	// The metadata log, replayed at the next start, ends with "a" recreated
	// and "gone" deleted.
	g := newFixture(t, fsys)
	newA := metadata.NewUUID()
	g.apply(topic("a", oldA, []int32{1})...)
	g.apply(topic("gone", gone, []int32{1})...)
	g.apply(metadata.Record{RemoveTopic: &metadata.RemoveTopicRecord{ID: oldA}}, metadata.Record{RemoveTopic: &metadata.RemoveTopicRecord{ID: gone}})
	g.apply(topic("a", newA, []int32{1})...)
	g.m.Start(g.im)
	p, err := g.m.Get("a", 0)
	if err != nil || p.TopicID != newA || p.Log().LogEndOffset() != 0 {
		t.Fatalf("recreated a: %v, end %d", err, p.Log().LogEndOffset())
	}
	if tps := g.dir.Partitions(); len(tps) != 1 {
		t.Fatalf("logs left: %v", tps)
	}
}

// The same, when nothing changed: the log is kept with its data.
func TestStartKeepsLogsOfTheSameTopic(t *testing.T) {
	fsys := vfs.NewMem()
	f := newFixture(t, fsys)
	f.m.Start(f.im)
	id := metadata.NewUUID()
	f.apply(topic("a", id, []int32{1})...)
	p, _ := f.m.Get("a", 0)
	res, _ := p.Append(batch(t, 1, "kept"))
	p.Commit(res.Next)
	f.dir.Close()
	g := newFixture(t, fsys)
	g.apply(topic("a", id, []int32{1})...)
	g.m.Start(g.im)
	p, _ = g.m.Get("a", 0)
	if p.HighWatermark() != 1 {
		t.Fatalf("hw %d after restart", p.HighWatermark())
	}
}

func TestAppendErrorsCarryKafkaCodes(t *testing.T) {
	f := newFixture(t, vfs.NewMem())
	f.m.Start(f.im)
	f.apply(topic("a", metadata.NewUUID(), []int32{1})...)
	p, _ := f.m.Get("a", 0)
	good := batch(t, 1, "x")
	bad := append([]byte(nil), good...)
	bad[len(bad)-1] ^= 1
	magic1 := append([]byte(nil), good...)
	magic1[16] = 1
	big := batch(t, 1, string(make([]byte, 2<<20)))
	for name, c := range map[string]struct {
		b    []byte
		want *kerr.Error
	}{
		"crc": {bad, kerr.CorruptMessage}, "magic 1": {magic1, kerr.InvalidRecord},
		"too large": {big, kerr.MessageTooLarge}, "truncated": {good[:30], kerr.CorruptMessage},
	} {
		if _, err := p.Append(c.b); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
}
