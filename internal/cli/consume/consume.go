// Package consume is `samsa consume TOPIC...`: records to stdout through a
// kcat-style template or as JSON, by partition assignment or as a member of
// a consumer group (-g), in the spirit of rpk topic consume and kcat -C.
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
	"time"

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
	group      string
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
joins no group and commits nothing. With -g GROUP it is instead a member of
that consumer group: the group shares the partitions among its members,
each partition starts at the group's committed offset (--offset or
--from-time only say where to start in partitions the group has not
committed to), and the offsets of the records printed are committed, so
that the next run goes on where this one stopped. On exit it also commits
its position in partitions it held but read nothing from, as Kafka's
consumer does.

-f/--format is "json" (one object per record: topic, partition, offset,
timestamp, key, value, headers) or a template in the spirit of kcat's -f:
` + templateHelp + `.
The default prints each value on its own line.`,
		Example: `  samsa consume greetings -n 2
  samsa consume greetings -f '%k = %v (partition %p, offset %o)\n'
  samsa consume greetings --offset @1700000000000 --format json
  samsa consume greetings --partitions 0,2 --offset -10 -e
  samsa consume greetings -g readers -e`,
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
	f.StringVarP(&o.group, "group", "g", "", "consume as a member of this consumer group, committing what is printed")
	cmd.MarkFlagsMutuallyExclusive("group", "partitions")
	cmd.RegisterFlagCompletionFunc("group", kit.CompleteGroups)
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
	c := &consumer{
		printRec: printRec, out: bufio.NewWriterSize(cmd.OutOrStdout(), 64<<10),
		limit: o.count, exitAtEnd: o.exitAtEnd, stderr: cmd.ErrOrStderr(),
	}
	if o.group != "" {
		return c.runInGroup(ctx, cmd, topics, spec, o.group)
	}
	cl, err := kit.Client(cmd, kgo.KeepControlRecords())
	if err != nil {
		return err
	}
	defer cl.Close()
	if c.plan, err = planPartitions(cmd, kadm.NewClient(cl), topics, o.partitions, spec); err != nil {
		return err
	}
	c.cl = cl
	c.assign()
	return c.run(ctx)
}

// runInGroup consumes as a member of group: plans with a plain client
// (which also checks the topics exist), then joins with the group client.
func (c *consumer) runInGroup(ctx context.Context, cmd *cobra.Command, topics []string, spec startSpec, group string) error {
	adm, err := kit.Admin(cmd)
	if err != nil {
		return err
	}
	defer adm.Close()
	if c.plan, err = planPartitions(cmd, adm, topics, nil, spec); err != nil {
		return err
	}
	c.grp = newGroupState(group)
	actx, cancel := kit.Timeout(cmd)
	err = c.startFromCommits(actx, adm, topics)
	cancel()
	if err != nil {
		return err
	}
	cl, err := kit.Client(cmd, append(c.groupOpts(topics, spec), kgo.KeepControlRecords())...)
	if err != nil {
		return err
	}
	defer cl.Close() // leaves the group
	c.cl = cl
	runErr := c.run(ctx)
	cctx, cancel := kit.Timeout(cmd)
	defer cancel()
	if err := c.commitAtExit(cctx); err != nil && runErr == nil {
		runErr = err
	}
	return runErr
}

// partitionPlan is where consuming one partition starts, and where its end
// was when the command started.
type partitionPlan struct {
	next, end int64
	committed bool // next is a group's commit (-g)
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
	grp       *groupState // nil unless -g
	printRec  printer
	out       *bufio.Writer
	stderr    io.Writer
	limit     int // -n; 0 means no limit
	printed   int
	plan      plans
	exitAtEnd bool
	buf       []byte
	passed    []*kgo.Record // printed or passed over since the last flush (-g)
}

// assign has the client consume every planned partition from its start.
func (c *consumer) assign() {
	assign := map[string]map[int32]kgo.Offset{}
	for t, ps := range c.plan {
		assign[t] = map[int32]kgo.Offset{}
		for p, pl := range ps {
			assign[t][p] = kgo.NewOffset().At(pl.next)
		}
	}
	c.cl.AddConsumePartitions(assign)
}

func (c *consumer) run(ctx context.Context) error {
	for !c.done() {
		fetches := c.poll(ctx)
		if ctx.Err() != nil {
			break // Ctrl-C: what was printed stays printed
		}
		for _, fe := range fetches.Errors() {
			if errors.Is(fe.Err, context.Canceled) || errors.Is(fe.Err, context.DeadlineExceeded) ||
				errors.Is(fe.Err, kgo.ErrClientClosed) {
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

// groupPollWait bounds one poll of a group member with -e: whether it is
// done can change without a record (it is given partitions already at
// their end), so it looks again this often.
const groupPollWait = 200 * time.Millisecond

func (c *consumer) poll(ctx context.Context) kgo.Fetches {
	if c.grp == nil || !c.exitAtEnd {
		return c.cl.PollFetches(ctx)
	}
	pctx, cancel := context.WithTimeout(ctx, groupPollWait)
	defer cancel()
	return c.cl.PollFetches(pctx)
}

func (c *consumer) printFetches(fetches kgo.Fetches) error {
	for it := fetches.RecordIter(); !it.Done() && !c.done(); {
		r := it.Next()
		pl := c.plan[r.Topic][r.Partition]
		if pl == nil || (c.exitAtEnd && r.Offset >= pl.end) {
			continue
		}
		c.setNext(r.Topic, r.Partition, pl, r.Offset+1)
		if !r.Attrs.IsControl() { // a transaction marker takes an offset but is not data
			c.buf = c.printRec(c.buf[:0], r)
			if _, err := c.out.Write(c.buf); err != nil {
				return err
			}
			c.printed++
		}
		if c.grp != nil {
			c.passed = append(c.passed, r)
		}
	}
	if err := c.out.Flush(); err != nil {
		return err
	}
	if len(c.passed) > 0 { // printed: now their offsets may be committed
		c.cl.MarkCommitRecords(c.passed...)
		c.passed = c.passed[:0]
	}
	return nil
}

// setNext moves a partition's next offset, under the group's lock when
// the group's callbacks may read it.
func (c *consumer) setNext(topic string, partition int32, pl *partitionPlan, next int64) {
	if c.grp != nil {
		c.grp.mu.Lock()
		defer c.grp.mu.Unlock()
		c.grp.touchLocked(topic, partition)
	}
	pl.next = next
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
	if c.grp != nil {
		return c.groupDone()
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
