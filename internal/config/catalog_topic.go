package config

import (
	"errors"
	"math"
	"strconv"
	"strings"
)

// Unit factors from a synonym's unit to milliseconds.
const (
	minuteMs = 60 * 1000
	hourMs   = 60 * minuteMs
)

const maxLong = "9223372036854775807" // Kafka's Long.MAX_VALUE default: "never"

// syn lists broker synonyms of the same unit.
func syn(names ...string) []Synonym {
	out := make([]Synonym, len(names))
	for i, n := range names {
		out[i] = Synonym{Name: n, Factor: 1}
	}
	return out
}

// compressionTypes are the values of compression.type, topic and broker.
var compressionTypes = []string{"uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"}

// topicDefs lists every topic-level config of Kafka 4.2 (its generated
// topic_config table), each with its server default synonyms in Kafka's
// precedence order. Not included: max.decompressed.message.bytes, which is
// on Kafka's trunk but not in 4.2.
func topicDefs() []Def {
	return []Def{
		{Name: "cleanup.policy", Type: TypeList, Default: "delete", HasDefault: true,
			Validator: EachOf("compact", "delete"), Importance: Medium,
			Synonyms: syn("log.cleanup.policy"),
			Doc:      `The retention policy of the log segments: "delete" discards old segments past the retention time or size, "compact" keeps the latest record of each key, "compact,delete" does both. An empty list applies no cleanup: segments are kept forever.`},
		{Name: "compression.gzip.level", Type: TypeInt, Default: "-1", HasDefault: true,
			Validator: AnyOf(Between(1, 9), Exactly(-1)), Importance: Medium,
			Synonyms: syn("compression.gzip.level"),
			Doc:      "The compression level when compression.type is gzip; -1 is the codec's default level."},
		{Name: "compression.lz4.level", Type: TypeInt, Default: "9", HasDefault: true,
			Validator: Between(1, 17), Importance: Medium,
			Synonyms: syn("compression.lz4.level"),
			Doc:      "The compression level when compression.type is lz4."},
		{Name: "compression.type", Type: TypeString, Default: "producer", HasDefault: true,
			Validator: OneOf(compressionTypes...), Importance: Medium,
			Synonyms: syn("compression.type"),
			Doc:      `The compression of batches as stored: gzip, snappy, lz4 or zstd; "uncompressed" for none; "producer" keeps whatever codec the producer used.`},
		{Name: "compression.zstd.level", Type: TypeInt, Default: "3", HasDefault: true,
			Validator: Between(-131072, 22), Importance: Medium,
			Synonyms: syn("compression.zstd.level"),
			Doc:      "The compression level when compression.type is zstd."},
		{Name: "delete.retention.ms", Type: TypeLong, Default: "86400000", HasDefault: true,
			Validator: AtLeast(0), Importance: Medium,
			Synonyms: syn("log.cleaner.delete.retention.ms"),
			Doc:      "How long delete tombstones stay in a compacted log; also how long a consumer reading from the start has to finish for a consistent snapshot."},
		{Name: "file.delete.delay.ms", Type: TypeLong, Default: "60000", HasDefault: true,
			Validator: AtLeast(0), Importance: Medium,
			Synonyms: syn("log.segment.delete.delay.ms"),
			Doc:      "How long a deleted segment's files wait before they are removed from the file system."},
		{Name: "flush.messages", Type: TypeLong, Default: maxLong, HasDefault: true,
			Validator: AtLeast(1), Importance: Medium,
			Synonyms: syn("log.flush.interval.messages"),
			Doc:      "Force an fsync of the log after this many messages."},
		{Name: "flush.ms", Type: TypeLong, Default: maxLong, HasDefault: true,
			Validator: AtLeast(0), Importance: Medium,
			Synonyms: syn("log.flush.interval.ms", "log.flush.scheduler.interval.ms"),
			Doc:      "Force an fsync of the log when this many milliseconds passed since the last one."},
		{Name: "follower.replication.throttled.replicas", Type: TypeList, Default: "", HasDefault: true,
			Validator: throttledReplicas, Importance: Medium,
			Doc: `Replicas whose replication is throttled on the follower side, as partition:broker pairs ("0:101,1:102"), or "*" for all of the topic's replicas.`},
		{Name: "index.interval.bytes", Type: TypeInt, Default: "4096", HasDefault: true,
			Validator: AtLeast(0), Importance: Medium,
			Synonyms: syn("log.index.interval.bytes"),
			Doc:      "How many bytes of log go between two entries of the offset index (and, when timestamps grow, the time index)."},
		{Name: "leader.replication.throttled.replicas", Type: TypeList, Default: "", HasDefault: true,
			Validator: throttledReplicas, Importance: Medium,
			Doc: `Replicas whose replication is throttled on the leader side, as partition:broker pairs ("0:101,1:102"), or "*" for all of the topic's replicas.`},
		{Name: "local.retention.bytes", Type: TypeLong, Default: "-2", HasDefault: true,
			Validator: AtLeast(-2), Importance: Medium,
			Synonyms: syn("log.local.retention.bytes"),
			Doc:      "With tiered storage, the size of a partition's local segments before they are deleted; -2 means retention.bytes. Samsa has no tiered storage."},
		{Name: "local.retention.ms", Type: TypeLong, Default: "-2", HasDefault: true,
			Validator: AtLeast(-2), Importance: Medium,
			Synonyms: syn("log.local.retention.ms"),
			Doc:      "With tiered storage, how long local segments are kept; -2 means retention.ms. Samsa has no tiered storage."},
		{Name: "max.compaction.lag.ms", Type: TypeLong, Default: maxLong, HasDefault: true,
			Validator: AtLeast(1), Importance: Medium,
			Synonyms: syn("log.cleaner.max.compaction.lag.ms"),
			Doc:      "The longest time a record may stay uncompacted in a compacted log."},
		{Name: "max.message.bytes", Type: TypeInt, Default: "1048588", HasDefault: true,
			Validator: AtLeast(0), Importance: Medium,
			Synonyms: syn("message.max.bytes"),
			Doc:      "The largest record batch the topic accepts, after compression."},
		{Name: "message.timestamp.after.max.ms", Type: TypeLong, Default: "3600000", HasDefault: true,
			Validator: AtLeast(0), Importance: Medium,
			Synonyms: syn("log.message.timestamp.after.max.ms"),
			Doc:      "With CreateTime, how far a record's timestamp may be ahead of the broker's clock before the batch is rejected."},
		{Name: "message.timestamp.before.max.ms", Type: TypeLong, Default: maxLong, HasDefault: true,
			Validator: AtLeast(0), Importance: Medium,
			Synonyms: syn("log.message.timestamp.before.max.ms"),
			Doc:      "With CreateTime, how far a record's timestamp may be behind the broker's clock before the batch is rejected."},
		{Name: "message.timestamp.type", Type: TypeString, Default: "CreateTime", HasDefault: true,
			Validator: OneOf("CreateTime", "LogAppendTime"), Importance: Medium,
			Synonyms: syn("log.message.timestamp.type"),
			Doc:      "Whether record timestamps are the producer's (CreateTime) or the broker's append time (LogAppendTime)."},
		{Name: "min.cleanable.dirty.ratio", Type: TypeDouble, Default: "0.5", HasDefault: true,
			Validator: FloatBetween(0, 1), Importance: Medium,
			Synonyms: syn("log.cleaner.min.cleanable.ratio"),
			Doc:      "The share of uncompacted log above which the cleaner compacts a log (subject to min.compaction.lag.ms and max.compaction.lag.ms)."},
		{Name: "min.compaction.lag.ms", Type: TypeLong, Default: "0", HasDefault: true,
			Validator: AtLeast(0), Importance: Medium,
			Synonyms: syn("log.cleaner.min.compaction.lag.ms"),
			Doc:      "The shortest time a record stays uncompacted in a compacted log."},
		{Name: "min.insync.replicas", Type: TypeInt, Default: "1", HasDefault: true,
			Validator: AtLeast(1), Importance: Medium,
			Synonyms: syn("min.insync.replicas"),
			Doc:      "The fewest in-sync replicas, leader included, with which an acks=all produce succeeds; below it the producer gets NOT_ENOUGH_REPLICAS."},
		{Name: "preallocate", Type: TypeBoolean, Default: "false", HasDefault: true,
			Importance: Medium, Synonyms: syn("log.preallocate"),
			Doc: "Whether a new segment's file is preallocated on disk."},
		{Name: "remote.log.copy.disable", Type: TypeBoolean, Default: "false", HasDefault: true,
			Importance: Medium,
			Doc:        "With tiered storage, stop copying the topic's segments to remote storage. Samsa has no tiered storage."},
		{Name: "remote.log.delete.on.disable", Type: TypeBoolean, Default: "false", HasDefault: true,
			Importance: Medium,
			Doc:        "With tiered storage, delete the remote data when remote.storage.enable is turned off. Samsa has no tiered storage."},
		{Name: "remote.storage.enable", Type: TypeBoolean, Default: "false", HasDefault: true,
			Importance: Medium,
			Doc:        "Enable tiered storage for the topic. Samsa has no tiered storage and rejects true."},
		{Name: "retention.bytes", Type: TypeLong, Default: "-1", HasDefault: true,
			Importance: Medium, Synonyms: syn("log.retention.bytes"),
			Doc: "With the delete policy, the size a partition may grow to before its oldest segments are deleted; -1 for no limit. It is per partition."},
		{Name: "retention.ms", Type: TypeLong, Default: "604800000", HasDefault: true,
			Validator: AtLeast(-1), Importance: Medium,
			Synonyms: []Synonym{{"log.retention.ms", 1}, {"log.retention.minutes", minuteMs}, {"log.retention.hours", hourMs}},
			Doc:      "With the delete policy, how long a segment is kept after its newest record; -1 for no limit."},
		{Name: "segment.bytes", Type: TypeInt, Default: "1073741824", HasDefault: true,
			Validator: AtLeast(1048576), Importance: Medium,
			Synonyms: syn("log.segment.bytes"),
			Doc:      "The size at which the active segment is closed and a new one started."},
		{Name: "segment.index.bytes", Type: TypeInt, Default: "10485760", HasDefault: true,
			Validator: AtLeast(4), Importance: Medium,
			Synonyms: syn("log.index.size.max.bytes"),
			Doc:      "The size preallocated for a segment's offset index; a full index rolls the segment."},
		{Name: "segment.jitter.ms", Type: TypeLong, Default: "0", HasDefault: true,
			Validator: AtLeast(0), Importance: Medium,
			Synonyms: []Synonym{{"log.roll.jitter.ms", 1}, {"log.roll.jitter.hours", hourMs}},
			Doc:      "The largest random amount taken off segment.ms, so that many segments do not roll at once."},
		{Name: "segment.ms", Type: TypeLong, Default: "604800000", HasDefault: true,
			Validator: AtLeast(1), Importance: Medium,
			Synonyms: []Synonym{{"log.roll.ms", 1}, {"log.roll.hours", hourMs}},
			Doc:      "The age at which the active segment is rolled even if not full, so that retention and compaction can act on it."},
		{Name: "unclean.leader.election.enable", Type: TypeBoolean, Default: "false", HasDefault: true,
			Importance: Medium, Synonyms: syn("unclean.leader.election.enable"),
			Doc: "Whether a replica outside the ISR may become leader as a last resort, losing the records it lacks."},
	}
}

// throttledReplicas accepts "*" or partition:broker pairs.
var throttledReplicas = Func("[partitionId]:[brokerId],[partitionId]:[brokerId],...", func(v any) error {
	list, _ := v.([]string)
	if len(list) == 1 && list[0] == "*" {
		return nil
	}
	for _, e := range list {
		p, b, ok := strings.Cut(e, ":")
		if !ok || !isNonNegInt(p) || !isNonNegInt(b) {
			return errors.New(`List must be "*" or of the form [partitionId]:[brokerId],...`)
		}
	}
	return nil
})

func isNonNegInt(s string) bool {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 32)
	return err == nil && n >= 0 && n <= math.MaxInt32
}
