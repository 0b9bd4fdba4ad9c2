package record

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// testBatch builds a valid uncompressed batch of n records.
func testBatch(t testing.TB, n int) []byte {
	t.Helper()
	recs := make([]Record, n)
	for i := range recs {
		recs[i] = Record{OffsetDelta: int32(i), TimestampDelta: int64(i), Key: []byte{'k', byte(i)}, Value: []byte("value")}
	}
	b, err := Build(BatchSpec{BaseOffset: 100, BaseTimestamp: 1000, ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1, LastOffsetDelta: -1}, recs)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// mutate returns a copy of b changed by f, with the CRC recomputed when fix.
func mutate(b []byte, fix bool, f func(b []byte)) []byte {
	b = bytes.Clone(b)
	f(b)
	if fix && len(b) >= HeaderSize {
		binary.BigEndian.PutUint32(b[offCRC:], ComputeCRC(b))
	}
	return b
}

func put32(off int, v int32) func([]byte) {
	return func(b []byte) { binary.BigEndian.PutUint32(b[off:], uint32(v)) }
}

func TestValidateErrors(t *testing.T) {
	good := testBatch(t, 3)
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"valid", good, nil},
		{"empty", nil, ErrShort},
		{"shorter than magic", good[:16], ErrShort},
		{"magic 0", mutate(good, true, func(b []byte) { b[offMagic] = 0 }), ErrUnsupportedMagic},
		{"magic 1", mutate(good, true, func(b []byte) { b[offMagic] = 1 }), ErrUnsupportedMagic},
		{"magic 3", mutate(good, true, func(b []byte) { b[offMagic] = 3 }), ErrUnsupportedMagic},
		{"magic 0 short", []byte{15: 0, 16: 0}, ErrUnsupportedMagic},
		{"header truncated", good[:HeaderSize-1], ErrShort},
		{"records truncated", good[:len(good)-1], ErrShort},
		{"length below header", mutate(good, true, put32(offLength, HeaderSize-lengthFieldEnd-1)), ErrInvalid},
		{"negative length", mutate(good, true, put32(offLength, -1)), ErrInvalid},
		{"length claims more", mutate(good, true, put32(offLength, int32(len(good)))), ErrShort},
		{"length claims less", mutate(good, true, put32(offLength, int32(len(good)-lengthFieldEnd-1))), ErrInvalid},
		{"trailing byte", append(bytes.Clone(good), 0), ErrInvalid},
		{"bad crc", mutate(good, false, func(b []byte) { b[offCRC] ^= 1 }), ErrCorrupt},
		{"flipped record byte", mutate(good, false, func(b []byte) { b[len(b)-1] ^= 0x80 }), ErrCorrupt},
		{"flipped attribute", mutate(good, false, func(b []byte) { b[offAttributes+1] ^= 0x10 }), ErrCorrupt},
		{"codec 5", mutate(good, true, func(b []byte) { b[offAttributes+1] |= 5 }), ErrInvalid},
		{"codec 7", mutate(good, true, func(b []byte) { b[offAttributes+1] |= 7 }), ErrInvalid},
		{"more records than range", mutate(good, true, put32(offRecordCount, 4)), ErrInvalid},
		{"negative count", mutate(good, true, put32(offRecordCount, -1)), ErrInvalid},
		{"negative last delta", mutate(good, true, put32(offLastDelta, -1)), ErrInvalid},
		{"no records", mutate(good, true, put32(offRecordCount, 0)), ErrInvalid},
		{"control, no records", mutate(good, true, func(b []byte) {
			put32(offRecordCount, 0)(b)
			b[offAttributes+1] |= attrControl
		}), nil},
		{"fewer records than range", mutate(good, true, put32(offLastDelta, 10)), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Validate(tt.b)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("Validate: %v, want %v", err, tt.want)
			}
		})
	}
}

