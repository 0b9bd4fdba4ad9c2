package record

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Record is one record of a v2 batch (Kafka's DefaultRecord, KIP-98):
//
//	length varint | attributes int8 | timestampDelta varlong |
//	offsetDelta varint | keyLength varint | key | valueLength varint |
//	value | headerCount varint | headers
//
// with headers [keyLength varint | key | valueLength varint | value]. All
// varints are zigzag-encoded; a length of -1 is null.
//
// A nil Key or Value is null (a nil Value is a tombstone); an empty non-null
// one is a non-nil empty slice.
type Record struct {
	Attributes     int8
	TimestampDelta int64
	OffsetDelta    int32
	Key            []byte
	Value          []byte
	Headers        []RecordHeader
}

// RecordHeader is a record header. A nil Value is null.
type RecordHeader struct {
	Key   string
	Value []byte
}

// Offset is the record's offset in a batch whose base offset is base.
func (r *Record) Offset(base int64) int64 { return base + int64(r.OffsetDelta) }

// Timestamp is the record's timestamp in the batch with header h: the
// batch's MaxTimestamp if the broker assigned it (LogAppendTime), else
// BaseTimestamp plus the record's delta.
func (r *Record) Timestamp(h *Header) int64 {
	if h.LogAppendTime() {
		return h.MaxTimestamp
	}
	return h.BaseTimestamp + r.TimestampDelta
}

// minRecordSize is the smallest encoding of a record: one byte each for
// length, attributes, timestamp delta, offset delta, key length, value
// length and header count.
const minRecordSize = 7

// Records validates batch (as Validate does, CRC included), decompresses its
// records with at most maxDecompressed bytes of output, and decodes exactly
// NumRecords records. Each record must fill exactly its declared length,
// offset deltas must increase within [0, LastOffsetDelta], and no bytes may
// follow the last record. The returned keys, values and header values alias
// batch or the decompressed buffer.
func Records(batch []byte, maxDecompressed int) ([]Record, error) {
	h, err := Validate(batch)
	if err != nil {
		return nil, err
	}
	data := batch[HeaderSize:]
	if c := h.Compression(); c != None {
		if data, err = Decompress(c, data, maxDecompressed); err != nil {
			return nil, err
		}
	}
	return decodeRecords(&h, data)
}

func decodeRecords(h *Header, data []byte) ([]Record, error) {
	// Every record takes minRecordSize bytes or more, so a count the data
	// cannot hold fails before anything is allocated for it.
	if int64(h.NumRecords) > int64(len(data)/minRecordSize) {
		return nil, fmt.Errorf("%w: %d records in %d bytes", ErrInvalid, h.NumRecords, len(data))
	}
	recs := make([]Record, h.NumRecords)
	d := decoder{b: data}
	prev := int64(-1)
	for i := range recs {
		if err := d.record(&recs[i]); err != nil {
			return nil, fmt.Errorf("%w: record %d: %v", ErrInvalid, i, err)
		}
		delta := int64(recs[i].OffsetDelta)
		if delta <= prev || delta > int64(h.LastOffsetDelta) {
			return nil, fmt.Errorf("%w: record %d: offset delta %d after %d, last offset delta %d",
				ErrInvalid, i, delta, prev, h.LastOffsetDelta)
		}
		prev = delta
	}
	if len(d.b) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the last record", ErrInvalid, len(d.b))
	}
	return recs, nil
}

// decoder reads records from b, consuming it.
type decoder struct {
	b   []byte
	err error
}

// record decodes one record; it must consume exactly its declared length.
func (d *decoder) record(r *Record) error {
	n := d.varint()
	if d.err == nil && (n < 0 || int64(n) > int64(len(d.b))) {
		return fmt.Errorf("length %d with %d bytes left", n, len(d.b))
	}
	if d.err != nil {
		return d.err
	}
	body := decoder{b: d.b[:n]}
	d.b = d.b[n:]
	body.fields(r)
	if body.err != nil {
		return body.err
	}
	if len(body.b) != 0 {
		return fmt.Errorf("%d bytes left inside its declared length %d", len(body.b), n)
	}
	return nil
}

func (d *decoder) fields(r *Record) {
	r.Attributes = int8(d.byte())
	r.TimestampDelta = d.varlong()
	r.OffsetDelta = d.varint()
	r.Key = d.bytes()
	r.Value = d.bytes()
	count := d.varint()
	if d.err != nil {
		return
	}
	// A header takes two bytes or more (two lengths).
	if count < 0 || int64(count) > int64(len(d.b)/2) {
		d.fail(fmt.Errorf("header count %d with %d bytes left", count, len(d.b)))
		return
	}
	if count == 0 {
		return
	}
	r.Headers = make([]RecordHeader, count)
	for i := range r.Headers {
		k := d.bytes()
		if d.err == nil && k == nil {
			d.fail(fmt.Errorf("header %d has a null key", i))
		}
		r.Headers[i] = RecordHeader{Key: string(k), Value: d.bytes()}
		if d.err != nil {
			return
		}
	}
}

func (d *decoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
	d.b = nil
}

func (d *decoder) byte() byte {
	if len(d.b) < 1 {
		d.fail(fmt.Errorf("truncated"))
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

// varlong reads a zigzag varint of up to 10 bytes.
func (d *decoder) varlong() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail(fmt.Errorf("bad varlong"))
		return 0
	}
	d.b = d.b[n:]
	return v
}

// varint reads a zigzag varint that must fit 32 bits (5 bytes or fewer).
func (d *decoder) varint() int32 {
	u, n := binary.Uvarint(d.b)
	if n <= 0 || n > 5 || u > math.MaxUint32 {
		d.fail(fmt.Errorf("bad varint"))
		return 0
	}
	d.b = d.b[n:]
	return int32(uint32(u)>>1) ^ -int32(u&1)
}

// bytes reads a length-prefixed byte string: nil for length -1, a non-nil
// slice of d.b otherwise.
func (d *decoder) bytes() []byte {
	n := d.varint()
	if d.err != nil {
		return nil
	}
	switch {
	case n == -1:
		return nil
	case n < -1 || int64(n) > int64(len(d.b)):
		d.fail(fmt.Errorf("length %d with %d bytes left", n, len(d.b)))
		return nil
	}
	b := d.b[:n:n]
	d.b = d.b[n:]
	return b
}
