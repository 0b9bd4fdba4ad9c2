package compat

import (
	"bufio"
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// The churn test: a group of churnMembers consumer processes on a topic of
// churnPartitions, each killed and restarted in turn while records keep
// coming.
const (
	churnMembers    = 4
	churnPartitions = 12
	// churnSessionMs is the members' session timeout: a killed member's
	// partitions wait this long before the group hands them over. It is the
	// broker's default group.min.session.timeout.ms.
	churnSessionMs = 6000
	churnFinal     = 1000 // records produced after the churn
)

// TestGroupChurnConfluent: acceptance test of consumer groups with four
// confluent-kafka consumer processes (python/confluent_group.py).
func TestGroupChurnConfluent(t *testing.T) {
	t.Parallel()
	requirePython(t, "confluent_kafka")
	testGroupChurn(t, func(addr, topic, group string) *exec.Cmd {
		return exec.Command(debianPython, "python/confluent_group.py", addr, topic, group,
			"--session-timeout-ms", itoa(churnSessionMs))
	})
}

// TestGroupChurnKafkajs: the same with four kafkajs consumer processes
// (node/group.js).
func TestGroupChurnKafkajs(t *testing.T) {
	t.Parallel()
	requireKafkajs(t)
	testGroupChurn(t, func(addr, topic, group string) *exec.Cmd {
		return exec.Command("node", "node/group.js", addr, topic, group,
			"--session-timeout-ms", itoa(churnSessionMs))
	})
}

// testGroupChurn runs churnMembers consumer processes (command makes one)
// in one group on a topic of churnPartitions while franz-go produces a
// steady stream of numbered records. Each member in turn is killed with
// SIGKILL (the second one is closed with SIGTERM instead, leaving the
// group) and a new process started in its place; then a last batch is
// produced. Every member prints each record it processes and commits
// synchronously after printing. The test checks that every record produced
// was processed, as produced, at least once; that a record processed twice
// was processed under two assignments (by another process, or after a
// rebalance), never twice in one; and that the group's commits end at the
// end offsets. It reports the duplicates.
func testGroupChurn(t *testing.T, command func(addr, topic, group string) *exec.Cmd) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	addr := startDefaultBroker(t)
	topic, group := "churn", t.Name()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if created, err := adm.CreateTopic(ctx, churnPartitions, 1, nil, topic); err != nil || created.Err != nil {
		t.Fatalf("create %s: %v %v", topic, err, created.Err)
	}

	c := &churn{t: t, ctx: ctx, adm: adm, group: group, log: newProcessedLog()}
	defer c.stopAll()
	start := func() *member { return c.start(command(addr, topic, group)) }
	live := make([]*member, churnMembers)
	for i := range live {
		live[i] = start()
	}
	c.waitGroup(live, "the first members to share the partitions")

	p := &numberedProducer{cl: cl, topic: topic, at: map[string]groupRecord{}}
	stopStream := p.stream(ctx)
	for i := range live {
		c.waitCaughtUp(p.count(), fmt.Sprintf("the members to catch up before replacement %d", i+1))
		old := live[i]
		how := "SIGKILL"
		if i == 1 {
			how = "SIGTERM (it leaves the group)"
		}
		c.logf("replacement %d: stopping member %d with %s", i+1, old.id, how)
		if i == 1 {
			old.stop()
		} else {
			old.kill()
		}
		live[i] = start()
		c.waitGroup(live, fmt.Sprintf("member %d to take member %d's place", live[i].id, old.id))
	}
	if err := stopStream(); err != nil {
		t.Fatalf("producing the stream: %v", err)
	}
	if err := p.produce(ctx, churnFinal); err != nil {
		t.Fatalf("producing the final batch: %v", err)
	}
	n := p.count()
	c.waitCaughtUp(n, fmt.Sprintf("all %d records to be processed", n))
	c.waitFor("the group's commits to reach the end offsets", func() (bool, string) {
		committed, ends, err := committedOffsets(ctx, adm, group, topic)
		if err != nil {
			return false, err.Error()
		}
		behind := atEnd(committed, ends)
		return behind == "", behind
	})
	for _, m := range live {
		m.stop()
	}
	c.check(p)
}

// churn runs the member processes of one churn test and keeps what they
// printed.
type churn struct {
	t     *testing.T
	ctx   context.Context
	adm   *kadm.Client
	group string
	log   *processedLog
	begin time.Time

	mu      sync.Mutex
	members []*member // every process started, in order
}

// member is one consumer process.
type member struct {
	id     int
	cmd    *exec.Cmd
	stderr *tailBuffer
	exited chan struct{} // closed once the process has exited and its stdout is read
	err    error         // from Wait, once exited
	killed bool          // by SIGKILL, on purpose

	mu       sync.Mutex
	assigned []int32 // its latest assignment
}

