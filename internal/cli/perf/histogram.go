package perf

import (
	"encoding/json"
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// subBits sets the histogram's precision: 2^subBits buckets per power of
// two, so a recorded value is reported at most 1/128 (0.8%) above itself.
const subBits = 7

const (
	subCount = 1 << subBits
	nBuckets = (64 - subBits + 1) * subCount
)

// Histogram records durations in log-linear buckets (in the manner of
// HdrHistogram) without locks, so producer callbacks and consumers on any
// goroutine may record into one. Its zero value is ready to use.
type Histogram struct {
	counts [nBuckets]atomic.Uint64
	n      atomic.Int64
	sum    atomic.Int64 // nanoseconds
	max    atomic.Int64 // nanoseconds
}

// bucketOf returns the bucket of v nanoseconds: exact below 2^subBits,
// then subCount buckets for each power of two.
func bucketOf(v uint64) int {
	if v < subCount {
		return int(v)
	}
	k := bits.Len64(v) - 1 // v is in [2^k, 2^(k+1))
	shift := k - subBits
	mant := v >> shift // in [subCount, 2*subCount)
	return (shift+1)*subCount + int(mant-subCount)
}

// bucketHigh is the largest value that falls in bucket i.
func bucketHigh(i int) uint64 {
	if i < subCount {
		return uint64(i)
	}
	shift := i/subCount - 1
	mant := uint64(i%subCount + subCount)
	return (mant+1)<<shift - 1
}

// Record adds one duration; negative durations count as zero.
func (h *Histogram) Record(d time.Duration) {
	v := max(int64(d), 0)
	h.counts[bucketOf(uint64(v))].Add(1)
	h.n.Add(1)
	h.sum.Add(v)
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			return
		}
	}
}

// Count is the number of recorded durations.
func (h *Histogram) Count() int64 { return h.n.Load() }

// Quantile returns the duration at or below which a fraction q (0..1) of
// the recorded durations fall, within the histogram's precision and never
// above the maximum; zero when nothing was recorded.
func (h *Histogram) Quantile(q float64) time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(n)))
	rank = max(rank, 1)
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			return min(time.Duration(bucketHigh(i)), time.Duration(h.max.Load()))
		}
	}
	return time.Duration(h.max.Load())
}

// Latency summarizes h.
func (h *Histogram) Latency() Latency {
	n := h.n.Load()
	l := Latency{Count: n}
	if n == 0 {
		return l
	}
	l.P50, l.P99, l.P999 = h.Quantile(0.50), h.Quantile(0.99), h.Quantile(0.999)
	l.Max = time.Duration(h.max.Load())
	l.Mean = time.Duration(h.sum.Load() / n)
	return l
}

// Latency is a distribution of latencies: its percentiles, maximum, mean
// and the number of samples. In JSON the durations are milliseconds.
type Latency struct {
	Count int64
	P50   time.Duration
	P99   time.Duration
	P999  time.Duration
	Max   time.Duration
	Mean  time.Duration
}

type latencyJSON struct {
	Count int64   `json:"count"`
	P50   float64 `json:"p50_ms"`
	P99   float64 `json:"p99_ms"`
	P999  float64 `json:"p99_9_ms"`
	Max   float64 `json:"max_ms"`
	Mean  float64 `json:"mean_ms"`
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

func fromMS(v float64) time.Duration { return time.Duration(math.Round(v * 1e6)) }

// MarshalJSON writes the durations as milliseconds.
func (l Latency) MarshalJSON() ([]byte, error) {
	return json.Marshal(latencyJSON{l.Count, ms(l.P50), ms(l.P99), ms(l.P999), ms(l.Max), ms(l.Mean)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (l *Latency) UnmarshalJSON(b []byte) error {
	var j latencyJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*l = Latency{j.Count, fromMS(j.P50), fromMS(j.P99), fromMS(j.P999), fromMS(j.Max), fromMS(j.Mean)}
	return nil
}

// window counts what happened since the last progress line.
type window struct {
	n, bytes, sum, max atomic.Int64
}

func (w *window) record(d time.Duration, size int) {
	w.n.Add(1)
	w.bytes.Add(int64(size))
	w.sum.Add(int64(d))
	for {
		m := w.max.Load()
		if int64(d) <= m || w.max.CompareAndSwap(m, int64(d)) {
			return
		}
	}
}

// take returns the window's counts and starts a new window.
func (w *window) take() (n, bytes int64, mean, max time.Duration) {
	n, bytes = w.n.Swap(0), w.bytes.Swap(0)
	sum, m := w.sum.Swap(0), w.max.Swap(0)
	if n > 0 {
		mean = time.Duration(sum / n)
	}
	return n, bytes, mean, time.Duration(m)
}
