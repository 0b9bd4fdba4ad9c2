package topic

import (
	"context"
	"errors"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/samsa-io/samsa/internal/cli/kit"
)

func createCommand() *cobra.Command {
	var (
		partitions  int32
		replicas    int16
		configs     []string
		dryRun      bool
		ifNotExists bool
		format      kit.Format
	)
	cmd := &cobra.Command{
		Use:   "create TOPIC...",
		Short: "Create topics",
		Long: `Create topics. Partitions and replicas default to the broker's
num.partitions and default.replication.factor; -c sets a topic config
(repeatable), e.g. -c cleanup.policy=compact -c retention.ms=3600000.`,
		Example: `  samsa topic create greetings -p 3
  samsa topic create events -p 6 -r 3 -c retention.ms=86400000`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, topics []string) error {
			cfg, err := kit.ConfigMap(configs, "-c")
			if err != nil {
				return err
			}
			return kit.WithAdmin(cmd, func(ctx context.Context, adm *kadm.Client) error {
				create := adm.CreateTopics
				if dryRun {
					create = adm.ValidateCreateTopics
				}
				resps, err := create(ctx, partitions, replicas, cfg, topics...)
				if err != nil {
					return err
				}
				var rs []kit.Result
				for _, r := range resps {
					if ifNotExists && errors.Is(r.Err, kerr.TopicAlreadyExists) {
						r.Err = nil
					}
					rs = append(rs, kit.NewResult(r.Topic, r.Err, r.ErrMessage))
				}
				return kit.PrintResults(cmd, format, "topic", rs)
			})
		},
	}
	f := cmd.Flags()
	f.Int32VarP(&partitions, "partitions", "p", -1, "number of partitions (-1: the broker's num.partitions)")
	f.Int16VarP(&replicas, "replicas", "r", -1, "replication factor (-1: the broker's default.replication.factor)")
	f.StringArrayVarP(&configs, "topic-config", "c", nil, "a topic config as key=value (repeatable)")
	f.BoolVarP(&dryRun, "dry-run", "d", false, "ask the broker to validate the creation without creating")
	f.BoolVar(&ifNotExists, "if-not-exists", false, "succeed when a topic already exists")
	kit.AddFormatFlag(cmd, &format)
	return cmd
}
