package broker

// The broker's side of partition replication: followers fetch from the
// leaders' broker listeners (Kafka's ReplicaFetcherThread, one client per
// leader broker), and leaders ask the active controller to change ISRs
// with AlterPartition (KIP-497).

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/internal/config"
	"github.com/samsa-io/samsa/internal/metadata"
	"github.com/samsa-io/samsa/internal/partition"
)

// leaderClients fetch from other brokers, each at the address its
// registration advertises on this broker's listener.
type leaderClients struct {
	b *Broker

	mu      sync.Mutex
	clients map[int32]*leaderConn
	closed  bool
}

type leaderConn struct {
	addr string
	cl   *kgo.Client
}

var _ partition.LeaderClient = (*leaderClients)(nil)

func newLeaderClients(b *Broker) *leaderClients {
	return &leaderClients{b: b, clients: map[int32]*leaderConn{}}
}

// Fetch sends a replica fetch to leader.
func (lc *leaderClients) Fetch(ctx context.Context, leader int32, req *kmsg.FetchRequest) (*kmsg.FetchResponse, error) {
	cl, err := lc.client(leader)
	if err != nil {
		return nil, err
	}
	resp, err := cl.SeedBrokers()[0].Request(ctx, req)
	if err != nil {
		return nil, err
	}
	return resp.(*kmsg.FetchResponse), nil
}

// client returns a client for broker id, replacing it when the broker's
// advertised address changed.
func (lc *leaderClients) client(id int32) (*kgo.Client, error) {
	addr, err := lc.addrOf(id)
	if err != nil {
		return nil, err
	}
	lc.mu.Lock()
	defer lc.mu.Unlock()
	if lc.closed {
		return nil, errors.New("broker: replica fetcher clients closed")
	}
	if c := lc.clients[id]; c != nil {
		if c.addr == addr {
			return c.cl, nil
		}
		c.cl.Close()
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ClientID(fmt.Sprintf("samsa-replica-%d", lc.b.cfg.NodeID)),
		kgo.Dialer(lc.b.dialer.DialContext), kgo.RequestRetries(0), kgo.BrokerMaxReadBytes(lc.b.cfg.MaxRequestSize))
	if err != nil {
		return nil, err
	}
	lc.clients[id] = &leaderConn{addr: addr, cl: cl}
	return cl, nil
}

func (lc *leaderClients) addrOf(id int32) (string, error) {
	return brokerAddr(lc.b.store.Image(), id, lc.b.cfg.ListenerName)
}

func (lc *leaderClients) close() {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	lc.closed = true
	for _, c := range lc.clients {
		c.cl.Close()
	}
	clear(lc.clients)
}

// isrUpdater sends AlterPartition to the active controller.
type isrUpdater struct{ b *Broker }

var _ partition.ISRUpdater = isrUpdater{}

func (u isrUpdater) AlterPartition(ctx context.Context, topicID metadata.UUID, p int32, leaderEpoch, partitionEpoch int32, isr []int32) (metadata.Partition, error) {
	req := kmsg.NewPtrAlterPartitionRequest()
	req.SetVersion(3)
	req.BrokerID, req.BrokerEpoch = u.b.cfg.NodeID, u.b.BrokerEpoch()
	rt := kmsg.NewAlterPartitionRequestTopic()
	rt.TopicID = topicID
	rp := kmsg.NewAlterPartitionRequestTopicPartition()
	rp.Partition, rp.LeaderEpoch, rp.PartitionEpoch = p, leaderEpoch, partitionEpoch
	im := u.b.store.Image()
	for _, id := range isr {
		st := kmsg.NewAlterPartitionRequestTopicPartitionNewEpochISR()
		st.BrokerID, st.BrokerEpoch = id, -1
		if rec, ok := im.Broker(id); ok {
			st.BrokerEpoch = rec.Epoch
		}
		rp.NewEpochISR = append(rp.NewEpochISR, st)
	}
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp := u.b.forwardingController().AlterPartition(ctx, req)
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return metadata.Partition{}, err
	}
	for _, t := range resp.Topics {
		for _, rp := range t.Partitions {
			if err := kerr.ErrorForCode(rp.ErrorCode); err != nil {
				return metadata.Partition{}, err
			}
			return metadata.Partition{ISR: rp.ISR, Leader: rp.LeaderID, LeaderEpoch: rp.LeaderEpoch, PartitionEpoch: rp.PartitionEpoch}, nil
		}
	}
	return metadata.Partition{}, fmt.Errorf("broker: AlterPartition answered no partition")
}

// minInsync is a topic's effective min.insync.replicas in im.
func (b *Broker) minInsync(im *metadata.Image, topic string) int {
	v, err := config.ResolveTopic(b.layers(im, topic))
	if err != nil {
		return 1
	}
	return v.Int("min.insync.replicas")
}

// partitionConfig wires the replica manager to this broker.
func (b *Broker) partitionConfig() partition.Config {
	v, _ := config.ValidateBroker(b.cfg.Props) // validated by FromProperties or Start's caller
	b.leaders = newLeaderClients(b)
	return partition.Config{
		NodeID: b.cfg.NodeID, Dir: b.dir, LogConfig: b.logConfig, Logger: b.log, Now: b.cfg.Now,
		MinInsyncReplicas: b.minInsync, ReplicaLagTimeMax: b.cfg.ReplicaLagMax,
		LeaderClient: b.leaders, ISRUpdater: isrUpdater{b}, BrokerEpoch: b.BrokerEpoch,
		FetchWait:             v.Duration("replica.fetch.wait.max.ms"),
		FetchBackoff:          v.Duration("replica.fetch.backoff.ms"),
		FetchMaxBytes:         int32(v.Int("replica.fetch.max.bytes")),
		FetchResponseMaxBytes: int32(v.Int("replica.fetch.response.max.bytes")),
	}
}
