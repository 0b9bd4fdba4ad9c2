package record

import (
	"encoding/binary"
	"math/bits"

	"github.com/pierrec/lz4/v4"
)

// LZ4 frame format (lz4_Frame_format.md, v1.6), as Kafka v2 batches use it:
//
//	magic 0x184D2204 (LE) | FLG | BD | [content size u64] | [dict id u32] | HC
//	blocks: u32 LE size (high bit: stored uncompressed; 0: end) | data | [xxh32]
//	[content xxh32]
//
// Skippable frames (magic 0x184D2A5?) may appear between frames. The frame
// decoder is ours (blocks are decoded by pierrec/lz4) so that memory follows
// the data, not the declared block size: a first pass computes each block's
// decoded length from its sequences without writing anything, and the
// output is then allocated once, at exactly the total, if that fits the
// caller's limit.
const (
	lz4Magic          = 0x184D2204
	lz4SkippableMagic = 0x184D2A50
	lz4Window         = 64 << 10
)

type lz4Frame struct {
	independent, blockSum, contentSum, hasSize bool
	blockMax                                   int
	contentSize                                uint64
}

// unlz4 walks src twice: once to check its structure and block checksums
// and add up its decoded size, then, if that fits limit, to decode it into
// a buffer of exactly that size.
func unlz4(src []byte, limit int) ([]byte, error) {
	total, err := lz4Frames(src, nil, limit)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, total)
	if _, err := lz4Frames(src, &out, limit); err != nil {
		return nil, err
	}
	return out, nil
}

// lz4Frames walks the frames of src and returns their decoded size. With
// out nil it only measures; otherwise it decodes into *out, which must have
// the room.
func lz4Frames(src []byte, out *[]byte, limit int) (int, error) {
	if len(src) == 0 {
		return 0, invalid(LZ4, "no frame")
	}
	total := 0
	for len(src) > 0 {
		if len(src) < 4 {
			return 0, invalid(LZ4, "frame magic truncated")
		}
		magic := binary.LittleEndian.Uint32(src)
		if magic&0xFFFFFFF0 == lz4SkippableMagic {
			if len(src) < 8 || uint64(binary.LittleEndian.Uint32(src[4:])) > uint64(len(src)-8) {
				return 0, invalid(LZ4, "skippable frame truncated")
			}
			src = src[8+binary.LittleEndian.Uint32(src[4:]):]
			continue
		}
		if magic != lz4Magic {
			return 0, invalid(LZ4, "bad frame magic %08x", magic)
		}
		f, rest, err := lz4Descriptor(src[4:])
		if err != nil {
			return 0, err
		}
		if f.hasSize && f.contentSize > uint64(limit-total) {
			return 0, tooLarge(LZ4, limit)
		}
		n, rest, err := lz4Blocks(&f, rest, out, limit-total)
		if err != nil {
			return 0, err
		}
		total += n
		src = rest
	}
	return total, nil
}

// lz4Descriptor parses the frame descriptor after the magic.
func lz4Descriptor(b []byte) (lz4Frame, []byte, error) {
	var f lz4Frame
	if len(b) < 3 {
		return f, nil, invalid(LZ4, "frame descriptor truncated")
	}
	flg, bd := b[0], b[1]
	if flg>>6 != 1 || flg&0x02 != 0 || bd&0x8F != 0 {
		return f, nil, invalid(LZ4, "bad frame descriptor %02x %02x", flg, bd)
	}
	if flg&0x01 != 0 {
		return f, nil, invalid(LZ4, "dictionaries are not supported")
	}
	id := bd >> 4 & 7
	if id < 4 {
		return f, nil, invalid(LZ4, "bad block size id %d", id)
	}
	f.independent = flg&0x20 != 0
	f.blockSum = flg&0x10 != 0
	f.hasSize = flg&0x08 != 0
	f.contentSum = flg&0x04 != 0
	f.blockMax = 1 << (8 + 2*id)
	n := 2
	if f.hasSize {
		n += 8
	}
	if len(b) < n+1 {
		return f, nil, invalid(LZ4, "frame descriptor truncated")
	}
	if f.hasSize {
		f.contentSize = binary.LittleEndian.Uint64(b[2:])
	}
	if hc := byte(xxh32(b[:n]) >> 8); hc != b[n] {
		return f, nil, invalid(LZ4, "descriptor checksum %02x, want %02x", b[n], hc)
	}
	return f, b[n+1:], nil
}

