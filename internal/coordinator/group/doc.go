// Package group is Samsa's classic group coordinator as a pure state machine:
// the groups and committed offsets of one partition of __consumer_offsets,
// modelled on Kafka 4.x's ClassicGroup and OffsetMetadataManager.
//
// Kafka behaviour carried over, by KIP:
//   - KIP-62: a rebalance timeout separate from the session timeout; the
//     group's rebalance timeout is the largest of its members'.
//   - KIP-134: group.initial.rebalance.delay.ms delays the first rebalance
//     of an empty group, extended while new members keep arriving.
//   - KIP-211: offsets of an empty group expire offsets.retention.minutes
//     after the group became empty.
//   - KIP-345: static membership (group.instance.id): a restarted instance
//     takes over its old member id without a rebalance when its metadata
//     leaves the selected protocol unchanged, and fences the old member id
//     (FENCED_INSTANCE_ID); batched LeaveGroup (v3+) by member or instance.
//   - KIP-389: group.max.size (GROUP_MAX_SIZE_REACHED).
//   - KIP-394: from JoinGroup v4 a dynamic member without an id is given one
//     with MEMBER_ID_REQUIRED and must rejoin with it.
//   - KIP-429: cooperative rebalancing lives in the clients; the coordinator
//     only has to keep the eager rules (which it does).
//   - KIP-496: OffsetDelete. KIP-559: protocol type and name checked in
//     SyncGroup v5. KIP-814: a static leader that rejoins without a
//     rebalance gets the members and SkipAssignment (JoinGroup v9).
//
// # Contract with the shard runtime
//
// A Shard is owned by one goroutine. Every operation takes the current time
// and returns Effects: records to append to the partition, responses to
// deliver (keyed by the Handle the caller passed in), and state
// transitions (for logs and metrics). Effects are already applied to the
// in-memory state. The runtime must:
//
//   - append Records in order, and deliver Responses only once every record
//     appended so far (by this and by earlier operations) is durable; reads
//     (Describe, List, FetchOffsets) likewise see state that may not be
//     durable yet and should wait the same way;
//   - if an append fails, answer the responses of that Effects with
//     NOT_COORDINATOR or COORDINATOR_NOT_AVAILABLE, deliver the Effects of
//     Unload (which answers every parked request), and rebuild the Shard by
//     replaying the partition (Kafka reverts to its last committed
//     snapshot; rebuilding is the same thing, done coarsely);
//   - call Tick(now) at or after NextDeadline() to fire session, rebalance,
//     sync and initial-delay deadlines, and Cleanup(now) every
//     offsets.retention.check.interval.ms;
//   - at load: Replay every record of the partition in order, then Loaded.
//
// Every Handle passed in gets exactly one response, sooner or later; a
// JoinGroup or SyncGroup that must wait for the rest of the group is
// answered by a later operation or Tick.
//
// KIP-848 consumer groups (ConsumerGroupHeartbeat, consumer_*.go) live in
// the same Shard and share its offsets: ConsumerHeartbeat takes the
// cluster's Topics (the runtime builds them from the metadata image) so
// that subscriptions, regular expressions (RE2, as Kafka's RE2J) and
// partition counts resolve without I/O; their deadlines (session and
// revocation timeouts) fire from Tick like the classic ones. Their records
// are Kafka's types 3, 5, 6, 7 and 8 (consumer_records.go).
//
// Records use Kafka's own schemas (kmsg.GroupMetadataKey/Value,
// kmsg.OffsetCommitKey/Value) and versions (group metadata key 2, value 3;
// offset commit key 1, value 3, or 1 with an expire timestamp), so tools
// that read __consumer_offsets decode them.
package group
