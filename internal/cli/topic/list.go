package topic

import (
	"context"
	"sort"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/samsa-io/samsa/internal/cli/kit"
)

// listed is one topic of `topic list --format json`.
type listed struct {
	Name       string `json:"name"`
	Partitions int    `json:"partitions"`
	Replicas   int    `json:"replicas"`
	Internal   bool   `json:"internal"`
}

func listCommand() *cobra.Command {
	var (
		internal bool
		format   kit.Format
	)
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List topics with their partition and replica counts",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return kit.WithAdmin(cmd, func(ctx context.Context, adm *kadm.Client) error {
				list := adm.ListTopics
				if internal {
					list = adm.ListTopicsWithInternal
				}
				details, err := list(ctx)
				if err != nil {
					return err
				}
				out := []listed{}
				for _, d := range details {
					l := listed{Name: d.Topic, Partitions: len(d.Partitions), Internal: d.IsInternal}
					for _, p := range d.Partitions {
						l.Replicas = max(l.Replicas, len(p.Replicas))
					}
					out = append(out, l)
				}
				sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
				if format == kit.JSON {
					return kit.WriteJSON(cmd.OutOrStdout(), out)
				}
				t := kit.NewTable(cmd.OutOrStdout(), "name", "partitions", "replicas")
				for _, l := range out {
					t.Row(l.Name, l.Partitions, l.Replicas)
				}
				return t.Flush()
			})
		},
	}
	cmd.Flags().BoolVarP(&internal, "internal", "i", false, "include internal topics (__consumer_offsets, ...)")
	kit.AddFormatFlag(cmd, &format)
	return cmd
}
