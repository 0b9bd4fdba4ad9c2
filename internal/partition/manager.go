package partition

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/samsa-io/samsa/internal/log"
	"github.com/samsa-io/samsa/internal/metadata"
)

// ISRUpdater sends a leader's ISR proposal to the controller (Kafka's
// AlterPartition, KIP-497) and returns the partition's state as the
// controller committed it. leaderEpoch and partitionEpoch are the state
// the proposal was made from; the controller refuses stale ones.
type ISRUpdater interface {
	AlterPartition(ctx context.Context, topicID metadata.UUID, partition int32, leaderEpoch, partitionEpoch int32, isr []int32) (metadata.Partition, error)
}

// Config wires a manager.
type Config struct {
	NodeID int32
	Dir    *log.Dir
	// LogConfig returns the effective log configuration of a topic in an
	// image (topic overrides over broker configs over defaults).
	LogConfig func(im *metadata.Image, topic string) log.Config
	// MinInsyncReplicas returns a topic's min.insync.replicas in an image
	// (topic config, else broker config, else 1); nil: 1.
	MinInsyncReplicas func(im *metadata.Image, topic string) int
	// ReplicaLagTimeMax is replica.lag.time.max.ms: an ISR member not
	// caught up for this long is removed (default 30 s).
	ReplicaLagTimeMax time.Duration
	// LeaderClient fetches from leaders as a follower; nil: partitions
	// this broker follows are not fetched.
	LeaderClient LeaderClient
	// ISRUpdater proposes ISR changes; nil: the ISR never changes here.
	ISRUpdater ISRUpdater
	// BrokerEpoch is this broker's epoch from its registration, sent in
	// replica fetches (KIP-903); nil: -1.
	BrokerEpoch func() int64
	// Replica fetch settings (Kafka's replica.fetch.wait.max.ms,
	// replica.fetch.backoff.ms, replica.fetch.max.bytes,
	// replica.fetch.response.max.bytes); zero: Kafka's defaults.
	FetchWait             time.Duration
	FetchBackoff          time.Duration
	FetchMaxBytes         int32
	FetchResponseMaxBytes int32
	// Now is the clock of follower fetch times and backoffs; nil: time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.BrokerEpoch == nil {
		c.BrokerEpoch = func() int64 { return -1 }
	}
	if c.MinInsyncReplicas == nil {
		c.MinInsyncReplicas = func(*metadata.Image, string) int { return 1 }
	}
	c.ReplicaLagTimeMax = orDefault(c.ReplicaLagTimeMax, 30*time.Second)
	c.FetchWait = orDefault(c.FetchWait, defaultFetchWait)
	c.FetchBackoff = orDefault(c.FetchBackoff, defaultFetchBackoff)
	c.FetchMaxBytes = orDefault(c.FetchMaxBytes, defaultFetchMaxBytes)
	c.FetchResponseMaxBytes = orDefault(c.FetchResponseMaxBytes, defaultFetchResponseBytes)
}

