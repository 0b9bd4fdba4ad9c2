package topic

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/samsa-io/samsa/internal/cli/kit"
)

// described is one topic of `topic describe --format json`.
type described struct {
	Name       string            `json:"name"`
	ID         string            `json:"id"`
	Internal   bool              `json:"internal"`
	Partitions []partition       `json:"partitions"`
	Configs    []kit.ConfigEntry `json:"configs"`
}

type partition struct {
	Partition       int32   `json:"partition"`
	Leader          int32   `json:"leader"`
	LeaderEpoch     int32   `json:"leader_epoch"`
	Replicas        []int32 `json:"replicas"`
	ISR             []int32 `json:"isr"`
	OfflineReplicas []int32 `json:"offline_replicas"`
	LogStartOffset  int64   `json:"log_start_offset"`
	HighWatermark   int64   `json:"high_watermark"`
	Error           string  `json:"error,omitempty"`
}

func describeCommand() *cobra.Command {
	var format kit.Format
	cmd := &cobra.Command{
		Use:     "describe TOPIC...",
		Aliases: []string{"info"},
		Short:   "Show topics: partitions, leaders, replicas, ISR, offsets and configs with their sources",
		Long: `Show topics: a summary; every config with its value and source
(DEFAULT_CONFIG, DYNAMIC_TOPIC_CONFIG, STATIC_BROKER_CONFIG, ...); and per
partition the leader, leader epoch, replicas, in-sync replicas, log start
offset and high watermark. --format json prints an array of topics.`,
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: kit.CompleteTopics,
		RunE: func(cmd *cobra.Command, topics []string) error {
			adm, err := kit.Admin(cmd)
			if err != nil {
				return err
			}
			defer adm.Close()
			out, err := describe(cmd, adm, topics)
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

func describe(cmd *cobra.Command, adm *kadm.Client, topics []string) ([]described, error) {
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
	}
	configs, err := adm.DescribeTopicConfigs(ctx, topics...)
	if err != nil {
		return nil, err
	}
	starts, err := adm.ListStartOffsets(ctx, topics...)
	if err != nil {
		return nil, err
	}
	ends, err := adm.ListEndOffsets(ctx, topics...)
	if err != nil {
		return nil, err
	}
	var out []described
	for _, t := range topics {
		d := md.Topics[t]
		desc := described{Name: t, ID: kit.TopicIDString(d.ID), Internal: d.IsInternal, Partitions: []partition{}}
		rc, err := configs.On(t, nil)
		if err == nil && rc.Err != nil {
			err = fmt.Errorf("%s", kit.Explain(rc.Err, rc.ErrMessage))
		}
		if err != nil {
			return nil, fmt.Errorf("configs of %s: %w", t, err)
		}
		desc.Configs = kit.ConfigEntries(rc.Configs)
		for _, p := range d.Partitions.Sorted() {
			desc.Partitions = append(desc.Partitions, describePartition(p, starts, ends))
		}
		out = append(out, desc)
	}
	return out, nil
}

func describePartition(p kadm.PartitionDetail, starts, ends kadm.ListedOffsets) partition {
	dp := partition{
		Partition: p.Partition, Leader: p.Leader, LeaderEpoch: p.LeaderEpoch,
		Replicas: nonNil(p.Replicas), ISR: nonNil(p.ISR), OfflineReplicas: nonNil(p.OfflineReplicas),
		LogStartOffset: -1, HighWatermark: -1,
	}
	if p.Err != nil {
		dp.Error = p.Err.Error()
	}
	if o, ok := starts.Lookup(p.Topic, p.Partition); ok && o.Err == nil {
		dp.LogStartOffset = o.Offset
	}
	if o, ok := ends.Lookup(p.Topic, p.Partition); ok && o.Err == nil {
		dp.HighWatermark = o.Offset
	}
	return dp
}

func nonNil(xs []int32) []int32 {
	if xs == nil {
		return []int32{}
	}
	return xs
}

func printDescribed(w io.Writer, d described) error {
	kit.Section(w, "summary")
	t := kit.NewTable(w)
	t.Row("NAME", d.Name)
	t.Row("ID", d.ID)
	t.Row("INTERNAL", d.Internal)
	t.Row("PARTITIONS", len(d.Partitions))
	if len(d.Partitions) > 0 {
		t.Row("REPLICAS", len(d.Partitions[0].Replicas))
	}
	if err := t.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	kit.Section(w, "configs")
	if err := kit.PrintConfigs(w, d.Configs); err != nil {
		return err
	}
	fmt.Fprintln(w)
	kit.Section(w, "partitions")
	t = kit.NewTable(w, "partition", "leader", "epoch", "replicas", "isr", "offline", "log-start-offset", "high-watermark")
	for _, p := range d.Partitions {
		row := []any{p.Partition, p.Leader, p.LeaderEpoch, kit.Int32s(p.Replicas), kit.Int32s(p.ISR),
			kit.Int32s(p.OfflineReplicas), p.LogStartOffset, p.HighWatermark}
		if p.Error != "" {
			row = append(row, p.Error)
		}
		t.Row(row...)
	}
	return t.Flush()
}
