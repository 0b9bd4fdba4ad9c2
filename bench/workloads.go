package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/samsa-io/samsa/internal/cli/perf"
)

// partitions of every benchmark topic.
const partitions = 3

// plan sizes a benchmark run.
type plan struct {
	Rounds      int           `json:"rounds"`
	Produce     time.Duration `json:"produce_ns"`
	E2E         time.Duration `json:"e2e_ns"`
	Points      []point       `json:"points"`
	RecordSizes []int         `json:"record_sizes"`
}

// Bases of a load point.
const (
	// ofProduce: the round's maximum 1 KiB produce rate (no consumer).
	ofProduce = "produce"
	// ofE2E: the highest rate 1 KiB records made it through with a
	// consumer attached (an end-to-end run as fast as possible).
	ofE2E = "e2e"
)

// point is an end-to-end load: a percentage of a basis rate.
type point struct {
	Basis   string `json:"basis"`
	Percent int    `json:"percent"`
}

func (p point) String() string {
	if p.Basis == ofProduce {
		return fmt.Sprintf("%d%% of max produce", p.Percent)
	}
	return fmt.Sprintf("%d%% of max e2e", p.Percent)
}

// producer are the producer settings of every workload: acks=1, no
// compression, no idempotence, linger 0, 5 requests in flight.
func producer() perf.ProducerSettings {
	s := perf.DefaultProducerSettings()
	s.Acks = 1
	return s
}

// throughput is one record size's produce and consume runs with the
// broker's CPU time for each.
type throughput struct {
	RecordSize int                `json:"record_size"`
	Produce    perf.ProduceResult `json:"produce"`
	Consume    perf.ConsumeResult `json:"consume"`
	ProduceCPU time.Duration      `json:"produce_cpu_ns"`
	ConsumeCPU time.Duration      `json:"consume_cpu_ns"`
	// The load generator's (this process's) CPU time in the same runs.
	ProduceClientCPU time.Duration `json:"produce_client_cpu_ns"`
	ConsumeClientCPU time.Duration `json:"consume_client_cpu_ns"`
}

// latency is one end-to-end run at a load point.
type latency struct {
	Point     point          `json:"point"`
	Rate      float64        `json:"rate"`
	Result    perf.E2EResult `json:"result"`
	BrokerCPU time.Duration  `json:"broker_cpu_ns"`
	ClientCPU time.Duration  `json:"client_cpu_ns"`
}

// brokerRun is everything measured on one broker in one round.
type brokerRun struct {
	Broker     string       `json:"broker"`
	Round      int          `json:"round"`
	Throughput []throughput `json:"throughput"`
	// E2EMax is the end-to-end run as fast as possible.
	E2EMax          perf.E2EResult `json:"e2e_max"`
	E2EMaxBrokerCPU time.Duration  `json:"e2e_max_broker_cpu_ns"`
	E2EMaxClientCPU time.Duration  `json:"e2e_max_client_cpu_ns"`
	E2E             []latency      `json:"e2e"`
}

// size returns the throughput runs of recordSize.
func (r brokerRun) size(recordSize int) throughput {
	for _, t := range r.Throughput {
		if t.RecordSize == recordSize {
			return t
		}
	}
	return throughput{}
}

// at returns the end-to-end run at a load point.
func (r brokerRun) at(p point) latency {
	for _, l := range r.E2E {
		if l.Point == p {
			return l
		}
	}
	return latency{}
}

// basis is the rate a load point is a share of.
func (r brokerRun) basis(p point) float64 {
	if p.Basis == ofProduce {
		return r.size(1024).Produce.RecordsPerSec
	}
	return r.E2EMax.ConsumedPerSec
}

// settle lets the broker finish what the last workload left (write-back,
// garbage collection) before the next one is measured.
const settle = time.Second

// cpuUse is the CPU time a run took.
type cpuUse struct {
	broker, client time.Duration
}

// measured runs f and returns the CPU time the broker and this process
// (the load generator) used during it, recording a profile of the broker
// under name when profiling.
func measured(b *broker, name string, f func() error) (cpuUse, error) {
	time.Sleep(settle)
	stop, err := b.profile(name)
	if err != nil {
		return cpuUse{}, err
	}
	defer stop()
	b0, err1 := b.cpu()
	c0, err2 := selfCPU()
	if err := errors.Join(err1, err2); err != nil {
		return cpuUse{}, err
	}
	if err := f(); err != nil {
		return cpuUse{}, err
	}
	b1, err1 := b.cpu()
	c1, err2 := selfCPU()
	return cpuUse{broker: b1 - b0, client: c1 - c0}, errors.Join(err1, err2)
}

