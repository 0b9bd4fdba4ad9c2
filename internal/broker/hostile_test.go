package broker_test

// The hostile-input suite: malformed frames against a live node. Each one
// gets Kafka's error code or a closed connection for that client only, the
// node's allocation stays bounded by the bytes sent, and a well-behaved
// client is served throughout.

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/internal/record"
	"github.com/samsa-io/samsa/samsatest"
)

var formatter = kmsg.NewRequestFormatter(kmsg.FormatterClientID("hostile"))

func frame(req kmsg.Request, version int16) []byte {
	req.SetVersion(version)
	return formatter.AppendRequest(nil, req, 7)
}

// rawFrame builds a v1 header (key, version, correlation 7, client id "h")
// followed by body, size-prefixed.
func rawFrame(key, version int16, flexible bool, body []byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(key))
	b = binary.BigEndian.AppendUint16(b, uint16(version))
	b = binary.BigEndian.AppendUint32(b, 7)
	b = append(b, 0, 1, 'h')
	if flexible {
		b = append(b, 0) // header tags
	}
	b = append(b, body...)
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(b))), b...)
}

// exchange sends data on a new connection and returns the first response
// body (after the correlation id), or closed=true when the node closed the
// connection instead.
func exchange(t *testing.T, addr string, data []byte) (resp []byte, closed bool) {
	return exchangeEOF(t, addr, data, false)
}

func exchangeEOF(t *testing.T, addr string, data []byte, eof bool) (resp []byte, closed bool) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(data); err != nil {
		return nil, true
	}
	if eof {
		c.(*net.TCPConn).CloseWrite()
	}
	var size [4]byte
	if _, err := io.ReadFull(c, size[:]); err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatal("no answer and no close within 10 s")
		}
		return nil, true
	}
	body := make([]byte, binary.BigEndian.Uint32(size[:]))
	if _, err := io.ReadFull(c, body); err != nil {
		t.Fatal(err)
	}
	if binary.BigEndian.Uint32(body) != 7 {
		t.Fatalf("correlation id %d", binary.BigEndian.Uint32(body))
	}
	return body[4:], false
}

func goodBatch(t *testing.T) []byte {
	b, err := record.Build(record.BatchSpec{LastOffsetDelta: -1, ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1},
		[]record.Record{{Value: []byte("v")}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func produceFrame(topic string, records []byte) []byte {
	req := kmsg.NewPtrProduceRequest()
	req.Acks, req.TimeoutMillis = -1, 5000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Records = records
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return frame(req, 9)
}

// produceCode sends one produce (v9, flexible) and returns the partition's
// error code.
func produceCode(t *testing.T, addr string, records []byte) int16 {
	t.Helper()
	body, closed := exchange(t, addr, produceFrame("hostile", records))
	if closed {
		t.Fatal("produce closed the connection")
	}
	resp := kmsg.NewPtrProduceResponse()
	resp.SetVersion(9)
	if err := resp.ReadFrom(body[1:]); err != nil { // skip the header's tags
		t.Fatal(err)
	}
	return resp.Topics[0].Partitions[0].ErrorCode
}

type hostileCase struct {
	name  string
	data  []byte
	check func(t *testing.T, resp []byte, closed bool)
	// eof: the client closes its side after sending (a frame cut short).
	eof bool
}

func mustClose(t *testing.T, _ []byte, closed bool) {
	if !closed {
		t.Error("connection not closed")
	}
}

func hostileCases() []hostileCase {
	metaTags := binary.AppendUvarint([]byte{0x01, 0x00, 0x00}, 1<<32-1) // Metadata v12: null topics, 3 bools, then the tag count
	return []hostileCase{
		{"negative size", []byte{0xff, 0xff, 0xff, 0xf0, 1, 2, 3}, mustClose, false},
		{"huge size", []byte{0x7f, 0xff, 0xff, 0xff, 0, 0}, mustClose, false},
		{"size over socket.request.max.bytes", binary.BigEndian.AppendUint32(nil, 200<<20), mustClose, false},
		{"declares 100 MiB, sends 1 KiB, then EOF", append(binary.BigEndian.AppendUint32(nil, 100<<20), make([]byte, 1024)...), mustClose, true},
		{"truncated body, then EOF", frame(kmsg.NewPtrMetadataRequest(), 12)[:12], mustClose, true},
		{"short header", []byte{0, 0, 0, 3, 0, 3, 0}, mustClose, false},
		{"unknown key", rawFrame(999, 0, false, nil), mustClose, false},
		{"unknown version", rawFrame(3, 99, false, nil), mustClose, false},
		{"lying tagged-field count", rawFrame(3, 12, true, append(metaTags, 0)), mustClose, false},
		{"lying array count", rawFrame(19, 4, false, []byte{0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0}), mustClose, false},
		{"lying string length", rawFrame(3, 4, false, []byte{0, 0, 0, 1, 0x7f, 0xff, 'a'}), mustClose, false},
		{"lying compact array", rawFrame(3, 12, true, []byte{0xff, 0xff, 0xff, 0xff, 0x0f}), mustClose, false},
		{"ApiVersions v99", rawFrame(18, 99, true, nil), func(t *testing.T, resp []byte, closed bool) {
			if closed || len(resp) < 2 || int16(binary.BigEndian.Uint16(resp)) != kerr.UnsupportedVersion.Code {
				t.Errorf("closed %v, resp % x", closed, resp[:min(len(resp), 8)])
			}
			v0 := kmsg.NewPtrApiVersionsResponse()
			v0.SetVersion(0)
			if err := v0.ReadFrom(resp); err != nil || len(v0.ApiKeys) == 0 {
				t.Errorf("v0 fallback body does not decode: %v", err)
			}
		}, false},
	}
}

func runCases(t *testing.T, addr string) (sent int) {
	for _, c := range hostileCases() {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			resp, closed := exchangeEOF(t, addr, c.data, c.eof)
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("took %v", took)
			}
			c.check(t, resp, closed)
			sent += len(c.data)
		})
	}
	return sent
}

