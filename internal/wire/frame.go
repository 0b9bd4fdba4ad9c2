// Package wire reads Kafka protocol frames and request headers from
// untrusted connections, with every length and count bounded by the bytes
// that are actually there, before anything is handed to kmsg for decoding.
//
// A frame is a big-endian int32 size followed by that many bytes. A request
// frame starts with a request header (KIP-482): v1 is api key, api version,
// correlation id and a nullable client id; v2, used for flexible versions
// of a request, adds tagged fields.
//
// Why the bounds matter: kmsg (franz-go) bounds array lengths by the bytes
// left, but reads tagged fields with a loop over the declared count
// ("for num := b.Uvarint(); num > 0; num--"), so a frame declaring ~4e9 tags
// costs billions of iterations however short it is: an 8-byte Metadata v12
// body declaring 2^32-1 tags kept kmsg's ReadFrom busy for 116 s of CPU on
// the reference machine (kmsg v1.15.0). The header's tags are parsed here
// with the count bounded (SkipTags); CheckRequest walks a request body by
// its layout (schema_gen.go, generated from the definitions kmsg is
// generated from) and bounds every count, length and tagged-field section
// the same way, so a body it accepts is safe for kmsg to decode.
package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Errors. ErrFrameTooLarge and ErrMalformed mean the connection's byte
// stream cannot be trusted: the caller answers what it can and closes it.
var (
	ErrFrameTooLarge = errors.New("wire: frame larger than socket.request.max.bytes")
	ErrMalformed     = errors.New("wire: malformed frame")
)

// firstChunk is the most ReadFrame allocates before a frame's bytes
// arrive: frames up to it (a producer's default max.request.size is 1 MiB)
// get their whole buffer at once; larger ones grow with the bytes
// received, so a client declaring a large frame and sending little costs
// at most this.
const firstChunk = 1 << 20

// ReadFrame reads one size-prefixed frame from r. A size that is negative
// or above maxSize (Kafka's socket.request.max.bytes) is rejected before
// any allocation. buf is reused when it is large enough; otherwise the
// frame's buffer comes from GetBuffer (give it back with PutBuffer when
// done, or leave it to the garbage collector): at once up to 1 MiB, and
// beyond that growing with the bytes that actually arrive (doubling),
// never ahead of them by more than their own size.
func ReadFrame(r io.Reader, maxSize int32, buf []byte) ([]byte, error) {
	var size [4]byte
	if _, err := io.ReadFull(r, size[:]); err != nil {
		return nil, err
	}
	n := int(int32(binary.BigEndian.Uint32(size[:])))
	switch {
	case n < 0:
		return nil, fmt.Errorf("%w: negative size %d", ErrMalformed, n)
	case n > int(maxSize):
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrFrameTooLarge, n, maxSize)
	}
	if cap(buf) >= n {
		buf = buf[:n]
		_, err := io.ReadFull(r, buf)
		return buf, frameErr(err)
	}
	if n <= firstChunk {
		buf = GetBuffer(n)
		_, err := io.ReadFull(r, buf)
		return buf, frameErr(err)
	}
	buf = GetBuffer(firstChunk)[:0]
	for len(buf) < n {
		if len(buf) == cap(buf) {
			grown := GetBuffer(min(n, 2*cap(buf)))[:len(buf)]
			copy(grown, buf)
			PutBuffer(buf)
			buf = grown
		}
		m, err := io.ReadFull(r, buf[len(buf):min(n, cap(buf))])
		buf = buf[:len(buf)+m]
		if err != nil {
			return nil, frameErr(err)
		}
	}
	return buf, nil
}

func frameErr(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
