// Package record reads and rewrites Kafka RecordBatch v2 (magic 2) bytes.
//
// Batches stay bytes: the header is parsed in place, offsets and the leader
// epoch are rewritten in place (they sit before the CRC'd region), and only
// features that must look inside a batch (compaction keys, timestamp lookups,
// optional validation) decompress and decode its records.
//
// Layout (all big-endian), from Kafka's DefaultRecordBatch and KIP-98:
//
//	offset size field
//	     0    8 baseOffset
//	     8    4 batchLength           (bytes after this field)
//	    12    4 partitionLeaderEpoch
//	    16    1 magic                 (2)
//	    17    4 crc                   (CRC-32C of bytes 21..end)
//	    21    2 attributes            (bits 0-2 compression, 3 timestamp type,
//	                                   4 transactional, 5 control, 6 delete horizon)
//	    23    4 lastOffsetDelta
//	    27    8 baseTimestamp
//	    35    8 maxTimestamp
//	    43    8 producerId
//	    51    2 producerEpoch
//	    53    4 baseSequence
//	    57    4 recordCount
//	    61      records
//
// Kafka 4.0 removed message formats v0 and v1 (KIP-724); they are rejected.
package record

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// HeaderSize is the size of a v2 batch header: the smallest possible batch.
const HeaderSize = 61

// Field offsets within a batch.
const (
	offBaseOffset    = 0
	offLength        = 8
	offLeaderEpoch   = 12
	offMagic         = 16
	offCRC           = 17
	offAttributes    = 21
	offLastDelta     = 23
	offBaseTimestamp = 27
	offMaxTimestamp  = 35
	offProducerID    = 43
	offProducerEpoch = 51
	offBaseSequence  = 53
	offRecordCount   = 57

	// lengthFieldEnd is where the bytes counted by batchLength begin.
	lengthFieldEnd = 12
)

// Attribute bits.
const (
	compressionMask   = 0x07
	attrLogAppendTime = 0x08
	attrTransactional = 0x10
	attrControl       = 0x20
	attrDeleteHorizon = 0x40
)

