package e2e

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Committed offsets and group state survive kill -9: a static member's
// commits, its group's generation, members and assignment, and every
// commit the broker acknowledged while a simple committer raced the kill
// are back after the restart; the static member rejoins without a
// rebalance and reads only what is new.
func TestGroupStateSurvivesKill9(t *testing.T) {
	s := newServer(t)
	s.start()
	ctx := ctxFor(t, 90*time.Second)
	adm := newAdmin(t, s.addr())
	if _, err := adm.CreateTopic(ctx, 4, 1, nil, "events"); err != nil {
		t.Fatal(err)
	}
	produceValues(t, s.addr(), 0, 400)

	// A static member consumes everything and commits it.
	member := staticMember(t, s.addr())
	if got := pollValues(t, member, 400); len(got) != 400 {
		t.Fatalf("static member read %d distinct records, want 400", len(got))
	}
	if err := member.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatal(err)
	}
	gen := bumpGeneration(t, s.addr(), adm, member)
	before := describeGroup(t, adm, "static-g")
	t.Logf("before the kill: %s generation %d, member %s", before.State, gen, before.memberID)

	// A simple committer (no member, generation -1) races the kill.
	acked, sent := raceCommitsWithKill(t, s, adm)
	member.Close()
	t.Logf("simple commits: %d acknowledged, %d sent before kill -9", acked, sent)

	s.start()
	adm = newAdmin(t, s.addr())
	checkCommitted(t, adm, "static-g", func(p int32, at int64, end int64) error {
		if at != end {
			return fmt.Errorf("committed %d, log end %d", at, end)
		}
		return nil
	})
	checkCommitted(t, adm, "simple-g", func(p int32, at int64, _ int64) error {
		if at < acked || at > sent {
			return fmt.Errorf("committed %d, want within [%d acknowledged, %d sent]", at, acked, sent)
		}
		return nil
	})
	after := describeGroup(t, adm, "static-g")
	if after != before {
		t.Fatalf("group after restart %+v, before kill %+v", after, before)
	}

	// The static member comes back: same generation, only the new records.
	produceValues(t, s.addr(), 400, 40)
	member = staticMember(t, s.addr())
	defer member.Close()
	got := pollValues(t, member, 40)
	for i := 400; i < 440; i++ {
		if !got[fmt.Sprintf("v%d", i)] {
			t.Fatalf("restarted static member did not read v%d", i)
		}
	}
	if len(got) != 40 {
		t.Fatalf("restarted static member read %d distinct records, want the 40 new ones", len(got))
	}
	if _, g := member.GroupMetadata(); g != gen {
		t.Fatalf("static rejoin after restart got generation %d, want %d (no rebalance)", g, gen)
	}
	if rejoined := describeGroup(t, adm, "static-g"); rejoined.State != "Stable" || rejoined.assigned != 4 {
		t.Fatalf("static rejoin after restart: %+v, want Stable with 4 partitions", rejoined)
	}
}

func newAdmin(t *testing.T, addr string) *kadm.Client {
	t.Helper()
	adm, err := kadm.NewOptClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(adm.Close)
	return adm
}

