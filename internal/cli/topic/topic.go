// Package topic is `samsa topic`: create, list, describe, delete,
// alter-config and add-partitions, spelled as rpk spells them.
package topic

import "github.com/spf13/cobra"

// Command returns `samsa topic` and its verbs.
func Command() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "topic",
		Aliases: []string{"topics"},
		Short:   "Create, list, describe, change and delete topics",
		Args:    cobra.NoArgs,
	}
	cmd.AddCommand(
		createCommand(),
		listCommand(),
		describeCommand(),
		deleteCommand(),
		alterConfigCommand(),
		addPartitionsCommand(),
	)
	return cmd
}
