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

// ReadFrame reads one size-prefixed frame from r. A size that is negative
// or above maxSize (Kafka's socket.request.max.bytes) is rejected before
// any allocation. buf is reused when it is large enough.
func ReadFrame(r io.Reader, maxSize int32, buf []byte) ([]byte, error) {
	var size [4]byte
	if _, err := io.ReadFull(r, size[:]); err != nil {
		return nil, err
	}
	n := int32(binary.BigEndian.Uint32(size[:]))
	switch {
	case n < 0:
		return nil, fmt.Errorf("%w: negative size %d", ErrMalformed, n)
	case n > maxSize:
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrFrameTooLarge, n, maxSize)
	}
	if cap(buf) < int(n) {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return buf, nil
}
