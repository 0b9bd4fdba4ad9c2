package log

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/samsa-io/samsa/internal/record"
	"github.com/samsa-io/samsa/internal/vfs"
)

func TestAppendAssignsOffsetsAndEpochInPlace(t *testing.T) {
	l, _ := openLog(t, vfs.NewMem(), testConfig(), newClock())
	defer l.Close()
	for i, n := range []int{3, 1, 5} {
		b := valueBatch(t, 1000, n, 10)
		crc := b[17:21:21]
		crcBefore := append([]byte(nil), crc...)
		res, err := l.Append(b, 7)
		if err != nil {
			t.Fatal(err)
		}
		want := []int64{0, 3, 4}[i]
		if res.BaseOffset != want || res.LastOffset != want+int64(n)-1 {
			t.Fatalf("batch %d: offsets [%d, %d], want [%d, %d]", i, res.BaseOffset, res.LastOffset, want, want+int64(n)-1)
		}
		h, err := record.Validate(b)
		if err != nil {
			t.Fatalf("rewritten batch no longer valid: %v", err)
		}
		if h.BaseOffset != want || h.PartitionLeaderEpoch != 7 || !bytes.Equal(crcBefore, crc) {
			t.Fatalf("header after append: base %d epoch %d crc changed %v", h.BaseOffset, h.PartitionLeaderEpoch, !bytes.Equal(crcBefore, crc))
		}
	}
	if l.LogEndOffset() != 9 {
		t.Fatalf("log end %d, want 9", l.LogEndOffset())
	}
	if got := l.Epochs(); len(got) != 1 || got[0] != (EpochEntry{7, 0}) {
		t.Fatalf("epochs %v", got)
	}
}

func TestAppendRejects(t *testing.T) {
	cfg := testConfig()
	cfg.MaxMessageBytes = 500
	l, _ := openLog(t, vfs.NewMem(), cfg, newClock())
	defer l.Close()
	good := valueBatch(t, 1, 2, 10)
	badCRC := append([]byte(nil), good...)
	badCRC[len(badCRC)-1] ^= 1
	v1 := append([]byte(nil), good...)
	v1[16] = 1
	for _, tc := range []struct {
		name  string
		batch []byte
		want  error
	}{
		{"crc", badCRC, record.ErrCorrupt},
		{"magic 1", v1, record.ErrUnsupportedMagic},
		{"truncated", good[:len(good)-3], record.ErrShort},
		{"too large", valueBatch(t, 1, 10, 100), ErrMessageTooLarge},
	} {
		if _, err := l.Append(tc.batch, 0); !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
	if l.LogEndOffset() != 0 {
		t.Fatalf("rejected batches moved the log end to %d", l.LogEndOffset())
	}
}

func TestLogAppendTimeRewritesMaxTimestampAndCRC(t *testing.T) {
	cfg := testConfig()
	cfg.LogAppendTime = true
	clk := newClock()
	l, _ := openLog(t, vfs.NewMem(), cfg, clk)
	defer l.Close()
	b := valueBatch(t, 5, 3, 10)
	res := mustAppend(t, l, b)
	h, err := record.Validate(b)
	if err != nil {
		t.Fatalf("CRC not recomputed: %v", err)
	}
	if !h.LogAppendTime() || h.MaxTimestamp != clk.Now().UnixMilli() || res.LogAppendTime != h.MaxTimestamp {
		t.Fatalf("log append time: attr %v max %d result %d, want %d", h.LogAppendTime(), h.MaxTimestamp, res.LogAppendTime, clk.Now().UnixMilli())
	}
}

func TestReadSemantics(t *testing.T) {
	cfg := testConfig()
	cfg.SegmentBytes = 2048
	l, _ := openLog(t, vfs.NewMem(), cfg, newClock())
	defer l.Close()
	var sizes []int
	for i := 0; i < 40; i++ { // 40 batches of 2 records, several segments
		b := valueBatch(t, int64(i), 2, 50)
		sizes = append(sizes, len(b))
		mustAppend(t, l, b)
	}
	if len(l.SegmentBases()) < 3 {
		t.Fatalf("want several segments, have %v", l.SegmentBases())
	}
	size := sizes[0]
	for _, tc := range []struct {
		name             string
		offset           int64
		maxBytes         int
		upTo             int64
		minOne           bool
		wantFirst, count int
	}{
		{"batch start", 10, 1 << 20, -1, true, 10, -1},
		{"mid batch returns whole batch", 11, 3 * size, -1, true, 10, 3},
		{"maxBytes cuts at batch boundary", 0, 2*size + size/2, -1, true, 0, 2},
		{"minOne returns an oversized first batch", 20, size / 2, -1, true, 20, 1},
		{"without minOne nothing", 20, size / 2, -1, false, -1, 0},
		{"upTo stops before the high watermark", 0, 1 << 20, 6, true, 0, 3},
		{"at the end nothing", 80, 1 << 20, -1, true, -1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, err := l.Read(tc.offset, tc.maxBytes, tc.upTo, tc.minOne)
			if err != nil {
				t.Fatal(err)
			}
			var bases []int64
			for len(data) > 0 {
				_, h, rest, err := record.Next(data)
				if err != nil {
					t.Fatal(err)
				}
				bases = append(bases, h.BaseOffset)
				data = rest
			}
			if tc.count == 0 {
				if len(bases) != 0 {
					t.Fatalf("got batches %v, want none", bases)
				}
				return
			}
			if bases[0] != int64(tc.wantFirst) {
				t.Fatalf("first batch %d, want %d", bases[0], tc.wantFirst)
			}
			if tc.count > 0 && len(bases) != tc.count {
				t.Fatalf("got %d batches %v, want %d", len(bases), bases, tc.count)
			}
		})
	}
	for _, off := range []int64{-1, 81} {
		if _, err := l.Read(off, 100, -1, true); !errors.Is(err, ErrOffsetOutOfRange) {
			t.Errorf("read %d: %v, want out of range", off, err)
		}
	}
	got := readRecords(t, l)
	if len(got) != 80 {
		t.Fatalf("read %d records, want 80", len(got))
	}
	for i, r := range got {
		if r.offset != int64(i) {
			t.Fatalf("record %d has offset %d", i, r.offset)
		}
	}
}

