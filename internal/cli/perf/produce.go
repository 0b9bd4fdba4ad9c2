package perf

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ProduceOptions describe a produce run.
type ProduceOptions struct {
	Brokers []string
	Topic   string
	// NumRecords is the number of records to send; 0 sends until Duration.
	NumRecords int64
	// Duration stops scheduling sends after this long; 0 sends NumRecords.
	Duration time.Duration
	// RecordSize is each record's value in bytes (pseudorandom, so
	// compression is not flattered).
	RecordSize int
	// Throughput is the target rate in records per second, open loop;
	// 0 or less sends as fast as the client can.
	Throughput float64
	// Keys is the number of distinct keys cycled through; 0 sends no keys.
	Keys     int
	Producer ProducerSettings
	// Progress receives a line every second; nil for none.
	Progress io.Writer
}

// ProduceResult is what a produce run measured.
type ProduceResult struct {
	// Records were acknowledged; Errors failed.
	Records int64 `json:"records"`
	Errors  int64 `json:"errors"`
	// Bytes of keys and values acknowledged.
	Bytes int64 `json:"bytes"`
	// Seconds from the first scheduled send to the last acknowledgement.
	Seconds       float64 `json:"seconds"`
	RecordsPerSec float64 `json:"records_per_sec"`
	MBPerSec      float64 `json:"mb_per_sec"`
	// Latency runs from a record's scheduled send time to its
	// acknowledgement.
	Latency Latency `json:"latency"`
	// SendLag runs from a record's scheduled send time to the client
	// taking it: the generator's own lateness plus the client's buffer
	// being full. It is part of Latency.
	SendLag    Latency `json:"send_lag"`
	FirstError string  `json:"first_error,omitempty"`
}

func (o *ProduceOptions) check() error {
	switch {
	case o.Topic == "":
		return errors.New("no topic: give --topic")
	case o.NumRecords < 0:
		return fmt.Errorf("--num-records %d: want 0 or more", o.NumRecords)
	case o.NumRecords == 0 && o.Duration <= 0:
		return errors.New("give --num-records or --duration")
	case o.RecordSize < 0:
		return fmt.Errorf("--record-size %d: want 0 or more", o.RecordSize)
	case o.Keys < 0:
		return fmt.Errorf("--keys %d: want 0 (no keys) or more", o.Keys)
	}
	return nil
}

// schedule paces sends at a fixed rate from a start time; a zero rate
// means now, every time.
type schedule struct {
	start time.Time
	rate  float64
}

// at returns when send i is due, sleeping until then. A late generator
// does not sleep, and i's due time stays where it was: the lateness
// counts in the latency. Call it from a goroutine locked to its thread
// (see lock), so that the sleeps are the kernel's and precise.
func (s schedule) at(i int64) time.Time {
	if s.rate <= 0 {
		return time.Now()
	}
	due := s.start.Add(time.Duration(float64(i) * 1e9 / s.rate))
	if d := time.Until(due); d > 0 {
		sleepFor(d)
	}
	return due
}

// lock pins a paced sender to its thread for the kernel's precise
// sleeps (sleepFor); the returned func undoes it.
func (s schedule) lock() func() {
	if s.rate <= 0 {
		return func() {}
	}
	runtime.LockOSThread()
	return runtime.UnlockOSThread
}

// producer sends records with latency accounting, shared by Produce and
// E2E.
type producer struct {
	cl      *kgo.Client
	lat     Histogram
	lag     Histogram
	win     window
	acked   atomic.Int64
	bytes   atomic.Int64
	errs    atomic.Int64
	lastAck atomic.Int64 // unix nanoseconds
	wg      sync.WaitGroup
	errMu   sync.Mutex
	first   error
}

func newProducer(ctx context.Context, brokers []string, s ProducerSettings) (*producer, error) {
	opts, err := s.opts()
	if err != nil {
		return nil, err
	}
	opts = append(opts, kgo.AllowAutoTopicCreation())
	cl, err := newClient(ctx, brokers, opts...)
	if err != nil {
		return nil, err
	}
	return &producer{cl: cl}, nil
}

// send produces r, due at sched; done (if not nil) runs after the
// acknowledgement or failure.
func (p *producer) send(ctx context.Context, r *kgo.Record, sched time.Time, done func()) {
	size := len(r.Key) + len(r.Value)
	p.wg.Add(1)
	p.cl.Produce(ctx, r, func(_ *kgo.Record, err error) {
		defer p.wg.Done()
		now := time.Now()
		if done != nil {
			defer done()
		}
		if err != nil {
			p.errs.Add(1)
			p.errMu.Lock()
			if p.first == nil {
				p.first = err
			}
			p.errMu.Unlock()
			return
		}
		d := now.Sub(sched)
		p.lat.Record(d)
		p.win.record(d, size)
		p.acked.Add(1)
		p.bytes.Add(int64(size))
		p.lastAck.Store(now.UnixNano())
	})
	p.lag.Record(time.Since(sched))
}

// finish waits for every outstanding record and closes the client.
func (p *producer) finish() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_ = p.cl.Flush(ctx) // a timeout fails the records; they count as errors
	p.wg.Wait()
	p.cl.Close()
}

