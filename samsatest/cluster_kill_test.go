package samsatest_test

import (
	"context"
	"fmt"
	"hash/crc32"
	"maps"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/samsatest"
)

// pinnedClient talks to node's listener only: its dialer refuses every
// other address, so neither metadata nor produce requests go elsewhere.
func pinnedClient(t *testing.T, node *samsatest.Node, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	addr := node.Addr()
	dial := func(ctx context.Context, network, host string) (net.Conn, error) {
		if host != addr {
			return nil, fmt.Errorf("pinned to %s, not dialing %s", addr, host)
		}
		var d net.Dialer
		return d.DialContext(ctx, network, host)
	}
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr), kgo.Dialer(dial)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// viewFrom is one node's own view: the unfenced brokers and topic's
// partition 0 (ok false when it has no such partition or did not answer).
func viewFrom(ctx context.Context, cl *kgo.Client, topic string) (brokers []int32, p kmsg.MetadataResponseTopicPartition, ok bool) {
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	resp, err := cl.SeedBrokers()[0].Request(rctx, req)
	if err != nil {
		return nil, p, false
	}
	m := resp.(*kmsg.MetadataResponse)
	for _, b := range m.Brokers {
		brokers = append(brokers, b.NodeID)
	}
	slices.Sort(brokers)
	if len(m.Topics) != 1 || m.Topics[0].ErrorCode != 0 || len(m.Topics[0].Partitions) == 0 {
		return brokers, p, false
	}
	return brokers, m.Topics[0].Partitions[0], true
}

// produceDirect sends one acks=all Produce request for value to
// partition 0 of topic through cl's seed broker, with a 2 s timeout, and
// returns the partition's error code: no client retries to hide it.
func produceDirect(t *testing.T, ctx context.Context, cl *kgo.Client, topic, value string) int16 {
	t.Helper()
	return produceRequest(t, ctx, cl, topic, value).Topics[0].Partitions[0].ErrorCode
}

// produceRequest is produceDirect's whole response.
func produceRequest(t *testing.T, ctx context.Context, cl *kgo.Client, topic, value string) *kmsg.ProduceResponse {
	t.Helper()
	rec := kmsg.Record{Value: []byte(value)}
	rec.Length = int32(len(rec.AppendTo(nil)) - 1) // the zero length took one byte
	now := time.Now().UnixMilli()
	batch := kmsg.RecordBatch{PartitionLeaderEpoch: -1, Magic: 2, FirstTimestamp: now, MaxTimestamp: now,
		ProducerID: -1, ProducerEpoch: -1, FirstSequence: -1, NumRecords: 1, Records: rec.AppendTo(nil)}
	batch.Length = int32(len(batch.AppendTo(nil)) - 12)
	raw := batch.AppendTo(nil)
	batch.CRC = int32(crc32.Checksum(raw[21:], crc32.MakeTable(crc32.Castagnoli)))
	req := kmsg.NewPtrProduceRequest()
	req.Acks, req.TimeoutMillis = -1, 2000
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	mreq := kmsg.NewPtrMetadataRequest()
	mt := kmsg.NewMetadataRequestTopic()
	mt.Topic = kmsg.StringPtr(topic)
	mreq.Topics = append(mreq.Topics, mt)
	mresp, err := cl.SeedBrokers()[0].Request(rctx, mreq)
	if err != nil {
		t.Fatalf("metadata request: %v", err)
	}
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic, rt.TopicID = topic, mresp.(*kmsg.MetadataResponse).Topics[0].TopicID // Produce v13 names topics by id
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Partition, rp.Records = 0, batch.AppendTo(nil)
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := cl.SeedBrokers()[0].Request(rctx, req)
	if err != nil {
		t.Fatalf("produce request: %v", err)
	}
	pr := resp.(*kmsg.ProduceResponse)
	if len(pr.Topics) != 1 || len(pr.Topics[0].Partitions) != 1 {
		t.Fatalf("produce response: %+v", pr)
	}
	return pr
}

// quorumLeader asks a node who leads the metadata quorum.
func quorumLeader(t *testing.T, ctx context.Context, cl *kgo.Client) int32 {
	t.Helper()
	return describeQuorum(t, ctx, cl).LeaderID
}

// describeQuorum asks DescribeQuorum for __cluster_metadata.
func describeQuorum(t *testing.T, ctx context.Context, cl *kgo.Client) kmsg.DescribeQuorumResponseTopicPartition {
	t.Helper()
	req := kmsg.NewPtrDescribeQuorumRequest()
	rt := kmsg.NewDescribeQuorumRequestTopic()
	rt.Topic = "__cluster_metadata"
	rt.Partitions = []kmsg.DescribeQuorumRequestTopicPartition{kmsg.NewDescribeQuorumRequestTopicPartition()}
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil || resp.ErrorCode != 0 || len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		t.Fatalf("DescribeQuorum: %v %+v", err, resp)
	}
	return resp.Topics[0].Partitions[0]
}

// writer produces 0, 1, 2, ... with acks=all and an idempotent producer
// until stopped, and remembers which records were acknowledged.
type writer struct {
	mu    sync.Mutex
	acked map[string]bool
	stop  chan struct{}
	done  chan struct{}
	cl    *kgo.Client
}

