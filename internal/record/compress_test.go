package record

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

var codecs = []Compression{None, Gzip, Snappy, LZ4, Zstd}

// testData is n bytes that compress somewhat: words with random digits.
func testData(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, 0, n+16)
	for len(b) < n {
		b = append(b, "record-"...)
		b = binary.AppendUvarint(b, r.Uint64N(1000))
		if r.IntN(4) == 0 {
			b = append(b, byte(r.Uint32()))
		}
	}
	return b[:n]
}

// allocated is how many bytes f allocates.
// allocated is the fewest bytes the process allocated over three runs of
// f: TotalAlloc counts every goroutine's allocations, so one run can catch
// the runtime's or another test's (a CI run once saw 6 KiB that way).
func allocated(f func()) uint64 {
	least := uint64(1<<64 - 1)
	for range 3 {
		var a, b runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&a)
		f()
		runtime.ReadMemStats(&b)
		least = min(least, b.TotalAlloc-a.TotalAlloc)
	}
	return least
}

func TestCodecRoundTrip(t *testing.T) {
	sizes := []int{0, 1, 100, 70_000, 300_000}
	for _, c := range codecs {
		for _, n := range sizes {
			src := testData(n, uint64(n))
			prefix := []byte("prefix")
			enc, err := Compress(c, bytes.Clone(prefix), src)
			if err != nil || !bytes.HasPrefix(enc, prefix) {
				t.Fatalf("%v %d: Compress: %v", c, n, err)
			}
			got, err := Decompress(c, enc[len(prefix):], n)
			if err != nil || !bytes.Equal(got, src) {
				t.Fatalf("%v %d: Decompress: %v (%d bytes)", c, n, err, len(got))
			}
			if n > 0 {
				if _, err := Decompress(c, enc[len(prefix):], n-1); !errors.Is(err, ErrTooLarge) {
					t.Fatalf("%v %d: limit %d: %v, want ErrTooLarge", c, n, n-1, err)
				}
			}
		}
	}
}

// TestForeignEncoders decodes what the libraries' own encoders write with
// settings other than ours: linked LZ4 blocks with block checksums and a
// content size, zstd frames without a content size, several frames.
func TestForeignEncoders(t *testing.T) {
	src := testData(200_000, 7)
	var lz bytes.Buffer
	w := lz4.NewWriter(&lz)
	if err := w.Apply(lz4.BlockSizeOption(lz4.Block64Kb), lz4.BlockChecksumOption(true), lz4.SizeOption(uint64(len(src)))); err != nil {
		t.Fatal(err)
	}
	w.Write(src)
	w.Close()
	var zs bytes.Buffer
	zw, _ := zstd.NewWriter(&zs, zstd.WithWindowSize(1<<17))
	zw.Write(src)
	zw.Close()
	twoFrames, _ := Compress(Zstd, bytes.Clone(zs.Bytes()), src)
	skippable := append([]byte{0x50, 0x2A, 0x4D, 0x18, 3, 0, 0, 0, 1, 2, 3}, lz.Bytes()...)
	tests := []struct {
		name string
		c    Compression
		enc  []byte
		want []byte
	}{
		{"lz4 checksums and size", LZ4, lz.Bytes(), src},
		{"lz4 skippable frame first", LZ4, skippable, src},
		{"lz4 two frames", LZ4, append(bytes.Clone(lz.Bytes()), lz.Bytes()...), append(bytes.Clone(src), src...)},
		{"zstd streamed, no content size", Zstd, zs.Bytes(), src},
		{"zstd two frames", Zstd, twoFrames, append(bytes.Clone(src), src...)},
		{"gzip two members", Gzip, gzipTwice(t, src), append(bytes.Clone(src), src...)},
	}
	for _, tt := range tests {
		got, err := Decompress(tt.c, tt.enc, len(tt.want))
		if err != nil || !bytes.Equal(got, tt.want) {
			t.Fatalf("%s: %v (%d bytes)", tt.name, err, len(got))
		}
		if _, err := Decompress(tt.c, tt.enc, len(tt.want)-1); !errors.Is(err, ErrTooLarge) {
			t.Fatalf("%s: limit: %v, want ErrTooLarge", tt.name, err)
		}
	}
}

