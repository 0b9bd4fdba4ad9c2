package group

import (
	"context"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/samsa-io/samsa/internal/cli/kit"
)

func deleteCommand() *cobra.Command {
	var format kit.Format
	cmd := &cobra.Command{
		Use:     "delete GROUP...",
		Aliases: []string{"rm"},
		Short:   "Delete groups and their committed offsets (only groups without members)",
		Long: `Delete consumer groups and their committed offsets. As in Kafka, a group
with members is refused (NON_EMPTY_GROUP): stop its consumers first.
Each group's result is printed; the exit status is 1 if any failed.`,
		Example:           `  samsa group delete readers old-readers`,
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: kit.CompleteGroups,
		RunE: func(cmd *cobra.Command, groups []string) error {
			return kit.WithAdmin(cmd, func(ctx context.Context, adm *kadm.Client) error {
				resps, err := adm.DeleteGroups(ctx, groups...)
				if err != nil {
					return err
				}
				var rs []kit.Result
				for _, g := range groups {
					r, ok := resps[g]
					if !ok {
						continue // named twice
					}
					rs = append(rs, kit.NewResult(g, r.Err, r.ErrMessage))
					delete(resps, g)
				}
				return kit.PrintResults(cmd, format, "group", rs)
			})
		},
	}
	kit.AddFormatFlag(cmd, &format)
	return cmd
}
