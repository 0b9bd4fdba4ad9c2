package record

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// ErrTooLarge: a batch's records would decompress to more than the caller's
// limit.
var ErrTooLarge = errors.New("record: decompressed size over the limit")

// Decompress returns src decompressed with codec c. It fails with an error
// wrapping ErrTooLarge if the output would exceed max bytes and with one
// wrapping ErrInvalid if src is not valid data for the codec.
//
// Memory is bounded by max, not by what src claims: declared lengths (snappy
// block headers, xerial chunk lengths, zstd frame content sizes, lz4 block
// and content sizes) are checked against max before anything is allocated,
// and streamed codecs stop reading one byte past max. For None, src itself
// is returned.
func Decompress(c Compression, src []byte, max int) ([]byte, error) {
	if max < 0 {
		max = 0
	}
	switch c {
	case None:
		if len(src) > max {
			return nil, tooLarge(c, max)
		}
		return src, nil
	case Gzip:
		return gunzip(src, max)
	case Snappy:
		return unsnappy(src, max)
	case LZ4:
		return unlz4(src, max)
	case Zstd:
		return unzstd(src, max)
	}
	return nil, fmt.Errorf("%w: unknown compression codec %d", ErrInvalid, c)
}

// Compress appends src compressed with codec c to dst: a gzip member, a raw
// snappy block (as franz-go and librdkafka write; every Kafka reader accepts
// it), an LZ4 frame with 64 KiB independent blocks, or a zstd frame.
func Compress(c Compression, dst, src []byte) ([]byte, error) {
	switch c {
	case None:
		return append(dst, src...), nil
	case Gzip:
		return gzipAppend(dst, src)
	case Snappy:
		if s2.MaxEncodedLen(len(src)) < 0 {
			return dst, fmt.Errorf("%w: %d bytes are too many for snappy", ErrInvalid, len(src))
		}
		dst = slices.Grow(dst, s2.MaxEncodedLen(len(src)))
		n := len(s2.EncodeSnappy(dst[len(dst):cap(dst)], src))
		return dst[:len(dst)+n], nil
	case LZ4:
		return lz4Append(dst, src)
	case Zstd:
		return zstdEncoder().EncodeAll(src, dst), nil
	}
	return dst, fmt.Errorf("%w: unknown compression codec %d", ErrInvalid, c)
}

func tooLarge(c Compression, limit int) error {
	return fmt.Errorf("%w: %s data decompresses to more than %d bytes", ErrTooLarge, c, limit)
}

func invalid(c Compression, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalid, c, fmt.Sprintf(format, args...))
}

// appendWriter is an io.Writer appending to a slice.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// readLimited reads r to EOF into a buffer of initial capacity hint that
// never grows past limit bytes; a full buffer is grown only once a probe
// read shows more data.
func readLimited(c Compression, r io.Reader, limit, hint int) ([]byte, error) {
	buf := make([]byte, 0, min(max(hint, 512), limit))
	var probe [1]byte
	for {
		dst := buf[len(buf):cap(buf)]
		if len(dst) == 0 {
			dst = probe[:]
		}
		n, err := io.ReadAtLeast(r, dst, 1)
		if n > 0 && len(buf) == cap(buf) {
			if len(buf) >= limit {
				return nil, tooLarge(c, limit)
			}
			// Not slices.Grow: it may round the capacity past limit.
			grown := make([]byte, len(buf), min(max(2*cap(buf), 512), limit))
			buf = append(grown[:copy(grown, buf)], probe[0])
		} else {
			buf = buf[:len(buf)+n]
		}
		if err == io.EOF && len(buf) <= limit {
			return buf, nil
		}
		if err != nil {
			return nil, invalid(c, "%v", err)
		}
	}
}

// ---- gzip ----

// Pooled coders are detached from their input and output after use, so
// that the pool does not keep batches alive.
var gzipReaders, gzipWriters sync.Pool

type gzipReader struct {
	zr  gzip.Reader
	src bytes.Reader
}

func gunzip(src []byte, limit int) ([]byte, error) {
	r, _ := gzipReaders.Get().(*gzipReader)
	if r == nil {
		r = new(gzipReader)
	}
	defer func() {
		r.src.Reset(nil)
		gzipReaders.Put(r)
	}()
	r.src.Reset(src)
	zr := &r.zr
	if err := zr.Reset(&r.src); err != nil {
		return nil, invalid(Gzip, "%v", err)
	}
	zr.Multistream(true)
	// The trailer's ISIZE is the last member's size mod 2^32: exact for the
	// usual single member, and at worst a wrong guess bounded by limit.
	hint := 4 * len(src)
	if len(src) >= 18 {
		hint = int(binary.LittleEndian.Uint32(src[len(src)-4:]))
	}
	return readLimited(Gzip, zr, limit, hint)
}

func gzipAppend(dst, src []byte) ([]byte, error) {
	w := &appendWriter{b: dst}
	zw, _ := gzipWriters.Get().(*gzip.Writer)
	if zw == nil {
		zw = gzip.NewWriter(w)
	} else {
		zw.Reset(w)
	}
	defer func() {
		zw.Reset(io.Discard)
		gzipWriters.Put(zw)
	}()
	return compressInto(zw, w, dst, src)
}

// compressInto writes src through zw, a compressor writing to w (which
// appends to dst), and returns the result.
func compressInto(zw io.WriteCloser, w *appendWriter, dst, src []byte) ([]byte, error) {
	if _, err := zw.Write(src); err != nil {
		return dst, err
	}
	if err := zw.Close(); err != nil {
		return dst, err
	}
	return w.b, nil
}

