package e2e

// Acceptance 1 of issue 6: a consume-transform-produce pipeline with
// franz-go's GroupTransactSession (read_committed input, offsets committed
// in the transaction, KIP-98/KIP-447) copies a topic of numbered records to
// another while the pipeline is stopped abruptly and replaced by a new
// instance with the same transactional id (which fences the old one), and
// while the broker is killed with SIGKILL and restarted. A read_committed
// consumer of the output finds every input record exactly once, in order
// per partition.

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// pipeline is one instance of the copying process.
type pipeline struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// startPipeline runs a GroupTransactSession copying "in" to "out" until
// stopped; a session that fails is replaced, as a supervisor restarts a
// crashed process.
func startPipeline(t *testing.T, addr string, copied *atomic.Int64) *pipeline {
	ctx, cancel := context.WithCancel(context.Background())
	p := &pipeline{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		for ctx.Err() == nil {
			runSession(t, ctx, addr, copied)
		}
	}()
	return p
}

func runSession(t *testing.T, ctx context.Context, addr string, copied *atomic.Int64) {
	sess, err := kgo.NewGroupTransactSession(kgo.SeedBrokers(addr),
		kgo.TransactionalID("pipe"), kgo.ConsumerGroup("pipe-g"), kgo.ConsumeTopics("in"),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.RequireStableFetchOffsets(),
		kgo.DefaultProduceTopic("out"), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.TransactionTimeout(10*time.Second), kgo.FetchMaxWait(200*time.Millisecond),
		kgo.RetryTimeout(30*time.Second))
	if err != nil {
		t.Logf("session: %v", err)
		time.Sleep(200 * time.Millisecond)
		return
	}
	// An abrupt stop: the client goes without ending its transaction.
	defer sess.Client().Close()
	for ctx.Err() == nil {
		fs := sess.PollRecords(ctx, 50) // small transactions, so the kills land mid-stream
		if ctx.Err() != nil {
			return
		}
		if errs := fs.Errors(); len(errs) > 0 {
			t.Logf("fetch errors: %v", errs)
		}
		if fs.NumRecords() == 0 {
			continue
		}
		if err := sess.Begin(); err != nil {
			t.Logf("begin: %v", err)
			return
		}
		var n int64
		fs.EachRecord(func(r *kgo.Record) {
			sess.Produce(ctx, &kgo.Record{Partition: r.Partition, Value: r.Value}, nil)
			n++
		})
		committed, err := sess.End(ctx, kgo.TryCommit)
		if err != nil {
			t.Logf("end: %v", err)
			return
		}
		if committed {
			copied.Add(n)
		}
	}
}

func TestTransactionalPipelineExactlyOnceAcrossKills(t *testing.T) {
	const partitions, perPart = 3, 1500
	total := int64(partitions * perPart)
	s := newServer(t)
	s.start()
	ctx := ctxFor(t, 150*time.Second)
	adm, err := kadm.NewOptClient(kgo.SeedBrokers(s.addr()))
	if err != nil {
		t.Fatal(err)
	}
	for _, topic := range []string{"in", "out"} {
		if _, err := adm.CreateTopic(ctx, partitions, 1, nil, topic); err != nil {
			t.Fatal(err)
		}
	}
	adm.Close()
	prod, err := kgo.NewClient(kgo.SeedBrokers(s.addr()), kgo.DefaultProduceTopic("in"),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	for i := range perPart {
		for p := range int32(partitions) {
			prod.Produce(ctx, &kgo.Record{Partition: p, Value: []byte(fmt.Sprintf("%d-%d", p, i))}, nil)
		}
	}
	if err := prod.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	prod.Close()

	var copied atomic.Int64
	waitCopied := func(n int64) {
		for copied.Load() < n && ctx.Err() == nil {
			time.Sleep(5 * time.Millisecond)
		}
	}
	first := startPipeline(t, s.addr(), &copied)
	waitCopied(total / 4)
	first.cancel() // the process dies mid-stream
	<-first.done
	t.Logf("pipeline stopped abruptly after %d records copied", copied.Load())
	second := startPipeline(t, s.addr(), &copied)
	defer func() { second.cancel(); <-second.done }()
	waitCopied(total / 2)
	s.kill()
	t.Logf("broker killed with %d records copied", copied.Load())
	time.Sleep(300 * time.Millisecond)
	s.start()

	out, err := kgo.NewClient(kgo.SeedBrokers(s.addr()), kgo.ConsumeTopics("out"),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	var mu sync.Mutex
	next := make([]int, partitions)
	seen := int64(0)
	for seen < total && ctx.Err() == nil {
		fs := out.PollFetches(ctx)
		fs.EachRecord(func(r *kgo.Record) {
			mu.Lock()
			defer mu.Unlock()
			parts := strings.SplitN(string(r.Value), "-", 2)
			i, _ := strconv.Atoi(parts[1])
			if parts[0] != strconv.Itoa(int(r.Partition)) || i != next[r.Partition] {
				t.Fatalf("partition %d: record %q at offset %d, want %d-%d (a duplicate, gap or reorder)", r.Partition, r.Value, r.Offset, r.Partition, next[r.Partition])
			}
			next[r.Partition]++
			seen++
		})
	}
	if seen != total {
		t.Logf("server logs:\n%s", s.logs)
		t.Fatalf("read %d records of %d: %v", seen, total, next)
	}
	// Nothing more arrives: the pipeline copied each record once.
	second.cancel()
	<-second.done
	tail, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if fs := out.PollFetches(tail); fs.NumRecords() > 0 {
		t.Fatalf("%d records past the %d expected", fs.NumRecords(), total)
	}
}
