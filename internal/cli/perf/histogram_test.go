package perf

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"sort"
	"sync"
	"testing"
	"time"
)

func TestBucketsCoverEveryValueInOrder(t *testing.T) {
	prev := -1
	for _, v := range []uint64{0, 1, 127, 128, 129, 255, 256, 257, 1000, 1 << 20, 1<<20 + 1, 1 << 40, 1<<63 - 1, 1<<64 - 1} {
		i := bucketOf(v)
		if i < prev || i >= nBuckets {
			t.Fatalf("bucketOf(%d) = %d after %d (of %d)", v, i, prev, nBuckets)
		}
		prev = i
		if hi := bucketHigh(i); hi < v || i > 0 && bucketHigh(i-1) >= v {
			t.Fatalf("value %d in bucket %d whose range ends at %d (previous ends at %d)", v, i, hi, bucketHigh(i-1))
		}
	}
}

func TestHistogramQuantilesMatchASortedSample(t *testing.T) {
	var h Histogram
	r := rand.New(rand.NewPCG(3, 4))
	var sample []time.Duration
	for range 100000 {
		// a long tail: mostly around 1 ms, some up to 100 ms
		d := time.Duration(r.ExpFloat64() * float64(time.Millisecond))
		if r.IntN(100) == 0 {
			d *= 50
		}
		sample = append(sample, d)
		h.Record(d)
	}
	sort.Slice(sample, func(i, j int) bool { return sample[i] < sample[j] })
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999, 1} {
		want := sample[int(math.Ceil(q*float64(len(sample))))-1]
		got := h.Quantile(q)
		if got < want || float64(got) > float64(want)*(1+1.0/subCount) {
			t.Errorf("q%v = %v, want %v to within +%.1f%%", q, got, want, 100.0/subCount)
		}
	}
	l := h.Latency()
	if l.Count != 100000 || l.Max != sample[len(sample)-1] {
		t.Errorf("count %d max %v, want 100000 and %v", l.Count, l.Max, sample[len(sample)-1])
	}
	if !(l.P50 <= l.P99 && l.P99 <= l.P999 && l.P999 <= l.Max) {
		t.Errorf("percentiles out of order: %+v", l)
	}
}

func TestHistogramSmallValuesAreExactAndEmptyIsZero(t *testing.T) {
	var h Histogram
	if l := h.Latency(); l != (Latency{}) {
		t.Fatalf("empty histogram: %+v", l)
	}
	for _, d := range []time.Duration{5, 7, 9, -3} {
		h.Record(d)
	}
	if got := h.Quantile(0.5); got != 5 {
		t.Errorf("median of 0,5,7,9 = %v, want 5ns", got)
	}
	if l := h.Latency(); l.Max != 9 || l.Mean != 5 || l.P999 != 9 {
		t.Errorf("latency %+v, want max 9ns, mean 5ns, p99.9 9ns", l)
	}
}

func TestHistogramConcurrentRecordsAllCount(t *testing.T) {
	var h Histogram
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10000 {
				h.Record(time.Duration(g*10000 + i))
			}
		}()
	}
	wg.Wait()
	if l := h.Latency(); l.Count != 80000 || l.Max != 79999 {
		t.Fatalf("count %d max %v, want 80000 and 79.999µs", l.Count, l.Max)
	}
}

func TestLatencyJSONIsMilliseconds(t *testing.T) {
	l := Latency{Count: 3, P50: 1500 * time.Microsecond, P99: 2 * time.Millisecond, P999: 3 * time.Millisecond, Max: 4 * time.Millisecond, Mean: time.Millisecond}
	b, err := json.Marshal(l)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"count":3,"p50_ms":1.5,"p99_ms":2,"p99_9_ms":3,"max_ms":4,"mean_ms":1}`; string(b) != want {
		t.Fatalf("got %s, want %s", b, want)
	}
	var back Latency
	if err := json.Unmarshal(b, &back); err != nil || back != l {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
}
