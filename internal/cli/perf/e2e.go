package perf

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"
)

// stampSize is the head of every e2e record's value: the run's id and the
// record's scheduled send time (unix nanoseconds), big-endian.
const stampSize = 16

// E2EOptions describe an end-to-end run: records produced as ProduceOptions
// say while a consumer reads them. RecordSize must be at least stampSize;
// a Throughput of 0 or less finds the highest rate the broker sustains
// with a consumer attached (latency is then queueing).
type E2EOptions ProduceOptions

// E2EResult is what an end-to-end run measured.
type E2EResult struct {
	// Produced records were acknowledged; Errors failed; Consumed arrived
	// at the consumer.
	Produced int64 `json:"produced"`
	Errors   int64 `json:"errors"`
	Consumed int64 `json:"consumed"`
	// Seconds, RecordsPerSec and MBPerSec are the producer's, from the
	// first scheduled send to the last acknowledgement.
	Seconds       float64 `json:"seconds"`
	RecordsPerSec float64 `json:"records_per_sec"`
	MBPerSec      float64 `json:"mb_per_sec"`
	// ConsumedPerSec is Consumed over the time from the first scheduled
	// send to the last arrival: the rate records made it through.
	ConsumedPerSec float64 `json:"consumed_per_sec"`
	// Latency runs from a record's scheduled send time to its arrival at
	// the consumer.
	Latency Latency `json:"latency"`
	// ProduceLatency runs from the scheduled send to the acknowledgement;
	// SendLag to the client taking the record (see ProduceResult).
	ProduceLatency Latency `json:"produce_latency"`
	SendLag        Latency `json:"send_lag"`
	FirstError     string  `json:"first_error,omitempty"`
}

func (o *E2EOptions) check() error {
	if err := (*ProduceOptions)(o).check(); err != nil {
		return err
	}
	if o.RecordSize < stampSize {
		return fmt.Errorf("--record-size %d: e2e records carry a %d-byte stamp, want at least that", o.RecordSize, stampSize)
	}
	return nil
}

// e2eConsumer reads the run's records and records their latency.
type e2eConsumer struct {
	cl       *kgo.Client
	run      uint64
	lat      Histogram
	win      window
	consumed atomic.Int64
	last     atomic.Int64 // unix nanoseconds of the last arrival
}

// loop polls until ctx ends or a fetch fails.
func (c *e2eConsumer) loop(ctx context.Context) error {
	for {
		fs := c.cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return nil
		}
		var err error
		fs.EachError(func(t string, p int32, e error) {
			if err == nil {
				err = fmt.Errorf("fetching %s/%d: %w", t, p, e)
			}
		})
		if err != nil {
			return err
		}
		now := time.Now()
		var n int64
		fs.EachRecord(func(r *kgo.Record) {
			if len(r.Value) < stampSize || binary.BigEndian.Uint64(r.Value) != c.run {
				return // not this run's
			}
			d := now.Sub(time.Unix(0, int64(binary.BigEndian.Uint64(r.Value[8:]))))
			c.lat.Record(d)
			c.win.record(d, len(r.Key)+len(r.Value))
			n++
		})
		if n > 0 {
			c.consumed.Add(n)
			c.last.Store(now.UnixNano())
		}
	}
}

// waitFor waits until want records arrived, or none arrived for
// idleTimeout.
func (c *e2eConsumer) waitFor(ctx context.Context, want int64, loopErr <-chan error) error {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	since := time.Now()
	for c.consumed.Load() < want {
		select {
		case <-ctx.Done():
			return nil
		case err := <-loopErr:
			return err
		case now := <-t.C:
			last := time.Unix(0, c.last.Load())
			if since.After(last) {
				last = since
			}
			if now.Sub(last) > idleTimeout {
				return fmt.Errorf("only %d of %d acknowledged records arrived; none for %v", c.consumed.Load(), want, idleTimeout)
			}
		}
	}
	return nil
}

// E2E produces at o.Throughput while consuming the same records, and
// reports the end-to-end latency. The consumer starts at the partitions'
// current ends (creating the topic if it does not exist), so only this
// run's records count.
func E2E(ctx context.Context, o E2EOptions) (E2EResult, error) {
	if err := o.check(); err != nil {
		return E2EResult{}, err
	}
	p, err := newProducer(ctx, o.Brokers, o.Producer)
	if err != nil {
		return E2EResult{}, err
	}
	ends, err := endOffsets(ctx, p.cl, o.Topic)
	if err != nil {
		p.cl.Close()
		return E2EResult{}, err
	}
	offsets := map[int32]kgo.Offset{}
	for part, end := range ends {
		offsets[part] = kgo.NewOffset().At(end)
	}
	ccl, err := newClient(ctx, o.Brokers, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{o.Topic: offsets}))
	if err != nil {
		p.cl.Close()
		return E2EResult{}, err
	}
	defer ccl.Close()
	c := &e2eConsumer{cl: ccl, run: rand.Uint64()}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	loopErr := make(chan error, 1)
	go func() { loopErr <- c.loop(cctx) }()

	start := time.Now()
	stopProgress := startProgress(o.Progress, start, func(elapsed time.Duration) string {
		n, _, mean, mx := c.win.take()
		return fmt.Sprintf("%s  |  %d consumed  %.0f records/s  e2e mean %s, max %s",
			p.progressLine(elapsed), c.consumed.Load(), float64(n), fmtMS(mean), fmtMS(mx))
	})
	produceStamped(ctx, p, o, c.run, start)
	p.finish()
	waitErr := c.waitFor(ctx, p.acked.Load(), loopErr)
	stopProgress()
	cancel()

	pr := p.result(start)
	res := E2EResult{Produced: pr.Records, Errors: pr.Errors, Consumed: c.consumed.Load(),
		Seconds: pr.Seconds, RecordsPerSec: pr.RecordsPerSec, MBPerSec: pr.MBPerSec,
		Latency: c.lat.Latency(), ProduceLatency: pr.Latency, SendLag: pr.SendLag, FirstError: pr.FirstError}
	if last := c.last.Load(); last > 0 {
		res.ConsumedPerSec, _ = rate(res.Consumed, 0, time.Unix(0, last).Sub(start).Seconds())
	}
	return res, waitErr
}

