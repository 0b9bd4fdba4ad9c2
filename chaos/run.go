package main

// One run: start the cluster, produce through the faults, heal, read back.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"
)

// Limits of the run's own phases.
const (
	formLimit     = 90 * time.Second // a new cluster registers, elects, creates the topic
	flushLimit    = 90 * time.Second // every record handed over is acknowledged after the last fault
	readBackLimit = 2 * time.Minute
)

// recorded is the history plus the read-back (nil when it failed).
type recorded struct {
	History
	reads []Read
}

// exercise runs the cluster and the workload through the faults. Its
// error is a problem that ends the run early; ri collects the rest.
func exercise(ctx context.Context, cfg config, bin, dir string, ri *runInfo, logf func(string, ...any)) (recorded, error) {
	var rec recorded
	logf("starting %d nodes in %s", cfg.nodes, dir)
	c, err := startCluster(ctx, bin, dir, cfg.nodes)
	if err != nil {
		return rec, fmt.Errorf("starting the cluster: %w", err)
	}
	defer c.shutdown()
	adm, err := newAdmin(c.Addrs(), topic, c.ids())
	if err != nil {
		return rec, err
	}
	defer adm.Close()
	if err := adm.createTopic(ctx, cfg.partitions, formLimit); err != nil {
		return rec, fmt.Errorf("creating the topic: %w", err)
	}
	if err := adm.waitHealthy(ctx, formLimit); err != nil {
		return rec, fmt.Errorf("the new cluster never became whole: %w", err)
	}
	logf("cluster whole; producing %d records/s with %d producers", cfg.rate, cfg.producers)
	w, err := startWorkload(c.Addrs(), topic, cfg.partitions, cfg.producers, cfg.rate)
	if err != nil {
		return rec, err
	}
	defer w.Close()
	sleep(ctx, cfg.warmup)
	checkMesh(c.mesh, ri, logf)

	rec.Faults = injectFaults(ctx, cfg, c, adm, logf)

	logf("faults done; flushing the producers")
	if err := w.Stop(flushLimit); err != nil {
		ri.Problems = append(ri.Problems, fmt.Sprintf("records handed to the producers were not all acknowledged after the last fault healed: %v", err))
	}
	rec.Acks, ri.Sent, ri.Failures = w.Stats()
	if err := adm.waitHealthy(ctx, formLimit); err != nil {
		ri.Problems = append(ri.Problems, fmt.Sprintf("the cluster was not whole before the read-back: %v", err))
	}
	logf("reading back %d partitions", cfg.partitions)
	if rec.reads, err = readBack(ctx, c.Addrs(), adm, readBackLimit); err != nil {
		return rec, fmt.Errorf("read-back failed, so the records could not be checked: %w", err)
	}
	return rec, nil
}

// checkMesh warns when a node never dialed another through the proxies:
// the binary then ignores SAMSA_TEST_DIAL_MAP and link faults miss it.
func checkMesh(m *mesh, ri *runInfo, logf func(string, ...any)) {
	logf("connections through the proxies: %s", m.Counts())
	if unused := m.Unused(); len(unused) > 0 {
		ri.Warnings = append(ri.Warnings, fmt.Sprintf("nodes %v opened no connection to another node through the proxies: "+
			"does the binary honour %s? isolate-leader faults cannot cut them off", unused, dialMapEnv))
	}
}

// injectFaults runs the seeded schedule until the cycles are done, the
// duration is over, ctx ends, or the cluster does not recover.
func injectFaults(ctx context.Context, cfg config, c *cluster, adm *admin, logf func(string, ...any)) []Fault {
	sched := newScheduler(cfg.seed, cfg.kinds)
	in := &injector{c: c, adm: adm, rng: rand.New(rand.NewPCG(cfg.seed, 2)), tm: cfg.timing,
		partitions: cfg.partitions, logf: logf}
	start := time.Now()
	var faults []Fault
	for ctx.Err() == nil && (cfg.cycles == 0 || len(faults) < cfg.cycles) &&
		(cfg.duration == 0 || time.Since(start) < cfg.duration) {
		kind := sched.next()
		logf("fault %d: %s", len(faults)+1, kind)
		f := in.run(ctx, kind)
		faults = append(faults, f)
		if !f.Recovered {
			logf("stopping the faults: the cluster is not whole (%s)", f.Note)
			break
		}
	}
	return faults
}

// check runs the checker; without a read-back only the faults' windows
// and recovery can be judged, so no record is called lost.
func check(rec recorded) Result {
	if rec.reads == nil {
		r := Check(History{Faults: rec.Faults, Acks: rec.Acks}, nil)
		r.Lost, r.Changed = nil, nil
		return r
	}
	return Check(rec.History, rec.reads)
}