func TestParseHeaderFields(t *testing.T) {
	b, err := Build(BatchSpec{
		BaseOffset: 1 << 40, PartitionLeaderEpoch: 7, Compression: Zstd,
		Transactional: true, BaseTimestamp: 5000, ProducerID: 99,
		ProducerEpoch: 3, BaseSequence: 12, LastOffsetDelta: 9,
	}, []Record{{OffsetDelta: 2, TimestampDelta: 40}, {OffsetDelta: 5, TimestampDelta: -3}})
	if err != nil {
		t.Fatal(err)
	}
	h, err := Validate(b)
	if err != nil {
		t.Fatal(err)
	}
	want := Header{
		BaseOffset: 1 << 40, Length: int32(len(b) - 12), PartitionLeaderEpoch: 7, Magic: 2,
		CRC: ComputeCRC(b), Attributes: int16(Zstd) | attrTransactional, LastOffsetDelta: 9,
		BaseTimestamp: 5000, MaxTimestamp: 5040, ProducerID: 99, ProducerEpoch: 3,
		BaseSequence: 12, NumRecords: 2,
	}
	if h != want {
		t.Fatalf("header\n%+v, want\n%+v", h, want)
	}
	if h.Size() != len(b) || h.LastOffset() != 1<<40+9 || h.NextOffset() != 1<<40+10 {
		t.Fatalf("Size %d LastOffset %d NextOffset %d", h.Size(), h.LastOffset(), h.NextOffset())
	}
	if h.Compression() != Zstd || !h.Transactional() || h.Control() || h.LogAppendTime() || h.HasDeleteHorizon() {
		t.Fatalf("attributes %x", h.Attributes)
	}
}

func TestRewriteInPlace(t *testing.T) {
	b := testBatch(t, 4)
	SetBaseOffset(b, 123456789)
	SetPartitionLeaderEpoch(b, 42)
	h, err := Validate(b)
	if err != nil {
		t.Fatal(err)
	}
	if h.BaseOffset != 123456789 || h.PartitionLeaderEpoch != 42 {
		t.Fatalf("header %+v", h)
	}
	SetLogAppendTime(b, 777)
	if h, err = Validate(b); err != nil {
		t.Fatal(err)
	}
	if !h.LogAppendTime() || h.MaxTimestamp != 777 || h.BaseTimestamp != 1000 {
		t.Fatalf("after SetLogAppendTime: %+v", h)
	}
	recs, err := Records(b, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	for i := range recs {
		if ts := recs[i].Timestamp(&h); ts != 777 {
			t.Fatalf("record %d timestamp %d, want 777", i, ts)
		}
		if off := recs[i].Offset(h.BaseOffset); off != 123456789+int64(i) {
			t.Fatalf("record %d offset %d", i, off)
		}
	}
}

func TestNext(t *testing.T) {
	a, b := testBatch(t, 1), testBatch(t, 5)
	all := append(append(bytes.Clone(a), b...), a[:30]...)
	batch, h, rest, err := Next(all)
	if err != nil || !bytes.Equal(batch, a) || h.NumRecords != 1 {
		t.Fatalf("first: %v %d", err, h.NumRecords)
	}
	if cap(batch) != len(a) {
		t.Fatalf("batch capacity %d reaches into the next batch", cap(batch))
	}
	batch, _, rest, err = Next(rest)
	if err != nil || !bytes.Equal(batch, b) {
		t.Fatalf("second: %v", err)
	}
	if _, _, rest2, err := Next(rest); !errors.Is(err, ErrShort) || len(rest2) != 30 {
		t.Fatalf("partial: %v, rest %d", err, len(rest2))
	}
	if _, _, _, err := Next(a[:HeaderSize+1]); !errors.Is(err, ErrShort) {
		t.Fatalf("truncated: %v", err)
	}
}

func TestCompressionString(t *testing.T) {
	for c, want := range map[Compression]string{None: "none", Gzip: "gzip", Snappy: "snappy", LZ4: "lz4", Zstd: "zstd", 6: "compression(6)"} {
		if c.String() != want {
			t.Errorf("%d: %q, want %q", c, c.String(), want)
		}
	}
}
