package api

import (
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

func TestFetchSessionCache(t *testing.T) {
	clock := time.Unix(1000, 0)
	fs := newFetchSessions(2, func() time.Time { return clock })
	a, b := fs.open(), fs.open()
	if a.id == b.id || a.id == 0 || b.id == 0 {
		t.Fatalf("ids %d %d", a.id, b.id)
	}
	a.epoch = 1
	if _, err := fs.get(a.id, 1); err != nil { // a is now the most recently used
		t.Fatal(err)
	}
	// Full, and no session idle for two minutes: no room for a new one.
	if fs.open() != nil {
		t.Fatal("a new session evicted a live one")
	}
	clock = clock.Add(staleAfter)
	if _, err := fs.get(a.id, 2); err != nil { // a stays fresh
		t.Fatal(err)
	}
	c := fs.open() // evicts b, stale and the least recently used
	if c == nil {
		t.Fatal("no session although b is stale")
	}
	if _, err := fs.get(b.id, 0); !errors.Is(err, kerr.FetchSessionIDNotFound) {
		t.Fatalf("evicted session: %v", err)
	}
	if _, err := fs.get(a.id, 1); !errors.Is(err, kerr.InvalidFetchSessionEpoch) {
		t.Fatalf("an epoch used twice: %v", err)
	}
	fs.close(c.id)
	if _, err := fs.get(c.id, 0); !errors.Is(err, kerr.FetchSessionIDNotFound) {
		t.Fatalf("closed session: %v", err)
	}
	// A session's partitions keep the order they were added in; forgetting
	// one removes it.
	k := func(p int32) sessionKey { return sessionKey{topic: "t", partition: p} }
	a.set(k(2), 0, 1, -1)
	a.set(k(0), 0, 1, -1)
	a.set(k(1), 0, 1, -1)
	a.set(k(0), 5, 1, -1)
	a.forget(k(2))
	if len(a.order) != 2 || a.order[0] != k(0) || a.order[1] != k(1) || a.parts[k(0)].offset != 5 {
		t.Fatalf("order %v", a.order)
	}
}

func TestBatchRecords(t *testing.T) {
	batch := func(n uint32) []byte {
		b := make([]byte, 70)
		b[8], b[9], b[10], b[11] = 0, 0, 0, 70-12
		b[57], b[58], b[59], b[60] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
		return b
	}
	data := append(append(batch(3), batch(4)...), 1, 2, 3) // a partial batch at the end
	if got := batchRecords(data); got != 7 {
		t.Fatalf("counted %d records, want 7", got)
	}
}
