package group

// Groups of the consumer protocol (KIP-848). DescribeGroups describes only
// classic groups: Kafka 4 answers GROUP_ID_NOT_FOUND ("Group X is not a
// classic group.") for a consumer group, so a group DescribeGroups does not
// know is asked for again with ConsumerGroupDescribe, as Kafka's admin
// client and kafka-consumer-groups.sh do.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/internal/cli/kit"
)

// typeConsumer is ListGroups' type, and describe's, of a KIP-848 group.
const typeConsumer = "consumer"

// errListMissing is a partition ListOffsets did not answer for, as kadm
// reports it for classic groups.
var errListMissing = errors.New("missing from list offsets")

// consumerGroups describes those of groups that are consumer-protocol
// groups with ConsumerGroupDescribe. A group the broker does not know as
// one (GROUP_ID_NOT_FOUND) is left out, and so is every group when no
// broker supports the API (Kafka before 4.0): there, no group is one.
func consumerGroups(ctx context.Context, adm *kadm.Client, groups []string) (map[string]kadm.DescribedConsumerGroup, error) {
	out := map[string]kadm.DescribedConsumerGroup{}
	if len(groups) == 0 {
		return out, nil
	}
	ds, err := adm.DescribeConsumerGroups(ctx, groups...)
	if err != nil {
		if !supportsConsumerGroups(ctx, adm) {
			return out, nil
		}
		return nil, fmt.Errorf("describing consumer groups: %w", err)
	}
	for _, g := range groups {
		d, ok := ds[g]
		switch {
		case !ok || errors.Is(d.Err, kerr.GroupIDNotFound):
		case d.Err != nil:
			return nil, fmt.Errorf("group %s: %s", g, kit.Explain(d.Err, ""))
		default:
			out[g] = d
		}
	}
	return out, nil
}

// supportsConsumerGroups is whether any broker answers
// ConsumerGroupDescribe; asked only after it failed, to tell an old broker
// from a failure.
func supportsConsumerGroups(ctx context.Context, adm *kadm.Client) bool {
	vs, err := adm.ApiVersions(ctx)
	if err != nil {
		return true // cannot tell: report the failure
	}
	for _, v := range vs {
		if _, ok := v.KeyMaxVersion(kmsg.ConsumerGroupDescribe.Int16()); ok || v.Err != nil {
			return true
		}
	}
	return false
}

// describeConsumers describes the consumer-protocol groups among groups,
// with their committed offsets and lag; groups that are not are left out.
func describeConsumers(ctx context.Context, adm *kadm.Client, groups []string) (map[string]described, error) {
	cgs, err := consumerGroups(ctx, adm, groups)
	if err != nil || len(cgs) == 0 {
		return nil, err
	}
	names := make([]string, 0, len(cgs))
	for g := range cgs {
		names = append(names, g)
	}
	fetched := adm.FetchManyOffsets(ctx, names...)
	topics := map[string]bool{}
	for _, g := range names {
		f := fetched[g]
		if f.Err != nil {
			return nil, fmt.Errorf("group %s: fetching its offsets: %s", g, kit.Explain(f.Err, ""))
		}
		for t := range consumerTopics(cgs[g], f.Fetched) {
			topics[t] = true
		}
	}
	var ends kadm.ListedOffsets
	if len(topics) > 0 {
		var se *kadm.ShardErrors
		ends, err = adm.ListEndOffsets(ctx, sortedKeys(topics)...)
		if err != nil && !errors.As(err, &se) {
			return nil, fmt.Errorf("listing end offsets: %w", err)
		}
		// A shard that failed leaves its partitions missing: each row
		// says so, as for classic groups.
	}
	out := make(map[string]described, len(cgs))
	for _, g := range names {
		out[g] = consumerDescribedOf(cgs[g], fetched[g].Fetched, ends)
	}
	return out, nil
}

// consumerTopics is the topics a consumer group's describe covers: those
// its members are assigned, will be assigned or subscribe to, and those it
// committed to; each is shown with all its partitions, as kadm's lag does
// for classic groups.
func consumerTopics(d kadm.DescribedConsumerGroup, committed kadm.OffsetResponses) map[string]bool {
	topics := map[string]bool{}
	for _, m := range d.Members {
		for t := range m.Assignment {
			topics[t] = true
		}
		for t := range m.TargetAssignment {
			topics[t] = true
		}
		for _, t := range m.SubscribedTopics {
			topics[t] = true
		}
	}
	for t := range committed {
		topics[t] = true
	}
	return topics
}

