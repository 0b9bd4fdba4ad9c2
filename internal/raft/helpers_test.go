package raft

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/samsa-io/samsa/internal/vfs"
)

// listSM is the test state machine: an append-only list of (index, data)
// with a running CRC over everything applied.
type listSM struct {
	mu       sync.Mutex
	ents     []smEntry
	sum      uint32
	restores int
	applies  int // Apply calls since the last Restore
}

type smEntry struct {
	index uint64
	data  string
}

func (s *listSM) Apply(index uint64, data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := len(s.ents); n > 0 && index <= s.ents[n-1].index {
		return fmt.Errorf("listSM: index %d after %d", index, s.ents[n-1].index)
	}
	s.ents = append(s.ents, smEntry{index, string(data)})
	s.sum = entrySum(s.sum, index, data)
	s.applies++
	return nil
}

func entrySum(sum uint32, index uint64, data []byte) uint32 {
	sum = crc32.Update(sum, castagnoli, binary.LittleEndian.AppendUint64(nil, index))
	return crc32.Update(sum, castagnoli, data)
}

// Snapshot encodes [sum u32][count u32] then [index u64][len u32][data].
func (s *listSM) Snapshot() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := binary.LittleEndian.AppendUint32(nil, s.sum)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(s.ents)))
	for _, e := range s.ents {
		b = binary.LittleEndian.AppendUint64(b, e.index)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(e.data)))
		b = append(b, e.data...)
	}
	return b, nil
}

func (s *listSM) Restore(b []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := decoder{b: b}
	hdr := d.take(8)
	if hdr == nil {
		return errors.New("listSM: short snapshot")
	}
	want, count := binary.LittleEndian.Uint32(hdr), binary.LittleEndian.Uint32(hdr[4:])
	var ents []smEntry
	var sum uint32
	for range count {
		index := d.u64()
		n := d.take(4)
		if n == nil {
			return errors.New("listSM: short snapshot")
		}
		data := d.take(uint64(binary.LittleEndian.Uint32(n)))
		ents = append(ents, smEntry{index, string(data)})
		sum = entrySum(sum, index, data)
	}
	if d.err != nil || sum != want {
		return errors.New("listSM: snapshot damaged")
	}
	s.ents, s.sum, s.applies = ents, sum, 0
	s.restores++
	return nil
}

func (s *listSM) list() []smEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]smEntry(nil), s.ents...)
}

func (s *listSM) restoreCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.restores
}

func (s *listSM) checksum() uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sum
}

func quietLogger() *slog.Logger {
	if os.Getenv("RAFT_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func testConfig(fsys vfs.FS) Config {
	return Config{
		ID: 1, Voters: []uint64{1}, FS: fsys, Dir: "raft",
		Tick: 10 * time.Millisecond, Logger: quietLogger(),
	}
}

func openNode(t testing.TB, cfg Config) (*Node, *listSM) {
	t.Helper()
	sm := &listSM{}
	n, err := Open(cfg, sm)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return n, sm
}

func waitLeader(t testing.TB, n *Node) uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	id, err := n.WaitLeader(ctx)
	if err != nil {
		t.Fatalf("no leader: %v", err)
	}
	return id
}

// proposeAll runs workers goroutines that each propose count entries named
// "w<worker>-<i>" and returns what was acknowledged, by index. It stops a
// worker at its first error.
func proposeAll(n *Node, workers, count int) (map[uint64]string, []error) {
	var mu sync.Mutex
	acked := map[uint64]string{}
	var errs []error
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range count {
				data := fmt.Sprintf("w%d-%d", w, i)
				idx, err := n.Propose(context.Background(), []byte(data))
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
					mu.Unlock()
					return
				}
				acked[idx] = data
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return acked, errs
}

// sameEntries fails unless got and want hold the same entries in order.
func sameEntries(t testing.TB, what string, got, want []smEntry) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d entries, want %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: entry %d is %+v, want %+v", what, i, got[i], want[i])
		}
	}
}

// isPrefix reports whether p is a prefix of l.
func isPrefix(p, l []smEntry) bool {
	if len(p) > len(l) {
		return false
	}
	for i := range p {
		if p[i] != l[i] {
			return false
		}
	}
	return true
}

// listFiles returns the names in dir with the given suffix.
func listFiles(t testing.TB, fsys vfs.FS, dir, suffix string) []string {
	t.Helper()
	names, err := fsys.List(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, n := range names {
		if strings.HasSuffix(n, suffix) {
			out = append(out, n)
		}
	}
	return out
}
