package compat

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

var franzCodecs = map[string]kgo.CompressionCodec{
	"none":   kgo.NoCompression(),
	"gzip":   kgo.GzipCompression(),
	"snappy": kgo.SnappyCompression(),
	"lz4":    kgo.Lz4Compression(),
	"zstd":   kgo.ZstdCompression(),
}

// TestFranzGo: kadm creates the topic and lists offsets, kgo produces with
// each codec and consumes by partition (ConsumePartitions, no group); then
// a kgo consumer group reads and commits (franzGroup, testGroup).
func TestFranzGo(t *testing.T) {
	t.Parallel()
	addr := startBroker(t)
	forEachCodec(t, "franz", func(t *testing.T, codec, topic string) {
		ctx := testContext(t)
		admCl, err := kgo.NewClient(kgo.SeedBrokers(addr))
		if err != nil {
			t.Fatal(err)
		}
		defer admCl.Close()
		adm := kadm.NewClient(admCl)
		created, err := adm.CreateTopic(ctx, partitions, 1, nil, topic)
		if err == nil {
			err = created.Err
		}
		if err != nil {
			t.Fatalf("CreateTopic: %v", err)
		}

		recs := records(numRecords, codec)
		prod, err := kgo.NewClient(
			kgo.SeedBrokers(addr),
			kgo.ProducerBatchCompression(franzCodecs[codec]),
			kgo.RecordPartitioner(kgo.ManualPartitioner()),
			kgo.ProducerLinger(5*time.Millisecond),
		)
		if err != nil {
			t.Fatal(err)
		}
		defer prod.Close()
		krs := make([]*kgo.Record, len(recs))
		for i, r := range recs {
			kr := &kgo.Record{Topic: topic, Partition: r.partition, Key: []byte(r.key), Value: []byte(r.value), Timestamp: r.timestamp}
			for _, h := range r.headers {
				kr.Headers = append(kr.Headers, kgo.RecordHeader{Key: h[0], Value: []byte(h[1])})
			}
			krs[i] = kr
		}
		if err := prod.ProduceSync(ctx, krs...).FirstErr(); err != nil {
			t.Fatalf("ProduceSync: %v", err)
		}
		for i, kr := range krs {
			if kr.Partition != recs[i].partition || kr.Offset != recs[i].offset {
				t.Fatalf("record %d produced to partition %d offset %d, want %d/%d", i, kr.Partition, kr.Offset, recs[i].partition, recs[i].offset)
			}
		}

		want := byPartition(recs)
		cons := partitionReader(t, addr, topic)
		defer cons.Close()
		var read [partitions][]got
		for n := 0; n < numRecords; {
			fs := cons.PollFetches(ctx)
			if err := fs.Err(); err != nil {
				t.Fatalf("PollFetches: %v (after %d records)", err, n)
			}
			for _, kr := range fs.Records() {
				if c := kr.Attrs.CompressionType(); c != codecAttr[codec] {
					t.Fatalf("partition %d offset %d: batch codec %d, want %d", kr.Partition, kr.Offset, c, codecAttr[codec])
				}
				g := got{offset: kr.Offset, key: string(kr.Key), value: string(kr.Value), timestamp: kr.Timestamp}
				for _, h := range kr.Headers {
					g.headers = append(g.headers, [2]string{h.Key, string(h.Value)})
				}
				read[kr.Partition] = append(read[kr.Partition], g)
				n++
			}
		}
		for p := range partitions {
			checkPartition(t, p, want[p], read[p])
		}

		starts, err := adm.ListStartOffsets(ctx, topic)
		if err == nil {
			err = starts.Error()
		}
		if err != nil {
			t.Fatalf("ListStartOffsets: %v", err)
		}
		ends, err := adm.ListEndOffsets(ctx, topic)
		if err == nil {
			err = ends.Error()
		}
		if err != nil {
			t.Fatalf("ListEndOffsets: %v", err)
		}
		for p := range int32(partitions) {
			s, _ := starts.Lookup(topic, p)
			e, _ := ends.Lookup(topic, p)
			if s.Offset != 0 || e.Offset != int64(len(want[p])) {
				t.Fatalf("partition %d: start/end offsets %d/%d, want 0/%d", p, s.Offset, e.Offset, len(want[p]))
			}
			// kadm answers the end offset where the broker found none.
			for _, q := range timeQueries(want[p]) {
				listed, err := adm.ListOffsetsAfterMilli(ctx, q.ms, topic)
				if err == nil {
					err = listed.Error()
				}
				if err != nil {
					t.Fatalf("ListOffsetsAfterMilli(%d): %v", q.ms, err)
				}
				o, _ := listed.Lookup(topic, p)
				wantOff, wantTS := q.offset, int64(-1)
				if q.offset < 0 {
					wantOff = int64(len(want[p]))
				} else {
					wantTS = want[p][q.offset].timestamp.UnixMilli()
				}
				if o.Offset != wantOff || (wantTS >= 0 && o.Timestamp != wantTS) {
					t.Fatalf("partition %d: offset for %s (%d) is %d at %d, want %d at %d",
						p, q.what, q.ms, o.Offset, o.Timestamp, wantOff, wantTS)
				}
			}
		}
	})
	testGroup(t, addr, "franz", franzGroup)
}

// franzGroup consumes as a member of a kgo consumer group (ConsumerGroup,
// ConsumeTopics, autocommit off) and commits each poll's records
// synchronously with CommitRecords.
func franzGroup(t *testing.T, addr, topic, group string, n int) []groupRecord {
	t.Helper()
	ctx := testContext(t)
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(addr),
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(topic),
		kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(100*time.Millisecond),
	)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close() // leaves the group
	var out []groupRecord
	for len(out) < n {
		fs := cl.PollRecords(ctx, n-len(out))
		if err := fs.Err(); err != nil {
			t.Fatalf("PollRecords: %v (after %d of %d records)", err, len(out), n)
		}
		recs := fs.Records()
		for _, r := range recs {
			out = append(out, groupRecord{r.Partition, r.Offset, string(r.Key), string(r.Value)})
		}
		if err := cl.CommitRecords(ctx, recs...); err != nil {
			t.Fatalf("CommitRecords: %v", err)
		}
	}
	return out
}
