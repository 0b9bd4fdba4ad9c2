package record

import (
	"encoding/binary"
	"fmt"
	"math"
	"sync"
)

// BatchSpec holds the header fields of a batch to Build.
type BatchSpec struct {
	BaseOffset           int64
	PartitionLeaderEpoch int32
	Compression          Compression
	LogAppendTime        bool
	Transactional        bool
	Control              bool
	BaseTimestamp        int64
	// MaxTimestamp is used only with LogAppendTime; otherwise Build sets
	// it to the largest record timestamp.
	MaxTimestamp  int64
	ProducerID    int64
	ProducerEpoch int16
	BaseSequence  int32
	// LastOffsetDelta is -1 to take the last record's OffsetDelta;
	// otherwise it must be at least every record's OffsetDelta. Log
	// compaction keeps a batch's base offset and last offset delta, as
	// Kafka does for v2, so a compacted batch may end in a gap.
	LastOffsetDelta int32
}

// Build encodes recs, with their own OffsetDelta and TimestampDelta, into
// one batch: records compressed with spec.Compression, the header filled,
// NumRecords = len(recs), and the CRC set. Offset deltas must be
// non-negative and strictly increasing. Validate accepts the result when
// recs is non-empty, and Records returns recs from it.
func Build(spec BatchSpec, recs []Record) ([]byte, error) {
	last, err := checkSpec(&spec, recs)
	if err != nil {
		return nil, err
	}
	size := HeaderSize
	for i := range recs {
		n, err := recordSize(&recs[i])
		if err != nil {
			return nil, fmt.Errorf("%w: record %d: %v", ErrInvalid, i, err)
		}
		size += sizeVarint(int64(n)) + n
	}
	var out []byte
	if spec.Compression == None {
		out = appendRecords(make([]byte, HeaderSize, size), recs)
	} else {
		scratch := getScratch(size - HeaderSize)
		*scratch = appendRecords((*scratch)[:0], recs)
		out, err = Compress(spec.Compression, make([]byte, HeaderSize, HeaderSize+size/2+64), *scratch)
		putScratch(scratch)
		if err != nil {
			return nil, err
		}
	}
	if len(out)-lengthFieldEnd > math.MaxInt32 {
		return nil, fmt.Errorf("%w: batch of %d bytes", ErrInvalid, len(out))
	}
	putHeader(out, &spec, last, maxTimestamp(&spec, recs), int32(len(recs)))
	return out, nil
}

// checkSpec checks the spec against recs and returns the last offset delta.
func checkSpec(spec *BatchSpec, recs []Record) (int32, error) {
	if spec.Compression < None || spec.Compression > Zstd {
		return 0, fmt.Errorf("%w: unknown compression codec %d", ErrInvalid, spec.Compression)
	}
	if len(recs) > math.MaxInt32 {
		return 0, fmt.Errorf("%w: %d records", ErrInvalid, len(recs))
	}
	prev := int64(-1)
	for i := range recs {
		if d := int64(recs[i].OffsetDelta); d <= prev {
			return 0, fmt.Errorf("%w: record %d: offset delta %d after %d", ErrInvalid, i, d, prev)
		}
		prev = int64(recs[i].OffsetDelta)
	}
	last := spec.LastOffsetDelta
	switch {
	case last == -1 && len(recs) == 0:
		return 0, fmt.Errorf("%w: no records to take the last offset delta from", ErrInvalid)
	case last == -1:
		last = recs[len(recs)-1].OffsetDelta
	case int64(last) < prev || last < 0:
		return 0, fmt.Errorf("%w: last offset delta %d below the last record's %d", ErrInvalid, last, prev)
	}
	return last, nil
}

func maxTimestamp(spec *BatchSpec, recs []Record) int64 {
	if spec.LogAppendTime {
		return spec.MaxTimestamp
	}
	if len(recs) == 0 {
		return -1 // Kafka's NO_TIMESTAMP
	}
	ts := int64(math.MinInt64)
	for i := range recs {
		ts = max(ts, spec.BaseTimestamp+recs[i].TimestampDelta)
	}
	return ts
}

