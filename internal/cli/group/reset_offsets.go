package group

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/samsa-io/samsa/internal/cli/kit"
)

// resetOptions are reset-offsets' flags.
type resetOptions struct {
	topics     []string
	allTopics  bool
	toEarliest bool
	toLatest   bool
	toDatetime string
	toOffset   int64
	shiftBy    int64
	dryRun     bool
	format     kit.Format
}

// target is where reset-offsets moves each partition.
type target struct {
	kind string // the flag: to-earliest, to-latest, to-datetime, to-offset, shift-by
	n    int64  // the offset, the shift, or the time in Unix ms
}

// reset is `group reset-offsets --format json`.
type reset struct {
	Group   string    `json:"group"`
	DryRun  bool      `json:"dry_run"`
	Offsets []planned `json:"offsets"`
}

// planned is one partition's reset: Current is null where the group has
// no commit.
type planned struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Current   *int64 `json:"current_offset"`
	New       int64  `json:"new_offset"`
	Error     string `json:"error,omitempty"`
}

var targetFlags = []string{"to-earliest", "to-latest", "to-datetime", "to-offset", "shift-by"}

func resetOffsetsCommand() *cobra.Command {
	var o resetOptions
	cmd := &cobra.Command{
		Use:   "reset-offsets GROUP (--topic T[:P,...]... | --all-topics) (--to-earliest | --to-latest | --to-datetime TIME | --to-offset N | --shift-by N)",
		Short: "Move a group's committed offsets (only while the group has no members)",
		Long: `Move the committed offsets of a consumer group, as
kafka-consumer-groups.sh --reset-offsets does.

Which partitions: --topic T (every partition of T) or --topic T:0,2 (some),
repeatable; or --all-topics, every partition the group has committed to.

Where to: exactly one of --to-earliest, --to-latest, --to-datetime TIME
(the first record at or after TIME, RFC 3339 such as 2024-05-01T12:00:00Z,
or Kafka's 2024-05-01T12:00:00.000 in local time; the end when no record
is that late), --to-offset N, or --shift-by N (from the committed offset,
negative to go back). New offsets are clamped to what the partition holds,
[log start offset, log end offset].

--dry-run prints the plan (current and new offset per partition) and
commits nothing. Without it the offsets are committed, which Kafka allows
only while the group is inactive (Empty, or not existing yet): stop the
group's consumers first.`,
		Example: `  samsa group reset-offsets readers --topic greetings --to-earliest --dry-run
  samsa group reset-offsets readers --topic greetings:0,1 --shift-by -10
  samsa group reset-offsets readers --all-topics --to-datetime 2024-05-01T12:00:00Z`,
		Args:              exactlyOneGroup,
		ValidArgsFunction: completeOneGroup,
		RunE: func(cmd *cobra.Command, args []string) error {
			tgt, err := resetTarget(cmd, o)
			if err != nil {
				return err
			}
			if len(o.topics) == 0 && !o.allTopics || len(o.topics) > 0 && o.allTopics {
				return errors.New("say which partitions: --topic T[:P,...] (repeatable) or --all-topics")
			}
			specs, err := parseTopicSpecs(o.topics)
			if err != nil {
				return err
			}
			return kit.WithAdmin(cmd, func(ctx context.Context, adm *kadm.Client) error {
				out, err := resetOffsets(ctx, cmd.ErrOrStderr(), adm, args[0], specs, tgt, o.dryRun)
				if err != nil {
					return err
				}
				return printReset(cmd, o.format, out)
			})
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&o.topics, "topic", "t", nil, "a topic, or topic:partition,partition (repeatable)")
	f.BoolVar(&o.allTopics, "all-topics", false, "every partition the group has committed offsets for")
	f.BoolVar(&o.toEarliest, "to-earliest", false, "to the log start offset")
	f.BoolVar(&o.toLatest, "to-latest", false, "to the log end offset")
	f.StringVar(&o.toDatetime, "to-datetime", "", "to the first record at or after this time (RFC 3339, or YYYY-MM-DDTHH:mm:SS.sss local)")
	f.Int64Var(&o.toOffset, "to-offset", 0, "to this offset")
	f.Int64Var(&o.shiftBy, "shift-by", 0, "by this many records from the committed offset (negative: back)")
	f.BoolVar(&o.dryRun, "dry-run", false, "print the plan without committing it")
	cmd.RegisterFlagCompletionFunc("topic", kit.CompleteTopics)
	kit.AddFormatFlag(cmd, &o.format)
	return cmd
}

func exactlyOneGroup(_ *cobra.Command, args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("name one group (got %d): samsa group reset-offsets GROUP --topic T --to-earliest", len(args))
	}
	return nil
}

