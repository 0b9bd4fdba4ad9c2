package log

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/samsa-io/samsa/internal/record"
	"github.com/samsa-io/samsa/internal/vfs"
)

func compactConfig() Config {
	c := DefaultConfig()
	c.Delete, c.Compact = false, true
	c.SegmentBytes = 1000
	c.IndexIntervalBytes = 128
	c.MinCleanableDirtyRatio = 0
	c.DeleteRetention = time.Hour
	return c
}

// keyedModel appends keyed records whose values name their offsets, and
// knows the latest value of each key.
type keyedModel struct {
	latest map[string][]byte // nil value: tombstone
}

func (m *keyedModel) append(t *testing.T, l *Log, ts int64, codec record.Compression, keys ...string) {
	t.Helper()
	next := l.LogEndOffset()
	recs := make([]kv, len(keys))
	for i, k := range keys {
		v := []byte(fmt.Sprintf("v%d", next+int64(i)))
		if k[0] == '-' { // "-key": a tombstone for key
			k, v = k[1:], nil
		}
		recs[i] = kv{key: []byte(k), value: v}
		if m.latest == nil {
			m.latest = map[string][]byte{}
		}
		m.latest[k] = v
	}
	mustAppend(t, l, batchOf(t, ts, codec, recs...))
}

// check reads the log and verifies that compaction kept offsets, values
// and the latest value of every key.
func (m *keyedModel) check(t *testing.T, l *Log) []readRec {
	t.Helper()
	got := readRecords(t, l)
	last := map[string][]byte{}
	prev := int64(-1)
	for _, r := range got {
		if r.offset <= prev {
			t.Fatalf("offset %d after %d", r.offset, prev)
		}
		prev = r.offset
		if r.value != nil && string(r.value) != fmt.Sprintf("v%d", r.offset) {
			t.Fatalf("record at %d holds %q: offsets moved", r.offset, r.value)
		}
		last[string(r.key)] = r.value
	}
	for k, v := range m.latest {
		lv, ok := last[k]
		if v == nil && ok && lv != nil {
			t.Fatalf("key %s: deleted, but the log says %q", k, lv)
		}
		if v != nil && !bytes.Equal(lv, v) {
			t.Fatalf("key %s: latest %q, log says %q", k, v, lv)
		}
	}
	return got
}

func TestCompactionKeepsLatestPerKey(t *testing.T) {
	fsys := vfs.NewMem()
	clk := newClock()
	l, _ := openLog(t, fsys, compactConfig(), clk)
	var m keyedModel
	codecs := []record.Compression{record.None, record.Zstd, record.LZ4, record.Gzip, record.Snappy}
	for i := 0; i < 60; i++ {
		m.append(t, l, int64(i), codecs[i%len(codecs)], fmt.Sprintf("k%d", (2*i)%10), fmt.Sprintf("k%d", (2*i+1)%10), fmt.Sprintf("k%d", (3*i)%10))
	}
	before := m.check(t, l)
	activeBefore, _ := fsys.ReadFile(segFile(l.active().base, logSuffix))
	segsBefore := len(l.SegmentBases())

	res, err := l.Clean()
	if err != nil || !res.Ran {
		t.Fatalf("clean: %+v %v", res, err)
	}
	after := m.check(t, l)
	activeAfter, _ := fsys.ReadFile(segFile(l.active().base, logSuffix))
	if !bytes.Equal(activeBefore, activeAfter) {
		t.Fatal("the active segment changed")
	}
	// In the cleaned range every key appears once, except keys whose last
	// record is in the active segment (not cleaned).
	activeBase := l.active().base
	seen := map[string]int{}
	for _, r := range after {
		if r.offset < activeBase {
			seen[string(r.key)]++
		}
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("key %s appears %d times in the cleaned segments", k, n)
		}
	}
	if len(after) >= len(before) || res.RecordsRemoved != len(before)-len(after) {
		t.Fatalf("%d records before, %d after, pass says it removed %d", len(before), len(after), res.RecordsRemoved)
	}
	// Every offset is still readable: a removed one reads as the next kept.
	for off := int64(0); off < l.LogEndOffset(); off++ {
		data, err := l.Read(off, 1, -1, true)
		if err != nil {
			t.Fatalf("read %d: %v", off, err)
		}
		_, h, _, err := record.Next(data)
		if err != nil || h.LastOffset() < off {
			t.Fatalf("read %d: batch ending at %d, %v", off, h.LastOffset(), err)
		}
	}
	// A second pass has nothing new to clean.
	if res, _ := l.Clean(); res.Ran {
		t.Fatalf("second pass ran with no dirty data: %+v", res)
	}
	// Groups are formed from the sizes before cleaning, as in Kafka, so the
	// shrunken segments merge on the next pass.
	for i, start := 0, l.active().base; l.active().base == start; i++ {
		m.append(t, l, 100, record.None, fmt.Sprintf("k%d", i%10), fmt.Sprintf("k%d", (i+1)%10))
	}
	if res, err := l.Clean(); err != nil || !res.Ran || res.SegmentsAfter >= res.SegmentsBefore {
		t.Fatalf("third pass %+v %v: cleaned segments were not merged", res, err)
	}
	if len(l.SegmentBases()) >= segsBefore {
		t.Fatalf("segments %d -> %d after merging", segsBefore, len(l.SegmentBases()))
	}
	after = m.check(t, l)
	cleaner := l.CleanerOffset()
	l.Close()
	l2, rep := openLog(t, fsys, compactConfig(), clk, func(o *Options) { o.RecoveryPoint = 0; o.CleanerOffset = cleaner })
	defer l2.Close()
	if again := m.check(t, l2); len(again) != len(after) || rep.TruncatedAt != -1 {
		t.Fatalf("reopen: %d records (was %d), report %+v", len(again), len(after), rep)
	}
}