func putHeader(b []byte, spec *BatchSpec, last int32, maxTS int64, n int32) {
	var attrs uint16 = uint16(spec.Compression)
	if spec.LogAppendTime {
		attrs |= attrLogAppendTime
	}
	if spec.Transactional {
		attrs |= attrTransactional
	}
	if spec.Control {
		attrs |= attrControl
	}
	be := binary.BigEndian
	be.PutUint64(b[offBaseOffset:], uint64(spec.BaseOffset))
	be.PutUint32(b[offLength:], uint32(len(b)-lengthFieldEnd))
	be.PutUint32(b[offLeaderEpoch:], uint32(spec.PartitionLeaderEpoch))
	b[offMagic] = 2
	be.PutUint16(b[offAttributes:], attrs)
	be.PutUint32(b[offLastDelta:], uint32(last))
	be.PutUint64(b[offBaseTimestamp:], uint64(spec.BaseTimestamp))
	be.PutUint64(b[offMaxTimestamp:], uint64(maxTS))
	be.PutUint64(b[offProducerID:], uint64(spec.ProducerID))
	be.PutUint16(b[offProducerEpoch:], uint16(spec.ProducerEpoch))
	be.PutUint32(b[offBaseSequence:], uint32(spec.BaseSequence))
	be.PutUint32(b[offRecordCount:], uint32(n))
	be.PutUint32(b[offCRC:], ComputeCRC(b))
}

// recordSize is the size of a record's encoding after its length varint.
func recordSize(r *Record) (int, error) {
	n := 1 + sizeVarint(r.TimestampDelta) + sizeVarint(int64(r.OffsetDelta))
	n += sizeBytes(r.Key) + sizeBytes(r.Value) + sizeVarint(int64(len(r.Headers)))
	if len(r.Key) > math.MaxInt32 || len(r.Value) > math.MaxInt32 || len(r.Headers) > math.MaxInt32 {
		return 0, fmt.Errorf("key, value or headers too large")
	}
	for _, h := range r.Headers {
		if len(h.Key) > math.MaxInt32 || len(h.Value) > math.MaxInt32 {
			return 0, fmt.Errorf("header too large")
		}
		n += sizeVarint(int64(len(h.Key))) + len(h.Key) + sizeBytes(h.Value)
	}
	if n > math.MaxInt32 {
		return 0, fmt.Errorf("record of %d bytes", n)
	}
	return n, nil
}

func appendRecords(b []byte, recs []Record) []byte {
	for i := range recs {
		r := &recs[i]
		n, _ := recordSize(r)
		b = binary.AppendVarint(b, int64(n))
		b = append(b, byte(r.Attributes))
		b = binary.AppendVarint(b, r.TimestampDelta)
		b = binary.AppendVarint(b, int64(r.OffsetDelta))
		b = appendBytes(b, r.Key)
		b = appendBytes(b, r.Value)
		b = binary.AppendVarint(b, int64(len(r.Headers)))
		for _, h := range r.Headers {
			b = binary.AppendVarint(b, int64(len(h.Key)))
			b = append(b, h.Key...)
			b = appendBytes(b, h.Value)
		}
	}
	return b
}

func appendBytes(b, v []byte) []byte {
	if v == nil {
		return binary.AppendVarint(b, -1)
	}
	return append(binary.AppendVarint(b, int64(len(v))), v...)
}

func sizeBytes(v []byte) int {
	if v == nil {
		return 1
	}
	return sizeVarint(int64(len(v))) + len(v)
}

// sizeVarint is the size of v as a zigzag varint.
func sizeVarint(v int64) int {
	u := uint64(v<<1) ^ uint64(v>>63)
	n := 1
	for u >= 0x80 {
		u >>= 7
		n++
	}
	return n
}

// scratchPool holds buffers for records before compression.
var scratchPool sync.Pool

func getScratch(n int) *[]byte {
	if p, _ := scratchPool.Get().(*[]byte); p != nil && cap(*p) >= n {
		return p
	}
	b := make([]byte, 0, n)
	return &b
}

// putScratch returns a buffer to the pool unless it is large: one huge
// batch should not pin its buffer for good.
func putScratch(p *[]byte) {
	if cap(*p) <= 1<<20 {
		scratchPool.Put(p)
	}
}
