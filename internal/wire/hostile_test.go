package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"
)

// cat joins byte pieces into a body.
func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func uv(v uint64) []byte  { return binary.AppendUvarint(nil, v) }
func be16(v int16) []byte { return binary.BigEndian.AppendUint16(nil, uint16(v)) }
func be32(v int32) []byte { return binary.BigEndian.AppendUint32(nil, uint32(v)) }
func zeros(n int) []byte  { return make([]byte, n) }

// maxTags is the count 2^32-1 as a uvarint.
var maxTags = []byte{0xff, 0xff, 0xff, 0xff, 0x0f}

// fetch12Head is a Fetch v12 body up to its top-level tagged fields:
// replica id, max wait, min bytes, max bytes, isolation level, session id
// and epoch, no topics, no forgotten topics, an empty rack.
var fetch12Head = cat(zeros(4*4+1+4*2), []byte{1, 1, 1})

// hostileCase is a body and why CheckRequest must reject it ("": accept).
type hostileCase struct {
	name         string
	key, version int16
	body         []byte
	why          string
}

var hostileCases = []hostileCase{
	// The body that kept kmsg busy for 116 s: null topics, two bools, then
	// 2^32-1 tagged fields in 5 bytes.
	{"metadata v12, 2^32-1 tagged fields", 3, 12, cat([]byte{0, 0, 0}, maxTags), "4294967295 fields with 0 bytes left"},
	{"metadata v12, tagged-field count one over half the bytes left", 3, 12, cat([]byte{0, 0, 0}, uv(2), []byte{5, 0}), "2 fields with 2 bytes left"},
	{"metadata v12, two empty unknown tags", 3, 12, cat([]byte{0, 0, 0}, uv(2), []byte{5, 0, 6, 0}), ""},
	{"metadata v12, tag size past the end", 3, 12, cat([]byte{0, 0, 0}, uv(1), []byte{5, 100, 1, 2}), "tag 5 of 100 bytes"},
	{"metadata v12, topic's own tagged fields 2^32-1", 3, 12, cat(uv(2), zeros(16), []byte{0}, maxTags, []byte{0, 0, 0}), "4294967295 fields with 3 bytes left"},
	{"metadata v12, compact array count 2^32-2", 3, 12, cat(maxTags, zeros(3)), "4294967294 elements of at least 18 bytes"},
	{"metadata v12, 6-byte uvarint", 3, 12, cat([]byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x01}, zeros(3)), "malformed unsigned varint"},
	{"metadata v12, uvarint's 5th byte over 4 bits", 3, 12, cat([]byte{0xff, 0xff, 0xff, 0xff, 0x1f}, zeros(3)), "malformed unsigned varint"},
	{"metadata v12, topic name longer than the body", 3, 12, cat(uv(2), zeros(16), uv(101), []byte("abc")), "length 100 with 3 bytes left"},
	{"metadata v12, topic name longer than Kafka allows", 3, 12, cat(uv(2), zeros(16), uv(40001), bytes.Repeat([]byte{'a'}, 40000), zeros(4)), "over the limit 32767"},
	{"metadata v1, int32 array count 2^31-1", 3, 1, cat(be32(0x7fffffff), zeros(8)), "2147483647 elements of at least 2 bytes"},
	{"metadata v1, topics -2 (nullable from v1: null)", 3, 1, be32(-2), ""},
	{"metadata v0, topics -1 (not nullable in v0)", 3, 0, be32(-1), "Topics: length -1 in a field that is not nullable"},
	{"metadata v0, topic name length -2", 3, 0, cat(be32(1), be16(-2), zeros(4)), "Topic: length -2 in a field that is not nullable"},
	{"metadata v0, topic name length -1 (not nullable before v10)", 3, 0, cat(be32(1), be16(-1), zeros(4)), "Topic: length -1 in a field that is not nullable"},
	{"fetch v4, topics count 2^31-1", 1, 4, cat(zeros(17), be32(0x7fffffff), zeros(64)), "2147483647 elements of at least 6 bytes"},
	{"fetch v4, topics -2", 1, 4, cat(zeros(17), be32(-2)), "length -2 in a field that is not nullable"},
	{"fetch v4, topics -1 (kmsg reads it as empty)", 1, 4, cat(zeros(17), be32(-1)), "length -1 in a field that is not nullable"},
	{"fetch v4, partitions need 16 bytes each", 1, 4, cat(zeros(17), be32(1), be16(1), []byte("t"), be32(2), zeros(16+15)), "2 elements of at least 16 bytes with 31 bytes left"},
	{"fetch v4, two partitions", 1, 4, cat(zeros(17), be32(1), be16(1), []byte("t"), be32(2), zeros(32)), ""},
	{"fetch v12, replica state's tagged fields 2^32-1", 1, 12, cat(fetch12Head, uv(1), uv(1), uv(17), zeros(12), maxTags), "4294967295 fields with 0 bytes left"},
	{"fetch v12, replica state with a byte after it", 1, 12, cat(fetch12Head, uv(1), uv(1), uv(14), zeros(12), []byte{0, 9}), "ReplicaState: tagged field of 14 bytes has 1 bytes after its value"},
	{"fetch v12, replica state exactly its size", 1, 12, cat(fetch12Head, uv(1), uv(1), uv(13), zeros(12), []byte{0}), ""},
	{"fetch v12, replica state cut short", 1, 12, cat(fetch12Head, uv(1), uv(1), uv(12), zeros(12)), "malformed unsigned varint"},
	{"fetch v12, cluster id longer than its tag", 1, 12, cat(fetch12Head, uv(1), uv(0), uv(2), uv(6), []byte("a")), "ClusterID: length 5 with 1 bytes left"},
	{"fetch v12, replica state's nested tag too big", 1, 12, cat(fetch12Head, uv(1), uv(1), uv(16), zeros(12), uv(1), uv(3), uv(9), []byte{1}), "tag 3 of 9 bytes with 1 left"},
	{"sasl authenticate v0, bytes length -2", 36, 0, be32(-2), "length -2 in a field that is not nullable"},
	{"sasl authenticate v0, bytes length -1 (kmsg reads it as empty)", 36, 0, be32(-1), "length -1 in a field that is not nullable"},
	{"sasl authenticate v2, compact bytes null", 36, 2, []byte{0, 0}, "length -1 in a field that is not nullable"},
	{"produce v3, transactional id length -2 (nullable: null)", 0, 3, cat(be16(-2), zeros(6), be32(0)), ""},
	{"produce v3, records of 2^31-1 bytes", 0, 3, cat(be16(-1), zeros(6), be32(1), be16(1), []byte("t"), be32(1), zeros(4), be32(0x7fffffff), zeros(10)), "Records: length 2147483647 with 10 bytes left"},
	{"describe topic partitions, cursor presence -2", 75, 0, cat(uv(1), zeros(4), []byte{0xfe}, zeros(8)), "presence byte -2"},
	{"describe topic partitions, cursor null", 75, 0, cat(uv(1), zeros(4), []byte{0xff, 0}), ""},
	{"describe topic partitions, cursor present", 75, 0, cat(uv(1), zeros(4), []byte{1}, uv(2), []byte("t"), zeros(4), []byte{0, 0}), ""},
}

