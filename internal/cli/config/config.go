// Package config is `samsa config describe|set`: the configs of one broker,
// of the cluster-wide broker defaults, or of one topic, in the spirit of
// kafka-configs.sh.
package config

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/samsa-io/samsa/internal/cli/kit"
)

// Command returns `samsa config` and its verbs.
func Command() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Describe and set broker and topic configs",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(describeCommand(), setCommand())
	return cmd
}

// target is the resource a config command is about: exactly one of
// --broker ID, --broker-default or --topic NAME.
type target struct {
	broker        int32
	brokerDefault bool
	topic         string
}

func (t *target) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.Int32Var(&t.broker, "broker", -1, "the broker with this node id")
	f.BoolVar(&t.brokerDefault, "broker-default", false, "the cluster-wide default of every broker")
	f.StringVar(&t.topic, "topic", "", "the topic with this name")
	cmd.MarkFlagsMutuallyExclusive("broker", "broker-default", "topic")
	cmd.MarkFlagsOneRequired("broker", "broker-default", "topic")
	cmd.RegisterFlagCompletionFunc("topic", kit.CompleteTopics)
}

func (t *target) check(cmd *cobra.Command) error {
	if cmd.Flags().Changed("broker") && t.broker < 0 {
		return errors.New("--broker: give a broker's node id (see `samsa cluster info`), or --broker-default")
	}
	return nil
}

// brokerExists checks that --broker names a broker of the cluster, which
// the client needs to route the request at all.
func (t *target) brokerExists(ctx context.Context, adm *kadm.Client) error {
	if t.topic != "" || t.brokerDefault {
		return nil
	}
	md, err := adm.BrokerMetadata(ctx)
	if err != nil {
		return err
	}
	ids := make([]int32, 0, len(md.Brokers))
	for _, b := range md.Brokers {
		if b.NodeID == t.broker {
			return nil
		}
		ids = append(ids, b.NodeID)
	}
	return fmt.Errorf("no broker %d: the brokers are %s (see `samsa cluster info`)", t.broker, kit.Int32s(ids))
}

// kind names the resource type, as the table header and in JSON.
func (t *target) kind() string {
	if t.topic != "" {
		return "topic"
	}
	return "broker"
}

// name is the resource name on the wire: the topic, the broker id, or ""
// for the cluster-wide broker default.
func (t *target) name() string {
	switch {
	case t.topic != "":
		return t.topic
	case t.brokerDefault:
		return ""
	}
	return strconv.Itoa(int(t.broker))
}

// brokers is the broker argument to kadm: none for the cluster default.
func (t *target) brokers() []int32 {
	if t.brokerDefault {
		return nil
	}
	return []int32{t.broker}
}

func (t *target) String() string {
	switch {
	case t.topic != "":
		return fmt.Sprintf("topic %s", t.topic)
	case t.brokerDefault:
		return "the broker default"
	}
	return fmt.Sprintf("broker %d", t.broker)
}
