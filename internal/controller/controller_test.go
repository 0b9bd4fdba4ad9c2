package controller

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/samsa-io/samsa/internal/metadata"
)

// logProposer is a metadata log of one voter in memory: it assigns indexes
// and applies entries to the store in order, as the quorum would.
type logProposer struct {
	mu    sync.Mutex
	store *metadata.Store
	index uint64
	fail  error
}

func (p *logProposer) Propose(ctx context.Context, data []byte) (uint64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail != nil {
		return 0, p.fail
	}
	p.index++
	return p.index, p.store.Apply(p.index, data)
}

func newController(t *testing.T, brokers ...int32) (*Controller, *metadata.Store, *logProposer) {
	t.Helper()
	store := metadata.NewStore()
	prop := &logProposer{store: store}
	c := New(Config{DefaultPartitions: 3, DefaultReplicationFactor: 1, DeleteTopicEnable: true,
		ValidateTopicConfigs: func(m map[string]*string) error {
			for k := range m {
				if k != "retention.ms" && k != "cleanup.policy" {
					return fmt.Errorf("unknown config %q", k)
				}
			}
			return nil
		}}, store, prop)
	for _, id := range brokers {
		if err := c.RegisterBroker(context.Background(), metadata.BrokerRecord{ID: id}); err != nil {
			t.Fatal(err)
		}
	}
	return c, store, prop
}

func code(err error) *kerr.Error {
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke
	}
	return nil
}

func sp(s string) *string { return &s }

func TestCreateTopics(t *testing.T) {
	c, store, _ := newController(t, 1, 2, 3)
	ctx := context.Background()
	res := c.CreateTopics(ctx, []TopicSpec{
		{Name: "a", Partitions: -1, ReplicationFactor: -1},
		{Name: "b", Partitions: 4, ReplicationFactor: 3, Configs: map[string]*string{"retention.ms": sp("10")}},
		{Name: "bad/name", Partitions: 1, ReplicationFactor: 1},
		{Name: "..", Partitions: 1, ReplicationFactor: 1},
		{Name: string(make([]byte, 250)), Partitions: 1, ReplicationFactor: 1},
		{Name: "c", Partitions: 0, ReplicationFactor: 1},
		{Name: "d", Partitions: 1, ReplicationFactor: 4},
		{Name: "e", Partitions: 1, ReplicationFactor: 1, Configs: map[string]*string{"nope": sp("1")}},
		{Name: "f", Partitions: -1, ReplicationFactor: -1, Assignment: [][]int32{{1, 2}, {2, 3}}},
		{Name: "g", Partitions: 1, ReplicationFactor: 1, Assignment: [][]int32{{1}}},
		{Name: "h", Partitions: -1, ReplicationFactor: -1, Assignment: [][]int32{{1, 1}}},
		{Name: "i", Partitions: -1, ReplicationFactor: -1, Assignment: [][]int32{{9}}},
		{Name: "j", Partitions: -1, ReplicationFactor: -1, Assignment: [][]int32{{1}, {1, 2}}},
	}, false)
	want := []*kerr.Error{nil, nil, kerr.InvalidTopicException, kerr.InvalidTopicException,
		kerr.InvalidTopicException, kerr.InvalidPartitions, kerr.InvalidReplicationFactor, kerr.InvalidConfig, nil,
		kerr.InvalidRequest, kerr.InvalidReplicaAssignment, kerr.InvalidReplicaAssignment, kerr.InvalidReplicaAssignment}
	for i, w := range want {
		if got := code(res[i].Err); got != w {
			t.Errorf("topic %d: got %v, want %v", i, res[i].Err, w)
		}
	}
	im := store.Image()
	if a := im.Topic("a"); a == nil || len(a.Partitions) != 3 || a.ID != res[0].ID {
		t.Fatalf("a: %+v", a)
	}
	again := c.CreateTopics(ctx, []TopicSpec{{Name: "a", Partitions: 1, ReplicationFactor: 1},
		{Name: "z", Partitions: 1, ReplicationFactor: 1}, {Name: "z", Partitions: 2, ReplicationFactor: 1}}, false)
	if code(again[0].Err) != kerr.TopicAlreadyExists || code(again[1].Err) != kerr.InvalidRequest || code(again[2].Err) != kerr.InvalidRequest {
		t.Fatalf("existing and repeated names: %v %v %v", again[0].Err, again[1].Err, again[2].Err)
	}
	b := im.Topic("b")
	for i, p := range b.Partitions {
		if len(p.Replicas) != 3 || p.Leader != p.Replicas[0] || len(p.ISR) != 3 {
			t.Fatalf("b partition %d: %+v", i, p)
		}
	}
	// Round-robin spreads the preferred leaders across the brokers.
	leaders := map[int32]int{}
	for _, p := range b.Partitions {
		leaders[p.Leader]++
	}
	if len(leaders) != 3 {
		t.Fatalf("leaders of b not spread: %v", leaders)
	}
	if im.TopicConfigs("b")["retention.ms"] != "10" {
		t.Fatal("config of b not stored")
	}
	if f := im.Topic("f"); f == nil || f.Partitions[1].Replicas[0] != 2 {
		t.Fatalf("explicit assignment: %+v", f)
	}
	if n := im.NumTopics(); n != 3 {
		t.Fatalf("%d topics, want 3", n)
	}
}

