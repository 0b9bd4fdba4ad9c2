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