func startWriter(t *testing.T, ctx context.Context, c *samsatest.Cluster, topic string) *writer {
	cl, _ := clusterClient(t, c, kgo.RequiredAcks(kgo.AllISRAcks()))
	w := &writer{acked: map[string]bool{}, stop: make(chan struct{}), done: make(chan struct{}), cl: cl}
	go func() {
		defer close(w.done)
		for i := 0; ; i++ {
			select {
			case <-w.stop:
				return
			case <-ctx.Done():
				return
			case <-time.After(5 * time.Millisecond):
			}
			v := fmt.Sprint(i)
			cl.Produce(ctx, &kgo.Record{Topic: topic, Value: []byte(v)}, func(_ *kgo.Record, err error) {
				if err == nil {
					w.mu.Lock()
					w.acked[v] = true
					w.mu.Unlock()
				}
			})
		}
	}()
	t.Cleanup(w.halt)
	return w
}

func (w *writer) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.acked)
}

func (w *writer) waitMore(t *testing.T, ctx context.Context, what string, n int) {
	t.Helper()
	from := w.count()
	waitFor(t, ctx, fmt.Sprintf("%d more acknowledged records %s", n, what), func() bool { return w.count() >= from+n })
}

// halt stops the writing loop.
func (w *writer) halt() {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
}

// finish stops writing and waits for every record's outcome.
func (w *writer) finish(t *testing.T, ctx context.Context) map[string]bool {
	w.halt()
	if err := w.cl.Flush(ctx); err != nil {
		t.Errorf("flush: %v", err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return maps.Clone(w.acked)
}

// checkReadBack reads topic's partition 0 up to its end and checks that
// every acknowledged record is there exactly once.
func checkReadBack(t *testing.T, ctx context.Context, c *samsatest.Cluster, topic string, acked map[string]bool) {
	t.Helper()
	cl, adm := clusterClient(t, c, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil || ends.Error() != nil {
		t.Fatalf("end offsets: %v %v", err, ends.Error())
	}
	end, _ := ends.Lookup(topic, 0)
	seen := map[string]int{}
	var next int64
	for next < end.Offset && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) { seen[string(r.Value)]++; next = r.Offset + 1 })
	}
	if next < end.Offset {
		t.Fatalf("read up to offset %d of %d", next, end.Offset)
	}
	lost, dup := 0, 0
	for v := range acked {
		switch n := seen[v]; {
		case n == 0:
			lost++
			if lost <= 5 {
				t.Errorf("acknowledged record %s lost", v)
			}
		case n > 1:
			dup++
			if dup <= 5 {
				t.Errorf("acknowledged record %s read %d times", v, n)
			}
		}
	}
	if lost+dup > 0 {
		t.Errorf("%d acknowledged records lost, %d duplicated, of %d", lost, dup, len(acked))
	}
	t.Logf("%d records acknowledged, %d offsets in the log", len(acked), end.Offset)
}

// createRF3 creates topic on replicas {1,2,3} (node 1 leading) and waits
// until every node sees it with a full ISR.
func createRF3(t *testing.T, ctx context.Context, c *samsatest.Cluster, topic string) kmsg.MetadataResponseTopicPartition {
	t.Helper()
	cl, _ := clusterClient(t, c)
	awaitBrokers(t, ctx, cl, 3)
	if err := createAssigned(ctx, cl, topic, 10*time.Second, []int32{1, 2, 3}, nil); err != nil {
		t.Fatalf("create: %v", err)
	}
	var p kmsg.MetadataResponseTopicPartition
	for _, n := range c.Nodes {
		pin := pinnedClient(t, n)
		waitFor(t, ctx, "the topic with a full ISR on every node", func() bool {
			var ok bool
			_, p, ok = viewFrom(ctx, pin, topic)
			return ok && p.Leader == 1 && len(p.ISR) == 3
		})
	}
	return p
}

// Killing the leader of an RF 3, min.insync.replicas=2 partition under
// acks=all writes: a follower takes over with a higher leader epoch, the
// killed node recovers from its crash and rejoins the ISR, and every
// acknowledged record reads back once.
func TestClusterKillLeader(t *testing.T) {
	c := samsatest.StartCluster(t, 3, samsatest.WithProps(fastCluster))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	first := createRF3(t, ctx, c, "killed")
	w := startWriter(t, ctx, c, "killed")
	w.waitMore(t, ctx, "before the kill", 200)

	start := time.Now()
	c.Node(1).Kill()
	pin2 := pinnedClient(t, c.Node(2))
	waitFor(t, ctx, "a new leader", func() bool {
		_, p, ok := viewFrom(ctx, pin2, "killed")
		return ok && p.Leader != 1 && p.Leader > 0 && p.LeaderEpoch > first.LeaderEpoch
	})
	t.Logf("new leader after %v", time.Since(start).Round(time.Millisecond))
	w.waitMore(t, ctx, "after the kill", 200)

	c.Node(1).Restart()
	waitFor(t, ctx, "the killed node back in the ISR", func() bool {
		b, p, ok := viewFrom(ctx, pin2, "killed")
		return ok && len(b) == 3 && len(p.ISR) == 3
	})
	w.waitMore(t, ctx, "after the restart", 100)
	checkReadBack(t, ctx, c, "killed", w.finish(t, ctx))
}

