package config

import (
	"context"
	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/samsa-io/samsa/internal/cli/kit"
)

func setCommand() *cobra.Command {
	var (
		tgt    target
		del    []string
		dryRun bool
		format kit.Format
	)
	cmd := &cobra.Command{
		Use:   "set (--broker ID | --broker-default | --topic NAME) key=value... [--delete key]",
		Short: "Set configs of a broker or a topic (incrementally: the others stay as they are)",
		Long: `Set configs with IncrementalAlterConfigs: only the named configs change.
--delete removes a dynamic value, so the config falls back to the next
source (a broker default, the static file, Kafka's default).`,
		Example: `  samsa config set --topic greetings retention.ms=3600000
  samsa config set --broker 1 log.retention.ms=86400000
  samsa config set --broker-default log.retention.ms=86400000
  samsa config set --topic greetings --delete retention.ms`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := tgt.check(cmd); err != nil {
				return err
			}
			alters, err := kit.Alterations("config", args, del)
			if err != nil {
				return err
			}
			return kit.WithAdmin(cmd, func(ctx context.Context, adm *kadm.Client) error {
				if err := tgt.brokerExists(ctx, adm); err != nil {
					return err
				}
				var resps kadm.AlterConfigsResponses
				switch {
				case tgt.topic != "" && dryRun:
					resps, err = adm.ValidateAlterTopicConfigs(ctx, alters, tgt.topic)
				case tgt.topic != "":
					resps, err = adm.AlterTopicConfigs(ctx, alters, tgt.topic)
				case dryRun:
					resps, err = adm.ValidateAlterBrokerConfigs(ctx, alters, tgt.brokers()...)
				default:
					resps, err = adm.AlterBrokerConfigs(ctx, alters, tgt.brokers()...)
				}
				if err != nil {
					return err
				}
				var rs []kit.Result
				for _, r := range resps {
					name := r.Name
					if name == "" {
						name = "(default)"
					}
					rs = append(rs, kit.NewResult(name, r.Err, r.ErrMessage))
				}
				return kit.PrintResults(cmd, format, tgt.kind(), rs)
			})
		},
	}
	tgt.addFlags(cmd)
	cmd.Flags().StringArrayVarP(&del, "delete", "d", nil, "delete a config, back to its default (repeatable)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "ask the broker to validate the change without making it")
	kit.AddFormatFlag(cmd, &format)
	return cmd
}
