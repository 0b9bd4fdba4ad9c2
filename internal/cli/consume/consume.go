// Package consume is `samsa consume TOPIC...`: records to stdout through a
// kcat-style template or as JSON, by partition assignment, in the spirit of
// rpk topic consume and kcat -C.
package consume

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-io/samsa/internal/cli/kit"
)

type options struct {
	offset     string
	fromTime   string
	partitions []int32
	count      int
	exitAtEnd  bool
	format     string
}

// Command returns `samsa consume`.
func Command() *cobra.Command {
	var o options
	cmd := &cobra.Command{
		Use:   "consume TOPIC...",
		Short: "Print records of topics, from the start by default",
		Long: `Print the records of topics, from the start of every partition by default
(as rpk does), until -n records or, with -e, the end of every partition as
it was when the command started; otherwise until Ctrl-C.

--offset says where to start in each partition: ` + offsetHelp + `.

The consumer assigns itself every partition (or those of --partitions); it
joins no group and commits nothing.

-f/--format is "json" (one object per record: topic, partition, offset,
timestamp, key, value, headers) or a template in the spirit of kcat's -f:
` + templateHelp + `.
The default prints each value on its own line.`,
		Example: `  samsa consume greetings -n 2
  samsa consume greetings -f '%k = %v (partition %p, offset %o)\n'
  samsa consume greetings --offset @1700000000000 --format json
  samsa consume greetings --partitions 0,2 --offset -10 -e`,
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: kit.CompleteTopics,
		RunE: func(cmd *cobra.Command, topics []string) error {
			return run(cmd, topics, o)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.offset, "offset", "o", "start", "where to start in each partition: start, end, N, +N, -N or @UNIX_MS")
	f.StringVar(&o.fromTime, "from-time", "", "start at the first record at or after this RFC 3339 time (instead of --offset)")
	f.Int32SliceVarP(&o.partitions, "partitions", "p", nil, "consume only these partitions, comma separated")
	f.IntVarP(&o.count, "num", "n", 0, "stop after this many records (0: no limit)")
	f.BoolVarP(&o.exitAtEnd, "exit-at-end", "e", false, "stop at the end of every partition as of the start")
	f.StringVarP(&o.format, "format", "f", "text", `"json", "text" (`+DefaultTemplate+`) or a template`)
	cmd.MarkFlagsMutuallyExclusive("offset", "from-time")
	cmd.RegisterFlagCompletionFunc("offset", cobra.FixedCompletions(
		[]string{"start", "end"}, cobra.ShellCompDirectiveNoFileComp))
	cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions(
		[]string{"json", "text"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func run(cmd *cobra.Command, topics []string, o options) error {
	printRec, err := newPrinter(o.format)
	if err != nil {
		return err
	}
	spec, err := parseOffset(o.offset)
	if o.fromTime != "" {
		var t int64
		if t, err = parseTime(o.fromTime); err != nil {
			return fmt.Errorf("--from-time %q: %w", o.fromTime, err)
		}
		spec = startSpec{kind: specTime, n: t, source: "--from-time " + o.fromTime}
	}
	if err != nil {
		return err
	}
	if o.count < 0 {
		return errors.New("-n: give a number of records, or 0 for no limit")
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cl, err := kit.Client(cmd, kgo.KeepControlRecords())
	if err != nil {
		return err
	}
	defer cl.Close()
	plan, err := planPartitions(cmd, kadm.NewClient(cl), topics, o.partitions, spec)
	if err != nil {
		return err
	}
	c := &consumer{
		cl: cl, printRec: printRec, out: bufio.NewWriterSize(cmd.OutOrStdout(), 64<<10),
		limit: o.count, plan: plan, exitAtEnd: o.exitAtEnd, stderr: cmd.ErrOrStderr(),
	}
	return c.run(ctx)
}

// partitionPlan is where consuming one partition starts, and where its end
// was when the command started.
type partitionPlan struct {
	next, end int64
}

type plans map[string]map[int32]*partitionPlan

// planPartitions lists the partitions to consume and resolves where each
// starts, so that -e knows when every partition is done.
func planPartitions(cmd *cobra.Command, adm *kadm.Client, topics []string, only []int32, spec startSpec) (plans, error) {
	ctx, cancel := kit.Timeout(cmd)
	defer cancel()
	md, err := adm.Metadata(ctx, topics...)
	if err != nil {
		return nil, err
	}
	for _, t := range topics {
		d, ok := md.Topics[t]
		if !ok || errors.Is(d.Err, kerr.UnknownTopicOrPartition) {
			return nil, kit.UnknownTopic(t)
		}
		if d.Err != nil {
			return nil, fmt.Errorf("topic %s: %w", t, d.Err)
		}
		for _, p := range only {
			if _, ok := d.Partitions[p]; !ok {
				return nil, fmt.Errorf("--partitions: topic %s has no partition %d (it has %d; see `samsa topic describe %s`)",
					t, p, len(d.Partitions), t)
			}
		}
	}
	starts, err := adm.ListStartOffsets(ctx, topics...)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("listing start offsets: %w", err)
	}
	ends, err := adm.ListEndOffsets(ctx, topics...)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("listing end offsets: %w", err)
	}
	var times kadm.ListedOffsets
	if spec.kind == specTime {
		if times, err = adm.ListOffsetsAfterMilli(ctx, spec.n, topics...); err == nil {
			err = times.Error()
		}
		if err != nil {
			return nil, fmt.Errorf("listing offsets for %s: %w", spec.source, err)
		}
	}
	out := plans{}
	for _, t := range topics {
		out[t] = map[int32]*partitionPlan{}
		for p := range md.Topics[t].Partitions {
			if len(only) > 0 && !slices.Contains(only, p) {
				continue
			}
			s, _ := starts.Lookup(t, p)
			e, _ := ends.Lookup(t, p)
			at := e.Offset
			if o, ok := times.Lookup(t, p); ok && o.Offset >= 0 {
				at = o.Offset
			}
			out[t][p] = &partitionPlan{next: spec.resolve(s.Offset, e.Offset, at), end: e.Offset}
		}
	}
	return out, nil
}

// consumer polls records and prints them until it has printed enough,
// every partition reached its end (-e), or the context ends.
type consumer struct {
	cl        *kgo.Client
	printRec  printer
	out       *bufio.Writer
	stderr    io.Writer
	limit     int // -n; 0 means no limit
	printed   int
	plan      plans
	exitAtEnd bool
	buf       []byte
}

func (c *consumer) run(ctx context.Context) error {
	assign := map[string]map[int32]kgo.Offset{}
	for t, ps := range c.plan {
		assign[t] = map[int32]kgo.Offset{}
		for p, pl := range ps {
			assign[t][p] = kgo.NewOffset().At(pl.next)
		}
	}
	c.cl.AddConsumePartitions(assign)
	for !c.done() {
		fetches := c.cl.PollFetches(ctx)
		if ctx.Err() != nil {
			break // Ctrl-C: what was printed stays printed
		}
		for _, fe := range fetches.Errors() {
			if errors.Is(fe.Err, context.Canceled) || errors.Is(fe.Err, kgo.ErrClientClosed) {
				continue
			}
			fmt.Fprintf(c.stderr, "samsa: consuming %s partition %d: %v\n", fe.Topic, fe.Partition, fe.Err)
		}
		if err := c.printFetches(fetches); err != nil {
			return err
		}
	}
	return c.out.Flush()
}

func (c *consumer) printFetches(fetches kgo.Fetches) error {
	for it := fetches.RecordIter(); !it.Done() && !c.done(); {
		r := it.Next()
		pl := c.plan[r.Topic][r.Partition]
		if pl == nil || (c.exitAtEnd && r.Offset >= pl.end) {
			continue
		}
		pl.next = r.Offset + 1
		if r.Attrs.IsControl() {
			continue // a transaction marker takes an offset but is not data
		}
		c.buf = c.printRec(c.buf[:0], r)
		if _, err := c.out.Write(c.buf); err != nil {
			return err
		}
		c.printed++
	}
	return c.out.Flush()
}

// done is whether -n records were printed, or with -e, every partition
// reached the end it had at the start.
func (c *consumer) done() bool {
	if c.limit > 0 && c.printed >= c.limit {
		return true
	}
	if !c.exitAtEnd {
		return false
	}
	for _, ps := range c.plan {
		for _, pl := range ps {
			if pl.next < pl.end {
				return false
			}
		}
	}
	return true
}
