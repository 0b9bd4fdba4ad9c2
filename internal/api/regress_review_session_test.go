package api

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/internal/metadata"
)

// KIP-227: a session epoch is used once. Kafka checks and bumps it under
// the session lock in one step (FetchManager.newContext), so of two
// requests carrying the same epoch exactly one is accepted and the other
// gets INVALID_FETCH_SESSION_EPOCH. (A review found the first version got
// this wrong.)
func TestSessionEpochIsUsedOnce(t *testing.T) {
	h := New(Deps{FetchSessionCacheSlots: 1000, Image: metadata.Empty, Partition: func(string, int32) (Partition, error) {
		return nil, kerr.UnknownTopicOrPartition
	}})
	for trial := range 3000 {
		s := h.fs.open()
		s.mu.Lock()
		s.epoch = 1
		s.mu.Unlock()
		var accepted atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				r := kmsg.NewPtrFetchRequest()
				r.SetVersion(12)
				r.SessionID, r.SessionEpoch = s.id, 1
				if _, err := h.planFetch(r); err == nil {
					accepted.Add(1)
				}
			}()
		}
		close(start)
		wg.Wait()
		if n := accepted.Load(); n > 1 {
			t.Fatalf("trial %d: %d requests with the same session epoch were accepted", trial, n)
		}
		h.fs.close(s.id)
	}
}
