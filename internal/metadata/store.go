package metadata

import (
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
)

// Store holds the current image and is the metadata log's state machine:
// the quorum calls Apply for each committed entry, Snapshot to compact the
// log and Restore on start. Readers call Image at any time.
type Store struct {
	cur atomic.Pointer[Image]

	mu       sync.Mutex
	subs     []func(old, cur *Image)
	rejected []rejection
}

type rejection struct {
	index uint64
	err   error
}

// NewStore starts from the empty image.
func NewStore() *Store {
	s := &Store{}
	s.cur.Store(Empty())
	return s
}

// Image returns the current image.
func (s *Store) Image() *Image { return s.cur.Load() }

// Subscribe registers fn, called after each change with the old and new
// image, on the applying goroutine, in log order.
func (s *Store) Subscribe(fn func(old, cur *Image)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.subs = append(s.subs, fn)
}

// Rejected returns the errors of entries that did not apply. Entries are
// validated before they are proposed, so this stays empty unless there is
// a bug; an invalid entry is skipped on every node alike.
func (s *Store) Rejected() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]error, len(s.rejected))
	for i, r := range s.rejected {
		out[i] = r.err
	}
	return out
}

// RejectedAt returns why the entry at index did not apply, or nil.
func (s *Store) RejectedAt(index uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.rejected {
		if r.index == index {
			return r.err
		}
	}
	return nil
}

// Apply applies the committed entry at index.
func (s *Store) Apply(index uint64, data []byte) error {
	old := s.cur.Load()
	recs, err := Decode(data)
	next := old
	if err == nil {
		next, err = old.Apply(index, recs)
	}
	if err != nil {
		next = &Image{Index: index, brokers: old.brokers, topics: old.topics, topicIDs: old.topicIDs, configs: old.configs,
			nextProducerID: old.nextProducerID}
		s.mu.Lock()
		s.rejected = append(s.rejected, rejection{index, fmt.Errorf("entry %d: %w", index, err)})
		s.mu.Unlock()
	}
	s.publish(old, next)
	return nil
}

func (s *Store) publish(old, next *Image) {
	s.cur.Store(next)
	s.mu.Lock()
	subs := s.subs
	s.mu.Unlock()
	for _, fn := range subs {
		fn(old, next)
	}
}

type snapshot struct {
	Index   uint64   `json:"index"`
	Records []Record `json:"records"`
}

// Snapshot encodes the current image.
func (s *Store) Snapshot() ([]byte, error) {
	im := s.cur.Load()
	b, err := json.Marshal(snapshot{Index: im.Index, Records: im.Records()})
	if err != nil {
		return nil, err
	}
	return append([]byte{entryVersion}, b...), nil
}

// Restore replaces the image with a snapshot's.
func (s *Store) Restore(data []byte) error {
	if len(data) == 0 || data[0] != entryVersion {
		return fmt.Errorf("%w: snapshot version byte", ErrBadEntry)
	}
	var snap snapshot
	if err := json.Unmarshal(data[1:], &snap); err != nil {
		return fmt.Errorf("%w: snapshot: %v", ErrBadEntry, err)
	}
	im, err := Empty().Apply(snap.Index, snap.Records)
	if err != nil {
		return err
	}
	s.publish(s.cur.Load(), im)
	return nil
}
