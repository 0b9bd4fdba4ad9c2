package raft

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/samsa-io/samsa/internal/vfs"
)

// BenchmarkPropose measures a single voter on the real file system with 16
// concurrent proposers of 100-byte records: every proposal waits for its
// fsync and its application, so this is the metadata quorum's commit rate.
func BenchmarkPropose(b *testing.B) {
	cfg := testConfig(vfs.OS)
	cfg.Dir = b.TempDir()
	n, err := Open(cfg, &countSM{})
	if err != nil {
		b.Fatal(err)
	}
	defer n.Close()
	waitLeader(b, n)
	data := make([]byte, 100)
	b.SetParallelism(max(1, 16/runtime.GOMAXPROCS(0))) // 16 goroutines on 1, 2, 4, 8 or 16 procs
	start := time.Now()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := n.Propose(context.Background(), data); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "proposals/s")
}

// countSM applies by counting, so the benchmark measures the node.
type countSM struct{ n int }

func (s *countSM) Apply(uint64, []byte) error { s.n++; return nil }
func (s *countSM) Snapshot() ([]byte, error)  { return []byte{byte(s.n)}, nil }
func (s *countSM) Restore([]byte) error       { return nil }
