package topic

import (
	"context"
	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/samsa-io/samsa/internal/cli/kit"
)

func deleteCommand() *cobra.Command {
	var format kit.Format
	cmd := &cobra.Command{
		Use:               "delete TOPIC...",
		Aliases:           []string{"rm"},
		Short:             "Delete topics and all their records",
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: kit.CompleteTopics,
		RunE: func(cmd *cobra.Command, topics []string) error {
			return kit.WithAdmin(cmd, func(ctx context.Context, adm *kadm.Client) error {
				resps, err := adm.DeleteTopics(ctx, topics...)
				if err != nil {
					return err
				}
				var rs []kit.Result
				for _, r := range resps {
					rs = append(rs, kit.NewResult(r.Topic, r.Err, r.ErrMessage))
				}
				return kit.PrintResults(cmd, format, "topic", rs)
			})
		},
	}
	kit.AddFormatFlag(cmd, &format)
	return cmd
}
