package broker

// A node's part in a cluster, from Kafka's KRaft config names:
// process.roles, controller.quorum.voters (id@host:port, the static voter
// set of KIP-595) and the controller listener named in
// controller.listener.names. A node with no voters configured is a cluster
// of one: it votes for itself and needs no controller listener.
//
// A broker-only node is not in controller.quorum.voters: it follows the
// metadata log as a Raft learner (KRaft's observer). The active controller
// adds it as a learner once its registration is committed, and the voters
// reach it on its Kafka listener, which tells the quorum's connections
// from Kafka's by their first bytes (controller_listener.go). A
// controller-only node has no Kafka listener for clients and never
// registers as a broker.

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/samsa-io/samsa/internal/config"
	"github.com/samsa-io/samsa/internal/raft"
)

// Voter is one member of the metadata quorum.
type Voter struct {
	ID   int32
	Addr string // its controller listener, host:port
}

// parseVoters reads controller.quorum.voters.
func parseVoters(list []string) ([]Voter, error) {
	var out []Voter
	for _, e := range list {
		id, addr, ok := strings.Cut(strings.TrimSpace(e), "@")
		n, err := strconv.ParseInt(id, 10, 32)
		if !ok || err != nil || n < 0 || addr == "" {
			return nil, fmt.Errorf("controller.quorum.voters: %q is not id@host:port", e)
		}
		if slices.ContainsFunc(out, func(v Voter) bool { return v.ID == int32(n) }) {
			return nil, fmt.Errorf("controller.quorum.voters: voter %d is listed twice", n)
		}
		out = append(out, Voter{ID: int32(n), Addr: addr})
	}
	return out, nil
}

// Roles is process.roles: a node is a broker (it holds partitions and
// serves clients), a controller (a voter of the metadata quorum), or both.
type Roles struct{ Broker, Controller bool }

// String is the roles as process.roles lists them.
func (r Roles) String() string {
	var out []string
	if r.Broker {
		out = append(out, "broker")
	}
	if r.Controller {
		out = append(out, "controller")
	}
	return strings.Join(out, ",")
}

// setCluster fills the cluster settings of cfg from the validated configs.
func setCluster(cfg *Config, v config.Values) error {
	// The catalog's validator allows only these two, and at least one.
	list := v.List("process.roles")
	roles := Roles{Broker: slices.Contains(list, "broker"), Controller: slices.Contains(list, "controller")}
	cfg.Roles = roles
	voters, err := parseVoters(v.List("controller.quorum.voters"))
	if err != nil {
		return err
	}
	bootstrap := v.List("controller.quorum.bootstrap.servers")
	listed := slices.ContainsFunc(voters, func(vt Voter) bool { return vt.ID == cfg.NodeID })
	switch {
	case roles.Controller && len(voters) == 0 && len(bootstrap) > 0:
		return fmt.Errorf("controller.quorum.bootstrap.servers without controller.quorum.voters: Samsa's controllers form a static voter set (KIP-595), listed in controller.quorum.voters; dynamic quorums (KIP-853) are not supported, though broker-only nodes may find the voters through the bootstrap servers")
	case roles.Controller && len(voters) > 0 && !listed:
		return fmt.Errorf("controller.quorum.voters %q does not list this node (node.id %d), which has the controller role", v.List("controller.quorum.voters"), cfg.NodeID)
	case !roles.Controller && len(voters) == 0 && len(bootstrap) == 0:
		return fmt.Errorf("process.roles=broker: a broker-only node needs controller.quorum.voters or controller.quorum.bootstrap.servers to find the controllers")
	case !roles.Controller && listed:
		return fmt.Errorf("controller.quorum.voters %q lists this node (node.id %d), which has no controller role", v.List("controller.quorum.voters"), cfg.NodeID)
	}
	if (len(voters) > 1 || !roles.Controller) && cfg.NodeID == 0 {
		return fmt.Errorf("node.id 0: a node of a cluster needs a node.id of at least 1 (the metadata quorum's ids start at 1)")
	}
	cfg.Voters = voters
	if len(voters) == 0 {
		cfg.Bootstrap = bootstrap
	}
	cfg.HeartbeatInterval = v.Duration("broker.heartbeat.interval.ms")
	cfg.SessionTimeout = v.Duration("broker.session.timeout.ms")
	cfg.ReplicaLagMax = v.Duration("replica.lag.time.max.ms")
	cfg.ElectionTimeout = v.Duration("controller.quorum.election.timeout.ms")
	cfg.UncleanLeaderElection = v.Bool("unclean.leader.election.enable")
	cfg.AutoLeaderRebalance = v.Bool("auto.leader.rebalance.enable")
	cfg.LeaderImbalanceCheckInterval = time.Duration(v.Long("leader.imbalance.check.interval.seconds")) * time.Second
	listeners, err := config.ParseListeners(v.List("listeners"))
	if err != nil {
		return err
	}
	for _, l := range listeners {
		if slices.ContainsFunc(v.List("controller.listener.names"), func(c string) bool { return strings.EqualFold(c, l.Name) }) {
			cfg.ControllerAddr = fmt.Sprintf("%s:%d", bracket(l.Host), l.Port)
			break
		}
	}
	// The catalog's validator has checked that a controller has a
	// controller listener and a broker-only node none.
	return nil
}

// clusterIDOf derives a cluster id from the voter set, so the nodes of a
// new cluster agree on it with no format step; Kafka's
// `kafka-storage format --cluster-id` sets it by hand instead.
func clusterIDOf(voters []Voter) string {
	ids := make([]string, len(voters))
	for i, v := range voters {
		ids[i] = fmt.Sprintf("%d@%s", v.ID, v.Addr)
	}
	slices.Sort(ids)
	sum := sha256.Sum256([]byte("samsa-cluster:" + strings.Join(ids, ",")))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// newTransport carries the quorum's messages to the other voters'
// controller listeners.
func (b *Broker) newTransport() (*raft.TCPTransport, error) {
	peers := map[uint64]string{}
	for _, v := range b.cfg.Voters {
		if v.ID != b.cfg.NodeID {
			peers[uint64(v.ID)] = v.Addr
		}
	}
	return raft.NewTCPTransport(raft.TCPConfig{
		ID: uint64(b.cfg.NodeID), ClusterID: b.meta.ClusterID, Peers: peers,
		Dial: b.dialer.DialContext, Logger: slog.New(minLevel{b.log.Handler(), slog.LevelWarn}),
	})
}
