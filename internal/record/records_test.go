package record

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"testing"
)

func sampleRecords() []Record {
	return []Record{
		{OffsetDelta: 0, TimestampDelta: 0, Key: []byte("k0"), Value: []byte("v0")},
		{OffsetDelta: 1, TimestampDelta: -5, Key: nil, Value: []byte("null key")},
		{OffsetDelta: 2, TimestampDelta: 1 << 40, Key: []byte("tombstone"), Value: nil},
		{OffsetDelta: 3, Key: []byte{}, Value: []byte{}, Attributes: 0},
		{OffsetDelta: 7, TimestampDelta: 3, Key: []byte("k7"), Value: bytes.Repeat([]byte("x"), 3000), Headers: []RecordHeader{
			{Key: "a", Value: []byte("1")}, {Key: "", Value: nil}, {Key: "empty", Value: []byte{}},
		}},
		{OffsetDelta: math.MaxInt32 - 1, TimestampDelta: math.MinInt64 / 2, Key: []byte("far"), Value: []byte("away")},
	}
}

func TestBuildRoundTrip(t *testing.T) {
	recs := sampleRecords()
	specs := []BatchSpec{
		{BaseOffset: 0, BaseTimestamp: 1000, ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1, LastOffsetDelta: -1},
		{BaseOffset: 50, BaseTimestamp: 1000, ProducerID: 7, ProducerEpoch: 2, BaseSequence: 30, LastOffsetDelta: math.MaxInt32, Transactional: true},
		{BaseOffset: 9, BaseTimestamp: 1000, LogAppendTime: true, MaxTimestamp: 99999, LastOffsetDelta: -1, Control: true},
	}
	for _, c := range codecs {
		for i, spec := range specs {
			spec.Compression = c
			b, err := Build(spec, recs)
			if err != nil {
				t.Fatalf("%v spec %d: %v", c, i, err)
			}
			h, err := Validate(b)
			if err != nil {
				t.Fatalf("%v spec %d: Validate: %v", c, i, err)
			}
			checkBuiltHeader(t, &h, &spec, recs)
			got, err := Records(b, 1<<20)
			if err != nil || !sameRecords(got, recs) {
				t.Fatalf("%v spec %d: Records: %v\ngot  %+v\nwant %+v", c, i, err, got, recs)
			}
			if _, err := Records(b, 3000); c != None && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("%v spec %d: small limit: %v", c, i, err)
			}
		}
	}
}

func checkBuiltHeader(t *testing.T, h *Header, spec *BatchSpec, recs []Record) {
	t.Helper()
	last := spec.LastOffsetDelta
	if last == -1 {
		last = recs[len(recs)-1].OffsetDelta
	}
	maxTS := spec.MaxTimestamp
	if !spec.LogAppendTime {
		maxTS = spec.BaseTimestamp + 1<<40
	}
	if h.BaseOffset != spec.BaseOffset || h.Compression() != spec.Compression ||
		h.LogAppendTime() != spec.LogAppendTime || h.Transactional() != spec.Transactional ||
		h.Control() != spec.Control || h.LastOffsetDelta != last || h.MaxTimestamp != maxTS ||
		h.BaseTimestamp != spec.BaseTimestamp || h.ProducerID != spec.ProducerID ||
		h.ProducerEpoch != spec.ProducerEpoch || h.BaseSequence != spec.BaseSequence ||
		int(h.NumRecords) != len(recs) {
		t.Fatalf("header %+v for spec %+v", *h, *spec)
	}
}

