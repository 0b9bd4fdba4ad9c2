// Command samsa is Samsa's single binary: `samsa server` runs a node; the
// client commands come with later issues.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	root := &cobra.Command{
		Use:           "samsa",
		Short:         "Samsa: a Kafka-compatible event streaming platform in one binary",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(serverCommand())
	if err := root.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "samsa:", err)
		os.Exit(1)
	}
}