func completeOneGroup(cmd *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return kit.CompleteGroups(cmd, args, prefix)
}

// resetTarget reads the one --to-*/--shift-by flag given.
func resetTarget(cmd *cobra.Command, o resetOptions) (target, error) {
	var given []string
	for _, name := range targetFlags {
		if cmd.Flags().Changed(name) {
			given = append(given, "--"+name)
		}
	}
	if len(given) != 1 {
		what := "none"
		if len(given) > 1 {
			what = strings.Join(given, " and ")
		}
		return target{}, fmt.Errorf("give exactly one of --to-earliest, --to-latest, --to-datetime, --to-offset or --shift-by (got %s)", what)
	}
	t := target{kind: given[0][2:]}
	switch t.kind {
	case "to-earliest":
		if !o.toEarliest {
			return target{}, errors.New("--to-earliest=false: leave the flag out, or give another --to-*")
		}
	case "to-latest":
		if !o.toLatest {
			return target{}, errors.New("--to-latest=false: leave the flag out, or give another --to-*")
		}
	case "to-datetime":
		ms, err := parseDatetime(o.toDatetime)
		if err != nil {
			return target{}, fmt.Errorf("--to-datetime %q: %w", o.toDatetime, err)
		}
		t.n = ms
	case "to-offset":
		if o.toOffset < 0 {
			return target{}, fmt.Errorf("--to-offset %d: an offset cannot be negative", o.toOffset)
		}
		t.n = o.toOffset
	case "shift-by":
		t.n = o.shiftBy
	}
	return t, nil
}

// datetimeLayouts are what Kafka's tool accepts without a zone (local
// time), after RFC 3339.
var datetimeLayouts = []string{"2006-01-02T15:04:05.000", "2006-01-02T15:04:05", "2006-01-02T15:04"}

// parseDatetime reads an RFC 3339 time, Kafka's local yyyy-MM-ddTHH:mm:ss.SSS
// (with or without a zone), or Unix milliseconds.
func parseDatetime(s string) (int64, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UnixMilli(), nil
	}
	for _, layout := range datetimeLayouts {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t.UnixMilli(), nil
		}
		for _, zone := range []string{"Z07:00", "Z0700"} {
			if t, err := time.Parse(layout+zone, s); err == nil {
				return t.UnixMilli(), nil
			}
		}
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil && ms >= 0 {
		return ms, nil
	}
	return 0, errors.New("want an RFC 3339 time such as 2024-05-01T12:00:00Z, or 2024-05-01T12:00:00.000 (local time)")
}

// topicSpec is one --topic: a topic and maybe some of its partitions.
type topicSpec struct {
	topic      string
	partitions []int32 // nil: all
}

func parseTopicSpecs(in []string) ([]topicSpec, error) {
	var out []topicSpec
	for _, s := range in {
		topic, parts, hasParts := strings.Cut(s, ":")
		if topic == "" {
			return nil, fmt.Errorf("--topic %q: want a topic, or topic:partition,partition", s)
		}
		spec := topicSpec{topic: topic}
		if hasParts {
			for _, p := range strings.Split(parts, ",") {
				n, err := strconv.ParseInt(strings.TrimSpace(p), 10, 32)
				if err != nil || n < 0 {
					return nil, fmt.Errorf("--topic %q: partition %q is not a partition number", s, p)
				}
				spec.partitions = append(spec.partitions, int32(n))
			}
		}
		out = append(out, spec)
	}
	return out, nil
}

