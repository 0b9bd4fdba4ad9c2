package samsatest_test

// Transactions (KIP-98; Kafka 4.x transactions v2, KIP-890) against a live
// node over TCP, acceptance points of issue 6:
//   - 2: aborted transactions are invisible to read_committed consumers
//     and visible to read_uncommitted ones;
//   - 4: of two producers with the same transactional.id the older is
//     fenced and can neither write nor commit;
//   - 5: a delayed EndTxn or AddPartitionsToTxn of an earlier epoch is
//     refused, with raw requests at pinned versions.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/samsatest"
)

func createTopic(t *testing.T, ctx context.Context, addr, topic string, partitions int32) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	res, err := kadm.NewClient(cl).CreateTopic(ctx, partitions, 1, nil, topic)
	if err == nil {
		err = res.Err
	}
	if err != nil {
		t.Fatal(err)
	}
}

// consumeAll reads topic from the start with the isolation level until
// want records came or the context ends.
func consumeAll(t *testing.T, ctx context.Context, addr, topic string, committed bool, want int) []string {
	t.Helper()
	iso := kgo.ReadUncommitted()
	if committed {
		iso = kgo.ReadCommitted()
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic), kgo.FetchIsolationLevel(iso),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var got []string
	for len(got) < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			break
		}
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	return got
}

