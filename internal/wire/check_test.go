package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// kmsgRead decodes a body the way the broker does.
func kmsgRead(key, version int16, body []byte) (kmsg.Request, error) {
	r := kmsg.RequestForKey(key)
	r.SetVersion(version)
	return r, r.ReadFrom(body)
}

// TestAcceptsKmsgEncodings: every body kmsg encodes, default and filled,
// passes and is read to its last byte: the table's layout is kmsg's.
func TestAcceptsKmsgEncodings(t *testing.T) {
	for _, s := range kmsgSamples() {
		rest, err := checkBody(s.key, s.version, s.body)
		if err != nil || len(rest) != 0 {
			t.Errorf("%v: %v, %d bytes unread", s, err, len(rest))
		}
	}
}

// TestDenseBodiesMatchKmsg: bodies made from the table alone pass, decode
// with kmsg, and (without tagged fields, whose defaults kmsg omits)
// re-encode with kmsg to the same bytes.
func TestDenseBodiesMatchKmsg(t *testing.T) {
	for _, s := range denseSamples() {
		rest, err := checkBody(s.key, s.version, s.body)
		if err != nil || len(rest) != 0 {
			t.Errorf("%v: %v, %d bytes unread", s, err, len(rest))
			continue
		}
		r, err := kmsgRead(s.key, s.version, s.body)
		if err != nil {
			t.Errorf("%v: kmsg: %v", s, err)
			continue
		}
		if !strings.Contains(s.what, "tags:true") && !bytes.Equal(r.AppendTo(nil), s.body) {
			t.Errorf("%v: kmsg re-encodes it differently", s)
		}
	}
}

// TestTruncationsRejected: every strict prefix of a valid body is
// rejected without a panic, so in particular whenever kmsg rejects it.
func TestTruncationsRejected(t *testing.T) {
	samples := kmsgSamples()
	for _, s := range denseSamples() {
		if strings.Contains(s.what, "tags:true") {
			samples = append(samples, s)
		}
	}
	kmsgAccepted := 0
	for _, s := range samples {
		for n := range len(s.body) {
			prefix := s.body[:n:n]
			if err := CheckRequest(s.key, s.version, prefix); !errors.Is(err, ErrMalformed) {
				t.Fatalf("%v cut to %d bytes: %v", s, n, err)
			}
			if _, err := kmsgRead(s.key, s.version, prefix); err == nil {
				kmsgAccepted++
			}
		}
	}
	t.Logf("%d bodies: every prefix rejected; kmsg accepted %d prefixes", len(samples), kmsgAccepted)
}

// mutate returns a copy of b with one random change: a byte replaced, a
// length-like value planted, a byte inserted or removed, or junk appended.
func mutate(rng *rand.Rand, b []byte) []byte {
	out := append([]byte(nil), b...)
	if len(out) == 0 {
		return append(out, byte(rng.IntN(256)))
	}
	i := rng.IntN(len(out))
	switch rng.IntN(6) {
	case 0:
		out[i] = byte(rng.IntN(256))
	case 1:
		out[i] = []byte{0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff}[rng.IntN(6)]
	case 2:
		v := []uint32{0x7fffffff, 0xffffffff, 0xfffffffe, 0x00010000}[rng.IntN(4)]
		out = append(out[:i], append(binary.BigEndian.AppendUint32(nil, v), out[i:]...)...)[:len(b)]
	case 3:
		out = append(out[:i], append([]byte{byte(rng.IntN(256))}, out[i:]...)...)
	case 4:
		out = append(out[:i], out[i+1:]...)
	case 5:
		out = append(out, byte(rng.IntN(256)), byte(rng.IntN(256)))
	}
	return out
}

// TestMutationsAcceptedOnlyIfKmsgDecodes: over random mutations of valid
// bodies, whatever CheckRequest accepts kmsg decodes without error.
func TestMutationsAcceptedOnlyIfKmsgDecodes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var accepted, rejected int
	for _, s := range append(kmsgSamples(), denseSamples()...) {
		for range 12 {
			m := mutate(rng, s.body)
			if err := CheckRequest(s.key, s.version, m); err != nil {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("%v mutated: %v", s, err)
				}
				rejected++
				continue
			}
			accepted++
			if _, err := kmsgRead(s.key, s.version, m); err != nil {
				t.Fatalf("%v mutated to %x: accepted, kmsg fails: %v", s, m, err)
			}
		}
	}
	t.Logf("mutations: %d accepted (kmsg decoded all), %d rejected", accepted, rejected)
}

func TestUnknownAPI(t *testing.T) {
	for _, kv := range [][2]int16{{-1, 0}, {95, 0}, {999, 0}, {3, 14}, {3, -1}, {0, 14}} {
		if err := CheckRequest(kv[0], kv[1], []byte{0, 0, 0, 0}); !errors.Is(err, ErrUnknownAPI) || errors.Is(err, ErrMalformed) {
			t.Errorf("key %d v%d: %v", kv[0], kv[1], err)
		}
	}
}

func TestTrailingBytesIgnoredAsKmsgDoes(t *testing.T) {
	body := append(filledMetadata().AppendTo(nil), 1, 2, 3) // v0
	if err := CheckRequest(3, 0, body); err != nil {
		t.Fatal(err)
	}
	if _, err := kmsgRead(3, 0, body); err != nil {
		t.Fatalf("kmsg: %v", err)
	}
}
