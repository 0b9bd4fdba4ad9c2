package log

import (
	"errors"
	"fmt"
	"time"
)

// Config is one partition log's configuration. Each field names the Kafka
// topic config it implements; the broker's config catalog maps Kafka names
// and units onto it. Durations below zero mean "unlimited", as -1 does in
// Kafka.
type Config struct {
	// SegmentBytes (segment.bytes): roll when a batch would take the active
	// segment past this size.
	SegmentBytes int64
	// SegmentAge (segment.ms): roll a non-empty segment this long after it
	// was created.
	SegmentAge time.Duration
	// SegmentIndexBytes (segment.index.bytes): roll when the offset or time
	// index would exceed this size.
	SegmentIndexBytes int
	// IndexIntervalBytes (index.interval.bytes): bytes of log between two
	// index entries.
	IndexIntervalBytes int
	// Retention (retention.ms): delete segments whose newest timestamp is
	// older than this. Negative: keep forever.
	Retention time.Duration
	// RetentionBytes (retention.bytes): delete the oldest segments while the
	// log is larger than this. Negative: no limit.
	RetentionBytes int64
	// Delete and Compact (cleanup.policy): which of the two cleanup policies
	// apply; both is "compact,delete".
	Delete, Compact bool
	// DeleteRetention (delete.retention.ms): how long a tombstone survives
	// once compaction has seen it.
	DeleteRetention time.Duration
	// MinCleanableDirtyRatio (min.cleanable.dirty.ratio): clean only when
	// dirty bytes / cleanable bytes reaches this.
	MinCleanableDirtyRatio float64
	// MinCompactionLag (min.compaction.lag.ms): never clean a segment with
	// records younger than this.
	MinCompactionLag time.Duration
	// MaxMessageBytes (max.message.bytes): the largest batch accepted.
	MaxMessageBytes int
	// LogAppendTime (message.timestamp.type=LogAppendTime): the broker stamps
	// each batch with its append time.
	LogAppendTime bool
	// TimestampAfterMax and TimestampBeforeMax
	// (message.timestamp.after.max.ms, message.timestamp.before.max.ms):
	// with CreateTime, how far ahead of and behind the broker's clock a
	// batch's timestamps may be. Negative: no limit. The batch header's
	// largest and first timestamps are checked (records are not decoded).
	TimestampAfterMax, TimestampBeforeMax time.Duration
	// FsyncOnAck: an Append returns only once its batch is durable, sharing
	// fsyncs with concurrent appenders (group commit). This is Samsa's
	// default. When false, Kafka's page-cache mode applies and FlushMessages
	// / FlushInterval decide when to fsync.
	FsyncOnAck bool
	// FlushMessages (flush.messages): in page-cache mode, fsync once this
	// many records are unflushed. Zero or negative: never by count.
	FlushMessages int64
	// FlushInterval (flush.ms): in page-cache mode, MaybeFlush fsyncs when
	// the oldest unflushed append is this old. Negative: never by time.
	FlushInterval time.Duration
	// VerifyOnRead checks every batch's CRC before serving it, so damage
	// below the recovery point (which recovery does not rescan) is reported
	// rather than served. Off by default, as in Kafka, which does not verify
	// on fetch either: a fetch then sends batches from the segment file with
	// sendfile(2) (ReadRegion), never reading them, and the clients check
	// every CRC (franz-go always, Java's check.crcs defaults to true). On,
	// a fetch reads, verifies and copies the batches instead (Read),
	// which cost about a third of the broker's CPU per MB consumed.
	VerifyOnRead bool
	// MaxDecompressedBytes caps what one batch may decompress to when a
	// feature (compaction, timestamp lookup) must decode it.
	MaxDecompressedBytes int
}

// DefaultConfig returns Kafka's topic defaults, with Samsa's fsync-on-ack
// durability.
func DefaultConfig() Config {
	return Config{
		SegmentBytes:           1 << 30,
		SegmentAge:             7 * 24 * time.Hour,
		SegmentIndexBytes:      10 << 20,
		IndexIntervalBytes:     4096,
		Retention:              7 * 24 * time.Hour,
		RetentionBytes:         -1,
		Delete:                 true,
		DeleteRetention:        24 * time.Hour,
		MinCleanableDirtyRatio: 0.5,
		MaxMessageBytes:        1048588,
		TimestampAfterMax:      time.Hour,
		TimestampBeforeMax:     -1,
		FsyncOnAck:             true,
		FlushInterval:          -1,
		VerifyOnRead:           false,
		MaxDecompressedBytes:   64 << 20,
	}
}

// ErrConfig marks an invalid configuration.
var ErrConfig = errors.New("log: invalid config")

// Validate reports the first invalid field.
func (c *Config) Validate() error {
	switch {
	case c.SegmentBytes < HeaderSizeMin || c.SegmentBytes > 1<<31-1:
		return fmt.Errorf("%w: segment.bytes %d outside [%d, %d]", ErrConfig, c.SegmentBytes, HeaderSizeMin, 1<<31-1)
	case c.SegmentAge <= 0:
		return fmt.Errorf("%w: segment.ms must be positive", ErrConfig)
	case c.SegmentIndexBytes < timeEntrySize:
		return fmt.Errorf("%w: segment.index.bytes %d below %d", ErrConfig, c.SegmentIndexBytes, timeEntrySize)
	case c.IndexIntervalBytes < 0:
		return fmt.Errorf("%w: index.interval.bytes must not be negative", ErrConfig)
	case !c.Delete && !c.Compact:
		return fmt.Errorf("%w: cleanup.policy needs delete, compact or both", ErrConfig)
	case c.MinCleanableDirtyRatio < 0 || c.MinCleanableDirtyRatio > 1:
		return fmt.Errorf("%w: min.cleanable.dirty.ratio %v outside [0, 1]", ErrConfig, c.MinCleanableDirtyRatio)
	case c.MaxMessageBytes <= 0:
		return fmt.Errorf("%w: max.message.bytes must be positive", ErrConfig)
	case c.MaxDecompressedBytes <= 0:
		return fmt.Errorf("%w: the decompression cap must be positive", ErrConfig)
	}
	return nil
}

// HeaderSizeMin is the smallest useful segment.bytes: one batch header
// (Kafka's own floor is 14 bytes of legacy message overhead).
const HeaderSizeMin = 61
