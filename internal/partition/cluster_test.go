package partition

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/internal/log"
	"github.com/samsa-io/samsa/internal/metadata"
	"github.com/samsa-io/samsa/internal/vfs"
)

// cluster wires brokers' managers together in process: a fake network
// carries replica fetches to the leader's partitions (and can drop them
// between two brokers), and a fake controller commits ISR changes to a
// shared image that every live broker applies. Run it inside synctest:
// fetchers long poll and back off on the bubble's clock.
type cluster struct {
	t      *testing.T
	topic  string
	id     metadata.UUID
	lagMax time.Duration

	mu      sync.Mutex
	im      *metadata.Image
	idx     uint64
	nodes   map[int32]*broker
	cut     map[[2]int32]bool
	refuse  bool      // the controller refuses ISR changes
	altered [][]int32 // ISR changes the controller committed
}

type broker struct {
	id   int32
	fsys *vfs.MemFS
	dir  *log.Dir
	m    *Manager
}

const testLag = 10 * time.Second

// replLogConfig reads batches as bytes (VerifyOnRead), which the fake
// network carries without file regions.
func replLogConfig(*metadata.Image, string) log.Config {
	c := log.DefaultConfig()
	c.VerifyOnRead = true
	return c
}

// newCluster starts brokers ids with topic "t" of one partition on all of
// them, led by ids[0] at epoch 1, every broker in sync.
func newCluster(t *testing.T, ids ...int32) *cluster {
	c := &cluster{t: t, topic: "t", id: metadata.NewUUID(), lagMax: testLag, im: metadata.Empty(),
		nodes: map[int32]*broker{}, cut: map[[2]int32]bool{}}
	var recs []metadata.Record
	for _, id := range ids {
		recs = append(recs, metadata.Record{Broker: &metadata.BrokerRecord{ID: id, Epoch: brokerEpoch(id)}})
	}
	recs = append(recs, metadata.Record{Topic: &metadata.TopicRecord{Name: c.topic, ID: c.id}},
		metadata.Record{Partition: &metadata.PartitionRecord{TopicID: c.id, Replicas: ids, ISR: ids, Leader: ids[0], LeaderEpoch: 1}})
	c.apply(recs...)
	for _, id := range ids {
		c.boot(id, vfs.NewMem())
	}
	t.Cleanup(c.stop)
	return c
}

func brokerEpoch(id int32) int64 { return 100 + int64(id) }

// minInsync reads min.insync.replicas from the topic's configs, as the
// broker's catalog-driven lookup does.
func minInsync(im *metadata.Image, topic string) int {
	n, err := strconv.Atoi(im.TopicConfigs(topic)["min.insync.replicas"])
	if err != nil {
		return 1
	}
	return n
}

func (c *cluster) setMinISR(n int) {
	v := strconv.Itoa(n)
	c.apply(metadata.Record{Config: &metadata.ConfigRecord{ResourceType: metadata.ResourceTopic, ResourceName: c.topic, Name: "min.insync.replicas", Value: &v}})
}

// manager is broker id's manager.
func (c *cluster) manager(id int32) *Manager {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes[id].m
}

// boot starts broker id on fsys (a restart when it holds a log already).
func (c *cluster) boot(id int32, fsys *vfs.MemFS) *broker {
	d, _, err := log.OpenDir(fsys, "data", log.DirOptions{})
	if err != nil {
		c.t.Fatal(err)
	}
	n := &broker{id: id, fsys: fsys, dir: d}
	n.m = NewManager(Config{NodeID: id, Dir: d, LogConfig: replLogConfig,
		MinInsyncReplicas: minInsync,
		ReplicaLagTimeMax: c.lagMax, LeaderClient: netClient{c, id}, ISRUpdater: controller{c},
		BrokerEpoch: func() int64 { return brokerEpoch(id) }, FetchBackoff: 100 * time.Millisecond})
	c.mu.Lock()
	c.nodes[id] = n
	im := c.im
	c.mu.Unlock()
	n.m.Start(im)
	return n
}

