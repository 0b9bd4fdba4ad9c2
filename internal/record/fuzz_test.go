package record

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/s2"
)

// Fuzz targets. Their seeds are the client batches, batches Build makes and
// a few hostile ones, plus the committed corpus in testdata/fuzz; plain go
// test runs all of them. Fuzz one at a time:
//
//	go test -run '^$' -fuzz '^FuzzValidate$' -fuzztime 60s ./internal/record/

// seedBatches returns the client batches up to 1500 bytes (larger seeds
// make the fuzzer's minimization of new inputs crawl), built batches for
// each codec and some malformed ones.
func seedBatches(tb testing.TB) [][]byte {
	var out [][]byte
	for _, f := range clientFiles {
		data, err := os.ReadFile(filepath.Join(clientBatchDir, f.name+".bin"))
		if err != nil {
			tb.Fatal(err)
		}
		for len(data) > 0 {
			batch, _, rest, err := Next(data)
			if err != nil {
				tb.Fatal(err)
			}
			if len(batch) <= 1500 {
				out = append(out, batch)
			}
			data = rest
		}
	}
	recs := sampleRecords()
	recs[4].Value = recs[4].Value[:40]
	for _, c := range codecs {
		b, err := Build(BatchSpec{Compression: c, LastOffsetDelta: -1, BaseTimestamp: 10}, recs)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, b)
	}
	ctl, _ := Build(BatchSpec{Control: true, LastOffsetDelta: 0}, nil)
	good := testBatch(tb, 2)
	out = append(out, ctl, good[:HeaderSize], mutate(good, true, put32(offRecordCount, 3)),
		rawBatch(None, 1, 0, rec(append(recHead(0), 1, "k", 1, "v", 1, 1, "h", -1)...)))
	return out
}

// knownError reports whether err wraps one of the package's errors.
func knownError(err error) bool {
	for _, e := range []error{ErrShort, ErrUnsupportedMagic, ErrCorrupt, ErrInvalid, ErrTooLarge} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func FuzzValidate(f *testing.F) {
	for _, b := range seedBatches(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ph, perr := ParseHeader(b)
		batch, nh, rest, nerr := Next(b)
		if perr != nil && (nerr == nil || nerr.Error() != perr.Error()) ||
			perr == nil && nerr != nil && !errors.Is(nerr, ErrShort) {
			t.Fatalf("ParseHeader %v, Next %v", perr, nerr)
		}
		if nerr == nil && (nh != ph || len(batch) != nh.Size() || len(batch)+len(rest) != len(b)) {
			t.Fatalf("Next: %d + %d bytes of %d, header %+v", len(batch), len(rest), len(b), nh)
		}
		h, err := Validate(b)
		if err != nil {
			if !knownError(err) {
				t.Fatalf("unknown error %v", err)
			}
			return
		}
		if h != ph || nerr != nil || len(rest) != 0 {
			t.Fatalf("Validate accepted what Next split: %v, %d bytes left", nerr, len(rest))
		}
		checkRewrites(t, bytes.Clone(b), h)
	})
}

// checkRewrites rewrites a valid batch in place and checks it stays valid.
func checkRewrites(t *testing.T, b []byte, h Header) {
	SetBaseOffset(b, ^h.BaseOffset)
	SetPartitionLeaderEpoch(b, ^h.PartitionLeaderEpoch)
	h2, err := Validate(b)
	if err != nil || h2.BaseOffset != ^h.BaseOffset || h2.PartitionLeaderEpoch != ^h.PartitionLeaderEpoch || h2.CRC != h.CRC {
		t.Fatalf("after SetBaseOffset/SetPartitionLeaderEpoch: %v %+v", err, h2)
	}
	ts := h.MaxTimestamp ^ 0x5555
	SetLogAppendTime(b, ts)
	h3, err := Validate(b)
	if err != nil || !h3.LogAppendTime() || h3.MaxTimestamp != ts {
		t.Fatalf("after SetLogAppendTime: %v %+v", err, h3)
	}
	h3.Attributes &^= attrLogAppendTime
	h3.MaxTimestamp, h3.CRC = h2.MaxTimestamp, h2.CRC
	h2.Attributes &^= attrLogAppendTime
	if h3 != h2 {
		t.Fatalf("SetLogAppendTime changed other fields:\n%+v\n%+v", h3, h2)
	}
}

const fuzzLimit = 1 << 16

