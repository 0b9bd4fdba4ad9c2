package log

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/samsa-io/samsa/internal/vfs"
)

// Benchmarks of the log on the real file system, with 1 KiB records in
// 16 KiB and 1 MiB batches. SAMSA_BENCH_DIR picks the data directory (the
// default is a temporary directory). Retention keeps the disk use bounded:
// about 1 GiB whatever b.N is.
//
//	go test -run '^$' -bench . -benchtime 2s ./internal/log/

var batchSizes = []struct {
	name    string
	records int
}{
	{"16KiB", 16},
	{"1MiB", 1024},
}

var retentionBytes int64 = 768 << 20

func benchDir(b *testing.B) string {
	if d := os.Getenv("SAMSA_BENCH_DIR"); d != "" {
		dir, err := os.MkdirTemp(d, "samsa-bench-")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { os.RemoveAll(dir) })
		return dir
	}
	return b.TempDir()
}

func benchLog(b *testing.B, fsync bool) *Log {
	cfg := DefaultConfig()
	cfg.FsyncOnAck = fsync
	cfg.SegmentBytes = 256 << 20
	cfg.RetentionBytes = retentionBytes
	cfg.MaxMessageBytes = 2 << 20
	l, _, err := Open(vfs.OS, benchDir(b)+"/bench-0", Options{Config: cfg})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
	return l
}

// benchBatch is one batch of n 1 KiB records, uncompressed.
func benchBatch(b *testing.B, n int) []byte {
	return valueBatch(b, 1_700_000_000_000, n, 1024)
}

// appendN appends batch, trimming the log by retention now and then.
func appendOne(b *testing.B, l *Log, batch []byte, i int) {
	if _, err := l.Append(batch, 0); err != nil {
		b.Fatal(err)
	}
	if i%256 == 255 {
		if _, err := l.EnforceRetention(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppend: one appender. fsync=false writes into the page cache
// (Kafka's default mode); fsync=true waits for its own fsync every time.
func BenchmarkAppend(b *testing.B) {
	for _, bs := range batchSizes {
		for _, fsync := range []bool{false, true} {
			b.Run(fmt.Sprintf("batch=%s/fsync=%v", bs.name, fsync), func(b *testing.B) {
				l := benchLog(b, fsync)
				batch := benchBatch(b, bs.records)
				b.SetBytes(int64(len(batch)))
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					appendOne(b, l, batch, i)
				}
			})
		}
	}
}

// BenchmarkAppendGroupCommit: 8 appenders with fsync-on-ack; each append
// returns once durable, and concurrent appends share fsyncs.
func BenchmarkAppendGroupCommit(b *testing.B) {
	for _, bs := range batchSizes {
		b.Run("batch="+bs.name+"/appenders=8", func(b *testing.B) {
			l := benchLog(b, true)
			const appenders = 8
			batches := make([][]byte, appenders)
			for i := range batches {
				batches[i] = benchBatch(b, bs.records)
			}
			b.SetBytes(int64(len(batches[0])))
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			for w := 0; w < appenders; w++ {
				wg.Add(1)
				go func(batch []byte) {
					defer wg.Done()
					for {
						i := next.Add(1) - 1
						if i >= int64(b.N) {
							return
						}
						appendOne(b, l, batch, int(i))
					}
				}(batches[w])
			}
			wg.Wait()
			b.StopTimer()
			l.flush.mu.Lock()
			b.ReportMetric(float64(b.N)/float64(max(l.flush.fsyncs, 1)), "appends/fsync")
			l.flush.mu.Unlock()
		})
	}
}

// BenchmarkRead reads the log sequentially in 1 MiB fetches (CRC checked,
// as by default), from data in the page cache.
func BenchmarkRead(b *testing.B) {
	for _, bs := range batchSizes {
		b.Run("batch="+bs.name, func(b *testing.B) {
			l := benchLog(b, false)
			batch := benchBatch(b, bs.records)
			for l.Size() < 256<<20 {
				if _, err := l.Append(batch, 0); err != nil {
					b.Fatal(err)
				}
			}
			var read int64
			off := int64(0)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if off >= l.LogEndOffset() {
					off = 0
				}
				data, err := l.Read(off, 1<<20, -1, true)
				if err != nil {
					b.Fatal(err)
				}
				read += int64(len(data))
				off = endOffset(b, data)
			}
			b.SetBytes(read / int64(b.N))
		})
	}
}