func (c *churn) logf(format string, args ...any) {
	c.t.Helper()
	if c.begin.IsZero() {
		c.begin = time.Now()
	}
	c.t.Logf("%5.1fs "+format, append([]any{time.Since(c.begin).Seconds()}, args...)...)
}

// start starts a member process; its stdout goes to the processed log.
func (c *churn) start(cmd *exec.Cmd) *member {
	c.t.Helper()
	c.mu.Lock()
	m := &member{id: len(c.members) + 1, cmd: cmd, stderr: &tailBuffer{max: 4096}, exited: make(chan struct{})}
	c.members = append(c.members, m)
	c.mu.Unlock()
	cmd.Stderr = m.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		c.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		c.t.Fatalf("start member: %v", err)
	}
	c.logf("member %d started (pid %d)", m.id, cmd.Process.Pid)
	go func() {
		defer close(m.exited)
		sc := bufio.NewScanner(stdout)
		epoch := 0
		for sc.Scan() {
			r, assigned, isRecord, ok := parseGroupLine(sc.Text())
			switch {
			case !ok:
				c.log.badLine(m.id, sc.Text())
			case isRecord:
				c.log.add(processing{member: m.id, epoch: epoch, rec: r})
			default:
				epoch++
				m.mu.Lock()
				m.assigned = assigned
				m.mu.Unlock()
			}
		}
		m.err = cmd.Wait()
	}()
	return m
}

// kill kills a member with SIGKILL, as a crash would.
func (m *member) kill() {
	m.killed = true
	m.cmd.Process.Signal(syscall.SIGKILL)
	<-m.exited
}

// stop asks a member to close (SIGTERM: it leaves the group) and waits for
// it, killing it if it does not exit within 15 s.
func (m *member) stop() {
	select {
	case <-m.exited:
		return
	default:
	}
	m.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-m.exited:
	case <-time.After(15 * time.Second):
		m.cmd.Process.Signal(syscall.SIGKILL)
		<-m.exited
		m.err = fmt.Errorf("did not exit within 15 s of SIGTERM (killed): %v", m.err)
	}
}

func (m *member) assignment() []int32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.assigned
}

// stopAll stops the members still running, when the test ends.
func (c *churn) stopAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range c.members {
		m.cmd.Process.Signal(syscall.SIGKILL)
		<-m.exited
	}
}

// stderrs is every member's stderr (its tail), for failure messages.
func (c *churn) stderrs() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b strings.Builder
	for _, m := range c.members {
		state := "running"
		select {
		case <-m.exited:
			state = fmt.Sprintf("exited: %v", m.err)
		default:
		}
		fmt.Fprintf(&b, "--- member %d (%s), stderr tail:\n%s\n", m.id, state, m.stderr.String())
	}
	return b.String()
}

