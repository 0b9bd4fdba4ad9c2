package coordinator

import (
	"fmt"

	"github.com/samsa-io/samsa/internal/record"
)

// readChunk is how much a load reads per call (offsets.load.buffer.size).
const readChunk = 5 << 20

// replayPartition reads part from its start up to end (CommittedEnd), a
// chunk at a time, and hands every whole batch to apply in order: how a
// shard rebuilds its state when it loads.
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
