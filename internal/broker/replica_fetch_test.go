package broker

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/internal/api"
	"github.com/samsa-io/samsa/internal/log"
	"github.com/samsa-io/samsa/internal/metadata"
	"github.com/samsa-io/samsa/internal/partition"
	"github.com/samsa-io/samsa/internal/record"
	"github.com/samsa-io/samsa/internal/vfs"
	"github.com/samsa-io/samsa/internal/wire"
)

// replicaEnv is broker 1 leading partition 0 of "t" (replicas 1 and 2)
// behind the real Fetch handler and partitionView, batches served as file
// regions (zero copy).
type replicaEnv struct {
	t       *testing.T
	id      metadata.UUID
	im      *metadata.Image
	dir     *log.Dir
	m       *partition.Manager
	h       *api.Handler
	fetched int64 // bytes counted as consumed
	minISR  int
}

func newReplicaEnv(t *testing.T) *replicaEnv {
	d, _, err := log.OpenDir(vfs.NewMem(), "data", log.DirOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e := &replicaEnv{t: t, id: metadata.NewUUID(), im: metadata.Empty(), dir: d, minISR: 1}
	e.m = partition.NewManager(partition.Config{NodeID: 1, Dir: d, LogConfig: func(*metadata.Image, string) log.Config { return log.DefaultConfig() },
		MinInsyncReplicas: func(*metadata.Image, string) int { return e.minISR }})
	t.Cleanup(func() { e.m.Close(); d.Close() })
	e.apply(metadata.Record{Broker: &metadata.BrokerRecord{ID: 1, Epoch: 11}}, metadata.Record{Broker: &metadata.BrokerRecord{ID: 2, Epoch: 12}},
		metadata.Record{Topic: &metadata.TopicRecord{Name: "t", ID: e.id}}, e.leaderRecord(1))
	e.m.Start(e.im)
	e.h = api.New(api.Deps{NodeID: 1, Image: func() *metadata.Image { return e.im },
		Partition: func(topic string, p int32) (api.Partition, error) {
			part, err := e.m.Get(topic, p)
			if err != nil {
				return nil, err
			}
			return partitionView{p: part, dir: d}, nil
		},
		Fetched: func(_ string, bytes, _ int64) { e.fetched += bytes }})
	return e
}

func (e *replicaEnv) leaderRecord(epoch int32) metadata.Record {
	return metadata.Record{Partition: &metadata.PartitionRecord{TopicID: e.id, Replicas: []int32{1, 2}, ISR: []int32{1, 2}, Leader: 1, LeaderEpoch: epoch, PartitionEpoch: epoch}}
}

func (e *replicaEnv) apply(recs ...metadata.Record) {
	next, err := e.im.Apply(e.im.Index+1, recs)
	if err != nil {
		e.t.Fatal(err)
	}
	old := e.im
	e.im = next
	if e.m != nil {
		e.m.Apply(old, next)
	}
}

func (e *replicaEnv) batch(value string) []byte {
	b, err := record.Build(record.BatchSpec{LastOffsetDelta: -1, ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1},
		[]record.Record{{Value: []byte(value)}})
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

// produce appends one batch with acks=1.
func (e *replicaEnv) produce(value string) {
	e.t.Helper()
	b := e.batch(value)
	p, _ := e.m.Get("t", 0)
	a, err := p.Append(b)
	if err == nil {
		err = p.Commit(a.Next)
	}
	if err != nil {
		e.t.Fatal(err)
	}
}

// fetch sends a replica Fetch v17 from broker 2 and decodes the answer,
// regions read from their files.
func (e *replicaEnv) fetch(offset int64, lastEpoch int32, maxWait int32) *kmsg.FetchResponseTopicPartition {
	e.t.Helper()
	req := kmsg.NewPtrFetchRequest()
	req.ReplicaState.ID, req.ReplicaState.Epoch = 2, 12
	req.MaxWaitMillis, req.MinBytes, req.MaxBytes, req.SessionEpoch = maxWait, 1, 1<<20, -1
	rt := kmsg.NewFetchRequestTopic()
	rt.TopicID = e.id
	rp := kmsg.NewFetchRequestTopicPartition()
	epoch := e.im.TopicByID(e.id).Partitions[0].LeaderEpoch
	rp.FetchOffset, rp.LastFetchedEpoch, rp.CurrentLeaderEpoch, rp.LogStartOffset, rp.PartitionMaxBytes = offset, lastEpoch, epoch, 0, 1<<20
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp := e.serve(req, 17).(*kmsg.FetchResponse)
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		e.t.Fatalf("response %+v", resp)
	}
	return &resp.Topics[0].Partitions[0]
}

func (e *replicaEnv) logBytes(from int64) []byte {
	p, _ := e.m.Get("t", 0)
	b, err := p.Log().Read(from, 1<<20, -1, true)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

// A follower's Fetch v17 (ReplicaState) against the leader: a diverging
// epoch when its last fetched epoch ended earlier here (KIP-320), then the
// batches up to the log end as file regions, the high watermark following
// the follower's fetch offset, no consumed-bytes metric, and a long poll
// woken by the leader's log end (the high watermark waits for the follower).
func TestReplicaFetchAgainstLeader(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newReplicaEnv(t)
		e.produce("a")
		e.produce("b")
		e.apply(e.leaderRecord(2)) // re-elected: epoch 2 starts at offset 2
		e.produce("c")

		// The follower wrote offsets 2 and 3 at epoch 1 under an old leader.
		p := e.fetch(4, 1, 0)
		if p.ErrorCode != 0 || p.DivergingEpoch.Epoch != 1 || p.DivergingEpoch.EndOffset != 2 || len(p.RecordBatches) != 0 {
			t.Fatalf("diverging: error %d, epoch %+v, %d bytes", p.ErrorCode, p.DivergingEpoch, len(p.RecordBatches))
		}

		p = e.fetch(0, -1, 0)
		if p.ErrorCode != 0 || string(p.RecordBatches) != string(e.logBytes(0)) {
			t.Fatalf("read: error %d, %d bytes, want the log's %d", p.ErrorCode, len(p.RecordBatches), len(e.logBytes(0)))
		}
		if p.HighWatermark != 0 || p.DivergingEpoch.EndOffset != -1 {
			t.Fatalf("high watermark %d before the follower has anything, diverging %+v", p.HighWatermark, p.DivergingEpoch)
		}
		if p = e.fetch(3, 2, 0); p.HighWatermark != 3 {
			t.Fatalf("high watermark %d once the follower fetches at 3", p.HighWatermark)
		}
		if e.fetched != 0 {
			t.Fatalf("replica fetches counted %d consumed bytes", e.fetched)
		}

		done := make(chan *kmsg.FetchResponseTopicPartition)
		go func() { done <- e.fetch(3, 2, 60_000) }()
		synctest.Wait()
		start := time.Now()
		e.produce("d")
		if p = <-done; string(p.RecordBatches) != string(e.logBytes(3)) || len(p.RecordBatches) == 0 {
			t.Fatalf("long poll: %d bytes, want the new batch", len(p.RecordBatches))
		}
		if waited := time.Since(start); waited > 0 {
			t.Fatalf("the long poll answered after %v: not woken by the log end", waited)
		}

		// A broker that is not a replica, naming the current epoch.
		e.apply(metadata.Record{Partition: &metadata.PartitionRecord{TopicID: e.id, Replicas: []int32{1}, ISR: []int32{1}, Leader: 1, LeaderEpoch: 2, PartitionEpoch: 3}})
		if p = e.fetch(4, 2, 0); p.ErrorCode != kerr.UnknownLeaderEpoch.Code {
			t.Fatalf("non-replica: error %d", p.ErrorCode)
		}
	})
}