// waitFor polls ok every 100 ms, for at most 30 s, and fails the test with
// ok's last word and the members' stderr if it is not met.
func (c *churn) waitFor(what string, ok func() (bool, string)) {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		done, why := ok()
		if done {
			c.logf("%s: done", what)
			return
		}
		if time.Now().After(deadline) || c.ctx.Err() != nil {
			c.t.Fatalf("timed out waiting for %s: %s\n%s", what, why, c.stderrs())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitGroup waits until the group is Stable with exactly the live members,
// which have printed assignments that cover every partition once.
func (c *churn) waitGroup(live []*member, what string) {
	c.t.Helper()
	c.waitFor(what, func() (bool, string) {
		owner := map[int32]int{}
		for _, m := range live {
			select {
			case <-m.exited:
				return false, fmt.Sprintf("member %d exited: %v", m.id, m.err)
			default:
			}
			for _, p := range m.assignment() {
				if o, ok := owner[p]; ok {
					return false, fmt.Sprintf("partition %d printed as assigned to members %d and %d", p, o, m.id)
				}
				owner[p] = m.id
			}
		}
		if len(owner) != churnPartitions {
			return false, fmt.Sprintf("the live members print %d partitions assigned, want %d", len(owner), churnPartitions)
		}
		described, err := c.adm.DescribeGroups(c.ctx, c.group)
		if err != nil {
			return false, err.Error()
		}
		g := described[c.group]
		if g.State != "Stable" || len(g.Members) != len(live) {
			return false, fmt.Sprintf("group %s is %s with %d members, want Stable with %d", c.group, g.State, len(g.Members), len(live))
		}
		return true, ""
	})
}

// waitCaughtUp waits until the first n records produced are processed.
func (c *churn) waitCaughtUp(n int, what string) {
	c.t.Helper()
	c.waitFor(what, func() (bool, string) {
		missing := c.log.missing(n)
		if len(missing) == 0 {
			return true, ""
		}
		return false, fmt.Sprintf("%d of the first %d records not processed yet (first: %s)", len(missing), n, missing[0])
	})
}

// check makes the final checks and reports the duplicates.
func (c *churn) check(p *numberedProducer) {
	t := c.t
	t.Helper()
	for _, m := range c.members {
		if !m.killed && m.err != nil {
			t.Errorf("member %d: %v (only SIGKILL was to end a member abnormally)\n%s", m.id, m.err, m.stderr.String())
		}
	}
	c.log.mu.Lock()
	defer c.log.mu.Unlock()
	if len(c.log.bad) > 0 {
		t.Errorf("members printed lines that are neither records nor assignments: %q", c.log.bad)
	}
	total, dupRecords, dups := 0, 0, 0
	var examples []string
	for value, ps := range c.log.byValue {
		total += len(ps)
		want, ok := p.at[value]
		if !ok {
			t.Errorf("member %d processed a record never produced: %v", ps[0].member, ps[0].rec)
			continue
		}
		seen := map[[2]int]bool{}
		for _, q := range ps {
			if q.rec != want {
				t.Errorf("member %d processed %v, but %q was produced as %v", q.member, q.rec, value, want)
			}
			at := [2]int{q.member, q.epoch}
			if seen[at] {
				t.Errorf("member %d processed %v twice under one assignment: a duplicate that no rebalance explains", q.member, q.rec)
			}
			seen[at] = true
		}
		if len(ps) > 1 {
			dupRecords++
			dups += len(ps) - 1
			if len(examples) < 5 {
				var by []string
				for _, q := range ps {
					by = append(by, fmt.Sprintf("member %d assignment %d", q.member, q.epoch))
				}
				examples = append(examples, fmt.Sprintf("%s by %s", ps[0].rec, strings.Join(by, ", then ")))
			}
		}
	}
	if missing := c.log.missingLocked(len(p.at)); len(missing) > 0 {
		t.Errorf("%d records lost: never processed (first: %s)", len(missing), missing[0])
	}
	c.logf("%d records produced, %d processings by %d processes over %d replacements: %d duplicates (%d records processed more than once)",
		len(p.at), total, len(c.members), churnMembers, dups, dupRecords)
	slices.Sort(examples)
	for _, e := range examples {
		c.logf("duplicate: %s", e)
	}
}

// processing is one record as one member processed it under its epoch-th
// assignment.
type processing struct {
	member, epoch int
	rec           groupRecord
}

// processedLog is what every member printed.
type processedLog struct {
	mu      sync.Mutex
	byValue map[string][]processing
	bad     []string
}

func newProcessedLog() *processedLog { return &processedLog{byValue: map[string][]processing{}} }

func (l *processedLog) add(p processing) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.byValue[p.rec.value] = append(l.byValue[p.rec.value], p)
}

func (l *processedLog) badLine(member int, line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.bad) < 10 {
		l.bad = append(l.bad, fmt.Sprintf("member %d: %s", member, line))
	}
}

// missing returns the values of the first n records not yet processed.
func (l *processedLog) missing(n int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.missingLocked(n)
}

func (l *processedLog) missingLocked(n int) []string {
	var out []string
	for i := range n {
		if v := churnValue(i); len(l.byValue[v]) == 0 {
			out = append(out, v)
		}
	}
	return out
}

func churnValue(i int) string { return fmt.Sprintf("rec-%06d", i) }

// numberedProducer produces records rec-000000, rec-000001, ... keyed by
// their number (so spread over the partitions) and remembers where each
// landed.
type numberedProducer struct {
	cl    *kgo.Client
	topic string

	mu sync.Mutex
	at map[string]groupRecord // by value, once acknowledged
}

// produce produces the next n records and waits for them.
func (p *numberedProducer) produce(ctx context.Context, n int) error {
	from := p.count()
	krs := make([]*kgo.Record, n)
	for i := range krs {
		krs[i] = &kgo.Record{Topic: p.topic, Key: []byte(fmt.Sprint(from + i)), Value: []byte(churnValue(from + i))}
	}
	if err := p.cl.ProduceSync(ctx, krs...).FirstErr(); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, kr := range krs {
		p.at[string(kr.Value)] = groupRecord{kr.Partition, kr.Offset, string(kr.Key), string(kr.Value)}
	}
	return nil
}

// count is how many records were produced (and acknowledged).
func (p *numberedProducer) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.at)
}

// stream produces 10 records every 50 ms until the returned stop is
// called, which waits for the records in flight: every record produced is
// acknowledged and known.
func (p *numberedProducer) stream(ctx context.Context) (stop func() error) {
	quit, done := make(chan struct{}), make(chan error, 1)
	go func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-quit:
				done <- nil
				return
			case <-tick.C:
			}
			if err := p.produce(ctx, 10); err != nil {
				done <- err
				return
			}
		}
	}()
	return func() error {
		close(quit)
		return <-done
	}
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.b = append(b.b, p...)
	if len(b.b) > b.max {
		b.b = slices.Clone(b.b[len(b.b)-b.max:])
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.b)
}