// perCase bounds what one hostile connection may cost the node: its
// connection's buffers and goroutines and at most one 1 MiB frame buffer
// (wire.ReadFrame's first chunk), never what a frame declares (100 MiB and
// 2 GiB here).
const perCase = 1536 << 10

func TestHostileInput(t *testing.T) {
	node := samsatest.Start(t)
	addr := node.Addr()
	createTopic(t, addr, "hostile")

	// Pass 1, alone: the allocation of the whole process stays bounded
	// whatever sizes and counts the frames declare (up to 2 GiB here).
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	sent := runCases(t, addr)
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	n := uint64(len(hostileCases()))
	t.Logf("%d hostile frames, %d bytes: the process allocated %d bytes (%d per frame)", n, sent, alloc, alloc/n)
	if alloc > n*perCase {
		t.Fatalf("allocated %d bytes for %d frames: over %d per frame", alloc, n, perCase)
	}

	// Pass 2: a well-behaved client is served throughout.
	var served, failures atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, closed := exchange(t, addr, frame(kmsg.NewPtrApiVersionsRequest(), 3)); closed {
				failures.Add(1)
			} else {
				served.Add(1)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	runCases(t, addr)
	checkRecordErrors(t, addr)
	time.Sleep(20 * time.Millisecond)
	close(stop)
	wg.Wait()
	if failures.Load() != 0 || served.Load() < 3 {
		t.Fatalf("the well-behaved client: %d served, %d refused", served.Load(), failures.Load())
	}
}

// checkRecordErrors: records that are not one RecordBatch v2 with a valid
// CRC get Kafka's codes, and the partition still takes good batches.
func checkRecordErrors(t *testing.T, addr string) {
	good := goodBatch(t)
	corrupt := func(i int, v byte) []byte { b := append([]byte(nil), good...); b[i] = v; return b }
	for _, c := range []struct {
		name    string
		records []byte
		want    *kerr.Error
	}{
		{"bad CRC", corrupt(len(good)-1, good[len(good)-1]^0xff), kerr.CorruptMessage},
		{"magic 1", corrupt(16, 1), kerr.InvalidRecord},
		{"magic 0", corrupt(16, 0), kerr.InvalidRecord},
		{"two batches", append(append([]byte(nil), good...), good...), kerr.InvalidRecord},
		{"truncated batch", good[:40], kerr.CorruptMessage},
		{"no records", nil, kerr.InvalidRecord},
	} {
		if got := produceCode(t, addr, c.records); got != c.want.Code {
			t.Errorf("%s: error %d (%v), want %s", c.name, got, kerr.ErrorForCode(got), c.want.Message)
		}
	}
	if got := produceCode(t, addr, good); got != 0 {
		t.Fatalf("a good batch after the hostile ones: error %d", got)
	}
}

func createTopic(t *testing.T, addr, name string) {
	t.Helper()
	req := kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = name, 1, 1
	req.Topics = append(req.Topics, rt)
	req.TimeoutMillis = 5000
	body, closed := exchange(t, addr, frame(req, 7))
	if closed {
		t.Fatal("CreateTopics closed the connection")
	}
	resp := kmsg.NewPtrCreateTopicsResponse()
	resp.SetVersion(7)
	if err := resp.ReadFrom(body[1:]); err != nil || resp.Topics[0].ErrorCode != 0 {
		t.Fatalf("create topic: %v %+v", err, resp.Topics)
	}
}
