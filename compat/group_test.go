package compat

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// moreRecords are produced between a group's two runs: the second run must
// read exactly these.
const moreRecords = 10

// groupRecord is one record as a member of a consumer group processed it.
type groupRecord struct {
	partition int32
	offset    int64
	key       string
	value     string
}

func (r groupRecord) String() string {
	return fmt.Sprintf("partition %d offset %d (key %q, value %q)", r.partition, r.offset, r.key, r.value)
}

// groupConsumer consumes topic as a member of group until it has processed
// n records, committing what it processed, and returns the records in the
// order it processed them.
type groupConsumer func(t *testing.T, addr, topic, group string, n int) []groupRecord

// testGroup is what every client does once, after its round trips: consume
// the topic its round trip with codec none filled as a member of a group
// named for the test, commit, and check that the group read exactly the
// records produced and committed every partition to its end; then, after
// franz-go produces a few more, run the group again: it must resume from
// its commits and read exactly the new records.
func testGroup(t *testing.T, addr, client string, consume groupConsumer) {
	t.Run("group", func(t *testing.T) {
		topic := client + "-none"
		group := strings.ReplaceAll(t.Name(), "/", "-")
		var want []groupRecord
		for _, r := range records(numRecords, "none") {
			want = append(want, groupRecord{r.partition, r.offset, r.key, r.value})
		}
		want = sortedRecords(want)
		requireFilled(t, addr, topic)
		start := time.Now()
		checkGroupRun(t, "first run", want, consume(t, addr, topic, group, len(want)))
		checkCommittedAtEnd(t, addr, group, topic)
		first := time.Since(start)

		more := produceMore(t, addr, topic, numRecords/partitions)
		start = time.Now()
		checkGroupRun(t, "second run, from the committed offsets", more, consume(t, addr, topic, group, len(more)))
		checkCommittedAtEnd(t, addr, group, topic)
		t.Logf("group %s: %d records, then %d more; runs took %v and %v", group, len(want), len(more),
			first.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	})
}

// requireFilled fails the test unless the round trip with codec none has
// filled topic, which a test run with -run '.../group' alone skips.
func requireFilled(t *testing.T, addr, topic string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(testContext(t), topic)
	if err == nil {
		err = ends.Error()
	}
	n := int64(0)
	ends.Each(func(o kadm.ListedOffset) { n += o.Offset })
	if err != nil || n != numRecords {
		t.Fatalf("the group test reads %s, which the round trip with codec none fills with %d records; "+
			"it holds %d (%v): did that round trip fail, or was it left out with -run? (-run 'Test.*/(none|group)')",
			topic, numRecords, n, err)
	}
}

// checkGroupRun fails unless a group run processed every record of want
// exactly once, each partition in offset order.
func checkGroupRun(t *testing.T, run string, want, got []groupRecord) {
	t.Helper()
	next := map[int32]int64{}
	for _, g := range got {
		if o, ok := next[g.partition]; ok && g.offset != o {
			t.Errorf("%s: read %v after offset %d of the partition", run, g, o-1)
		}
		next[g.partition] = g.offset + 1
	}
	sorted := sortedRecords(got)
	for i := 0; i < max(len(want), len(sorted)); i++ {
		switch {
		case i >= len(sorted):
			t.Fatalf("%s: read %d records, want %d; missing %v and %d more", run, len(got), len(want), want[i], len(want)-i-1)
		case i >= len(want):
			t.Fatalf("%s: read %d records, want %d; also read %v", run, len(got), len(want), sorted[i])
		case sorted[i] != want[i]:
			t.Fatalf("%s: read %v where %v was produced (%d records read, want %d)", run, sorted[i], want[i], len(got), len(want))
		}
	}
}

// produceMore produces moreRecords records with franz-go after n records
// per partition, record i to partition i % 2, and returns them as a group
// member must read them.
func produceMore(t *testing.T, addr, topic string, n int64) []groupRecord {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerBatchCompression(kgo.NoCompression())) // as the round trip of codec none did
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []groupRecord
	var krs []*kgo.Record
	for i := range moreRecords {
		r := groupRecord{int32(i % partitions), n + int64(i/partitions), fmt.Sprintf("more-%04d", i), fmt.Sprintf("more-value-%04d", i)}
		out = append(out, r)
		krs = append(krs, &kgo.Record{Topic: topic, Partition: r.partition, Key: []byte(r.key), Value: []byte(r.value)})
	}
	if err := cl.ProduceSync(testContext(t), krs...).FirstErr(); err != nil {
		t.Fatalf("produce %d more records to %s: %v", moreRecords, topic, err)
	}
	for i, kr := range krs {
		if kr.Offset != out[i].offset {
			t.Fatalf("record %d more produced at partition %d offset %d, want offset %d", i, kr.Partition, kr.Offset, out[i].offset)
		}
	}
	return sortedRecords(out)
}

