package wire

import (
	"encoding/binary"
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// RequestHeader is a parsed request header.
type RequestHeader struct {
	Key           int16
	Version       int16
	CorrelationID int32
	ClientID      *string // nil: null
	// Flexible: the request version uses flexible encoding (header v2, with
	// tagged fields), per kmsg's knowledge of the API. False for unknown keys.
	Flexible bool
	// Known: kmsg knows the API key. An unknown key still parses (header
	// v1), so the caller can answer with the correlation id.
	Known bool
}

// ParseRequestHeader parses the header at the start of a request frame and
// returns it with the request body that follows. Tagged fields of a v2
// header are skipped with their count and sizes bounded by the bytes left.
func ParseRequestHeader(frame []byte) (RequestHeader, []byte, error) {
	var h RequestHeader
	if len(frame) < 10 {
		return h, nil, fmt.Errorf("%w: %d bytes, a request header needs at least 10", ErrMalformed, len(frame))
	}
	be := binary.BigEndian
	h.Key = int16(be.Uint16(frame[0:]))
	h.Version = int16(be.Uint16(frame[2:]))
	h.CorrelationID = int32(be.Uint32(frame[4:]))
	idLen := int16(be.Uint16(frame[8:]))
	rest := frame[10:]
	if idLen >= 0 {
		if int(idLen) > len(rest) {
			return h, nil, fmt.Errorf("%w: client id of %d bytes with %d left", ErrMalformed, idLen, len(rest))
		}
		id := string(rest[:idLen])
		h.ClientID = &id
		rest = rest[idLen:]
	} else if idLen != -1 {
		return h, nil, fmt.Errorf("%w: client id length %d", ErrMalformed, idLen)
	}
	if req := kmsg.RequestForKey(h.Key); req != nil {
		h.Known = true
		req.SetVersion(h.Version)
		h.Flexible = req.IsFlexible()
	}
	if !h.Flexible {
		return h, rest, nil
	}
	rest, err := SkipTags(rest)
	return h, rest, err
}

// SkipTags skips a tagged-field section (an unsigned varint count, then
// per field an unsigned varint tag, an unsigned varint size and the data)
// and returns what follows. Each field takes at least two bytes, so a count
// above half the bytes left is rejected at once: the cost is bounded by the
// input's length, whatever it declares.
func SkipTags(b []byte) ([]byte, error) {
	count, n := binary.Uvarint(b)
	if n <= 0 || count > uint64(len(b)-n)/2 {
		return nil, fmt.Errorf("%w: tagged-field count %d with %d bytes left", ErrMalformed, count, len(b)-max(n, 0))
	}
	b = b[n:]
	for i := uint64(0); i < count; i++ {
		if _, n = binary.Uvarint(b); n <= 0 || n > 5 {
			return nil, fmt.Errorf("%w: bad tag number", ErrMalformed)
		}
		b = b[n:]
		size, n := binary.Uvarint(b)
		if n <= 0 || size > uint64(len(b)-n) {
			return nil, fmt.Errorf("%w: tagged field of %d bytes with %d left", ErrMalformed, size, len(b)-max(n, 0))
		}
		b = b[n+int(size):]
	}
	return b, nil
}
