// Package controller is the active controller: it validates admin
// operations against the current metadata image, chooses placements, and
// turns each operation into metadata records proposed through the quorum.
//
// Kafka's KRaft controller (KIP-500, KIP-631) is the model: the controller
// is the only writer of the metadata log, an operation's records form one
// entry (all or nothing), and an operation returns once its entry is
// committed and applied to the image, so the caller reads its own write.
// Operations are serialized by one lock, so validation and proposal see
// the same image (no two CreateTopics of one name both pass).
package controller

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/internal/metadata"
)

// Proposer appends an entry to the metadata log and returns once it is
// committed and applied to the image the controller reads.
type Proposer interface {
	Propose(ctx context.Context, data []byte) (uint64, error)
}

// Config holds the broker settings the controller applies.
type Config struct {
	// DefaultPartitions is num.partitions, used when a request asks for -1.
	DefaultPartitions int32
	// DefaultReplicationFactor is default.replication.factor.
	DefaultReplicationFactor int16
	// DeleteTopicEnable is delete.topic.enable.
	DeleteTopicEnable bool
	// ValidateTopicConfigs checks a topic's config overrides (names and
	// values); nil accepts everything.
	ValidateTopicConfigs func(map[string]*string) error
	// ValidateBrokerConfigs checks dynamic broker config changes.
	ValidateBrokerConfigs func(map[string]*string) error
	// DescribeNewTopic lists a new topic's effective configs for the
	// CreateTopics response (v5+, KIP-525); nil leaves the list empty.
	DescribeNewTopic func(overrides map[string]*string) []kmsg.CreateTopicsResponseTopicConfig

	// ClusterID, when set, must match BrokerRegistration requests'
	// (INCONSISTENT_CLUSTER_ID).
	ClusterID string
	// Now is the clock of broker sessions; nil is time.Now.
	Now func() time.Time
	// SessionTimeout is broker.session.timeout.ms: a broker without a
	// heartbeat for longer is fenced by Tick. 0 is Kafka's 9 s.
	SessionTimeout time.Duration
	// MinInsyncReplicas is a topic's min.insync.replicas, for its eligible
	// leader replicas (change.go); nil is 1 for every topic.
	MinInsyncReplicas func(im *metadata.Image, topic string) int
	// UncleanLeaderElection is the static unclean.leader.election.enable,
	// used when neither the topic nor the cluster-wide dynamic config sets
	// it.
	UncleanLeaderElection bool
	// AutoLeaderRebalance is auto.leader.rebalance.enable (Kafka's default
	// is true; pass it, the zero value is off).
	AutoLeaderRebalance bool
	// LeaderImbalanceCheckInterval is leader.imbalance.check.interval.seconds;
	// 0 is Kafka's 300 s.
	LeaderImbalanceCheckInterval time.Duration
	// UncleanElectionInterval is how often Tick elects leaders uncleanly
	// for leaderless partitions whose topic allows it (Kafka's internal
	// unclean.leader.election.interval.ms); 0 is Kafka's 5 min. A change
	// of unclean.leader.election.enable brings the next check forward to
	// the next Tick.
	UncleanElectionInterval time.Duration
	// Rand drives replica placement; nil seeds one at random.
	Rand *rand.Rand
}

