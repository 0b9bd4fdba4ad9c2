// Package produce is `samsa produce TOPIC`: one record per line of stdin,
// in the spirit of kcat -P and rpk topic produce.
package produce

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-io/samsa/internal/cli/kit"
)

// maxShownErrors bounds the per-record errors printed before the summary.
const maxShownErrors = 10

// deliveryTimeout bounds how long one record may wait for the brokers.
const deliveryTimeout = 30 * time.Second

type options struct {
	keySep      string
	headers     []string
	partition   int32
	compression string
	acks        string
	autoCreate  bool
}

// Command returns `samsa produce`.
func Command() *cobra.Command {
	var o options
	cmd := &cobra.Command{
		Use:   "produce TOPIC",
		Short: "Produce one record per line of stdin",
		Long: `Produce one record per line of stdin (the newline is not part of the
value; an empty line is an empty record). With -K SEP, each line is split at
the first SEP into key and value; a line without SEP has no key. -H adds a
header to every record.

Records go to the partition the key hashes to (Kafka's default partitioner),
or to --partition. A summary goes to stderr when stdin ends; the exit status
is non-zero if any record failed.`,
		Example: `  printf 'k1:hello\nk2:world\n' | samsa produce greetings -K:
  samsa produce greetings -H source=cli --compression zstd < lines.txt`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: kit.CompleteTopics,
		RunE: func(cmd *cobra.Command, args []string) error {
			return run(cmd, args[0], o)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.keySep, "key-separator", "K", "", "split each line at the first SEP into key and value (as kcat -K)")
	f.StringArrayVarP(&o.headers, "header", "H", nil, "a header key=value for every record (repeatable)")
	f.Int32VarP(&o.partition, "partition", "p", -1, "produce to this partition (-1: by key, Kafka's default partitioner)")
	f.StringVarP(&o.compression, "compression", "z", "none", "batch compression: none, gzip, snappy, lz4 or zstd")
	f.StringVar(&o.acks, "acks", "all", "acknowledgements: all (every in-sync replica), 1 (the leader) or 0 (none)")
	f.BoolVar(&o.autoCreate, "allow-auto-topic-creation", false, "let the broker create a missing topic (if it allows that)")
	cmd.RegisterFlagCompletionFunc("compression", cobra.FixedCompletions(
		[]string{"none", "gzip", "snappy", "lz4", "zstd"}, cobra.ShellCompDirectiveNoFileComp))
	cmd.RegisterFlagCompletionFunc("acks", cobra.FixedCompletions(
		[]string{"all", "1", "0"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func (o options) clientOpts() ([]kgo.Opt, error) {
	opts := []kgo.Opt{
		kgo.RecordDeliveryTimeout(deliveryTimeout),
		kgo.ProducerLinger(5 * time.Millisecond),
	}
	switch o.compression {
	case "none":
		opts = append(opts, kgo.ProducerBatchCompression(kgo.NoCompression()))
	case "gzip":
		opts = append(opts, kgo.ProducerBatchCompression(kgo.GzipCompression()))
	case "snappy":
		opts = append(opts, kgo.ProducerBatchCompression(kgo.SnappyCompression()))
	case "lz4":
		opts = append(opts, kgo.ProducerBatchCompression(kgo.Lz4Compression()))
	case "zstd":
		opts = append(opts, kgo.ProducerBatchCompression(kgo.ZstdCompression()))
	default:
		return nil, fmt.Errorf("--compression %q: want none, gzip, snappy, lz4 or zstd", o.compression)
	}
	switch o.acks {
	case "all", "-1":
		opts = append(opts, kgo.RequiredAcks(kgo.AllISRAcks()))
	case "1":
		opts = append(opts, kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite())
	case "0":
		opts = append(opts, kgo.RequiredAcks(kgo.NoAck()), kgo.DisableIdempotentWrite())
	default:
		return nil, fmt.Errorf("--acks %q: want all, 1 or 0", o.acks)
	}
	if o.partition >= 0 {
		opts = append(opts, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	}
	if o.autoCreate {
		opts = append(opts, kgo.AllowAutoTopicCreation())
	}
	return opts, nil
}

func run(cmd *cobra.Command, topic string, o options) error {
	opts, err := o.clientOpts()
	if err != nil {
		return err
	}
	kvs, err := kit.KeyValues(o.headers, "-H")
	if err != nil {
		return err
	}
	var headers []kgo.RecordHeader
	for _, kv := range kvs {
		headers = append(headers, kgo.RecordHeader{Key: kv[0], Value: []byte(kv[1])})
	}
	cl, err := kit.Client(cmd, opts...)
	if err != nil {
		return err
	}
	defer cl.Close()
	if err := checkTopic(cmd, cl, topic, o); err != nil {
		return err
	}
	p := &producer{cl: cl, stderr: cmd.ErrOrStderr()}
	readErr := p.lines(cmd, cmd.InOrStdin(), func(line []byte) *kgo.Record {
		r := &kgo.Record{Topic: topic, Value: line, Headers: headers, Partition: o.partition}
		if o.keySep != "" {
			if k, v, ok := bytes.Cut(line, []byte(o.keySep)); ok {
				r.Key, r.Value = k, v
			}
		}
		return r
	})
	flushErr := cl.Flush(cmd.Context())
	return p.summary(topic, errors.Join(readErr, flushErr))
}

// checkTopic fails early, with advice, for a topic that does not exist or
// a partition it does not have.
func checkTopic(cmd *cobra.Command, cl *kgo.Client, topic string, o options) error {
	ctx, cancel := kit.Timeout(cmd)
	defer cancel()
	md, err := metadata(ctx, cl, topic)
	if err != nil {
		return err
	}
	switch {
	case errors.Is(md.err, kerr.UnknownTopicOrPartition) && o.autoCreate:
		return nil
	case errors.Is(md.err, kerr.UnknownTopicOrPartition):
		return fmt.Errorf("%w\n  (or pass --allow-auto-topic-creation if the broker allows it)", kit.UnknownTopic(topic))
	case md.err != nil:
		return fmt.Errorf("topic %s: %w", topic, md.err)
	case o.partition >= md.partitions:
		return fmt.Errorf("--partition %d: topic %s has partitions 0 to %d (add more with `samsa topic add-partitions`)",
			o.partition, topic, md.partitions-1)
	}
	return nil
}

// producer counts what it sent and what failed.
type producer struct {
	cl     *kgo.Client
	stderr io.Writer

	mu     sync.Mutex
	sent   int
	failed int
	shown  int
}

// lines produces one record per line of r, made by mk.
func (p *producer) lines(cmd *cobra.Command, r io.Reader, mk func([]byte) *kgo.Record) error {
	br := bufio.NewReaderSize(r, 64<<10)
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 && line[len(line)-1] == '\n' {
			line = line[:len(line)-1]
		} else if err == io.EOF && len(line) == 0 {
			return nil
		}
		if err != nil && err != io.EOF {
			return fmt.Errorf("reading stdin: %w", err)
		}
		p.produce(cmd, n, mk(line))
		if err == io.EOF {
			return nil
		}
	}
}

func (p *producer) produce(cmd *cobra.Command, line int, r *kgo.Record) {
	p.mu.Lock()
	p.sent++
	p.mu.Unlock()
	p.cl.Produce(cmd.Context(), r, func(r *kgo.Record, err error) {
		if err == nil {
			return
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		p.failed++
		if p.shown < maxShownErrors {
			p.shown++
			fmt.Fprintf(p.stderr, "line %d: %v\n", line, kit.Explain(err, ""))
		}
	})
}

// summary prints the counts to stderr and returns an error if any record
// failed (or reading stdin did).
func (p *producer) summary(topic string, err error) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.failed > p.shown {
		fmt.Fprintf(p.stderr, "... and %d more failed records\n", p.failed-p.shown)
	}
	noun := "records"
	if p.sent-p.failed == 1 {
		noun = "record"
	}
	fmt.Fprintf(p.stderr, "produced %d %s to %s, %d failed\n", p.sent-p.failed, noun, topic, p.failed)
	if p.failed > 0 {
		return errors.Join(&kit.ErrFailed{Failed: p.failed, Total: p.sent, What: "records"}, err)
	}
	return err
}

// topicMetadata is what produce needs to know about its topic.
type topicMetadata struct {
	partitions int32
	err        error // kerr.UnknownTopicOrPartition for a missing topic
}

func metadata(ctx context.Context, cl *kgo.Client, topic string) (topicMetadata, error) {
	md, err := kadm.NewClient(cl).Metadata(ctx, topic)
	if err != nil {
		return topicMetadata{}, err
	}
	d, ok := md.Topics[topic]
	if !ok {
		return topicMetadata{err: kerr.UnknownTopicOrPartition}, nil
	}
	return topicMetadata{partitions: int32(len(d.Partitions)), err: d.Err}, nil
}
