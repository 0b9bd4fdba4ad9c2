package broker_test

// Protocol-level tests of the data APIs against a live node, with kmsg
// requests sent by a franz-go client.

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/samsa-io/samsa/samsatest"
)

type env struct {
	t   *testing.T
	ctx context.Context
	cl  *kgo.Client
	adm *kadm.Client
}

func newEnv(t *testing.T) *env {
	node := samsatest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	// No compression: the size tests need batches as large as their values.
	cl, err := kgo.NewClient(kgo.SeedBrokers(node.Addr()), kgo.ProducerLinger(0),
		kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return &env{t: t, ctx: ctx, cl: cl, adm: kadm.NewClient(cl)}
}

func (e *env) create(topic string, partitions int32, configs map[string]*string) kadm.CreateTopicResponse {
	e.t.Helper()
	r, err := e.adm.CreateTopic(e.ctx, partitions, 1, configs, topic)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

func (e *env) produce(topic string, partition int32, values ...string) {
	e.t.Helper()
	for _, v := range values {
		r := &kgo.Record{Topic: topic, Partition: partition, Value: []byte(v)}
		if err := e.cl.ProduceSync(e.ctx, r).FirstErr(); err != nil {
			e.t.Fatal(err)
		}
	}
}

func fetchReq(topic string, id [16]byte, offset int64) *kmsg.FetchRequest {
	req := kmsg.NewPtrFetchRequest()
	req.MaxBytes, req.MinBytes, req.MaxWaitMillis = 1<<20, 1, 0
	req.SessionEpoch = -1
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic, rt.TopicID = topic, id
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.FetchOffset, rp.PartitionMaxBytes, rp.CurrentLeaderEpoch = offset, 1<<20, -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}

// fetch sends req; franz-go sends the highest version both sides support
// (v18), whatever version the request is set to.
func (e *env) fetch(req *kmsg.FetchRequest) *kmsg.FetchResponse {
	e.t.Helper()
	resp, err := req.RequestWith(e.ctx, e.cl)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp
}

func TestFetchBasicsAndErrors(t *testing.T) {
	e := newEnv(t)
	created := e.create("f", 1, nil)
	e.produce("f", 0, "a", "b", "c")

	resp := e.fetch(fetchReq("f", created.ID, 1))
	p := resp.Topics[0].Partitions[0]
	if p.ErrorCode != 0 || p.HighWatermark != 3 || p.LastStableOffset != 3 || p.LogStartOffset != 0 || len(p.RecordBatches) == 0 {
		t.Fatalf("fetch: %+v", p)
	}
	// By topic id (the request carries both; v18 uses the id), and an
	// unknown id.
	resp = e.fetch(fetchReq("", created.ID, 0))
	if resp.Topics[0].TopicID != created.ID || resp.Topics[0].Partitions[0].ErrorCode != 0 {
		t.Fatalf("fetch by id: %+v", resp.Topics[0])
	}
	resp = e.fetch(fetchReq("", [16]byte{1, 2}, 0))
	if code := resp.Topics[0].Partitions[0].ErrorCode; code != kerr.UnknownTopicID.Code {
		t.Fatalf("unknown id: %d", code)
	}
	resp = e.fetch(fetchReq("f", created.ID, 9))
	if code := resp.Topics[0].Partitions[0].ErrorCode; code != kerr.OffsetOutOfRange.Code {
		t.Fatalf("past the end: %d", code)
	}
	// Before v13 topics go by name: a client pinned to Kafka 3.0's versions
	// (Fetch v12) gets UNKNOWN_TOPIC_OR_PARTITION for an unknown name.
	old, err := kgo.NewClient(kgo.SeedBrokers(e.cl.OptValue(kgo.SeedBrokers).([]string)...), kgo.MaxVersions(kversion.V3_0_0()))
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	req12 := fetchReq("nope", [16]byte{}, 0)
	resp12, err := req12.RequestWith(e.ctx, old)
	if err != nil {
		t.Fatal(err)
	}
	if req12.Version != 12 || resp12.Topics[0].Topic != "nope" || resp12.Topics[0].Partitions[0].ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("unknown topic name at v%d: %+v", req12.Version, resp12.Topics[0])
	}
	req := fetchReq("f", created.ID, 0)
	req.Topics[0].Partitions[0].CurrentLeaderEpoch = 99
	resp = e.fetch(req)
	if code := resp.Topics[0].Partitions[0].ErrorCode; code != kerr.UnknownLeaderEpoch.Code {
		t.Fatalf("future epoch: %d", code)
	}
}

// A fetch at the log end waits max_wait_ms for min_bytes, and returns as
// soon as a produce brings them.
func TestFetchLongPoll(t *testing.T) {
	e := newEnv(t)
	created := e.create("lp", 1, nil)
	req := fetchReq("lp", created.ID, 0)
	req.MaxWaitMillis, req.MinBytes = 300, 1
	start := time.Now()
	resp := e.fetch(req)
	if waited := time.Since(start); waited < 250*time.Millisecond || len(resp.Topics[0].Partitions[0].RecordBatches) != 0 {
		t.Fatalf("empty long poll returned after %v", waited)
	}
	req.MaxWaitMillis = 10000
	produced := make(chan error, 1)
	go func() {
		time.Sleep(200 * time.Millisecond)
		produced <- e.cl.ProduceSync(e.ctx, &kgo.Record{Topic: "lp", Value: []byte("wake")}).FirstErr()
	}()
	start = time.Now()
	resp = e.fetch(req)
	waited := time.Since(start)
	if err := <-produced; err != nil {
		t.Fatal(err)
	}
	if len(resp.Topics[0].Partitions[0].RecordBatches) == 0 || waited > 5*time.Second {
		t.Fatalf("long poll woke after %v with %d bytes", waited, len(resp.Topics[0].Partitions[0].RecordBatches))
	}
}

// KIP-74: max_bytes bounds the response, but the first batch always comes
// whole; partition_max_bytes bounds each partition.
func TestFetchSizeLimits(t *testing.T) {
	e := newEnv(t)
	created := e.create("sz", 1, nil)
	big := string(make([]byte, 4000))
	e.produce("sz", 0, big, big, big)
	req := fetchReq("sz", created.ID, 0)
	req.MaxBytes = 10
	resp := e.fetch(req)
	first := len(resp.Topics[0].Partitions[0].RecordBatches)
	if first < 4000 || first > 8000 {
		t.Fatalf("tiny max_bytes returned %d bytes, want exactly the first batch", first)
	}
	req = fetchReq("sz", created.ID, 0)
	req.Topics[0].Partitions[0].PartitionMaxBytes = 9000
	resp = e.fetch(req)
	if n := len(resp.Topics[0].Partitions[0].RecordBatches); n <= first || n > 9000 {
		t.Fatalf("partition_max_bytes 9000 returned %d bytes", n)
	}
}

// KIP-227: a session's incremental fetches carry only partitions with
// news; a wrong epoch or an unknown session is refused.
func TestFetchSessions(t *testing.T) {
	e := newEnv(t)
	created := e.create("s", 2, nil)
	e.produce("s", 0, "x")
	e.produce("s", 1, "y")
	req := fetchReq("s", created.ID, 0)
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.Partition, rp.PartitionMaxBytes, rp.CurrentLeaderEpoch = 1, 1<<20, -1
	req.Topics[0].Partitions = append(req.Topics[0].Partitions, rp)
	req.SessionID, req.SessionEpoch = 0, 0
	full := e.fetch(req)
	if full.SessionID == 0 || len(full.Topics[0].Partitions) != 2 {
		t.Fatalf("session open: id %d, %d partitions", full.SessionID, len(full.Topics[0].Partitions))
	}
	inc := kmsg.NewPtrFetchRequest()
	inc.MaxBytes, inc.SessionID, inc.SessionEpoch = 1<<20, full.SessionID, 1
	// Incremental: both partitions move past what they received.
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic, rt.TopicID = "s", created.ID
	for p := range int32(2) {
		fp := kmsg.NewFetchRequestTopicPartition()
		fp.Partition, fp.FetchOffset, fp.PartitionMaxBytes, fp.CurrentLeaderEpoch = p, 1, 1<<20, -1
		rt.Partitions = append(rt.Partitions, fp)
	}
	inc.Topics = append(inc.Topics, rt)
	resp := e.fetch(inc)
	if resp.ErrorCode != 0 || len(resp.Topics) != 0 {
		t.Fatalf("incremental with no news: error %d, topics %+v", resp.ErrorCode, resp.Topics)
	}
	// New data on partition 0 only: the next incremental fetch, listing
	// no partitions, carries partition 0 alone.
	e.produce("s", 0, "z")
	inc2 := kmsg.NewPtrFetchRequest()
	inc2.MaxBytes, inc2.SessionID, inc2.SessionEpoch = 1<<20, full.SessionID, 2
	resp = e.fetch(inc2)
	if resp.ErrorCode != 0 || len(resp.Topics) != 1 {
		t.Fatalf("incremental with news: %+v", resp)
	}
	got := map[int32]bool{}
	for _, p := range resp.Topics[0].Partitions {
		got[p.Partition] = len(p.RecordBatches) > 0
	}
	if len(got) != 1 || !got[0] {
		t.Fatalf("partitions in the response (with data): %v", got)
	}
	inc2.SessionEpoch = 7
	if resp = e.fetch(inc2); resp.ErrorCode != kerr.InvalidFetchSessionEpoch.Code {
		t.Fatalf("wrong epoch: %d", resp.ErrorCode)
	}
	inc2.SessionID = 424242
	if resp = e.fetch(inc2); resp.ErrorCode != kerr.FetchSessionIDNotFound.Code {
		t.Fatalf("unknown session: %d", resp.ErrorCode)
	}
}

func TestListOffsetsDeleteRecordsAndEpochs(t *testing.T) {
	e := newEnv(t)
	e.create("lo", 1, nil)
	for i := range 5 {
		r := &kgo.Record{Topic: "lo", Value: []byte("v"), Timestamp: time.UnixMilli(int64(1000 * (i + 1)))}
		if err := e.cl.ProduceSync(e.ctx, r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	check := func(what string, got kadm.ListedOffsets, err error, want int64) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		l, _ := got.Lookup("lo", 0)
		if l.Err != nil || l.Offset != want {
			t.Fatalf("%s: offset %d err %v, want %d", what, l.Offset, l.Err, want)
		}
	}
	lo, err := e.adm.ListStartOffsets(e.ctx, "lo")
	check("earliest", lo, err, 0)
	lo, err = e.adm.ListEndOffsets(e.ctx, "lo")
	check("latest", lo, err, 5)
	lo, err = e.adm.ListOffsetsAfterMilli(e.ctx, 2500, "lo")
	check("by time", lo, err, 2)
	lo, err = e.adm.ListMaxTimestampOffsets(e.ctx, "lo")
	check("max timestamp", lo, err, 4)

	del, err := e.adm.DeleteRecords(e.ctx, kadm.Offsets{"lo": {0: {At: 3}}})
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := del.Lookup("lo", 0); d.Err != nil || d.LowWatermark != 3 {
		t.Fatalf("delete records: %+v", d)
	}
	lo, err = e.adm.ListStartOffsets(e.ctx, "lo")
	check("earliest after delete", lo, err, 3)
	del, _ = e.adm.DeleteRecords(e.ctx, kadm.Offsets{"lo": {0: {At: 99}}})
	if d, _ := del.Lookup("lo", 0); !errors.Is(d.Err, kerr.OffsetOutOfRange) {
		t.Fatalf("delete past the high watermark: %v", d.Err)
	}

	req := kmsg.NewPtrOffsetForLeaderEpochRequest()
	req.ReplicaID = -1
	rt := kmsg.NewOffsetForLeaderEpochRequestTopic()
	rt.Topic = "lo"
	rp := kmsg.NewOffsetForLeaderEpochRequestTopicPartition()
	rp.CurrentLeaderEpoch, rp.LeaderEpoch = -1, 0
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(e.ctx, e.cl)
	if err != nil {
		t.Fatal(err)
	}
	if p := resp.Topics[0].Partitions[0]; p.ErrorCode != 0 || p.LeaderEpoch != 0 || p.EndOffset != 5 {
		t.Fatalf("offset for epoch 0: %+v", p)
	}
}

func TestTopicAdmin(t *testing.T) {
	e := newEnv(t)
	created := e.create("adm", 2, nil)
	if _, err := e.adm.CreatePartitions(e.ctx, 2, "adm"); err != nil {
		t.Fatal(err)
	}
	e.produce("adm", 3, "on the new partition")
	td, err := e.adm.ListTopics(e.ctx, "adm")
	if err != nil || len(td["adm"].Partitions) != 4 || td["adm"].ID != created.ID {
		t.Fatalf("after CreatePartitions: %v %+v", err, td["adm"])
	}
	// DescribeTopicPartitions pages with a cursor.
	dtp := kmsg.NewPtrDescribeTopicPartitionsRequest()
	dtp.ResponsePartitionLimit = 3
	rt := kmsg.NewDescribeTopicPartitionsRequestTopic()
	rt.Topic = "adm"
	dtp.Topics = append(dtp.Topics, rt)
	dresp, err := dtp.RequestWith(e.ctx, e.cl)
	if err != nil || len(dresp.Topics[0].Partitions) != 3 || dresp.NextCursor == nil || dresp.NextCursor.Partition != 3 {
		t.Fatalf("DescribeTopicPartitions page 1: %v %+v", err, dresp)
	}
	// Delete by id (DeleteTopics v6), then the name is free again.
	dreq := kmsg.NewPtrDeleteTopicsRequest()
	dt := kmsg.NewDeleteTopicsRequestTopic()
	dt.TopicID = created.ID
	dreq.Topics = append(dreq.Topics, dt)
	del, err := dreq.RequestWith(e.ctx, e.cl)
	if err != nil || del.Topics[0].ErrorCode != 0 || del.Topics[0].Topic == nil || *del.Topics[0].Topic != "adm" {
		t.Fatalf("delete by id: %v %+v", err, del.Topics)
	}
	again := e.create("adm", 1, nil)
	if again.ID == created.ID {
		t.Fatal("recreated topic kept the old id")
	}
	end, _ := e.adm.ListEndOffsets(e.ctx, "adm")
	if l, _ := end.Lookup("adm", 0); l.Offset != 0 {
		t.Fatalf("recreated topic has old data: end %d", l.Offset)
	}
	// The response lists the new topic's configs with their sources.
	ret := "60000"
	cr, err := e.adm.CreateTopics(e.ctx, 1, 1, map[string]*string{"retention.ms": &ret}, "adm2")
	if err != nil {
		t.Fatal(err)
	}
	var seen bool
	for _, c := range cr["adm2"].Configs {
		if c.Key == "retention.ms" {
			seen = c.MaybeValue() == "60000" && c.Source == kmsg.ConfigSourceDynamicTopicConfig
		}
	}
	if !seen || len(cr["adm2"].Configs) < 20 {
		t.Fatalf("CreateTopics configs (%d): retention.ms override shown %v", len(cr["adm2"].Configs), seen)
	}
	// Unknown config names are INVALID_CONFIG, and messages do not repeat
	// the code's name.
	bogus := "1"
	res0, _ := e.adm.CreateTopic(e.ctx, 1, 1, map[string]*string{"no.such.config": &bogus}, "adm3")
	if !errors.Is(res0.Err, kerr.InvalidConfig) || strings.Contains(res0.ErrMessage, "INVALID_CONFIG") || !strings.Contains(res0.ErrMessage, "no.such.config") {
		t.Fatalf("unknown config: %v %q", res0.Err, res0.ErrMessage)
	}
	ac, _ := e.adm.AlterTopicConfigs(e.ctx, []kadm.AlterConfig{{Name: "no.such.config", Value: &bogus}}, "adm2")
	if len(ac) != 1 || !errors.Is(ac[0].Err, kerr.InvalidConfig) {
		t.Fatalf("alter unknown config: %+v", ac)
	}
	// Bad names and duplicates get Kafka's codes.
	res, _ := e.adm.CreateTopic(e.ctx, 1, 1, nil, "bad name")
	if !errors.Is(res.Err, kerr.InvalidTopicException) {
		t.Fatalf("bad name: %v", res.Err)
	}
	res, _ = e.adm.CreateTopic(e.ctx, 1, 1, nil, "adm")
	if !errors.Is(res.Err, kerr.TopicAlreadyExists) {
		t.Fatalf("duplicate: %v", res.Err)
	}
}

// Topic configs change on the live log: max.message.bytes shrinks and a
// larger batch is refused with MESSAGE_TOO_LARGE; DescribeConfigs shows
// the override and its source.
func TestConfigsTakeEffect(t *testing.T) {
	e := newEnv(t)
	e.create("cfg", 1, nil)
	e.produce("cfg", 0, string(make([]byte, 3000))) // under the default limit
	small := "1000"
	if _, err := e.adm.AlterTopicConfigs(e.ctx, []kadm.AlterConfig{{Name: "max.message.bytes", Value: &small}}, "cfg"); err != nil {
		t.Fatal(err)
	}
	err := e.cl.ProduceSync(e.ctx, &kgo.Record{Topic: "cfg", Value: make([]byte, 3000)}).FirstErr()
	if !errors.Is(err, kerr.MessageTooLarge) {
		t.Fatalf("3000-byte record after max.message.bytes=1000: %v", err)
	}
	rc, err := e.adm.DescribeTopicConfigs(e.ctx, "cfg")
	if err != nil {
		t.Fatal(err)
	}
	c, _ := rc.On("cfg", nil)
	found := false
	for _, entry := range c.Configs {
		if entry.Key == "max.message.bytes" {
			found = entry.MaybeValue() == "1000" && entry.Source == kmsg.ConfigSourceDynamicTopicConfig
		}
		if entry.Key == "retention.ms" && entry.Source != kmsg.ConfigSourceDefaultConfig {
			t.Errorf("retention.ms source %v", entry.Source)
		}
	}
	if !found {
		t.Fatal("max.message.bytes override not described")
	}
	bad := "2"
	resp, err := e.adm.AlterTopicConfigs(e.ctx, []kadm.AlterConfig{{Name: "min.cleanable.dirty.ratio", Value: &bad}}, "cfg")
	if err != nil || len(resp) != 1 || !errors.Is(resp[0].Err, kerr.InvalidConfig) {
		t.Fatalf("min.cleanable.dirty.ratio=2: %v %+v", err, resp)
	}
}

// message.timestamp.after.max.ms (default one hour) refuses records from
// the future with INVALID_TIMESTAMP; LogAppendTime topics take them and
// stamp the broker's time.
func TestTimestampRules(t *testing.T) {
	e := newEnv(t)
	e.create("ts", 1, nil)
	future := time.Now().Add(2 * time.Hour)
	err := e.cl.ProduceSync(e.ctx, &kgo.Record{Topic: "ts", Value: []byte("x"), Timestamp: future}).FirstErr()
	if !errors.Is(err, kerr.InvalidTimestamp) {
		t.Fatalf("a record two hours ahead: %v", err)
	}
	lat := "LogAppendTime"
	e.create("lat", 1, map[string]*string{"message.timestamp.type": &lat})
	before := time.Now().Add(-time.Second)
	r := &kgo.Record{Topic: "lat", Value: []byte("x"), Timestamp: future}
	if err := e.cl.ProduceSync(e.ctx, r).FirstErr(); err != nil {
		t.Fatal(err)
	}
	// Consumers see the broker's time (franz-go does not rewrite the
	// produced record's timestamp from the response).
	cons, err := kgo.NewClient(kgo.SeedBrokers(e.cl.OptValue(kgo.SeedBrokers).([]string)...),
		kgo.ConsumeTopics("lat"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	fs := cons.PollFetches(e.ctx)
	if err := fs.Err0(); err != nil || fs.NumRecords() != 1 {
		t.Fatalf("consume: %v, %d records", err, fs.NumRecords())
	}
	got := fs.Records()[0]
	if got.Timestamp.Before(before) || got.Timestamp.After(time.Now().Add(time.Second)) || got.Attrs.TimestampType() != 1 {
		t.Fatalf("LogAppendTime record stamped %v (type %d)", got.Timestamp, got.Attrs.TimestampType())
	}
}

// acks=0: no response comes back, yet the records are committed and read.
func TestProduceAcksZero(t *testing.T) {
	e := newEnv(t)
	created := e.create("a0", 1, nil)
	node := e.cl.OptValue(kgo.SeedBrokers).([]string)[0]
	req := kmsg.NewPtrProduceRequest()
	req.Acks, req.TimeoutMillis = 0, 1000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = "a0"
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Records = goodBatch(t)
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	// The acks=0 produce, then an ApiVersions on the same connection: the
	// first answer to arrive must be the ApiVersions one.
	data := append(frame(req, 9), formatter.AppendRequest(nil, kmsg.NewPtrApiVersionsRequest(), 8)...)
	c, err := net.Dial("tcp", node)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(data); err != nil {
		t.Fatal(err)
	}
	var head [8]byte
	if _, err := io.ReadFull(c, head[:]); err != nil {
		t.Fatal(err)
	}
	if corr := binary.BigEndian.Uint32(head[4:]); corr != 8 {
		t.Fatalf("first response has correlation id %d, want 8 (the acks=0 produce must get none)", corr)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		p := e.fetch(fetchReq("a0", created.ID, 0)).Topics[0].Partitions[0]
		if p.HighWatermark == 1 && len(p.RecordBatches) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("acks=0 record never became visible: %+v", p)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Produce v0-2 are advertised (librdkafka before 2.10 picks codecs by
// them) but refused with UNSUPPORTED_VERSION, as Kafka 4 does.
func TestOldProduceVersionsAreRefused(t *testing.T) {
	e := newEnv(t)
	e.create("old", 1, nil)
	req := kmsg.NewPtrProduceRequest()
	req.Acks, req.TimeoutMillis = 1, 1000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = "old"
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Records = []byte("a magic 1 message set")
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	body, closed := exchange(t, e.cl.OptValue(kgo.SeedBrokers).([]string)[0], frame(req, 2))
	if closed {
		t.Fatal("produce v2 closed the connection")
	}
	resp := kmsg.NewPtrProduceResponse()
	resp.SetVersion(2)
	if err := resp.ReadFrom(body); err != nil {
		t.Fatal(err)
	}
	if code := resp.Topics[0].Partitions[0].ErrorCode; code != kerr.UnsupportedVersion.Code {
		t.Fatalf("produce v2: error %d", code)
	}
	end, _ := e.adm.ListEndOffsets(e.ctx, "old")
	if l, _ := end.Lookup("old", 0); l.Offset != 0 {
		t.Fatalf("produce v2 wrote: end offset %d", l.Offset)
	}
}

// Broker configs: a cluster-wide dynamic default (AlterBrokerConfigs with
// no broker) reaches topics without overrides, and DescribeConfigs shows
// its source; DescribeCluster and DescribeLogDirs describe the node.
func TestBrokerConfigsClusterAndLogDirs(t *testing.T) {
	e := newEnv(t)
	e.create("bc", 1, nil)
	e.produce("bc", 0, "x", "y")
	ret := "3600000"
	resp, err := e.adm.AlterBrokerConfigs(e.ctx, []kadm.AlterConfig{{Name: "log.retention.ms", Value: &ret}})
	if err != nil || resp[0].Err != nil {
		t.Fatalf("cluster default: %v %+v", err, resp)
	}
	rc, err := e.adm.DescribeTopicConfigs(e.ctx, "bc")
	if err != nil {
		t.Fatal(err)
	}
	c, _ := rc.On("bc", nil)
	for _, entry := range c.Configs {
		if entry.Key == "retention.ms" && (entry.MaybeValue() != ret || entry.Source != kmsg.ConfigSourceDynamicDefaultBrokerConfig) {
			t.Fatalf("retention.ms = %q from %v", entry.MaybeValue(), entry.Source)
		}
	}
	// And it acts on the live log: a cluster-wide message.max.bytes.
	small := "1000"
	if resp, err = e.adm.AlterBrokerConfigs(e.ctx, []kadm.AlterConfig{{Name: "message.max.bytes", Value: &small}}); err != nil || resp[0].Err != nil {
		t.Fatalf("message.max.bytes: %v %+v", err, resp)
	}
	big := make([]byte, 3000)
	for i := range big {
		big[i] = byte(i*31 + i/7) // not compressible away
	}
	if err := e.cl.ProduceSync(e.ctx, &kgo.Record{Topic: "bc", Value: big}).FirstErr(); !errors.Is(err, kerr.MessageTooLarge) {
		t.Fatalf("3000 bytes under a cluster-wide message.max.bytes=1000: %v", err)
	}
	ro := "7"
	resp, _ = e.adm.AlterBrokerConfigs(e.ctx, []kadm.AlterConfig{{Name: "node.id", Value: &ro}}, 1)
	if resp[0].Err == nil {
		t.Fatal("a read-only broker config was altered")
	}
	md, err := e.adm.BrokerMetadata(e.ctx)
	if err != nil || len(md.Brokers) != 1 || md.Brokers[0].NodeID != 1 || md.Controller != 1 || md.Cluster == "" {
		t.Fatalf("cluster: %v %+v", err, md)
	}
	dc := kmsg.NewPtrDescribeClusterRequest()
	dcr, err := dc.RequestWith(e.ctx, e.cl)
	if err != nil || dcr.ErrorCode != 0 || dcr.ClusterID != md.Cluster || len(dcr.Brokers) != 1 {
		t.Fatalf("DescribeCluster: %v %+v", err, dcr)
	}
	dirs, err := e.adm.DescribeAllLogDirs(e.ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var size int64
	dirs.Each(func(d kadm.DescribedLogDir) {
		d.Topics.Each(func(p kadm.DescribedLogDirPartition) {
			if p.Topic == "bc" {
				size = p.Size
			}
		})
	})
	if size <= 0 {
		t.Fatalf("log dir size of bc: %d", size)
	}
}

// A partition asked for twice in one ListOffsets is INVALID_REQUEST, as in
// Kafka; the others are answered.
func TestListOffsetsDuplicates(t *testing.T) {
	e := newEnv(t)
	e.create("dup", 2, nil)
	req := kmsg.NewPtrListOffsetsRequest()
	req.ReplicaID = -1
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = "dup"
	for _, p := range []int32{0, 1, 0} {
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Partition, rp.Timestamp, rp.CurrentLeaderEpoch = p, -1, -1
		rt.Partitions = append(rt.Partitions, rp)
	}
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(e.ctx, e.cl)
	if err != nil {
		t.Fatal(err)
	}
	codes := []int16{}
	for _, p := range resp.Topics[0].Partitions {
		codes = append(codes, p.ErrorCode)
	}
	if len(codes) != 3 || codes[0] != kerr.InvalidRequest.Code || codes[1] != 0 || codes[2] != kerr.InvalidRequest.Code {
		t.Fatalf("codes %v", codes)
	}
}