func TestCompactionTombstones(t *testing.T) {
	for _, tc := range []struct {
		name     string
		wait     time.Duration
		wantGone bool
	}{
		{"kept within delete.retention.ms", 30 * time.Minute, false},
		{"dropped after delete.retention.ms", 2 * time.Hour, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			l, _ := openLog(t, vfs.NewMem(), compactConfig(), clk)
			defer l.Close()
			var m keyedModel
			now := func() int64 { return clk.Now().UnixMilli() }
			m.append(t, l, now(), record.None, "a", "b")
			m.append(t, l, now(), record.None, "-a")
			fill(t, &m, l, now, "x", 8)
			// First pass: the tombstone is dirty, so it stays; "a" goes.
			if res, err := l.Clean(); err != nil || !res.Ran || res.TombstonesRemoved != 0 {
				t.Fatalf("first pass %+v %v", res, err)
			}
			if n := countKey(t, l, "a"); n != 1 {
				t.Fatalf("after the first pass key a has %d records, want the tombstone only", n)
			}
			clk.Advance(tc.wait)
			fill(t, &m, l, now, "y", 8)
			res, err := l.Clean()
			if err != nil || !res.Ran {
				t.Fatalf("second pass %+v %v", res, err)
			}
			n := countKey(t, l, "a")
			if tc.wantGone != (n == 0) || (res.TombstonesRemoved == 1) != tc.wantGone {
				t.Fatalf("key a has %d records, pass removed %d tombstones; want gone=%v", n, res.TombstonesRemoved, tc.wantGone)
			}
			m.check(t, l)
		})
	}
}

// fill appends n batches of 4 records with fresh keys, enough to roll.
func fill(t *testing.T, m *keyedModel, l *Log, now func() int64, prefix string, n int) {
	for i := 0; i < n; i++ {
		m.append(t, l, now(), record.None, fmt.Sprintf("%s%d-0", prefix, i), fmt.Sprintf("%s%d-1", prefix, i), fmt.Sprintf("%s%d-2", prefix, i), fmt.Sprintf("%s%d-3", prefix, i))
	}
}

func countKey(t *testing.T, l *Log, k string) int {
	n := 0
	for _, r := range readRecords(t, l) {
		if string(r.key) == k {
			n++
		}
	}
	return n
}

