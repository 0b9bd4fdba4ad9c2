package wire

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

// FuzzReadFrame: any byte stream yields frames within the limit or an
// error, never a panic or an allocation past the limit.
func FuzzReadFrame(f *testing.F) {
	f.Add(frameOf([]byte("hello")))
	f.Add([]byte{0x7f, 0xff, 0xff, 0xff})
	f.Add([]byte{0xff, 0xff, 0xff, 0xfe, 1})
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bytes.NewReader(in)
		for {
			frame, err := ReadFrame(r, 1024, nil)
			if err != nil {
				return
			}
			if len(frame) > 1024 {
				t.Fatalf("frame of %d bytes over the limit", len(frame))
			}
		}
	})
}

// FuzzParseRequestHeader: any frame parses to a header and a body that is a
// suffix of the frame, or an error.
func FuzzParseRequestHeader(f *testing.F) {
	id := "c"
	f.Add(header(3, 1, 7, &id, 'B'))
	f.Add(header(3, 9, 7, &id, 1, 5, 2, 'x', 'y', 'B'))
	f.Add(header(18, 4, 1, nil, 0xff, 0xff, 0xff, 0xff, 0x0f))
	f.Add(header(0, 13, 1, &id, 0))
	f.Fuzz(func(t *testing.T, frame []byte) {
		_, body, err := ParseRequestHeader(frame)
		if err != nil {
			return
		}
		if len(body) > len(frame) || !bytes.HasSuffix(frame, body) {
			t.Fatalf("body is not a suffix of the frame")
		}
	})
}

// FuzzCheckRequest: no input panics CheckRequest, and whatever it accepts
// kmsg's ReadFrom decodes without error and at once; the input's bytes
// bound its cost, whatever it declares.
func FuzzCheckRequest(f *testing.F) {
	for _, s := range kmsgSamples() {
		f.Add(s.key, s.version, s.body)
	}
	for _, tc := range hostileCases {
		f.Add(tc.key, tc.version, tc.body)
	}
	f.Fuzz(func(t *testing.T, key, version int16, body []byte) {
		rest, err := checkBody(key, version, body)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnknownAPI) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if len(rest) > len(body) {
			t.Fatalf("%d bytes left of %d", len(rest), len(body))
		}
		start := time.Now()
		if _, err := kmsgRead(key, version, body); err != nil {
			t.Fatalf("accepted, kmsg: %v", err)
		}
		if d := time.Since(start); d > time.Second {
			t.Fatalf("kmsg took %v on %d accepted bytes", d, len(body))
		}
	})
}
