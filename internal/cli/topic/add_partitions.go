package topic

import (
	"context"
	"errors"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/samsa-io/samsa/internal/cli/kit"
)

func addPartitionsCommand() *cobra.Command {
	var (
		num    int
		format kit.Format
	)
	cmd := &cobra.Command{
		Use:   "add-partitions TOPIC... --num N",
		Short: "Add N partitions to each topic (N more, not N in total, as rpk does)",
		Long: `Add partitions to existing topics. --num is how many to add to each
topic, as in rpk: a topic of 3 partitions given --num 2 has 5. Existing
records stay where they are, so a key may map to a different partition
from now on.`,
		Example:           `  samsa topic add-partitions greetings --num 3`,
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: kit.CompleteTopics,
		RunE: func(cmd *cobra.Command, topics []string) error {
			if num <= 0 {
				return errors.New("--num: give how many partitions to add, at least 1")
			}
			return kit.WithAdmin(cmd, func(ctx context.Context, adm *kadm.Client) error {
				resps, err := adm.CreatePartitions(ctx, num, topics...)
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
	cmd.Flags().IntVarP(&num, "num", "n", 0, "partitions to add to each topic (required)")
	cmd.MarkFlagRequired("num")
	kit.AddFormatFlag(cmd, &format)
	return cmd
}