// serve sends req at version through the handler and decodes the answer.
func (e *replicaEnv) serve(req kmsg.Request, version int16) kmsg.Response {
	e.t.Helper()
	req.SetVersion(version)
	out, err := e.h.Serve(context.Background(), kmsgHeader(req), req.AppendTo(nil), &api.Client{})
	if err != nil {
		e.t.Fatal(err)
	}
	vec := out.Vec
	if out.Wait != nil {
		vec = out.Wait(context.Background())
	}
	b, err := vec.AppendTo(nil)
	vec.ReleaseRegions()
	if err != nil {
		e.t.Fatal(err)
	}
	resp := req.ResponseKind()
	resp.SetVersion(version)
	if resp.IsFlexible() {
		b = b[1:] // header tags
	}
	if err := resp.ReadFrom(b[4:]); err != nil {
		e.t.Fatal(err)
	}
	return resp
}

// produceAll sends one batch with acks=all and answers its error code.
func (e *replicaEnv) produceAll(value string, timeoutMs int32) int16 {
	req := kmsg.NewPtrProduceRequest()
	req.Acks, req.TimeoutMillis = -1, timeoutMs
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = "t"
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Records = e.batch(value)
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp := e.serve(req, 9).(*kmsg.ProduceResponse)
	return resp.Topics[0].Partitions[0].ErrorCode
}

// Produce with acks=all through the handler: answered once the follower
// fetched past the batch, REQUEST_TIMED_OUT when it does not within the
// timeout, NOT_ENOUGH_REPLICAS (nothing appended) under min.insync.replicas.
func TestProduceAcksAllWaitsForFollower(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newReplicaEnv(t)
		if code := e.produceAll("a", 1000); code != kerr.RequestTimedOut.Code {
			t.Fatalf("no follower fetch: error %d, want REQUEST_TIMED_OUT", code)
		}
		done := make(chan int16)
		go func() { done <- e.produceAll("b", 10_000) }()
		synctest.Wait()
		e.fetch(0, -1, 0)
		e.fetch(2, 1, 0)
		if code := <-done; code != 0 {
			t.Fatalf("follower caught up: error %d", code)
		}
		e.minISR = 2
		e.apply(metadata.Record{Partition: &metadata.PartitionRecord{TopicID: e.id, Replicas: []int32{1, 2}, ISR: []int32{1}, Leader: 1, LeaderEpoch: 1, PartitionEpoch: 2}})
		p, _ := e.m.Get("t", 0)
		leo := p.Log().LogEndOffset()
		if code := e.produceAll("c", 1000); code != kerr.NotEnoughReplicas.Code || p.Log().LogEndOffset() != leo {
			t.Fatalf("under min ISR: error %d, log end %d -> %d", code, leo, p.Log().LogEndOffset())
		}
	})
}

func kmsgHeader(req kmsg.Request) wire.RequestHeader {
	return wire.RequestHeader{Key: req.Key(), Version: req.GetVersion(), CorrelationID: 7, Flexible: req.IsFlexible(), Known: true}
}
