// Package group is `samsa group`: list, describe, delete and
// reset-offsets of consumer groups, in the spirit of
// kafka-consumer-groups.sh and rpk group.
package group

import "github.com/spf13/cobra"

// Command returns `samsa group` and its verbs.
func Command() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "group",
		Aliases: []string{"groups"},
		Short:   "List, describe, delete consumer groups and reset their offsets",
		Args:    cobra.NoArgs,
	}
	cmd.AddCommand(
		listCommand(),
		describeCommand(),
		deleteCommand(),
		resetOffsetsCommand(),
	)
	return cmd
}