func TestAbortedTransactionsInvisibleToReadCommitted(t *testing.T) {
	node := samsatest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	createTopic(t, ctx, node.Addr(), "txn-out", 2)
	p, err := kgo.NewClient(kgo.SeedBrokers(node.Addr()), kgo.TransactionalID("tx-2"), kgo.DefaultProduceTopic("txn-out"),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var committed, aborted []string
	for txn := range 6 {
		if err := p.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		commit := txn%2 == 0
		for i := range 5 {
			v := fmt.Sprintf("t%d-r%d", txn, i)
			if err := p.ProduceSync(ctx, &kgo.Record{Partition: int32(i % 2), Value: []byte(v)}).FirstErr(); err != nil {
				t.Fatal(err)
			}
			if commit {
				committed = append(committed, v)
			} else {
				aborted = append(aborted, v)
			}
		}
		if err := p.EndTransaction(ctx, kgo.TransactionEndTry(commit)); err != nil {
			t.Fatalf("ending transaction %d: %v", txn, err)
		}
	}
	// A transaction left open holds back read_committed consumers only.
	if err := p.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := p.ProduceSync(ctx, &kgo.Record{Partition: 0, Value: []byte("open")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	all := append(slices.Clone(committed), aborted...)
	all = append(all, "open")
	rc := consumeAll(t, ctx, node.Addr(), "txn-out", true, len(committed))
	ru := consumeAll(t, ctx, node.Addr(), "txn-out", false, len(all))
	slices.Sort(rc)
	slices.Sort(ru)
	slices.Sort(committed)
	slices.Sort(all)
	if !slices.Equal(rc, committed) {
		t.Fatalf("read_committed got %d records %v, want the %d committed", len(rc), rc, len(committed))
	}
	if !slices.Equal(ru, all) {
		t.Fatalf("read_uncommitted got %d records, want all %d", len(ru), len(all))
	}
	// The open transaction's record is not in read_committed's view, and
	// ListOffsets READ_COMMITTED stops below it.
	latest := func(iso int8) int64 {
		req := kmsg.NewPtrListOffsetsRequest()
		req.IsolationLevel = iso
		rt := kmsg.NewListOffsetsRequestTopic()
		rt.Topic = "txn-out"
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Partition, rp.Timestamp = 0, -1
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp, err := req.RequestWith(ctx, p)
		if err != nil || resp.Topics[0].Partitions[0].ErrorCode != 0 {
			t.Fatalf("ListOffsets: %v %+v", err, resp)
		}
		return resp.Topics[0].Partitions[0].Offset
	}
	if rc, ru := latest(1), latest(0); rc >= ru || rc <= 0 {
		t.Fatalf("READ_COMMITTED latest %d, READ_UNCOMMITTED %d: want 0 < committed < uncommitted while a transaction is open", rc, ru)
	}
	if err := p.EndTransaction(ctx, kgo.TryAbort); err != nil {
		t.Fatal(err)
	}
}

func TestOlderTransactionalProducerIsFenced(t *testing.T) {
	node := samsatest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	createTopic(t, ctx, node.Addr(), "fence", 1)
	newProducer := func() *kgo.Client {
		cl, err := kgo.NewClient(kgo.SeedBrokers(node.Addr()), kgo.TransactionalID("tx-4"), kgo.DefaultProduceTopic("fence"),
			kgo.RecordRetries(3))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cl.Close)
		return cl
	}
	old := newProducer()
	if err := old.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := old.ProduceSync(ctx, kgo.StringRecord("old-1")).FirstErr(); err != nil {
		t.Fatal(err)
	}
	young := newProducer()
	if err := young.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := young.ProduceSync(ctx, kgo.StringRecord("young-1")).FirstErr(); err != nil {
		t.Fatal(err)
	}
	// The old producer can neither write nor commit.
	werr := old.ProduceSync(ctx, kgo.StringRecord("old-2")).FirstErr()
	cerr := old.EndTransaction(ctx, kgo.TryCommit)
	if werr == nil && cerr == nil {
		t.Fatal("the fenced producer wrote and committed")
	}
	if cerr == nil {
		t.Fatal("the fenced producer committed")
	}
	fenced := func(err error) bool {
		return errors.Is(err, kerr.ProducerFenced) || errors.Is(err, kerr.InvalidProducerEpoch) || errors.Is(err, kerr.InvalidProducerIDMapping)
	}
	if werr != nil && !fenced(werr) {
		t.Logf("old producer write error: %v", werr)
	}
	if !fenced(cerr) && !fenced(werr) {
		t.Fatalf("old producer not fenced: write %v, commit %v", werr, cerr)
	}
	if err := young.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	got := consumeAll(t, ctx, node.Addr(), "fence", true, 1)
	// old-1 was aborted when young initialized; only young-1 is committed.
	time.Sleep(500 * time.Millisecond)
	if !slices.Equal(got, []string{"young-1"}) {
		t.Fatalf("read_committed: %v, want [young-1]", got)
	}
}

// writeCounter counts the requests a client writes, by key.
type writeCounter struct{ counts [128]atomic.Int64 }

func (w *writeCounter) OnBrokerWrite(_ kgo.BrokerMetadata, key int16, _ int, _, _ time.Duration, err error) {
	if err == nil && key >= 0 && int(key) < len(w.counts) {
		w.counts[key].Add(1)
	}
}

// franz-go runs transactions v2 (KIP-890 part 2) against Samsa, which
// advertises transaction.version 2: after its first transaction it sends
// no AddPartitionsToTxn (the partition leader adds the partition from
// Produce v12+), and every EndTxn v5 bumps the producer epoch, which
// DescribeTransactions shows.
func TestFranzGoRunsTransactionsV2(t *testing.T) {
	node := samsatest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	createTopic(t, ctx, node.Addr(), "txn-v2", 2)
	var w writeCounter
	p, err := kgo.NewClient(kgo.SeedBrokers(node.Addr()), kgo.TransactionalID("tx-v2"), kgo.DefaultProduceTopic("txn-v2"),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.WithHooks(&w))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	const txns = 4
	var adds int64
	for txn := range txns {
		if txn == 1 {
			// franz-go opts in to KIP-890 part 2 at the end of its first
			// transaction; from the second one no partition is added by the client.
			adds = w.counts[kmsg.AddPartitionsToTxn].Load()
		}
		if err := p.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		for i := range 4 {
			if err := p.ProduceSync(ctx, &kgo.Record{Partition: int32(i % 2), Value: []byte(fmt.Sprint(txn, i))}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
		if err := p.EndTransaction(ctx, kgo.TransactionEndTry(txn%2 == 0)); err != nil {
			t.Fatalf("ending transaction %d: %v", txn, err)
		}
	}
	if n := w.counts[kmsg.AddPartitionsToTxn].Load(); n != adds {
		t.Fatalf("franz-go sent %d AddPartitionsToTxn after its first transaction: it is not on transactions v2", n-adds)
	}
	adm := kadm.NewClient(p)
	d, err := adm.DescribeTransactions(ctx, "tx-v2")
	if err != nil {
		t.Fatal(err)
	}
	s, ok := d["tx-v2"]
	if !ok || s.Err != nil {
		t.Fatalf("DescribeTransactions: %+v", d)
	}
	// The first transaction ran on v1 (no bump); each of the next ones
	// bumped the epoch once at its end, after the re-init's bump.
	if s.ProducerEpoch < txns-1 {
		t.Fatalf("producer epoch %d after %d transactions: the epoch was not bumped per transaction", s.ProducerEpoch, txns)
	}
	if s.State == "Ongoing" || s.State == "Empty" {
		t.Fatalf("state %s, want the last transaction ended", s.State)
	}
	got := consumeAll(t, ctx, node.Addr(), "txn-v2", true, 8)
	if len(got) != 8 {
		t.Fatalf("read_committed got %d records, want the 8 of the 2 committed transactions", len(got))
	}
}