func gzipTwice(t *testing.T, src []byte) []byte {
	b, err := Compress(Gzip, nil, src)
	if err != nil {
		t.Fatal(err)
	}
	b, err = Compress(Gzip, b, src)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func xerial(chunks ...[]byte) []byte {
	b := append(bytes.Clone(xerialMagic), 0, 0, 0, 1, 0, 0, 0, 1)
	for _, c := range chunks {
		b = binary.BigEndian.AppendUint32(b, uint32(len(c)))
		b = append(b, c...)
	}
	return b
}

func TestXerial(t *testing.T) {
	a, b := testData(40_000, 1), testData(10_000, 2)
	enc := xerial(s2.EncodeSnappy(nil, a), s2.EncodeSnappy(nil, b))
	got, err := Decompress(Snappy, enc, len(a)+len(b))
	if err != nil || !bytes.Equal(got, append(bytes.Clone(a), b...)) {
		t.Fatalf("xerial: %v", err)
	}
	if got, err := Decompress(Snappy, xerial(), 10); err != nil || len(got) != 0 {
		t.Fatalf("xerial, no chunks: %v %d", err, len(got))
	}
	lying := xerial(s2.EncodeSnappy(nil, a))
	binary.BigEndian.PutUint32(lying[xerialHeaderSize:], uint32(len(lying)))
	negative := bytes.Clone(enc)
	binary.BigEndian.PutUint32(negative[xerialHeaderSize:], 0x80000000)
	for name, bad := range map[string][]byte{
		"chunk length past the end": lying,
		"negative chunk length":     negative,
		"header truncated":          enc[:12],
		"chunk length truncated":    enc[:xerialHeaderSize+2],
		"chunk truncated":           enc[:len(enc)-1],
		"corrupt chunk":             xerial([]byte{10, 0, 1}),
	} {
		if _, err := Decompress(Snappy, bad, 1<<20); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
}

// hugeSnappy is a raw snappy block declaring n decoded bytes but holding
// one literal.
func hugeSnappy(n uint64) []byte { return append(binary.AppendUvarint(nil, n), 0, 'x') }

// zstdRLEBomb is a zstd frame without a content size: blocks RLE blocks of
// 128 KiB each, 4 bytes apiece.
func zstdRLEBomb(blocks int) []byte {
	b := []byte{0x28, 0xB5, 0x2F, 0xFD, 0x00, 13 << 3} // no FCS, 8 MiB window
	for i := range blocks {
		bh := uint32(zstdMaxBlock)<<3 | 1<<1
		if i == blocks-1 {
			bh |= 1
		}
		b = append(b, byte(bh), byte(bh>>8), byte(bh>>16), 'z')
	}
	return b
}

func TestTooLargeBoundsMemory(t *testing.T) {
	const limit = 1 << 20
	zeros := make([]byte, 16<<20)
	gz, _ := Compress(Gzip, nil, zeros)
	lz, _ := Compress(LZ4, nil, zeros)
	zs, _ := Compress(Zstd, nil, zeros)
	big := make([]byte, 2<<20)
	xerialBomb := xerial(hugeSnappy(limit), hugeSnappy(limit), hugeSnappy(limit))
	tests := []struct {
		name string
		c    Compression
		src  []byte
	}{
		{"gzip bomb", Gzip, gz},
		{"snappy block claiming 4 GiB", Snappy, hugeSnappy(1<<32 - 1)},
		{"snappy block claiming limit+1", Snappy, hugeSnappy(limit + 1)},
		{"xerial chunks claiming 3x limit", Snappy, xerialBomb},
		{"lz4 bomb", LZ4, lz},
		{"lz4 frame claiming 2^60 bytes", LZ4, lz4ContentSize(t, 1<<60)},
		{"zstd bomb with content size", Zstd, zs},
		{"zstd RLE bomb without content size", Zstd, zstdRLEBomb(1000)},
		{"zstd compressed bomb without content size", Zstd, zstdStreamed(t, zeros)},
		{"none", None, big},
	}
	// Warm the coders up: what counts is what one call allocates, not the
	// zstd decoder's one-time tables.
	for _, c := range codecs {
		enc, _ := Compress(c, nil, testData(1000, 1))
		Decompress(c, enc, 1000)
	}
	for _, tt := range tests {
		var err error
		n := allocated(func() { _, err = Decompress(tt.c, tt.src, limit) })
		if !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: %v, want ErrTooLarge", tt.name, err)
		}
		// limit, plus (zstd) one block of room past it and the decoder's
		// per-call working memory: nothing proportional to the claims.
		if n > limit+640<<10 {
			t.Errorf("%s: allocated %d bytes for a limit of %d", tt.name, n, limit)
		}
		t.Logf("%s (%d bytes): allocated %d", tt.name, len(tt.src), n)
	}
}

// lz4ContentSize is an LZ4 frame whose descriptor declares size bytes.
func lz4ContentSize(t *testing.T, size uint64) []byte {
	var buf bytes.Buffer
	w := lz4.NewWriter(&buf)
	if err := w.Apply(lz4.SizeOption(size)); err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("a little data"))
	w.Flush()
	return buf.Bytes()
}

