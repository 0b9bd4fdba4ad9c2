package group

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/samsa-io/samsa/internal/cli/kit"
)

// described is one group of `group describe --format json`. A consumer
// group (KIP-848) adds its type, epochs and assignor (Protocol is its
// assignor too); a classic group leaves them out.
type described struct {
	Group           string   `json:"group"`
	Coordinator     int32    `json:"coordinator"`
	State           string   `json:"state"`
	Type            string   `json:"type,omitempty"` // "consumer"; classic groups: absent
	ProtocolType    string   `json:"protocol_type"`
	Protocol        string   `json:"protocol"`
	GroupEpoch      *int32   `json:"group_epoch,omitempty"`
	AssignmentEpoch *int32   `json:"assignment_epoch,omitempty"`
	Assignor        string   `json:"assignor,omitempty"`
	Members         []member `json:"members"`
	Offsets         []offset `json:"offsets"`
	// TotalLag sums the lag of the partitions that have one (a commit and
	// a known end).
	TotalLag int64 `json:"total_lag"`
}

// member is one member of a group. A consumer group's member adds its
// epoch, and its target assignment while it differs from what the member
// owns (the member is reconciling).
type member struct {
	MemberID    string          `json:"member_id"`
	InstanceID  *string         `json:"instance_id"`
	ClientID    string          `json:"client_id"`
	Host        string          `json:"host"`
	MemberEpoch *int32          `json:"member_epoch,omitempty"`
	Assigned    []topicAssigns  `json:"assigned"`
	Target      *[]topicAssigns `json:"target_assigned,omitempty"`
}

type topicAssigns struct {
	Topic      string  `json:"topic"`
	Partitions []int32 `json:"partitions"`
}

// offset is one partition the group commits to or is assigned. Committed
// and Lag are null where the group has no commit, as "-" in Kafka's tool.
type offset struct {
	Topic        string `json:"topic"`
	Partition    int32  `json:"partition"`
	Committed    *int64 `json:"committed_offset"`
	LogEndOffset int64  `json:"log_end_offset"`
	Lag          *int64 `json:"lag"`
	MemberID     string `json:"member_id,omitempty"`
	ClientID     string `json:"client_id,omitempty"`
	Host         string `json:"host,omitempty"`
	Error        string `json:"error,omitempty"`
}

func describeCommand() *cobra.Command {
	var format kit.Format
	cmd := &cobra.Command{
		Use:   "describe GROUP...",
		Short: "Show groups: state, members and their partitions, committed offsets and lag",
		Long: `Show consumer groups: state, protocol, the members (member id, instance
id, client id, host, assigned partitions), and per partition the committed
offset, the log end offset (high watermark), the lag between them and the
member that owns the partition. A partition without a commit shows "-" for
its offset and lag, as kafka-consumer-groups.sh does. --format json prints
an array of groups.

A group of the consumer protocol (KIP-848, type "consumer" in
` + "`samsa group list`" + `) is described with ConsumerGroupDescribe: its
group epoch, assignment epoch and server-side assignor, each member's
epoch, and for a member still reconciling the target assignment it is
moving to (JSON: "target_assigned", present only then).`,
		Example:           `  samsa group describe readers`,
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: kit.CompleteGroups,
		RunE: func(cmd *cobra.Command, groups []string) error {
			var out []described
			err := kit.WithAdmin(cmd, func(ctx context.Context, adm *kadm.Client) (err error) {
				out, err = describe(ctx, adm, groups)
				return err
			})
			if err != nil {
				return err
			}
			if format == kit.JSON {
				return kit.WriteJSON(cmd.OutOrStdout(), out)
			}
			for i, d := range out {
				if i > 0 {
					fmt.Fprintln(cmd.OutOrStdout())
				}
				if err := printDescribed(cmd.OutOrStdout(), d); err != nil {
					return err
				}
			}
			return nil
		},
	}
	kit.AddFormatFlag(cmd, &format)
	return cmd
}

// describe describes the groups in the order given, with their lag:
// classic groups with DescribeGroups, and those it does not know as
// classic with ConsumerGroupDescribe.
func describe(ctx context.Context, adm *kadm.Client, groups []string) ([]described, error) {
	// Lag reuses the slice it is given for its own bookkeeping: a copy
	// keeps groups in the order the user named them.
	lags, err := adm.Lag(ctx, slices.Clone(groups)...)
	if err != nil {
		return nil, err
	}
	var notClassic []string
	for _, g := range groups {
		if l, ok := lags[g]; !ok || unknown(l) {
			notClassic = append(notClassic, g)
		}
	}
	consumers, err := describeConsumers(ctx, adm, notClassic)
	if err != nil {
		return nil, err
	}
	out := make([]described, 0, len(groups))
	for _, g := range groups {
		if d, ok := consumers[g]; ok {
			out = append(out, d)
			continue
		}
		l, ok := lags[g]
		if !ok || unknown(l) {
			return nil, kit.UnknownGroup(g)
		}
		if err := l.Error(); err != nil {
			return nil, fmt.Errorf("group %s: %s", g, kit.Explain(err, ""))
		}
		out = append(out, describedOf(l))
	}
	return out, nil
}

