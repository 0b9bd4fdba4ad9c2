package compat

import (
	"testing"
	"time"

	kafka "github.com/segmentio/kafka-go"
)

var kafkaGoCodecs = map[string]kafka.Compression{
	"none":   0,
	"gzip":   kafka.Gzip,
	"snappy": kafka.Snappy,
	"lz4":    kafka.Lz4,
	"zstd":   kafka.Zstd,
}

// TestKafkaGo: Client.CreateTopics, a Writer with each codec (a Balancer
// sends each record to the partition it names), a Reader per partition (no
// GroupID), and Client.ListOffsets (first, last, by time); then a Reader
// with a GroupID reads and commits (kafkaGoGroup, testGroup).
func TestKafkaGo(t *testing.T) {
	t.Parallel()
	addr := startBroker(t)
	forEachCodec(t, "kafkago", func(t *testing.T, codec, topic string) {
		ctx := testContext(t)
		client := &kafka.Client{Addr: kafka.TCP(addr), Timeout: timeout}
		created, err := client.CreateTopics(ctx, &kafka.CreateTopicsRequest{
			Topics: []kafka.TopicConfig{{Topic: topic, NumPartitions: partitions, ReplicationFactor: 1}},
		})
		if err == nil {
			err = created.Errors[topic]
		}
		if err != nil {
			t.Fatalf("CreateTopics: %v", err)
		}

		recs := records(numRecords, codec)
		w := &kafka.Writer{
			Addr:         kafka.TCP(addr),
			Topic:        topic,
			Balancer:     kafka.BalancerFunc(func(m kafka.Message, _ ...int) int { return m.Partition }),
			Compression:  kafkaGoCodecs[codec],
			RequiredAcks: kafka.RequireAll,
			BatchSize:    numRecords,
			BatchTimeout: 5 * time.Millisecond,
		}
		msgs := make([]kafka.Message, len(recs))
		for i, r := range recs {
			m := kafka.Message{Partition: int(r.partition), Key: []byte(r.key), Value: []byte(r.value), Time: r.timestamp}
			for _, h := range r.headers {
				m.Headers = append(m.Headers, kafka.Header{Key: h[0], Value: []byte(h[1])})
			}
			msgs[i] = m
		}
		if err := w.WriteMessages(ctx, msgs...); err != nil {
			t.Fatalf("WriteMessages: %v", err)
		}
		if err := w.Close(); err != nil {
			t.Fatalf("close writer: %v", err)
		}

		want := byPartition(recs)
		for p := range partitions {
			r := kafka.NewReader(kafka.ReaderConfig{
				Brokers: []string{addr}, Topic: topic, Partition: p,
				MinBytes: 1, MaxBytes: 1 << 20, MaxWait: 100 * time.Millisecond,
			})
			if err := r.SetOffset(kafka.FirstOffset); err != nil {
				t.Fatalf("SetOffset: %v", err)
			}
			var read []got
			for len(read) < len(want[p]) {
				m, err := r.ReadMessage(ctx)
				if err != nil {
					t.Fatalf("partition %d: ReadMessage: %v (after %d records)", p, err, len(read))
				}
				g := got{offset: m.Offset, key: string(m.Key), value: string(m.Value), timestamp: m.Time}
				for _, h := range m.Headers {
					g.headers = append(g.headers, [2]string{h.Key, string(h.Value)})
				}
				read = append(read, g)
			}
			r.Close()
			checkPartition(t, p, want[p], read)
		}

		// kafka-go sends one ListOffsets request per partition asked for,
		// and fills PartitionOffsets from the timestamp it asked with.
		list := func(req kafka.OffsetRequest) kafka.PartitionOffsets {
			t.Helper()
			res, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{
				Topics: map[string][]kafka.OffsetRequest{topic: {req}},
			})
			if err != nil {
				t.Fatalf("ListOffsets(%+v): %v", req, err)
			}
			pos := res.Topics[topic]
			if len(pos) != 1 || pos[0].Error != nil {
				t.Fatalf("ListOffsets(%+v): %+v", req, pos)
			}
			return pos[0]
		}
		for p := range partitions {
			first, last := list(kafka.FirstOffsetOf(p)).FirstOffset, list(kafka.LastOffsetOf(p)).LastOffset
			if first != 0 || last != int64(len(want[p])) {
				t.Fatalf("partition %d: first/last offsets %d/%d, want 0/%d", p, first, last, len(want[p]))
			}
			for _, q := range timeQueries(want[p]) {
				offs := list(kafka.TimeOffsetOf(p, time.UnixMilli(q.ms))).Offsets
				if _, ok := offs[q.offset]; !ok || len(offs) != 1 {
					t.Fatalf("partition %d: offsets for %s (%d) are %v, want %d", p, q.what, q.ms, offs, q.offset)
				}
			}
		}
	})
	testGroup(t, addr, "kafkago", kafkaGoGroup)
}

// kafkaGoGroup consumes as a member of a group through a Reader with a
// GroupID: FetchMessage, then CommitMessages (synchronous, CommitInterval
// 0); Close leaves the group.
func kafkaGoGroup(t *testing.T, addr, topic, group string, n int) []groupRecord {
	t.Helper()
	ctx := testContext(t)
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: []string{addr}, GroupID: group, Topic: topic,
		StartOffset: kafka.FirstOffset, MaxWait: 100 * time.Millisecond,
	})
	var out []groupRecord
	for len(out) < n {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			t.Fatalf("FetchMessage: %v (after %d of %d records)", err, len(out), n)
		}
		out = append(out, groupRecord{int32(m.Partition), m.Offset, string(m.Key), string(m.Value)})
		if err := r.CommitMessages(ctx, m); err != nil {
			t.Fatalf("CommitMessages: %v", err)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatalf("close reader: %v", err)
	}
	return out
}
