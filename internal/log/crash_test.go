package log

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/samsa-io/samsa/internal/record"
	"github.com/samsa-io/samsa/internal/vfs"
)

// The crash tests drive a log on MemFS with random appends and syncs, cut
// the power (dropping everything unsynced, or keeping a torn part of it),
// reopen, and check the contract:
//   - every batch that was synced is present and byte-identical;
//   - what follows the synced batches is a prefix of what was appended
//     after them (whole batches only: the log ends on a batch boundary);
//   - offsets continue without gaps or reuse.

func TestCrashRecoveryKeepsSyncedBatches(t *testing.T) {
	seeds := 300
	if testing.Short() {
		seeds = 50
	}
	for seed := range uint64(seeds) {
		crashSeed(t, seed)
	}
}

type crashModel struct {
	durable []([]byte) // batches known durable, in offset order
	pending [][]byte   // appended since the last sync
}

func crashSeed(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0x5a45))
	fsys := vfs.NewMem()
	cfg := testConfig()
	cfg.SegmentBytes = int64(512 + rng.IntN(4096))
	cfg.IndexIntervalBytes = rng.IntN(1024)
	cfg.FsyncOnAck = rng.IntN(3) == 0
	codecs := []record.Compression{record.None, record.Gzip, record.Snappy, record.LZ4, record.Zstd}
	clk := newClock()
	var m crashModel
	var checkpoint int64 // a lagging recovery-point checkpoint
	for round := 0; round < 4; round++ {
		l, rep := openLog(t, fsys, cfg, clk, func(o *Options) { o.RecoveryPoint = checkpoint })
		m.check(t, seed, round, l, rep)
		ops := 5 + rng.IntN(60)
		for i := 0; i < ops; i++ {
			switch r := rng.IntN(10); {
			case r < 7:
				n := 1 + rng.IntN(8)
				b := valueBatch(t, clk.Now().UnixMilli(), n, 1+rng.IntN(200))
				if codec := codecs[rng.IntN(len(codecs))]; codec != record.None {
					b = recompress(t, b, codec)
				}
				mustAppend(t, l, b)
				if cfg.FsyncOnAck {
					m.durable = append(m.durable, b)
				} else {
					m.pending = append(m.pending, b)
				}
			case r < 9:
				if err := l.Sync(l.LogEndOffset()); err != nil {
					t.Fatal(err)
				}
				m.durable, m.pending = append(m.durable, m.pending...), nil
			default:
				checkpoint = l.RecoveryPoint()
			}
		}
		if rng.IntN(2) == 0 {
			fsys.Crash()
		} else {
			fsys.CrashTorn(rng)
		}
	}
}

// check verifies a reopened log against the model, then treats everything
// recovered as durable (recovery fsyncs what it keeps).
func (m *crashModel) check(t *testing.T, seed uint64, round int, l *Log, rep RecoveryReport) {
	t.Helper()
	got := readBatches(t, l)
	if len(got) < len(m.durable) {
		t.Fatalf("seed %d round %d: %d batches after recovery, %d were synced (report %+v)", seed, round, len(got), len(m.durable), rep)
	}
	all := append(append([][]byte(nil), m.durable...), m.pending...)
	next := int64(0)
	for i, b := range got {
		if i >= len(all) || !bytes.Equal(b, all[i]) {
			t.Fatalf("seed %d round %d: batch %d differs from what was appended (synced %d, report %+v)", seed, round, i, len(m.durable), rep)
		}
		h, _ := record.ParseHeader(b)
		if h.BaseOffset != next {
			t.Fatalf("seed %d round %d: batch %d at offset %d, want %d", seed, round, i, h.BaseOffset, next)
		}
		next = h.NextOffset()
	}
	if l.LogEndOffset() != next {
		t.Fatalf("seed %d round %d: log end %d, batches end at %d", seed, round, l.LogEndOffset(), next)
	}
	if rep.BelowRecoveryPoint {
		t.Fatalf("seed %d round %d: recovery cut below the recovery point: %+v", seed, round, rep)
	}
	m.durable, m.pending = got, nil
}

