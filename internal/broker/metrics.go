package broker

import (
	"context"
	"errors"
	stdnet "net"
	"net/http"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/internal/metrics"
	knet "github.com/samsa-io/samsa/internal/net"
)

// metricsServer serves /metrics over HTTP.
type metricsServer struct {
	srv *http.Server
	ln  stdnet.Listener
}

func (m *metricsServer) addr() string { return m.ln.Addr().String() }

func (m *metricsServer) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	m.srv.Shutdown(ctx)
}

func (b *Broker) serveMetrics() (func(), error) {
	if b.cfg.MetricsAddr == "" {
		return nil, nil
	}
	ln, err := stdnet.Listen("tcp", b.cfg.MetricsAddr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", b.m.Handler())
	ms := &metricsServer{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}, ln: ln}
	go func() {
		if err := ms.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			b.log.Error("metrics endpoint stopped", "err", err)
		}
	}()
	b.metrics = ms
	return ms.close, nil
}

// partitionStats feeds the partition gauges at scrape time.
func (b *Broker) partitionStats() []metrics.PartitionStat {
	if b.parts == nil {
		return nil
	}
	ps := b.parts.Partitions()
	out := make([]metrics.PartitionStat, len(ps))
	for i, p := range ps {
		out[i] = metrics.PartitionStat{Topic: p.TP.Topic, Partition: p.TP.Partition, Size: p.Log().Size()}
	}
	return out
}

func (b *Broker) observe(key int16, d time.Duration) { b.m.ObserveRequest(kmsg.NameForKey(key), d) }

func (b *Broker) produced(topic string, bytes, records int64) {
	b.m.BytesIn.WithLabelValues(topic).Add(float64(bytes))
	b.m.MessagesIn.WithLabelValues(topic).Add(float64(records))
}

func (b *Broker) fetched(topic string, bytes, records int64) {
	b.m.BytesOut.WithLabelValues(topic).Add(float64(bytes))
	b.m.MessagesOut.WithLabelValues(topic).Add(float64(records))
}

func (b *Broker) netHooks() knet.Hooks {
	return knet.Hooks{
		ConnOpened: func(*knet.ConnInfo) { b.m.Connections.Inc() },
		ConnClosed: func(*knet.ConnInfo, error) { b.m.Connections.Dec() },
	}
}
