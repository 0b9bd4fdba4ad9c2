package log

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/samsa-io/samsa/internal/record"
	"github.com/samsa-io/samsa/internal/vfs"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.UnixMilli(1_700_000_000_000)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// kv is a record for test batches; a nil value is a tombstone.
type kv struct {
	key, value []byte
	ts         int64
}

// batchOf builds a batch of records with timestamps ts, ts+1, ...
func batchOf(t testing.TB, ts int64, codec record.Compression, recs ...kv) []byte {
	t.Helper()
	rs := make([]record.Record, len(recs))
	for i, r := range recs {
		rts := r.ts
		if rts == 0 {
			rts = ts + int64(i)
		}
		rs[i] = record.Record{OffsetDelta: int32(i), TimestampDelta: rts - ts, Key: r.key, Value: r.value}
	}
	b, err := record.Build(record.BatchSpec{
		BaseTimestamp: ts, Compression: codec, ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1, LastOffsetDelta: -1,
	}, rs)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// valueBatch builds a batch of n keyless records of size bytes each.
func valueBatch(t testing.TB, ts int64, n, size int) []byte {
	t.Helper()
	recs := make([]kv, n)
	for i := range recs {
		recs[i] = kv{value: bytes.Repeat([]byte{byte('a' + i%26)}, size)}
	}
	return batchOf(t, ts, record.None, recs...)
}

func testConfig() Config {
	c := DefaultConfig()
	c.SegmentBytes = 4096
	c.IndexIntervalBytes = 256
	return c
}

func openLog(t testing.TB, fsys vfs.FS, cfg Config, clk *clock, opts ...func(*Options)) (*Log, RecoveryReport) {
	t.Helper()
	o := Options{Config: cfg}
	if clk != nil {
		o.Now = clk.Now
	}
	for _, f := range opts {
		f(&o)
	}
	l, rep, err := Open(fsys, "topic-0", o)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return l, rep
}

func mustAppend(t testing.TB, l *Log, b []byte) AppendResult {
	t.Helper()
	res, err := l.Append(b, 0)
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	return res
}

// readRecords reads the whole readable log and returns offset -> record.
type readRec struct {
	offset int64
	ts     int64
	key    []byte
	value  []byte
}

func readRecords(t testing.TB, l *Log) []readRec {
	t.Helper()
	var out []readRec
	for _, b := range readBatches(t, l) {
		h, err := record.Validate(b)
		if err != nil {
			t.Fatalf("served batch invalid: %v", err)
		}
		recs, err := record.Records(b, 1<<26)
		if err != nil {
			t.Fatal(err)
		}
		for i := range recs {
			out = append(out, readRec{recs[i].Offset(h.BaseOffset), recs[i].Timestamp(&h), recs[i].Key, recs[i].Value})
		}
	}
	return out
}

// readBatches reads every batch from the log start to the end.
func readBatches(t testing.TB, l *Log) [][]byte {
	t.Helper()
	var out [][]byte
	off := l.LogStartOffset()
	for off < l.LogEndOffset() {
		data, err := l.Read(off, 1<<20, -1, true)
		if err != nil {
			t.Fatalf("read at %d: %v", off, err)
		}
		if len(data) == 0 {
			t.Fatalf("no data at %d before the log end %d", off, l.LogEndOffset())
		}
		for len(data) > 0 {
			b, h, rest, err := record.Next(data)
			if err != nil {
				t.Fatalf("read at %d: %v", off, err)
			}
			out = append(out, b)
			off = h.NextOffset()
			data = rest
		}
	}
	return out
}

func key(i int) []byte { return []byte(fmt.Sprintf("k%03d", i)) }

// bootFS is the file system as one process run sees it: once the power is
// cut, the process is gone, so every later call from it fails. Without it
// a stale Log could create files on the "rebooted" MemFS.
type bootFS struct {
	vfs.FS
	dead atomic.Bool
}

var errPowerCut = errors.New("test: process died in the power cut")

func (b *bootFS) check() error {
	if b.dead.Load() {
		return errPowerCut
	}
	return nil
}

func (b *bootFS) Create(n string) (vfs.File, error) {
	if err := b.check(); err != nil {
		return nil, err
	}
	return b.FS.Create(n)
}

func (b *bootFS) OpenRW(n string) (vfs.File, error) {
	if err := b.check(); err != nil {
		return nil, err
	}
	return b.FS.OpenRW(n)
}

func (b *bootFS) Remove(n string) error {
	if err := b.check(); err != nil {
		return err
	}
	return b.FS.Remove(n)
}

func (b *bootFS) Rename(o, n string) error {
	if err := b.check(); err != nil {
		return err
	}
	return b.FS.Rename(o, n)
}

func (b *bootFS) SyncDir(d string) error {
	if err := b.check(); err != nil {
		return err
	}
	return b.FS.SyncDir(d)
}

// endOffset is the offset after the last batch in data.
func endOffset(tb testing.TB, data []byte) int64 {
	tb.Helper()
	var next int64
	for len(data) > 0 {
		_, h, rest, err := record.Next(data)
		if err != nil {
			tb.Fatal(err)
		}
		next, data = h.NextOffset(), rest
	}
	return next
}

// cutPowerAt makes the k-th mutating operation on fsys (reads and stats
// aside) cut the power: the process behind boot dies and fsys crashes. The
// returned counter says how many operations ran; fewer than k means the
// power stayed on.
func cutPowerAt(fsys *vfs.MemFS, boot *bootFS, k int) *int {
	calls := new(int)
	fsys.SetInjector(func(op vfs.Op, p string) error {
		if op == vfs.OpRead || op == vfs.OpStat {
			return nil
		}
		if *calls++; *calls == k {
			boot.dead.Store(true)
			fsys.Crash()
			return errPowerCut
		}
		return nil
	})
	return calls
}
