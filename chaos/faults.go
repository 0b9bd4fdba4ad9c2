package main

// The faults: which ones a run injects (a seeded schedule), and how each
// is injected, healed, and followed by recovery and a settle period.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

type faultKind string

const (
	killLeader     faultKind = "kill-leader"     // kill -9 a partition leader, restart
	killController faultKind = "kill-controller" // kill -9 the active controller, restart
	killNode       faultKind = "kill-node"       // kill -9 any node, restart
	pauseNode      faultKind = "pause-node"      // SIGSTOP any node, SIGCONT
	isolateLeader  faultKind = "isolate-leader"  // cut a partition leader from the other nodes, heal
	rollingRestart faultKind = "rolling-restart" // clean stop and start of every node in turn
)

var faultKinds = []faultKind{killLeader, killController, killNode, pauseNode, isolateLeader, rollingRestart}

// scheduler picks the faults: every kind once in a seeded order first,
// so a run of at least len(faultKinds) cycles covers them all, then
// seeded picks. It has its own generator, so the schedule of a seed does
// not depend on what the cluster answered during the run.
type scheduler struct {
	rng   *rand.Rand
	kinds []faultKind
	perm  []int
	n     int
}

// newScheduler schedules kinds (every kind when empty).
func newScheduler(seed uint64, kinds []faultKind) *scheduler {
	if len(kinds) == 0 {
		kinds = faultKinds
	}
	rng := rand.New(rand.NewPCG(seed, 1))
	return &scheduler{rng: rng, kinds: kinds, perm: rng.Perm(len(kinds))}
}

func (s *scheduler) next() faultKind {
	defer func() { s.n++ }()
	if s.n < len(s.perm) {
		return s.kinds[s.perm[s.n]]
	}
	return s.kinds[s.rng.IntN(len(s.kinds))]
}

// parseKinds reads a comma-separated list of fault kinds.
func parseKinds(s string) ([]faultKind, error) {
	var out []faultKind
	for _, k := range strings.Split(s, ",") {
		if k = strings.TrimSpace(k); k == "" {
			continue
		}
		if !slices.Contains(faultKinds, faultKind(k)) {
			return nil, fmt.Errorf("unknown fault %q (known: %v)", k, faultKinds)
		}
		out = append(out, faultKind(k))
	}
	return out, nil
}

// timing is how long faults last and how long the suite waits after.
type timing struct {
	downMin, downMax       time.Duration   // a killed node stays down this long
	pauses                 []time.Duration // SIGSTOP lengths, some above the session timeout
	isolateMin, isolateMax time.Duration   // a cut leader stays cut this long
	recovery               time.Duration   // limit for the cluster to be whole again
	settle                 time.Duration   // steady producing after recovery
	stopLimit              time.Duration   // a clean stop's limit before SIGKILL
}

// fullTiming is make chaos's; shortTiming the opt-in Go test's.
var (
	fullTiming = timing{downMin: time.Second, downMax: 6 * time.Second,
		pauses:     []time.Duration{time.Second, 2 * time.Second, 5 * time.Second, 8 * time.Second},
		isolateMin: 6 * time.Second, isolateMax: 12 * time.Second,
		recovery: 90 * time.Second, settle: 5 * time.Second, stopLimit: 30 * time.Second}
	shortTiming = timing{downMin: 500 * time.Millisecond, downMax: 2 * time.Second,
		pauses:     []time.Duration{time.Second, 5 * time.Second},
		isolateMin: 6 * time.Second, isolateMax: 6 * time.Second,
		recovery: 60 * time.Second, settle: 2 * time.Second, stopLimit: 20 * time.Second}
)

type injector struct {
	c          *cluster
	adm        *admin
	rng        *rand.Rand
	tm         timing
	partitions int32
	logf       func(format string, args ...any)
}

// run injects one fault, heals it, waits for the cluster to be whole
// again and lets it settle.
func (in *injector) run(ctx context.Context, kind faultKind) Fault {
	f := Fault{Kind: string(kind), Start: time.Now()}
	target, err := in.inject(ctx, kind)
	f.Target, f.Healed = target, time.Now()
	if err != nil {
		f.Note = err.Error()
	}
	in.logf("%s %s: healed after %v; waiting for the cluster to be whole", kind, target, f.Healed.Sub(f.Start).Round(time.Millisecond))
	if err := in.adm.waitHealthy(ctx, in.tm.recovery); err != nil {
		f.Note = joinNote(f.Note, "not whole again: "+err.Error())
		in.logf("%s %s: NOT RECOVERED: %v", kind, target, err)
	} else {
		f.Recovered, f.Whole = true, time.Now()
		in.logf("%s %s: whole again after %v", kind, target, f.Whole.Sub(f.Healed).Round(time.Millisecond))
	}
	sleep(ctx, in.tm.settle)
	f.End = time.Now()
	return f
}

