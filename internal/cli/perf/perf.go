// Package perf is `samsa perf`: load generators that measure a Kafka
// broker from the outside, in the spirit of Kafka's
// kafka-producer-perf-test, kafka-consumer-perf-test and end-to-end latency
// tools.
//
//   - produce: records at a fixed rate (open loop) or as fast as the broker
//     takes them; records/s, MB/s and acknowledgement latency percentiles.
//   - consume: reads a topic from the start by assignment; records/s, MB/s.
//   - e2e: produces at a fixed rate while consuming; the latency from each
//     record's scheduled send time to its arrival at the consumer.
//
// Latency is measured from the time a record was scheduled to be sent, not
// from when the generator got around to sending it, so a stalled broker
// shows up in the percentiles instead of slowing the generator down
// (no coordinated omission). MB means 10^6 bytes of record keys and values.
//
// The commands are Kafka clients (franz-go kgo and kadm) and work against
// any Kafka-compatible broker; the harness behind `make bench` calls
// Produce, Consume and E2E directly.
package perf

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// envBrokers names the brokers when --brokers is not given.
const envBrokers = "SAMSA_BROKERS"

const defaultBrokers = "localhost:9092"

// idleTimeout is how long a consumer waits for the next record before it
// gives up on the records it was told to expect.
const idleTimeout = 10 * time.Second

// Command returns `samsa perf` with its subcommands.
func Command() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "perf",
		Short: "Measure a broker: produce, consume and end-to-end throughput and latency",
		Long: `Load generators that measure a Kafka-compatible broker from the outside.

  samsa perf produce   records/s, MB/s and acknowledgement latency (open loop at --throughput)
  samsa perf consume   records/s and MB/s reading a topic from the start
  samsa perf e2e       produce-to-consume latency at a fixed rate

Latency is measured from each record's scheduled send time, so a stalled
broker shows in the percentiles (no coordinated omission). MB is 10^6 bytes
of keys and values. A progress line goes to stderr every second; the summary
goes to stdout (--format json for scripts).`,
	}
	cmd.PersistentFlags().String("brokers", defaultBrokers,
		"Kafka bootstrap brokers, comma separated host:port (env "+envBrokers+")")
	cmd.PersistentFlags().String("format", "text", "summary format: text or json")
	cmd.AddCommand(produceCommand(), consumeCommand(), e2eCommand())
	return cmd
}

// brokersOf returns --brokers if given, else SAMSA_BROKERS, else
// localhost:9092.
func brokersOf(cmd *cobra.Command) []string {
	raw := defaultBrokers
	f := cmd.Flag("brokers")
	switch {
	case f != nil && f.Changed:
		raw = f.Value.String()
	case os.Getenv(envBrokers) != "":
		raw = os.Getenv(envBrokers)
	}
	var out []string
	for _, b := range strings.Split(raw, ",") {
		if b = strings.TrimSpace(b); b != "" {
			out = append(out, b)
		}
	}
	return out
}

// formatOf returns --format, checked.
func formatOf(cmd *cobra.Command) (string, error) {
	f := "text"
	if fl := cmd.Flag("format"); fl != nil {
		f = fl.Value.String()
	}
	if f != "text" && f != "json" {
		return "", fmt.Errorf("--format %q: want text or json", f)
	}
	return f, nil
}

// writeJSON writes v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// ProducerSettings are the producer's knobs shared by produce and e2e.
type ProducerSettings struct {
	// Acks: -1 (all in-sync replicas), 0 or 1.
	Acks int
	// Compression: none, gzip, snappy, lz4 or zstd.
	Compression string
	// BatchMaxBytes caps a record batch (0: franz-go's default, 1000012).
	BatchMaxBytes int
	// Linger is how long a partition waits for more records before its
	// batch is sent.
	Linger time.Duration
	// MaxInflight is the produce requests in flight per broker (Kafka's
	// max.in.flight.requests.per.connection).
	MaxInflight int
}

// DefaultProducerSettings are the defaults of the command-line flags:
// acks=-1, no compression, linger 0, 5 requests in flight (Kafka's
// defaults before 4.0, which made linger 5 ms).
func DefaultProducerSettings() ProducerSettings {
	return ProducerSettings{Acks: -1, Compression: "none", MaxInflight: 5}
}

func (s *ProducerSettings) addFlags(cmd *cobra.Command) {
	d := DefaultProducerSettings()
	f := cmd.Flags()
	f.IntVar(&s.Acks, "acks", d.Acks, "acknowledgements: -1 (all in-sync replicas), 0 or 1")
	f.StringVar(&s.Compression, "compression", d.Compression, "batch compression: none, gzip, snappy, lz4 or zstd")
	f.IntVar(&s.BatchMaxBytes, "batch-max-bytes", 0, "largest record batch in bytes (0: 1000012)")
	f.DurationVar(&s.Linger, "linger", d.Linger, "how long a partition waits to fill its batch")
	f.IntVar(&s.MaxInflight, "max-inflight", d.MaxInflight, "produce requests in flight per broker")
}