// resetOffsets plans the reset and, unless dryRun, commits it.
func resetOffsets(ctx context.Context, stderr io.Writer, adm *kadm.Client, group string, specs []topicSpec, tgt target, dryRun bool) (reset, error) {
	out := reset{Group: group, DryRun: dryRun, Offsets: []planned{}}
	if err := checkInactive(ctx, stderr, adm, group, dryRun); err != nil {
		return out, err
	}
	committed, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		return out, fmt.Errorf("fetching the offsets of group %s: %w", group, err)
	}
	parts, err := resetPartitions(ctx, adm, group, specs, committed)
	if err != nil {
		return out, err
	}
	bounds, err := listBounds(ctx, adm, parts.Topics(), tgt)
	if err != nil {
		return out, err
	}
	for _, tp := range parts.Sorted() {
		for _, p := range tp.Partitions {
			pl := planned{Topic: tp.Topic, Partition: p}
			if c, ok := committed.Lookup(tp.Topic, p); ok && c.Err == nil && c.At >= 0 {
				at := c.At
				pl.Current = &at
			}
			if pl.New, err = bounds.newOffset(tp.Topic, p, pl.Current, tgt); err != nil {
				return out, err
			}
			out.Offsets = append(out.Offsets, pl)
		}
	}
	if dryRun {
		return out, nil
	}
	return out, commit(ctx, adm, &out)
}

// checkInactive refuses to reset a group that has members, as Kafka's tool
// does; a dry run only warns.
func checkInactive(ctx context.Context, stderr io.Writer, adm *kadm.Client, group string, dryRun bool) error {
	ds, err := adm.DescribeGroups(ctx, group)
	if err != nil {
		return fmt.Errorf("describing group %s: %w", group, err)
	}
	d, ok := ds[group]
	if !ok {
		return fmt.Errorf("describing group %s: the broker did not answer for it", group)
	}
	state, members := d.State, len(d.Members)
	switch {
	case errors.Is(d.Err, kerr.GroupIDNotFound):
		// Not a classic group: a consumer group (KIP-848), or none yet.
		cgs, err := consumerGroups(ctx, adm, []string{group})
		if err != nil {
			return err
		}
		cg, ok := cgs[group]
		if !ok {
			return nil // new: Kafka lets offsets be set for a group that does not exist yet
		}
		state, members = cg.State, len(cg.Members)
	case d.Err != nil:
		return fmt.Errorf("describing group %s: %s", group, kit.Explain(d.Err, d.ErrMessage))
	}
	if state == "Empty" || state == "Dead" {
		return nil // inactive
	}
	msg := fmt.Sprintf("group %s is %s with %d member(s): offsets can be reset only while the group is inactive; "+
		"stop its consumers first (`samsa group describe %s` lists them)", group, state, members, group)
	if dryRun {
		fmt.Fprintln(stderr, "samsa: warning:", msg)
		return nil
	}
	return errors.New(msg)
}

// resetPartitions is the partitions the reset covers: those of --topic, or
// with --all-topics every partition the group has committed to.
func resetPartitions(ctx context.Context, adm *kadm.Client, group string, specs []topicSpec, committed kadm.OffsetResponses) (kadm.TopicsSet, error) {
	parts := kadm.TopicsSet{}
	if len(specs) == 0 {
		committed.Each(func(o kadm.OffsetResponse) {
			if o.Err == nil && o.At >= 0 {
				parts.Add(o.Topic, o.Partition)
			}
		})
		if len(parts) == 0 {
			return nil, fmt.Errorf("group %s has no committed offsets for --all-topics to reset: name topics with --topic", group)
		}
		return parts, nil
	}
	topics := make([]string, len(specs))
	for i, s := range specs {
		topics[i] = s.topic
	}
	md, err := adm.Metadata(ctx, topics...)
	if err != nil {
		return nil, err
	}
	for _, s := range specs {
		d, ok := md.Topics[s.topic]
		if !ok || errors.Is(d.Err, kerr.UnknownTopicOrPartition) {
			return nil, kit.UnknownTopic(s.topic)
		}
		if d.Err != nil {
			return nil, fmt.Errorf("topic %s: %w", s.topic, d.Err)
		}
		if s.partitions == nil {
			for p := range d.Partitions {
				parts.Add(s.topic, p)
			}
			continue
		}
		for _, p := range s.partitions {
			if _, ok := d.Partitions[p]; !ok {
				return nil, fmt.Errorf("--topic: topic %s has no partition %d (it has %d; see `samsa topic describe %s`)",
					s.topic, p, len(d.Partitions), s.topic)
			}
			parts.Add(s.topic, p)
		}
	}
	return parts, nil
}

