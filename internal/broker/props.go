package broker

import (
	"fmt"
	"strings"
	"time"

	"github.com/samsa-io/samsa/internal/config"
)

// FromProperties validates broker configs by Kafka name (a
// server.properties file and overrides) against the catalog, reporting
// every unknown key and invalid value at once, and maps them onto a node's
// settings. cmd/samsa and samsatest both build their nodes with it.
func FromProperties(props map[string]string) (Config, error) {
	v, err := config.ValidateBroker(props)
	if err != nil {
		return Config{}, err
	}
	cfg := Config{
		NodeID:                    int32(v.Int("node.id")),
		DataDir:                   firstDir(v),
		MaxRequestSize:            int32(v.Int("socket.request.max.bytes")),
		IdleTimeout:               v.Duration("connections.max.idle.ms"),
		AutoCreateTopics:          v.Bool("auto.create.topics.enable"),
		DeleteTopicEnable:         v.Bool("delete.topic.enable"),
		DefaultPartitions:         int32(v.Int("num.partitions")),
		DefaultReplication:        int16(v.Int("default.replication.factor")),
		FetchSessionCacheSlots:    v.Int("max.incremental.fetch.session.cache.slots"),
		FetchMaxBytes:             int64(v.Int("fetch.max.bytes")),
		RetentionCheck:            v.Duration("log.retention.check.interval.ms"),
		CheckpointInterval:        v.Duration("log.flush.offset.checkpoint.interval.ms"),
		ProducerIDExpiration:      v.Duration("producer.id.expiration.ms"),
		ProducerIDExpirationCheck: v.Duration("producer.id.expiration.check.interval.ms"),
		MetricsAddr:               v.String("metrics.listen"),
		Props:                     props,
	}
	if v.Source("log.flush.scheduler.interval.ms") != config.SourceDefault {
		cfg.FlushCheck = v.Duration("log.flush.scheduler.interval.ms")
	}
	if rack, ok := v.Lookup("broker.rack"); ok {
		cfg.Rack = rack
	}
	if err := setCluster(&cfg, v); err != nil {
		return cfg, err
	}
	if err := setListener(&cfg, v); err != nil {
		return cfg, err
	}
	if cfg.FetchSessionCacheSlots == 0 {
		cfg.FetchSessionCacheSlots = -1 // Kafka's 0: no incremental sessions
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
func setListener(cfg *Config, v config.Values) error {
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
	if !cfg.Roles.Broker {
		return nil // a controller alone serves no clients
	}
	return fmt.Errorf("listeners %q: no client listener (every one is in controller.listener.names)", v.List("listeners"))
}

func setAdvertised(cfg *Config, adv string) error {
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