func orDefault[T time.Duration | int32](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// Manager holds the partitions this broker hosts and follows the image.
type Manager struct {
	cfg Config
	// ctx ends with Close: it stops the fetchers and ISR proposals, which
	// wg tracks.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// goMu orders goroutine starts (spawn) before Close's wait.
	goMu   sync.Mutex
	closed bool

	mu    sync.RWMutex
	parts map[log.TopicPartition]*Partition
	// fetchers fetch from each leader broker; following names the leader
	// each followed partition's fetcher fetches from.
	fetchers  map[int32]*fetcher
	following map[log.TopicPartition]int32
	// failed holds partitions whose log could not be opened or created:
	// they answer KAFKA_STORAGE_ERROR until the broker restarts, or until
	// their topic goes (a new topic of that name tries again).
	failed map[log.TopicPartition]failure
	// started: Start has run. Images published before it (the replay of
	// the metadata log at boot) are intermediate states: acting on them
	// could delete the log of a topic that a later entry recreates.
	started bool
}

type failure struct {
	topicID metadata.UUID
	err     error
}

// NewManager returns a manager with no partitions; Apply gives it some.
func NewManager(cfg Config) *Manager {
	cfg.setDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	return &Manager{cfg: cfg, ctx: ctx, cancel: cancel, parts: map[log.TopicPartition]*Partition{},
		failed: map[log.TopicPartition]failure{}, fetchers: map[int32]*fetcher{}, following: map[log.TopicPartition]int32{}}
}

// Close stops the follower fetchers and ISR proposals and waits for them.
// The broker calls it before closing the log directory.
func (m *Manager) Close() {
	m.goMu.Lock()
	m.closed = true
	m.cancel()
	m.goMu.Unlock()
	m.wg.Wait()
}

// spawn runs fn in a goroutine Close waits for, unless closed.
func (m *Manager) spawn(fn func()) {
	m.goMu.Lock()
	defer m.goMu.Unlock()
	if !m.closed {
		m.wg.Go(fn)
	}
}

// CheckISR removes from the ISR of every partition this broker leads the
// followers that have not caught up within replica.lag.time.max.ms, and
// sends failed ISR proposals again. The broker calls it every
// replica.lag.time.max.ms / 2, as Kafka's isr-expiration task runs.
func (m *Manager) CheckISR(now time.Time) {
	for _, p := range m.Partitions() {
		p.checkISR(now)
	}
}

// sendAlter sends proposal c of p to the controller.
func (m *Manager) sendAlter(p *Partition, c *isrChange) {
	if m.cfg.ISRUpdater == nil {
		return
	}
	m.spawn(func() {
		res, err := m.cfg.ISRUpdater.AlterPartition(m.ctx, p.TopicID, p.TP.Partition, c.leaderEpoch, c.partitionEpoch, c.isr)
		if err != nil {
			m.cfg.Logger.Warn("ISR change failed", "partition", p.TP.DirName(), "isr", c.isr, "err", err)
		}
		p.alterDone(c, res, err)
	})
}

// Get returns a hosted partition, or an error saying why there is none.
func (m *Manager) Get(topic string, partition int32) (*Partition, error) {
	tp := log.TopicPartition{Topic: topic, Partition: partition}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if p := m.parts[tp]; p != nil {
		return p, nil
	}
	if f, ok := m.failed[tp]; ok {
		return nil, fmt.Errorf("%w: %v", ErrStorageFail, f.err)
	}
	return nil, ErrUnknown
}

// RecordHighWatermarks records each partition's high watermark in its
// log, for the log directory's next checkpoint
// (replication-offset-checkpoint).
func (m *Manager) RecordHighWatermarks() {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, p := range m.parts {
		p.log.SetHighWatermark(p.hw.Load())
	}
}

// Partitions returns every hosted partition, sorted.
func (m *Manager) Partitions() []*Partition {
	m.mu.RLock()
	defer m.mu.RUnlock()
	keys := slices.SortedFunc(maps.Keys(m.parts), func(a, b log.TopicPartition) int {
		if a.Topic != b.Topic {
			if a.Topic < b.Topic {
				return -1
			}
			return 1
		}
		return int(a.Partition - b.Partition)
	})
	out := make([]*Partition, len(keys))
	for i, k := range keys {
		out[i] = m.parts[k]
	}
	return out
}

// Start reconciles the logs on disk with the image once the metadata log
// has been replayed: it opens or creates the partitions the image gives
// this broker and deletes the logs it does not. Apply acts from then on.
func (m *Manager) Start(im *metadata.Image) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.started = true
	m.apply(nil, im)
	m.removeStrays()
}

