package controller

// Topic admin: CreateTopics (KIP-4; validate_only; defaults of KIP-464 when
// partitions or replication factor are -1), DeleteTopics (by name or id,
// KIP-516) and CreatePartitions (KIP-195).

import (
	"context"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/samsa-io/samsa/internal/metadata"
)

// maxPartitionsPerRequest bounds the partitions one request may create,
// as Kafka's controller does (MAX_PARTITIONS_PER_BATCH): a request cannot
// make it allocate or create without limit.
const maxPartitionsPerRequest = 10000

// ValidateTopicName applies Kafka's topic name rules.
func ValidateTopicName(name string) error {
	if err := metadata.ValidTopicName(name); err != nil {
		return errorf(kerr.InvalidTopicException, "%v", err)
	}
	return nil
}

// TopicSpec is one topic of a CreateTopics request.
type TopicSpec struct {
	Name              string
	Partitions        int32     // -1: num.partitions
	ReplicationFactor int16     // -1: default.replication.factor
	Assignment        [][]int32 // explicit replicas per partition; overrides the two above
	Configs           map[string]*string
	// Internal allows the names of internal topics (__consumer_offsets,
	// __transaction_state), which only the broker's coordinators create.
	Internal bool
}

// internalTopics are the topics Kafka's coordinators own.
var internalTopics = map[string]bool{"__consumer_offsets": true, "__transaction_state": true}

// CreatedTopic is what CreateTopics made (or would make, validating only).
type CreatedTopic struct {
	ID                UUID
	Partitions        int32
	ReplicationFactor int16
	Err               error
}

// UUID re-exports the topic id type for callers of this package.
type UUID = metadata.UUID

// CreateTopics creates each valid topic; each topic succeeds or fails on
// its own, as in Kafka. With validateOnly nothing is written.
func (c *Controller) CreateTopics(ctx context.Context, specs []TopicSpec, validateOnly bool) []CreatedTopic {
	c.mu.Lock()
	defer c.mu.Unlock()
	im := c.store.Image()
	out := make([]CreatedTopic, len(specs))
	var recs []metadata.Record
	dup := repeated(specs, func(s TopicSpec) string { return s.Name })
	total := 0
	for i, s := range specs {
		if dup[s.Name] {
			out[i].Err = errorf(kerr.InvalidRequest, "topic %q appears more than once in the request", s.Name)
			continue
		}
		topicRecs, res := c.planTopic(im, s)
		if res.Err == nil && total+int(res.Partitions) > maxPartitionsPerRequest {
			res = CreatedTopic{Err: tooManyPartitions()}
		}
		out[i] = res
		if res.Err == nil {
			total += int(res.Partitions)
			recs = append(recs, topicRecs...)
		}
	}
	if validateOnly {
		return out
	}
	if err := c.propose(ctx, recs); err != nil {
		for i := range out {
			if out[i].Err == nil {
				out[i].Err = err
			}
		}
	}
	return out
}

func (c *Controller) planTopic(im *metadata.Image, s TopicSpec) ([]metadata.Record, CreatedTopic) {
	fail := func(err error) ([]metadata.Record, CreatedTopic) { return nil, CreatedTopic{Err: err} }
	if err := ValidateTopicName(s.Name); err != nil {
		return fail(err)
	}
	if internalTopics[s.Name] && !s.Internal {
		return fail(errorf(kerr.InvalidRequest, "creation of internal topic %s is prohibited", s.Name))
	}
	if im.Topic(s.Name) != nil {
		return fail(errorf(kerr.TopicAlreadyExists, "topic %q already exists", s.Name))
	}
	if other := collision(im, s.Name); other != "" {
		return fail(errorf(kerr.InvalidTopicException, "topic %q collides with existing topic %q ('.' and '_' are the same in metric names)", s.Name, other))
	}
	if c.cfg.ValidateTopicConfigs != nil {
		if err := c.cfg.ValidateTopicConfigs(s.Configs); err != nil {
			return fail(errorf(kerr.InvalidConfig, "%v", err))
		}
	}
	assign, err := c.assignment(im, s)
	if err != nil {
		return fail(err)
	}
	id := metadata.NewUUID()
	recs := []metadata.Record{{Topic: &metadata.TopicRecord{Name: s.Name, ID: id}}}
	recs = append(recs, partitionRecords(im, id, 0, assign)...)
	for _, name := range sortedKeys(s.Configs) {
		if v := s.Configs[name]; v != nil {
			recs = append(recs, metadata.Record{Config: &metadata.ConfigRecord{
				ResourceType: metadata.ResourceTopic, ResourceName: s.Name, Name: name, Value: v}})
		}
	}
	return recs, CreatedTopic{ID: id, Partitions: int32(len(assign)), ReplicationFactor: int16(len(assign[0]))}
}