// recompress rebuilds a test batch with another codec.
func recompress(t testing.TB, b []byte, codec record.Compression) []byte {
	t.Helper()
	h, err := record.Validate(b)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := record.Records(b, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	out, err := record.Build(record.BatchSpec{
		BaseTimestamp: h.BaseTimestamp, Compression: codec, ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1, LastOffsetDelta: -1,
	}, recs)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCrashDuringConcurrentAppends cuts the power while 8 appenders are
// writing with fsync-on-ack: every append that returned success must be
// there after recovery, byte for byte, at the offset it was given.
func TestCrashDuringConcurrentAppends(t *testing.T) {
	seeds := 30
	if testing.Short() {
		seeds = 5
	}
	totalAcked := 0
	for seed := range uint64(seeds) {
		rng := rand.New(rand.NewPCG(seed, 7))
		fsys := vfs.NewMem()
		boot := &bootFS{FS: fsys}
		cfg := testConfig()
		cfg.SegmentBytes = 2048
		l, _ := openLog(t, boot, cfg, newClock())
		acked := map[int64][]byte{}
		var mu sync.Mutex
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					b := valueBatch(t, int64(w*1000+i), 1+i%3, 20+w)
					res, err := l.Append(b, 0)
					if err != nil {
						return // the crash killed the file handles
					}
					mu.Lock()
					acked[res.BaseOffset] = b
					mu.Unlock()
				}
			}(w)
		}
		// Cut the power once a random number of appends were acknowledged.
		target := 20 + rng.IntN(200)
		for deadline := time.Now().Add(10 * time.Second); ; {
			mu.Lock()
			n := len(acked)
			mu.Unlock()
			if n >= target {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("seed %d: only %d appends acknowledged in 10s", seed, n)
			}
			time.Sleep(50 * time.Microsecond)
		}
		boot.dead.Store(true)
		fsys.Crash()
		close(stop)
		wg.Wait()
		l2, rep := openLog(t, fsys, cfg, newClock())
		got := map[int64][]byte{}
		for _, b := range readBatches(t, l2) {
			h, _ := record.ParseHeader(b)
			got[h.BaseOffset] = b
		}
		totalAcked += len(acked)
		for off, b := range acked {
			if !bytes.Equal(got[off], b) {
				t.Fatalf("seed %d: acknowledged batch at offset %d lost or changed (acked %d, recovered %d, report %+v)", seed, off, len(acked), len(got), rep)
			}
		}
		if _, err := l.Append(valueBatch(t, 1, 1, 1), 0); err == nil || errors.Is(err, ErrClosed) {
			t.Fatalf("seed %d: the crashed log still accepts appends: %v", seed, err)
		}
		l2.Close()
	}
	t.Logf("%d acknowledged appends checked after %d power cuts", totalAcked, seeds)
}

// TestPageCacheModeSurvivesProcessDeath: in page-cache mode nothing is
// fsynced, but every append reached the operating system, so a process
// that dies without closing the log (kill -9; no power cut) loses nothing.
func TestPageCacheModeSurvivesProcessDeath(t *testing.T) {
	fsys := vfs.NewMem()
	boot := &bootFS{FS: fsys}
	cfg := testConfig()
	cfg.FsyncOnAck = false
	l, _ := openLog(t, boot, cfg, newClock())
	var want [][]byte
	for i := 0; i < 40; i++ {
		b := valueBatch(t, int64(i), 1+i%4, 50)
		mustAppend(t, l, b)
		want = append(want, b)
	}
	if l.RecoveryPoint() != 0 {
		t.Fatalf("page-cache mode fsynced: recovery point %d", l.RecoveryPoint())
	}
	boot.dead.Store(true) // the process is gone; the OS (fsys) is not
	l2, rep := openLog(t, fsys, cfg, newClock())
	defer l2.Close()
	got := readBatches(t, l2)
	if len(got) != len(want) || rep.TruncatedAt != -1 {
		t.Fatalf("%d of %d batches after the process died (report %+v)", len(got), len(want), rep)
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("batch %d changed", i)
		}
	}
}