// Apply follows a new image: it removes partitions whose topic is gone (or
// was recreated under a new id) or that no longer list this broker, creates
// or opens the ones that do, and updates leadership and configs. The
// metadata store calls it in log order.
func (m *Manager) Apply(old, cur *metadata.Image) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.started {
		m.apply(old, cur)
	}
}

func (m *Manager) apply(old, cur *metadata.Image) {
	for tp, p := range m.parts {
		if !m.hosts(cur, tp, p.TopicID) {
			m.remove(tp)
		}
	}
	for tp, f := range m.failed {
		if !m.hosts(cur, tp, f.topicID) {
			delete(m.failed, tp)
		}
	}
	for _, name := range cur.TopicNames() {
		t := cur.Topic(name)
		cfgChanged := old == nil || !maps.Equal(old.TopicConfigs(name), cur.TopicConfigs(name)) || brokerConfigsChanged(old, cur)
		for i, part := range t.Partitions {
			if slices.Contains(part.Replicas, m.cfg.NodeID) {
				m.ensure(cur, t, int32(i), part, cfgChanged)
			}
		}
	}
}

func brokerConfigsChanged(old, cur *metadata.Image) bool {
	for _, b := range cur.Brokers() {
		k := metadata.ConfigKey{Type: metadata.ResourceBroker, Name: fmt.Sprint(b.ID)}
		if !maps.Equal(old.Configs(k), cur.Configs(k)) {
			return true
		}
	}
	k := metadata.ConfigKey{Type: metadata.ResourceBroker}
	return !maps.Equal(old.Configs(k), cur.Configs(k))
}

func (m *Manager) hosts(im *metadata.Image, tp log.TopicPartition, id metadata.UUID) bool {
	t := im.Topic(tp.Topic)
	if t == nil || t.ID != id || int(tp.Partition) >= len(t.Partitions) {
		return false
	}
	return slices.Contains(t.Partitions[tp.Partition].Replicas, m.cfg.NodeID)
}

func (m *Manager) remove(tp log.TopicPartition) {
	m.unfollow(tp)
	if p := m.parts[tp]; p != nil {
		p.becomeFollower(metadata.Partition{Leader: -1, LeaderEpoch: p.LeaderEpoch()})
		defer p.wakeAll() // after the delete: a woken fetch finds it gone
	}
	delete(m.parts, tp)
	delete(m.failed, tp)
	if err := m.cfg.Dir.Delete(tp); err != nil {
		m.cfg.Logger.Error("deleting partition log", "partition", tp.DirName(), "err", err)
	}
}

// removeStrays deletes logs on disk that the image does not give us: a
// topic deleted while this broker was down.
func (m *Manager) removeStrays() {
	for _, tp := range m.cfg.Dir.Partitions() {
		if _, failed := m.failed[tp]; m.parts[tp] == nil && !failed {
			m.cfg.Logger.Info("deleting the log of a partition no longer in the metadata", "partition", tp.DirName())
			if err := m.cfg.Dir.Delete(tp); err != nil {
				m.cfg.Logger.Error("deleting stray partition log", "partition", tp.DirName(), "err", err)
			}
		}
	}
}

// ensure makes partition i of t hosted and current: leading, or following
// the image's leader.
func (m *Manager) ensure(im *metadata.Image, t *metadata.Topic, i int32, part metadata.Partition, cfgChanged bool) {
	tp := log.TopicPartition{Topic: t.Name, Partition: i}
	p := m.parts[tp]
	if p == nil {
		if _, failed := m.failed[tp]; failed {
			return
		}
		var err error
		if p, err = m.open(im, tp, t.ID); err != nil {
			m.failed[tp] = failure{t.ID, err}
			m.cfg.Logger.Error("opening partition log", "partition", tp.DirName(), "err", err)
			return
		}
		if len(part.Replicas) > 1 {
			// Replicated: the high watermark starts at the checkpointed one
			// (replication-offset-checkpoint), within the log (a crash in
			// page-cache mode may have cut the log below it), and rises
			// as the ISR fetches.
			p.hw.Store(min(max(p.log.HighWatermark(), p.log.LogStartOffset()), p.log.LogEndOffset()))
		}
		m.parts[tp] = p
	} else if cfgChanged {
		if err := p.log.SetConfig(m.cfg.LogConfig(im, t.Name)); err != nil {
			m.cfg.Logger.Error("applying topic config", "partition", tp.DirName(), "err", err)
		}
	}
	if part.Leader == m.cfg.NodeID {
		m.unfollow(tp)
		p.becomeLeader(part, m.leaderConfig(im, t.Name))
		return
	}
	if p.IsLeader() || p.LeaderEpoch() != part.LeaderEpoch || !p.followingAt(part.Leader, part.LeaderEpoch) {
		p.becomeFollower(part)
		m.follow(p, part.Leader, part.LeaderEpoch)
	}
}