// collision finds an existing topic whose name equals name once '.' and
// '_' are treated alike (Kafka refuses such pairs).
func collision(im *metadata.Image, name string) string {
	norm := func(s string) string { return strings.ReplaceAll(s, ".", "_") }
	if !strings.ContainsAny(name, "._") {
		return ""
	}
	for _, other := range im.TopicNames() {
		if other != name && norm(other) == norm(name) {
			return other
		}
	}
	return ""
}

// partitionRecords creates partitions: the ISR is the active replicas
// (all of them, placed), the leader its first, as in Kafka's
// createPartitions.
func partitionRecords(im *metadata.Image, id metadata.UUID, first int, assign [][]int32) []metadata.Record {
	recs := make([]metadata.Record, 0, len(assign))
	for i, replicas := range assign {
		isr := slices.DeleteFunc(slices.Clone(replicas), func(r int32) bool { return !isActive(im, r) })
		recs = append(recs, metadata.Record{Partition: &metadata.PartitionRecord{
			TopicID: id, Partition: int32(first + i), Replicas: replicas, ISR: isr, Leader: isr[0],
		}})
	}
	return recs
}

// assignment returns the replicas of each new partition: the explicit
// assignment, validated, or a placement over the active brokers.
func (c *Controller) assignment(im *metadata.Image, s TopicSpec) ([][]int32, error) {
	if len(s.Assignment) > 0 {
		if len(s.Assignment) > maxPartitionsPerRequest {
			return nil, tooManyPartitions()
		}
		if s.Partitions != -1 || s.ReplicationFactor != -1 {
			return nil, errorf(kerr.InvalidRequest, "give either an assignment or partitions and replication factor, not both")
		}
		return validAssignment(im, s.Assignment)
	}
	parts, rf := s.Partitions, s.ReplicationFactor
	if parts == -1 {
		parts = c.cfg.DefaultPartitions
	}
	if rf == -1 {
		rf = c.cfg.DefaultReplicationFactor
	}
	if parts <= 0 {
		return nil, errorf(kerr.InvalidPartitions, "number of partitions must be larger than 0, got %d", parts)
	}
	if parts > maxPartitionsPerRequest {
		return nil, tooManyPartitions()
	}
	if rf <= 0 {
		return nil, errorf(kerr.InvalidReplicationFactor, "replication factor must be larger than 0, got %d", rf)
	}
	live := activeBrokers(im)
	if int(rf) > len(live) {
		return nil, errorf(kerr.InvalidReplicationFactor, "replication factor %d is larger than the %d available brokers", rf, len(live))
	}
	return c.place(live, int(parts), int(rf)), nil
}

func tooManyPartitions() error {
	return errorf(kerr.PolicyViolation, "excessively large number of partitions per request (the limit is %d)", maxPartitionsPerRequest)
}

// validAssignment checks an explicit assignment as Kafka's
// validateManualPartitionAssignment does: registered brokers, fenced ones
// included, none twice, one replication factor, and at least one active
// replica per partition to lead it.
func validAssignment(im *metadata.Image, assign [][]int32) ([][]int32, error) {
	rf := len(assign[0])
	for p, replicas := range assign {
		if len(replicas) != rf {
			return nil, errorf(kerr.InvalidReplicaAssignment, "partition %d has %d replicas; every partition needs the same number, at least 1", p, len(replicas))
		}
		if err := checkAssignment(im, replicas); err != nil {
			return nil, err
		}
		if !slices.ContainsFunc(replicas, activeIn(im)) {
			return nil, errorf(kerr.InvalidReplicaAssignment, "every broker of partition %d is fenced or shutting down", p)
		}
	}
	return assign, nil
}

// TopicRef names a topic by name or, when Name is empty, by id.
type TopicRef struct {
	Name string
	ID   metadata.UUID
}

// DeletedTopic is the result of deleting one topic.
type DeletedTopic struct {
	Name string
	ID   metadata.UUID
	Err  error
}

