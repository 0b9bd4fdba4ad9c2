package broker

import (
	"fmt"
	"log/slog"
	stdnet "net"
	"time"

	"github.com/samsa-io/samsa/internal/vfs"
)

// Config is what a node needs to start. cmd/samsa builds it from Kafka's
// config names (server.properties and flags); tests build it directly.
type Config struct {
	NodeID  int32
	DataDir string // log.dirs (one directory)
	// ListenAddr is the Kafka listener's host:port; Listener, when set, is
	// an already bound socket used instead (tests on port 0).
	ListenAddr     string
	Listener       stdnet.Listener
	ListenerName   string // "PLAINTEXT"
	AdvertisedHost string // default: the listen host, or localhost for a wildcard
	AdvertisedPort int    // default: the bound port
	Rack           string

	// Roles is process.roles; the zero value is broker,controller.
	Roles Roles
	// Voters is controller.quorum.voters; empty for a cluster of one, and
	// for a broker-only node given Bootstrap instead.
	Voters []Voter
	// Bootstrap is controller.quorum.bootstrap.servers: where a broker-only
	// node with no Voters asks for the voter set (KIP-853's discovery).
	Bootstrap []string
	// ControllerAddr is the controller listener's host:port, and
	// ControllerListener, when set, an already bound socket for it.
	ControllerAddr     string
	ControllerListener stdnet.Listener
	HeartbeatInterval  time.Duration // broker.heartbeat.interval.ms
	SessionTimeout     time.Duration // broker.session.timeout.ms
	ReplicaLagMax      time.Duration // replica.lag.time.max.ms
	ElectionTimeout    time.Duration // controller.quorum.election.timeout.ms
	// DialMap rewrites the addresses this node dials to reach other nodes
	// (a fault-injection seam: dial.go).
	DialMap map[string]string
	// Dial, when set, dials other nodes instead of a net.Dialer (after
	// DialMap's rewrites): a test seam, as DialMap.
	Dial DialFunc
	// UncleanLeaderElection is unclean.leader.election.enable.
	UncleanLeaderElection bool
	// AutoLeaderRebalance is auto.leader.rebalance.enable, checked every
	// LeaderImbalanceCheckInterval (leader.imbalance.check.interval.seconds).
	AutoLeaderRebalance          bool
	LeaderImbalanceCheckInterval time.Duration

	// MetricsAddr serves /metrics; empty disables it.
	MetricsAddr string

	MaxRequestSize         int32         // socket.request.max.bytes
	IdleTimeout            time.Duration // connections.max.idle.ms
	AutoCreateTopics       bool          // auto.create.topics.enable
	DeleteTopicEnable      bool          // delete.topic.enable
	DefaultPartitions      int32         // num.partitions
	DefaultReplication     int16         // default.replication.factor
	FetchSessionCacheSlots int           // max.incremental.fetch.session.cache.slots; 0: 1000, negative: none (Kafka's 0)
	FetchMaxBytes          int64         // fetch.max.bytes; 0: 55 MiB
	RetentionCheck         time.Duration // log.retention.check.interval.ms
	CheckpointInterval     time.Duration // log.flush.offset.checkpoint.interval.ms
	FlushCheck             time.Duration // log.flush.scheduler.interval.ms
	// ProducerIDExpiration is producer.id.expiration.ms, checked every
	// ProducerIDExpirationCheck (producer.id.expiration.check.interval.ms).
	ProducerIDExpiration      time.Duration
	ProducerIDExpirationCheck time.Duration

	// Props are the static broker configs by Kafka name (the validated
	// server.properties and flags): topic defaults come from them, and
	// DescribeConfigs shows them as STATIC_BROKER_CONFIG.
	Props map[string]string

	FS     vfs.FS
	Logger *slog.Logger
	Now    func() time.Time
}

// fill applies defaults to unset fields.
func (c *Config) fill() error {
	if c.NodeID < 0 {
		return fmt.Errorf("broker: node.id %d is negative", c.NodeID)
	}
	if c.DataDir == "" {
		return fmt.Errorf("broker: no log directory")
	}
	if c.Roles == (Roles{}) {
		c.Roles = Roles{Broker: true, Controller: true}
	}
	if c.ListenAddr == "" && c.Listener == nil && c.Roles.Broker {
		c.ListenAddr = ":9092"
	}
	if c.ListenerName == "" {
		c.ListenerName = "PLAINTEXT"
	}
	if c.AdvertisedHost == "" {
		c.AdvertisedHost = advertisedHost(c.ListenAddr, c.Listener)
	}
	setDefault(&c.MaxRequestSize, 104857600)
	setDefault(&c.IdleTimeout, 10*time.Minute)
	setDefault(&c.DefaultPartitions, 1)
	setDefault(&c.DefaultReplication, 1)
	setDefault(&c.FetchSessionCacheSlots, 1000)
	setDefault(&c.RetentionCheck, 5*time.Minute)
	setDefault(&c.CheckpointInterval, time.Minute)
	setDefault(&c.FlushCheck, time.Second)
	setDefault(&c.ProducerIDExpiration, 24*time.Hour)
	setDefault(&c.ProducerIDExpirationCheck, 10*time.Minute)
	setDefault(&c.HeartbeatInterval, 2*time.Second)
	setDefault(&c.SessionTimeout, 9*time.Second)
	setDefault(&c.ReplicaLagMax, 30*time.Second)
	setDefault(&c.ElectionTimeout, time.Second)
	if c.FS == nil {
		c.FS = vfs.OS
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Props == nil {
		c.Props = map[string]string{}
	}
	return nil
}

func setDefault[T comparable](p *T, v T) {
	var zero T
	if *p == zero {
		*p = v
	}
}

// advertisedHost is the listen host, or localhost when the listener binds
// every interface: an address clients on this host can reach.
func advertisedHost(listenAddr string, ln stdnet.Listener) string {
	addr := listenAddr
	if ln != nil {
		addr = ln.Addr().String()
	}
	host, _, err := stdnet.SplitHostPort(addr)
	if err != nil || host == "" || host == "0.0.0.0" || host == "::" {
		return "localhost"
	}
	return host
}