func produceValues(t *testing.T, addr string, from, n int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic("events"),
		kgo.RecordPartitioner(kgo.RoundRobinPartitioner())) // every partition gets records
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	rs := make([]*kgo.Record, n)
	for i := range rs {
		rs[i] = kgo.StringRecord(fmt.Sprintf("v%d", from+i))
	}
	if err := cl.ProduceSync(ctxFor(t, 20*time.Second), rs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

func staticMember(t *testing.T, addr string) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumerGroup("static-g"), kgo.ConsumeTopics("events"),
		kgo.InstanceID("a"), kgo.SessionTimeout(60*time.Second), kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// pollValues polls until n distinct values arrived, and a little longer to
// catch extras; it returns the set.
func pollValues(t *testing.T, cl *kgo.Client, n int) map[string]bool {
	t.Helper()
	got := map[string]bool{}
	deadline := time.Now().Add(30 * time.Second)
	var extra time.Time
	for time.Now().Before(deadline) {
		if len(got) >= n && extra.IsZero() {
			extra = time.Now().Add(300 * time.Millisecond)
		}
		if !extra.IsZero() && time.Now().After(extra) {
			return got
		}
		ctx := ctxFor(t, 200*time.Millisecond)
		fs := cl.PollFetches(ctx)
		fs.EachError(func(topic string, p int32, err error) {
			if ctx.Err() == nil {
				t.Fatalf("fetching %s/%d: %v", topic, p, err)
			}
		})
		fs.EachRecord(func(r *kgo.Record) { got[string(r.Value)] = true })
	}
	t.Fatalf("read %d distinct records in 30 s, want %d", len(got), n)
	return nil
}

type groupView struct {
	State    string
	memberID string
	instance string
	assigned int
}

func describeGroup(t *testing.T, adm *kadm.Client, group string) groupView {
	t.Helper()
	ds, err := adm.DescribeGroups(ctxFor(t, 10*time.Second), group)
	if err != nil {
		t.Fatal(err)
	}
	d := ds[group]
	if d.Err != nil || len(d.Members) != 1 {
		t.Fatalf("describe %s: err %v, %d members", group, d.Err, len(d.Members))
	}
	m := d.Members[0]
	v := groupView{State: d.State, memberID: m.MemberID, instance: *m.InstanceID}
	if a, ok := m.Assigned.AsConsumer(); ok {
		for _, tp := range a.Topics {
			v.assigned += len(tp.Partitions)
		}
	}
	return v
}

// bumpGeneration has a dynamic member join and leave, so the generation
// the group reaches (returned, at least 3) is not one a group recreated
// from nothing would have; it returns once the static member holds every
// partition again.
func bumpGeneration(t *testing.T, addr string, adm *kadm.Client, static *kgo.Client) int32 {
	t.Helper()
	other, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumerGroup("static-g"), kgo.ConsumeTopics("events"),
		kgo.DisableAutoCommit())
	if err != nil {
		t.Fatal(err)
	}
	waitGroup(t, adm, static, "a second member joined", func(d kadm.DescribedGroup) bool {
		return d.State == "Stable" && len(d.Members) == 2
	})
	other.Close()
	waitGroup(t, adm, static, "the static member holds all partitions again", func(d kadm.DescribedGroup) bool {
		v := describeGroup(t, adm, "static-g")
		return d.State == "Stable" && len(d.Members) == 1 && v.assigned == 4
	})
	_, gen := static.GroupMetadata()
	if gen < 3 {
		t.Fatalf("generation %d after a member joined and left, want at least 3", gen)
	}
	return gen
}

// waitGroup polls the static member (so it heartbeats and rejoins) until
// the group's description satisfies ok.
func waitGroup(t *testing.T, adm *kadm.Client, static *kgo.Client, what string, ok func(kadm.DescribedGroup) bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := timeoutCtx(100 * time.Millisecond)
		static.PollFetches(ctx)
		cancel()
		ds, err := adm.DescribeGroups(ctxFor(t, 10*time.Second), "static-g")
		if err == nil && ok(ds["static-g"]) {
			return
		}
	}
	t.Fatalf("waiting for %s: timed out after 30 s", what)
}

func timeoutCtx(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

func raceCommitsWithKill(t *testing.T, s *server, adm *kadm.Client) (acked, sent int64) {
	t.Helper()
	var mu sync.Mutex
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := int64(1); ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			var os kadm.Offsets
			for p := int32(0); p < 4; p++ {
				os.Add(kadm.Offset{Topic: "events", Partition: p, At: i, LeaderEpoch: -1})
			}
			mu.Lock()
			sent = i
			mu.Unlock()
			ctx, cancel := timeoutCtx(2 * time.Second)
			r, err := adm.CommitOffsets(ctx, "simple-g", os)
			cancel()
			if err == nil && r.Ok() {
				mu.Lock()
				acked = i
				mu.Unlock()
			}
		}
	}()
	for {
		mu.Lock()
		n := acked
		mu.Unlock()
		if n >= 50 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	s.kill()
	close(stop)
	<-done
	return acked, sent
}

func checkCommitted(t *testing.T, adm *kadm.Client, group string, check func(p int32, at, end int64) error) {
	t.Helper()
	ctx := ctxFor(t, 20*time.Second)
	ends, err := adm.ListEndOffsets(ctx, "events")
	if err != nil {
		t.Fatal(err)
	}
	os, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	for p := int32(0); p < 4; p++ {
		o, ok := os.Lookup("events", p)
		if !ok || o.Err != nil {
			t.Fatalf("%s: no committed offset for partition %d after restart (%v)", group, p, o.Err)
		}
		end, _ := ends.Lookup("events", p)
		if err := check(p, o.At, end.Offset); err != nil {
			t.Errorf("%s partition %d after restart: %v", group, p, err)
		}
	}
}