func TestCreateTopicsValidateOnlyAndCollision(t *testing.T) {
	c, store, _ := newController(t, 1)
	ctx := context.Background()
	res := c.CreateTopics(ctx, []TopicSpec{{Name: "x.y", Partitions: 1, ReplicationFactor: 1}}, true)
	if res[0].Err != nil || res[0].Partitions != 1 || store.Image().Topic("x.y") != nil {
		t.Fatalf("validate only: %+v", res[0])
	}
	c.CreateTopics(ctx, []TopicSpec{{Name: "x.y", Partitions: 1, ReplicationFactor: 1}}, false)
	res = c.CreateTopics(ctx, []TopicSpec{{Name: "x_y", Partitions: 1, ReplicationFactor: 1}}, false)
	if code(res[0].Err) != kerr.InvalidTopicException {
		t.Fatalf("collision: %v", res[0].Err)
	}
}

func TestDeleteTopics(t *testing.T) {
	c, store, _ := newController(t, 1)
	ctx := context.Background()
	created := c.CreateTopics(ctx, []TopicSpec{{Name: "a", Partitions: 1, ReplicationFactor: 1}, {Name: "b", Partitions: 1, ReplicationFactor: 1}}, false)
	res := c.DeleteTopics(ctx, []TopicRef{{Name: "a"}, {ID: created[1].ID}, {Name: "zz"}, {ID: metadata.NewUUID()}})
	if res[0].Err != nil || res[1].Err != nil || res[1].Name != "b" || res[0].ID != created[0].ID {
		t.Fatalf("deletes: %+v", res)
	}
	if code(res[2].Err) != kerr.UnknownTopicOrPartition || code(res[3].Err) != kerr.UnknownTopicID {
		t.Fatalf("unknown: %v %v", res[2].Err, res[3].Err)
	}
	if store.Image().NumTopics() != 0 {
		t.Fatal("topics left")
	}
	c.cfg.DeleteTopicEnable = false
	c.CreateTopics(ctx, []TopicSpec{{Name: "a", Partitions: 1, ReplicationFactor: 1}}, false)
	if res := c.DeleteTopics(ctx, []TopicRef{{Name: "a"}}); code(res[0].Err) != kerr.TopicDeletionDisabled {
		t.Fatalf("disabled: %v", res[0].Err)
	}
}