// lz4Blocks walks one frame's blocks, decoding them into *out unless out
// is nil, and returns their decoded size and the input after the frame.
func lz4Blocks(f *lz4Frame, b []byte, out *[]byte, room int) (int, []byte, error) {
	n := 0
	for {
		if len(b) < 4 {
			return 0, nil, invalid(LZ4, "block size truncated")
		}
		word := binary.LittleEndian.Uint32(b)
		b = b[4:]
		if word == 0 {
			break
		}
		size := int(word & 0x7FFFFFFF)
		if size > f.blockMax || size > len(b) {
			return 0, nil, invalid(LZ4, "block of %d bytes (maximum %d, %d left)", size, f.blockMax, len(b))
		}
		data := b[:size]
		b = b[size:]
		if f.blockSum {
			if len(b) < 4 || (out == nil && binary.LittleEndian.Uint32(b) != xxh32(data)) {
				return 0, nil, invalid(LZ4, "block checksum mismatch")
			}
			b = b[4:]
		}
		stored := word&0x80000000 != 0
		bn := size
		var err error
		switch {
		case out != nil:
			bn, err = lz4Block(f, data, stored, out, n)
		case !stored:
			bn, err = lz4BlockLen(data, f.blockMax)
		}
		if err != nil {
			return 0, nil, err
		}
		if bn > room-n {
			return 0, nil, tooLarge(LZ4, room)
		}
		n += bn
	}
	if f.hasSize && uint64(n) != f.contentSize {
		return 0, nil, invalid(LZ4, "frame decoded to %d bytes, declared %d", n, f.contentSize)
	}
	if f.contentSum {
		if len(b) < 4 || (out != nil && binary.LittleEndian.Uint32(b) != xxh32((*out)[len(*out)-n:])) {
			return 0, nil, invalid(LZ4, "content checksum mismatch")
		}
		b = b[4:]
	}
	return n, b, nil
}

// lz4Block appends one block's data to *out and returns its decoded size.
// The measuring pass sized *out for the whole output, so a block cannot
// write past it; the frame has written done bytes so far, which linked
// blocks may refer back to.
func lz4Block(f *lz4Frame, data []byte, stored bool, out *[]byte, done int) (int, error) {
	o := *out
	if stored {
		if len(data) > cap(o)-len(o) {
			return 0, invalid(LZ4, "output longer than measured")
		}
		*out = append(o, data...)
		return len(data), nil
	}
	var dict []byte
	if !f.independent {
		dict = o[len(o)-min(done, lz4Window):]
	}
	n, err := lz4.UncompressBlockWithDict(data, o[len(o):min(cap(o), len(o)+f.blockMax)], dict)
	if err != nil {
		return 0, invalid(LZ4, "corrupt block")
	}
	*out = o[:len(o)+n]
	return n, nil
}

// lz4BlockLen computes the decoded length of a compressed block from its
// sequences (token, literal length, literals, offset, match length) without
// decoding it. It fails if the block is malformed or decodes past blockMax.
func lz4BlockLen(src []byte, blockMax int) (int, error) {
	n, i := 0, 0
	for i < len(src) {
		tok := int(src[i])
		i++
		lit := tok >> 4
		if lit == 15 {
			var ok bool
			if lit, i, ok = lz4Length(src, i, lit, blockMax); !ok {
				return 0, invalid(LZ4, "bad literal length")
			}
		}
		if lit > len(src)-i {
			return 0, invalid(LZ4, "literals overrun the block")
		}
		i += lit
		n += lit
		if i == len(src) {
			break // the last sequence has literals only
		}
		if len(src)-i < 2 || src[i]|src[i+1] == 0 {
			return 0, invalid(LZ4, "bad match offset")
		}
		i += 2
		ml := tok & 15
		if ml == 15 {
			var ok bool
			if ml, i, ok = lz4Length(src, i, ml, blockMax); !ok {
				return 0, invalid(LZ4, "bad match length")
			}
		}
		n += ml + 4
	}
	if n > blockMax {
		return 0, invalid(LZ4, "block decodes past its maximum %d", blockMax)
	}
	return n, nil
}

// lz4Length adds the extension bytes at src[i:] to a length field of 15.
func lz4Length(src []byte, i, v, blockMax int) (int, int, bool) {
	for i < len(src) && v <= blockMax {
		b := src[i]
		i++
		v += int(b)
		if b != 255 {
			return v, i, true
		}
	}
	return 0, 0, false
}

// xxh32 is xxHash32 with seed 0, the LZ4 frame checksum.
func xxh32(b []byte) uint32 {
	const (
		p1 uint32 = 2654435761
		p2 uint32 = 2246822519
		p3 uint32 = 3266489917
		p4 uint32 = 668265263
		p5 uint32 = 374761393
	)
	round := func(v, lane uint32) uint32 { return bits.RotateLeft32(v+lane*p2, 13) * p1 }
	n := uint32(len(b))
	var h uint32
	if len(b) >= 16 {
		// Seed 0: the lanes start at p1+p2, p2, 0 and -p1, modulo 2^32.
		v1, v2, v3, v4 := uint32(606290984), p2, uint32(0), uint32(1640531535)
		for ; len(b) >= 16; b = b[16:] {
			v1 = round(v1, binary.LittleEndian.Uint32(b))
			v2 = round(v2, binary.LittleEndian.Uint32(b[4:]))
			v3 = round(v3, binary.LittleEndian.Uint32(b[8:]))
			v4 = round(v4, binary.LittleEndian.Uint32(b[12:]))
		}
		h = bits.RotateLeft32(v1, 1) + bits.RotateLeft32(v2, 7) + bits.RotateLeft32(v3, 12) + bits.RotateLeft32(v4, 18)
	} else {
		h = p5
	}
	h += n
	for ; len(b) >= 4; b = b[4:] {
		h = bits.RotateLeft32(h+binary.LittleEndian.Uint32(b)*p3, 17) * p4
	}
	for _, c := range b {
		h = bits.RotateLeft32(h+uint32(c)*p5, 11) * p1
	}
	h ^= h >> 15
	h *= p2
	h ^= h >> 13
	h *= p3
	h ^= h >> 16
	return h
}