func TestReopenKeepsEverything(t *testing.T) {
	fsys := vfs.NewMem()
	clk := newClock()
	l, _ := openLog(t, fsys, testConfig(), clk)
	var want [][]byte
	for i := 0; i < 30; i++ {
		b := valueBatch(t, int64(i*10), 3, 40)
		if _, err := l.Append(b, int32(i/10)); err != nil {
			t.Fatal(err)
		}
		want = append(want, b)
	}
	segs := l.SegmentBases()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l, rep := openLog(t, fsys, testConfig(), clk, func(o *Options) { o.RecoveryPoint = 90 })
	defer l.Close()
	if rep.TruncatedAt != -1 || len(rep.RebuiltIndexes) != 0 || rep.Scanned != 1 {
		t.Fatalf("clean reopen report %+v", rep)
	}
	if l.LogEndOffset() != 90 || !equalInt64s(l.SegmentBases(), segs) {
		t.Fatalf("after reopen: end %d segments %v, want 90 %v", l.LogEndOffset(), l.SegmentBases(), segs)
	}
	got := readBatches(t, l)
	if len(got) != len(want) {
		t.Fatalf("%d batches, want %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("batch %d differs after reopen", i)
		}
	}
	if e := l.Epochs(); len(e) != 3 || e[1] != (EpochEntry{1, 30}) || e[2] != (EpochEntry{2, 60}) {
		t.Fatalf("epochs after reopen %v", e)
	}
}

