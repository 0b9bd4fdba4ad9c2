package record

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// The files in testdata/client-batches hold RecordBatches exactly as
// franz-go's producer sent them, captured from the Produce requests it wrote
// to the socket (see client_batches_gen_test.go and the README there).

const clientBatchDir = "testdata/client-batches"

// clientRecords is how many records each file holds.
const clientRecords = 40

// clientBaseTime is the first record's timestamp; record i is 7i ms later.
var clientBaseTime = time.UnixMilli(1_700_000_000_000)

// clientFiles maps each file to the codec its batches must carry.
var clientFiles = []struct {
	name  string
	codec Compression
}{
	{"none", None},
	{"gzip", Gzip},
	{"snappy", Snappy},
	{"lz4", LZ4},
	{"zstd", Zstd},
	{"snappy-xerial", Snappy},
}

// clientRecord is the deterministic record i: keys key-000..., record 5 with
// a null key, 9 a tombstone, 12 an empty key and value, and headers on
// some, including null and empty header values.
func clientRecord(i int) Record {
	r := Record{Key: fmt.Appendf(nil, "key-%03d", i), Value: clientValue(i)}
	switch i {
	case 5:
		r.Key = nil
	case 9:
		r.Value = nil
	case 12:
		r.Key, r.Value = []byte{}, []byte{}
	}
	if i%4 == 0 {
		r.Headers = append(r.Headers,
			RecordHeader{Key: "seq", Value: fmt.Appendf(nil, "%d", i)},
			RecordHeader{Key: "null", Value: nil})
	}
	if i%7 == 3 {
		r.Headers = append(r.Headers, RecordHeader{Key: "empty", Value: []byte{}})
	}
	return r
}

// clientValue is 100 to 300 bytes of compressible text, different per i.
func clientValue(i int) []byte {
	words := []string{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot"}
	n := 100 + (i*53)%201
	var b []byte
	for j := 0; len(b) < n; j++ {
		b = fmt.Appendf(b, "%03d-%s-%d ", i, words[(i+j)%len(words)], j%3)
	}
	return b[:n]
}

func TestClientBatches(t *testing.T) {
	for _, f := range clientFiles {
		t.Run(f.name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(clientBatchDir, f.name+".bin"))
			if err != nil {
				t.Fatal(err)
			}
			checkClientFile(t, data, f.codec, f.name == "snappy-xerial")
		})
	}
}

func checkClientFile(t *testing.T, data []byte, codec Compression, wantXerial bool) {
	next, batches, xerial := 0, 0, 0
	for len(data) > 0 {
		batch, _, rest, err := Next(data)
		if err != nil {
			t.Fatalf("batch %d: %v", batches, err)
		}
		data = rest
		batches++
		h, err := Validate(batch)
		if err != nil {
			t.Fatalf("batch %d: %v", batches, err)
		}
		if h.Compression() != codec {
			t.Fatalf("batch %d: codec %v, want %v", batches, h.Compression(), codec)
		}
		if bytes.HasPrefix(batch[HeaderSize:], xerialMagic) {
			xerial++
		}
		recs, err := Records(batch, 1<<20)
		if err != nil {
			t.Fatalf("batch %d: %v", batches, err)
		}
		if int(h.NumRecords) != len(recs) || h.LastOffsetDelta != h.NumRecords-1 {
			t.Fatalf("batch %d: %d records, header %+v", batches, len(recs), h)
		}
		for j := range recs {
			checkClientRecord(t, &h, &recs[j], next, j)
			next++
		}
	}
	if next != clientRecords {
		t.Fatalf("%d records in %d batches, want %d", next, batches, clientRecords)
	}
	if wantXerial && xerial == 0 {
		t.Fatal("no batch uses xerial framing")
	}
	t.Logf("%d batches, %d xerial-framed", batches, xerial)
}

func checkClientRecord(t *testing.T, h *Header, r *Record, i, delta int) {
	t.Helper()
	want := clientRecord(i)
	if !sameBytes(r.Key, want.Key) || !sameBytes(r.Value, want.Value) || !sameHeaders(r.Headers, want.Headers) {
		t.Fatalf("record %d: got key %q value %q headers %q, want %q %q %q",
			i, r.Key, r.Value, r.Headers, want.Key, want.Value, want.Headers)
	}
	if int(r.OffsetDelta) != delta {
		t.Fatalf("record %d: offset delta %d, want %d", i, r.OffsetDelta, delta)
	}
	if ts := r.Timestamp(h); ts != clientBaseTime.UnixMilli()+7*int64(i) {
		t.Fatalf("record %d: timestamp %d", i, ts)
	}
}

// sameBytes compares contents and null-ness.
func sameBytes(a, b []byte) bool { return (a == nil) == (b == nil) && bytes.Equal(a, b) }

func sameHeaders(a, b []RecordHeader) bool {
	return slices.EqualFunc(a, b, func(x, y RecordHeader) bool { return x.Key == y.Key && sameBytes(x.Value, y.Value) })
}

func sameRecords(a, b []Record) bool {
	return slices.EqualFunc(a, b, func(x, y Record) bool {
		return x.Attributes == y.Attributes && x.TimestampDelta == y.TimestampDelta &&
			x.OffsetDelta == y.OffsetDelta && sameBytes(x.Key, y.Key) &&
			sameBytes(x.Value, y.Value) && sameHeaders(x.Headers, y.Headers)
	})
}