// Errors. Each maps to one Kafka error code at the API layer.
var (
	// ErrShort: fewer bytes than the header or the declared length need.
	ErrShort = errors.New("record: batch truncated")
	// ErrUnsupportedMagic: a v0/v1 message set or an unknown magic.
	ErrUnsupportedMagic = errors.New("record: unsupported magic (only RecordBatch v2 is accepted)")
	// ErrCorrupt: the CRC does not match (Kafka's CORRUPT_MESSAGE).
	ErrCorrupt = errors.New("record: CRC mismatch")
	// ErrInvalid: header fields contradict each other (Kafka's INVALID_RECORD).
	ErrInvalid = errors.New("record: invalid batch")
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Compression is the codec in a batch's attributes.
type Compression int8

// Codecs, numbered as in Kafka.
const (
	None   Compression = 0
	Gzip   Compression = 1
	Snappy Compression = 2
	LZ4    Compression = 3
	Zstd   Compression = 4
)

func (c Compression) String() string {
	switch c {
	case None:
		return "none"
	case Gzip:
		return "gzip"
	case Snappy:
		return "snappy"
	case LZ4:
		return "lz4"
	case Zstd:
		return "zstd"
	}
	return fmt.Sprintf("compression(%d)", int8(c))
}

// Header is a parsed v2 batch header.
type Header struct {
	BaseOffset           int64
	Length               int32
	PartitionLeaderEpoch int32
	Magic                int8
	CRC                  uint32
	Attributes           int16
	LastOffsetDelta      int32
	BaseTimestamp        int64
	MaxTimestamp         int64
	ProducerID           int64
	ProducerEpoch        int16
	BaseSequence         int32
	NumRecords           int32
}

// Size is the batch's total size in bytes, header included.
func (h *Header) Size() int { return int(h.Length) + lengthFieldEnd }

// LastOffset is the offset of the batch's last record.
func (h *Header) LastOffset() int64 { return h.BaseOffset + int64(h.LastOffsetDelta) }

// NextOffset is the offset after the batch's last record.
func (h *Header) NextOffset() int64 { return h.LastOffset() + 1 }

// Compression is the batch's codec.
func (h *Header) Compression() Compression { return Compression(h.Attributes & compressionMask) }

// LogAppendTime reports whether the batch's timestamps are broker-assigned.
func (h *Header) LogAppendTime() bool { return h.Attributes&attrLogAppendTime != 0 }

// Transactional reports whether the batch belongs to a transaction.
func (h *Header) Transactional() bool { return h.Attributes&attrTransactional != 0 }

// Control reports whether the batch is a control batch (transaction marker).
func (h *Header) Control() bool { return h.Attributes&attrControl != 0 }

// HasDeleteHorizon reports whether BaseTimestamp holds the compaction
// delete horizon (KIP-534).
func (h *Header) HasDeleteHorizon() bool { return h.Attributes&attrDeleteHorizon != 0 }

// ParseHeader parses the header at the start of b. It checks the magic and
// that the declared length is plausible, but neither that b holds the whole
// batch nor the CRC: use Validate for that.
func ParseHeader(b []byte) (Header, error) {
	var h Header
	if len(b) < offMagic+1 {
		return h, ErrShort
	}
	h.Magic = int8(b[offMagic])
	if h.Magic != 2 {
		return h, fmt.Errorf("%w: magic %d", ErrUnsupportedMagic, h.Magic)
	}
	if len(b) < HeaderSize {
		return h, ErrShort
	}
	be := binary.BigEndian
	h.BaseOffset = int64(be.Uint64(b[offBaseOffset:]))
	h.Length = int32(be.Uint32(b[offLength:]))
	h.PartitionLeaderEpoch = int32(be.Uint32(b[offLeaderEpoch:]))
	h.CRC = be.Uint32(b[offCRC:])
	h.Attributes = int16(be.Uint16(b[offAttributes:]))
	h.LastOffsetDelta = int32(be.Uint32(b[offLastDelta:]))
	h.BaseTimestamp = int64(be.Uint64(b[offBaseTimestamp:]))
	h.MaxTimestamp = int64(be.Uint64(b[offMaxTimestamp:]))
	h.ProducerID = int64(be.Uint64(b[offProducerID:]))
	h.ProducerEpoch = int16(be.Uint16(b[offProducerEpoch:]))
	h.BaseSequence = int32(be.Uint32(b[offBaseSequence:]))
	h.NumRecords = int32(be.Uint32(b[offRecordCount:]))
	if h.Length < HeaderSize-lengthFieldEnd {
		return h, fmt.Errorf("%w: batch length %d below the header size", ErrInvalid, h.Length)
	}
	if h.LastOffsetDelta < 0 || h.NumRecords < 0 {
		return h, fmt.Errorf("%w: negative last offset delta %d or record count %d", ErrInvalid, h.LastOffsetDelta, h.NumRecords)
	}
	return h, nil
}

// Validate checks that b is exactly one well-formed batch: header, length,
// CRC, a known codec, and a record count consistent with the offset range
// (every producer writes contiguous offset deltas; a compacted batch may have
// fewer records than its range). It does not decompress.
func Validate(b []byte) (Header, error) {
	h, err := ParseHeader(b)
	if err != nil {
		return h, err
	}
	if h.Size() != len(b) {
		if h.Size() > len(b) {
			return h, fmt.Errorf("%w: declared %d bytes, have %d", ErrShort, h.Size(), len(b))
		}
		return h, fmt.Errorf("%w: declared %d bytes, have %d", ErrInvalid, h.Size(), len(b))
	}
	if got := ComputeCRC(b); got != h.CRC {
		return h, fmt.Errorf("%w: stored %08x, computed %08x", ErrCorrupt, h.CRC, got)
	}
	if c := h.Compression(); c > Zstd {
		return h, fmt.Errorf("%w: unknown compression codec %d", ErrInvalid, c)
	}
	if h.NumRecords == 0 && !h.Control() {
		// Empty batches exist only after compaction of idempotent data;
		// producers never send them.
		return h, fmt.Errorf("%w: no records", ErrInvalid)
	}
	if int64(h.NumRecords) > int64(h.LastOffsetDelta)+1 {
		return h, fmt.Errorf("%w: %d records in an offset range of %d", ErrInvalid, h.NumRecords, int64(h.LastOffsetDelta)+1)
	}
	return h, nil
}

// ComputeCRC computes the CRC-32C a batch should carry: over attributes to
// the end. b must hold at least HeaderSize bytes.
func ComputeCRC(b []byte) uint32 { return crc32.Checksum(b[offAttributes:], castagnoli) }

// SetBaseOffset rewrites the batch's base offset in place. The CRC does not
// cover it.
func SetBaseOffset(b []byte, offset int64) {
	binary.BigEndian.PutUint64(b[offBaseOffset:], uint64(offset))
}

// SetPartitionLeaderEpoch rewrites the batch's leader epoch in place. The
// CRC does not cover it.
func SetPartitionLeaderEpoch(b []byte, epoch int32) {
	binary.BigEndian.PutUint32(b[offLeaderEpoch:], uint32(epoch))
}

// SetLogAppendTime marks the batch's timestamps as broker-assigned, sets its
// max timestamp to ts and recomputes the CRC, as Kafka does for
// message.timestamp.type=LogAppendTime.
func SetLogAppendTime(b []byte, ts int64) {
	attrs := binary.BigEndian.Uint16(b[offAttributes:])
	binary.BigEndian.PutUint16(b[offAttributes:], attrs|attrLogAppendTime)
	binary.BigEndian.PutUint64(b[offMaxTimestamp:], uint64(ts))
	binary.BigEndian.PutUint32(b[offCRC:], ComputeCRC(b))
}

// Next returns the first batch in b and the rest of b. It parses only the
// header; it returns ErrShort if b ends inside the batch.
func Next(b []byte) (batch []byte, h Header, rest []byte, err error) {
	h, err = ParseHeader(b)
	if err != nil {
		return nil, h, b, err
	}
	n := h.Size()
	if n > len(b) {
		return nil, h, b, ErrShort
	}
	return b[:n:n], h, b[n:], nil
}
