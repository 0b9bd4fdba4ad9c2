package topic

import (
	"context"
	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/samsa-io/samsa/internal/cli/kit"
)

func alterConfigCommand() *cobra.Command {
	var (
		set, del []string
		dryRun   bool
		format   kit.Format
	)
	cmd := &cobra.Command{
		Use:   "alter-config TOPIC... --set key=value --delete key",
		Short: "Set or delete topic configs (incrementally: other configs stay as they are)",
		Long: `Set or delete topic configs with IncrementalAlterConfigs: only the named
configs change. A deleted config falls back to the broker's value (its
source shows as DEFAULT_CONFIG or a broker source in ` + "`samsa topic describe`" + `).`,
		Example: `  samsa topic alter-config greetings --set retention.ms=3600000 --set cleanup.policy=compact
  samsa topic alter-config greetings --delete retention.ms`,
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: kit.CompleteTopics,
		RunE: func(cmd *cobra.Command, topics []string) error {
			alters, err := kit.Alterations("--set", set, del)
			if err != nil {
				return err
			}
			return kit.WithAdmin(cmd, func(ctx context.Context, adm *kadm.Client) error {
				alter := adm.AlterTopicConfigs
				if dryRun {
					alter = adm.ValidateAlterTopicConfigs
				}
				resps, err := alter(ctx, alters, topics...)
				if err != nil {
					return err
				}
				var rs []kit.Result
				for _, r := range resps {
					rs = append(rs, kit.NewResult(r.Name, r.Err, r.ErrMessage))
				}
				return kit.PrintResults(cmd, format, "topic", rs)
			})
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&set, "set", "s", nil, "set a config, key=value (repeatable)")
	f.StringArrayVarP(&del, "delete", "d", nil, "delete a config, back to its default (repeatable)")
	f.BoolVar(&dryRun, "dry-run", false, "ask the broker to validate the change without making it")
	kit.AddFormatFlag(cmd, &format)
	return cmd
}
