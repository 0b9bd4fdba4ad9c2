package raft

// The quorum's wire format, Samsa's own (etcd raft leaves transport to its
// user). All integers are big-endian. A connection carries messages one
// way, from the node that dialled it:
//
//	dialler:  Preface (8 bytes) | hello | frame*
//	acceptor: hello-ack (1 byte)
//
//	hello     = [from u64][to u64][cluster id length u8][cluster id]
//	hello-ack = [status u8]: 0 accepted, 1 another cluster, 2 not node `to`
//	frame     = [length u32][raftpb.Message, protobuf]
//
// A frame longer than MaxMessageBytes, or of length 0, ends the connection.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	etcdraft "go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// Preface opens every quorum connection. Read as a Kafka request's int32
// size its first byte makes it negative, so a listener shared with Kafka
// clients can tell the two apart: read exactly len(Preface) bytes from the
// raw connection (every Kafka request is longer, so the read never waits
// for bytes a Kafka client would not send), and hand a connection that
// starts with Preface to ServeConn. The last byte is the protocol version.
const Preface = "\xffSamsaR\x01"

// MaxMessageBytes bounds one raft message on the wire, a snapshot
// included; the sender drops a larger one and the receiver closes a
// connection that announces one.
const MaxMessageBytes = 64 << 20

const (
	helloFixed   = 17 // from, to, cluster id length
	maxClusterID = 255

	helloOK           byte = 0
	helloWrongCluster byte = 1
	helloWrongNode    byte = 2

	readChunk = 1 << 20 // a frame's buffer grows by this as bytes arrive
)

var (
	errFrameTooLarge = errors.New("raft: frame longer than MaxMessageBytes")
	errEmptyFrame    = errors.New("raft: empty frame")
)

// hello is what a dialling node says after the preface.
type hello struct {
	from, to  uint64
	clusterID string
}

func appendHello(b []byte, h hello) ([]byte, error) {
	if len(h.clusterID) > maxClusterID {
		return nil, fmt.Errorf("raft: cluster id longer than %d bytes", maxClusterID)
	}
	b = binary.BigEndian.AppendUint64(b, h.from)
	b = binary.BigEndian.AppendUint64(b, h.to)
	b = append(b, byte(len(h.clusterID)))
	return append(b, h.clusterID...), nil
}

func readHello(r io.Reader) (hello, error) {
	var fixed [helloFixed]byte
	if _, err := io.ReadFull(r, fixed[:]); err != nil {
		return hello{}, fmt.Errorf("raft: read hello: %w", err)
	}
	id := make([]byte, fixed[16])
	if _, err := io.ReadFull(r, id); err != nil {
		return hello{}, fmt.Errorf("raft: read hello: %w", err)
	}
	return hello{
		from:      binary.BigEndian.Uint64(fixed[0:]),
		to:        binary.BigEndian.Uint64(fixed[8:]),
		clusterID: string(id),
	}, nil
}

// checkHello is the acceptor's verdict on a hello.
func checkHello(h hello, self uint64, clusterID string) byte {
	switch {
	case h.clusterID != clusterID:
		return helloWrongCluster
	case h.to != self || h.from == 0 || h.from == self:
		return helloWrongNode
	}
	return helloOK
}

func helloStatusText(s byte) string {
	switch s {
	case helloOK:
		return "accepted"
	case helloWrongCluster:
		return "refused: another cluster"
	case helloWrongNode:
		return "refused: not the node addressed"
	}
	return fmt.Sprintf("refused: status %d", s)
}

// appendFrame frames m onto b.
func appendFrame(b []byte, m *raftpb.Message) ([]byte, error) {
	size := proto.Size(m)
	if size > MaxMessageBytes {
		return b, fmt.Errorf("%w: %d bytes", errFrameTooLarge, size)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(size))
	return proto.MarshalOptions{}.MarshalAppend(b, m)
}

// readFrame reads one frame, reusing buf, and returns the message and the
// buffer. The buffer grows only as the frame's bytes arrive, so a length
// that lies costs no more memory than the bytes actually sent.
func readFrame(r io.Reader, buf []byte) (*raftpb.Message, []byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, buf, err
	}
	size := int(binary.BigEndian.Uint32(hdr[:]))
	switch {
	case size == 0:
		return nil, buf, errEmptyFrame
	case size > MaxMessageBytes:
		return nil, buf, fmt.Errorf("%w: %d bytes announced", errFrameTooLarge, size)
	}
	buf = buf[:0]
	for len(buf) < size {
		n := min(size-len(buf), readChunk)
		buf = slices.Grow(buf, n)[:len(buf)+n]
		if _, err := io.ReadFull(r, buf[len(buf)-n:]); err != nil {
			return nil, buf, fmt.Errorf("raft: frame of %d bytes cut short: %w", size, err)
		}
	}
	m := &raftpb.Message{}
	if err := proto.Unmarshal(buf, m); err != nil {
		return nil, buf, fmt.Errorf("raft: frame of %d bytes: %w", size, err)
	}
	return m, buf, nil
}

// acceptable reports why a message from peer `from` must not reach the
// node `self`, or "" if it may.
func acceptable(m *raftpb.Message, from, self uint64) string {
	switch {
	case m.GetTo() != self:
		return "addressed to another node"
	case m.GetFrom() != from:
		return "sender is not the connection's peer"
	case etcdraft.IsLocalMsg(m.GetType()), m.GetType() == raftpb.MsgProp:
		return "local message type"
	}
	return ""
}
