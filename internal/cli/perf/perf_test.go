package perf

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-io/samsa/samsatest"
)

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// createTopic makes a topic with partitions partitions on the node.
func createTopic(t *testing.T, addr, topic string, partitions int32) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopic(ctxFor(t), partitions, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
}

// checkLatency asserts what must hold of any latency distribution of n
// samples measured within a run of secs seconds.
func checkLatency(t *testing.T, what string, l Latency, n int64, secs float64) {
	t.Helper()
	if l.Count != n {
		t.Errorf("%s: %d samples, want %d", what, l.Count, n)
	}
	if !(0 < l.P50 && l.P50 <= l.P99 && l.P99 <= l.P999 && l.P999 <= l.Max) {
		t.Errorf("%s: percentiles not ordered and positive: %+v", what, l)
	}
	if l.Mean <= 0 || l.Mean > l.Max {
		t.Errorf("%s: mean %v outside (0, max %v]", what, l.Mean, l.Max)
	}
	// No record can take longer than the run it was measured in.
	if l.Max.Seconds() > secs {
		t.Errorf("%s: max %v beyond the run's %.3f s", what, l.Max, secs)
	}
}

func checkRates(t *testing.T, what string, records, bytes int64, secs, rps, mbps float64) {
	t.Helper()
	if secs <= 0 {
		t.Fatalf("%s: %v seconds", what, secs)
	}
	if d := rps - float64(records)/secs; d > 1e-6 || d < -1e-6 {
		t.Errorf("%s: %v records/s, want %d records / %v s", what, rps, records, secs)
	}
	if d := mbps - float64(bytes)/secs/1e6; d > 1e-9 || d < -1e-9 {
		t.Errorf("%s: %v MB/s, want %d bytes / %v s", what, mbps, bytes, secs)
	}
}

// Produce as fast as possible, then consume it all back: every record
// acknowledged and read, byte counts exact, percentiles ordered.
func TestProduceThenConsumeCountsEveryRecord(t *testing.T) {
	node := samsatest.Start(t)
	createTopic(t, node.Addr(), "perf", 3)
	ctx := ctxFor(t)
	settings := DefaultProducerSettings()
	settings.Acks = 1
	pr, err := Produce(ctx, ProduceOptions{Brokers: []string{node.Addr()}, Topic: "perf",
		NumRecords: 3000, RecordSize: 100, Throughput: -1, Keys: 10, Producer: settings})
	if err != nil {
		t.Fatal(err)
	}
	keyBytes := int64(0)
	for i := range 3000 {
		keyBytes += int64(len(keysOf(10)[i%10]))
	}
	if pr.Records != 3000 || pr.Errors != 0 || pr.Bytes != 3000*100+keyBytes {
		t.Fatalf("produced %+v, want 3000 records of %d bytes and no errors", pr, 3000*100+keyBytes)
	}
	checkRates(t, "produce", pr.Records, pr.Bytes, pr.Seconds, pr.RecordsPerSec, pr.MBPerSec)
	checkLatency(t, "produce", pr.Latency, 3000, pr.Seconds)
	if pr.SendLag.Count != 3000 || pr.SendLag.Max.Seconds() > pr.Seconds {
		t.Errorf("send lag %+v: want 3000 samples within the run's %.3f s", pr.SendLag, pr.Seconds)
	}

	cr, err := Consume(ctx, ConsumeOptions{Brokers: []string{node.Addr()}, Topic: "perf", NumRecords: 3000})
	if err != nil {
		t.Fatal(err)
	}
	if cr.Records != 3000 || cr.Bytes != pr.Bytes {
		t.Fatalf("consumed %+v, want 3000 records and %d bytes", cr, pr.Bytes)
	}
	checkRates(t, "consume", cr.Records, cr.Bytes, cr.Seconds, cr.RecordsPerSec, cr.MBPerSec)

	// Asking for more than there is reads what there is and says so.
	cr, err = Consume(ctx, ConsumeOptions{Brokers: []string{node.Addr()}, Topic: "perf", Duration: 300 * time.Millisecond})
	if err != nil || cr.Records != 3000 {
		t.Fatalf("consume by duration: %+v, %v; want all 3000 records", cr, err)
	}
}

