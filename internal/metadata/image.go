package metadata

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Partition is one partition's state in an image.
type Partition struct {
	Replicas       []int32
	ISR            []int32
	Leader         int32 // -1: no leader
	LeaderEpoch    int32
	PartitionEpoch int32
	// AddingReplicas and RemovingReplicas are set while a reassignment is
	// in progress (KIP-455); Replicas then holds both old and new replicas.
	AddingReplicas   []int32
	RemovingReplicas []int32
	// LeaderRecoveryState is 1 after an unclean election until the leader
	// recovers (KIP-704), else 0.
	LeaderRecoveryState int8
	// ELR are KIP-966's eligible leader replicas: replicas that left the
	// ISR while it was below min.insync.replicas, and so hold every record
	// below the high watermark (which does not advance then); one may lead
	// when the ISR is empty. LastKnownELR are the other replicas that were
	// in the ISR since it fell below min.insync.replicas (shown by
	// DescribeTopicPartitions). Both are empty while the ISR is at least
	// min.insync.replicas.
	ELR          []int32
	LastKnownELR []int32
}

// NoLeader is a partition's Leader when it has none.
const NoLeader int32 = -1

// Reassigning reports whether a reassignment is in progress.
func (p *Partition) Reassigning() bool {
	return len(p.AddingReplicas) > 0 || len(p.RemovingReplicas) > 0
}

// Record returns the record that sets partition id of topic to p.
func (p *Partition) Record(topic UUID, id int32) PartitionRecord {
	return PartitionRecord{
		TopicID: topic, Partition: id, Replicas: p.Replicas, ISR: p.ISR,
		Leader: p.Leader, LeaderEpoch: p.LeaderEpoch, PartitionEpoch: p.PartitionEpoch,
		AddingReplicas: p.AddingReplicas, RemovingReplicas: p.RemovingReplicas,
		LeaderRecoveryState: p.LeaderRecoveryState, ELR: p.ELR, LastKnownELR: p.LastKnownELR,
	}
}

// Topic is one topic in an image. Partitions is indexed by partition id.
type Topic struct {
	Name       string
	ID         UUID
	Partitions []Partition
}

// ConfigKey names a config resource.
type ConfigKey struct {
	Type int8
	Name string
}

// Image is the metadata at one point of the log. It is immutable: Apply
// builds a new image, sharing what did not change. Do not modify the maps
// or slices an image hands out.
type Image struct {
	// Index is the metadata log index of the last entry applied.
	Index    uint64
	brokers  map[int32]BrokerRecord
	topics   map[string]*Topic
	topicIDs map[UUID]*Topic
	configs  map[ConfigKey]map[string]string
	// nextProducerID is the first producer id no block has covered yet.
	nextProducerID int64
}

// Empty is the image before any record.
func Empty() *Image {
	return &Image{
		brokers:  map[int32]BrokerRecord{},
		topics:   map[string]*Topic{},
		topicIDs: map[UUID]*Topic{},
		configs:  map[ConfigKey]map[string]string{},
	}
}

// Broker returns a registered broker.
func (im *Image) Broker(id int32) (BrokerRecord, bool) {
	b, ok := im.brokers[id]
	return b, ok
}

// Brokers returns the registered brokers ordered by id.
func (im *Image) Brokers() []BrokerRecord {
	out := make([]BrokerRecord, 0, len(im.brokers))
	for _, id := range slices.Sorted(maps.Keys(im.brokers)) {
		out = append(out, im.brokers[id])
	}
	return out
}

// Topic returns a topic by name.
func (im *Image) Topic(name string) *Topic { return im.topics[name] }

// TopicByID returns a topic by id.
func (im *Image) TopicByID(id UUID) *Topic { return im.topicIDs[id] }

// TopicNames returns every topic's name, sorted.
func (im *Image) TopicNames() []string { return slices.Sorted(maps.Keys(im.topics)) }

// NumTopics is the number of topics.
func (im *Image) NumTopics() int { return len(im.topics) }

// NextProducerID is the first producer id not yet handed out in a block
// (Kafka's ProducerIdsImage.nextProducerId); 0 before any block.
func (im *Image) NextProducerID() int64 { return im.nextProducerID }

// Configs returns the configs set on a resource (nil when none).
func (im *Image) Configs(k ConfigKey) map[string]string { return im.configs[k] }

// TopicConfigs returns a topic's overrides (nil when none).
func (im *Image) TopicConfigs(topic string) map[string]string {
	return im.configs[ConfigKey{ResourceTopic, topic}]
}

// Apply returns the image after the records of the entry at index. It
// checks every record against the image and applies none of them if one is
// invalid, so an entry is all or nothing.
func (im *Image) Apply(index uint64, records []Record) (*Image, error) {
	next := im.clone()
	next.Index = index
	for i := range records {
		if err := next.apply(&records[i]); err != nil {
			return im, fmt.Errorf("metadata: entry %d record %d: %w", index, i, err)
		}
	}
	return next, nil
}

// clone copies the top-level maps; topics and config maps are copied when
// a record changes them.
func (im *Image) clone() *Image {
	return &Image{
		Index:    im.Index,
		brokers:  maps.Clone(im.brokers),
		topics:   maps.Clone(im.topics),
		topicIDs: maps.Clone(im.topicIDs),
		configs:  maps.Clone(im.configs),

		nextProducerID: im.nextProducerID,
	}
}