func FuzzRecords(f *testing.F) {
	for _, b := range seedBatches(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		// Fix the length and CRC so the fuzzer explores records, not
		// checksums (FuzzValidate covers those).
		b = bytes.Clone(b)
		if len(b) >= HeaderSize {
			binary.BigEndian.PutUint32(b[offLength:], uint32(len(b)-lengthFieldEnd))
			binary.BigEndian.PutUint32(b[offCRC:], ComputeCRC(b))
		}
		recs, err := Records(b, fuzzLimit)
		if err != nil {
			if !knownError(err) {
				t.Fatalf("unknown error %v", err)
			}
			return
		}
		h, _ := Validate(b)
		if len(recs) != int(h.NumRecords) {
			t.Fatalf("%d records, header says %d", len(recs), h.NumRecords)
		}
		rebuilt, err := Build(specOf(&h), recs)
		if err != nil {
			t.Fatalf("Build: %v", err)
		}
		if _, err := Validate(rebuilt); err != nil {
			t.Fatalf("Validate(Build): %v", err)
		}
		again, err := Records(rebuilt, fuzzLimit)
		if err != nil || !sameRecords(again, recs) {
			t.Fatalf("round trip: %v\n%+v\n%+v", err, again, recs)
		}
	})
}

// specOf is the spec that rebuilds a batch with header h.
func specOf(h *Header) BatchSpec {
	return BatchSpec{
		BaseOffset: h.BaseOffset, PartitionLeaderEpoch: h.PartitionLeaderEpoch,
		Compression: h.Compression(), LogAppendTime: h.LogAppendTime(),
		Transactional: h.Transactional(), Control: h.Control(),
		BaseTimestamp: h.BaseTimestamp, MaxTimestamp: h.MaxTimestamp,
		ProducerID: h.ProducerID, ProducerEpoch: h.ProducerEpoch,
		BaseSequence: h.BaseSequence, LastOffsetDelta: h.LastOffsetDelta,
	}
}

// seedPayloads returns compressed data for codec c: the records of the
// client and built batches, and some edge cases.
func seedPayloads(tb testing.TB, c Compression) [][]byte {
	var out [][]byte
	for _, b := range seedBatches(tb) {
		if h, err := ParseHeader(b); err == nil && h.Compression() == c {
			out = append(out, b[HeaderSize:])
		}
	}
	for _, n := range []int{0, 1, 5000} {
		enc, _ := Compress(c, nil, testData(n, 9))
		out = append(out, enc)
	}
	switch c {
	case Snappy:
		out = append(out, hugeSnappy(1<<20), xerial(s2.EncodeSnappy(nil, []byte("chunk one")), s2.EncodeSnappy(nil, []byte("two"))))
	case Zstd:
		out = append(out, zstdRLEBomb(3))
	case LZ4:
		out = append(out, lz4FrameHeader(0x40, 0x40, 0))
	}
	return out
}

func fuzzDecompress(f *testing.F, c Compression) {
	for _, b := range seedPayloads(f, c) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		const small, big = 1 << 12, 1 << 15
		out, err := Decompress(c, src, small)
		outBig, errBig := Decompress(c, src, big)
		switch {
		case err == nil:
			if len(out) > small || errBig != nil || !bytes.Equal(out, outBig) {
				t.Fatalf("%d bytes under %d; with %d: %v, %d bytes", len(out), small, big, errBig, len(outBig))
			}
		case errors.Is(err, ErrTooLarge):
			if errBig == nil && len(outBig) <= small {
				t.Fatalf("too large for %d, but %d bytes with %d", small, len(outBig), big)
			}
			return
		case errors.Is(err, ErrInvalid):
			if errBig == nil {
				t.Fatalf("invalid under %d, but %d bytes with %d", small, len(outBig), big)
			}
			return
		default:
			t.Fatalf("unknown error %v", err)
		}
		enc, err := Compress(c, nil, out)
		if err != nil {
			t.Fatal(err)
		}
		if again, err := Decompress(c, enc, len(out)); err != nil || !bytes.Equal(again, out) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

func FuzzDecompressGzip(f *testing.F)   { fuzzDecompress(f, Gzip) }
func FuzzDecompressSnappy(f *testing.F) { fuzzDecompress(f, Snappy) }
func FuzzDecompressLZ4(f *testing.F)    { fuzzDecompress(f, LZ4) }
func FuzzDecompressZstd(f *testing.F)   { fuzzDecompress(f, Zstd) }