func TestCompactionHonoursDirtyRatioAndLag(t *testing.T) {
	clk := newClock()
	cfg := compactConfig()
	cfg.MinCleanableDirtyRatio = 0.5
	l, _ := openLog(t, vfs.NewMem(), cfg, clk)
	defer l.Close()
	var m keyedModel
	now := func() int64 { return clk.Now().UnixMilli() }
	fill(t, &m, l, now, "u", 30) // unique keys: all survive cleaning
	if res, _ := l.Clean(); !res.Ran || res.DirtyRatio != 1 {
		t.Fatalf("all-dirty log: %+v", res)
	}
	// One more sealed segment of dirty data is well below 50%.
	fill(t, &m, l, now, "z", 9)
	if res, _ := l.Clean(); res.Ran || res.DirtyRatio >= 0.5 || res.DirtyRatio <= 0 {
		t.Fatalf("ratio below min.cleanable.dirty.ratio, yet: %+v", res)
	}
	// min.compaction.lag.ms keeps young segments out of the pass.
	cfg.MinCleanableDirtyRatio = 0
	cfg.MinCompactionLag = time.Hour
	if err := l.SetConfig(cfg); err != nil {
		t.Fatal(err)
	}
	if res, _ := l.Clean(); res.Ran {
		t.Fatalf("cleaned records younger than min.compaction.lag.ms: %+v", res)
	}
	clk.Advance(2 * time.Hour)
	fill(t, &m, l, now, "w", 9)
	if res, _ := l.Clean(); !res.Ran {
		t.Fatalf("old enough segments were not cleaned: %+v", res)
	}
	m.check(t, l)
}

// TestCompactionSwapIsCrashSafe cuts the power at every file-system
// operation of a cleaning pass in turn; after recovery the log must read as
// either the cleaned or the uncleaned log, never lose a key's latest value
// and never repeat or move an offset.
func TestCompactionSwapIsCrashSafe(t *testing.T) {
	swaps := 0
	for k := 1; ; k++ {
		fsys := vfs.NewMem()
		boot := &bootFS{FS: fsys}
		clk := newClock()
		l, _ := openLog(t, boot, compactConfig(), clk)
		var m keyedModel
		for i := 0; i < 40; i++ {
			m.append(t, l, int64(i), record.Zstd, fmt.Sprintf("k%d", i%7), fmt.Sprintf("k%d", (i+3)%7), fmt.Sprintf("u%d", i))
		}
		calls := cutPowerAt(fsys, boot, k)
		_, cleanErr := l.Clean()
		fsys.SetInjector(nil)
		if *calls < k {
			if cleanErr != nil {
				t.Fatal(cleanErr)
			}
			if swaps == 0 {
				t.Fatal("no crash left a swap for recovery to finish")
			}
			t.Logf("cut the power at each of %d operations of a pass: recovery finished %d swaps", k-1, swaps)
			return
		}
		l2, rep := openLog(t, fsys, compactConfig(), clk)
		swaps += len(rep.CompletedSwaps)
		got := m.check(t, l2)
		if len(got) == 0 || l2.LogEndOffset() != 120 {
			t.Fatalf("crash at op %d: %d records, log end %d (report %+v)", k, len(got), l2.LogEndOffset(), rep)
		}
		l2.Close()
	}
}

// TestRecoveryRemovesLeftovers: files of interrupted operations are
// deleted at open and reported.
func TestRecoveryRemovesLeftovers(t *testing.T) {
	fsys := vfs.NewMem()
	l, _ := openLog(t, fsys, compactConfig(), newClock())
	for i := 0; i < 10; i++ {
		mustAppend(t, l, valueBatch(t, 1, 4, 100))
	}
	l.Close()
	junk := []string{
		segmentName("topic-0", 0, logSuffix+cleanedSuffix), // a half-written cleaned segment
		segmentName("topic-0", 999, indexSuffix),           // an index without a log
		"topic-0/" + epochCheckpointName + tmpSuffix,       // a checkpoint being written
	}
	for _, j := range junk {
		if err := fsys.WriteFile(j, []byte("junk")); err != nil {
			t.Fatal(err)
		}
	}
	l2, rep := openLog(t, fsys, compactConfig(), newClock())
	defer l2.Close()
	if len(rep.RemovedFiles) != len(junk) {
		t.Fatalf("removed %v, want the %d leftovers", rep.RemovedFiles, len(junk))
	}
	for _, j := range junk {
		if _, err := fsys.Stat(j); !vfs.IsNotExist(err) {
			t.Fatalf("%s still there: %v", j, err)
		}
	}
	if l2.LogEndOffset() != 40 {
		t.Fatalf("log end %d, want 40", l2.LogEndOffset())
	}
}
