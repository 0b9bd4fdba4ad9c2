package log

// Transactions on the partition side (KIP-98; transactions v2, KIP-890):
// transaction markers, the last stable offset and the aborted-transaction
// index, with the rules of Kafka's ProducerAppendInfo.appendEndTxnMarker,
// ProducerStateManager (ongoing and completed transactions, the first
// unstable offset) and TransactionIndex.
//
// A transactional batch opens its producer's transaction in the partition
// (ProducerEntry.CurrentTxnFirstOffset). A marker (a control batch: COMMIT
// or ABORT with the coordinator's epoch) closes it; as the leader the log
// refuses a marker
//   - whose coordinator epoch is below the last one the producer's markers
//     carried (TRANSACTION_COORDINATOR_FENCED: an old coordinator), or
//   - whose producer epoch is below the producer's, or, for transaction
//     version 2, not above it (INVALID_PRODUCER_EPOCH: with KIP-890 part 2
//     the coordinator bumps the epoch before it writes the markers, so a
//     marker at the epoch of the data is from a zombie transaction);
//     a marker at the current epoch with no transaction open is a retry
//     of the one that closed it, and succeeds without being written again.
//
// The first unstable offset is the first offset of the earliest open
// transaction; the partition's last stable offset (LSO) is that or the
// high watermark, whichever is lower, and read_committed consumers read
// below it.
//
// An ABORT closing a transaction that wrote here adds an entry to the
// aborted-transaction index, Kafka's .txnindex: one file per segment (the
// segment holding the marker), entries of 34 bytes, big-endian:
//
//	version int16 = 0, producer_id int64, first_offset int64,
//	last_offset int64 (the marker's), last_stable_offset int64
//
// where last_stable_offset is the LSO once the transaction closed (the
// first offset of the next open transaction of another producer, else the
// marker's offset + 1). An entry is appended and fsynced when its marker is
// appended; recovery keeps the entries below the offset it replays from and
// rebuilds the rest from the markers it replays, rewriting those files.
// Fetch in read_committed returns the entries overlapping what it serves.

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/samsa-io/samsa/internal/record"
	"github.com/samsa-io/samsa/internal/vfs"
)

// ErrCoordinatorFenced: a marker from a transaction coordinator older than
// one whose marker the partition already took
// (TRANSACTION_COORDINATOR_FENCED).
var ErrCoordinatorFenced = errors.New("log: transaction coordinator epoch older than the partition's")

const (
	txnIndexSuffix  = ".txnindex"
	txnIndexEntry   = 34
	txnIndexVersion = 0
)

// AbortedTxn is one entry of the aborted-transaction index.
type AbortedTxn struct {
	ProducerID       int64
	FirstOffset      int64
	LastOffset       int64
	LastStableOffset int64
}

func (a AbortedTxn) encode(b []byte) []byte {
	be := binary.BigEndian
	b = be.AppendUint16(b, txnIndexVersion)
	b = be.AppendUint64(b, uint64(a.ProducerID))
	b = be.AppendUint64(b, uint64(a.FirstOffset))
	b = be.AppendUint64(b, uint64(a.LastOffset))
	return be.AppendUint64(b, uint64(a.LastStableOffset))
}

// decodeTxnIndex decodes whole entries; a torn tail is ignored (recovery
// rewrites the files it replays).
func decodeTxnIndex(b []byte) []AbortedTxn {
	var out []AbortedTxn
	be := binary.BigEndian
	for ; len(b) >= txnIndexEntry; b = b[txnIndexEntry:] {
		if be.Uint16(b) != txnIndexVersion {
			break
		}
		out = append(out, AbortedTxn{
			ProducerID: int64(be.Uint64(b[2:])), FirstOffset: int64(be.Uint64(b[10:])),
			LastOffset: int64(be.Uint64(b[18:])), LastStableOffset: int64(be.Uint64(b[26:])),
		})
	}
	return out
}

// errMarkerRetry is checkMarker's answer to a transaction-version-2 marker
// at the producer's current epoch while no transaction of that producer is
// open here: a marker already written at that epoch closed it, and this is
// the coordinator sending it again (it does after a restart between the
// markers and its Complete record). The append succeeds without writing:
// refusing it, as a zombie, would leave the transaction prepared forever.
var errMarkerRetry = errors.New("log: transaction marker already written")

