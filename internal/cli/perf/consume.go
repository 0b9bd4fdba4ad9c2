package perf

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ConsumeOptions describe a consume run: every partition of Topic from its
// start, by assignment (no group).
type ConsumeOptions struct {
	Brokers []string
	Topic   string
	// NumRecords stops the run once at least this many records arrived;
	// 0 reads until Duration.
	NumRecords int64
	// Duration stops the run after this long; 0 reads NumRecords.
	Duration time.Duration
	// FetchMaxBytes and FetchMaxPartitionBytes bound one fetch response
	// and one partition in it (0: franz-go's 50 MiB and 1 MiB).
	FetchMaxBytes          int
	FetchMaxPartitionBytes int
	// Progress receives a line every second; nil for none.
	Progress io.Writer
}

// ConsumeResult is what a consume run measured.
type ConsumeResult struct {
	Records int64 `json:"records"`
	// Bytes of keys and values.
	Bytes int64 `json:"bytes"`
	// Seconds from the start to the last record's arrival.
	Seconds       float64 `json:"seconds"`
	RecordsPerSec float64 `json:"records_per_sec"`
	MBPerSec      float64 `json:"mb_per_sec"`
}

func (o *ConsumeOptions) check() error {
	switch {
	case o.Topic == "":
		return errors.New("no topic: give --topic")
	case o.NumRecords < 0:
		return fmt.Errorf("--num-records %d: want 0 or more", o.NumRecords)
	case o.NumRecords == 0 && o.Duration <= 0:
		return errors.New("give --num-records or --duration")
	case o.FetchMaxBytes < 0 || o.FetchMaxPartitionBytes < 0:
		return errors.New("fetch sizes must be 0 (the default) or more")
	}
	return nil
}

