package record

import (
	"math"

	"github.com/klauspost/compress/zstd"
)

// zstdMaxBlock is the largest block a zstd frame may hold (RFC 8878 3.1.1.2.4).
const zstdMaxBlock = 128 << 10

// zstdBounds walks the frames of src without decoding them and returns
// bounds of their decompressed size. A frame with a declared content size
// counts that exactly (the decoder holds it to it); otherwise raw and RLE
// blocks count exactly and a compressed block counts 0 to the frame's
// block maximum. It checks that every frame and block is complete, so the
// decoder never runs off the end of src.
func zstdBounds(src []byte) (lo, hi uint64, err error) {
	if len(src) == 0 {
		return 0, 0, invalid(Zstd, "no frame")
	}
	for len(src) > 0 {
		var h zstd.Header
		rest, err := h.DecodeAndStrip(src)
		if err != nil {
			return 0, 0, invalid(Zstd, "frame header: %v", err)
		}
		if h.Skippable {
			if uint64(h.SkippableSize) > uint64(len(rest)) {
				return 0, 0, invalid(Zstd, "skippable frame truncated")
			}
			src = rest[h.SkippableSize:]
			continue
		}
		flo, fhi, rest, err := zstdFrameBounds(&h, rest)
		if err != nil {
			return 0, 0, err
		}
		lo, hi = addSat(lo, flo), addSat(hi, fhi)
		src = rest
	}
	return lo, hi, nil
}

// zstdFrameBounds walks the blocks of one frame whose header h has been
// stripped from b.
func zstdFrameBounds(h *zstd.Header, b []byte) (lo, hi uint64, rest []byte, err error) {
	window := h.WindowSize
	if h.SingleSegment {
		window = h.FrameContentSize
	}
	blockMax := min(window, zstdMaxBlock)
	for last := false; !last; {
		if len(b) < 3 {
			return 0, 0, nil, invalid(Zstd, "block header truncated")
		}
		bh := uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16
		b = b[3:]
		last = bh&1 != 0
		size := uint64(bh >> 3)
		if size > blockMax {
			return 0, 0, nil, invalid(Zstd, "block of %d bytes, frame maximum %d", size, blockMax)
		}
		need := size
		switch (bh >> 1) & 3 {
		case 0: // raw
			lo, hi = lo+size, hi+size
		case 1: // RLE: one byte, repeated size times
			lo, hi = lo+size, hi+size
			need = 1
		case 2: // compressed
			hi += blockMax
		default:
			return 0, 0, nil, invalid(Zstd, "reserved block type")
		}
		if need > uint64(len(b)) {
			return 0, 0, nil, invalid(Zstd, "block truncated")
		}
		b = b[need:]
	}
	if h.HasCheckSum {
		if len(b) < 4 {
			return 0, 0, nil, invalid(Zstd, "checksum truncated")
		}
		b = b[4:]
	}
	if h.HasFCS {
		if h.FrameContentSize < lo || h.FrameContentSize > hi {
			return 0, 0, nil, invalid(Zstd, "content size %d outside what the blocks hold, %d to %d", h.FrameContentSize, lo, hi)
		}
		lo, hi = h.FrameContentSize, h.FrameContentSize
	}
	return lo, hi, b, nil
}

func addSat(a, b uint64) uint64 {
	if a > math.MaxUint64-b {
		return math.MaxUint64
	}
	return a + b
}
