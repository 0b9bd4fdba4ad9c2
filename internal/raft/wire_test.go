package raft

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/samsa-io/samsa/internal/vfs"
)

func TestPrefaceIsNotAKafkaRequest(t *testing.T) {
	if len(Preface) != 8 {
		t.Fatalf("Preface is %d bytes, want 8", len(Preface))
	}
	if size := int32(binary.BigEndian.Uint32([]byte(Preface))); size >= 0 {
		t.Fatalf("Preface read as a Kafka size is %d, want negative", size)
	}
}

func testMessage() *raftpb.Message {
	return &raftpb.Message{
		Type: raftpb.MsgApp.Enum(), To: new(uint64(2)), From: new(uint64(1)),
		Term: new(uint64(3)), Index: new(uint64(9)), Commit: new(uint64(8)),
		Entries: []*raftpb.Entry{{Index: new(uint64(10)), Term: new(uint64(3)), Data: []byte("x")}},
	}
}

// wireBytes is a valid stream after the preface: a hello and two frames.
func wireBytes(t testing.TB) []byte {
	b, err := appendHello(nil, hello{from: 1, to: 2, clusterID: "c"})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if b, err = appendFrame(b, testMessage()); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

func TestWireRoundTrip(t *testing.T) {
	r := bytes.NewReader(wireBytes(t))
	h, err := readHello(r)
	if err != nil || h != (hello{from: 1, to: 2, clusterID: "c"}) {
		t.Fatalf("hello %+v, %v", h, err)
	}
	var buf []byte
	for range 2 {
		var m *raftpb.Message
		if m, buf, err = readFrame(r, buf); err != nil || !proto.Equal(m, testMessage()) {
			t.Fatalf("frame %v, %v", m, err)
		}
	}
	if _, _, err := readFrame(r, buf); err != io.EOF {
		t.Fatalf("after the last frame: %v, want io.EOF", err)
	}
}

func TestReadFrameBounds(t *testing.T) {
	huge := binary.BigEndian.AppendUint32(nil, MaxMessageBytes+1)
	if _, _, err := readFrame(bytes.NewReader(huge), nil); !errors.Is(err, errFrameTooLarge) {
		t.Fatalf("a frame over the limit: %v", err)
	}
	if _, _, err := readFrame(bytes.NewReader(make([]byte, 4)), nil); !errors.Is(err, errEmptyFrame) {
		t.Fatalf("an empty frame: %v", err)
	}
	// A length that lies within the limit: an error, and a buffer no
	// bigger than the bytes that came (rounded to a chunk).
	lying := binary.BigEndian.AppendUint32(nil, MaxMessageBytes)
	_, buf, err := readFrame(bytes.NewReader(append(lying, 1, 2, 3)), nil)
	if !errors.Is(err, io.ErrUnexpectedEOF) || cap(buf) > 2*readChunk {
		t.Fatalf("a short frame: %v, buffer of %d", err, cap(buf))
	}
	big := &raftpb.Message{Type: raftpb.MsgSnap.Enum(), Snapshot: &raftpb.Snapshot{Data: make([]byte, MaxMessageBytes)}}
	if _, err := appendFrame(nil, big); !errors.Is(err, errFrameTooLarge) {
		t.Fatalf("sending a message over the limit: %v", err)
	}
}

// FuzzWireDecode feeds the inbound side's decoders arbitrary bytes: they
// fail cleanly, never panic, and never allocate for a length that was not
// followed by its bytes.
func FuzzWireDecode(f *testing.F) {
	valid := wireBytes(f)
	f.Add(valid)
	f.Add(valid[:len(valid)-3])
	f.Add(append(valid[:20:20], 0xff, 0xff, 0xff, 0xff))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bytes.NewReader(b)
		h, err := readHello(r)
		if err != nil {
			return
		}
		checkHello(h, 2, "c")
		var buf []byte
		for {
			var m *raftpb.Message
			m, buf, err = readFrame(r, buf)
			if err != nil {
				if cap(buf) > len(b)+readChunk {
					t.Fatalf("buffer of %d for %d input bytes", cap(buf), len(b))
				}
				return
			}
			acceptable(m, h.from, 2)
		}
	})
}

// TestServeConnBadPeer: a peer whose frame lies about its length, or is
// not a message, is disconnected with a log line; a message addressed to
// another node, from a node other than the hello's, or of a local type is
// dropped and the connection stays up.
func TestServeConnBadPeer(t *testing.T) {
	logs := &syncBuffer{}
	cfg := testConfig(vfs.NewMem())
	cfg.Logger = newTestLogger(logs)
	n, _ := openNode(t, cfg)
	defer n.Close()
	waitLeader(t, n)

	dropped := []*raftpb.Message{
		{Type: raftpb.MsgHeartbeat.Enum(), To: new(uint64(5)), From: new(uint64(2))},
		{Type: raftpb.MsgHeartbeat.Enum(), To: new(uint64(1)), From: new(uint64(3))},
		{Type: raftpb.MsgHup.Enum(), To: new(uint64(1)), From: new(uint64(2))},
		{Type: raftpb.MsgProp.Enum(), To: new(uint64(1)), From: new(uint64(2)), Entries: []*raftpb.Entry{{Data: []byte("x")}}},
	}
	var frames []byte
	for _, m := range dropped {
		frames, _ = appendFrame(frames, m)
	}
	for _, c := range []struct {
		name, log string
		tail      []byte
	}{
		{"lying length", "frame longer than MaxMessageBytes", binary.BigEndian.AppendUint32(nil, 1<<31)},
		{"garbage", "frame of 3 bytes", append(binary.BigEndian.AppendUint32(nil, 3), 0xff, 0xff, 0xff)},
	} {
		t.Run(c.name, func(t *testing.T) {
			stream, _ := appendHello(nil, hello{from: 2, to: 1, clusterID: "c"})
			stream = append(append(stream, frames...), c.tail...)
			if ack := pipeServe(t, n, stream); ack != helloOK {
				t.Fatalf("hello answered %d", ack)
			}
			waitFor(t, 5*time.Second, "the reason logged", func() bool { return logs.contains(c.log) })
			if !logs.contains("addressed to another node") {
				t.Fatalf("the misaddressed message was not logged:\n%s", logs)
			}
		})
	}
	waitFor(t, 5*time.Second, "the status to catch up", func() bool {
		st := n.Status()
		return st.Role == "leader" && st.Applied == n.Applied()
	})
	if n.Applied() > 2 { // the bootstrap entry and the leader's empty one
		t.Fatalf("a dropped proposal reached raft: applied %d", n.Applied())
	}
}

// pipeServe runs ServeConn on one end of a pipe, writes stream to the
// other, and returns the hello's answer once ServeConn has closed it.
func pipeServe(t *testing.T, n *Node, stream []byte) byte {
	t.Helper()
	client, srv := net.Pipe()
	errc := make(chan error, 1)
	go func() { errc <- ServeConn(srv, n, "c") }()
	go client.Write(stream) // unblocked by the close when ServeConn quits
	var ack [1]byte
	if _, err := io.ReadFull(client, ack[:]); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err == nil {
		t.Fatal("ServeConn returned nil for a bad stream")
	}
	client.Close()
	return ack[0]
}