func equalInt64s(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestOffsetsByTimestamp(t *testing.T) {
	l, _ := openLog(t, vfs.NewMem(), testConfig(), newClock())
	defer l.Close()
	// Batch i has records with timestamps 1000+10i, 1000+10i+1, 1000+10i+2,
	// except batch 25, which holds the log's max timestamp 9999 in its
	// middle. The answer is the first offset whose timestamp reaches the
	// target, as in Kafka: the out-of-order record wins over later ones.
	for i := 0; i < 30; i++ {
		ts := int64(1000 + 10*i)
		recs := []kv{{value: []byte("a")}, {value: []byte("b")}, {value: []byte("c")}}
		if i == 25 {
			recs[1].ts = 9999
		}
		mustAppend(t, l, batchOf(t, ts, record.Zstd, recs...))
	}
	for _, tc := range []struct {
		ts         int64
		wantOffset int64
		wantTs     int64
	}{
		{0, 0, 1000},
		{1000, 0, 1000},
		{1001, 1, 1001},
		{1003, 3, 1010},
		{1052, 17, 1052},
		{1200, 60, 1200},
		{1250, 75, 1250},
		{1251, 76, 9999},
		{1292, 76, 9999},
		{10000, -1, -1},
	} {
		got, err := l.OffsetForTimestamp(tc.ts)
		if err != nil {
			t.Fatal(err)
		}
		if got.Offset != tc.wantOffset || got.Timestamp != tc.wantTs {
			t.Errorf("timestamp %d: got %+v, want offset %d ts %d", tc.ts, got, tc.wantOffset, tc.wantTs)
		}
	}
	got, err := l.MaxTimestamp()
	if err != nil || got != (TimestampOffset{76, 9999}) {
		t.Fatalf("max timestamp %+v %v, want offset 76 ts 9999", got, err)
	}
}

func TestEpochCacheEndOffsets(t *testing.T) {
	l, _ := openLog(t, vfs.NewMem(), testConfig(), newClock())
	defer l.Close()
	for _, e := range []int32{1, 1, 3, 3, 3, 6} {
		if _, err := l.Append(valueBatch(t, 1, 2, 5), e); err != nil {
			t.Fatal(err)
		}
	}
	// epochs: 1@0, 3@4, 6@10; log end 12
	for _, tc := range []struct {
		req, wantEpoch int32
		wantEnd        int64
	}{
		{0, 0, 0}, {1, 1, 4}, {2, 1, 4}, {3, 3, 10}, {5, 3, 10}, {6, 6, 12}, {7, -1, -1}, {-1, -1, -1},
	} {
		e, end := l.EndOffsetForEpoch(tc.req)
		if e != tc.wantEpoch || end != tc.wantEnd {
			t.Errorf("epoch %d: got (%d, %d), want (%d, %d)", tc.req, e, end, tc.wantEpoch, tc.wantEnd)
		}
	}
}

// TestReadsNeverBlockAppends holds a read inside the file system and shows
// that appends (with their fsync) complete meanwhile: reads take no lock an
// append needs.
func TestReadsNeverBlockAppends(t *testing.T) {
	fsys := vfs.NewMem()
	l, _ := openLog(t, fsys, DefaultConfig(), newClock())
	defer l.Close()
	mustAppend(t, l, valueBatch(t, 1, 3, 100))
	inRead, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	fsys.SetInjector(func(op vfs.Op, p string) error {
		if op == vfs.OpRead && strings.HasSuffix(p, logSuffix) {
			once.Do(func() { close(inRead); <-release })
		}
		return nil
	})
	readDone := make(chan error)
	go func() {
		_, err := l.Read(0, 1<<20, -1, true)
		readDone <- err
	}()
	<-inRead
	for i := 0; i < 10; i++ {
		mustAppend(t, l, valueBatch(t, 1, 3, 100))
	}
	if l.RecoveryPoint() != 33 {
		t.Fatalf("appends during a read: recovery point %d, want 33", l.RecoveryPoint())
	}
	close(release)
	if err := <-readDone; err != nil {
		t.Fatal(err)
	}
}

// TestAppendDoesNotDecodeRecords: batches stay bytes. A gzip batch whose
// compressed payload is garbage, with a correct CRC, is appended and read
// back unchanged: nothing on the append or read path decompresses it.
func TestAppendDoesNotDecodeRecords(t *testing.T) {
	l, _ := openLog(t, vfs.NewMem(), DefaultConfig(), newClock())
	defer l.Close()
	b := batchOf(t, 1, record.Gzip, kv{key: []byte("k"), value: bytes.Repeat([]byte("v"), 100)})
	for i := record.HeaderSize; i < len(b); i++ {
		b[i] = 0xA5 // no longer gzip
	}
	binary.BigEndian.PutUint32(b[17:], record.ComputeCRC(b))
	if _, err := record.Records(b, 1<<20); err == nil {
		t.Fatal("the garbage payload decodes; the test proves nothing")
	}
	want := append([]byte(nil), b...)
	if _, err := l.Append(b, 0); err != nil {
		t.Fatalf("append decoded the records: %v", err)
	}
	got, err := l.Read(0, 1<<20, -1, true)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read back %d bytes (%v), want the %d appended", len(got), err, len(want))
	}
}

func TestCreateTimeBounds(t *testing.T) {
	clk := newClock()
	now := clk.Now().UnixMilli()
	cfg := testConfig()
	cfg.TimestampAfterMax = time.Hour
	cfg.TimestampBeforeMax = 24 * time.Hour
	l, _ := openLog(t, vfs.NewMem(), cfg, clk)
	for _, c := range []struct {
		ts   int64
		fail bool
	}{
		{now, false}, {now + time.Hour.Milliseconds(), false}, {now + time.Hour.Milliseconds() + 1, true},
		{now - 24*time.Hour.Milliseconds(), false}, {now - 24*time.Hour.Milliseconds() - 1, true},
	} {
		_, err := l.Append(valueBatch(t, c.ts, 1, 5), 0)
		if c.fail != errors.Is(err, ErrInvalidTimestamp) {
			t.Errorf("timestamp now%+d ms: %v", c.ts-now, err)
		}
	}
	// LogAppendTime ignores the producer's timestamps.
	cfg.LogAppendTime = true
	if err := l.SetConfig(cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(valueBatch(t, now+10*time.Hour.Milliseconds(), 1, 5), 0); err != nil {
		t.Fatalf("LogAppendTime: %v", err)
	}
}