// sortedRecords returns recs sorted by partition, then offset.
func sortedRecords(recs []groupRecord) []groupRecord {
	return slices.SortedFunc(slices.Values(recs), func(a, b groupRecord) int {
		if a.partition != b.partition {
			return int(a.partition - b.partition)
		}
		return int(a.offset - b.offset)
	})
}

// committedOffsets returns group's committed offsets in topic's partitions
// and the partitions' end offsets, read with franz-go's kadm.
func committedOffsets(ctx context.Context, adm *kadm.Client, group, topic string) (committed, ends map[int32]int64, err error) {
	fetched, err := adm.FetchOffsets(ctx, group)
	if err == nil {
		err = fetched.Error()
	}
	if err != nil {
		return nil, nil, fmt.Errorf("FetchOffsets %s: %w", group, err)
	}
	listed, err := adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = listed.Error()
	}
	if err != nil {
		return nil, nil, fmt.Errorf("ListEndOffsets %s: %w", topic, err)
	}
	committed, ends = map[int32]int64{}, map[int32]int64{}
	listed.Each(func(o kadm.ListedOffset) { ends[o.Partition] = o.Offset })
	fetched.Each(func(o kadm.OffsetResponse) {
		if o.Topic == topic {
			committed[o.Partition] = o.At
		}
	})
	return committed, ends, nil
}

// atEnd says which partitions group has not committed up to their end.
func atEnd(committed, ends map[int32]int64) string {
	var behind []string
	for p := range int32(len(ends)) {
		if c, ok := committed[p]; !ok || c != ends[p] {
			if !ok {
				c = -1
			}
			behind = append(behind, fmt.Sprintf("partition %d committed %d, end %d", p, c, ends[p]))
		}
	}
	return strings.Join(behind, "; ")
}

// checkCommittedAtEnd fails unless group has committed every partition of
// topic up to its end offset.
func checkCommittedAtEnd(t *testing.T, addr, group, topic string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	committed, ends, err := committedOffsets(testContext(t), kadm.NewClient(cl), group, topic)
	if err != nil {
		t.Fatal(err)
	}
	if behind := atEnd(committed, ends); behind != "" {
		t.Fatalf("group %s did not commit %s to its end: %s", group, topic, behind)
	}
}

// parseGroupLine parses one line a group client program prints: a record
// it processed, "R<TAB>partition<TAB>offset<TAB>key<TAB>value", or an
// assignment it was given, "A<TAB>partition,partition,...". ok is false for
// any other line.
func parseGroupLine(line string) (r groupRecord, assigned []int32, isRecord, ok bool) {
	f := strings.Split(line, "\t")
	switch {
	case len(f) == 5 && f[0] == "R":
		p, err1 := strconv.ParseInt(f[1], 10, 32)
		o, err2 := strconv.ParseInt(f[2], 10, 64)
		if err1 != nil || err2 != nil {
			return r, nil, false, false
		}
		return groupRecord{int32(p), o, f[3], f[4]}, nil, true, true
	case len(f) == 2 && f[0] == "A":
		for _, s := range strings.Split(f[1], ",") {
			if s == "" {
				continue
			}
			p, err := strconv.ParseInt(s, 10, 32)
			if err != nil {
				return r, nil, false, false
			}
			assigned = append(assigned, int32(p))
		}
		return r, assigned, false, true
	}
	return r, nil, false, false
}

// runGroupClient runs a group client program (python/*_group.py,
// node/group.js, kcat -G) to its end and returns the records it printed;
// it fails the test with the program's stderr if the program fails or
// prints a line that is neither a record nor an assignment.
func runGroupClient(t *testing.T, name string, args ...string) []groupRecord {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("timed out after %v", timeout)
	}
	if err != nil {
		t.Fatalf("%s %s: %v\nstderr:\n%s\nstdout (last 2000 bytes):\n%s", name, strings.Join(args, " "), err,
			stderr.String(), tail(stdout.Bytes(), 2000))
	}
	var recs []groupRecord
	for _, line := range strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n") {
		r, _, isRecord, ok := parseGroupLine(line)
		if !ok && line != "" {
			t.Fatalf("%s printed %q, neither a record nor an assignment\nstderr:\n%s", name, line, stderr.String())
		}
		if isRecord {
			recs = append(recs, r)
		}
	}
	t.Logf("%s (%v): %d records; %s", name, time.Since(start).Round(time.Millisecond), len(recs), strings.TrimSpace(stderr.String()))
	return recs
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