// ---- snappy ----

// xerialMagic starts the framing the Java client's snappy-java stream
// writes: magic, int32 version, int32 minimum compatible version, then
// chunks of [int32 big-endian length][raw snappy block].
var xerialMagic = []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0}

const xerialHeaderSize = 16

func unsnappy(src []byte, limit int) ([]byte, error) {
	if bytes.HasPrefix(src, xerialMagic) {
		return unxerial(src, limit)
	}
	n, err := s2.DecodedLen(src)
	if err != nil {
		return nil, invalid(Snappy, "%v", err)
	}
	if n > limit {
		return nil, tooLarge(Snappy, limit)
	}
	out, err := s2.Decode(make([]byte, n), src)
	if err != nil {
		return nil, invalid(Snappy, "%v", err)
	}
	return out, nil
}

// unxerial walks the chunk headers first, summing the lengths the chunks
// declare, so it allocates once and only if the total fits max.
func unxerial(src []byte, limit int) ([]byte, error) {
	if len(src) < xerialHeaderSize {
		return nil, invalid(Snappy, "xerial header truncated")
	}
	body := src[xerialHeaderSize:]
	total := 0
	for rest := body; len(rest) > 0; {
		chunk, next, err := xerialChunk(rest)
		if err != nil {
			return nil, err
		}
		n, err := s2.DecodedLen(chunk)
		if err != nil {
			return nil, invalid(Snappy, "xerial chunk: %v", err)
		}
		if n > limit-total {
			return nil, tooLarge(Snappy, limit)
		}
		total += n
		rest = next
	}
	out := make([]byte, 0, total)
	for rest := body; len(rest) > 0; {
		chunk, next, _ := xerialChunk(rest)
		d, err := s2.Decode(out[len(out):cap(out)], chunk)
		if err != nil {
			return nil, invalid(Snappy, "xerial chunk: %v", err)
		}
		out = out[:len(out)+len(d)]
		rest = next
	}
	return out, nil
}

func xerialChunk(b []byte) (chunk, rest []byte, err error) {
	if len(b) < 4 {
		return nil, nil, invalid(Snappy, "xerial chunk length truncated")
	}
	n := binary.BigEndian.Uint32(b)
	if uint64(n) > uint64(len(b)-4) {
		return nil, nil, invalid(Snappy, "xerial chunk of %d bytes, %d left", int32(n), len(b)-4)
	}
	return b[4 : 4+n], b[4+n:], nil
}

// ---- lz4 (frames are decoded in lz4.go) ----

var lz4Writers sync.Pool

func lz4Append(dst, src []byte) ([]byte, error) {
	w := &appendWriter{b: dst}
	zw, _ := lz4Writers.Get().(*lz4.Writer)
	if zw == nil {
		zw = lz4.NewWriter(w)
		if err := zw.Apply(lz4.BlockSizeOption(lz4.Block64Kb)); err != nil {
			return dst, err
		}
	} else {
		zw.Reset(w)
	}
	defer func() {
		zw.Reset(nil)
		lz4Writers.Put(zw)
	}()
	return compressInto(zw, w, dst, src)
}

// ---- zstd (frames are measured in zstd.go) ----

// The zstd encoder and decoder are shared: EncodeAll and DecodeAll are safe
// for concurrent use and keep their own pools of block coders.
var (
	zstdEncoder = sync.OnceValue(func() *zstd.Encoder {
		enc, err := zstd.NewWriter(nil,
			zstd.WithEncoderLevel(zstd.SpeedDefault),
			zstd.WithWindowSize(1<<20),
			zstd.WithZeroFrames(true))
		if err != nil {
			panic(err)
		}
		return enc
	})
	// The decoder's own limit is set high; the real limit is the capacity
	// of the buffer DecodeAll gets (WithDecodeAllCapLimit), which unzstd
	// sizes from the frames' structure and max. That also keeps a large
	// declared window from failing small frames: DecodeAll decodes into
	// the output buffer and needs no window buffer.
	zstdDecoder = sync.OnceValue(func() *zstd.Decoder {
		dec, err := zstd.NewReader(nil,
			zstd.WithDecoderConcurrency(0),
			zstd.WithDecoderLowmem(true),
			zstd.WithDecodeAllCapLimit(true),
			zstd.WithDecoderMaxMemory(1<<40),
			zstd.WithDecoderMaxWindow(1<<31))
		if err != nil {
			panic(err)
		}
		return dec
	})
)

func unzstd(src []byte, limit int) ([]byte, error) {
	lo, bound, err := zstdBounds(src)
	if err != nil {
		return nil, err
	}
	if lo > uint64(limit) {
		return nil, tooLarge(Zstd, limit)
	}
	// The output buffer's capacity is the decoder's limit. Within the
	// bound it cannot be reached (16 spare bytes let the block decoder use
	// its fast paths). Beyond it, the buffer has room for one block more
	// than limit, so that running out of room, which the decoder reports
	// in more than one way, only happens with more than limit bytes out.
	capped := bound > uint64(limit)
	room := bound
	if capped {
		room = min(bound, uint64(limit)+zstdMaxBlock)
	}
	out, err := zstdDecoder().DecodeAll(src, make([]byte, 0, room+16))
	if err != nil {
		if capped && (errors.Is(err, zstd.ErrDecoderSizeExceeded) || len(out) > limit) {
			return nil, tooLarge(Zstd, limit)
		}
		return nil, invalid(Zstd, "%v", err)
	}
	if len(out) > limit {
		return nil, tooLarge(Zstd, limit)
	}
	return out, nil
}
