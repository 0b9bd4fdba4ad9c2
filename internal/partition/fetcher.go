package partition

// Follower fetchers, as Kafka's ReplicaFetcherThread: one goroutine per
// leader broker, fetching every partition this broker follows from that
// leader in one Fetch (v13+: topic ids, KIP-516), as replica NodeID with
// its broker epoch (ReplicaState from v15, KIP-903) and each partition's
// last fetched epoch (KIP-320). Sessionless: each request lists every
// partition. A partition whose answer failed backs off alone; a failed
// request backs them all off.

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/internal/log"
	"github.com/samsa-io/samsa/internal/metadata"
)

// LeaderClient sends a replica Fetch to a leader broker. The broker
// implements it over TCP to the leader's inter-broker listener; tests wire
// managers together in process.
type LeaderClient interface {
	Fetch(ctx context.Context, leader int32, req *kmsg.FetchRequest) (*kmsg.FetchResponse, error)
}

// FetchVersion is the Fetch version followers send: 13+ for topic ids,
// 15+ for ReplicaState.
const FetchVersion = 17

// Kafka's replica.fetch.* defaults.
const (
	defaultFetchWait          = 500 * time.Millisecond // replica.fetch.wait.max.ms
	defaultFetchBackoff       = time.Second            // replica.fetch.backoff.ms
	defaultFetchMaxBytes      = 1 << 20                // replica.fetch.max.bytes
	defaultFetchResponseBytes = 10 << 20               // replica.fetch.response.max.bytes
)

// followed is one partition a fetcher fetches.
type followed struct {
	p       *Partition
	epoch   int32 // the leader epoch it follows at
	paused  bool  // FENCED_LEADER_EPOCH: until the next image
	retryAt time.Time
}

// fetcher fetches from one leader broker.
type fetcher struct {
	m      *Manager
	leader int32
	wake   chan struct{}
	stop   context.CancelFunc

	mu    sync.Mutex
	parts map[log.TopicPartition]*followed
}

// sent is one partition of a request in flight.
type sent struct {
	f      *followed
	epoch  int32
	offset int64
}

func (m *Manager) startFetcher(leader int32) *fetcher {
	ctx, stop := context.WithCancel(m.ctx)
	f := &fetcher{m: m, leader: leader, wake: make(chan struct{}, 1), stop: stop, parts: map[log.TopicPartition]*followed{}}
	m.spawn(func() { f.run(ctx) })
	return f
}

// set makes the fetcher follow p at epoch, from now.
func (f *fetcher) set(p *Partition, epoch int32) {
	f.mu.Lock()
	f.parts[p.TP] = &followed{p: p, epoch: epoch}
	f.mu.Unlock()
	f.poke()
}

// drop stops following tp; it reports whether the fetcher has none left.
func (f *fetcher) drop(tp log.TopicPartition) (empty bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.parts, tp)
	return len(f.parts) == 0
}

func (f *fetcher) poke() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

func (f *fetcher) run(ctx context.Context) {
	for ctx.Err() == nil {
		req, batch, idle := f.request()
		if req == nil {
			f.sleep(ctx, idle)
			continue
		}
		resp, err := f.m.cfg.LeaderClient.Fetch(ctx, f.leader, req)
		if err == nil && resp.ErrorCode != 0 {
			err = kerr.ErrorForCode(resp.ErrorCode)
		}
		if err != nil {
			if ctx.Err() == nil {
				f.m.cfg.Logger.Debug("replica fetch failed", "leader", f.leader, "err", err)
				f.backOff(batch)
			}
			continue
		}
		f.handle(resp, batch)
	}
}