func (im *Image) apply(r *Record) error {
	switch {
	case r.Broker != nil:
		b := *r.Broker
		if b.RegisteredAt == 0 {
			b.RegisteredAt = im.Index
		}
		im.brokers[b.ID] = b
	case r.BrokerChange != nil:
		return im.changeBroker(r.BrokerChange)
	case r.Topic != nil:
		return im.addTopic(r.Topic)
	case r.Partition != nil:
		return im.setPartition(r.Partition)
	case r.RemoveTopic != nil:
		return im.removeTopic(r.RemoveTopic.ID)
	case r.Config != nil:
		im.setConfig(r.Config)
	case r.ProducerIDs != nil:
		// Blocks only move forward: an older or equal next id would hand
		// out ids again.
		if r.ProducerIDs.NextProducerID <= im.nextProducerID {
			return fmt.Errorf("producer id block ends at %d, not past the next id %d", r.ProducerIDs.NextProducerID, im.nextProducerID)
		}
		im.nextProducerID = r.ProducerIDs.NextProducerID
	default:
		return fmt.Errorf("empty record")
	}
	return nil
}

func (im *Image) changeBroker(c *BrokerChangeRecord) error {
	b, ok := im.brokers[c.ID]
	switch {
	case !ok:
		return fmt.Errorf("change of unregistered broker %d", c.ID)
	case b.Epoch != c.Epoch:
		return fmt.Errorf("change of broker %d at epoch %d, registered at epoch %d", c.ID, c.Epoch, b.Epoch)
	}
	if c.Fenced != nil {
		b.Fenced = *c.Fenced
	}
	if c.InControlledShutdown != nil {
		b.InControlledShutdown = *c.InControlledShutdown
	}
	im.brokers[c.ID] = b
	return nil
}

func (im *Image) addTopic(t *TopicRecord) error {
	if _, ok := im.topics[t.Name]; ok {
		return fmt.Errorf("topic %q exists", t.Name)
	}
	if _, ok := im.topicIDs[t.ID]; ok {
		return fmt.Errorf("topic id %s exists", t.ID)
	}
	nt := &Topic{Name: t.Name, ID: t.ID}
	im.topics[t.Name] = nt
	im.topicIDs[t.ID] = nt
	return nil
}

// setPartition sets a partition; partitions of a topic are created in
// order (0, 1, ...), so a record either replaces one or appends the next.
func (im *Image) setPartition(p *PartitionRecord) error {
	old := im.topicIDs[p.TopicID]
	if old == nil {
		return fmt.Errorf("partition of unknown topic %s", p.TopicID)
	}
	if p.Partition < 0 || int(p.Partition) > len(old.Partitions) {
		return fmt.Errorf("partition %d of %q out of order (has %d)", p.Partition, old.Name, len(old.Partitions))
	}
	nt := &Topic{Name: old.Name, ID: old.ID, Partitions: slices.Clone(old.Partitions)}
	part := Partition{
		Replicas:            slices.Clone(p.Replicas),
		ISR:                 slices.Clone(p.ISR),
		Leader:              p.Leader,
		LeaderEpoch:         p.LeaderEpoch,
		PartitionEpoch:      p.PartitionEpoch,
		AddingReplicas:      slices.Clone(p.AddingReplicas),
		RemovingReplicas:    slices.Clone(p.RemovingReplicas),
		LeaderRecoveryState: p.LeaderRecoveryState,
		ELR:                 slices.Clone(p.ELR),
		LastKnownELR:        slices.Clone(p.LastKnownELR),
	}
	if int(p.Partition) == len(nt.Partitions) {
		nt.Partitions = append(nt.Partitions, part)
	} else {
		nt.Partitions[p.Partition] = part
	}
	im.topics[nt.Name] = nt
	im.topicIDs[nt.ID] = nt
	return nil
}

func (im *Image) removeTopic(id UUID) error {
	t := im.topicIDs[id]
	if t == nil {
		return fmt.Errorf("remove of unknown topic %s", id)
	}
	delete(im.topicIDs, id)
	delete(im.topics, t.Name)
	delete(im.configs, ConfigKey{ResourceTopic, t.Name})
	return nil
}

func (im *Image) setConfig(c *ConfigRecord) {
	k := ConfigKey{c.ResourceType, c.ResourceName}
	m := maps.Clone(im.configs[k])
	if c.Value == nil {
		delete(m, c.Name)
	} else {
		if m == nil {
			m = map[string]string{}
		}
		m[c.Name] = *c.Value
	}
	if len(m) == 0 {
		delete(im.configs, k)
		return
	}
	im.configs[k] = m
}

// Records returns records that rebuild this image from Empty: the image's
// snapshot form, in a deterministic order.
func (im *Image) Records() []Record {
	var out []Record
	for _, b := range im.Brokers() {
		out = append(out, Record{Broker: &b})
	}
	for _, name := range im.TopicNames() {
		t := im.topics[name]
		out = append(out, Record{Topic: &TopicRecord{Name: t.Name, ID: t.ID}})
		for i, p := range t.Partitions {
			rec := p.Record(t.ID, int32(i))
			out = append(out, Record{Partition: &rec})
		}
	}
	keys := slices.SortedFunc(maps.Keys(im.configs), func(a, b ConfigKey) int {
		if a.Type != b.Type {
			return int(a.Type) - int(b.Type)
		}
		return strings.Compare(a.Name, b.Name)
	})
	for _, k := range keys {
		for _, name := range slices.Sorted(maps.Keys(im.configs[k])) {
			v := im.configs[k][name]
			out = append(out, Record{Config: &ConfigRecord{ResourceType: k.Type, ResourceName: k.Name, Name: name, Value: &v}})
		}
	}
	if im.nextProducerID > 0 {
		out = append(out, Record{ProducerIDs: &ProducerIDsRecord{BrokerID: -1, BrokerEpoch: -1, NextProducerID: im.nextProducerID}})
	}
	return out
}