// leaderConfig is what leading a partition of topic takes from the image.
func (m *Manager) leaderConfig(im *metadata.Image, topic string) leaderConfig {
	brokers := map[int32]int64{}
	for _, b := range im.Brokers() {
		if !b.Fenced && !b.InControlledShutdown {
			brokers[b.ID] = b.Epoch
		}
	}
	return leaderConfig{self: m.cfg.NodeID, minISR: m.cfg.MinInsyncReplicas(im, topic), lagMax: m.cfg.ReplicaLagTimeMax, brokers: brokers}
}

// follow makes the fetcher of leader fetch p at epoch, moving p from the
// fetcher of its previous leader; with no leader (-1) or no LeaderClient,
// nothing fetches it.
func (m *Manager) follow(p *Partition, leader, epoch int32) {
	if prev, ok := m.following[p.TP]; ok && prev != leader {
		m.unfollow(p.TP)
	}
	if leader < 0 || m.cfg.LeaderClient == nil {
		return
	}
	f := m.fetchers[leader]
	if f == nil {
		f = m.startFetcher(leader)
		m.fetchers[leader] = f
	}
	m.following[p.TP] = leader
	f.set(p, epoch)
}

// unfollow stops fetching tp; a fetcher left with nothing stops.
func (m *Manager) unfollow(tp log.TopicPartition) {
	leader, ok := m.following[tp]
	if !ok {
		return
	}
	delete(m.following, tp)
	if f := m.fetchers[leader]; f != nil && f.drop(tp) {
		f.stop()
		delete(m.fetchers, leader)
	}
}

// open returns the partition's log: the one on disk when it belongs to the
// same topic id, else a new one (an old log of a recreated topic is
// deleted first).
func (m *Manager) open(im *metadata.Image, tp log.TopicPartition, id metadata.UUID) (*Partition, error) {
	d := m.cfg.Dir
	if l := d.Log(tp); l != nil {
		onDisk, err := d.TopicID(tp)
		if err != nil {
			return nil, err
		}
		if onDisk == id.String() {
			if err := l.SetConfig(m.cfg.LogConfig(im, tp.Topic)); err != nil {
				return nil, err
			}
			return m.newPartition(tp, id, l), nil
		}
		m.cfg.Logger.Info("deleting the log of an older topic of the same name", "partition", tp.DirName(), "old_id", onDisk, "id", id)
		if err := d.Delete(tp); err != nil {
			return nil, err
		}
	}
	l, err := d.Create(tp)
	if err != nil {
		return nil, err
	}
	if err := l.SetConfig(m.cfg.LogConfig(im, tp.Topic)); err != nil {
		return nil, err
	}
	if err := d.SetTopicID(tp, id.String()); err != nil {
		return nil, err
	}
	return m.newPartition(tp, id, l), nil
}

func (m *Manager) newPartition(tp log.TopicPartition, id metadata.UUID, l *log.Log) *Partition {
	p := newPartition(tp, id, l, m.cfg.Now)
	p.alter = m.sendAlter
	return p
}