func zstdStreamed(t *testing.T, src []byte) []byte {
	var buf bytes.Buffer
	w, err := zstd.NewWriter(&buf, zstd.WithEncoderConcurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	w.Write(src)
	w.Close()
	return buf.Bytes()
}

func TestCorruptInput(t *testing.T) {
	src := testData(50_000, 3)
	for _, c := range codecs[1:] {
		enc, _ := Compress(c, nil, src)
		cases := map[string][]byte{
			"empty":     nil,
			"truncated": enc[:len(enc)/2],
			"garbage":   bytes.Repeat([]byte{0xA5}, 100),
		}
		if c != Snappy { // raw snappy has no checksum of its own
			cases["flipped"] = mutate(enc, false, func(b []byte) { b[len(b)/2] ^= 0x55 })
		}
		for name, bad := range cases {
			if _, err := Decompress(c, bad, 1<<20); !errors.Is(err, ErrInvalid) {
				t.Errorf("%v %s: %v, want ErrInvalid", c, name, err)
			}
		}
	}
	if _, err := Decompress(7, nil, 10); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown codec: %v", err)
	}
	if _, err := Compress(7, nil, nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown codec: %v", err)
	}
}

func TestLZ4Malformed(t *testing.T) {
	good, _ := Compress(LZ4, nil, testData(1000, 4))
	tests := map[string][]byte{
		"bad version":           mutate(good, false, func(b []byte) { b[4] = 0x20 }),
		"bad header checksum":   mutate(good, false, func(b []byte) { b[6] ^= 1 }),
		"block larger than max": lz4FrameHeader(0x40, 0x40, 1<<16+1),
		"dictionary id":         mutate(good, false, func(b []byte) { b[4] |= 1 }),
		"skippable truncated":   {0x50, 0x2A, 0x4D, 0x18, 9, 0, 0, 0},
		"magic truncated":       {0x04, 0x22},
	}
	for name, bad := range tests {
		if _, err := Decompress(LZ4, bad, 1<<20); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	if xxh32(nil) != 0x02CC5D05 {
		t.Errorf("xxh32 of nothing: %08x", xxh32(nil))
	}
}

// lz4FrameHeader is an LZ4 frame header with the given FLG and BD bytes followed
// by one block size word.
func lz4FrameHeader(flg, bd byte, blockSize uint32) []byte {
	b := []byte{0x04, 0x22, 0x4D, 0x18, flg, bd}
	b = append(b, byte(xxh32(b[4:6])>>8))
	return binary.LittleEndian.AppendUint32(b, blockSize)
}

// TestLyingLengths feeds lengths that describe compressed bytes which are
// not there: they fail as invalid without allocating for the claim.
func TestLyingLengths(t *testing.T) {
	xerialLie := xerial(s2.EncodeSnappy(nil, []byte("short")))
	binary.BigEndian.PutUint32(xerialLie[xerialHeaderSize:], 0x7FFFFFFF)
	lz4Lie := lz4FrameHeader(0x60, 0x70, 0x7FFFFFFF) // 4 MiB blocks
	zstdFCSLie := []byte{0x28, 0xB5, 0x2F, 0xFD, 0xC0, 13 << 3, 0, 0, 0, 0, 0, 1, 0, 0, 9, 0, 0, 'z'}
	tests := []struct {
		name string
		c    Compression
		src  []byte
	}{
		{"xerial chunk length 2^31-1", Snappy, xerialLie},
		{"lz4 block size 2^31-1", LZ4, lz4Lie},
		{"zstd content size 2^40 over one raw block", Zstd, zstdFCSLie},
	}
	for _, tt := range tests {
		var err error
		n := allocated(func() { _, err = Decompress(tt.c, tt.src, 1<<30) })
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", tt.name, err)
		}
		if n > 4096 {
			t.Errorf("%s: allocated %d bytes", tt.name, n)
		}
	}
}
