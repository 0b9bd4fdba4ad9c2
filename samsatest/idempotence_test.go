package samsatest_test

// Idempotent producers (KIP-98, KIP-360; on by default since KIP-679)
// against a real node: producer ids never repeat across a restart, and a
// franz-go producer whose connections are cut over and over writes every
// record exactly once, in order (acceptance 6 of issue 6).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/samsatest"
)

func initProducerID(t *testing.T, ctx context.Context, cl *kgo.Client) (int64, int16) {
	t.Helper()
	req := kmsg.NewPtrInitProducerIDRequest()
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		t.Fatalf("InitProducerId: %v", err)
	}
	return resp.ProducerID, resp.ProducerEpoch
}

func TestProducerIDsNeverRepeatAcrossRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	node := samsatest.Start(t)
	seen := map[int64]bool{}
	for round := range 3 {
		cl, err := kgo.NewClient(kgo.SeedBrokers(node.Addr()))
		if err != nil {
			t.Fatal(err)
		}
		for range 5 {
			id, epoch := initProducerID(t, ctx, cl)
			if seen[id] || epoch != 0 {
				t.Fatalf("round %d: producer id %d epoch %d (seen before: %v)", round, id, epoch, seen[id])
			}
			seen[id] = true
		}
		// A transactional id goes to the transaction coordinator: before
		// FindCoordinator created __transaction_state no node leads the
		// id's partition, NOT_COORDINATOR as in Kafka; an empty one is
		// invalid. (Sent to the node itself: the client would look for
		// the coordinator first.)
		meta, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, cl)
		if err != nil || len(meta.Brokers) != 1 {
			t.Fatalf("metadata: %v", err)
		}
		direct := cl.Broker(int(meta.Brokers[0].NodeID))
		for _, tid := range []string{"tx", ""} {
			req := kmsg.NewPtrInitProducerIDRequest()
			req.TransactionalID = &tid
			req.TransactionTimeoutMillis = 60000
			kresp, err := direct.Request(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			resp := kresp.(*kmsg.InitProducerIDResponse)
			want := kerr.NotCoordinator
			if tid == "" {
				want = kerr.InvalidRequest
			}
			if kerr.ErrorForCode(resp.ErrorCode) != want {
				t.Fatalf("transactional id %q: code %d", tid, resp.ErrorCode)
			}
		}
		cl.Close()
		node.Restart()
	}
	t.Logf("%d distinct producer ids over 3 restarts", len(seen))
}

// cutProxy forwards TCP connections to target and cuts every open one at
// random intervals, so requests and responses die mid-flight.
type cutProxy struct {
	ln     net.Listener
	target atomic.Pointer[string]
	cuts   atomic.Int64
	mu     sync.Mutex
	conns  map[net.Conn]bool
	done   chan struct{}
	wg     sync.WaitGroup
}

func newCutProxy(t *testing.T) *cutProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, conns: map[net.Conn]bool{}, done: make(chan struct{})}
	p.wg.Go(p.accept)
	t.Cleanup(p.close)
	return p
}

func (p *cutProxy) addr() string { return p.ln.Addr().String() }

func (p *cutProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		target := p.target.Load()
		if target == nil {
			c.Close()
			continue
		}
		s, err := net.Dial("tcp", *target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns[c], p.conns[s] = true, true
		p.mu.Unlock()
		pipe := func(dst, src net.Conn) {
			io.Copy(dst, src)
			dst.Close()
			src.Close()
			p.mu.Lock()
			delete(p.conns, dst)
			delete(p.conns, src)
			p.mu.Unlock()
		}
		p.wg.Go(func() { pipe(s, c) })
		p.wg.Go(func() { pipe(c, s) })
	}
}

// cutEvery closes every open connection after a random pause in
// [min, max), until stopped.
func (p *cutProxy) cutEvery(lo, hi time.Duration, stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		case <-p.done:
			return
		case <-time.After(lo + rand.N(hi-lo)):
		}
		p.mu.Lock()
		if len(p.conns) > 0 {
			p.cuts.Add(1)
		}
		for c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
	}
}