func TestBuildErrors(t *testing.T) {
	ok := []Record{{OffsetDelta: 0}, {OffsetDelta: 4}}
	tests := map[string]struct {
		spec BatchSpec
		recs []Record
	}{
		"unknown codec":            {BatchSpec{Compression: 5, LastOffsetDelta: -1}, ok},
		"negative codec":           {BatchSpec{Compression: -1, LastOffsetDelta: -1}, ok},
		"repeated offset delta":    {BatchSpec{LastOffsetDelta: -1}, []Record{{OffsetDelta: 1}, {OffsetDelta: 1}}},
		"decreasing offset delta":  {BatchSpec{LastOffsetDelta: -1}, []Record{{OffsetDelta: 2}, {OffsetDelta: 1}}},
		"negative offset delta":    {BatchSpec{LastOffsetDelta: -1}, []Record{{OffsetDelta: -1}}},
		"last delta below records": {BatchSpec{LastOffsetDelta: 3}, ok},
		"last delta -2":            {BatchSpec{LastOffsetDelta: -2}, nil},
		"derive from nothing":      {BatchSpec{LastOffsetDelta: -1}, nil},
	}
	for name, tt := range tests {
		if _, err := Build(tt.spec, tt.recs); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	// An empty batch is buildable with an explicit range (what compaction
	// leaves of idempotent data); Validate rejects it unless it is a
	// control batch.
	b, err := Build(BatchSpec{LastOffsetDelta: 4, Control: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if recs, err := Records(b, 100); err != nil || len(recs) != 0 {
		t.Fatalf("empty control batch: %v %d", err, len(recs))
	}
}

// rawBatch wraps an arbitrary records payload in a valid header.
func rawBatch(c Compression, count, last int32, payload []byte) []byte {
	b, _ := Compress(c, make([]byte, HeaderSize), payload)
	putHeader(b, &BatchSpec{Compression: c}, last, 0, count)
	return b
}

// rec encodes a record from raw parts after its length: zigzag varints for
// ints, and bytes as they are.
func rec(parts ...any) []byte {
	var body []byte
	for _, p := range parts {
		switch v := p.(type) {
		case int:
			body = binary.AppendVarint(body, int64(v))
		case []byte:
			body = append(body, v...)
		case string:
			body = append(body, v...)
		}
	}
	return append(binary.AppendVarint(nil, int64(len(body))), body...)
}

// attrs, timestamp delta, offset delta: the start of a well-formed record.
func recHead(delta int) []any { return []any{[]byte{0}, 0, delta} }

func goodRec(delta int) []byte {
	return rec(append(recHead(delta), 1, "k", 1, "v", 0)...)
}

func TestRecordsHostile(t *testing.T) {
	two := append(goodRec(0), goodRec(1)...)
	withLength := func(n int, body []byte) []byte { return append(binary.AppendVarint(nil, int64(n)), body...) }
	body := goodRec(0)[1:]
	tests := map[string][]byte{
		"count beyond data":        rawBatch(None, 1<<30, 1<<30, two),
		"count one more":           rawBatch(None, 3, 5, two),
		"trailing bytes":           rawBatch(None, 2, 1, append(bytes.Clone(two), 0)),
		"negative record length":   rawBatch(None, 1, 0, withLength(-2, body)),
		"record length past end":   rawBatch(None, 1, 0, withLength(len(body)+1, body)),
		"record longer than parts": rawBatch(None, 1, 0, withLength(len(body)+1, append(bytes.Clone(body), 0))),
		"record shorter than parts": rawBatch(None, 2, 1,
			append(withLength(len(body)-1, body[:len(body)-1]), goodRec(1)...)),
		"key length -2":          rawBatch(None, 1, 0, rec(append(recHead(0), -2, 1, "v", 0)...)),
		"key length past record": rawBatch(None, 1, 0, rec(append(recHead(0), 9, "k", 1, "v", 0)...)),
		"value length -5":        rawBatch(None, 1, 0, rec(append(recHead(0), 1, "k", -5, 0)...)),
		"header count -1":        rawBatch(None, 1, 0, rec(append(recHead(0), 1, "k", 1, "v", -1)...)),
		"header count huge":      rawBatch(None, 1, 0, rec(append(recHead(0), 1, "k", 1, "v", 1<<30, 0, 0)...)),
		"header null key":        rawBatch(None, 1, 0, rec(append(recHead(0), 1, "k", 1, "v", 1, -1, 1, "x")...)),
		"header value past end":  rawBatch(None, 1, 0, rec(append(recHead(0), 1, "k", 1, "v", 1, 1, "h", 4, "x")...)),
		"6-byte varint":          rawBatch(None, 1, 0, rec([]byte{0}, 0, []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, 1, "k", 1, "v", 0)),
		"varint over 32 bits":    rawBatch(None, 1, 0, rec([]byte{0}, 0, []byte{0xFF, 0xFF, 0xFF, 0xFF, 0x7F}, 1, "k", 1, "v", 0)),
		"11-byte varlong":        rawBatch(None, 1, 0, rec([]byte{0}, bytes.Repeat([]byte{0x80}, 10), []byte{0}, 0, 1, "k", 1, "v", 0)),
		"offset delta past last": rawBatch(None, 2, 1, append(goodRec(0), goodRec(2)...)),
		"repeated offset delta":  rawBatch(None, 2, 1, append(goodRec(1), goodRec(1)...)),
		"negative offset delta":  rawBatch(None, 1, 0, goodRec(-1)),
		"empty record":           rawBatch(None, 1, 0, []byte{0}),
	}
	for name, b := range tests {
		var err error
		n := allocated(func() { _, err = Records(b, 1<<20) })
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
		if n > 4096 {
			t.Errorf("%s: allocated %d bytes for a %d byte batch", name, n, len(b))
		}
	}
	corrupt := mutate(rawBatch(Gzip, 2, 1, two), true, func(b []byte) { b[HeaderSize+12] ^= 0xFF })
	if _, err := Records(corrupt, 1<<20); !errors.Is(err, ErrInvalid) {
		t.Errorf("corrupt gzip: %v, want ErrInvalid", err)
	}
	if recs, err := Records(rawBatch(None, 2, 1, two), 10); err != nil || len(recs) != 2 {
		t.Fatalf("control case: %v", err)
	}
}

func TestRecordsCorruptAndLimits(t *testing.T) {
	b, err := Build(BatchSpec{Compression: Zstd, LastOffsetDelta: -1}, sampleRecords())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Records(mutate(b, false, func(b []byte) { b[len(b)-3] ^= 1 }), 1<<20); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("bad CRC: %v", err)
	}
	if _, err := Records(b[:len(b)-1], 1<<20); !errors.Is(err, ErrShort) {
		t.Fatalf("truncated: %v", err)
	}
	if _, err := Records(b, 100); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("limit: %v", err)
	}
}

// TestRecordsAlias checks that decoded records point into the batch
// rather than copying when uncompressed.
func TestRecordsAlias(t *testing.T) {
	b, _ := Build(BatchSpec{LastOffsetDelta: -1}, sampleRecords()[:1])
	recs, err := Records(b, 0)
	if err != nil {
		t.Fatal(err)
	}
	recs[0].Value[0] = 'X'
	if !bytes.Contains(b, []byte("X0")) {
		t.Fatal("value does not alias the batch")
	}
}