// kill stops broker id as a crash would not: its logs stay as written
// (every acknowledged batch was fsynced).
func (c *cluster) kill(id int32) *vfs.MemFS {
	c.mu.Lock()
	n := c.nodes[id]
	delete(c.nodes, id)
	c.mu.Unlock()
	n.m.Close()
	if err := n.dir.Close(); err != nil {
		c.t.Fatal(err)
	}
	return n.fsys
}

func (c *cluster) stop() {
	c.mu.Lock()
	ids := make([]int32, 0, len(c.nodes))
	for id := range c.nodes {
		ids = append(ids, id)
	}
	c.mu.Unlock()
	for _, id := range ids {
		c.kill(id)
	}
}

func (c *cluster) apply(recs ...metadata.Record) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.applyLocked(recs...)
}

func (c *cluster) applyLocked(recs ...metadata.Record) {
	c.idx++
	next, err := c.im.Apply(c.idx, recs)
	if err != nil {
		c.t.Fatal(err)
	}
	old := c.im
	c.im = next
	for _, n := range c.nodes {
		n.m.Apply(old, next)
	}
}

func (c *cluster) state() metadata.Partition {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.im.Topic(c.topic).Partitions[0]
}

// elect makes leader lead with isr at the next leader epoch.
func (c *cluster) elect(leader int32, isr ...int32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cur := c.im.Topic(c.topic).Partitions[0]
	c.applyLocked(metadata.Record{Partition: &metadata.PartitionRecord{TopicID: c.id, Replicas: cur.Replicas, ISR: isr,
		Leader: leader, LeaderEpoch: cur.LeaderEpoch + 1, PartitionEpoch: cur.PartitionEpoch + 1}})
}

// partition is broker id's replica.
func (c *cluster) partition(id int32) *Partition {
	c.t.Helper()
	c.mu.Lock()
	n := c.nodes[id]
	c.mu.Unlock()
	p, err := n.m.Get(c.topic, 0)
	if err != nil {
		c.t.Fatalf("broker %d: %v", id, err)
	}
	return p
}

// partitionNet drops traffic between a and b both ways, or restores it.
func (c *cluster) partitionNet(a, b int32, down bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cut[[2]int32{a, b}], c.cut[[2]int32{b, a}] = down, down
}

// produce appends values as one batch on broker id and commits it
// locally (acks=1), returning the offset after it.
func (c *cluster) produce(id int32, values ...string) int64 {
	c.t.Helper()
	p := c.partition(id)
	a, err := p.Append(batch(c.t, 1, values...))
	if err != nil {
		c.t.Fatalf("append on %d: %v", id, err)
	}
	if err := p.Commit(a.Next); err != nil {
		c.t.Fatalf("commit on %d: %v", id, err)
	}
	return a.Next
}

// controller is the fake ISR updater: it commits a proposal made from
// the current leader and partition epochs, as Kafka's controller does.
type controller struct{ c *cluster }

func (u controller) AlterPartition(_ context.Context, id metadata.UUID, part int32, leaderEpoch, partitionEpoch int32, isr []int32) (metadata.Partition, error) {
	c := u.c
	c.mu.Lock()
	defer c.mu.Unlock()
	cur := c.im.TopicByID(id).Partitions[part]
	switch {
	case c.refuse:
		return metadata.Partition{}, errors.New("controller unavailable")
	case cur.LeaderEpoch != leaderEpoch || cur.PartitionEpoch != partitionEpoch:
		return metadata.Partition{}, kerr.InvalidUpdateVersion
	}
	c.altered = append(c.altered, slices.Clone(isr))
	next := cur
	next.ISR, next.PartitionEpoch = slices.Clone(isr), cur.PartitionEpoch+1
	c.applyLocked(metadata.Record{Partition: &metadata.PartitionRecord{TopicID: id, Partition: part, Replicas: next.Replicas,
		ISR: next.ISR, Leader: next.Leader, LeaderEpoch: next.LeaderEpoch, PartitionEpoch: next.PartitionEpoch}})
	return next, nil
}

// netClient is broker from's connection to leaders.
type netClient struct {
	c    *cluster
	from int32
}