// A leader cut off from the other nodes cannot acknowledge acks=all
// writes; the others elect a new leader with a higher epoch; after Heal
// the old leader rejoins as a follower and nothing acknowledged is lost.
func TestClusterCutLeader(t *testing.T) {
	c := samsatest.StartCluster(t, 3, samsatest.WithProps(fastCluster))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	first := createRF3(t, ctx, c, "cut")
	w := startWriter(t, ctx, c, "cut")
	w.waitMore(t, ctx, "before the cut", 200)

	old := c.Node(1)
	direct := pinnedClient(t, old)
	if code := produceDirect(t, ctx, direct, "cut", "warm-up"); code != 0 {
		t.Fatalf("produce to the leader before the cut: %v", kerr.ErrorForCode(code))
	}
	start := time.Now()
	old.Cut()
	err := kerr.ErrorForCode(produceDirect(t, ctx, direct, "cut", "cut off"))
	t.Logf("acks=all produce to the cut leader: %v after %v", err, time.Since(start).Round(time.Millisecond))
	if err == nil {
		t.Fatal("a leader cut off from its followers acknowledged an acks=all write")
	}
	if !slices.Contains([]error{kerr.NotEnoughReplicas, kerr.NotEnoughReplicasAfterAppend, kerr.RequestTimedOut, kerr.NotLeaderForPartition}, err) {
		t.Errorf("produce to the cut leader: %v, want NOT_ENOUGH_REPLICAS(_AFTER_APPEND), REQUEST_TIMED_OUT or NOT_LEADER_OR_FOLLOWER", err)
	}

	pin2 := pinnedClient(t, c.Node(2))
	var moved kmsg.MetadataResponseTopicPartition
	waitFor(t, ctx, "a new leader among the others", func() bool {
		var ok bool
		_, moved, ok = viewFrom(ctx, pin2, "cut")
		return ok && moved.Leader != 1 && moved.Leader > 0
	})
	if moved.LeaderEpoch <= first.LeaderEpoch {
		t.Errorf("new leader %d has epoch %d, not above the old %d", moved.Leader, moved.LeaderEpoch, first.LeaderEpoch)
	}
	t.Logf("leader %d (epoch %d) after %v", moved.Leader, moved.LeaderEpoch, time.Since(start).Round(time.Millisecond))
	// No progress is required of the writer while the cut lasts: a client
	// that asks the cut node for metadata keeps hearing it still leads,
	// as a Kafka client would, until the heal.

	old.Heal()
	pin1 := pinnedClient(t, old)
	waitFor(t, ctx, "the old leader back in the ISR as a follower, in its own view too", func() bool {
		_, p, ok := viewFrom(ctx, pin2, "cut")
		_, own, ownOK := viewFrom(ctx, pin1, "cut")
		return ok && ownOK && len(p.ISR) == 3 && p.Leader != 1 && own.Leader == p.Leader
	})
	w.waitMore(t, ctx, "after the heal", 100)
	checkReadBack(t, ctx, c, "cut", w.finish(t, ctx))
}

// A follower paused longer than broker.session.timeout.ms is fenced and
// leaves the ISR while writes go on; after Resume it is unfenced and
// returns to the ISR.
func TestClusterPauseFollower(t *testing.T) {
	c := samsatest.StartCluster(t, 3, samsatest.WithProps(fastCluster))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	createRF3(t, ctx, c, "paused")
	pin1 := pinnedClient(t, c.Node(1))
	follower := int32(2) // a follower of the partition that does not lead the quorum either
	if quorumLeader(t, ctx, pin1) == 2 {
		follower = 3
	}
	w := startWriter(t, ctx, c, "paused")
	w.waitMore(t, ctx, "before the pause", 200)

	start := time.Now()
	c.Node(follower).Pause()
	waitFor(t, ctx, "the paused follower fenced and out of the ISR", func() bool {
		b, p, ok := viewFrom(ctx, pin1, "paused")
		return ok && !slices.Contains(b, follower) && !slices.Contains(p.ISR, follower)
	})
	fenced := time.Since(start)
	t.Logf("fenced and out of the ISR after %v", fenced.Round(time.Millisecond))
	if fenced < 2*time.Second {
		t.Errorf("fenced after %v, before the 3 s session timeout could pass", fenced)
	}
	w.waitMore(t, ctx, "while the follower is paused", 200)
	if err := ctx.Err(); err != nil {
		t.Fatal(err)
	}

	c.Node(follower).Resume()
	waitFor(t, ctx, "the resumed follower back in the ISR", func() bool {
		b, p, ok := viewFrom(ctx, pin1, "paused")
		return ok && len(b) == 3 && len(p.ISR) == 3
	})
	w.waitMore(t, ctx, "after the resume", 100)
	checkReadBack(t, ctx, c, "paused", w.finish(t, ctx))
}
