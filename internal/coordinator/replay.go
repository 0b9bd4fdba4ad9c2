package coordinator

import (
	"context"
	"fmt"

	"github.com/samsa-io/samsa/internal/record"
)

// readChunk is how much a load reads per call (offsets.load.buffer.size).
const readChunk = 5 << 20

// replayCommitted opens partition p at the leader epoch a shard loads
// for, waits until everything in it is committed (CommittedEnd), and
// replays it with replayPartition: how a shard rebuilds its state.
func replayCommitted(ctx context.Context, open func(p, epoch int32) (Partition, error), p, epoch int32,
	apply func(h record.Header, batch []byte) error) (Partition, error) {
	part, err := open(p, epoch)
	if err != nil {
		return nil, err
	}
	end, err := part.CommittedEnd(ctx)
	if err != nil {
		return nil, err
	}
	return part, replayPartition(part, end, apply)
}

// replayPartition reads part from its start up to end, a chunk at a time,
// and hands every whole batch to apply in order.
func replayPartition(part Partition, end int64, apply func(h record.Header, batch []byte) error) error {
	var offset int64
	for offset < end {
		batches, hw, err := part.Read(offset, readChunk)
		if err != nil {
			return err
		}
		if offset >= hw || len(batches) == 0 {
			return fmt.Errorf("coordinator: replay stopped at offset %d of %d (high watermark %d)", offset, end, hw)
		}
		if offset, err = eachBatch(batches, offset, apply); err != nil {
			return err
		}
	}
	return nil
}

// eachBatch calls apply for every whole batch and returns the offset after
// the last.
func eachBatch(batches []byte, offset int64, apply func(h record.Header, batch []byte) error) (int64, error) {
	for len(batches) > 0 {
		h, err := record.ParseHeader(batches)
		if err != nil {
			return offset, err
		}
		n := h.Size()
		if n > len(batches) {
			return offset, fmt.Errorf("coordinator: partial batch at offset %d", h.BaseOffset)
		}
		if err := apply(h, batches[:n]); err != nil {
			return offset, err
		}
		batches = batches[n:]
		offset = h.NextOffset()
	}
	return offset, nil
}

// eachRecord calls apply for every record of a data batch.
func eachRecord(h record.Header, batch []byte, apply func(key, value []byte, offset int64) error) error {
	recs, err := record.Records(batch, 64<<20)
	if err != nil {
		return err
	}
	for _, r := range recs {
		at := r.Offset(h.BaseOffset)
		if err := apply(r.Key, r.Value, at); err != nil {
			return fmt.Errorf("coordinator: replaying offset %d: %w", at, err)
		}
	}
	return nil
}
