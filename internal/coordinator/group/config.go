package group

import (
	"crypto/rand"
	"fmt"
	"math"
	"time"
)

// Config holds the broker settings the classic coordinator obeys. The
// composition root fills it from the config catalog (Kafka's names are
// given with each field).
type Config struct {
	// InitialRebalanceDelay is group.initial.rebalance.delay.ms.
	InitialRebalanceDelay time.Duration
	// MinSessionTimeout and MaxSessionTimeout are group.min.session.timeout.ms
	// and group.max.session.timeout.ms.
	MinSessionTimeout, MaxSessionTimeout time.Duration
	// MaxSize is group.max.size.
	MaxSize int
	// NewMemberJoinTimeout bounds how long a new member's JoinGroup may wait
	// (Kafka's group.coordinator classic new-member join timeout, 5 minutes).
	NewMemberJoinTimeout time.Duration
	// OffsetsRetention is offsets.retention.minutes.
	OffsetsRetention time.Duration
	// OffsetMetadataMaxBytes is offset.metadata.max.bytes.
	OffsetMetadataMaxBytes int
	// ConsumerProtocol is whether group.coordinator.rebalance.protocols
	// includes "consumer" (KIP-848); without it ConsumerGroupHeartbeat and
	// ConsumerGroupDescribe answer UNSUPPORTED_VERSION, as in Kafka.
	ConsumerProtocol bool
	// ConsumerSessionTimeout and ConsumerHeartbeatInterval are
	// group.consumer.session.timeout.ms and group.consumer.heartbeat.interval.ms.
	ConsumerSessionTimeout, ConsumerHeartbeatInterval time.Duration
	// ConsumerMaxSize is group.consumer.max.size.
	ConsumerMaxSize int
	// ConsumerAssignors is group.consumer.assignors: server assignor names,
	// the first the default.
	ConsumerAssignors []string
	// RandomID returns the random suffix of new member ids (Kafka uses a
	// UUID). Tests inject a counter; nil means a random UUID.
	RandomID func() string
}

// DefaultConfig returns Kafka's defaults.
func DefaultConfig() Config {
	return Config{
		InitialRebalanceDelay:  3 * time.Second,
		MinSessionTimeout:      6 * time.Second,
		MaxSessionTimeout:      30 * time.Minute,
		MaxSize:                math.MaxInt32,
		NewMemberJoinTimeout:   5 * time.Minute,
		OffsetsRetention:       7 * 24 * time.Hour,
		OffsetMetadataMaxBytes: 4096,

		ConsumerProtocol:          true,
		ConsumerSessionTimeout:    45 * time.Second,
		ConsumerHeartbeatInterval: 5 * time.Second,
		ConsumerMaxSize:           math.MaxInt32,
		ConsumerAssignors:         []string{"uniform", "range"},
	}
}

// Validate reports settings Kafka would refuse.
func (c Config) Validate() error {
	switch {
	case c.InitialRebalanceDelay < 0:
		return fmt.Errorf("group: negative initial rebalance delay %v", c.InitialRebalanceDelay)
	case c.MinSessionTimeout <= 0 || c.MaxSessionTimeout < c.MinSessionTimeout:
		return fmt.Errorf("group: session timeout range [%v, %v] is empty", c.MinSessionTimeout, c.MaxSessionTimeout)
	case c.MaxSize < 1:
		return fmt.Errorf("group: group.max.size %d must be at least 1", c.MaxSize)
	case c.NewMemberJoinTimeout <= 0 || c.OffsetsRetention <= 0:
		return fmt.Errorf("group: join timeout and offset retention must be positive")
	case c.ConsumerSessionTimeout <= 0 || c.ConsumerHeartbeatInterval <= 0:
		return fmt.Errorf("group: consumer session timeout and heartbeat interval must be positive")
	case c.ConsumerHeartbeatInterval >= c.ConsumerSessionTimeout:
		return fmt.Errorf("group: group.consumer.heartbeat.interval.ms %v must be below group.consumer.session.timeout.ms %v",
			c.ConsumerHeartbeatInterval, c.ConsumerSessionTimeout)
	case c.ConsumerMaxSize < 1:
		return fmt.Errorf("group: group.consumer.max.size %d must be at least 1", c.ConsumerMaxSize)
	case len(c.ConsumerAssignors) == 0:
		return fmt.Errorf("group: group.consumer.assignors is empty")
	}
	for _, a := range c.ConsumerAssignors {
		if !KnownAssignor(a) {
			return fmt.Errorf("group: group.consumer.assignors: unknown assignor %q (Samsa has uniform and range)", a)
		}
	}
	return nil
}

func (c *Config) randomID() string {
	if c.RandomID != nil {
		return c.RandomID()
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