// unknown is whether a group does not exist: an error since DescribeGroups
// v6, state Dead with nothing in it before.
func unknown(l kadm.DescribedGroupLag) bool {
	if errors.Is(l.DescribeErr, kerr.GroupIDNotFound) {
		return true
	}
	return l.DescribeErr == nil && l.State == "Dead" && len(l.Members) == 0 && len(l.Lag) == 0
}

func describedOf(l kadm.DescribedGroupLag) described {
	d := described{Group: l.Group, Coordinator: l.Coordinator.NodeID, State: l.State,
		ProtocolType: l.ProtocolType, Protocol: l.Protocol, Members: []member{}, Offsets: []offset{}}
	for _, m := range l.Members {
		dm := member{MemberID: m.MemberID, InstanceID: m.InstanceID, ClientID: m.ClientID, Host: m.ClientHost,
			Assigned: []topicAssigns{}}
		if a, ok := m.Assigned.AsConsumer(); ok {
			for _, t := range a.Topics {
				ps := append([]int32(nil), t.Partitions...)
				sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
				dm.Assigned = append(dm.Assigned, topicAssigns{Topic: t.Topic, Partitions: ps})
			}
			sort.Slice(dm.Assigned, func(i, j int) bool { return dm.Assigned[i].Topic < dm.Assigned[j].Topic })
		}
		d.Members = append(d.Members, dm)
	}
	for _, pl := range l.Lag.Sorted() {
		o := offset{Topic: pl.Topic, Partition: pl.Partition, LogEndOffset: -1}
		if pl.End.Err == nil {
			o.LogEndOffset = pl.End.Offset
		}
		if pl.Commit.At >= 0 {
			at := pl.Commit.At
			o.Committed = &at
			if pl.Err == nil {
				lag := pl.Lag
				o.Lag = &lag
				d.TotalLag += lag
			}
		}
		if pl.Err != nil {
			o.Error = kit.Explain(pl.Err, "")
		}
		if pl.Member != nil {
			o.MemberID, o.ClientID, o.Host = pl.Member.MemberID, pl.Member.ClientID, pl.Member.ClientHost
		}
		d.Offsets = append(d.Offsets, o)
	}
	return d
}

func printDescribed(w io.Writer, d described) error {
	if d.Type == typeConsumer {
		return printConsumerDescribed(w, d)
	}
	t := kit.NewTable(w)
	t.Row("GROUP", d.Group)
	t.Row("COORDINATOR", d.Coordinator)
	t.Row("STATE", d.State)
	t.Row("PROTOCOL-TYPE", dash(d.ProtocolType))
	t.Row("PROTOCOL", dash(d.Protocol))
	t.Row("MEMBERS", len(d.Members))
	t.Row("TOTAL-LAG", d.TotalLag)
	if err := t.Flush(); err != nil {
		return err
	}
	if len(d.Members) > 0 {
		fmt.Fprintln(w)
		t = kit.NewTable(w, "member-id", "instance-id", "client-id", "host", "assigned")
		for _, m := range d.Members {
			t.Row(m.MemberID, dashPtr(m.InstanceID), m.ClientID, m.Host, assignedString(m.Assigned))
		}
		if err := t.Flush(); err != nil {
			return err
		}
	}
	fmt.Fprintln(w)
	return printOffsets(w, d.Offsets)
}

// printOffsets prints the per-partition table: committed offset, log end,
// lag and owner.
func printOffsets(w io.Writer, offsets []offset) error {
	t := kit.NewTable(w, "topic", "partition", "current-offset", "log-end-offset", "lag", "member-id", "client-id", "host")
	for _, o := range offsets {
		end := "-"
		if o.LogEndOffset >= 0 {
			end = fmt.Sprint(o.LogEndOffset)
		}
		row := []any{o.Topic, o.Partition, dashInt(o.Committed), end, dashInt(o.Lag), dash(o.MemberID), dash(o.ClientID), dash(o.Host)}
		if o.Error != "" {
			row = append(row, o.Error)
		}
		t.Row(row...)
	}
	return t.Flush()
}

// assignedString prints assignments as "topic:0,1 other:2", or "-".
func assignedString(as []topicAssigns) string {
	if len(as) == 0 {
		return "-"
	}
	parts := make([]string, len(as))
	for i, a := range as {
		parts[i] = a.Topic + ":" + kit.Int32s(a.Partitions)
	}
	return strings.Join(parts, " ")
}

func dashPtr(s *string) string {
	if s == nil {
		return "-"
	}
	return dash(*s)
}

func dashInt(n *int64) string {
	if n == nil {
		return "-"
	}
	return fmt.Sprint(*n)
}
