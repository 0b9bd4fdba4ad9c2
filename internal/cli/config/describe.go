package config

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/samsa-io/samsa/internal/cli/kit"
)

// described is `config describe --format json`.
type described struct {
	Type    string            `json:"type"` // "broker" or "topic"
	Name    string            `json:"name"` // "" for the broker default
	Configs []kit.ConfigEntry `json:"configs"`
}

func describeCommand() *cobra.Command {
	var (
		tgt    target
		format kit.Format
	)
	cmd := &cobra.Command{
		Use:   "describe (--broker ID | --broker-default | --topic NAME)",
		Short: "Show every config of a broker or a topic, with its value and source",
		Example: `  samsa config describe --broker 1
  samsa config describe --topic greetings --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := tgt.check(cmd); err != nil {
				return err
			}
			return kit.WithAdmin(cmd, func(ctx context.Context, adm *kadm.Client) error {
				if err := tgt.brokerExists(ctx, adm); err != nil {
					return err
				}
				var rcs kadm.ResourceConfigs
				var err error
				if tgt.topic != "" {
					rcs, err = adm.DescribeTopicConfigs(ctx, tgt.topic)
				} else {
					rcs, err = adm.DescribeBrokerConfigs(ctx, tgt.brokers()...)
				}
				if err != nil {
					return describeError(&tgt, err, "")
				}
				rc, err := rcs.On(tgt.name(), nil)
				if err == nil && rc.Err != nil {
					err = describeError(&tgt, rc.Err, rc.ErrMessage)
				}
				if err != nil {
					return err
				}
				out := described{Type: tgt.kind(), Name: tgt.name(), Configs: kit.ConfigEntries(rc.Configs)}
				if format == kit.JSON {
					return kit.WriteJSON(cmd.OutOrStdout(), out)
				}
				return kit.PrintConfigs(cmd.OutOrStdout(), out.Configs)
			})
		},
	}
	tgt.addFlags(cmd)
	kit.AddFormatFlag(cmd, &format)
	return cmd
}

func describeError(tgt *target, err error, msg string) error {
	if tgt.topic != "" && errors.Is(err, kerr.UnknownTopicOrPartition) {
		return kit.UnknownTopic(tgt.topic)
	}
	return fmt.Errorf("%s: %s", tgt, kit.Explain(err, msg))
}