func (p *producer) result(start time.Time) ProduceResult {
	r := ProduceResult{Records: p.acked.Load(), Errors: p.errs.Load(), Bytes: p.bytes.Load(),
		Latency: p.lat.Latency(), SendLag: p.lag.Latency()}
	if last := p.lastAck.Load(); last > 0 {
		r.Seconds = time.Unix(0, last).Sub(start).Seconds()
	}
	r.RecordsPerSec, r.MBPerSec = rate(r.Records, r.Bytes, r.Seconds)
	if p.first != nil {
		r.FirstError = p.first.Error()
	}
	return r
}

// progressLine is the produce side of a progress line.
func (p *producer) progressLine(elapsed time.Duration) string {
	n, b, mean, mx := p.win.take()
	line := fmt.Sprintf("%6.1f s  %d records acked  %.0f records/s  %.2f MB/s  latency mean %s, max %s",
		elapsed.Seconds(), p.acked.Load(), float64(n), float64(b)/1e6, fmtMS(mean), fmtMS(mx))
	if e := p.errs.Load(); e > 0 {
		line += fmt.Sprintf("  %d errors", e)
	}
	return line
}

// Produce sends records as o describes and reports what it measured. It
// stops early, with what was measured so far, when ctx ends. Records that
// fail count in Errors; the error return is for runs that could not start.
func Produce(ctx context.Context, o ProduceOptions) (ProduceResult, error) {
	if err := o.check(); err != nil {
		return ProduceResult{}, err
	}
	p, err := newProducer(ctx, o.Brokers, o.Producer)
	if err != nil {
		return ProduceResult{}, err
	}
	value, keys := filler(o.RecordSize), keysOf(o.Keys)
	start := time.Now()
	stopProgress := startProgress(o.Progress, start, p.progressLine)
	sch := schedule{start: start, rate: o.Throughput}
	unlock := sch.lock()
	for i := int64(0); o.NumRecords == 0 || i < o.NumRecords; i++ {
		sched := sch.at(i)
		if ctx.Err() != nil || o.Duration > 0 && sched.Sub(start) >= o.Duration {
			break
		}
		r := &kgo.Record{Topic: o.Topic, Value: value}
		if len(keys) > 0 {
			r.Key = keys[i%int64(len(keys))]
		}
		p.send(ctx, r, sched, nil)
	}
	unlock()
	p.finish()
	stopProgress()
	return p.result(start), nil
}

func produceCommand() *cobra.Command {
	o := ProduceOptions{Producer: DefaultProducerSettings()}
	cmd := &cobra.Command{
		Use:   "produce --topic TOPIC --num-records N --record-size BYTES [--throughput RECORDS/S]",
		Short: "Produce records and report throughput and acknowledgement latency",
		Long: `Produce records to a topic and report records/s, MB/s and the latency from
each record's scheduled send time to its acknowledgement (p50, p99, p99.9,
max). With --throughput the sends are scheduled at fixed intervals (open
loop); -1 sends as fast as the broker acknowledges. The topic is created
with the broker's defaults if it does not exist and the broker allows it.`,
		Example: `  samsa perf produce --topic perf --num-records 1000000 --record-size 1024 --throughput -1 --acks 1
  samsa perf produce --topic perf --duration 30s --record-size 100 --throughput 50000 --keys 1000 --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			format, err := formatOf(cmd)
			if err != nil {
				return err
			}
			o.Brokers, o.Progress = brokersOf(cmd), cmd.ErrOrStderr()
			res, err := Produce(cmd.Context(), o)
			if err != nil {
				return err
			}
			if err := writeProduce(cmd.OutOrStdout(), format, res); err != nil {
				return err
			}
			if res.Errors > 0 {
				return fmt.Errorf("%d records failed, the first with: %s", res.Errors, res.FirstError)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.Topic, "topic", "t", "", "topic to produce to")
	f.Int64VarP(&o.NumRecords, "num-records", "n", 0, "records to send (0: until --duration)")
	f.DurationVar(&o.Duration, "duration", 0, "stop after this long (0: after --num-records)")
	f.IntVarP(&o.RecordSize, "record-size", "s", 1024, "bytes in each record's value")
	f.Float64Var(&o.Throughput, "throughput", -1, "target records per second, open loop (-1: unlimited)")
	f.IntVar(&o.Keys, "keys", 0, "distinct keys to cycle through (0: no keys)")
	o.Producer.addFlags(cmd)
	return cmd
}

func writeProduce(w io.Writer, format string, r ProduceResult) error {
	if format == "json" {
		return writeJSON(w, r)
	}
	_, err := fmt.Fprintf(w, "%d records acked in %.2f s: %.1f records/s, %.2f MB/s\nlatency: %s\n",
		r.Records, r.Seconds, r.RecordsPerSec, r.MBPerSec, latencyLine(r.Latency))
	if err == nil && r.Errors > 0 {
		_, err = fmt.Fprintf(w, "%d records failed: %s\n", r.Errors, r.FirstError)
	}
	return err
}
