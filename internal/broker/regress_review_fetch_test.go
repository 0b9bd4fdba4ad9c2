package broker_test

// Regression tests for bugs a review found in the first version.

import (
	"context"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/samsatest"
)

// rawFetch sends req at exactly version (kgo's RequestWith always uses the
// highest version both sides support, whatever the request says).
func rawFetch(t *testing.T, addr string, req *kmsg.FetchRequest, version int16) *kmsg.FetchResponse {
	t.Helper()
	body, closed := exchange(t, addr, frame(req, version))
	if closed {
		t.Fatal("fetch closed the connection")
	}
	resp := kmsg.NewPtrFetchResponse()
	resp.SetVersion(version)
	if version >= 12 {
		body = body[1:] // response header tags
	}
	if err := resp.ReadFrom(body); err != nil {
		t.Fatal(err)
	}
	return resp
}

func (e *env) addr() string { return e.cl.OptValue(kgo.SeedBrokers).([]string)[0] }

// openSessionV13 opens a fetch session (v13, topic ids) on partition 0 of
// id at offset 0 and returns the session id.
func openSessionV13(t *testing.T, e *env, id [16]byte) int32 {
	t.Helper()
	req := fetchReq("", id, 0)
	req.SessionID, req.SessionEpoch = 0, 0
	full := rawFetch(t, e.addr(), req, 13)
	if full.ErrorCode != 0 || full.SessionID == 0 {
		t.Fatalf("session open: error %d, id %d", full.ErrorCode, full.SessionID)
	}
	return full.SessionID
}

