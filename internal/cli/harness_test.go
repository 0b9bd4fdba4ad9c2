// Package cli_test runs the samsa client commands in-process against a
// live node (samsatest), as a user would type them, and checks what they
// print and what the broker then holds.
package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/samsa-io/samsa/internal/cli/cluster"
	cliconfig "github.com/samsa-io/samsa/internal/cli/config"
	"github.com/samsa-io/samsa/internal/cli/consume"
	"github.com/samsa-io/samsa/internal/cli/group"
	"github.com/samsa-io/samsa/internal/cli/kit"
	"github.com/samsa-io/samsa/internal/cli/produce"
	"github.com/samsa-io/samsa/internal/cli/topic"
	"github.com/samsa-io/samsa/samsatest"
)

// newRoot builds the command tree as cmd/samsa/main.go does, minus the
// server.
func newRoot() *cobra.Command {
	root := &cobra.Command{Use: "samsa", SilenceUsage: true, SilenceErrors: true}
	kit.AddRootFlags(root)
	root.AddCommand(topic.Command(), produce.Command(), consume.Command(), group.Command(), cliconfig.Command(), cluster.Command())
	return root
}

// result is what one command printed and returned.
type result struct {
	stdout, stderr string
	err            error
}

// cli runs commands against one set of brokers.
type cli struct {
	t       *testing.T
	brokers string // "" to leave --brokers out (SAMSA_BROKERS or the default)
}

func start(t *testing.T, opts ...samsatest.Option) (*samsatest.Node, *cli) {
	t.Helper()
	node := samsatestStart(t, opts...)
	return node, &cli{t: t, brokers: node.Addr()}
}

func samsatestStart(t *testing.T, opts ...samsatest.Option) *samsatest.Node {
	t.Helper()
	return samsatest.Start(t, opts...)
}

// quickGroups is a node option for group tests: the first member of a new
// group is not kept waiting for others (group.initial.rebalance.delay.ms).
func quickGroups() samsatest.Option {
	return samsatest.WithProps(map[string]string{"group.initial.rebalance.delay.ms": "0"})
}

// exec runs `samsa args...` with stdin and returns what it printed.
func (c *cli) exec(stdin string, args ...string) result {
	c.t.Helper()
	root := newRoot()
	if c.brokers != "" {
		args = append([]string{"--brokers", c.brokers}, args...)
	}
	root.SetArgs(args)
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetIn(strings.NewReader(stdin))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := root.ExecuteContext(ctx)
	if ctx.Err() != nil {
		c.t.Fatalf("samsa %s: still running after 20 s", strings.Join(args, " "))
	}
	return result{stdout: out.String(), stderr: errb.String(), err: err}
}

// ok runs a command that must succeed and returns its stdout.
func (c *cli) ok(stdin string, args ...string) string {
	c.t.Helper()
	r := c.exec(stdin, args...)
	if r.err != nil {
		c.t.Fatalf("samsa %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.err, r.stdout, r.stderr)
	}
	return r.stdout
}

// fails runs a command that must fail and returns its error text and
// stdout.
func (c *cli) fails(stdin string, args ...string) (string, string) {
	c.t.Helper()
	r := c.exec(stdin, args...)
	if r.err == nil {
		c.t.Fatalf("samsa %s succeeded, want an error\nstdout:\n%s", strings.Join(args, " "), r.stdout)
	}
	return r.err.Error(), r.stdout
}

// jsonOf runs a command with --format json and decodes its stdout into v.
func (c *cli) jsonOf(v any, args ...string) {
	c.t.Helper()
	out := c.ok("", append(args, "--format", "json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		c.t.Fatalf("samsa %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// Shapes of the JSON the commands print, as a script would read them.
type (
	listedTopic struct {
		Name       string `json:"name"`
		Partitions int    `json:"partitions"`
		Replicas   int    `json:"replicas"`
	}
	configEntry struct {
		Name   string  `json:"name"`
		Value  *string `json:"value"`
		Source string  `json:"source"`
	}
	describedPartition struct {
		Partition      int32   `json:"partition"`
		Leader         int32   `json:"leader"`
		Replicas       []int32 `json:"replicas"`
		ISR            []int32 `json:"isr"`
		LogStartOffset int64   `json:"log_start_offset"`
		HighWatermark  int64   `json:"high_watermark"`
	}
	describedTopic struct {
		Name       string               `json:"name"`
		ID         string               `json:"id"`
		Partitions []describedPartition `json:"partitions"`
		Configs    []configEntry        `json:"configs"`
	}
	consumedRecord struct {
		Topic     string  `json:"topic"`
		Partition int32   `json:"partition"`
		Offset    int64   `json:"offset"`
		Timestamp int64   `json:"timestamp"`
		Key       *string `json:"key"`
		Value     *string `json:"value"`
		Headers   []struct {
			Key   string  `json:"key"`
			Value *string `json:"value"`
		} `json:"headers"`
	}
	clusterInfo struct {
		ClusterID  string `json:"cluster_id"`
		Controller int32  `json:"controller"`
		Brokers    []struct {
			ID   int32   `json:"id"`
			Host string  `json:"host"`
			Port int32   `json:"port"`
			Rack *string `json:"rack"`
		} `json:"brokers"`
		Topics int `json:"topics"`
	}
)

func (c *cli) describe(topic string) describedTopic {
	c.t.Helper()
	var ds []describedTopic
	c.jsonOf(&ds, "topic", "describe", topic)
	if len(ds) != 1 || ds[0].Name != topic {
		c.t.Fatalf("topic describe %s: got %+v", topic, ds)
	}
	return ds[0]
}

func (d describedTopic) config(t *testing.T, name string) configEntry {
	t.Helper()
	for _, c := range d.Configs {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("topic %s has no config %s", d.Name, name)
	return configEntry{}
}

// consumeJSON consumes with --format json and decodes each line.
func (c *cli) consumeJSON(args ...string) []consumedRecord {
	c.t.Helper()
	out := c.ok("", append(append([]string{"consume"}, args...), "--format", "json")...)
	var recs []consumedRecord
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if line == "" {
			continue
		}
		var r consumedRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			c.t.Fatalf("consume --format json: line %q: %v", line, err)
		}
		recs = append(recs, r)
	}
	return recs
}

func str(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}
