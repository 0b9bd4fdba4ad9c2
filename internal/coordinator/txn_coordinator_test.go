package coordinator

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/internal/coordinator/txn"
	"github.com/samsa-io/samsa/internal/metadata"
)

type pids struct {
	mu   sync.Mutex
	next int64
}

func (p *pids) Next() (int64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.next++
	return p.next, nil
}

// fakeMarkers records markers; while down it answers NOT_LEADER_OR_FOLLOWER.
type fakeMarkers struct {
	mu      sync.Mutex
	down    bool
	written []txn.Marker
}

func (f *fakeMarkers) WriteMarkers(_ context.Context, m txn.Marker) []txn.MarkerResult {
	f.mu.Lock()
	defer f.mu.Unlock()
	code := int16(0)
	if f.down {
		code = kerr.NotLeaderForPartition.Code
	} else {
		f.written = append(f.written, m)
	}
	var rs []txn.MarkerResult
	for _, tp := range m.Partitions {
		rs = append(rs, txn.MarkerResult{TransactionalID: m.TransactionalID, ProducerID: m.ProducerID,
			ProducerEpoch: m.ProducerEpoch, Partition: tp, ErrorCode: code})
	}
	return rs
}

func (f *fakeMarkers) setDown(down bool) {
	f.mu.Lock()
	f.down = down
	f.mu.Unlock()
}

func txnFixture(t *testing.T) (*fixture, *metadata.Image) {
	f := &fixture{}
	id := metadata.NewUUID()
	recs := []metadata.Record{{Topic: &metadata.TopicRecord{Name: TxnTopic, ID: id}}}
	for p := range int32(2) {
		f.parts = append(f.parts, &memPartition{})
		recs = append(recs, metadata.Record{Partition: &metadata.PartitionRecord{
			TopicID: id, Partition: p, Replicas: []int32{1}, ISR: []int32{1}, Leader: 1, LeaderEpoch: 7}})
	}
	im, err := metadata.Empty().Apply(1, recs)
	if err != nil {
		t.Fatal(err)
	}
	return f, im
}

func startTxn(t *testing.T, f *fixture, im *metadata.Image, ids *pids, m *fakeMarkers) *TxnCoordinator {
	t.Helper()
	cfg := txn.DefaultConfig()
	cfg.ProducerIDs, cfg.MarkerRetryBackoff = ids, 10*time.Millisecond
	c, err := NewTxn(TxnConfig{
		NodeID: 1, NumPartitions: 2, OffsetsPartitions: 50, Txn: cfg, Markers: m,
		Image:     func() *metadata.Image { return im },
		Partition: func(p, _ int32) (Partition, error) { return f.parts[p], nil },
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	c.Start()
	t.Cleanup(c.Close)
	return c
}

func waitState(t *testing.T, c *TxnCoordinator, id, want string) kmsg.DescribeTransactionsResponseTransactionState {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		d := c.DescribeTransaction(context.Background(), id)
		if d.State == want || time.Now().After(deadline) {
			if d.State != want {
				t.Fatalf("%s is %s (error %d), want %s", id, d.State, d.ErrorCode, want)
			}
			return d
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A commit through the runtime, with the coordinator restarted while its
// markers cannot be written: the new coordinator replays the PrepareCommit
// record, resends the markers at the partition's leader epoch (the
// coordinator epoch) and completes the commit (acceptance 7).
func TestTxnRestartInTheMiddleOfACommit(t *testing.T) {
	f, im := txnFixture(t)
	ids, m := &pids{next: 99}, &fakeMarkers{down: true}
	c := startTxn(t, f, im, ids, m)
	ctx := context.Background()
	id := "tx"
	init := kmsg.NewPtrInitProducerIDRequest()
	init.Version, init.TransactionalID, init.TransactionTimeoutMillis = 5, &id, 60000
	ir := c.InitProducerID(ctx, init).(*kmsg.InitProducerIDResponse)
	if ir.ErrorCode != 0 || ir.ProducerID != 100 || ir.ProducerEpoch != 0 {
		t.Fatalf("init: %+v", ir)
	}
	add := kmsg.NewPtrAddPartitionsToTxnRequest()
	add.Version = 5
	rt := kmsg.NewAddPartitionsToTxnRequestTransaction()
	rt.TransactionalID, rt.ProducerID, rt.ProducerEpoch = id, 100, 0
	rt.Topics = []kmsg.AddPartitionsToTxnRequestTransactionTopic{{Topic: "out", Partitions: []int32{0, 1}}}
	add.Transactions = append(add.Transactions, rt)
	if ar := c.AddPartitionsToTxn(ctx, add); ar.Transactions[0].Topics[0].Partitions[1].ErrorCode != 0 {
		t.Fatalf("add: %+v", ar)
	}
	end := kmsg.NewPtrEndTxnRequest()
	end.Version, end.TransactionalID, end.ProducerID, end.ProducerEpoch, end.Commit = 5, id, 100, 0, true
	er := c.EndTxn(ctx, end).(*kmsg.EndTxnResponse)
	if er.ErrorCode != 0 || er.ProducerEpoch != 1 {
		t.Fatalf("end: %+v", er)
	}
	waitState(t, c, id, "PrepareCommit")
	c.Close()

	m.setDown(false)
	c = startTxn(t, f, im, ids, m)
	d := waitState(t, c, id, "CompleteCommit")
	if d.ProducerID != 100 || d.ProducerEpoch != 1 || len(d.Topics) != 0 {
		t.Fatalf("after the commit: %+v", d)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.written) == 0 || !m.written[0].Commit || m.written[0].CoordinatorEpoch != 7 || m.written[0].ProducerEpoch != 1 {
		t.Fatalf("markers written: %+v", m.written)
	}
}

func TestTxnIdempotentInitNeedsNoShard(t *testing.T) {
	f, im := txnFixture(t)
	c := startTxn(t, f, im, &pids{next: 9}, &fakeMarkers{})
	req := kmsg.NewPtrInitProducerIDRequest()
	req.Version, req.TransactionTimeoutMillis = 4, -1
	r := c.InitProducerID(context.Background(), req).(*kmsg.InitProducerIDResponse)
	if r.ErrorCode != 0 || r.ProducerID != 10 || r.ProducerEpoch != 0 {
		t.Fatalf("idempotent init: %+v", r)
	}
}
