package partition

import (
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"

	"github.com/samsa-io/samsa/internal/log"
	"github.com/samsa-io/samsa/internal/metadata"
)

// Config wires a manager.
type Config struct {
	NodeID int32
	Dir    *log.Dir
	// LogConfig returns the effective log configuration of a topic in an
	// image (topic overrides over broker configs over defaults).
	LogConfig func(im *metadata.Image, topic string) log.Config
	Logger    *slog.Logger
}

// Manager holds the partitions this broker hosts and follows the image.
type Manager struct {
	cfg Config

	mu    sync.RWMutex
	parts map[log.TopicPartition]*Partition
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
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Manager{cfg: cfg, parts: map[log.TopicPartition]*Partition{}, failed: map[log.TopicPartition]failure{}}
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
	if p := m.parts[tp]; p != nil {
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

// ensure makes partition i of t hosted and current.
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
		m.parts[tp] = p
	} else if cfgChanged {
		if err := p.log.SetConfig(m.cfg.LogConfig(im, t.Name)); err != nil {
			m.cfg.Logger.Error("applying topic config", "partition", tp.DirName(), "err", err)
		}
	}
	p.leaderEpoch.Store(part.LeaderEpoch)
	p.leader.Store(part.Leader == m.cfg.NodeID)
	p.advance()
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
			return newPartition(tp, id, l), nil
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
	return newPartition(tp, id, l), nil
}
