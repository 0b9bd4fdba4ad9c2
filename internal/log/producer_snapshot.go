package log

// Producer state snapshots: <20-digit offset>.snapshot in the partition
// directory, as in Kafka, holding the producer state of every batch below
// the offset. One is written when a segment rolls (at the new segment's
// base) and when the log closes (at the log end); recovery loads the latest
// one not past the recovered log end and replays the batches after it.
//
// The content is Samsa's format version 2 (docs/format/README.md). Kafka's
// version 1 keeps one batch per producer; Samsa keeps all five, so that
// after a restart a retry of any batch still in flight is recognised as a
// duplicate instead of failing as out of order. Big-endian:
//
//	version  int16 = 2
//	crc      uint32   CRC-32C of everything after this field
//	count    int32    producers, then for each:
//	  producer_id int64, epoch int16, coordinator_epoch int32,
//	  current_txn_first_offset int64, last_timestamp int64,
//	  batches int32, then for each:
//	    first_seq int32, last_seq int32, first_offset int64,
//	    last_offset int64, timestamp int64

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"path"
	"slices"
	"strings"

	"github.com/samsa-io/samsa/internal/vfs"
)

const (
	snapshotSuffix  = ".snapshot"
	snapshotVersion = 2
	snapshotEntry   = 8 + 2 + 4 + 8 + 8 + 4
	snapshotBatch   = 4 + 4 + 8 + 8 + 8
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// errBadSnapshot: a snapshot file that does not decode.
var errBadSnapshot = errors.New("log: bad producer state snapshot")

func snapshotName(dir string, offset int64) string {
	return path.Join(dir, fmt.Sprintf("%020d%s", offset, snapshotSuffix))
}

// encodeSnapshot encodes the state.
func encodeSnapshot(ps *producerState) []byte {
	entries := ps.entries()
	b := make([]byte, 6, 10+len(entries)*(snapshotEntry+snapshotBatch))
	be := binary.BigEndian
	be.PutUint16(b, snapshotVersion)
	b = be.AppendUint32(b, uint32(len(entries)))
	for _, e := range entries {
		b = be.AppendUint64(b, uint64(e.ProducerID))
		b = be.AppendUint16(b, uint16(e.Epoch))
		b = be.AppendUint32(b, uint32(e.CoordinatorEpoch))
		b = be.AppendUint64(b, uint64(e.CurrentTxnFirstOffset))
		b = be.AppendUint64(b, uint64(e.LastTimestamp))
		b = be.AppendUint32(b, uint32(len(e.Batches)))
		for _, m := range e.Batches {
			b = be.AppendUint32(b, uint32(m.FirstSeq))
			b = be.AppendUint32(b, uint32(m.LastSeq))
			b = be.AppendUint64(b, uint64(m.FirstOffset))
			b = be.AppendUint64(b, uint64(m.LastOffset))
			b = be.AppendUint64(b, uint64(m.Timestamp))
		}
	}
	be.PutUint32(b[2:], crc32.Checksum(b[6:], crcTable))
	return b
}

// decodeSnapshot is encodeSnapshot's inverse; it checks the version, the
// CRC and every count against the bytes present.
func decodeSnapshot(b []byte) (*producerState, error) {
	be := binary.BigEndian
	if len(b) < 10 {
		return nil, fmt.Errorf("%w: %d bytes", errBadSnapshot, len(b))
	}
	if v := be.Uint16(b); v != snapshotVersion {
		return nil, fmt.Errorf("%w: version %d", errBadSnapshot, v)
	}
	if crc32.Checksum(b[6:], crcTable) != be.Uint32(b[2:]) {
		return nil, fmt.Errorf("%w: CRC mismatch", errBadSnapshot)
	}
	n := int(be.Uint32(b[6:]))
	b = b[10:]
	if n < 0 || n > len(b)/snapshotEntry {
		return nil, fmt.Errorf("%w: %d producers in %d bytes", errBadSnapshot, n, len(b))
	}
	ps := newProducerState()
	for range n {
		if len(b) < snapshotEntry {
			return nil, fmt.Errorf("%w: short entry", errBadSnapshot)
		}
		e := &ProducerEntry{
			ProducerID:            int64(be.Uint64(b)),
			Epoch:                 int16(be.Uint16(b[8:])),
			CoordinatorEpoch:      int32(be.Uint32(b[10:])),
			CurrentTxnFirstOffset: int64(be.Uint64(b[14:])),
			LastTimestamp:         int64(be.Uint64(b[22:])),
		}
		nb := int(be.Uint32(b[30:]))
		b = b[snapshotEntry:]
		if nb < 0 || nb > batchesToRetain || len(b) < nb*snapshotBatch {
			return nil, fmt.Errorf("%w: %d batches", errBadSnapshot, nb)
		}
		for range nb {
			e.Batches = append(e.Batches, BatchMetadata{
				FirstSeq: int32(be.Uint32(b)), LastSeq: int32(be.Uint32(b[4:])),
				FirstOffset: int64(be.Uint64(b[8:])), LastOffset: int64(be.Uint64(b[16:])),
				Timestamp: int64(be.Uint64(b[24:])),
			})
			b = b[snapshotBatch:]
		}
		ps.producers[e.ProducerID] = e
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", errBadSnapshot, len(b))
	}
	return ps, nil
}

// snapshotOffsets lists the offsets of the snapshot files in dir, ascending.
func snapshotOffsets(fsys vfs.FS, dir string) ([]int64, error) {
	names, err := fsys.List(dir)
	if err != nil {
		return nil, err
	}
	var offs []int64
	for _, n := range names {
		if !strings.HasSuffix(n, snapshotSuffix) {
			continue
		}
		if off, ok := parseSegmentName(n, snapshotSuffix); ok {
			offs = append(offs, off)
		}
	}
	slices.Sort(offs)
	return offs, nil
}

// writeSnapshotLocked writes the producer state as of offset (every batch
// below it applied). An empty state is written only once snapshots exist,
// so that logs without idempotent producers keep Kafka's plain layout and
// an empty state still supersedes an older, non-empty snapshot.
func (l *Log) writeSnapshotLocked(offset int64) error {
	if len(l.producers.producers) == 0 && !l.hasSnapshots {
		return nil
	}
	if err := vfs.WriteAtomic(l.fs, snapshotName(l.dir, offset), encodeSnapshot(l.producers)); err != nil {
		return err
	}
	l.hasSnapshots = true
	return nil
}

// removeSnapshots deletes the snapshot files whose offsets drop says.
func (l *Log) removeSnapshots(drop func(off int64) bool) error {
	offs, err := snapshotOffsets(l.fs, l.dir)
	if err != nil {
		return err
	}
	removed := false
	for _, off := range offs {
		if drop(off) {
			if err := l.fs.Remove(snapshotName(l.dir, off)); err != nil && !vfs.IsNotExist(err) {
				return err
			}
			removed = true
		}
	}
	if removed {
		return l.fs.SyncDir(l.dir)
	}
	return nil
}

// rebuildProducersLocked sets the producer state as of the log end: the
// latest readable snapshot within the log's segments and not past the end,
// then every batch after it (from the first segment when there is none).
// Snapshots past the end (of a truncated tail), before the first segment,
// or unreadable are deleted, as Kafka's ProducerStateManager
// truncateAndReload does.
func (l *Log) rebuildProducersLocked() error {
	segs := l.segments()
	first, end := segs[0].base, l.leo.Load()
	if err := l.removeSnapshots(func(off int64) bool { return off > end || off < first }); err != nil {
		return err
	}
	offs, err := snapshotOffsets(l.fs, l.dir)
	if err != nil {
		return err
	}
	l.hasSnapshots = len(offs) > 0
	ps, from := newProducerState(), first
	for i := len(offs) - 1; i >= 0; i-- {
		data, err := vfs.ReadAll(l.fs, snapshotName(l.dir, offs[i]))
		if err == nil {
			var loaded *producerState
			if loaded, err = decodeSnapshot(data); err == nil {
				ps, from = loaded, offs[i]
				break
			}
		}
		if !errors.Is(err, errBadSnapshot) {
			return err
		}
		if err := l.removeSnapshots(func(off int64) bool { return off == offs[i] }); err != nil {
			return err
		}
	}
	aborted, err := l.loadAborted(from)
	if err != nil {
		return err
	}
	replayed, err := l.replayProducers(ps, from, end)
	if err != nil {
		return err
	}
	l.producers = ps
	l.setAborted(append(aborted, replayed...))
	l.refreshUnstableLocked()
	// The .txnindex files from the replayed offsets on say what replay
	// found: a crash may have left entries of markers that were lost.
	return l.writeTxnIndexes(from)
}

// replayProducers applies the batches in [from, end) to ps (their headers,
// and the markers of control batches), and returns the aborted
// transactions their markers closed.
func (l *Log) replayProducers(ps *producerState, from, end int64) ([]AbortedTxn, error) {
	var aborted []AbortedTxn
	segs := l.segments()
	for i := floorSegment(segs, from); i < len(segs) && from < end; i++ {
		s := segs[i]
		pos, h, ok, err := s.find(from)
		if err != nil {
			return nil, err
		}
		size := s.size.Load()
		for ok && pos < size && h.BaseOffset < end {
			if h.Control() {
				m, err := s.readMarker(pos, &h)
				if err != nil {
					return nil, err
				}
				if m != nil {
					if a := ps.completeTxn(&h, m); a != nil {
						aborted = append(aborted, *a)
					}
				}
			} else {
				ps.update(&h)
			}
			from = h.NextOffset()
			if pos += int64(h.Size()); pos >= size {
				break
			}
			if h, err = s.readHeader(pos); err != nil {
				return nil, err
			}
		}
	}
	return aborted, nil
}