// request builds the next Fetch from the partitions not backing off; with
// none it returns how long until one may fetch (-1: none will).
func (f *fetcher) request() (*kmsg.FetchRequest, map[partKey]sent, time.Duration) {
	cfg := &f.m.cfg
	now := cfg.Now()
	req := kmsg.NewPtrFetchRequest()
	req.Version = FetchVersion
	req.ReplicaID, req.ReplicaState.ID, req.ReplicaState.Epoch = cfg.NodeID, cfg.NodeID, cfg.BrokerEpoch()
	req.MaxWaitMillis, req.MinBytes = int32(cfg.FetchWait.Milliseconds()), 1
	req.MaxBytes, req.SessionID, req.SessionEpoch = cfg.FetchResponseMaxBytes, 0, -1
	batch := map[partKey]sent{}
	idle := time.Duration(-1)
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, fp := range f.parts {
		if fp.paused {
			continue
		}
		if wait := fp.retryAt.Sub(now); wait > 0 {
			idle = minWait(idle, wait)
			continue
		}
		offset, lastEpoch, logStart := fp.p.fetchPosition()
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.Partition, rp.CurrentLeaderEpoch, rp.FetchOffset = fp.p.TP.Partition, fp.epoch, offset
		rp.LastFetchedEpoch, rp.LogStartOffset, rp.PartitionMaxBytes = lastEpoch, logStart, cfg.FetchMaxBytes
		addPartition(req, fp.p.TopicID, rp)
		batch[partKey{fp.p.TopicID, fp.p.TP.Partition}] = sent{f: fp, epoch: fp.epoch, offset: offset}
	}
	if len(batch) == 0 {
		return nil, nil, idle
	}
	return req, batch, 0
}

type partKey struct {
	id        metadata.UUID
	partition int32
}

func minWait(a, b time.Duration) time.Duration {
	if a < 0 || b < a {
		return b
	}
	return a
}

func addPartition(req *kmsg.FetchRequest, id metadata.UUID, rp kmsg.FetchRequestTopicPartition) {
	for i := range req.Topics {
		if req.Topics[i].TopicID == id {
			req.Topics[i].Partitions = append(req.Topics[i].Partitions, rp)
			return
		}
	}
	rt := kmsg.NewFetchRequestTopic()
	rt.TopicID = id
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
}

// sleep waits for d (forever when negative), a poke or the end.
func (f *fetcher) sleep(ctx context.Context, d time.Duration) {
	var timeout <-chan time.Time
	if d >= 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-ctx.Done():
	case <-f.wake:
	case <-timeout:
	}
}

// backOff delays every partition of a failed request.
func (f *fetcher) backOff(batch map[partKey]sent) {
	at := f.m.cfg.Now().Add(f.m.cfg.FetchBackoff)
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range batch {
		s.f.retryAt = at
	}
}

// handle applies each partition of the answer.
func (f *fetcher) handle(resp *kmsg.FetchResponse, batch map[partKey]sent) {
	for ti := range resp.Topics {
		rt := &resp.Topics[ti]
		for pi := range rt.Partitions {
			rp := &rt.Partitions[pi]
			s, ok := batch[partKey{rt.TopicID, rp.Partition}]
			if !ok {
				continue
			}
			out, err := s.f.p.applyFetch(f.leader, s.epoch, s.offset, rp, f.m.cfg.Dir)
			if err != nil {
				f.m.cfg.Logger.Debug("replica fetch of a partition failed", "partition", s.f.p.TP.DirName(), "leader", f.leader, "err", err)
			}
			f.settle(s, out, err)
		}
	}
}

// settle records what a partition does next, unless it was set anew
// meanwhile (a new epoch from the image).
func (f *fetcher) settle(s sent, out fetchOutcome, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.parts[s.f.p.TP] != s.f {
		return
	}
	switch out {
	case fetchPause:
		s.f.paused = true
	case fetchRetry:
		s.f.retryAt = f.m.cfg.Now().Add(f.m.cfg.FetchBackoff)
		if errors.Is(err, kerr.UnknownLeaderEpoch) {
			// The leader has not applied the image yet: soon it will.
			s.f.retryAt = f.m.cfg.Now().Add(f.m.cfg.FetchBackoff / 10)
		}
	}
}
