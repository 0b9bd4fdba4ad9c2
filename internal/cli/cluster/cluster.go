// Package cluster is `samsa cluster info`: what a client learns about the
// cluster from its metadata.
package cluster

import "github.com/spf13/cobra"

// Command returns `samsa cluster` and its verbs.
func Command() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "Show the cluster: id, controller, brokers",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(infoCommand())
	return cmd
}