func TestCreatePartitions(t *testing.T) {
	c, store, _ := newController(t, 1, 2)
	ctx := context.Background()
	c.CreateTopics(ctx, []TopicSpec{{Name: "a", Partitions: 2, ReplicationFactor: 2}}, false)
	errs := c.CreatePartitions(ctx, []PartitionsSpec{{Topic: "a", Count: 5}, {Topic: "nope", Count: 2}}, false)
	if errs[0] != nil || code(errs[1]) != kerr.UnknownTopicOrPartition {
		t.Fatalf("%v", errs)
	}
	if p := store.Image().Topic("a").Partitions; len(p) != 5 || len(p[4].Replicas) != 2 {
		t.Fatalf("partitions %+v", p)
	}
	errs = c.CreatePartitions(ctx, []PartitionsSpec{{Topic: "a", Count: 5}}, false)
	if code(errs[0]) != kerr.InvalidPartitions {
		t.Fatalf("%v", errs)
	}
	errs = c.CreatePartitions(ctx, []PartitionsSpec{{Topic: "a", Count: 7, Assignment: [][]int32{{2, 1}}}}, false)
	if code(errs[0]) != kerr.InvalidReplicaAssignment {
		t.Fatalf("%v", errs)
	}
	errs = c.CreatePartitions(ctx, []PartitionsSpec{{Topic: "a", Count: 6, Assignment: [][]int32{{2, 1}}}}, true)
	if errs[0] != nil || len(store.Image().Topic("a").Partitions) != 5 {
		t.Fatal("validate only wrote")
	}
}

func TestAlterConfigs(t *testing.T) {
	c, store, _ := newController(t, 1)
	ctx := context.Background()
	c.CreateTopics(ctx, []TopicSpec{{Name: "a", Partitions: 1, ReplicationFactor: 1,
		Configs: map[string]*string{"retention.ms": sp("5")}}}, false)
	errs := c.AlterConfigs(ctx, []ConfigChange{
		{Type: metadata.ResourceTopic, Name: "a", Incremental: true, Ops: []ConfigOp{
			{Name: "cleanup.policy", Op: OpAppend, Value: sp("compact")},
			{Name: "retention.ms", Op: OpDelete}}},
		{Type: metadata.ResourceTopic, Name: "nope", Incremental: true},
		{Type: metadata.ResourceBroker, Name: "7"},
	}, false)
	if errs[0] != nil || code(errs[1]) != kerr.UnknownTopicOrPartition || code(errs[2]) != kerr.InvalidRequest {
		t.Fatalf("%v", errs)
	}
	errs = c.AlterConfigs(ctx, []ConfigChange{{Type: metadata.ResourceTopic, Name: "a", Incremental: true,
		Ops: []ConfigOp{{Name: "bogus", Op: OpSet, Value: sp("1")}}}}, false)
	if code(errs[0]) != kerr.InvalidConfig {
		t.Fatalf("%v", errs)
	}
	got := store.Image().TopicConfigs("a")
	if len(got) != 1 || got["cleanup.policy"] != "compact" {
		t.Fatalf("configs %v", got)
	}
	c.AlterConfigs(ctx, []ConfigChange{{Type: metadata.ResourceTopic, Name: "a", Incremental: true, Ops: []ConfigOp{
		{Name: "cleanup.policy", Op: OpAppend, Value: sp("delete,compact")}}}}, false)
	if got := store.Image().TopicConfigs("a")["cleanup.policy"]; got != "compact,delete" {
		t.Fatalf("append: %q", got)
	}
	c.AlterConfigs(ctx, []ConfigChange{{Type: metadata.ResourceTopic, Name: "a", Incremental: true, Ops: []ConfigOp{
		{Name: "cleanup.policy", Op: OpSubtract, Value: sp("compact")}}}}, false)
	if got := store.Image().TopicConfigs("a")["cleanup.policy"]; got != "delete" {
		t.Fatalf("subtract: %q", got)
	}
	// Non-incremental replaces the whole set.
	c.AlterConfigs(ctx, []ConfigChange{{Type: metadata.ResourceTopic, Name: "a", Ops: []ConfigOp{{Name: "retention.ms", Value: sp("9")}}}}, false)
	if got := store.Image().TopicConfigs("a"); len(got) != 1 || got["retention.ms"] != "9" {
		t.Fatalf("replace: %v", got)
	}
	// Cluster-wide broker default.
	if errs := c.AlterConfigs(ctx, []ConfigChange{{Type: metadata.ResourceBroker, Name: "", Incremental: true,
		Ops: []ConfigOp{{Name: "log.retention.ms", Op: OpSet, Value: sp("1")}}}}, false); errs[0] != nil {
		t.Fatal(errs[0])
	}
	if store.Image().Configs(metadata.ConfigKey{Type: metadata.ResourceBroker})["log.retention.ms"] != "1" {
		t.Fatal("broker default not stored")
	}
}