// opts returns the client options for s; idempotence is off (acks=-1
// with idempotence needs producer ids, which not every broker has).
func (s ProducerSettings) opts() ([]kgo.Opt, error) {
	var acks kgo.Acks
	switch s.Acks {
	case -1:
		acks = kgo.AllISRAcks()
	case 0:
		acks = kgo.NoAck()
	case 1:
		acks = kgo.LeaderAck()
	default:
		return nil, fmt.Errorf("--acks %d: want -1, 0 or 1", s.Acks)
	}
	codec, err := codecOf(s.Compression)
	if err != nil {
		return nil, err
	}
	if s.MaxInflight < 1 {
		return nil, fmt.Errorf("--max-inflight %d: want at least 1", s.MaxInflight)
	}
	if s.Linger < 0 {
		return nil, fmt.Errorf("--linger %v: want 0 or more", s.Linger)
	}
	o := []kgo.Opt{
		kgo.RequiredAcks(acks), kgo.DisableIdempotentWrite(),
		kgo.ProducerBatchCompression(codec), kgo.ProducerLinger(s.Linger),
		kgo.MaxProduceRequestsInflightPerBroker(s.MaxInflight),
	}
	if s.BatchMaxBytes < 0 {
		return nil, fmt.Errorf("--batch-max-bytes %d: want 0 or more", s.BatchMaxBytes)
	}
	if s.BatchMaxBytes > 0 {
		o = append(o, kgo.ProducerBatchMaxBytes(int32(s.BatchMaxBytes)))
	}
	return o, nil
}

func codecOf(name string) (kgo.CompressionCodec, error) {
	switch strings.ToLower(name) {
	case "none", "":
		return kgo.NoCompression(), nil
	case "gzip":
		return kgo.GzipCompression(), nil
	case "snappy":
		return kgo.SnappyCompression(), nil
	case "lz4":
		return kgo.Lz4Compression(), nil
	case "zstd":
		return kgo.ZstdCompression(), nil
	}
	return kgo.CompressionCodec{}, fmt.Errorf("--compression %q: want none, gzip, snappy, lz4 or zstd", name)
}

// newClient connects to brokers and checks that one answers, so a wrong
// address fails at once with advice instead of after the client's retries.
func newClient(ctx context.Context, brokers []string, opts ...kgo.Opt) (*kgo.Client, error) {
	if len(brokers) == 0 {
		return nil, errors.New("no brokers: give --brokers host:port or set " + envBrokers)
	}
	base := []kgo.Opt{kgo.SeedBrokers(brokers...), kgo.ClientID("samsa-perf"), kgo.DialTimeout(5 * time.Second)}
	cl, err := kgo.NewClient(append(base, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("bad brokers %q: %w", strings.Join(brokers, ","), err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := cl.Ping(pctx); err != nil {
		cl.Close()
		return nil, fmt.Errorf("cannot reach %s: %v\n  start one with `samsa server`, or point at yours with --brokers host:port or %s=host:port",
			strings.Join(brokers, ","), err, envBrokers)
	}
	return cl, nil
}

// endOffsets returns the end offset of each partition of topic, creating
// the topic with the broker's default partitions if it does not exist.
func endOffsets(ctx context.Context, cl *kgo.Client, topic string) (map[int32]int64, error) {
	adm := kadm.NewClient(cl)
	list := func() (kadm.ListedOffsets, error) {
		l, err := adm.ListEndOffsets(ctx, topic)
		if err != nil {
			return nil, err
		}
		return l, l.Error()
	}
	listed, err := list()
	if errors.Is(err, kerr.UnknownTopicOrPartition) {
		if _, err = adm.CreateTopic(ctx, -1, -1, nil, topic); err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
			return nil, fmt.Errorf("creating topic %s: %w", topic, err)
		}
		listed, err = list()
		for i := 0; err != nil && errors.Is(err, kerr.UnknownTopicOrPartition) && i < 50; i++ {
			time.Sleep(100 * time.Millisecond) // the new topic's leader is on its way
			listed, err = list()
		}
	}
	if err != nil {
		return nil, fmt.Errorf("listing the end offsets of %s: %w", topic, err)
	}
	out := map[int32]int64{}
	listed.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
	if len(out) == 0 {
		return nil, fmt.Errorf("topic %s has no partitions", topic)
	}
	return out, nil
}

// filler returns n pseudorandom (incompressible) bytes.
func filler(n int) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// keysOf returns n distinct keys, or none when n is 0.
func keysOf(n int) [][]byte {
	keys := make([][]byte, n)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "key-%d", i)
	}
	return keys
}

// rate is records per second and MB per second over secs seconds.
func rate(records, bytes int64, secs float64) (float64, float64) {
	if secs <= 0 {
		return 0, 0
	}
	return float64(records) / secs, float64(bytes) / secs / 1e6
}

// progress prints a line to w every second until stop is closed; line
// returns the line for the elapsed time.
// startProgress writes line to w every second until the returned stop is
// called; stop returns once the writer goroutine is done, so w may be read
// right after.
func startProgress(w io.Writer, start time.Time, line func(elapsed time.Duration) string) (stop func()) {
	if w == nil {
		return func() {}
	}
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case now := <-t.C:
				fmt.Fprintln(w, line(now.Sub(start)))
			}
		}
	}()
	return func() {
		close(quit)
		<-done
	}
}

func fmtMS(d time.Duration) string { return fmt.Sprintf("%.2f ms", ms(d)) }

// latencyLine is "p50 1.20 ms, p99 ..." for a summary.
func latencyLine(l Latency) string {
	return fmt.Sprintf("p50 %s, p99 %s, p99.9 %s, max %s (mean %s)",
		fmtMS(l.P50), fmtMS(l.P99), fmtMS(l.P999), fmtMS(l.Max), fmtMS(l.Mean))
}