// bounds is what each partition holds, and for --to-datetime the offset
// at the time.
type bounds struct {
	starts, ends, times kadm.ListedOffsets
}

func listBounds(ctx context.Context, adm *kadm.Client, topics []string, tgt target) (bounds, error) {
	var b bounds
	var err error
	list := func(what string, dst *kadm.ListedOffsets, fn func() (kadm.ListedOffsets, error)) {
		if err != nil {
			return
		}
		if *dst, err = fn(); err == nil {
			err = dst.Error()
		}
		if err != nil {
			err = fmt.Errorf("listing %s offsets: %w", what, err)
		}
	}
	list("start", &b.starts, func() (kadm.ListedOffsets, error) { return adm.ListStartOffsets(ctx, topics...) })
	list("end", &b.ends, func() (kadm.ListedOffsets, error) { return adm.ListEndOffsets(ctx, topics...) })
	if tgt.kind == "to-datetime" {
		list("time", &b.times, func() (kadm.ListedOffsets, error) { return adm.ListOffsetsAfterMilli(ctx, tgt.n, topics...) })
	}
	return b, err
}

// newOffset is where the target puts a partition, clamped to
// [start, end] as Kafka's tool does.
func (b bounds) newOffset(topic string, p int32, current *int64, tgt target) (int64, error) {
	s, ok1 := b.starts.Lookup(topic, p)
	e, ok2 := b.ends.Lookup(topic, p)
	if !ok1 || !ok2 {
		return 0, fmt.Errorf("topic %s partition %d: the broker listed no offsets for it", topic, p)
	}
	var o int64
	switch tgt.kind {
	case "to-earliest":
		o = s.Offset
	case "to-latest":
		o = e.Offset
	case "to-offset":
		o = tgt.n
	case "shift-by":
		if current == nil {
			return 0, fmt.Errorf("--shift-by: group has no committed offset on %s partition %d to shift from; use --to-offset or --to-earliest", topic, p)
		}
		o = *current + tgt.n
	case "to-datetime":
		o = e.Offset
		if t, ok := b.times.Lookup(topic, p); ok && t.Offset >= 0 {
			o = t.Offset
		}
	}
	return min(max(o, s.Offset), e.Offset), nil
}

// commit commits the plan, recording each partition's error.
func commit(ctx context.Context, adm *kadm.Client, out *reset) error {
	offs := kadm.Offsets{}
	for _, p := range out.Offsets {
		offs.Add(kadm.Offset{Topic: p.Topic, Partition: p.Partition, At: p.New, LeaderEpoch: -1})
	}
	resps, err := adm.CommitOffsets(ctx, out.Group, offs)
	if err != nil {
		return fmt.Errorf("committing offsets of group %s: %s", out.Group, kit.Explain(err, ""))
	}
	for i, p := range out.Offsets {
		r, ok := resps.Lookup(p.Topic, p.Partition)
		switch {
		case !ok:
			out.Offsets[i].Error = "the broker did not answer for this partition"
		case r.Err != nil:
			out.Offsets[i].Error = kit.Explain(r.Err, "")
		}
	}
	return nil
}

func printReset(cmd *cobra.Command, f kit.Format, out reset) error {
	failed := 0
	for _, p := range out.Offsets {
		if p.Error != "" {
			failed++
		}
	}
	if f == kit.JSON {
		if err := kit.WriteJSON(cmd.OutOrStdout(), out); err != nil {
			return err
		}
	} else {
		sort.SliceStable(out.Offsets, func(i, j int) bool {
			a, b := out.Offsets[i], out.Offsets[j]
			return a.Topic < b.Topic || a.Topic == b.Topic && a.Partition < b.Partition
		})
		t := kit.NewTable(cmd.OutOrStdout(), "group", "topic", "partition", "current-offset", "new-offset", "status")
		for _, p := range out.Offsets {
			status := "OK"
			switch {
			case p.Error != "":
				status = p.Error
			case out.DryRun:
				status = "dry run: not committed"
			}
			t.Row(out.Group, p.Topic, p.Partition, dashInt(p.Current), p.New, status)
		}
		if err := t.Flush(); err != nil {
			return err
		}
	}
	if failed > 0 {
		return &kit.ErrFailed{Failed: failed, Total: len(out.Offsets), What: "partitions"}
	}
	return nil
}