func consumerDescribedOf(d kadm.DescribedConsumerGroup, committed kadm.OffsetResponses, ends kadm.ListedOffsets) described {
	gepoch, aepoch := d.Epoch, d.AssignmentEpoch
	out := described{Group: d.Group, Coordinator: d.Coordinator.NodeID, State: d.State, Type: typeConsumer,
		ProtocolType: typeConsumer, Protocol: d.AssignorName, Assignor: d.AssignorName,
		GroupEpoch: &gepoch, AssignmentEpoch: &aepoch, Members: []member{}, Offsets: []offset{}}
	owners := map[string]map[int32]*kadm.ConsumerGroupMember{}
	for i := range d.Members {
		m := &d.Members[i]
		epoch := m.MemberEpoch
		dm := member{MemberID: m.MemberID, InstanceID: m.InstanceID, ClientID: m.ClientID, Host: m.ClientHost,
			MemberEpoch: &epoch, Assigned: topicAssignsOf(m.Assignment)}
		if target := topicAssignsOf(m.TargetAssignment); !sameAssigns(dm.Assigned, target) {
			dm.Target = &target
		}
		out.Members = append(out.Members, dm)
		for t, ps := range m.Assignment {
			if owners[t] == nil {
				owners[t] = map[int32]*kadm.ConsumerGroupMember{}
			}
			for p := range ps {
				owners[t][p] = m
			}
		}
	}
	for _, tp := range consumerPartitions(d, committed, ends) {
		o := offset{Topic: tp.topic, Partition: tp.partition, LogEndOffset: -1}
		end, endErr := endOffset(ends, tp.topic, tp.partition)
		if endErr == nil {
			o.LogEndOffset = end
		}
		c, ok := committed.Lookup(tp.topic, tp.partition)
		switch {
		case ok && c.Err != nil:
			o.Error = kit.Explain(c.Err, "")
		case endErr != nil:
			o.Error = kit.Explain(endErr, "")
		}
		if ok && c.Err == nil && c.At >= 0 {
			at := c.At
			o.Committed = &at
			if endErr == nil {
				lag := max(end-at, 0) // a commit past the end counts as caught up, as kadm does
				o.Lag = &lag
				out.TotalLag += lag
			}
		}
		if m := owners[tp.topic][tp.partition]; m != nil {
			o.MemberID, o.ClientID, o.Host = m.MemberID, m.ClientID, m.ClientHost
		}
		out.Offsets = append(out.Offsets, o)
	}
	return out
}

type topicPartition struct {
	topic     string
	partition int32
}

// consumerPartitions is every partition of the group's topics that the end
// offsets list, and every assigned or committed one even where they do
// not, sorted.
func consumerPartitions(d kadm.DescribedConsumerGroup, committed kadm.OffsetResponses, ends kadm.ListedOffsets) []topicPartition {
	set := kadm.TopicsSet{}
	for t := range consumerTopics(d, committed) {
		for p := range ends[t] {
			if p >= 0 {
				set.Add(t, p)
			}
		}
	}
	for _, m := range d.Members {
		set.Merge(m.Assignment)
	}
	committed.Each(func(o kadm.OffsetResponse) { set.Add(o.Topic, o.Partition) })
	var out []topicPartition
	set.Sorted().Each(func(t string, p int32) { out = append(out, topicPartition{t, p}) })
	return out
}

// endOffset is a partition's log end offset; a topic that does not exist
// is listed by kadm as partition -1 with the error.
func endOffset(ends kadm.ListedOffsets, topic string, p int32) (int64, error) {
	if e, ok := ends.Lookup(topic, p); ok {
		return e.Offset, e.Err
	}
	if e, ok := ends.Lookup(topic, -1); ok && e.Err != nil {
		return -1, e.Err
	}
	return -1, errListMissing
}

// topicAssignsOf lists an assignment by topic, partitions sorted.
func topicAssignsOf(s kadm.TopicsSet) []topicAssigns {
	out := []topicAssigns{}
	for _, tp := range s.Sorted() {
		if len(tp.Partitions) > 0 {
			out = append(out, topicAssigns{Topic: tp.Topic, Partitions: tp.Partitions})
		}
	}
	return out
}

func sameAssigns(a, b []topicAssigns) bool {
	return slices.EqualFunc(a, b, func(x, y topicAssigns) bool {
		return x.Topic == y.Topic && slices.Equal(x.Partitions, y.Partitions)
	})
}

// printConsumerDescribed prints a consumer-protocol group: epochs and the
// assignor in place of the classic protocol, each member's epoch, and
// the target assignment of members still reconciling towards it.
func printConsumerDescribed(w io.Writer, d described) error {
	t := kit.NewTable(w)
	t.Row("GROUP", d.Group)
	t.Row("COORDINATOR", d.Coordinator)
	t.Row("STATE", d.State)
	t.Row("TYPE", d.Type)
	t.Row("GROUP-EPOCH", dashInt32(d.GroupEpoch))
	t.Row("ASSIGNMENT-EPOCH", dashInt32(d.AssignmentEpoch))
	t.Row("ASSIGNOR", dash(d.Assignor))
	t.Row("MEMBERS", len(d.Members))
	t.Row("TOTAL-LAG", d.TotalLag)
	if err := t.Flush(); err != nil {
		return err
	}
	if len(d.Members) > 0 {
		fmt.Fprintln(w)
		reconciling := slices.ContainsFunc(d.Members, func(m member) bool { return m.Target != nil })
		headers := []string{"member-id", "instance-id", "client-id", "host", "member-epoch", "assigned"}
		if reconciling {
			headers = append(headers, "target")
		}
		t = kit.NewTable(w, headers...)
		for _, m := range d.Members {
			row := []any{m.MemberID, dashPtr(m.InstanceID), m.ClientID, m.Host, dashInt32(m.MemberEpoch), assignedString(m.Assigned)}
			if reconciling {
				row = append(row, targetString(m.Target))
			}
			t.Row(row...)
		}
		if err := t.Flush(); err != nil {
			return err
		}
	}
	fmt.Fprintln(w)
	return printOffsets(w, d.Offsets)
}

// targetString is a reconciling member's target ("none" when it is to
// give up everything), or "-" for a member that owns its target.
func targetString(target *[]topicAssigns) string {
	switch {
	case target == nil:
		return "-"
	case len(*target) == 0:
		return "none"
	}
	return assignedString(*target)
}

func dashInt32(n *int32) string {
	if n == nil {
		return "-"
	}
	return fmt.Sprint(*n)
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
