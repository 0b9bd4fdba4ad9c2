// Package txn is Samsa's transaction coordinator as a pure state machine:
// the transactional ids of one partition of __transaction_state, modelled
// on Kafka 4.x's TransactionCoordinator, TransactionMetadata and
// TransactionStateManager with transactions v2 (KIP-890 part 2: the epoch
// is bumped at the end of every transaction). Each request's file header
// gives the rules per version: init.go (InitProducerId), add.go
// (AddPartitionsToTxn, AddOffsetsToTxn), end.go (EndTxn, timeouts),
// markers.go (WriteTxnMarkers and completion), records.go (the
// __transaction_state format).
//
// The id's partition is Kafka's Utils.abs(transactionalId.hashCode()) %
// transaction.state.log.num.partitions (50 by default), the function the
// group coordinator uses (coordinator.PartitionFor).
//
// # Contract with the shard runtime
//
// A Shard is owned by one goroutine. Every operation takes the current time
// and returns Effects, already applied to the in-memory state. The runtime
// must:
//
//   - append Records in order, and deliver Responses and send Markers only
//     once every record appended so far is durable (a marker must never
//     precede its Prepare record, nor a response its record);
//   - if an append fails, answer that Effects' responses with
//     NOT_COORDINATOR, drop its markers, and rebuild the Shard by replay;
//   - send each Marker to its partitions' leaders (WriteTxnMarkers, or a
//     control batch appended locally) and report every partition's outcome
//     with MarkersWritten, Gone when the partition no longer exists;
//   - call Tick at or after NextDeadline (marker retries), AbortTimedOut
//     every transaction.abort.timed.out.transaction.cleanup.interval.ms
//     (10 s) and Cleanup every
//     transaction.remove.expired.transaction.cleanup.interval.ms (1 h);
//   - at load: Replay every record of the partition in order (skipping
//     ErrUnknownRecord), then Loaded, which resends the markers of
//     transactions loaded in PrepareCommit or PrepareAbort.
//
// No request waits inside the Shard: each Handle is answered by the
// operation that received it (a transaction being completed answers
// CONCURRENT_TRANSACTIONS and the client retries, as in Kafka).
//
// # WIRING: what the API layer and the broker must do
//
//   - InitProducerId: without a transactional id, answer from the producer
//     id allocator alone (epoch 0; Kafka ignores a KIP-360 id and epoch
//     there). With one: authorize TRANSACTIONAL_ID WRITE, route to the
//     id's shard (NOT_COORDINATOR elsewhere), InitProducerID. v6 (KIP-939,
//     two-phase commit) is not supported: advertise up to v5.
//   - AddPartitionsToTxn v0-3 (clients): authorize, answer
//     TOPIC_AUTHORIZATION_FAILED / UNKNOWN_TOPIC_OR_PARTITION for bad
//     partitions and OPERATION_NOT_ATTEMPTED for the others as Kafka's
//     KafkaApis does, else AddPartitions with the request's single
//     transaction. v4-5 (brokers, CLUSTER_ACTION): one AddPartitions per
//     transaction (they may live on different shards), merged into one
//     response.
//   - AddOffsetsToTxn: the group's partition of __consumer_offsets is
//     coordinator.PartitionFor(group, offsets.topic.num.partitions).
//   - EndTxn, DescribeTransactions, ListTransactions (merge every shard's
//     list and unknown state filters; an invalid v2 pattern is
//     INVALID_REGULAR_EXPRESSION): route by id / fan out.
//   - TxnOffsetCommit belongs to the group coordinator: it checks that the
//     producer id and epoch are the transaction's (for transactions v2 by
//     an AddPartitionsToTxn v5 of its __consumer_offsets partition to this
//     coordinator, as Kafka's AddPartitionsToTxnManager does), keeps the
//     offsets pending per producer id, and applies or drops them when the
//     COMMIT or ABORT marker reaches its __consumer_offsets partition.
//   - The broker's MarkerWriter appends a control batch (producer id,
//     epoch, COMMIT/ABORT, coordinator epoch) to each local partition it
//     leads, or sends WriteTxnMarkers to the leader; the partition leader
//     refuses a marker whose coordinator epoch is older than the last it
//     saw (TRANSACTION_COORDINATOR_FENCED) and, for transaction version 2,
//     an epoch that is not above the producer's (INVALID_PRODUCER_EPOCH).
//     Markers on __consumer_offsets partitions must reach the group
//     coordinator shard too.
//   - Produce of a transactional batch: with transactions v2 the partition
//     leader adds its partition through AddPartitionsToTxn v5 (VerifyOnly
//     false), with v1 clients it verifies (VerifyOnly true) when
//     transaction.partition.verification.enable (api/produce_txn.go;
//     TxnOffsetCommit does the same for the group's partition). The
//     cluster's transaction.version, which Config.TransactionVersion must
//     equal, is what ApiVersions advertises (api/features.go, the broker's
//     transactionVersion).
//
// Records use Kafka's schemas and versions (records.go) so tools that read
// __transaction_state decode them.
package txn