func (cfg *Config) setDefaults() {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SessionTimeout <= 0 {
		cfg.SessionTimeout = 9 * time.Second
	}
	if cfg.LeaderImbalanceCheckInterval <= 0 {
		cfg.LeaderImbalanceCheckInterval = 300 * time.Second
	}
	if cfg.MinInsyncReplicas == nil {
		cfg.MinInsyncReplicas = func(*metadata.Image, string) int { return 1 }
	}
	if cfg.UncleanElectionInterval <= 0 {
		cfg.UncleanElectionInterval = 5 * time.Minute
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
}

// Controller serializes admin operations and proposes their records.
type Controller struct {
	cfg   Config
	store *metadata.Store
	prop  Proposer

	mu sync.Mutex // one operation at a time: validate and propose on one image
	// sessions are the brokers' heartbeat sessions, kept in memory only
	// (Kafka's BrokerHeartbeatManager); guarded by mu.
	sessions map[int32]*session
	// nextRebalance is when Tick next checks leader imbalance, and
	// nextUnclean when it next elects leaderless partitions uncleanly (zero:
	// at the next Tick); guarded by mu.
	nextRebalance time.Time
	nextUnclean   time.Time
}

// New returns a controller over the store the proposer applies to.
func New(cfg Config, store *metadata.Store, prop Proposer) *Controller {
	cfg.setDefaults()
	return &Controller{cfg: cfg, store: store, prop: prop, sessions: map[int32]*session{}}
}

// Error is an operation's failure with its Kafka error code.
type Error struct {
	Code *kerr.Error
	Msg  string
}

func (e *Error) Error() string { return e.Code.Message + ": " + e.Msg }

// Unwrap lets errors.Is match the kerr value.
func (e *Error) Unwrap() error { return e.Code }

func errorf(code *kerr.Error, format string, args ...any) *Error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// Code returns the Kafka error code of err: 0 for nil, the code of a
// controller Error or a kerr value, else UNKNOWN_SERVER_ERROR (-1).
func Code(err error) int16 {
	if err == nil {
		return 0
	}
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Code
	}
	return kerr.UnknownServerError.Code
}

// propose encodes records as one entry and waits for it to apply.
func (c *Controller) propose(ctx context.Context, recs []metadata.Record) error {
	_, err := c.proposeAt(ctx, recs)
	return err
}

// proposeAt is propose that also returns the entry's log index (the
// image's index when there is nothing to propose).
func (c *Controller) proposeAt(ctx context.Context, recs []metadata.Record) (uint64, error) {
	if len(recs) == 0 {
		return c.store.Image().Index, nil
	}
	index, err := c.prop.Propose(ctx, metadata.Encode(recs))
	if err != nil {
		if ctx.Err() != nil {
			return 0, errorf(kerr.RequestTimedOut, "%v", err)
		}
		return 0, errorf(kerr.NotController, "metadata quorum: %v", err)
	}
	// Validation makes this unreachable, but an entry the image refused
	// changed nothing, and the caller must not hear otherwise.
	if err := c.store.RejectedAt(index); err != nil {
		return 0, errorf(kerr.InvalidRequest, "%v", err)
	}
	return index, nil
}

// planEach plans every item against one image, under the operation lock,
// and proposes the records of those that pass as one entry. Each item gets
// its own error, or the proposal's when that fails; with validateOnly
// nothing is proposed.
func planEach[T any](c *Controller, ctx context.Context, items []T, validateOnly bool,
	plan func(*metadata.Image, T) ([]metadata.Record, error)) []error {
	c.mu.Lock()
	defer c.mu.Unlock()
	im := c.store.Image()
	out := make([]error, len(items))
	var recs []metadata.Record
	for i, it := range items {
		r, err := plan(im, it)
		if out[i] = err; err == nil {
			recs = append(recs, r...)
		}
	}
	if validateOnly {
		return out
	}
	if err := c.propose(ctx, recs); err != nil {
		for i := range out {
			if out[i] == nil {
				out[i] = err
			}
		}
	}
	return out
}

// RegisterBroker records a broker's registration (listeners, rack) as
// given, unfenced unless b.Fenced: the single node's own registration,
// which needs no heartbeats until Tick runs. Brokers of a cluster use
// KafkaBrokerRegistration. The epoch grows with every registration (0,
// then one more each time).
func (c *Controller) RegisterBroker(ctx context.Context, b metadata.BrokerRecord) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	b.Epoch = 0
	if old, ok := c.store.Image().Broker(b.ID); ok {
		b.Epoch = old.Epoch + 1
	}
	b.RegisteredAt = 0
	return c.propose(ctx, []metadata.Record{{Broker: &b}})
}