func joinNote(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

func (in *injector) inject(ctx context.Context, kind faultKind) (string, error) {
	switch kind {
	case killLeader:
		id, what := in.partitionLeader(ctx)
		return what, in.killRestart(ctx, id)
	case killController:
		id, what := in.controller(ctx)
		return what, in.killRestart(ctx, id)
	case killNode:
		id := in.anyNode()
		return fmt.Sprintf("node %d", id), in.killRestart(ctx, id)
	case pauseNode:
		return in.pause(ctx)
	case isolateLeader:
		return in.isolate(ctx)
	case rollingRestart:
		return "every node", in.rolling(ctx)
	}
	return "", fmt.Errorf("unknown fault %q", kind)
}

func (in *injector) anyNode() int { return in.c.ids()[in.rng.IntN(len(in.c.nodes))] }

// partitionLeader picks a partition and returns its leader, or any node
// when the cluster does not say.
func (in *injector) partitionLeader(ctx context.Context) (int, string) {
	p := in.rng.Int32N(in.partitions)
	leaders, err := in.adm.leaders(ctx)
	if id := leaders[p]; err == nil && id > 0 && int(id) <= len(in.c.nodes) {
		return int(id), fmt.Sprintf("node %d (leader of p%d)", id, p)
	}
	id := in.anyNode()
	return id, fmt.Sprintf("node %d (p%d had no known leader: %v)", id, p, err)
}

func (in *injector) controller(ctx context.Context) (int, string) {
	id, err := in.adm.controller(ctx)
	if err == nil && id > 0 && int(id) <= len(in.c.nodes) {
		return int(id), fmt.Sprintf("node %d (active controller)", id)
	}
	n := in.anyNode()
	return n, fmt.Sprintf("node %d (no known controller: %v)", n, err)
}

// between is a seeded duration in [lo, hi].
func (in *injector) between(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(in.rng.Int64N(int64(hi-lo)+1))
}

// killRestart kills node id with SIGKILL, leaves it down a while and
// starts it again (a second time if the first start fails).
func (in *injector) killRestart(ctx context.Context, id int) error {
	nd := in.c.node(id)
	nd.kill()
	sleep(ctx, in.between(in.tm.downMin, in.tm.downMax))
	return in.restart(ctx, nd)
}

func (in *injector) restart(ctx context.Context, nd *node) error {
	err := in.c.start(ctx, nd)
	if err != nil && ctx.Err() == nil {
		in.logf("node %d did not start (%v); trying again", nd.id, err)
		nd.kill()
		sleep(ctx, time.Second)
		err = in.c.start(ctx, nd)
	}
	return err
}

func (in *injector) pause(ctx context.Context) (string, error) {
	id := in.anyNode()
	d := in.tm.pauses[in.rng.IntN(len(in.tm.pauses))]
	nd := in.c.node(id)
	nd.pause()
	sleep(ctx, d)
	nd.resume()
	return fmt.Sprintf("node %d for %v", id, d), nil
}

// isolate cuts a partition leader's links to and from every other node;
// clients still reach it.
func (in *injector) isolate(ctx context.Context) (string, error) {
	id, what := in.partitionLeader(ctx)
	d := in.between(in.tm.isolateMin, in.tm.isolateMax)
	acc0, ref0 := in.c.mesh.Touching(id)
	in.c.mesh.Isolate(id)
	sleep(ctx, d)
	for _, other := range in.c.ids() {
		in.logf("while node %d is cut off, %s", id, in.adm.view(ctx, int32(other)))
	}
	acc1, ref1 := in.c.mesh.Touching(id)
	in.c.mesh.HealAll()
	in.logf("node %d's links while cut: %d connections refused, %d forwarded (must be 0)", id, ref1-ref0, acc1-acc0)
	return fmt.Sprintf("%s for %v", what, d.Round(time.Millisecond)), nil
}

// rolling stops (SIGTERM) and starts every node in turn, waiting for the
// cluster to be whole before the next one, as an operator would.
func (in *injector) rolling(ctx context.Context) error {
	var note error
	for _, nd := range in.c.nodes {
		if err := nd.stop(in.tm.stopLimit); err != nil {
			note = joinErr(note, err)
		}
		if err := in.restart(ctx, nd); err != nil {
			return joinErr(note, err)
		}
		if err := in.adm.waitHealthy(ctx, in.tm.recovery); err != nil {
			return joinErr(note, fmt.Errorf("after restarting node %d: %w", nd.id, err))
		}
		in.logf("rolling restart: node %d back, cluster whole", nd.id)
	}
	return note
}

func joinErr(a, b error) error {
	if a == nil {
		return b
	}
	return fmt.Errorf("%v; %w", a, b)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
