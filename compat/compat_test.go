// Package compat proves that Kafka clients nobody here wrote work against
// the broker unchanged: franz-go, sarama and segmentio/kafka-go in-process,
// and kcat, Python's confluent-kafka and kafka-python, and kafkajs as
// programs (kcat/, python/, node/) run against startBroker's address.
//
// Every client does the same round trip per codec it supports: create a
// topic of 2 partitions, produce N keyed records with headers (record i to
// partition i%2, with timestamp base+i where the client can set one), read
// them back by partition (no consumer group), check order, keys, values,
// headers and timestamps, and list offsets: earliest, latest and by time.
// The records' spec is repeated in each client's program; keep them alike.
//
// Once per client, after the round trips, the client consumes the topic of
// codec none as a member of a consumer group and commits; the test checks
// what it read and, with kadm, what it committed, then runs the group again
// after a few more records (group_test.go). Four confluent-kafka and four
// kafkajs consumer processes are also run as one group while they are
// killed and replaced one by one (group_churn_test.go).
//
// The external clients are installed by scripts/install-test-deps.sh (make
// test runs it). A missing client fails its test: nothing skips silently.
package compat

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

const (
	partitions = 2
	numRecords = 50 // per codec, over both partitions
	timeout    = 30 * time.Second

	installHint = "run `make test` or scripts/install-test-deps.sh to install the external Kafka clients"
)

// codecs are the names every client program takes, in the order tested.
var codecs = []string{"none", "gzip", "snappy", "lz4", "zstd"}

// codecAttr is each codec's value in a record batch's attributes.
var codecAttr = map[string]uint8{"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}

// record is what every client produces as record i.
type record struct {
	i         int
	partition int32
	offset    int64
	key       string
	value     string
	headers   [][2]string
	timestamp time.Time // CreateTime, whole milliseconds
}

// records returns the n records of one codec's round trip, timestamped from
// a minute ago, one millisecond apart.
func records(n int, codec string) []record {
	base := time.UnixMilli(time.Now().Add(-time.Minute).UnixMilli())
	out := make([]record, n)
	for i := range out {
		out[i] = record{
			i:         i,
			partition: int32(i % partitions),
			offset:    int64(i / partitions),
			key:       fmt.Sprintf("key-%04d", i),
			value:     fmt.Sprintf("value-%04d-%s-%s", i, codec, strings.Repeat("abcdefgh", 8)),
			headers:   [][2]string{{"h-index", fmt.Sprint(i)}, {"h-codec", codec}},
			timestamp: base.Add(time.Duration(i) * time.Millisecond),
		}
	}
	return out
}

func byPartition(recs []record) [partitions][]record {
	var out [partitions][]record
	for _, r := range recs {
		out[r.partition] = append(out[r.partition], r)
	}
	return out
}

// got is one record as a client read it back.
type got struct {
	offset    int64
	key       string
	value     string
	headers   [][2]string
	timestamp time.Time
}

// checkPartition compares what a client read from partition p, in order,
// with what was produced to it.
func checkPartition(t *testing.T, p int, want []record, gotRecs []got) {
	t.Helper()
	if len(gotRecs) != len(want) {
		t.Fatalf("partition %d: read %d records, want %d", p, len(gotRecs), len(want))
	}
	for k, w := range want {
		g := gotRecs[k]
		where := fmt.Sprintf("partition %d offset %d (record %d)", p, g.offset, w.i)
		switch {
		case g.offset != w.offset:
			t.Fatalf("%s: offset, want %d", where, w.offset)
		case g.key != w.key:
			t.Fatalf("%s: key %q, want %q", where, g.key, w.key)
		case g.value != w.value:
			t.Fatalf("%s: value %q, want %q", where, g.value, w.value)
		case fmt.Sprint(g.headers) != fmt.Sprint(w.headers):
			t.Fatalf("%s: headers %q, want %q", where, g.headers, w.headers)
		case !g.timestamp.Equal(w.timestamp):
			t.Fatalf("%s: timestamp %d, want %d", where, g.timestamp.UnixMilli(), w.timestamp.UnixMilli())
		}
	}
}

// timeQuery is one lookup of an offset by timestamp in a partition: Kafka
// answers the first offset whose timestamp is at least ms, or none (-1 on the
// wire) when every record is older.
type timeQuery struct {
	ms     int64
	offset int64 // -1: none
	what   string
}

func timeQueries(want []record) []timeQuery {
	mid, last := want[len(want)/2], want[len(want)-1]
	return []timeQuery{
		{0, 0, "timestamp 0"},
		{mid.timestamp.UnixMilli(), mid.offset, fmt.Sprintf("offset %d's timestamp", mid.offset)},
		{mid.timestamp.UnixMilli() - 1, mid.offset, fmt.Sprintf("1 ms before offset %d's timestamp", mid.offset)},
		{last.timestamp.UnixMilli(), last.offset, "the last record's timestamp"},
		{last.timestamp.UnixMilli() + 1, -1, "1 ms after the last record"},
	}
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	return ctx
}

// createTopic creates a topic of 2 partitions with franz-go's admin client,
// for clients that have no admin API of their own (kcat).
func createTopic(t *testing.T, addr, topic string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	resp, err := kadm.NewClient(cl).CreateTopic(testContext(t), partitions, 1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}
}

// partitionReader is a franz-go client reading both partitions of topic
// from the start, by assignment.
func partitionReader(t *testing.T, addr, topic string) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(addr),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {
			0: kgo.NewOffset().AtStart(), 1: kgo.NewOffset().AtStart(),
		}}),
		kgo.FetchMaxWait(100*time.Millisecond),
	)
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// checkStored reads a topic back with franz-go after another client wrote
// it: every record of the round trip is there, in batches compressed with
// the codec asked for. That the client really compressed is not otherwise
// visible, since every client decompresses transparently.
func checkStored(t *testing.T, addr, topic, codec string, n int) {
	t.Helper()
	cl := partitionReader(t, addr, topic)
	defer cl.Close()
	ctx := testContext(t)
	for read := 0; read < n; {
		fs := cl.PollFetches(ctx)
		if err := fs.Err(); err != nil {
			t.Fatalf("franz-go reading back %s: %v (after %d of %d records)", topic, err, read, n)
		}
		for _, r := range fs.Records() {
			read++
			if c := r.Attrs.CompressionType(); c != codecAttr[codec] {
				t.Fatalf("%s partition %d offset %d: stored with codec %d, want %d (%s)",
					topic, r.Partition, r.Offset, c, codecAttr[codec], codec)
			}
		}
	}
}

// runClient runs an external client program and fails the test with its
// output if it exits non-zero or does not finish in time.
func runClient(t *testing.T, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("timed out after %v", timeout)
	}
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out.String())
	}
	t.Logf("%s (%v): %s", name, time.Since(start).Round(time.Millisecond), strings.TrimSpace(out.String()))
	return out.String()
}

// requireProgram fails the test, saying how to install it, when a client
// program is not on PATH.
func requireProgram(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not installed: %s", name, installHint)
	}
	return p
}

// requireFile fails the test, saying how to install it, when a file the
// client needs is missing.
func requireFile(t *testing.T, path, what string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("%s is not installed (%v): %s", what, err, installHint)
	}
}

// forEachCodec runs the round trip of one client once per codec, each on a
// topic of its own.
func forEachCodec(t *testing.T, client string, fn func(t *testing.T, codec, topic string)) {
	for _, codec := range codecs {
		t.Run(codec, func(t *testing.T) {
			fn(t, codec, fmt.Sprintf("%s-%s", client, codec))
		})
	}
}

func itoa(n int) string { return fmt.Sprint(n) }
