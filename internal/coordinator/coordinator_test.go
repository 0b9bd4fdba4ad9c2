package coordinator

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/internal/coordinator/group"
	"github.com/samsa-io/samsa/internal/metadata"
	"github.com/samsa-io/samsa/internal/record"
)

func TestPartitionForMatchesKafka(t *testing.T) {
	for _, c := range []struct {
		group string
		n     int32
		want  int32
	}{
		{"test", 50, 48},              // "test".hashCode() is 3556498
		{"polygenelubricants", 50, 0}, // hashCode is Integer.MIN_VALUE: Utils.abs gives 0
		{"", 50, 0},
		{"Aa", 7, 2112 % 7}, // "Aa" and "BB" collide in Java (2112)
		{"BB", 7, 2112 % 7},
		{"é", 50, 233 % 50},
	} {
		if got := PartitionFor(c.group, c.n); got != c.want {
			t.Errorf("PartitionFor(%q, %d) = %d, want %d", c.group, c.n, got, c.want)
		}
	}
}

// memPartition is an in-memory partition whose appends can be made to fail.
type memPartition struct {
	mu      sync.Mutex
	batches [][]byte
	next    int64
	fail    int           // appends left to fail
	gate    chan struct{} // when set, Commit waits for it
}

func (m *memPartition) Append(batch []byte) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail > 0 {
		m.fail--
		return 0, kerr.KafkaStorageError
	}
	b := append([]byte(nil), batch...)
	binary.BigEndian.PutUint64(b, uint64(m.next))
	m.next += int64(binary.BigEndian.Uint32(b[57:])) // NumRecords
	m.batches = append(m.batches, b)
	return m.next, nil
}

func (m *memPartition) AppendMarker(batch []byte, _ int8) (int64, error) {
	return m.Append(batch)
}

func (m *memPartition) CommittedEnd(context.Context) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.next, nil
}

func (m *memPartition) Commit(context.Context, int64) error {
	m.mu.Lock()
	gate := m.gate
	m.mu.Unlock()
	if gate != nil {
		<-gate
	}
	return nil
}

func (m *memPartition) Read(offset int64, _ int) ([]byte, int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []byte
	for _, b := range m.batches {
		if int64(binary.BigEndian.Uint64(b)) >= offset {
			out = append(out, b...)
		}
	}
	return out, m.next, nil
}

type fixture struct {
	parts []*memPartition
	im    *metadata.Image
}

func newFixture(t *testing.T, n int32) *fixture {
	f := &fixture{}
	id := metadata.NewUUID()
	recs := []metadata.Record{{Topic: &metadata.TopicRecord{Name: Topic, ID: id}}}
	for p := range n {
		f.parts = append(f.parts, &memPartition{})
		recs = append(recs, metadata.Record{Partition: &metadata.PartitionRecord{
			TopicID: id, Partition: p, Replicas: []int32{1}, ISR: []int32{1}, Leader: 1}})
	}
	im, err := metadata.Empty().Apply(1, recs)
	if err != nil {
		t.Fatal(err)
	}
	f.im = im
	return f
}