func (p *cutProxy) close() {
	select {
	case <-p.done:
		return
	default:
	}
	close(p.done)
	p.ln.Close()
	p.mu.Lock()
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func TestIdempotentProducerSurvivesConnectionCuts(t *testing.T) {
	const (
		topic      = "idem-cuts"
		partitions = 3
		perPart    = 4000
	)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	proxy := newCutProxy(t)
	// The node advertises the proxy, so every connection the producer
	// opens after bootstrap goes through it too.
	node := samsatest.Start(t, samsatest.WithProps(map[string]string{
		"advertised.listeners": "PLAINTEXT://" + proxy.addr(),
	}))
	target := node.Addr()
	proxy.target.Store(&target)

	admCl, err := kgo.NewClient(kgo.SeedBrokers(proxy.addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer admCl.Close()
	if _, err := kadm.NewClient(admCl).CreateTopic(ctx, partitions, 1, nil, topic); err != nil {
		t.Fatal(err)
	}

	prod, err := kgo.NewClient(kgo.SeedBrokers(proxy.addr()), kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.RecordRetries(math.MaxInt),
		kgo.ProducerLinger(time.Millisecond), kgo.MaxBufferedRecords(2000),
		kgo.RetryBackoffFn(func(int) time.Duration { return 20 * time.Millisecond }))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()

	stop := make(chan struct{})
	var cutter sync.WaitGroup
	cutter.Go(func() { proxy.cutEvery(100*time.Millisecond, 400*time.Millisecond, stop) })

	var failed atomic.Int64
	var firstErr atomic.Pointer[error]
	start := time.Now()
	for i := range perPart {
		for p := range int32(partitions) {
			r := &kgo.Record{Partition: p, Value: []byte(strconv.Itoa(i))}
			prod.Produce(ctx, r, func(_ *kgo.Record, err error) {
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, &err)
				}
			})
		}
		if i%50 == 0 {
			time.Sleep(60 * time.Millisecond) // spread the writes over many cuts
		}
	}
	if err := prod.Flush(ctx); err != nil {
		t.Fatalf("flush: %v", err)
	}
	close(stop)
	cutter.Wait()
	if n := failed.Load(); n > 0 {
		t.Fatalf("%d records failed, first: %v", n, *firstErr.Load())
	}
	cuts := proxy.cuts.Load()
	elapsed := time.Since(start)

	dups, gaps, total := 0, 0, 0
	cons, err := kgo.NewClient(kgo.SeedBrokers(node.Addr()), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	// The metadata names the proxy, which no longer cuts anything.
	next := make([]int, partitions)
	for total < partitions*perPart {
		fs := cons.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("read %d of %d records: %v", total, partitions*perPart, err)
		}
		fs.EachError(func(_ string, _ int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Logf("fetch error: %v", err)
			}
		})
		fs.EachRecord(func(r *kgo.Record) {
			total++
			v, _ := strconv.Atoi(string(r.Value))
			switch want := next[r.Partition]; {
			case v < want:
				dups++
			case v > want:
				gaps += v - want
				next[r.Partition] = v + 1
			default:
				next[r.Partition] = v + 1
			}
		})
	}
	t.Logf("%d records to %d partitions in %v through %d connection cuts: %d read back, %d duplicates, %d gaps",
		partitions*perPart, partitions, elapsed.Round(time.Millisecond), cuts, total, dups, gaps)
	if dups != 0 || gaps != 0 || total != partitions*perPart {
		t.Fatalf("%d duplicates, %d gaps, %d records for %d", dups, gaps, total, partitions*perPart)
	}
	for p, n := range next {
		if n != perPart {
			t.Errorf("partition %d ends at %d, want %d", p, n, perPart)
		}
	}
	if cuts < 5 {
		t.Fatalf("only %d connection cuts: the test did not test", cuts)
	}
	// The partitions' producer state shows the one producer.
	resp, err := describeProducers(ctx, admCl, topic, partitions)
	if err != nil {
		t.Fatal(err)
	}
	for _, tp := range resp.Topics {
		for _, p := range tp.Partitions {
			if p.ErrorCode != 0 || len(p.ActiveProducers) != 1 || p.ActiveProducers[0].LastSequence != perPart-1 {
				t.Errorf("DescribeProducers partition %d: code %d, %+v", p.Partition, p.ErrorCode, p.ActiveProducers)
			}
		}
	}
}

func describeProducers(ctx context.Context, cl *kgo.Client, topic string, partitions int32) (*kmsg.DescribeProducersResponse, error) {
	req := kmsg.NewPtrDescribeProducersRequest()
	rt := kmsg.NewDescribeProducersRequestTopic()
	rt.Topic = topic
	for p := range partitions {
		rt.Partitions = append(rt.Partitions, p)
	}
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return nil, fmt.Errorf("DescribeProducers: %w", err)
	}
	return resp, nil
}