func (o *ConsumeOptions) clientOpts() []kgo.Opt {
	opts := []kgo.Opt{kgo.ConsumeTopics(o.Topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}
	if o.FetchMaxBytes > 0 {
		opts = append(opts, kgo.FetchMaxBytes(int32(o.FetchMaxBytes)))
	}
	if o.FetchMaxPartitionBytes > 0 {
		opts = append(opts, kgo.FetchMaxPartitionBytes(int32(o.FetchMaxPartitionBytes)))
	}
	return opts
}

// counter counts consumed records for the result and the progress line.
type counter struct {
	n, bytes   atomic.Int64
	wn, wbytes atomic.Int64 // this progress window
	last       atomic.Int64 // unix nanoseconds of the last arrival
}

func (c *counter) add(n, bytes int64, at time.Time) {
	c.n.Add(n)
	c.bytes.Add(bytes)
	c.wn.Add(n)
	c.wbytes.Add(bytes)
	c.last.Store(at.UnixNano())
}

func (c *counter) progressLine(elapsed time.Duration) string {
	n, b := c.wn.Swap(0), c.wbytes.Swap(0)
	return fmt.Sprintf("%6.1f s  %d records consumed  %.0f records/s  %.2f MB/s",
		elapsed.Seconds(), c.n.Load(), float64(n), float64(b)/1e6)
}

// pollUntil polls cl until deadline, ctx's end or a fetch error,
// returning the fetches (nil at the deadline or ctx's end).
func pollUntil(ctx context.Context, cl *kgo.Client, deadline time.Time) (kgo.Fetches, error) {
	pctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	fs := cl.PollFetches(pctx)
	if pctx.Err() != nil && fs.NumRecords() == 0 {
		return nil, nil
	}
	var err error
	fs.EachError(func(t string, p int32, e error) {
		if err == nil && !errors.Is(e, context.Canceled) && !errors.Is(e, context.DeadlineExceeded) {
			err = fmt.Errorf("fetching %s/%d: %w", t, p, e)
		}
	})
	return fs, err
}

// Consume reads o.Topic from the start and reports what it measured. When
// NumRecords is set and no record arrives for 10 s before that many did,
// it returns what it read with an error.
func Consume(ctx context.Context, o ConsumeOptions) (ConsumeResult, error) {
	if err := o.check(); err != nil {
		return ConsumeResult{}, err
	}
	cl, err := newClient(ctx, o.Brokers, o.clientOpts()...)
	if err != nil {
		return ConsumeResult{}, err
	}
	defer cl.Close()
	var c counter
	start := time.Now()
	defer startProgress(o.Progress, start, c.progressLine)()
	end := time.Time{}
	if o.Duration > 0 {
		end = start.Add(o.Duration)
	}
	lastSeen := start
	var runErr error
	for ctx.Err() == nil && (o.NumRecords == 0 || c.n.Load() < o.NumRecords) {
		deadline := lastSeen.Add(idleTimeout)
		if o.NumRecords == 0 || !end.IsZero() && end.Before(deadline) {
			deadline = end
		}
		fs, err := pollUntil(ctx, cl, deadline)
		if err != nil {
			runErr = err
			break
		}
		if fs == nil {
			if o.NumRecords > 0 && (end.IsZero() || time.Now().Before(end)) && ctx.Err() == nil {
				runErr = fmt.Errorf("only %d of %d records arrived; none for %v", c.n.Load(), o.NumRecords, idleTimeout)
			}
			break
		}
		now := time.Now()
		var n, b int64
		fs.EachRecord(func(r *kgo.Record) {
			n++
			b += int64(len(r.Key) + len(r.Value))
		})
		c.add(n, b, now)
		lastSeen = now
	}
	res := ConsumeResult{Records: c.n.Load(), Bytes: c.bytes.Load()}
	if last := c.last.Load(); last > 0 {
		res.Seconds = time.Unix(0, last).Sub(start).Seconds()
	}
	res.RecordsPerSec, res.MBPerSec = rate(res.Records, res.Bytes, res.Seconds)
	return res, runErr
}

func consumeCommand() *cobra.Command {
	var o ConsumeOptions
	cmd := &cobra.Command{
		Use:   "consume --topic TOPIC (--num-records N | --duration D)",
		Short: "Read a topic from the start and report throughput",
		Long: `Read every partition of a topic from its start, by assignment (no consumer
group), and report records/s and MB/s, measured from the start to the
arrival of the last record. Stops after --num-records (failing if none
arrive for 10 s before that) or after --duration.`,
		Example: `  samsa perf consume --topic perf --num-records 1000000
  samsa perf consume --topic perf --duration 20s --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			format, err := formatOf(cmd)
			if err != nil {
				return err
			}
			o.Brokers, o.Progress = brokersOf(cmd), cmd.ErrOrStderr()
			res, err := Consume(cmd.Context(), o)
			if res.Records == 0 && err != nil {
				return err
			}
			if werr := writeConsume(cmd.OutOrStdout(), format, res); werr != nil {
				return werr
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.Topic, "topic", "t", "", "topic to read")
	f.Int64VarP(&o.NumRecords, "num-records", "n", 0, "stop once this many records arrived (0: at --duration)")
	f.DurationVar(&o.Duration, "duration", 0, "stop after this long (0: at --num-records)")
	f.IntVar(&o.FetchMaxBytes, "fetch-max-bytes", 0, "largest fetch response (0: 50 MiB)")
	f.IntVar(&o.FetchMaxPartitionBytes, "fetch-max-partition-bytes", 0, "most bytes of one partition per fetch (0: 1 MiB)")
	return cmd
}

func writeConsume(w io.Writer, format string, r ConsumeResult) error {
	if format == "json" {
		return writeJSON(w, r)
	}
	_, err := fmt.Fprintf(w, "%d records (%.2f MB) consumed in %.2f s: %.1f records/s, %.2f MB/s\n",
		r.Records, float64(r.Bytes)/1e6, r.Seconds, r.RecordsPerSec, r.MBPerSec)
	return err
}
