// Command samsa is Samsa's single binary: `samsa server` runs a node, and
// the other commands (topic, produce, consume, group, config, cluster, perf) are
// Kafka clients that work against any Kafka-compatible broker.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/samsa-io/samsa/internal/cli/cluster"
	cliconfig "github.com/samsa-io/samsa/internal/cli/config"
	"github.com/samsa-io/samsa/internal/cli/consume"
	"github.com/samsa-io/samsa/internal/cli/group"
	"github.com/samsa-io/samsa/internal/cli/kit"
	"github.com/samsa-io/samsa/internal/cli/perf"
	"github.com/samsa-io/samsa/internal/cli/produce"
	"github.com/samsa-io/samsa/internal/cli/topic"
)

func main() {
	root := &cobra.Command{
		Use:           "samsa",
		Short:         "Samsa: a Kafka-compatible event streaming platform in one binary",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	kit.AddRootFlags(root)
	root.AddCommand(serverCommand())
	root.AddCommand(topic.Command())
	root.AddCommand(produce.Command())
	root.AddCommand(consume.Command())
	root.AddCommand(group.Command())
	root.AddCommand(cliconfig.Command())
	root.AddCommand(cluster.Command())
	root.AddCommand(perf.Command())
	if err := root.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "samsa:", err)
		os.Exit(1)
	}
}
