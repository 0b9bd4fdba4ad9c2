package main

import (
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

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
	cfg, err := brokerConfig(props)
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

// brokerConfig validates props against the catalog and maps them onto the
// node's settings.
func brokerConfig(props map[string]string) (broker.Config, error) {
	v, err := config.ValidateBroker(props)
	if err != nil {
		return broker.Config{}, err
	}
	cfg := broker.Config{
		NodeID:                 int32(v.Int("node.id")),
		DataDir:                firstDir(v),
		MaxRequestSize:         int32(v.Int("socket.request.max.bytes")),
		IdleTimeout:            v.Duration("connections.max.idle.ms"),
		AutoCreateTopics:       v.Bool("auto.create.topics.enable"),
		DeleteTopicEnable:      v.Bool("delete.topic.enable"),
		DefaultPartitions:      int32(v.Int("num.partitions")),
		DefaultReplication:     int16(v.Int("default.replication.factor")),
		FetchSessionCacheSlots: v.Int("max.incremental.fetch.session.cache.slots"),
		RetentionCheck:         v.Duration("log.retention.check.interval.ms"),
		CheckpointInterval:     v.Duration("log.flush.offset.checkpoint.interval.ms"),
		MetricsAddr:            v.String("metrics.listen"),
		Props:                  props,
	}
	if v.Source("log.flush.scheduler.interval.ms") != config.SourceDefault {
		cfg.FlushCheck = v.Duration("log.flush.scheduler.interval.ms")
	}
	if rack, ok := v.Lookup("broker.rack"); ok {
		cfg.Rack = rack
	}
	if err := setListener(&cfg, v); err != nil {
		return cfg, err
	}
	if cfg.IdleTimeout < 0 {
		cfg.IdleTimeout = time.Duration(-1)
	}
	return cfg, nil
}

func firstDir(v config.Values) string {
	if dirs := v.List("log.dirs"); len(dirs) > 0 {
		return dirs[0]
	}
	return v.String("log.dir")
}

// setListener picks the client listener (the first one not named in
// controller.listener.names) and its advertised address.
func setListener(cfg *broker.Config, v config.Values) error {
	listeners, err := config.ParseListeners(v.List("listeners"))
	if err != nil {
		return err
	}
	controllers := map[string]bool{}
	for _, n := range v.List("controller.listener.names") {
		controllers[strings.ToUpper(n)] = true
	}
	for _, l := range listeners {
		if controllers[l.Name] {
			continue
		}
		cfg.ListenerName = l.Name
		cfg.ListenAddr = fmt.Sprintf("%s:%d", bracket(l.Host), l.Port)
		if adv, ok := v.Lookup("advertised.listeners"); ok {
			return setAdvertised(cfg, adv)
		}
		return nil
	}
	return fmt.Errorf("listeners %q: no client listener (every one is in controller.listener.names)", v.List("listeners"))
}

func setAdvertised(cfg *broker.Config, adv string) error {
	listeners, err := config.ParseListeners(strings.Split(adv, ","))
	if err != nil {
		return fmt.Errorf("advertised.listeners: %w", err)
	}
	for _, l := range listeners {
		if l.Name == cfg.ListenerName {
			cfg.AdvertisedHost, cfg.AdvertisedPort = l.Host, l.Port
			return nil
		}
	}
	return fmt.Errorf("advertised.listeners %q has no %s listener", adv, cfg.ListenerName)
}

func bracket(host string) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]"
	}
	return host
}