// DeleteTopics deletes topics by name or id.
func (c *Controller) DeleteTopics(ctx context.Context, refs []TopicRef) []DeletedTopic {
	c.mu.Lock()
	defer c.mu.Unlock()
	im := c.store.Image()
	out := make([]DeletedTopic, len(refs))
	var recs []metadata.Record
	seen := map[metadata.UUID]bool{}
	for i, ref := range refs {
		out[i] = DeletedTopic{Name: ref.Name, ID: ref.ID}
		t := im.Topic(ref.Name)
		if ref.Name == "" {
			t = im.TopicByID(ref.ID)
		}
		switch {
		case !c.cfg.DeleteTopicEnable:
			out[i].Err = errorf(kerr.TopicDeletionDisabled, "delete.topic.enable is false")
		case t == nil && ref.Name == "":
			out[i].Err = errorf(kerr.UnknownTopicID, "no topic has id %s", ref.ID)
		case t == nil:
			out[i].Err = errorf(kerr.UnknownTopicOrPartition, "no topic %q", ref.Name)
		default:
			out[i].Name, out[i].ID = t.Name, t.ID
			if !seen[t.ID] {
				seen[t.ID] = true
				recs = append(recs, metadata.Record{RemoveTopic: &metadata.RemoveTopicRecord{ID: t.ID}})
			}
		}
	}
	if err := c.propose(ctx, recs); err != nil {
		for i := range out {
			if out[i].Err == nil {
				out[i].Err = err
			}
		}
	}
	return out
}

// PartitionsSpec is one topic of a CreatePartitions request.
type PartitionsSpec struct {
	Topic      string
	Count      int32     // the new total
	Assignment [][]int32 // replicas of the new partitions, optional
}

// CreatePartitions raises topics' partition counts.
// A topic named twice in one request fails both times with
// INVALID_REQUEST, as in Kafka.
func (c *Controller) CreatePartitions(ctx context.Context, specs []PartitionsSpec, validateOnly bool) []error {
	dup := repeated(specs, func(s PartitionsSpec) string { return s.Topic })
	total := 0
	return planEach(c, ctx, specs, validateOnly, func(im *metadata.Image, s PartitionsSpec) ([]metadata.Record, error) {
		if dup[s.Topic] {
			return nil, errorf(kerr.InvalidRequest, "topic %q appears more than once in the request", s.Topic)
		}
		recs, err := c.planPartitions(im, s)
		if total += len(recs); total > maxPartitionsPerRequest {
			return nil, tooManyPartitions()
		}
		return recs, err
	})
}

// repeated returns the keys that occur more than once among items.
func repeated[T any](items []T, key func(T) string) map[string]bool {
	seen, dup := map[string]bool{}, map[string]bool{}
	for _, it := range items {
		k := key(it)
		dup[k] = dup[k] || seen[k]
		seen[k] = true
	}
	return dup
}

func (c *Controller) planPartitions(im *metadata.Image, s PartitionsSpec) ([]metadata.Record, error) {
	t := im.Topic(s.Topic)
	if t == nil {
		return nil, errorf(kerr.UnknownTopicOrPartition, "no topic %q", s.Topic)
	}
	have := int32(len(t.Partitions))
	if s.Count <= have {
		return nil, errorf(kerr.InvalidPartitions, "topic %q has %d partitions; the new count %d must be larger", s.Topic, have, s.Count)
	}
	spec := TopicSpec{Partitions: s.Count - have, ReplicationFactor: int16(len(t.Partitions[0].Replicas))}
	if len(s.Assignment) > 0 {
		if int32(len(s.Assignment)) != s.Count-have {
			return nil, errorf(kerr.InvalidReplicaAssignment, "%d assignments for %d new partitions", len(s.Assignment), s.Count-have)
		}
		spec = TopicSpec{Partitions: -1, ReplicationFactor: -1, Assignment: s.Assignment}
	}
	assign, err := c.assignment(im, spec)
	if err != nil {
		return nil, err
	}
	if rf := len(t.Partitions[0].Replicas); len(s.Assignment) > 0 && len(assign[0]) != rf {
		return nil, errorf(kerr.InvalidReplicaAssignment, "the new partitions have %d replicas, the topic's have %d", len(assign[0]), rf)
	}
	return partitionRecords(im, t.ID, int(have), assign), nil
}

func sortedKeys(m map[string]*string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