// runThroughput produces recordSize records as fast as the broker takes
// them for p.Produce, then consumes them all from the start.
func runThroughput(ctx context.Context, b *broker, p plan, recordSize int) (throughput, error) {
	t := throughput{RecordSize: recordSize}
	topic := fmt.Sprintf("perf-%d", recordSize)
	if err := b.createTopic(topic); err != nil {
		return t, err
	}
	use, err := measured(b, "produce-"+topic, func() error {
		var err error
		t.Produce, err = perf.Produce(ctx, perf.ProduceOptions{Brokers: []string{b.addr}, Topic: topic,
			Duration: p.Produce, RecordSize: recordSize, Throughput: -1, Producer: producer()})
		if err == nil && t.Produce.Errors > 0 {
			err = fmt.Errorf("%d records failed: %s", t.Produce.Errors, t.Produce.FirstError)
		}
		return err
	})
	if err != nil {
		return t, fmt.Errorf("produce %d B: %w", recordSize, err)
	}
	t.ProduceCPU, t.ProduceClientCPU = use.broker, use.client
	use, err = measured(b, "consume-"+topic, func() error {
		var err error
		t.Consume, err = perf.Consume(ctx, perf.ConsumeOptions{Brokers: []string{b.addr}, Topic: topic,
			NumRecords: t.Produce.Records, Duration: p.Produce})
		return err
	})
	if err != nil {
		return t, fmt.Errorf("consume %d B: %w", recordSize, err)
	}
	t.ConsumeCPU, t.ConsumeClientCPU = use.broker, use.client
	if t.Consume.Records == 0 || t.Consume.Records > t.Produce.Records {
		return t, fmt.Errorf("consume %d B: read %d records of %d", recordSize, t.Consume.Records, t.Produce.Records)
	}
	fmt.Printf("  %-5s %4d B  produce %8.1f MB/s %9.0f records/s  CPU %5.2f ms/MB | consume %8.1f MB/s %9.0f records/s  CPU %5.2f ms/MB\n",
		b.name, recordSize, t.Produce.MBPerSec, t.Produce.RecordsPerSec, cpuPerMB(t.ProduceCPU, t.Produce.Bytes),
		t.Consume.MBPerSec, t.Consume.RecordsPerSec, cpuPerMB(t.ConsumeCPU, t.Consume.Bytes))
	return t, nil
}

// e2e runs 1 KiB records end to end at rate records/s (0: as fast as
// possible) on a new topic.
func e2e(ctx context.Context, b *broker, p plan, topic string, rate float64) (perf.E2EResult, cpuUse, error) {
	if err := b.createTopic(topic); err != nil {
		return perf.E2EResult{}, cpuUse{}, err
	}
	var res perf.E2EResult
	use, err := measured(b, topic, func() error {
		var err error
		res, err = perf.E2E(ctx, perf.E2EOptions{Brokers: []string{b.addr}, Topic: topic,
			Duration: p.E2E, RecordSize: 1024, Throughput: rate, Producer: producer()})
		if err == nil && res.Errors > 0 {
			err = fmt.Errorf("%d records failed: %s", res.Errors, res.FirstError)
		}
		if err == nil && res.Consumed != res.Produced {
			err = fmt.Errorf("consumed %d of %d records", res.Consumed, res.Produced)
		}
		return err
	})
	return res, use, err
}

// runE2E measures end-to-end latency of 1 KiB records at load point pt
// of basis records/s.
func runE2E(ctx context.Context, b *broker, p plan, pt point, basis float64) (latency, error) {
	l := latency{Point: pt, Rate: basis * float64(pt.Percent) / 100}
	res, use, err := e2e(ctx, b, p, fmt.Sprintf("e2e-%s-%d", pt.Basis, pt.Percent), l.Rate)
	if err != nil {
		return l, fmt.Errorf("e2e at %s: %w", pt, err)
	}
	l.Result, l.BrokerCPU, l.ClientCPU = res, use.broker, use.client
	e := l.Result.Latency
	fmt.Printf("  %-5s e2e at %-21s (%7.0f records/s): p50 %6.2f ms  p99 %7.2f ms  p99.9 %7.2f ms  max %7.2f ms\n",
		b.name, pt, l.Rate, ms(e.P50), ms(e.P99), ms(e.P999), ms(e.Max))
	return l, nil
}

// runBroker starts a fresh broker and measures every workload on it.
func runBroker(ctx context.Context, e *env, name string, round int) (brokerRun, error) {
	run := brokerRun{Broker: name, Round: round}
	b, err := startBroker(name, e.bins, e.dataRoot, e.tmp)
	if err != nil {
		return run, err
	}
	b.profileDir = e.profileDir
	defer b.stop()
	for _, size := range e.plan.RecordSizes {
		t, err := runThroughput(ctx, b, e.plan, size)
		if err != nil {
			return run, fmt.Errorf("%s round %d: %w (broker log: %s)", name, round, err, b.log)
		}
		run.Throughput = append(run.Throughput, t)
	}
	var use cpuUse
	run.E2EMax, use, err = e2e(ctx, b, e.plan, "e2e-max", 0)
	run.E2EMaxBrokerCPU, run.E2EMaxClientCPU = use.broker, use.client
	if err != nil {
		return run, fmt.Errorf("%s round %d: e2e as fast as possible: %w (broker log: %s)", name, round, err, b.log)
	}
	fmt.Printf("  %-5s e2e as fast as possible: %.0f records/s made it through\n", b.name, run.E2EMax.ConsumedPerSec)
	for _, pt := range e.plan.Points {
		l, err := runE2E(ctx, b, e.plan, pt, run.basis(pt))
		if err != nil {
			return run, fmt.Errorf("%s round %d: %w (broker log: %s)", name, round, err, b.log)
		}
		run.E2E = append(run.E2E, l)
	}
	return run, nil
}

// cpuPerMB is CPU milliseconds per MB (10^6 bytes), which is also
// CPU-seconds per GB.
func cpuPerMB(cpu time.Duration, bytes int64) float64 {
	if bytes == 0 {
		return 0
	}
	return cpu.Seconds() * 1e3 / (float64(bytes) / 1e6)
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }
