package compat

import (
	"context"
	"testing"
	"time"

	"github.com/IBM/sarama"
)

var saramaCodecs = map[string]sarama.CompressionCodec{
	"none":   sarama.CompressionNone,
	"gzip":   sarama.CompressionGZIP,
	"snappy": sarama.CompressionSnappy,
	"lz4":    sarama.CompressionLZ4,
	"zstd":   sarama.CompressionZSTD,
}

// saramaConfig is sarama's default configuration (Version: its
// DefaultVersion, which chooses every request version it sends) with what
// a round trip needs.
func saramaConfig(codec string) *sarama.Config {
	c := sarama.NewConfig()
	c.ClientID = "samsa-compat-sarama"
	c.Producer.Return.Successes = true
	c.Producer.RequiredAcks = sarama.WaitForAll
	c.Producer.Partitioner = sarama.NewManualPartitioner
	c.Producer.Compression = saramaCodecs[codec]
	c.Consumer.MaxWaitTime = 100 * time.Millisecond
	c.Consumer.Return.Errors = true
	return c
}

// TestSarama: ClusterAdmin creates the topic, a SyncProducer sends with each
// codec, a Consumer reads by partition (ConsumePartition, no group), and the
// Client lists offsets (GetOffset: oldest, newest, by time); then a
// ConsumerGroup reads and commits (saramaGroup, testGroup).
func TestSarama(t *testing.T) {
	t.Parallel()
	addr := startBroker(t)
	t.Logf("sarama.DefaultVersion %s", sarama.DefaultVersion)
	forEachCodec(t, "sarama", func(t *testing.T, codec, topic string) {
		conf := saramaConfig(codec)
		admin, err := sarama.NewClusterAdmin([]string{addr}, conf)
		if err != nil {
			t.Fatalf("NewClusterAdmin: %v", err)
		}
		defer admin.Close()
		if err := admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: partitions, ReplicationFactor: 1}, false); err != nil {
			t.Fatalf("CreateTopic: %v", err)
		}

		recs := records(numRecords, codec)
		prod, err := sarama.NewSyncProducer([]string{addr}, conf)
		if err != nil {
			t.Fatalf("NewSyncProducer: %v", err)
		}
		msgs := make([]*sarama.ProducerMessage, len(recs))
		for i, r := range recs {
			m := &sarama.ProducerMessage{
				Topic: topic, Partition: r.partition, Timestamp: r.timestamp,
				Key: sarama.StringEncoder(r.key), Value: sarama.StringEncoder(r.value),
			}
			for _, h := range r.headers {
				m.Headers = append(m.Headers, sarama.RecordHeader{Key: []byte(h[0]), Value: []byte(h[1])})
			}
			msgs[i] = m
		}
		if err := prod.SendMessages(msgs); err != nil {
			t.Fatalf("SendMessages: %v", err)
		}
		if err := prod.Close(); err != nil {
			t.Fatalf("close producer: %v", err)
		}
		for i, m := range msgs {
			if m.Partition != recs[i].partition || m.Offset != recs[i].offset {
				t.Fatalf("record %d produced to partition %d offset %d, want %d/%d", i, m.Partition, m.Offset, recs[i].partition, recs[i].offset)
			}
		}

		want := byPartition(recs)
		cons, err := sarama.NewConsumer([]string{addr}, conf)
		if err != nil {
			t.Fatalf("NewConsumer: %v", err)
		}
		defer cons.Close()
		deadline := time.After(timeout)
		for p := range partitions {
			pc, err := cons.ConsumePartition(topic, int32(p), sarama.OffsetOldest)
			if err != nil {
				t.Fatalf("ConsumePartition %d: %v", p, err)
			}
			var read []got
			for len(read) < len(want[p]) {
				select {
				case m := <-pc.Messages():
					g := got{offset: m.Offset, key: string(m.Key), value: string(m.Value), timestamp: m.Timestamp}
					for _, h := range m.Headers {
						g.headers = append(g.headers, [2]string{string(h.Key), string(h.Value)})
					}
					read = append(read, g)
				case err := <-pc.Errors():
					t.Fatalf("partition %d: %v", p, err)
				case <-deadline:
					t.Fatalf("partition %d: timed out after %d records", p, len(read))
				}
			}
			pc.AsyncClose()
			checkPartition(t, p, want[p], read)
		}

		client, err := sarama.NewClient([]string{addr}, conf)
		if err != nil {
			t.Fatalf("NewClient: %v", err)
		}
		defer client.Close()
		offset := func(p int, at int64) int64 {
			t.Helper()
			o, err := client.GetOffset(topic, int32(p), at)
			if err != nil {
				t.Fatalf("GetOffset(partition %d, %d): %v", p, at, err)
			}
			return o
		}
		for p := range partitions {
			if o, n := offset(p, sarama.OffsetOldest), offset(p, sarama.OffsetNewest); o != 0 || n != int64(len(want[p])) {
				t.Fatalf("partition %d: oldest/newest offsets %d/%d, want 0/%d", p, o, n, len(want[p]))
			}
			for _, q := range timeQueries(want[p]) {
				if o := offset(p, q.ms); o != q.offset {
					t.Fatalf("partition %d: offset for %s (%d) is %d, want %d", p, q.what, q.ms, o, q.offset)
				}
			}
		}
	})
	testGroup(t, addr, "sarama", saramaGroup)
}

// saramaGroupHandler processes the records of its claims into out until it
// has n, marks each (MarkMessage) and commits synchronously
// (session.Commit) once the records it was handed are processed.
type saramaGroupHandler struct {
	out  chan<- groupRecord
	done <-chan struct{}
}

func (saramaGroupHandler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (saramaGroupHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }
func (h saramaGroupHandler) ConsumeClaim(s sarama.ConsumerGroupSession, c sarama.ConsumerGroupClaim) error {
	for {
		select {
		case m, ok := <-c.Messages():
			if !ok {
				return nil
			}
			select {
			case h.out <- groupRecord{m.Partition, m.Offset, string(m.Key), string(m.Value)}:
			case <-h.done:
				return nil // not processed: not marked
			}
			s.MarkMessage(m, "")
			if len(c.Messages()) == 0 {
				s.Commit()
			}
		case <-h.done:
			return nil
		}
	}
}

// saramaGroup consumes as a member of a sarama ConsumerGroup with
// autocommit off: MarkMessage, then a synchronous session.Commit.
func saramaGroup(t *testing.T, addr, topic, group string, n int) []groupRecord {
	t.Helper()
	conf := saramaConfig("none")
	conf.Consumer.Offsets.Initial = sarama.OffsetOldest
	conf.Consumer.Offsets.AutoCommit.Enable = false
	g, err := sarama.NewConsumerGroup([]string{addr}, group, conf)
	if err != nil {
		t.Fatalf("NewConsumerGroup: %v", err)
	}
	ctx, cancel := context.WithCancel(testContext(t))
	defer cancel()
	recs := make(chan groupRecord)
	consumed := make(chan error, 1)
	go func() {
		var err error
		for ctx.Err() == nil && err == nil {
			err = g.Consume(ctx, []string{topic}, saramaGroupHandler{recs, ctx.Done()})
		}
		consumed <- err
	}()
	var out []groupRecord
	for len(out) < n {
		select {
		case r := <-recs:
			out = append(out, r)
		case err := <-g.Errors():
			t.Fatalf("consumer group: %v (after %d of %d records)", err, len(out), n)
		case err := <-consumed:
			t.Fatalf("Consume: %v (after %d of %d records)", err, len(out), n)
		case <-ctx.Done():
			t.Fatalf("timed out after %d of %d records", len(out), n)
		}
	}
	cancel() // ends the session: the last claim's commit is done before Consume returns
	if err := <-consumed; err != nil && err != context.Canceled {
		t.Fatalf("Consume: %v", err)
	}
	if err := g.Close(); err != nil {
		t.Fatalf("close consumer group: %v", err)
	}
	return out
}
