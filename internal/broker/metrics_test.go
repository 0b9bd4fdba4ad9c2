package broker_test

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-io/samsa/samsatest"
)

// After traffic, /metrics has per-topic byte and message counters, per-API
// latency histograms, partition gauges and Go runtime metrics.
func TestMetricsAfterTraffic(t *testing.T) {
	node := samsatest.Start(t, samsatest.WithMetrics())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(node.Addr()), kgo.AllowAutoTopicCreation(),
		kgo.ConsumeTopics("metered"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for i := range 50 {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "metered", Value: []byte(strconv.Itoa(i))}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	for n := 0; n < 50; {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatal(err)
		}
		n += fs.NumRecords()
	}
	resp, err := http.Get("http://" + node.MetricsAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	for _, c := range []struct {
		metric string
		min    float64
	}{
		{`samsa_topic_messages_in_total{topic="metered"}`, 50},
		{`samsa_topic_bytes_in_total{topic="metered"}`, 50 * 60},
		{`samsa_topic_messages_out_total{topic="metered"}`, 50},
		{`samsa_topic_bytes_out_total{topic="metered"}`, 50 * 60},
		{`samsa_requests_total{api="Produce"}`, 50},
		{`samsa_request_duration_seconds_count{api="Produce"}`, 50},
		{`samsa_request_duration_seconds_bucket{api="Fetch",le="+Inf"}`, 1},
		{`samsa_request_duration_seconds_count{api="Metadata"}`, 1},
		{`samsa_partitions`, 1},
		{`samsa_log_size_bytes{partition="0",topic="metered"}`, 50 * 60},
		{`samsa_connections`, 1},
		{`go_goroutines`, 1},
	} {
		v, ok := metricValue(string(page), c.metric)
		if !ok || v < c.min {
			t.Errorf("%s = %v (found %v), want at least %v", c.metric, v, ok, c.min)
		}
	}
}

func metricValue(page, metric string) (float64, bool) {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(metric) + ` (\S+)$`).FindStringSubmatch(page)
	if m == nil {
		return 0, false
	}
	v, err := strconv.ParseFloat(m[1], 64)
	return v, err == nil
}
