package controller

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/internal/metadata"
)

// clusterOf registers and unfences brokers through the Kafka requests;
// racks[i] is broker i+1's rack ("" for none).
func clusterOf(t *testing.T, seed uint64, racks ...string) (*Controller, *metadata.Store) {
	t.Helper()
	store := metadata.NewStore()
	c := New(Config{DefaultPartitions: 1, DefaultReplicationFactor: 1, Rand: rand.New(rand.NewPCG(seed, seed))},
		store, &logProposer{store: store})
	ctx := context.Background()
	for i, rack := range racks {
		req := kmsg.NewPtrBrokerRegistrationRequest()
		req.BrokerID, req.IncarnationID = int32(i+1), metadata.NewUUID()
		if rack != "" {
			req.Rack = &rack
		}
		reg := c.KafkaBrokerRegistration(ctx, req)
		hb := kmsg.NewPtrBrokerHeartbeatRequest()
		hb.BrokerID, hb.BrokerEpoch, hb.CurrentMetadataOffset = req.BrokerID, reg.BrokerEpoch, int64(store.Image().Index)
		if resp := c.KafkaBrokerHeartbeat(ctx, hb); reg.ErrorCode != 0 || resp.ErrorCode != 0 || resp.IsFenced {
			t.Fatalf("broker %d: %d %+v", req.BrokerID, reg.ErrorCode, resp)
		}
	}
	return c, store
}

func rackOf(im *metadata.Image, id int32) string {
	b, _ := im.Broker(id)
	if b.Rack == nil {
		return ""
	}
	return *b.Rack
}

// Replicas spread across racks before they repeat one, brokers carry
// about equal replicas and leaderships, and the leader is the first
// replica (Kafka's StripedReplicaPlacer).
func TestPlacementSpreadsAcrossRacks(t *testing.T) {
	for seed := range uint64(20) {
		c, store := clusterOf(t, seed, "a", "a", "b", "b", "c", "c")
		res := c.CreateTopics(context.Background(), []TopicSpec{{Name: "t", Partitions: 60, ReplicationFactor: 3}}, false)
		if res[0].Err != nil {
			t.Fatal(res[0].Err)
		}
		im := store.Image()
		leaders, replicas := map[int32]int{}, map[int32]int{}
		for i, p := range im.Topic("t").Partitions {
			racks := map[string]bool{}
			for _, r := range p.Replicas {
				racks[rackOf(im, r)] = true
				replicas[r]++
			}
			if len(racks) != 3 || p.Leader != p.Replicas[0] || len(p.ISR) != 3 {
				t.Fatalf("seed %d partition %d: %+v on racks %v", seed, i, p, racks)
			}
			leaders[p.Leader]++
		}
		for id := int32(1); id <= 6; id++ {
			if leaders[id] < 6 || leaders[id] > 14 || replicas[id] < 24 || replicas[id] > 36 {
				t.Fatalf("seed %d: uneven spread: leaders %v replicas %v", seed, leaders, replicas)
			}
		}
	}
}

// With fewer racks than replicas, each rack gets a replica before any
// gets a second; brokers without a rack count as one rack.
func TestPlacementUnevenRacks(t *testing.T) {
	c, store := clusterOf(t, 7, "a", "a", "b", "", "")
	c.CreateTopics(context.Background(), []TopicSpec{{Name: "t", Partitions: 20, ReplicationFactor: 3}}, false)
	im := store.Image()
	for i, p := range im.Topic("t").Partitions {
		racks := map[string]bool{}
		for _, r := range p.Replicas {
			racks[rackOf(im, r)] = true
		}
		if len(racks) != 3 {
			t.Fatalf("partition %d: %v on %d racks", i, p.Replicas, len(racks))
		}
	}
}

// Placement uses only active brokers; explicit assignments may name
// registered fenced brokers, which stay out of the ISR, as in Kafka.
func TestPlacementAndFencedBrokers(t *testing.T) {
	c, store := clusterOf(t, 1, "", "", "")
	ctx := context.Background()
	hb := kmsg.NewPtrBrokerHeartbeatRequest()
	b3, _ := store.Image().Broker(3)
	hb.BrokerID, hb.BrokerEpoch, hb.WantFence = 3, b3.Epoch, true
	c.KafkaBrokerHeartbeat(ctx, hb)
	res := c.CreateTopics(ctx, []TopicSpec{
		{Name: "rf3", Partitions: 1, ReplicationFactor: 3},
		{Name: "rf2", Partitions: 4, ReplicationFactor: 2},
		{Name: "manual", Partitions: -1, ReplicationFactor: -1, Assignment: [][]int32{{3, 1}}},
		{Name: "fenced-only", Partitions: -1, ReplicationFactor: -1, Assignment: [][]int32{{3}}},
	}, false)
	if code(res[0].Err) != kerr.InvalidReplicationFactor || res[1].Err != nil || res[2].Err != nil || code(res[3].Err) != kerr.InvalidReplicaAssignment {
		t.Fatalf("%v %v %v %v", res[0].Err, res[1].Err, res[2].Err, res[3].Err)
	}
	im := store.Image()
	for _, p := range im.Topic("rf2").Partitions {
		for _, r := range p.Replicas {
			if r == 3 {
				t.Fatalf("placed on fenced broker 3: %+v", p)
			}
		}
	}
	if p := im.Topic("manual").Partitions[0]; p.Leader != 1 || len(p.ISR) != 1 || p.ISR[0] != 1 {
		t.Fatalf("manual assignment with a fenced broker: %+v", p)
	}
	errs := c.CreatePartitions(ctx, []PartitionsSpec{{Topic: "rf2", Count: 5, Assignment: [][]int32{{1}}}}, false)
	if code(errs[0]) != kerr.InvalidReplicaAssignment {
		t.Fatalf("CreatePartitions with another replication factor: %v", errs[0])
	}
}
