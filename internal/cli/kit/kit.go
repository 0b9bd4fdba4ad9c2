// Package kit is what every samsa client command shares: where the brokers
// are (--brokers, SAMSA_BROKERS), connecting with an error that says what
// to do, --format text|json, tables, and topic-name completion.
//
// The commands are Kafka clients (franz-go kgo and kadm) and nothing else:
// they work against any Kafka-compatible broker and import no broker code.
// They write to cmd.OutOrStdout and cmd.ErrOrStderr and read
// cmd.InOrStdin, so a test runs them in-process with buffers.
package kit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// EnvBrokers is the environment variable naming the brokers when --brokers
// is not given.
const EnvBrokers = "SAMSA_BROKERS"

// DefaultBrokers is where a broker started by `samsa server` listens.
const DefaultBrokers = "localhost:9092"

// RequestTimeout bounds one command's admin requests.
const RequestTimeout = 15 * time.Second

// dialTimeout bounds connecting to one broker.
const dialTimeout = 5 * time.Second

// AddRootFlags adds the flags every client command inherits to the root
// command: --brokers.
func AddRootFlags(root *cobra.Command) {
	root.PersistentFlags().String("brokers", DefaultBrokers,
		"Kafka bootstrap brokers, comma separated host:port (env "+EnvBrokers+")")
}

// Brokers returns the seed brokers: --brokers if given, else SAMSA_BROKERS,
// else localhost:9092.
func Brokers(cmd *cobra.Command) []string {
	raw := DefaultBrokers
	f := cmd.Flags().Lookup("brokers")
	switch {
	case f != nil && f.Changed:
		raw = f.Value.String()
	case os.Getenv(EnvBrokers) != "":
		raw = os.Getenv(EnvBrokers)
	}
	var out []string
	for _, b := range strings.Split(raw, ",") {
		if b = strings.TrimSpace(b); b != "" {
			out = append(out, b)
		}
	}
	return out
}

// Client connects a Kafka client to the brokers with extra options and
// checks that one broker answers, so that an unreachable address fails at
// once with advice instead of after the client's retries.
func Client(cmd *cobra.Command, opts ...kgo.Opt) (*kgo.Client, error) {
	brokers := Brokers(cmd)
	if len(brokers) == 0 {
		return nil, errors.New("no brokers: give --brokers host:port or set " + EnvBrokers)
	}
	base := []kgo.Opt{
		kgo.SeedBrokers(brokers...),
		kgo.DialTimeout(dialTimeout),
		kgo.ClientID("samsa-cli"),
	}
	cl, err := kgo.NewClient(append(base, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("bad --brokers %q: %w", strings.Join(brokers, ","), err)
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), dialTimeout+2*time.Second)
	defer cancel()
	if err := cl.Ping(ctx); err != nil {
		cl.Close()
		return nil, unreachable(brokers, err)
	}
	return cl, nil
}

// Admin connects an admin client; close it with Close.
func Admin(cmd *cobra.Command) (*kadm.Client, error) {
	cl, err := Client(cmd)
	if err != nil {
		return nil, err
	}
	return kadm.NewClient(cl), nil
}

// WithAdmin runs fn with an admin client and the command's context bounded
// by RequestTimeout, and closes both after.
func WithAdmin(cmd *cobra.Command, fn func(ctx context.Context, adm *kadm.Client) error) error {
	adm, err := Admin(cmd)
	if err != nil {
		return err
	}
	defer adm.Close()
	ctx, cancel := Timeout(cmd)
	defer cancel()
	return fn(ctx, adm)
}

// Timeout is the command's context bounded by RequestTimeout.
func Timeout(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	return context.WithTimeout(cmd.Context(), RequestTimeout)
}

func unreachable(brokers []string, err error) error {
	which := "a broker at " + brokers[0]
	if len(brokers) > 1 {
		which = "any broker of " + strings.Join(brokers, ", ")
	}
	return fmt.Errorf("cannot reach %s: %v\n"+
		"  start one with `samsa server`, or point at yours with --brokers host:port or %s=host:port",
		which, err, EnvBrokers)
}