// produceStamped sends o's records on schedule, each value stamped with
// the run id and its scheduled time; values are reused once acknowledged.
func produceStamped(ctx context.Context, p *producer, o E2EOptions, run uint64, start time.Time) {
	fill, keys := filler(o.RecordSize), keysOf(o.Keys)
	pool := sync.Pool{New: func() any {
		b := make([]byte, o.RecordSize)
		copy(b, fill)
		return &b
	}}
	sch := schedule{start: start, rate: o.Throughput}
	defer sch.lock()()
	for i := int64(0); o.NumRecords == 0 || i < o.NumRecords; i++ {
		sched := sch.at(i)
		if ctx.Err() != nil || o.Duration > 0 && sched.Sub(start) >= o.Duration {
			return
		}
		buf := pool.Get().(*[]byte)
		binary.BigEndian.PutUint64(*buf, run)
		binary.BigEndian.PutUint64((*buf)[8:], uint64(sched.UnixNano()))
		r := &kgo.Record{Topic: o.Topic, Value: *buf}
		if len(keys) > 0 {
			r.Key = keys[i%int64(len(keys))]
		}
		p.send(ctx, r, sched, func() { pool.Put(buf) })
	}
}

func e2eCommand() *cobra.Command {
	o := E2EOptions{Producer: DefaultProducerSettings()}
	cmd := &cobra.Command{
		Use:   "e2e --topic TOPIC --throughput RECORDS/S (--num-records N | --duration D)",
		Short: "Produce at a fixed rate while consuming, and report end-to-end latency",
		Long: `Produce records at a fixed rate (open loop) while a consumer in the same
process reads them, and report the latency from each record's scheduled
send time (stamped in its value) to its arrival at the consumer: p50, p99,
p99.9, max. The consumer starts at the partitions' current ends, so only
this run's records count; the topic is created with the broker's defaults
if it does not exist. --throughput -1 produces as fast as the broker takes
records with the consumer attached: its rate is the highest the pair
sustains, and its latency is queueing.`,
		Example: `  samsa perf e2e --topic perf-e2e --throughput 20000 --duration 30s --record-size 1024 --acks 1`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			format, err := formatOf(cmd)
			if err != nil {
				return err
			}
			if o.Throughput == 0 {
				return errors.New("give --throughput: records per second, or -1 for as fast as the broker takes them")
			}
			o.Brokers, o.Progress = brokersOf(cmd), cmd.ErrOrStderr()
			res, err := E2E(cmd.Context(), o)
			if res.Produced == 0 && err != nil {
				return err
			}
			if werr := writeE2E(cmd.OutOrStdout(), format, res); werr != nil {
				return werr
			}
			if err == nil && res.Errors > 0 {
				err = fmt.Errorf("%d records failed, the first with: %s", res.Errors, res.FirstError)
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.Topic, "topic", "t", "", "topic to produce to and consume from")
	f.Int64VarP(&o.NumRecords, "num-records", "n", 0, "records to send (0: until --duration)")
	f.DurationVar(&o.Duration, "duration", 0, "stop sending after this long (0: after --num-records)")
	f.IntVarP(&o.RecordSize, "record-size", "s", 1024, "bytes in each record's value (at least 16)")
	f.Float64Var(&o.Throughput, "throughput", 0, "records per second, open loop (required; -1: as fast as possible)")
	f.IntVar(&o.Keys, "keys", 0, "distinct keys to cycle through (0: no keys)")
	o.Producer.addFlags(cmd)
	return cmd
}

func writeE2E(w io.Writer, format string, r E2EResult) error {
	if format == "json" {
		return writeJSON(w, r)
	}
	_, err := fmt.Fprintf(w, "%d records produced (%d failed), %d consumed, at %.1f records/s (%.2f MB/s)\n"+
		"end-to-end latency: %s\nproduce latency:    %s\n",
		r.Produced, r.Errors, r.Consumed, r.RecordsPerSec, r.MBPerSec, latencyLine(r.Latency), latencyLine(r.ProduceLatency))
	return err
}
