package main

import (
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/samsa-io/samsa/internal/broker"
	"github.com/samsa-io/samsa/internal/config"
)

func serverCommand() *cobra.Command {
	var configFile string
	var overrides []string
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run a Samsa node (broker and controller), by default on :9092 with data in ./data",
		Long: `Run a Samsa node. With no options it is a single node that is both broker
and controller, listening on PLAINTEXT://:9092 with its data in ./data and
Prometheus metrics on :9644.

Settings use Kafka's config names, from a server.properties file (--config)
and from --override key=value (repeatable, applied after the file). An
unknown key or an invalid value stops the start with an error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			props, err := loadProps(configFile, overrides)
			if err != nil {
				return err
			}
			return runServer(props)
		},
	}
	cmd.Flags().StringVarP(&configFile, "config", "c", "", "a server.properties file with Kafka config names")
	cmd.Flags().StringArrayVarP(&overrides, "override", "o", nil, "a config as key=value, overriding the file (repeatable)")
	return cmd
}

// loadProps reads the properties file, then applies the overrides.
func loadProps(file string, overrides []string) (map[string]string, error) {
	props := map[string]string{}
	if file != "" {
		f, err := os.Open(file)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if props, err = config.ParseProperties(f); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
	}
	for _, o := range overrides {
		k, v, ok := strings.Cut(o, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("--override %q: want key=value", o)
		}
		props[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return props, nil
}

func runServer(props map[string]string) error {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	cfg, err := broker.FromProperties(props)
	if err != nil {
		return err
	}
	cfg.Logger = logger
	b, err := broker.Start(cfg)
	if err != nil {
		return err
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	s := <-sig
	logger.Info("shutting down", "signal", s.String())
	return b.Close()
}