// A fixed rate is open loop: the sends follow the schedule, so the run
// lasts at least as long as the schedule says.
func TestProduceAtAFixedRateFollowsTheSchedule(t *testing.T) {
	node := samsatest.Start(t)
	const n, rps = 1000, 2000.0
	pr, err := Produce(ctxFor(t), ProduceOptions{Brokers: []string{node.Addr()}, Topic: "paced",
		NumRecords: n, RecordSize: 64, Throughput: rps, Producer: DefaultProducerSettings()})
	if err != nil {
		t.Fatal(err)
	}
	if pr.Records != n || pr.Errors != 0 {
		t.Fatalf("%+v, want %d records and no errors", pr, n)
	}
	if min := (n - 1) / rps; pr.Seconds < min {
		t.Errorf("run took %.3f s, but the last send was scheduled at %.3f s", pr.Seconds, min)
	}
	checkLatency(t, "paced produce", pr.Latency, n, pr.Seconds)
}

// Produce by duration stops scheduling at the duration.
func TestProduceByDuration(t *testing.T) {
	node := samsatest.Start(t)
	pr, err := Produce(ctxFor(t), ProduceOptions{Brokers: []string{node.Addr()}, Topic: "timed",
		Duration: 500 * time.Millisecond, RecordSize: 10, Throughput: 1000, Producer: DefaultProducerSettings()})
	if err != nil {
		t.Fatal(err)
	}
	// sends are due at 0, 1, ..., 499 ms
	if pr.Records != 500 || pr.Errors != 0 {
		t.Fatalf("%+v: want the 500 records scheduled within 500 ms", pr)
	}
}

// End to end: every produced record arrives, and each record's journey
// to the consumer is no shorter than the wait for its acknowledgement
// could be bounded by.
func TestE2ECountsEveryRecordAndOrdersPercentiles(t *testing.T) {
	node := samsatest.Start(t)
	createTopic(t, node.Addr(), "e2e", 3)
	// Earlier records in the topic are not this run's.
	if _, err := Produce(ctxFor(t), ProduceOptions{Brokers: []string{node.Addr()}, Topic: "e2e",
		NumRecords: 100, RecordSize: 32, Producer: DefaultProducerSettings()}); err != nil {
		t.Fatal(err)
	}
	settings := DefaultProducerSettings()
	settings.Acks = 1
	res, err := E2E(ctxFor(t), E2EOptions{Brokers: []string{node.Addr()}, Topic: "e2e",
		NumRecords: 2000, RecordSize: 256, Throughput: 2000, Producer: settings})
	if err != nil {
		t.Fatal(err)
	}
	if res.Produced != 2000 || res.Consumed != 2000 || res.Errors != 0 {
		t.Fatalf("%+v: want 2000 produced and consumed", res)
	}
	checkLatency(t, "e2e", res.Latency, 2000, res.Seconds+idleTimeout.Seconds())
	checkLatency(t, "e2e produce", res.ProduceLatency, 2000, res.Seconds)
	checkRates(t, "e2e", res.Produced, res.Produced*256, res.Seconds, res.RecordsPerSec, res.MBPerSec)
	// The last record arrives after the last scheduled send.
	if res.ConsumedPerSec <= 0 || res.ConsumedPerSec > 2000/((2000-1)/2000.0) {
		t.Errorf("%v records/s made it through, want at most the schedule's 2000", res.ConsumedPerSec)
	}

	// As fast as possible: every record still arrives.
	res, err = E2E(ctxFor(t), E2EOptions{Brokers: []string{node.Addr()}, Topic: "e2e",
		NumRecords: 3000, RecordSize: 100, Throughput: -1, Producer: settings})
	if err != nil || res.Produced != 3000 || res.Consumed != 3000 || res.ConsumedPerSec <= 0 {
		t.Fatalf("as fast as possible: %+v, %v", res, err)
	}
	checkLatency(t, "e2e unpaced", res.Latency, 3000, res.Seconds+idleTimeout.Seconds())
}

// E2E creates a missing topic.
func TestE2ECreatesItsTopic(t *testing.T) {
	node := samsatest.Start(t)
	res, err := E2E(ctxFor(t), E2EOptions{Brokers: []string{node.Addr()}, Topic: "fresh",
		NumRecords: 50, RecordSize: 16, Throughput: 1000, Producer: DefaultProducerSettings()})
	if err != nil || res.Consumed != 50 {
		t.Fatalf("%+v, %v: want 50 records through a new topic", res, err)
	}
}

func run(t *testing.T, env string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	t.Setenv(envBrokers, env)
	cmd := Command()
	var out, errb bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SetArgs(args)
	err = cmd.ExecuteContext(ctxFor(t))
	return out.String(), errb.String(), err
}

