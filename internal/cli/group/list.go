package group

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/internal/cli/kit"
)

// listed is one group of `group list --format json`.
type listed struct {
	Group        string `json:"group"`
	State        string `json:"state"`
	ProtocolType string `json:"protocol_type"`
	Type         string `json:"type,omitempty"` // classic or consumer (KIP-848), when the broker says
	Members      int    `json:"members"`
	Coordinator  int32  `json:"coordinator"`
}

// states are the group states Kafka reports, for --state's help and
// completion: the classic ones, then those only consumer groups (KIP-848)
// have.
var states = []string{"Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead", "Assigning", "Reconciling"}

func listCommand() *cobra.Command {
	var (
		state  []string
		format kit.Format
	)
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List consumer groups with their state, type and member count",
		Long: `List the consumer groups of every broker: state, protocol type
("consumer" for Kafka consumers), group type (classic or consumer, when
the broker reports it) and member count. --state keeps groups in the given
states (repeatable or comma separated; case does not matter), as
kafka-consumer-groups.sh --list --state does.`,
		Example: `  samsa group list
  samsa group list --state Stable,Empty --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			filter, err := stateFilter(state)
			if err != nil {
				return err
			}
			cl, err := kit.Client(cmd)
			if err != nil {
				return err
			}
			defer cl.Close()
			ctx, cancel := kit.Timeout(cmd)
			defer cancel()
			out, err := list(ctx, cl, filter)
			if err != nil {
				return err
			}
			if format == kit.JSON {
				return kit.WriteJSON(cmd.OutOrStdout(), out)
			}
			t := kit.NewTable(cmd.OutOrStdout(), "group", "state", "protocol-type", "type", "members")
			for _, g := range out {
				t.Row(g.Group, g.State, dash(g.ProtocolType), dash(g.Type), g.Members)
			}
			return t.Flush()
		},
	}
	cmd.Flags().StringSliceVar(&state, "state", nil, "only groups in these states: "+strings.Join(states, ", "))
	cmd.RegisterFlagCompletionFunc("state", cobra.FixedCompletions(states, cobra.ShellCompDirectiveNoFileComp))
	kit.AddFormatFlag(cmd, &format)
	return cmd
}

// stateFilter spells the --state values as Kafka does.
func stateFilter(in []string) ([]string, error) {
	var out []string
	for _, s := range in {
		i := indexFold(states, strings.TrimSpace(s))
		if i < 0 {
			return nil, fmt.Errorf("--state %q: want one of %s", s, strings.Join(states, ", "))
		}
		out = append(out, states[i])
	}
	return out, nil
}

func indexFold(xs []string, s string) int {
	for i, x := range xs {
		if strings.EqualFold(x, s) {
			return i
		}
	}
	return -1
}

// list asks every broker for its groups with ListGroups (kadm's listing
// drops the group type of v5) and then describes them for member counts:
// classic groups with DescribeGroups, consumer groups (KIP-848), which it
// does not describe, with ConsumerGroupDescribe.
func list(ctx context.Context, cl *kgo.Client, filter []string) ([]listed, error) {
	req := kmsg.NewPtrListGroupsRequest()
	req.StatesFilter = filter
	out := []listed{}
	for _, shard := range cl.RequestSharded(ctx, req) {
		if shard.Err != nil {
			return nil, fmt.Errorf("listing groups on broker %d: %w", shard.Meta.NodeID, shard.Err)
		}
		resp := shard.Resp.(*kmsg.ListGroupsResponse)
		if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
			return nil, fmt.Errorf("listing groups on broker %d: %w", shard.Meta.NodeID, err)
		}
		for _, g := range resp.Groups {
			out = append(out, listed{Group: g.Group, State: g.GroupState, ProtocolType: g.ProtocolType,
				Type: strings.ToLower(g.GroupType), Coordinator: shard.Meta.NodeID})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Group < out[j].Group })
	if len(out) == 0 {
		return out, nil
	}
	names := make([]string, len(out))
	for i, g := range out {
		names[i] = g.Group
	}
	dreq := kmsg.NewPtrDescribeGroupsRequest()
	dreq.Groups = names
	members := map[string]int{}
	for _, shard := range cl.RequestSharded(ctx, dreq) {
		if shard.Err != nil {
			continue // the count stays 0; the listing itself succeeded
		}
		for _, g := range shard.Resp.(*kmsg.DescribeGroupsResponse).Groups {
			if g.ErrorCode == 0 {
				members[g.Group] = len(g.Members)
			}
		}
	}
	var consumers []string
	for _, g := range out {
		if g.Type == typeConsumer {
			consumers = append(consumers, g.Group)
		}
	}
	// An error leaves the counts 0, as above.
	if cgs, err := consumerGroups(ctx, kadm.NewClient(cl), consumers); err == nil {
		for g, d := range cgs {
			members[g] = len(d.Members)
		}
	}
	for i := range out {
		out[i].Members = members[out[i].Group]
	}
	return out, nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
