package e2e

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

type acked struct {
	partition int32
	offset    int64
	key, val  []byte
	ts        time.Time
}

// Acknowledged writes survive kill -9: a producer with acks=all records
// every acknowledged record while the server is killed mid-stream; after a
// restart every one of them reads back byte-identical at its offset, and
// the topic and its configs are still there.
func TestAckedWritesSurviveKill9(t *testing.T) {
	s := newServer(t)
	s.start()
	ctx := ctxFor(t, 60*time.Second)
	adm, err := kadm.NewOptClient(kgo.SeedBrokers(s.addr()))
	if err != nil {
		t.Fatal(err)
	}
	retention := "123456789"
	if _, err := adm.CreateTopic(ctx, 3, 1, map[string]*string{"retention.ms": &retention}, "durable"); err != nil {
		t.Fatal(err)
	}
	adm.Close()

	cl, err := kgo.NewClient(kgo.SeedBrokers(s.addr()), kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.DisableIdempotentWrite(), kgo.RecordRetries(0), kgo.ProducerLinger(0))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []acked
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(got) }
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // produce until told to stop; the kill lands mid-stream
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			r := &kgo.Record{Topic: "durable", Key: []byte(fmt.Sprintf("k%d", i)), Value: bytes.Repeat([]byte{byte(i)}, 100+i%300)}
			cl.Produce(ctx, r, func(r *kgo.Record, err error) {
				if err == nil {
					mu.Lock()
					got = append(got, acked{r.Partition, r.Offset, r.Key, r.Value, r.Timestamp})
					mu.Unlock()
				}
			})
		}
	}()
	for count() < 3000 {
		if ctx.Err() != nil {
			t.Fatalf("only %d records acknowledged", count())
		}
		time.Sleep(time.Millisecond)
	}
	s.kill()
	time.Sleep(200 * time.Millisecond)
	close(stop)
	<-done
	cl.Close()
	n := count()
	t.Logf("%d records acknowledged before kill -9", n)

	s.start()
	checkReadBack(t, s.addr(), got)
	checkTopicConfig(t, s.addr(), "durable", "retention.ms", retention)
}

func checkReadBack(t *testing.T, addr string, want []acked) {
	t.Helper()
	ctx := ctxFor(t, 30*time.Second)
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics("durable"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	type at struct {
		p int32
		o int64
	}
	wanted := map[at]acked{}
	for _, a := range want {
		wanted[at{a.partition, a.offset}] = a
	}
	seen := 0
	for seen < len(wanted) {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatalf("reading back after %d of %d: %v", seen, len(wanted), err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			a, ok := wanted[at{r.Partition, r.Offset}]
			if !ok {
				return // produced but never acknowledged: allowed to be there
			}
			if !bytes.Equal(a.key, r.Key) || !bytes.Equal(a.val, r.Value) || !a.ts.Equal(r.Timestamp) {
				t.Fatalf("partition %d offset %d differs after restart", r.Partition, r.Offset)
			}
			seen++
		})
	}
}

func checkTopicConfig(t *testing.T, addr, topic, name, want string) {
	t.Helper()
	adm, err := kadm.NewOptClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	rc, err := adm.DescribeTopicConfigs(ctxFor(t, 10*time.Second), topic)
	if err != nil {
		t.Fatal(err)
	}
	c, err := rc.On(topic, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range c.Configs {
		if e.Key == name {
			if e.MaybeValue() != want || e.Source.String() != "DYNAMIC_TOPIC_CONFIG" {
				t.Fatalf("%s = %q (%s), want %q", name, e.MaybeValue(), e.Source, want)
			}
			return
		}
	}
	t.Fatalf("%s missing from the topic's configs", name)
}