// KIP-227/KIP-516: from v13 a session partition is identified by topic id;
// forgetting it by id must remove it even after the topic was deleted
// (Kafka's CachedPartition is keyed by TopicIdPartition). (A review found
// the first version got this wrong.)
func TestForgetDeletedTopicByID(t *testing.T) {
	e := newEnv(t)
	created := e.create("gone", 1, nil)
	sid := openSessionV13(t, e, created.ID)
	if _, err := e.adm.DeleteTopics(e.ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	inc := kmsg.NewPtrFetchRequest()
	inc.MaxBytes, inc.SessionID, inc.SessionEpoch = 1<<20, sid, 1
	ft := kmsg.NewFetchRequestForgottenTopic()
	ft.TopicID, ft.Partitions = created.ID, []int32{0}
	inc.ForgottenTopics = append(inc.ForgottenTopics, ft)
	resp := rawFetch(t, e.addr(), inc, 13)
	for _, rt := range resp.Topics {
		for _, p := range rt.Partitions {
			t.Errorf("forgotten partition still in the session: topic id %x partition %d error %s",
				rt.TopicID, p.Partition, kerr.ErrorForCode(p.ErrorCode))
		}
	}
}

// A v13 session partition added under topic id A must not be served from a
// new topic of the same name (id B): Kafka answers INCONSISTENT_TOPIC_ID
// (or UNKNOWN_TOPIC_ID), kfake does the same (01_fetch.go, staleID). (A
// review found the first version got this wrong.)
func TestSessionDoesNotServeARecreatedTopicUnderTheOldID(t *testing.T) {
	e := newEnv(t)
	old := e.create("re", 1, nil)
	sid := openSessionV13(t, e, old.ID)
	if _, err := e.adm.DeleteTopics(e.ctx, "re"); err != nil {
		t.Fatal(err)
	}
	e.create("re", 1, nil)
	e.produce("re", 0, "from-the-new-topic")
	inc := kmsg.NewPtrFetchRequest()
	inc.MaxBytes, inc.SessionID, inc.SessionEpoch = 1<<20, sid, 1
	resp := rawFetch(t, e.addr(), inc, 13)
	for _, rt := range resp.Topics {
		for _, p := range rt.Partitions {
			if rt.TopicID == old.ID && p.ErrorCode == 0 {
				t.Errorf("old topic id %x answered with error 0 and %d bytes of the new topic's records (hw %d)",
					rt.TopicID, len(p.RecordBatches), p.HighWatermark)
			}
		}
	}
}

// Kafka's IncrementalFetchContext moves a partition that returned data to
// the end of the session's partition order, so that with a response size
// limit every partition gets its turn (the client cannot reorder a
// session). (A review found the first version got this wrong.)
func TestIncrementalFetchRotatesPartitions(t *testing.T) {
	e := newEnv(t)
	created := e.create("fair", 2, nil)
	for range 6 {
		e.produce("fair", 0, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
	}
	e.produce("fair", 1, "b")
	req := fetchReq("fair", created.ID, 0)
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.Partition, rp.PartitionMaxBytes, rp.CurrentLeaderEpoch = 1, 1<<20, -1
	req.Topics[0].Partitions = append(req.Topics[0].Partitions, rp)
	req.MaxBytes = 1 // one batch per response (KIP-74: the first batch is whole)
	req.SessionID, req.SessionEpoch = 0, 0
	resp := rawFetch(t, e.addr(), req, 12)
	sid := resp.SessionID
	next := int64(1) // partition 0's next offset: one batch per record
	for epoch := int32(1); epoch <= 4; epoch++ {
		inc := kmsg.NewPtrFetchRequest()
		inc.MaxBytes, inc.SessionID, inc.SessionEpoch = 1, sid, epoch
		rt := kmsg.NewFetchRequestTopic()
		rt.Topic = "fair"
		fp := kmsg.NewFetchRequestTopicPartition()
		fp.Partition, fp.FetchOffset, fp.PartitionMaxBytes, fp.CurrentLeaderEpoch = 0, next, 1<<20, -1
		rt.Partitions = append(rt.Partitions, fp)
		inc.Topics = append(inc.Topics, rt)
		resp = rawFetch(t, e.addr(), inc, 12)
		for _, t := range resp.Topics {
			for _, p := range t.Partitions {
				if p.Partition == 1 && len(p.RecordBatches) > 0 {
					return
				}
				if p.Partition == 0 && len(p.RecordBatches) > 0 {
					next++
				}
			}
		}
	}
	t.Fatal("partition 1 got no data in 4 incremental fetches while partition 0 had a backlog")
}

// Kafka closes the connection when an acks=0 produce has an error, since
// the client gets no response to learn it from
// (KafkaApis.handleProduceRequest: "the server will close socket server so
// that the producer client will know that some error has happened and will
// refresh its metadata"). (A review found the first version got this
// wrong.)
func TestAcksZeroErrorClosesConnection(t *testing.T) {
	node := samsatest.Start(t)
	req := kmsg.NewPtrProduceRequest()
	req.Acks, req.TimeoutMillis = 0, 1000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = "no-such-topic-acks0"
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Records = goodBatch(t)
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	data := append(frame(req, 9), frame(kmsg.NewPtrApiVersionsRequest(), 3)...)
	if _, closed := exchange(t, node.Addr(), data); !closed {
		t.Fatal("acks=0 produce to an unknown topic: connection kept open, the error is lost")
	}
}

// Produce v13 names topics by id (KIP-516); an unknown id is
// UNKNOWN_TOPIC_ID (KafkaApis: "only return UNKNOWN_TOPIC_ID if request
// version uses topicId, but the corresponding topic name can't be found").
func TestProduceV13UnknownTopicID(t *testing.T) {
	node := samsatest.Start(t)
	req := kmsg.NewPtrProduceRequest()
	req.Acks, req.TimeoutMillis = -1, 1000
	rt := kmsg.NewProduceRequestTopic()
	rt.TopicID = [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Records = goodBatch(t)
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	body, closed := exchange(t, node.Addr(), frame(req, 13))
	if closed {
		t.Fatal("closed")
	}
	resp := kmsg.NewPtrProduceResponse()
	resp.SetVersion(13)
	if err := resp.ReadFrom(body[1:]); err != nil {
		t.Fatal(err)
	}
	if got := resp.Topics[0].Partitions[0].ErrorCode; got != kerr.UnknownTopicID.Code {
		t.Fatalf("error %s, want UNKNOWN_TOPIC_ID", kerr.ErrorForCode(got))
	}
}

// A fetch long-polling a partition must complete when the partition goes
// away (Kafka: ReplicaManager.stopPartitions completes delayed fetches of
// partitions it no longer leads). Samsa's waiters on the deleted partition
// are never notified, so the fetch waits its whole max_wait_ms.
func TestLongPollEndsWhenTopicDeleted(t *testing.T) {
	e := newEnv(t)
	created := e.create("lp", 1, nil)
	req := fetchReq("lp", created.ID, 0)
	req.MaxWaitMillis, req.MinBytes = 8000, 1
	go func() {
		time.Sleep(300 * time.Millisecond)
		e.adm.DeleteTopics(e.ctx, "lp")
	}()
	start := time.Now()
	e.fetch(req)
	if d := time.Since(start); d > 4*time.Second {
		t.Fatalf("fetch on a deleted partition returned after %v (max wait 8s), not when the topic went", d)
	}
}

// fetch.max.bytes (catalog: "The most bytes one Fetch response returns",
// default 55 MiB) caps a Fetch's max_bytes in Kafka (KafkaApis:
// min(fetchRequest.maxBytes, config.fetchMaxBytes)). (A review found the
// first version got this wrong.)
func TestFetchMaxBytesIsEnforced(t *testing.T) {
	node := samsatest.Start(t, samsatest.WithProps(map[string]string{"fetch.max.bytes": "1024"}))
	cl, err := kgo.NewClient(kgo.SeedBrokers(node.Addr()), kgo.ProducerLinger(0),
		kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	e := &env{t: t, ctx: context.Background(), cl: cl, adm: kadm.NewClient(cl)}
	created := e.create("fmb", 1, nil)
	for range 8 {
		e.produce("fmb", 0, strings.Repeat("x", 600))
	}
	req := fetchReq("fmb", created.ID, 0)
	req.MaxBytes = 1 << 30
	resp := e.fetch(req)
	if n := len(resp.Topics[0].Partitions[0].RecordBatches); n > 1024 {
		t.Fatalf("fetch returned %d bytes with fetch.max.bytes=1024", n)
	}
}
