package controller

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/internal/metadata"
)

// An election type other than preferred (0) and unclean (1) is refused.
func TestElectLeadersUnknownType(t *testing.T) {
	c, _ := clusterOf(t, 1, "")
	req := kmsg.NewPtrElectLeadersRequest()
	req.Version, req.ElectionType = 2, 5
	if resp := c.KafkaElectLeaders(context.Background(), req); resp.ErrorCode != kerr.InvalidRequest.Code {
		t.Fatalf("election type 5: %d", resp.ErrorCode)
	}
}

// BalanceLeaders elects preferred replicas that are active ISR members,
// and nothing else.
func TestBalanceLeaders(t *testing.T) {
	c, store := clusterOf(t, 1, "", "")
	ctx := context.Background()
	c.CreateTopics(ctx, []TopicSpec{{Name: "t", Partitions: -1, ReplicationFactor: -1, Assignment: [][]int32{{1, 2}, {2, 1}}}}, false)
	hb := kmsg.NewPtrBrokerHeartbeatRequest()
	b1, _ := store.Image().Broker(1)
	hb.BrokerID, hb.BrokerEpoch, hb.WantFence = 1, b1.Epoch, true
	c.KafkaBrokerHeartbeat(ctx, hb)
	if n, err := c.BalanceLeaders(ctx); n != 0 || err != nil {
		t.Fatalf("balanced %d with the preferred replica fenced: %v", n, err)
	}
	hb.WantFence, hb.CurrentMetadataOffset = false, int64(store.Image().Index)
	c.KafkaBrokerHeartbeat(ctx, hb)
	p := store.Image().Topic("t").Partitions[0]
	ap := kmsg.NewPtrAlterPartitionRequest()
	b2, _ := store.Image().Broker(2)
	ap.Version, ap.BrokerID, ap.BrokerEpoch = 2, 2, b2.Epoch
	rt := kmsg.NewAlterPartitionRequestTopic()
	rt.TopicID = store.Image().Topic("t").ID
	rt.Partitions = []kmsg.AlterPartitionRequestTopicPartition{{Partition: 0, LeaderEpoch: p.LeaderEpoch, PartitionEpoch: p.PartitionEpoch, NewISR: []int32{2, 1}}}
	ap.Topics = append(ap.Topics, rt)
	if resp := c.KafkaAlterPartition(ctx, ap); resp.Topics[0].Partitions[0].ErrorCode != 0 {
		t.Fatalf("alter: %+v", resp)
	}
	if n, err := c.BalanceLeaders(ctx); n != 1 || err != nil || store.Image().Topic("t").Partitions[0].Leader != 1 {
		t.Fatalf("balanced %d: %v", n, err)
	}
}

// A newly active controller gives every broker a fresh session: brokers
// silent before it took over are fenced only a session timeout later.
func TestActivateGivesFreshSessions(t *testing.T) {
	c, store := clusterOf(t, 1, "", "")
	ctx := context.Background()
	start := time.Unix(100, 0)
	c.Activate()
	if err := c.Tick(ctx, start.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if b, _ := store.Image().Broker(1); b.Fenced {
		t.Fatal("fenced on the first tick after activation")
	}
	if err := c.Tick(ctx, start.Add(time.Hour+10*time.Second)); err != nil {
		t.Fatal(err)
	}
	for _, b := range store.Image().Brokers() {
		if !b.Fenced {
			t.Fatalf("broker %d not fenced a session timeout later", b.ID)
		}
	}
}

// RegisterBroker, the single node's own registration, stays unfenced and
// keeps its counting epochs; a later Kafka registration goes past them.
func TestRegisterBrokerStaysCompatible(t *testing.T) {
	c, store, _ := newController(t, 1)
	ctx := context.Background()
	if err := c.RegisterBroker(ctx, metadata.BrokerRecord{ID: 1}); err != nil {
		t.Fatal(err)
	}
	if b, _ := store.Image().Broker(1); b.Epoch != 1 || b.Fenced {
		t.Fatalf("%+v", b)
	}
	t0 := time.Unix(100, 0)
	c.cfg.SessionTimeout, c.cfg.Now = time.Second, func() time.Time { return t0.Add(2 * time.Second) }
	if err := c.Tick(ctx, t0); err != nil {
		t.Fatal(err)
	}
	req := kmsg.NewPtrBrokerRegistrationRequest()
	req.BrokerID, req.IncarnationID = 1, metadata.NewUUID()
	if resp := c.KafkaBrokerRegistration(ctx, req); resp.ErrorCode != 0 || resp.BrokerEpoch <= 1 {
		t.Fatalf("%+v", resp)
	}
}