func (nc netClient) Fetch(ctx context.Context, leader int32, req *kmsg.FetchRequest) (*kmsg.FetchResponse, error) {
	c := nc.c
	c.mu.Lock()
	n, cut := c.nodes[leader], c.cut[[2]int32{nc.from, leader}]
	c.mu.Unlock()
	if n == nil || cut {
		return nil, fmt.Errorf("broker %d unreachable from %d", leader, nc.from)
	}
	resp := serveReplicaFetch(ctx, n.m, req)
	c.mu.Lock()
	cut = c.cut[[2]int32{nc.from, leader}]
	c.mu.Unlock()
	if cut { // cut while the long poll waited: the answer is lost
		return nil, fmt.Errorf("broker %d unreachable from %d", leader, nc.from)
	}
	return resp, nil
}

// serveReplicaFetch is the leader's replica branch of the Fetch handler,
// long polling on the log end as api/fetch.go does.
func serveReplicaFetch(ctx context.Context, m *Manager, req *kmsg.FetchRequest) *kmsg.FetchResponse {
	wake := make(chan struct{}, 1)
	notify := func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	for _, p := range m.Partitions() {
		defer p.WatchEnd(notify)()
	}
	timeout := time.NewTimer(time.Duration(req.MaxWaitMillis) * time.Millisecond)
	defer timeout.Stop()
	for {
		resp, ready := readReplicas(m, req)
		if ready {
			return resp
		}
		select {
		case <-wake:
		case <-timeout.C:
			return resp
		case <-ctx.Done():
			return resp
		}
	}
}

func readReplicas(m *Manager, req *kmsg.FetchRequest) (*kmsg.FetchResponse, bool) {
	resp := req.ResponseKind().(*kmsg.FetchResponse)
	ready := false
	for _, rt := range req.Topics {
		t := kmsg.NewFetchResponseTopic()
		t.TopicID = rt.TopicID
		for _, rp := range rt.Partitions {
			out := readReplica(m, req, rt.TopicID, rp)
			ready = ready || out.ErrorCode != 0 || len(out.RecordBatches) > 0 || out.DivergingEpoch.EndOffset >= 0
			t.Partitions = append(t.Partitions, out)
		}
		resp.Topics = append(resp.Topics, t)
	}
	return resp, ready
}

func readReplica(m *Manager, req *kmsg.FetchRequest, id metadata.UUID, rp kmsg.FetchRequestTopicPartition) kmsg.FetchResponseTopicPartition {
	out := kmsg.NewFetchResponseTopicPartition()
	out.Partition = rp.Partition
	var p *Partition
	for _, q := range m.Partitions() {
		if q.TopicID == id && q.TP.Partition == rp.Partition {
			p = q
		}
	}
	var err error = ErrUnknown
	rr := ReplicaRead{ReadResult: ReadResult{HighWatermark: -1, LastStable: -1, LogStartOffset: -1}, DivergingEpoch: -1, DivergingEnd: -1}
	if p != nil {
		err = p.CheckEpoch(rp.CurrentLeaderEpoch)
	}
	if err == nil {
		rr, err = p.ReadReplica(ReplicaFetch{ReplicaID: req.ReplicaState.ID, BrokerEpoch: req.ReplicaState.Epoch,
			CurrentLeaderEpoch: rp.CurrentLeaderEpoch, Offset: rp.FetchOffset, LastFetchedEpoch: rp.LastFetchedEpoch,
			LogStartOffset: rp.LogStartOffset, MaxBytes: int(rp.PartitionMaxBytes), MinOne: true})
	}
	var ke *kerr.Error
	if errors.As(err, &ke) {
		out.ErrorCode = ke.Code
	}
	out.HighWatermark, out.LogStartOffset, out.LastStableOffset = rr.HighWatermark, rr.LogStartOffset, rr.LastStable
	out.DivergingEpoch.Epoch, out.DivergingEpoch.EndOffset = rr.DivergingEpoch, rr.DivergingEnd
	out.RecordBatches = rr.Records
	return out
}