// TestHostileBodies: each case is judged as expected, at once, allocating
// nothing when accepted and a constant dozen objects at most (the error
// message) otherwise.
// Whatever is accepted kmsg decodes.
func TestHostileBodies(t *testing.T) {
	for _, tc := range hostileCases {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckRequest(tc.key, tc.version, tc.body)
			ok := tc.why == ""
			if ok != (err == nil) || (!ok && (!errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.why))) {
				t.Fatalf("err %v, want %q", err, tc.why)
			}
			if ok {
				if _, err := kmsgRead(tc.key, tc.version, tc.body); err != nil {
					t.Fatalf("accepted, kmsg: %v", err)
				}
			}
			start := time.Now()
			allocs := testing.AllocsPerRun(100, func() { _ = CheckRequest(tc.key, tc.version, tc.body) })
			if d := time.Since(start); d > 100*time.Millisecond {
				t.Errorf("101 checks of %d bytes took %v", len(tc.body), d)
			}
			if (ok && allocs != 0) || allocs > 12*allocSlack {
				t.Errorf("%v allocations", allocs)
			}
		})
	}
}

// TestCheckRequestAllocatesNothing: on every valid sample, zero.
func TestCheckRequestAllocatesNothing(t *testing.T) {
	for _, s := range append(kmsgSamples(), denseSamples()...) {
		if a := testing.AllocsPerRun(3, func() { _ = CheckRequest(s.key, s.version, s.body) }); a != 0 {
			t.Fatalf("%v: %v allocations", s, a)
		}
	}
}