func (f *fixture) start(t *testing.T) *Coordinator {
	t.Helper()
	gc := group.DefaultConfig()
	gc.InitialRebalanceDelay = 0
	c, err := New(Config{
		NodeID: 1, NumPartitions: int32(len(f.parts)), Group: gc,
		Image:       func() *metadata.Image { return f.im },
		Partition:   func(p, _ int32) (Partition, error) { return f.parts[p], nil },
		CreateTopic: func(context.Context) error { return errors.New("exists") },
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	c.Start()
	t.Cleanup(c.Close)
	return c
}

func commit(t *testing.T, c *Coordinator, group string, offset int64) int16 {
	t.Helper()
	req := kmsg.NewPtrOffsetCommitRequest()
	req.Version, req.Group, req.Generation = 9, group, -1
	rt := kmsg.NewOffsetCommitRequestTopic()
	rt.Topic = "t"
	rp := kmsg.NewOffsetCommitRequestTopicPartition()
	rp.Partition, rp.Offset = 0, offset
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp := c.OffsetCommit(ctx, req).(*kmsg.OffsetCommitResponse)
	return resp.Topics[0].Partitions[0].ErrorCode
}

func fetched(t *testing.T, c *Coordinator, group string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	g := c.OffsetFetch(ctx, group, nil, nil, -1)
	if g.ErrorCode != 0 {
		t.Fatalf("fetch: %v", kerr.ErrorForCode(g.ErrorCode))
	}
	if len(g.Topics) == 0 {
		return -1
	}
	return g.Topics[0].Partitions[0].Offset
}

func TestOffsetsReplayIntoANewCoordinator(t *testing.T) {
	f := newFixture(t, 3)
	c := f.start(t)
	for i, g := range []string{"a", "b", "c", "d"} {
		if code := commit(t, c, g, int64(10+i)); code != 0 {
			t.Fatalf("commit %s: %v", g, kerr.ErrorForCode(code))
		}
	}
	c.Close()
	c = f.start(t)
	for i, g := range []string{"a", "b", "c", "d"} {
		if got := fetched(t, c, g); got != int64(10+i) {
			t.Errorf("group %s: offset %d after replay, want %d", g, got, 10+i)
		}
	}
	groups, code := c.ListGroups(context.Background(), nil, nil)
	if code != 0 || len(groups) != 4 {
		t.Errorf("ListGroups after replay: %d groups, code %d", len(groups), code)
	}
}

func TestAppendFailureAnswersNotCoordinatorAndRebuilds(t *testing.T) {
	f := newFixture(t, 1)
	c := f.start(t)
	if code := commit(t, c, "g", 5); code != 0 {
		t.Fatal(kerr.ErrorForCode(code))
	}
	f.parts[0].mu.Lock()
	f.parts[0].fail = 1
	f.parts[0].mu.Unlock()
	if code := commit(t, c, "g", 9); code != kerr.NotCoordinator.Code {
		t.Fatalf("commit during a failed append: %v, want NOT_COORDINATOR", kerr.ErrorForCode(code))
	}
	// The state was rebuilt from the partition: the failed commit is gone.
	if got := fetched(t, c, "g"); got != 5 {
		t.Fatalf("offset %d after the failed append, want 5", got)
	}
	if code := commit(t, c, "g", 9); code != 0 {
		t.Fatal(kerr.ErrorForCode(code))
	}
	if got := fetched(t, c, "g"); got != 9 {
		t.Fatalf("offset %d, want 9", got)
	}
}

func TestCloseAnswersParkedJoin(t *testing.T) {
	f := newFixture(t, 1)
	gc := group.DefaultConfig() // a 3 s initial delay parks the join
	c, err := New(Config{
		NodeID: 1, NumPartitions: 1, Group: gc,
		Image:     func() *metadata.Image { return f.im },
		Partition: func(int32, int32) (Partition, error) { return f.parts[0], nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	req := kmsg.NewPtrJoinGroupRequest()
	req.Version, req.Group, req.MemberID = 3, "g", ""
	req.SessionTimeoutMillis, req.RebalanceTimeoutMillis, req.ProtocolType = 10000, 10000, "consumer"
	p := kmsg.NewJoinGroupRequestProtocol()
	p.Name, p.Metadata = "range", []byte{0}
	req.Protocols = append(req.Protocols, p)
	got := make(chan *kmsg.JoinGroupResponse, 1)
	go func() { got <- c.JoinGroup(context.Background(), "cl", "/127.0.0.1", req).(*kmsg.JoinGroupResponse) }()
	select {
	case r := <-got:
		t.Fatalf("join answered before the initial delay: %+v", r)
	case <-time.After(200 * time.Millisecond):
	}
	c.Close()
	select {
	case r := <-got:
		if r.ErrorCode != kerr.NotCoordinator.Code {
			t.Errorf("parked join answered %v on close, want NOT_COORDINATOR", kerr.ErrorForCode(r.ErrorCode))
		}
	case <-time.After(2 * time.Second):
		t.Fatal("close left a join unanswered")
	}
}

func TestResponsesWaitForTheCommit(t *testing.T) {
	f := newFixture(t, 1)
	c := f.start(t)
	gate := make(chan struct{})
	f.parts[0].mu.Lock()
	f.parts[0].gate = gate
	f.parts[0].mu.Unlock()
	committed := make(chan int16, 1)
	go func() { committed <- commit(t, c, "g", 4) }()
	read := make(chan int64, 1)
	time.Sleep(50 * time.Millisecond)
	go func() { read <- fetched(t, c, "g") }()
	select {
	case <-committed:
		t.Fatal("a commit was answered before its records were committed")
	case <-read:
		t.Fatal("a read was answered before the records appended before it were committed")
	case <-time.After(200 * time.Millisecond):
	}
	close(gate)
	if code := <-committed; code != 0 {
		t.Fatal(kerr.ErrorForCode(code))
	}
	if got := <-read; got != 4 {
		t.Fatalf("read %d, want 4", got)
	}
}

// A record of a type Samsa does not have (here Kafka's
// ConsumerGroupRegularExpression, type 16, as a Kafka broker would have
// written it) is skipped with a warning when the shard loads, as Kafka's
// CoordinatorLoaderImpl skips an UnknownRecordTypeException ("a left over
// from an aborted upgrade"), instead of failing the load forever.
func TestLoadSkipsRecordsOfUnknownTypes(t *testing.T) {
	f := newFixture(t, 3)
	c := f.start(t)
	if code := commit(t, c, "a", 7); code != 0 {
		t.Fatalf("commit: %v", kerr.ErrorForCode(code))
	}
	c.Close()
	key := binary.BigEndian.AppendUint16(nil, 16)
	key = append(key, "\x00\x01a\x00\x02.*"...) // group "a", regex ".*"
	batch, err := record.Build(record.BatchSpec{ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1, LastOffsetDelta: -1},
		[]record.Record{{Key: key, Value: []byte{0, 0, 1, 2, 3}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.parts[c.partitionFor("a")].Append(batch); err != nil {
		t.Fatal(err)
	}
	c = f.start(t)
	if got := fetched(t, c, "a"); got != 7 {
		t.Fatalf("offset %d after loading past an unknown record type, want 7", got)
	}
	if code := commit(t, c, "a", 9); code != 0 || fetched(t, c, "a") != 9 {
		t.Fatalf("the loaded shard does not take commits: %v", kerr.ErrorForCode(code))
	}
}
