//go:build clientbatches

package record

// The generator of testdata/client-batches. It sits behind a build tag so
// that franz-go's client and kfake are not linked into the package's test
// and fuzz binaries: fuzzing instruments every non-standard package linked
// in, and these two made it several times slower. Regenerate with
//
//	go test -tags clientbatches ./internal/record/ -run TestGenerateClientBatches -v -update-client-batches

import (
	"bytes"
	"context"
	"encoding/binary"
	"flag"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"
)

var updateClientBatches = flag.Bool("update-client-batches", false, "regenerate testdata/client-batches with franz-go's producer against kfake")

// clientGroups is how the generator splits the records into produce calls
// (one batch per group).
var clientGroups = []int{1, 19, 20}

func TestGenerateClientBatches(t *testing.T) {
	if !*updateClientBatches {
		t.Skip("run with -update-client-batches to regenerate " + clientBatchDir)
	}
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	if err := os.MkdirAll(clientBatchDir, 0o755); err != nil {
		t.Fatal(err)
	}
	codecs := map[string]kgo.CompressionCodec{
		"none": kgo.NoCompression(), "gzip": kgo.GzipCompression(),
		"snappy": kgo.SnappyCompression(), "lz4": kgo.Lz4Compression(),
		"zstd": kgo.ZstdCompression(), "snappy-xerial": kgo.SnappyCompression(),
	}
	for _, f := range clientFiles {
		topic := "client-batches-" + f.name
		mustCreateTopic(t, cluster.ListenAddrs(), topic)
		sent := produceCaptured(t, cluster.ListenAddrs(), topic, codecs[f.name], f.name == "snappy-xerial")
		compareFetched(t, cluster.ListenAddrs(), topic, sent)
		path := filepath.Join(clientBatchDir, f.name+".bin")
		if err := os.WriteFile(path, bytes.Join(sent, nil), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d batches", path, len(sent))
	}
}

func mustCreateTopic(t *testing.T, addrs []string, topic string) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	req := kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = topic, 1, 1
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(context.Background(), cl)
	if err != nil || resp.Topics[0].ErrorCode != 0 {
		t.Fatalf("create %s: %v %+v", topic, err, resp)
	}
}

// produceCaptured produces the records with one codec through a dialer that
// copies every byte the client writes, and returns the batches found in
// the Produce requests, in the order sent. streaming turns on franz-go's
// StreamingCompression, which merges a backlog of batches into one batch
// whose snappy data is xerial-framed, as the Java producer writes it.
func produceCaptured(t *testing.T, addrs []string, topic string, codec kgo.CompressionCodec, streaming bool) [][]byte {
	var mu sync.Mutex
	var conns []*bytes.Buffer
	dial := func(ctx context.Context, network, host string) (net.Conn, error) {
		c, err := new(net.Dialer).DialContext(ctx, network, host)
		if err != nil {
			return nil, err
		}
		mu.Lock()
		defer mu.Unlock()
		conns = append(conns, new(bytes.Buffer))
		return &teeConn{Conn: c, mu: &mu, w: conns[len(conns)-1]}, nil
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(addrs...), kgo.Dialer(dial), kgo.DefaultProduceTopic(topic),
		kgo.ProducerBatchCompression(codec), kgo.ProducerLinger(time.Minute),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
	}
	groups := clientGroups
	if streaming {
		// Small batches, so that each group leaves a backlog to merge;
		// the first group's response tells the client the produce version,
		// which merging waits for.
		opts = append(opts, kgo.StreamingCompression(), kgo.ProducerBatchMaxBytes(1500))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	i := 0
	for _, n := range groups {
		for range n {
			r := clientRecord(i)
			kr := &kgo.Record{Key: r.Key, Value: r.Value, Timestamp: clientBaseTime.Add(time.Duration(7*i) * time.Millisecond)}
			for _, h := range r.Headers {
				kr.Headers = append(kr.Headers, kgo.RecordHeader{Key: h.Key, Value: h.Value})
			}
			cl.Produce(context.Background(), kr, func(_ *kgo.Record, err error) {
				if err != nil {
					t.Errorf("produce: %v", err)
				}
			})
			i++
		}
		if err := cl.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	cl.Close()
	mu.Lock()
	defer mu.Unlock()
	var batches [][]byte
	for _, c := range conns {
		batches = append(batches, produceBatches(t, c.Bytes())...)
	}
	return batches
}

type teeConn struct {
	net.Conn
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (c *teeConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.mu.Lock()
	c.w.Write(p[:n])
	c.mu.Unlock()
	return n, err
}

// produceBatches parses the request frames a client wrote on one
// connection and returns the record batches of its Produce requests.
func produceBatches(t *testing.T, b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		size := int(binary.BigEndian.Uint32(b))
		frame := b[4 : 4+size]
		b = b[4+size:]
		key := int16(binary.BigEndian.Uint16(frame))
		if key != int16(kmsg.Produce) {
			continue
		}
		req := kmsg.NewPtrProduceRequest()
		req.Version = int16(binary.BigEndian.Uint16(frame[2:]))
		// Header: key, version, correlation id, client id (int16 length).
		body := frame[10+int(binary.BigEndian.Uint16(frame[8:])):]
		if req.IsFlexible() {
			body = body[1:] // empty tagged fields
		}
		if err := req.ReadFrom(body); err != nil {
			t.Fatalf("produce request v%d: %v", req.Version, err)
		}
		for _, rt := range req.Topics {
			for _, rp := range rt.Partitions {
				for rest := rp.Records; len(rest) > 0; {
					batch, _, next, err := Next(rest)
					if err != nil {
						t.Fatal(err)
					}
					out = append(out, slices.Clone(batch))
					rest = next
				}
			}
		}
	}
	return out
}

// compareFetched fetches the topic back raw and reports how kfake's copy
// differs from what the producer sent. kfake decodes each batch into a
// kmsg.RecordBatch and re-encodes it on fetch, assigning the base offset
// and leader epoch; everything else (and so the CRC) should be unchanged.
func compareFetched(t *testing.T, addrs []string, topic string, sent [][]byte) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.MaxVersions(kversion.V3_0_0()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var fetched [][]byte
	for offset := int64(0); len(fetched) < len(sent); {
		req := kmsg.NewPtrFetchRequest()
		req.MaxWaitMillis, req.MinBytes, req.MaxBytes = 100, 1, 1<<20
		rt := kmsg.NewFetchRequestTopic()
		rt.Topic = topic
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.FetchOffset, rp.PartitionMaxBytes = offset, 1<<20
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp, err := req.RequestWith(context.Background(), cl)
		if err != nil {
			t.Fatal(err)
		}
		got := resp.Topics[0].Partitions[0].RecordBatches
		if len(got) == 0 {
			t.Fatalf("fetch at %d returned nothing", offset)
		}
		for len(got) > 0 {
			batch, h, rest, err := Next(got)
			if err != nil {
				break // a partial batch at the end of the response
			}
			fetched = append(fetched, batch)
			offset = h.NextOffset()
			got = rest
		}
	}
	for i := range sent {
		a, b := slices.Clone(sent[i]), slices.Clone(fetched[i])
		verbatim := bytes.Equal(a, b)
		SetBaseOffset(a, 0)
		SetBaseOffset(b, 0)
		SetPartitionLeaderEpoch(a, 0)
		SetPartitionLeaderEpoch(b, 0)
		t.Logf("%s batch %d: fetched bytes identical: %v; identical but for base offset and leader epoch: %v",
			topic, i, verbatim, bytes.Equal(a, b))
	}
}