// The commands end to end, with the brokers from SAMSA_BROKERS: JSON
// summaries that parse, and a progress line each second on stderr.
func TestCommandsPrintSummariesAndProgress(t *testing.T) {
	node := samsatest.Start(t)
	out, errOut, err := run(t, node.Addr(), "produce", "--topic", "cli", "-n", "2400", "-s", "200",
		"--throughput", "2000", "--acks", "1", "--compression", "zstd", "--linger", "1ms", "--batch-max-bytes", "65536",
		"--keys", "5", "--format", "json")
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	var pr ProduceResult
	if err := json.Unmarshal([]byte(out), &pr); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if pr.Records != 2400 || pr.Latency.Count != 2400 || pr.Latency.P50 <= 0 {
		t.Fatalf("json summary %+v", pr)
	}
	// 2400 records at 2000/s take at least 1.2 s: one progress line at 1 s.
	if !strings.Contains(errOut, "records acked") || !strings.Contains(errOut, "MB/s") {
		t.Errorf("no progress line on stderr: %q", errOut)
	}

	out, _, err = run(t, node.Addr(), "consume", "--topic", "cli", "-n", "2400")
	if err != nil || !strings.HasPrefix(out, "2400 records") || !strings.Contains(out, "MB/s") {
		t.Fatalf("consume: %v\n%s", err, out)
	}

	out, _, err = run(t, node.Addr(), "e2e", "--topic", "cli-e2e", "-n", "300", "--throughput", "1000", "-s", "64")
	if err != nil || !strings.Contains(out, "300 records produced (0 failed), 300 consumed") || !strings.Contains(out, "p99.9") {
		t.Fatalf("e2e: %v\n%s", err, out)
	}
}

func TestCommandsRejectBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"produce", "--topic", "x", "-n", "1", "--acks", "2"}, "--acks 2"},
		{[]string{"produce", "--topic", "x", "-n", "1", "--compression", "brotli"}, "--compression"},
		{[]string{"produce", "--topic", "x"}, "--num-records or --duration"},
		{[]string{"produce", "-n", "1"}, "--topic"},
		{[]string{"produce", "--topic", "x", "-n", "1", "--format", "yaml"}, "--format"},
		{[]string{"consume", "--topic", "x"}, "--num-records or --duration"},
		{[]string{"e2e", "--topic", "x", "-n", "1"}, "give --throughput"},
		{[]string{"e2e", "--topic", "x", "-n", "1", "--throughput", "10", "-s", "8"}, "stamp"},
	} {
		_, _, err := run(t, "127.0.0.1:1", tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one naming %q", tc.args, err, tc.want)
		}
	}
}

func TestUnreachableBrokerSaysWhatToDo(t *testing.T) {
	_, _, err := run(t, "127.0.0.1:1", "produce", "--topic", "x", "-n", "1")
	if err == nil || !strings.Contains(err.Error(), "cannot reach 127.0.0.1:1") || !strings.Contains(err.Error(), "--brokers") {
		t.Fatalf("error %v: want advice naming the broker and --brokers", err)
	}
}

// samsa's root command has its own persistent --brokers: perf's works
// under it, before or after the subcommand's name.
func TestBrokersFlagUnderARootThatHasOne(t *testing.T) {
	node := samsatest.Start(t)
	t.Setenv(envBrokers, "127.0.0.1:1")
	for _, args := range [][]string{
		{"perf", "produce", "--brokers", node.Addr(), "--topic", "r", "-n", "5"},
		{"--brokers", node.Addr(), "perf", "produce", "--topic", "r", "-n", "5"},
	} {
		root := &cobra.Command{Use: "samsa", SilenceUsage: true, SilenceErrors: true}
		root.PersistentFlags().String("brokers", "localhost:9092", "root's own")
		root.AddCommand(Command())
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetErr(io.Discard)
		root.SetArgs(args)
		if err := root.ExecuteContext(ctxFor(t)); err != nil || !strings.HasPrefix(out.String(), "5 records acked") {
			t.Errorf("%v: %v\n%s", args, err, out.String())
		}
	}
}

func TestBrokersFlagBeatsEnvironment(t *testing.T) {
	t.Setenv(envBrokers, "a:1, b:2")
	cmd := Command()
	if got := brokersOf(cmd); strings.Join(got, ",") != "a:1,b:2" {
		t.Errorf("from env: %v", got)
	}
	if err := cmd.PersistentFlags().Set("brokers", "c:3"); err != nil {
		t.Fatal(err)
	}
	if got := brokersOf(cmd); strings.Join(got, ",") != "c:3" {
		t.Errorf("from flag: %v", got)
	}
}