// checkMarker applies the leader's rules to a marker (see the file header).
func (ps *producerState) checkMarker(h *record.Header, m *record.EndTxn, tv int8) error {
	e := ps.producers[h.ProducerID]
	if e == nil {
		return nil
	}
	if e.CoordinatorEpoch > m.CoordinatorEpoch {
		return fmt.Errorf("%w: producer %d marker from coordinator epoch %d, the partition has seen %d",
			ErrCoordinatorFenced, h.ProducerID, m.CoordinatorEpoch, e.CoordinatorEpoch)
	}
	if tv >= 2 && h.ProducerEpoch == e.Epoch && e.CurrentTxnFirstOffset < 0 && m.CoordinatorEpoch >= e.CoordinatorEpoch {
		return errMarkerRetry
	}
	if h.ProducerEpoch < e.Epoch || (tv >= 2 && h.ProducerEpoch <= e.Epoch) {
		return fmt.Errorf("%w: producer %d marker at epoch %d, the partition has seen %d (transaction version %d)",
			ErrInvalidProducerEpoch, h.ProducerID, h.ProducerEpoch, e.Epoch, tv)
	}
	return nil
}

// completeTxn applies a marker written at h's offset; it returns the
// index entry of an aborted transaction that wrote to the partition.
func (ps *producerState) completeTxn(h *record.Header, m *record.EndTxn) *AbortedTxn {
	e := ps.producers[h.ProducerID]
	if e == nil {
		e = &ProducerEntry{ProducerID: h.ProducerID, Epoch: h.ProducerEpoch, CoordinatorEpoch: -1, CurrentTxnFirstOffset: -1}
		ps.producers[h.ProducerID] = e
	}
	if e.Epoch != h.ProducerEpoch {
		e.Epoch = h.ProducerEpoch
		e.Batches = e.Batches[:0]
	}
	first := e.CurrentTxnFirstOffset
	e.CurrentTxnFirstOffset = -1
	e.CoordinatorEpoch = m.CoordinatorEpoch
	e.LastTimestamp = h.MaxTimestamp
	if first < 0 || m.Commit {
		return nil
	}
	lso := h.BaseOffset + 1
	if fu := ps.firstUnstable(); fu >= 0 {
		lso = fu
	}
	return &AbortedTxn{ProducerID: h.ProducerID, FirstOffset: first, LastOffset: h.BaseOffset, LastStableOffset: lso}
}

// firstUnstable is the first offset of the earliest open transaction, or -1.
func (ps *producerState) firstUnstable() int64 {
	fu := int64(-1)
	for _, e := range ps.producers {
		if f := e.CurrentTxnFirstOffset; f >= 0 && (fu < 0 || f < fu) {
			fu = f
		}
	}
	return fu
}

// FirstUnstableOffset is the first offset of the earliest open
// transaction, or -1 when none is open.
func (l *Log) FirstUnstableOffset() int64 { return l.unstable.Load() }

// AbortedTxns returns the aborted transactions that overlap [from, upTo):
// what a read_committed fetch of that range must be told about.
func (l *Log) AbortedTxns(from, upTo int64) []AbortedTxn {
	p := l.aborted.Load()
	if p == nil {
		return nil
	}
	start := l.logStart.Load()
	var out []AbortedTxn
	for _, a := range *p {
		if a.LastOffset >= from && a.FirstOffset < upTo && a.LastOffset >= start {
			out = append(out, a)
		}
	}
	return out
}

// aborts reports whether the transactional batch h belongs to an aborted
// transaction (compaction drops those records).
func (l *Log) abortedBatch(h *record.Header) bool {
	if !h.Transactional() || h.Control() {
		return false
	}
	p := l.aborted.Load()
	if p == nil {
		return false
	}
	for _, a := range *p {
		if a.ProducerID == h.ProducerID && a.FirstOffset <= h.BaseOffset && h.BaseOffset <= a.LastOffset {
			return true
		}
	}
	return false
}