// kmsgAllocBytes is how many bytes one kmsg ReadFrom of the body
// allocates: the least of four runs, since TotalAlloc also counts other
// goroutines' allocations (a CI run under -race once read 70 bytes per
// byte where the code allocates 43).
func kmsgAllocBytes(key, version int16, body []byte) uint64 {
	least := uint64(1<<64 - 1)
	for range 4 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, _ = kmsgRead(key, version, body)
		runtime.ReadMemStats(&after)
		least = min(least, after.TotalAlloc-before.TotalAlloc)
	}
	return least
}

// Measured ceilings on what kmsg's ReadFrom allocates per body byte, for
// bodies CheckRequest accepts. Without unknown tagged fields the worst is
// 24 (Metadata v0: a 2-byte empty topic name becomes a 32-byte struct
// plus a 16-byte string); an unknown tagged field in every struct costs a
// Go map each (~300 bytes for 3 bytes of body), up to ~73.
const (
	kmsgBytesPerByte       = 32
	kmsgBytesPerByteTagged = 80
	kmsgBaseAlloc          = 2 << 10 // the request itself and fixed parts
)

// TestKmsgAllocationIsLinear: for every key and version, growing every
// array grows kmsg's allocation by at most a constant per added byte, and
// every accepted sample or mutation allocates at most a constant per byte
// plus a fixed base.
func TestKmsgAllocationIsLinear(t *testing.T) {
	var worst [2]float64
	for key := range int16(len(requestSchemas)) {
		s := schemaFor(key)
		for v := int16(0); s != nil && v <= s.maxVersion; v++ {
			for _, st := range []denseStyle{{null: true}, {fill: 1}, {null: true, tags: true}, {fill: 1, tags: true}} {
				f := marginalAlloc(t, key, v, st)
				i, limit := 0, float64(kmsgBytesPerByte*allocSlack)
				if st.tags {
					i, limit = 1, kmsgBytesPerByteTagged*allocSlack
				}
				worst[i] = max(worst[i], f)
				if f > limit {
					t.Errorf("key %d v%d %+v: %.1f bytes allocated per body byte", key, v, st, f)
				}
			}
		}
	}
	t.Logf("worst bytes allocated per added body byte: %.1f untagged, %.1f with unknown tags", worst[0], worst[1])
	rng := rand.New(rand.NewPCG(3, 4))
	for _, s := range append(kmsgSamples(), denseSamples()...) {
		for _, b := range [][]byte{s.body, mutate(rng, s.body), mutate(rng, s.body)} {
			if CheckRequest(s.key, s.version, b) != nil {
				continue
			}
			if a := kmsgAllocBytes(s.key, s.version, b); a > (kmsgBytesPerByteTagged*uint64(len(b))+kmsgBaseAlloc)*allocSlack {
				t.Errorf("%v: %d bytes allocated for %d", s, a, len(b))
			}
		}
	}
}

// marginalAlloc is the extra allocation per extra body byte when every
// array of a dense body goes from 2 to 5 elements.
func marginalAlloc(t *testing.T, key, v int16, st denseStyle) float64 {
	small, big := st, st
	small.fanout, big.fanout = 2, 5
	b1, b2 := denseBody(key, v, small), denseBody(key, v, big)
	if len(b2) == len(b1) {
		return 0
	}
	if err := CheckRequest(key, v, b2); err != nil {
		t.Fatalf("key %d v%d %+v: %v", key, v, st, err)
	}
	a1, a2 := kmsgAllocBytes(key, v, b1), kmsgAllocBytes(key, v, b2)
	return float64(int64(a2)-int64(a1)) / float64(len(b2)-len(b1))
}
