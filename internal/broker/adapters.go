package broker

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/internal/api"
	"github.com/samsa-io/samsa/internal/controller"
	"github.com/samsa-io/samsa/internal/log"
	"github.com/samsa-io/samsa/internal/partition"
	"github.com/samsa-io/samsa/internal/wire"
)

// partitionView adapts a hosted partition to the API's interface.
type partitionView struct {
	p   *partition.Partition
	dir *log.Dir
}

var _ api.Partition = partitionView{}

func (v partitionView) Append(batch []byte, acks int16) (base, appendTime, logStart, next int64, err error) {
	a, err := v.p.AppendAcks(batch, acks)
	return a.BaseOffset, a.LogAppendTime, a.LogStartOffset, a.Next, err
}

func (v partitionView) Commit(next int64) error { return v.p.Commit(next) }

func (v partitionView) WaitReplicated(ctx context.Context, next int64) error {
	return v.p.WaitReplicated(ctx, next)
}

func (v partitionView) ReadReplica(f api.ReplicaFetch) (api.ReplicaRead, error) {
	r, err := v.p.ReadReplica(partition.ReplicaFetch(f)) // the same fields: each layer declares its own
	return api.ReplicaRead{Records: fetchRecords(r.ReadResult), HighWatermark: r.HighWatermark, LastStable: r.LastStable,
		LogStart: r.LogStartOffset, DivergingEpoch: r.DivergingEpoch, DivergingEnd: r.DivergingEnd}, err
}

func (v partitionView) WatchEnd(notify func()) func() { return v.p.WatchEnd(notify) }

func (v partitionView) OngoingTxn(producerID int64, epoch int16) bool {
	return v.p.OngoingTxn(producerID, epoch)
}

// fetchRecords is a read's batches as the API sends them: bytes, or a
// file region.
func fetchRecords(r partition.ReadResult) api.Records {
	recs := api.Records{Bytes: r.Records}
	if g := r.Region; g != nil {
		recs.Region = wire.NewRegion(g.File, g.Pos, g.Len, g.Next-g.First, g.Release)
	}
	return recs
}

func (v partitionView) Read(offset int64, maxBytes int, minOne bool) (api.Records, int64, int64, int64, error) {
	r, err := v.p.ReadFetch(offset, maxBytes, minOne)
	return fetchRecords(r), r.HighWatermark, r.LastStable, r.LogStartOffset, err
}

func (v partitionView) ReadCommitted(offset int64, maxBytes int, minOne bool) (api.Records, int64, int64, int64, []api.AbortedTxn, error) {
	r, err := v.p.ReadFetchCommitted(offset, maxBytes, minOne)
	recs := fetchRecords(r)
	var aborted []api.AbortedTxn
	for _, a := range r.Aborted {
		aborted = append(aborted, api.AbortedTxn{ProducerID: a.ProducerID, FirstOffset: a.FirstOffset})
	}
	return recs, r.HighWatermark, r.LastStable, r.LogStartOffset, aborted, err
}

func (v partitionView) Watch(notify func()) func() { return v.p.Watch(notify) }

func (v partitionView) ListOffset(ts int64, committed bool) (int64, int64, int32, error) {
	r, err := v.p.ListOffset(ts, committed)
	return r.Offset, r.Timestamp, r.LeaderEpoch, err
}

// EndOffsetForEpoch answers OffsetForLeaderEpoch on the leader only, as
// Kafka does.
func (v partitionView) EndOffsetForEpoch(epoch int32) (int32, int64, error) {
	if !v.p.IsLeader() {
		return -1, -1, partition.ErrNotLeader
	}
	e, end := v.p.EndOffsetForEpoch(epoch)
	return e, end, nil
}

func (v partitionView) CheckEpoch(epoch int32) error { return v.p.CheckEpoch(epoch) }
func (v partitionView) LeaderEpoch() int32           { return v.p.LeaderEpoch() }
func (v partitionView) HighWatermark() int64         { return v.p.HighWatermark() }
func (v partitionView) LogStartOffset() int64        { return v.p.Log().LogStartOffset() }
func (v partitionView) Size() int64                  { return v.p.Log().Size() }

// DeleteRecordsBefore applies KIP-107: -1 is the high watermark, past it
// is OFFSET_OUT_OF_RANGE; the new log start is durable before the answer.
func (v partitionView) DeleteRecordsBefore(offset int64) (int64, error) {
	if !v.p.IsLeader() {
		return -1, partition.ErrNotLeader
	}
	hw := v.p.HighWatermark()
	if offset == -1 {
		offset = hw
	}
	if offset < 0 || offset > hw {
		return -1, fmt.Errorf("%w: %d is past the high watermark %d", kerr.OffsetOutOfRange, offset, hw)
	}
	if err := v.dir.DeleteRecords(v.p.TP, offset); err != nil {
		return -1, fmt.Errorf("%w: %w", kerr.KafkaStorageError, err)
	}
	return v.p.Log().LogStartOffset(), nil
}

// adminView adapts the controller to the API's Admin interface.
type adminView struct{ c *controller.Controller }

var _ api.Admin = adminView{}

func (a adminView) CreateTopics(ctx context.Context, r *kmsg.CreateTopicsRequest) *kmsg.CreateTopicsResponse {
	return a.c.KafkaCreateTopics(ctx, r)
}

func (a adminView) DeleteTopics(ctx context.Context, r *kmsg.DeleteTopicsRequest) *kmsg.DeleteTopicsResponse {
	return a.c.KafkaDeleteTopics(ctx, r)
}

func (a adminView) CreatePartitions(ctx context.Context, r *kmsg.CreatePartitionsRequest) *kmsg.CreatePartitionsResponse {
	return a.c.KafkaCreatePartitions(ctx, r)
}

func (a adminView) AlterConfigs(ctx context.Context, r *kmsg.AlterConfigsRequest) *kmsg.AlterConfigsResponse {
	return a.c.KafkaAlterConfigs(ctx, r)
}

func (a adminView) IncrementalAlterConfigs(ctx context.Context, r *kmsg.IncrementalAlterConfigsRequest) *kmsg.IncrementalAlterConfigsResponse {
	return a.c.KafkaIncrementalAlterConfigs(ctx, r)
}
