package record

import (
	"fmt"
	"hash/crc32"
	"testing"
)

// BenchmarkCRC32C and BenchmarkMemcpy are the machine's limits: every byte
// a broker accepts is CRC'd once (Validate) and copied at least once.
func BenchmarkCRC32C(b *testing.B) {
	buf := testData(1<<20, 1)
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		crc32.Checksum(buf, castagnoli)
	}
}

func BenchmarkMemcpy(b *testing.B) {
	src := testData(1<<20, 1)
	dst := make([]byte, len(src))
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		copy(dst, src)
	}
}

// benchRecords returns records of about size bytes in all: 100-byte
// values, like a typical small-message workload.
func benchRecords(size int) []Record {
	var recs []Record
	for i := 0; size > 0; i++ {
		r := Record{OffsetDelta: int32(i), TimestampDelta: int64(i), Key: fmt.Appendf(nil, "key-%06d", i), Value: testData(100, uint64(i))}
		recs = append(recs, r)
		size -= 100 + 10 + 10
	}
	return recs
}

func BenchmarkValidate16KiB(b *testing.B) {
	batch, err := Build(BatchSpec{LastOffsetDelta: -1}, benchRecords(16<<10))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(batch)))
	for b.Loop() {
		if _, err := Validate(batch); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecompress decompresses the records of a 64 KiB batch; the
// byte rate is of decompressed data.
func BenchmarkDecompress(b *testing.B) {
	recs := benchRecords(64 << 10)
	raw := appendRecords(nil, recs)
	for _, c := range codecs[1:] {
		enc, err := Compress(c, nil, raw)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.String(), func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				if _, err := Decompress(c, enc, 1<<20); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(raw))/float64(len(enc)), "ratio")
		})
	}
}

func BenchmarkRecords(b *testing.B) {
	for _, c := range []Compression{None, Zstd} {
		batch, err := Build(BatchSpec{Compression: c, LastOffsetDelta: -1}, benchRecords(64<<10))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.String(), func(b *testing.B) {
			b.SetBytes(int64(len(batch)))
			for b.Loop() {
				if _, err := Records(batch, 1<<20); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkBuild(b *testing.B) {
	recs := benchRecords(64 << 10)
	for _, c := range codecs {
		b.Run(c.String(), func(b *testing.B) {
			for b.Loop() {
				if _, err := Build(BatchSpec{Compression: c, LastOffsetDelta: -1}, recs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
