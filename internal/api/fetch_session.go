package api

// Incremental fetch sessions (KIP-227). A session remembers, per
// partition, the fetch offset and size limit the client last sent and the
// watermarks it last received; an incremental request lists only what
// changed and its response only the partitions with news. Sessions are
// evicted least recently used when the cache is full
// (max.incremental.fetch.session.cache.slots) and the least recently used
// one has been idle for staleAfter (Kafka's
// min.incremental.fetch.session.eviction.ms, 120 s); otherwise a new
// session is refused and its fetch served without one, so a client opening
// sessions in a loop cannot evict the sessions of live consumers.

import (
	"container/list"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/samsa-io/samsa/internal/metadata"
)

// Session epochs with a meaning of their own.
const (
	initialEpoch = 0  // create a session
	finalEpoch   = -1 // no session (or close the one named)
)

// sessionKey names a partition in a fetch: by topic name before v13, by
// topic id from v13 (KIP-516), the other field left zero. A deleted
// topic's id then never matches a new topic of the same name.
type sessionKey struct {
	topic     string
	id        metadata.UUID
	partition int32
}

type sessionPartition struct {
	offset, maxBytes int64
	leaderEpoch      int32
	// A follower's last fetched epoch (v12+) and log start, as last sent.
	lastFetchedEpoch int32
	logStartSent     int64
	// Last values sent, so an incremental response can omit the partition.
	hw, lso, logStart int64
	sent              bool
}

type fetchSession struct {
	mu    sync.Mutex
	id    int32
	epoch int32 // the epoch the next request must carry
	parts map[sessionKey]*sessionPartition
	order []sessionKey // partitions in the order the client added them
	elem  *list.Element
	used  time.Time // last request, for eviction
}

type fetchSessions struct {
	mu     sync.Mutex
	slots  int
	nextID int32
	byID   map[int32]*fetchSession
	lru    *list.List // front: most recently used
	now    func() time.Time
}

// staleAfter is how long a session must be idle before a new one may
// evict it.
const staleAfter = 120 * time.Second

// newFetchSessions returns a cache of slots sessions; with none, every
// fetch is sessionless (Kafka's max.incremental.fetch.session.cache.slots=0).
func newFetchSessions(slots int, now func() time.Time) *fetchSessions {
	return &fetchSessions{slots: max(slots, 0), byID: map[int32]*fetchSession{}, lru: list.New(), now: now}
}

// open creates a session, evicting the least recently used one when the
// cache is full and it is stale; nil when there is no room or sessions are
// disabled.
func (fs *fetchSessions) open() *fetchSession {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.slots == 0 {
		return nil
	}
	now := fs.now()
	if len(fs.byID) >= fs.slots {
		oldest := fs.lru.Back().Value.(*fetchSession)
		if now.Sub(oldest.used) < staleAfter {
			return nil
		}
		fs.lru.Remove(oldest.elem)
		delete(fs.byID, oldest.id)
	}
	for {
		fs.nextID++
		if fs.nextID <= 0 {
			fs.nextID = 1
		}
		if fs.byID[fs.nextID] == nil {
			break
		}
	}
	// The first incremental request carries epoch 1.
	s := &fetchSession{id: fs.nextID, epoch: 1, parts: map[sessionKey]*sessionPartition{}, used: now}
	s.elem = fs.lru.PushFront(s)
	fs.byID[s.id] = s
	return s
}

// get returns a session for an incremental request, checking its epoch
// and moving it to the next in one step: a request repeated with the same
// epoch is refused (KIP-227's duplicate detection).
func (fs *fetchSessions) get(id, epoch int32) (*fetchSession, error) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	s := fs.byID[id]
	if s == nil {
		return nil, kerr.FetchSessionIDNotFound
	}
	fs.lru.MoveToFront(s.elem)
	s.used = fs.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.epoch != epoch {
		return nil, kerr.InvalidFetchSessionEpoch
	}
	s.epoch = nextEpoch(s.epoch)
	return s, nil
}

// nextEpoch follows epoch, wrapping to 1 (0 and -1 have meanings).
func nextEpoch(epoch int32) int32 {
	if epoch == 1<<31-1 {
		return 1
	}
	return epoch + 1
}

// moveToEnd puts k last in the session's order: partitions that just
// returned data go behind the others, so under max_bytes every partition
// gets its turn (Kafka's IncrementalFetchContext does the same).
func (s *fetchSession) moveToEnd(k sessionKey) {
	for i, o := range s.order {
		if o == k {
			s.order = append(append(s.order[:i:i], s.order[i+1:]...), k)
			return
		}
	}
}

func (fs *fetchSessions) close(id int32) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if s := fs.byID[id]; s != nil {
		fs.lru.Remove(s.elem)
		delete(fs.byID, id)
	}
}

// set adds or updates a partition of the session.
func (s *fetchSession) set(k sessionKey, offset, maxBytes int64, epoch int32) *sessionPartition {
	sp := s.parts[k]
	if sp == nil {
		sp = &sessionPartition{lastFetchedEpoch: -1, logStartSent: -1}
		s.parts[k] = sp
		s.order = append(s.order, k)
	}
	sp.offset, sp.maxBytes, sp.leaderEpoch = offset, maxBytes, epoch
	return sp
}

// forget removes a partition.
func (s *fetchSession) forget(k sessionKey) {
	if s.parts[k] == nil {
		return
	}
	delete(s.parts, k)
	for i, o := range s.order {
		if o == k {
			s.order = append(s.order[:i], s.order[i+1:]...)
			break
		}
	}
}