// addAbortedLocked records an aborted transaction in memory and in the
// .txnindex of the active segment (which holds its marker), fsynced.
func (l *Log) addAbortedLocked(a AbortedTxn) error {
	var cur []AbortedTxn
	if p := l.aborted.Load(); p != nil {
		cur = *p
	}
	next := append(cur, a) // readers see only their own length
	l.aborted.Store(&next)
	name := segmentName(l.dir, l.active().base, txnIndexSuffix)
	f, err := l.fs.OpenRW(name)
	if vfs.IsNotExist(err) {
		f, err = l.fs.Create(name)
		l.dirDirty.Store(true)
	}
	if err != nil {
		return err
	}
	if _, err = f.Write(a.encode(nil)); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// refreshUnstableLocked publishes the first unstable offset.
func (l *Log) refreshUnstableLocked() { l.unstable.Store(l.producers.firstUnstable()) }

// loadAborted reads the .txnindex entries below offset from every segment.
func (l *Log) loadAborted(below int64) ([]AbortedTxn, error) {
	var out []AbortedTxn
	for _, s := range l.segments() {
		data, err := vfs.ReadAll(l.fs, segmentName(l.dir, s.base, txnIndexSuffix))
		if vfs.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, a := range decodeTxnIndex(data) {
			if a.LastOffset < below {
				out = append(out, a)
			}
		}
	}
	return out, nil
}

// writeTxnIndexes rewrites the .txnindex of every segment whose offsets
// reach from or beyond, from the in-memory entries.
func (l *Log) writeTxnIndexes(from int64) error {
	segs := l.segments()
	for i, s := range segs {
		end := int64(math.MaxInt64)
		if i < len(segs)-1 {
			end = segs[i+1].base
		}
		if end <= from {
			continue
		}
		if err := l.writeTxnIndex(s.base, end); err != nil {
			return err
		}
	}
	l.dirDirty.Store(true)
	return nil
}

// writeTxnIndex rewrites the .txnindex of the segment at base, whose
// markers lie in [base, end), from the in-memory entries; none removes it.
func (l *Log) writeTxnIndex(base, end int64) error {
	var b []byte
	if p := l.aborted.Load(); p != nil {
		for _, a := range *p {
			if a.LastOffset >= base && a.LastOffset < end {
				b = a.encode(b)
			}
		}
	}
	name := segmentName(l.dir, base, txnIndexSuffix)
	if len(b) == 0 {
		if err := l.fs.Remove(name); err != nil && !vfs.IsNotExist(err) {
			return err
		}
		return nil
	}
	return vfs.WriteAtomic(l.fs, name, b)
}

// setAborted publishes a rebuilt index, sorted by marker offset.
func (l *Log) setAborted(as []AbortedTxn) {
	slices.SortFunc(as, func(a, b AbortedTxn) int { return cmp.Compare(a.LastOffset, b.LastOffset) })
	as = slices.CompactFunc(as, func(a, b AbortedTxn) bool { return a == b })
	l.aborted.Store(&as)
}

// readMarker reads the marker of the control batch at pos of s.
func (s *segment) readMarker(pos int64, h *record.Header) (*record.EndTxn, error) {
	buf := make([]byte, h.Size())
	if _, err := s.file.ReadAt(buf, pos); err != nil {
		return nil, err
	}
	m, err := record.ParseEndTxn(buf)
	if err != nil {
		return nil, nil // not a transaction marker: nothing to apply
	}
	return &m, nil
}

// updateProducersLocked records an appended batch in the producer state:
// a marker closes its producer's transaction (adding an aborted one to the
// index), a transactional batch may open one.
func (l *Log) updateProducersLocked(h *record.Header, marker *record.EndTxn) error {
	if marker == nil {
		open := h.Transactional() && l.producers.open(h.ProducerID)
		l.producers.update(h)
		if h.Transactional() && !open {
			l.refreshUnstableLocked()
		}
		return nil
	}
	a := l.producers.completeTxn(h, marker)
	l.refreshUnstableLocked()
	if a == nil {
		return nil
	}
	if err := l.addAbortedLocked(*a); err != nil {
		return l.fail(err)
	}
	return nil
}

// open reports whether the producer has an open transaction.
func (ps *producerState) open(id int64) bool {
	e := ps.producers[id]
	return e != nil && e.CurrentTxnFirstOffset >= 0
}
