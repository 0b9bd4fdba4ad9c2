// Package metrics defines Samsa's Prometheus metrics. Each broker has its
// own registry, so several brokers in one process (tests) do not collide;
// the names follow Kafka's metric groups (BrokerTopicMetrics,
// RequestMetrics, Log) in Prometheus style.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Broker holds one broker's metrics.
type Broker struct {
	reg *prometheus.Registry

	BytesIn     *prometheus.CounterVec
	MessagesIn  *prometheus.CounterVec
	BytesOut    *prometheus.CounterVec
	MessagesOut *prometheus.CounterVec
	Requests    *prometheus.CounterVec
	Latency     *prometheus.HistogramVec
	Connections prometheus.Gauge
}

// PartitionStat is one partition's size for the log gauges.
type PartitionStat struct {
	Topic     string
	Partition int32
	Size      int64
}

// NewBroker registers the broker metrics, the Go runtime's and the
// process's, and the partition gauges that partitions (called at each
// scrape) reports.
func NewBroker(partitions func() []PartitionStat) *Broker {
	reg := prometheus.NewRegistry()
	m := &Broker{
		reg: reg,
		BytesIn: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "samsa_topic_bytes_in_total",
			Help: "Record batch bytes produced, per topic (Kafka's BytesInPerSec)."}, []string{"topic"}),
		MessagesIn: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "samsa_topic_messages_in_total",
			Help: "Records produced, per topic (Kafka's MessagesInPerSec)."}, []string{"topic"}),
		BytesOut: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "samsa_topic_bytes_out_total",
			Help: "Record batch bytes fetched, per topic (Kafka's BytesOutPerSec)."}, []string{"topic"}),
		MessagesOut: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "samsa_topic_messages_out_total",
			Help: "Records fetched, per topic."}, []string{"topic"}),
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "samsa_requests_total",
			Help: "Requests answered, per API (Kafka's RequestsPerSec)."}, []string{"api"}),
		Latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "samsa_request_duration_seconds",
			Help:    "Time from a request's arrival to its response, per API (Kafka's TotalTimeMs).",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 18)}, []string{"api"}),
		Connections: prometheus.NewGauge(prometheus.GaugeOpts{Name: "samsa_connections",
			Help: "Open client connections."}),
	}
	reg.MustRegister(m.BytesIn, m.MessagesIn, m.BytesOut, m.MessagesOut, m.Requests, m.Latency, m.Connections,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		partitionCollector{partitions})
	return m
}

// Handler serves the registry in Prometheus's text format.
func (m *Broker) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// ObserveRequest records one answered request.
func (m *Broker) ObserveRequest(api string, d time.Duration) {
	m.Requests.WithLabelValues(api).Inc()
	m.Latency.WithLabelValues(api).Observe(d.Seconds())
}

var (
	partitionsDesc = prometheus.NewDesc("samsa_partitions", "Partitions hosted by this broker.", nil, nil)
	logSizeDesc    = prometheus.NewDesc("samsa_log_size_bytes", "Size of a partition's log on disk (Kafka's Log Size).", []string{"topic", "partition"}, nil)
)

// partitionCollector reads partition sizes at scrape time.
type partitionCollector struct{ stats func() []PartitionStat }

func (c partitionCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- partitionsDesc
	ch <- logSizeDesc
}

func (c partitionCollector) Collect(ch chan<- prometheus.Metric) {
	stats := c.stats()
	ch <- prometheus.MustNewConstMetric(partitionsDesc, prometheus.GaugeValue, float64(len(stats)))
	for _, s := range stats {
		ch <- prometheus.MustNewConstMetric(logSizeDesc, prometheus.GaugeValue, float64(s.Size), s.Topic, strconv.Itoa(int(s.Partition)))
	}
}
