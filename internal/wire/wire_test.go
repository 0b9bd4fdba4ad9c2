package wire

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func frameOf(body []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
}

func TestReadFrame(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    []byte
		max   int32
		want  []byte
		isErr error
	}{
		{"whole frame", frameOf([]byte("hello")), 100, []byte("hello"), nil},
		{"empty frame", frameOf(nil), 100, []byte{}, nil},
		{"over the limit, nothing allocated", []byte{0x7f, 0xff, 0xff, 0xff}, 1 << 20, nil, ErrFrameTooLarge},
		{"negative size", []byte{0xff, 0xff, 0xff, 0xfe}, 100, nil, ErrMalformed},
		{"body cut short", frameOf([]byte("hello"))[:7], 100, nil, io.ErrUnexpectedEOF},
		{"no size at all", []byte{0, 0}, 100, nil, io.ErrUnexpectedEOF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadFrame(bytes.NewReader(tc.in), tc.max, nil)
			if tc.isErr != nil {
				if !errors.Is(err, tc.isErr) {
					t.Fatalf("err %v, want %v", err, tc.isErr)
				}
				return
			}
			if err != nil || !bytes.Equal(got, tc.want) {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// header builds a request header by hand: key, version, correlation id,
// client id (nil: null), then raw trailing bytes (tags and body).
func header(key, version int16, corr int32, id *string, rest ...byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(key))
	b = binary.BigEndian.AppendUint16(b, uint16(version))
	b = binary.BigEndian.AppendUint32(b, uint32(corr))
	if id == nil {
		b = binary.BigEndian.AppendUint16(b, 0xffff)
	} else {
		b = binary.BigEndian.AppendUint16(b, uint16(len(*id)))
		b = append(b, *id...)
	}
	return append(b, rest...)
}

func TestParseRequestHeader(t *testing.T) {
	id := "client-1"
	for _, tc := range []struct {
		name     string
		frame    []byte
		wantBody []byte
		flexible bool
		known    bool
		isErr    bool
	}{
		{"metadata v1, not flexible", header(3, 1, 7, &id, 'B'), []byte("B"), false, true, false},
		{"null client id", header(3, 1, 7, nil, 'B'), []byte("B"), false, true, false},
		{"metadata v9 flexible, no tags", header(3, 9, 7, &id, 0, 'B'), []byte("B"), true, true, false},
		{"flexible with one tag skipped", header(3, 9, 7, &id, 1, 5, 2, 'x', 'y', 'B'), []byte("B"), true, true, false},
		{"unknown key parses as v1", header(999, 0, 7, &id, 'B'), []byte("B"), false, false, false},
		{"hostile tag count", header(3, 9, 7, &id, 0xff, 0xff, 0xff, 0xff, 0x0f), nil, true, true, true},
		{"tag larger than the frame", header(3, 9, 7, &id, 1, 5, 100, 'x'), nil, true, true, true},
		{"client id longer than the frame", header(3, 1, 7, nil)[:8:8], nil, false, true, true},
		{"client id length -2", append(header(3, 1, 7, nil)[:8:8], 0xff, 0xfe), nil, false, true, true},
		{"too short", []byte{0, 3, 0}, nil, false, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, body, err := ParseRequestHeader(tc.frame)
			if tc.isErr {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("err %v, want ErrMalformed", err)
				}
				return
			}
			if err != nil || h.CorrelationID != 7 || h.Flexible != tc.flexible || h.Known != tc.known || !bytes.Equal(body, tc.wantBody) {
				t.Fatalf("got %+v body %q err %v", h, body, err)
			}
		})
	}
}

// TestRealClientHeader: the first request franz-go's client sends (an
// ApiVersions request in a flexible version) parses, and its body decodes.
func TestRealClientHeader(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan []byte, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		frame, err := ReadFrame(conn, 1<<20, nil)
		if err == nil {
			got <- frame
		}
	}()
	cl, err := kgo.NewClient(kgo.SeedBrokers(ln.Addr().String()), kgo.ClientID("samsa-wire-test"), kgo.RequestRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	go cl.Ping(ctx) // fails: nothing answers; only its first frame matters
	var frame []byte
	select {
	case frame = <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("no frame from the client")
	}
	h, body, err := ParseRequestHeader(frame)
	if err != nil {
		t.Fatal(err)
	}
	if h.Key != 18 || !h.Known || h.ClientID == nil || *h.ClientID != "samsa-wire-test" {
		t.Fatalf("header %+v", h)
	}
	if h.Version >= 3 != h.Flexible {
		t.Fatalf("ApiVersions v%d flexible=%v", h.Version, h.Flexible)
	}
	req := kmsg.NewPtrApiVersionsRequest()
	req.SetVersion(h.Version)
	if err := req.ReadFrom(body); err != nil {
		t.Fatalf("body of ApiVersions v%d: %v", h.Version, err)
	}
	if h.Version >= 3 && req.ClientSoftwareName != "kgo" {
		t.Fatalf("client software name %q", req.ClientSoftwareName)
	}
}

func TestSkipTagsCostIsBoundedByInput(t *testing.T) {
	// A count of 2^32-1 with nothing after it fails at once instead of
	// looping: the count is checked against the bytes left.
	if _, err := SkipTags([]byte{0xff, 0xff, 0xff, 0xff, 0x0f}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("hostile count: %v", err)
	}
	in := []byte{2, 1, 1, 'a', 2, 0, 'z'}
	rest, err := SkipTags(in)
	if err != nil || !bytes.Equal(rest, []byte("z")) {
		t.Fatalf("two tags: rest %q, %v", rest, err)
	}
}

// A frame that declares the maximum size but delivers little allocates
// about what it delivered, not what it declared.
func TestReadFrameMemoryFollowsTheBytes(t *testing.T) {
	declared := int32(100 << 20)
	data := binary.BigEndian.AppendUint32(nil, uint32(declared))
	data = append(data, make([]byte, 1000)...)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := ReadFrame(bytes.NewReader(data), declared, nil)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("cut frame: %v", err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 2*firstChunk {
		t.Fatalf("a 1000-byte start of a 100 MiB frame allocated %d bytes", got)
	}
	// And a whole large frame still reads back exactly.
	body := make([]byte, 300<<10)
	for i := range body {
		body[i] = byte(i * 7)
	}
	whole := append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
	got, err := ReadFrame(bytes.NewReader(whole), declared, nil)
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("whole frame: %v, equal %v", err, bytes.Equal(got, body))
	}
}