func TestQuorumFailureIsReported(t *testing.T) {
	c, store, prop := newController(t, 1)
	prop.fail = errors.New("no quorum")
	res := c.CreateTopics(context.Background(), []TopicSpec{{Name: "a", Partitions: 1, ReplicationFactor: 1}}, false)
	if code(res[0].Err) != kerr.NotController || store.Image().Topic("a") != nil {
		t.Fatalf("%v", res[0].Err)
	}
	if Code(res[0].Err) != kerr.NotController.Code || Code(nil) != 0 || Code(errors.New("x")) != -1 {
		t.Fatal("Code mapping")
	}
}

// A topic or resource named twice in one request fails with
// INVALID_REQUEST and changes nothing, as in Kafka.
func TestDuplicatesInOneRequest(t *testing.T) {
	c, store, _ := newController(t, 1)
	ctx := context.Background()
	c.CreateTopics(ctx, []TopicSpec{{Name: "a", Partitions: 1, ReplicationFactor: 1}, {Name: "b", Partitions: 1, ReplicationFactor: 1}}, false)
	errs := c.CreatePartitions(ctx, []PartitionsSpec{{Topic: "a", Count: 2}, {Topic: "a", Count: 3}, {Topic: "b", Count: 2}}, false)
	if code(errs[0]) != kerr.InvalidRequest || code(errs[1]) != kerr.InvalidRequest || errs[2] != nil {
		t.Fatalf("%v", errs)
	}
	if n := len(store.Image().Topic("a").Partitions); n != 1 {
		t.Fatalf("a has %d partitions", n)
	}
	errs = c.AlterConfigs(ctx, []ConfigChange{
		{Type: metadata.ResourceTopic, Name: "a", Ops: []ConfigOp{{Name: "retention.ms", Value: sp("1")}}},
		{Type: metadata.ResourceTopic, Name: "a", Ops: []ConfigOp{{Name: "retention.ms", Value: sp("2")}}},
	}, false)
	if code(errs[0]) != kerr.InvalidRequest || code(errs[1]) != kerr.InvalidRequest || store.Image().TopicConfigs("a") != nil {
		t.Fatalf("%v", errs)
	}
}

// Clients may not create the coordinators' internal topics.
func TestInternalTopicsAreTheBrokers(t *testing.T) {
	c, _, _ := newController(t, 1)
	ctx := context.Background()
	res := c.CreateTopics(ctx, []TopicSpec{{Name: "__consumer_offsets", Partitions: 1, ReplicationFactor: 1}}, false)
	if code(res[0].Err) != kerr.InvalidRequest {
		t.Fatalf("client-created __consumer_offsets: %v", res[0].Err)
	}
	res = c.CreateTopics(ctx, []TopicSpec{{Name: "__consumer_offsets", Partitions: 1, ReplicationFactor: 1, Internal: true}}, false)
	if res[0].Err != nil {
		t.Fatalf("coordinator-created __consumer_offsets: %v", res[0].Err)
	}
}
