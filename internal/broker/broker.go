// Package broker is the composition root: it builds a node's parts (log
// directory, metadata quorum and image, controller, replica manager, API
// handler, listener, metrics) and owns their start and stop order.
//
// Start: meta.properties (cluster and node ids, formatted on first start),
// the log directory (recovery), the metadata quorum (replay into the
// image), broker registration through the controller, the replica manager
// reconciling logs with the image, then the listener. Stop: the listener
// drains in-flight requests, background work stops, the quorum closes,
// and the log directory checkpoints and closes.
package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	stdnet "net"
	"path"
	"strconv"
	"sync"
	"time"

	"github.com/samsa-io/samsa/internal/api"
	"github.com/samsa-io/samsa/internal/controller"
	"github.com/samsa-io/samsa/internal/coordinator"
	"github.com/samsa-io/samsa/internal/log"
	"github.com/samsa-io/samsa/internal/metadata"
	"github.com/samsa-io/samsa/internal/metrics"
	knet "github.com/samsa-io/samsa/internal/net"
	"github.com/samsa-io/samsa/internal/partition"
	"github.com/samsa-io/samsa/internal/raft"
	"github.com/samsa-io/samsa/internal/wire"
)

// controlledShutdownTimeout bounds how long a stopping node of a cluster
// waits for the controller to move its leaderships away.
const controlledShutdownTimeout = 5 * time.Second

// Broker is one running node.
type Broker struct {
	cfg    Config
	log    *slog.Logger
	meta   MetaProperties
	dir    *log.Dir
	store  *metadata.Store
	quorum *raft.Node
	// transport carries the quorum's messages (nil for a cluster of one).
	transport *raft.TCPTransport
	ctlc      *controllerClient
	leaders   *leaderClients
	dialer    *nodeDialer
	lc        *lifecycle
	ctrl      *controller.Controller
	groups    *coordinator.Coordinator
	txn       *coordinator.TxnCoordinator
	pids      *controller.ProducerIDs
	parts     *partition.Manager
	handler   *api.Handler
	server    *knet.Server
	listener  stdnet.Listener
	// ctlListener is the controller listener (nil for a cluster of one
	// without one); ctlServer serves its Kafka connections.
	ctlListener    stdnet.Listener
	ctlServer      *knet.Server
	stopController func()
	// quorumMux is a broker-only node's Kafka listener, which also takes
	// the voters' quorum connections (learners.go); nil otherwise.
	quorumMux *quorumMux
	metrics   *metricsServer
	m         *metrics.Broker
	// cleanEpoch is the broker epoch the last run stopped cleanly with, -1
	// after a crash (meta.go's clean-shutdown marker).
	cleanEpoch int64
	stop       chan struct{}
	bg         sync.WaitGroup
	closeOnce  sync.Once
	closeErr   error
}

// Start builds and starts a node. On error everything started is stopped.
func Start(cfg Config) (b *Broker, err error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	b = &Broker{cfg: cfg, log: cfg.Logger, stop: make(chan struct{}), dialer: newNodeDialer(cfg.DialMap, cfg.Dial), lc: newLifecycle()}
	b.m = metrics.NewBroker(b.partitionStats)
	var undo []func()
	defer func() {
		if err != nil {
			for i := len(undo) - 1; i >= 0; i-- {
				undo[i]()
			}
		}
	}()
	steps := []struct {
		name string
		run  func() (func(), error)
	}{
		{"bind", b.bind},
		{"bind controller listener", b.bindController},
		{"quorum discovery", b.discoverVoters},
		{"meta.properties", b.loadMeta},
		{"log directory", b.openLogs},
		{"metadata quorum", b.openQuorum},
		{"controller listener", b.serveController},
		{"registration", b.register},
		{"group coordinator", b.startGroups},
		{"transaction coordinator", b.startTxn},
		{"unfencing", b.awaitUnfenced},
		{"listener", b.listen},
		{"metrics", b.serveMetrics},
	}
	for _, s := range steps {
		stopStep, err := s.run()
		if err != nil {
			return nil, fmt.Errorf("broker: %s: %w", s.name, err)
		}
		if stopStep != nil {
			undo = append(undo, stopStep)
		}
	}
	b.startBackground()
	attrs := []any{"node_id", cfg.NodeID, "roles", cfg.Roles.String(), "cluster_id", b.meta.ClusterID}
	if b.listener != nil {
		attrs = append(attrs, "listener", b.listener.Addr().String(), "advertised", fmt.Sprintf("%s:%d", cfg.AdvertisedHost, b.advertisedPort()))
	}
	if b.ctlListener != nil {
		attrs = append(attrs, "controller_listener", b.ctlListener.Addr().String())
	}
	b.log.Info("samsa started", append(attrs, "log_dir", cfg.DataDir, "topics", b.store.Image().NumTopics())...)
	return b, nil
}

func (b *Broker) loadMeta() (func(), error) {
	var clusterID string
	if b.clustered() {
		clusterID = clusterIDOf(b.cfg.Voters)
	}
	m, err := loadOrFormat(b.cfg.FS, b.cfg.DataDir, b.cfg.NodeID, clusterID)
	b.meta = m
	if err != nil {
		return nil, err
	}
	b.cleanEpoch, err = takeCleanShutdown(b.cfg.FS, b.cfg.DataDir)
	return nil, err
}

func (b *Broker) openLogs() (func(), error) {
	d, rep, err := log.OpenDir(b.cfg.FS, b.cfg.DataDir, log.DirOptions{Now: b.cfg.Now})
	if err != nil {
		return nil, err
	}
	for tp, r := range rep.Recovered {
		if r.TruncatedAt >= 0 || len(r.RebuiltIndexes) > 0 || len(r.RemovedFiles) > 0 {
			b.log.Warn("recovered a partition log", "partition", tp.DirName(), "report", fmt.Sprintf("%+v", r))
		}
	}
	for tp, ferr := range rep.Failed {
		b.log.Error("partition log could not be opened", "partition", tp.DirName(), "err", ferr)
	}
	b.dir = d
	return func() { d.Close() }, nil
}

func (b *Broker) openQuorum() (func(), error) {
	b.store = metadata.NewStore()
	b.parts = partition.NewManager(b.partitionConfig())
	b.store.Subscribe(b.parts.Apply)
	rc := raft.Config{
		ID: uint64(b.cfg.NodeID), Voters: []uint64{uint64(b.cfg.NodeID)},
		FS: b.cfg.FS, Dir: path.Join(b.cfg.DataDir, metadataDirName),
		Logger: slog.New(minLevel{b.log.Handler(), slog.LevelWarn}),
	}
	if b.clustered() {
		t, err := b.newTransport()
		if err != nil {
			return nil, err
		}
		rc.Voters, rc.Transport, b.transport = voterIDs(b.cfg.Voters), t, t
		if !b.cfg.Roles.Controller {
			rc.Voters = nil // a learner, added by the active controller (learners.go)
		}
		rc.ElectionTicks = max(int(b.cfg.ElectionTimeout/(100*time.Millisecond)), 2)
	}
	q, err := raft.Open(rc, b.store) // the node owns and closes the transport
	if err != nil {
		return nil, err
	}
	b.quorum = q
	b.ctlc = newControllerClient(b.cfg.NodeID, b.dialer, b.voters(), func() int32 { return int32(q.Leader()) }, b.log)
	if !b.clustered() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := q.WaitLeader(ctx); err != nil {
			q.Close()
			return nil, err
		}
	}
	b.ctrl = controller.New(b.controllerConfig(), b.store, q)
	b.pids = b.newProducerIDs()
	return func() {
		b.ctlc.close()
		q.Close()
	}, nil
}

// clustered reports whether this node is one of several: several voters,
// or a node with one role only.
func (b *Broker) clustered() bool {
	return len(b.cfg.Voters) > 1 || !b.cfg.Roles.Broker || !b.cfg.Roles.Controller
}

// voters is the voter set: the configured one, or this node alone.
func (b *Broker) voters() []Voter {
	if len(b.cfg.Voters) > 0 {
		return b.cfg.Voters
	}
	return []Voter{{ID: b.cfg.NodeID}}
}

func voterIDs(vs []Voter) []uint64 {
	out := make([]uint64, len(vs))
	for i, v := range vs {
		out[i] = uint64(v.ID)
	}
	return out
}

// register starts the broker's lifecycle (lifecycle.go): registration,
// partitions, heartbeats.
func (b *Broker) register() (func(), error) {
	if !b.cfg.Roles.Broker {
		close(b.lc.done) // a controller alone never registers
		return nil, nil
	}
	go b.runLifecycle()
	return func() { b.controlledShutdown(0) }, nil
}

// awaitUnfenced waits, for a cluster of one, until the controller has
// unfenced this broker, so a started node serves at once. A node of a
// cluster waits for a quorum in the background instead.
func (b *Broker) awaitUnfenced() (func(), error) {
	if b.clustered() {
		return nil, nil
	}
	return nil, b.awaitReady(10 * time.Second)
}

// bind opens the Kafka listener's socket first, so the registration
// advertises the port actually bound; requests are served from listen on.
func (b *Broker) bind() (func(), error) {
	if !b.cfg.Roles.Broker {
		return nil, nil // a controller alone has no client listener
	}
	ln := b.cfg.Listener
	if ln == nil {
		var err error
		if ln, err = stdnet.Listen("tcp", b.cfg.ListenAddr); err != nil {
			return nil, err
		}
	}
	b.listener = ln
	return func() { ln.Close() }, nil
}

func (b *Broker) listen() (func(), error) {
	if !b.cfg.Roles.Broker {
		return nil, nil
	}
	var ln stdnet.Listener = b.listener
	if !b.cfg.Roles.Controller {
		b.quorumMux = b.muxQuorum(ln) // the voters reach this learner here
		ln = b.quorumMux.kafka
	}
	b.handler = api.New(b.apiDeps()).WithController(b.forwardingController())
	b.server = knet.NewServer(knet.Config{
		ListenerName: b.cfg.ListenerName, MaxRequestSize: b.cfg.MaxRequestSize,
		IdleTimeout: b.cfg.IdleTimeout, Logger: b.log, Hooks: b.netHooks(),
		Release:    wire.PutBuffer, // the API handler's responses come from wire.GetBuffer
		Releasable: api.KeepsNoRequest,
	}, knet.HandlerFunc(b.handle))
	go func() {
		// As Kafka's brokers, a node of a cluster answers clients only once
		// it has caught up with the metadata and been unfenced: before,
		// it would call every topic unknown. Connections wait in the
		// socket's backlog meanwhile.
		select {
		case <-b.lc.ready:
		case <-b.lc.quit:
			ln.Close()
			return
		}
		if err := b.server.Serve(ln); err != nil && !errors.Is(err, knet.ErrServerClosed) {
			b.log.Error("listener stopped", "err", err)
		}
	}()
	return func() {
		b.server.Close(context.Background())
		if b.quorumMux != nil {
			b.quorumMux.close()
		}
	}, nil
}

// advertisedPort is the configured one, or the port actually bound.
func (b *Broker) advertisedPort() int {
	if b.cfg.AdvertisedPort != 0 {
		return b.cfg.AdvertisedPort
	}
	if a, ok := b.listener.Addr().(*stdnet.TCPAddr); ok {
		return a.Port
	}
	_, port, _ := stdnet.SplitHostPort(b.listener.Addr().String())
	p, _ := strconv.Atoi(port)
	return p
}

func (b *Broker) apiDeps() api.Deps {
	return api.Deps{
		NodeID: b.cfg.NodeID, ClusterID: b.meta.ClusterID,
		Image: b.store.Image,
		Partition: func(topic string, p int32) (api.Partition, error) {
			part, err := b.parts.Get(topic, p)
			if err != nil {
				return nil, err
			}
			return partitionView{p: part, dir: b.dir}, nil
		},
		Admin:                  b.forwardingController(),
		Groups:                 b.groups,
		ProducerIDs:            b.pids,
		TxnCoordinator:         txnView{b},
		Transactions:           txnView{b},
		TransactionVersion:     transactionVersion,
		Producers:              b.producers,
		Configs:                b.configs(),
		LogDir:                 b.cfg.DataDir,
		AutoCreateTopics:       b.cfg.AutoCreateTopics,
		FetchSessionCacheSlots: max(b.cfg.FetchSessionCacheSlots, 0),
		FetchMaxBytes:          b.cfg.FetchMaxBytes,
		Logger:                 b.log,
		Observe:                b.observe,
		Produced:               b.produced,
		Fetched:                b.fetched,
	}
}

// handle passes a request from the listener to the API handler.
func (b *Broker) handle(ctx context.Context, req *knet.Request) knet.Reply {
	return b.serveWith(b.handler, ctx, req)
}

// serveWith passes a request to an API handler.
func (b *Broker) serveWith(h *api.Handler, ctx context.Context, req *knet.Request) knet.Reply {
	var remote string
	if req.Conn.Remote != nil {
		remote = req.Conn.Remote.String()
	}
	resp, err := h.Serve(ctx, req.Header, req.Body, &api.Client{ID: req.Header.ClientID, Remote: remote, Listener: req.Conn.Listener})
	switch {
	case err != nil:
		return knet.Fail(err)
	case resp == nil:
		return nil
	case resp.Wait == nil && len(resp.Vec.Regions) == 0:
		return knet.Respond(resp.Vec.Bytes)
	case resp.Wait == nil:
		return knet.RespondVec(resp.Vec)
	}
	return knet.WaitVec(resp.Wait)
}

// Addr is the address the Kafka listener is bound to; a controller-only
// node's is its controller listener's.
func (b *Broker) Addr() string {
	if b.listener == nil {
		return b.ctlListener.Addr().String()
	}
	return b.listener.Addr().String()
}

// ClusterID is the cluster's id from meta.properties.
func (b *Broker) ClusterID() string { return b.meta.ClusterID }

// MetricsAddr is the address the metrics endpoint is bound to, or "".
func (b *Broker) MetricsAddr() string {
	if b.metrics == nil {
		return ""
	}
	return b.metrics.addr()
}

// Abort stops the node as a crash would, as far as one process allows: no
// controlled shutdown, no draining, no final checkpoint, and the logs'
// files released without a sync, snapshot or index write (log.Dir.Abandon),
// so the next Start recovers as after a crash. Listeners and connections
// close at once; goroutines stop. For tests; Close after Abort (or Abort
// after Close) does nothing.
func (b *Broker) Abort() {
	b.closeOnce.Do(func() {
		now, cancel := context.WithCancel(context.Background())
		cancel() // closing servers with a done context aborts their connections
		close(b.lc.quit)
		b.ctlc.close() // fails the lifecycle loop's in-flight requests
		<-b.lc.done
		b.txn.Close()
		b.groups.Close()
		if b.server != nil {
			b.server.Close(now)
		}
		if b.ctlServer != nil {
			b.ctlServer.Close(now)
		}
		if b.metrics != nil {
			b.metrics.close()
		}
		close(b.stop)
		b.bg.Wait()
		b.parts.Close()
		b.leaders.close()
		b.quorum.Close()
		b.stopListeners()
		b.dir.Abandon()
		b.log.Info("samsa aborted")
	})
}

// Close stops the node in order: the listener drains, background work
// stops, the quorum closes, and the logs checkpoint and close.
func (b *Broker) Close() error {
	b.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var errs []error
		shutdownWait := time.Duration(0) // alone, there is nobody to hand leaderships to
		if b.clustered() {
			shutdownWait = controlledShutdownTimeout
		}
		b.controlledShutdown(shutdownWait)
		b.txn.Close()    // stops marker writes before the group coordinator they use
		b.groups.Close() // answers parked group requests, so the listener drains
		if b.server != nil {
			if err := b.server.Close(ctx); err != nil {
				errs = append(errs, fmt.Errorf("listener: %w", err))
			}
		}
		if b.metrics != nil {
			b.metrics.close()
		}
		close(b.stop)
		b.bg.Wait()
		b.parts.Close() // stops the follower fetchers and ISR proposals
		b.ctlc.close()
		b.leaders.close()
		if err := b.quorum.Close(); err != nil {
			errs = append(errs, fmt.Errorf("quorum: %w", err))
		}
		b.stopListeners() // after the quorum: its last messages may still go out
		if err := b.checkpoint(); err != nil {
			errs = append(errs, fmt.Errorf("checkpoint: %w", err))
		}
		if err := b.dir.Close(); err != nil {
			errs = append(errs, fmt.Errorf("logs: %w", err))
		}
		if epoch := b.lc.epoch.Load(); len(errs) == 0 && epoch >= 0 {
			if err := markCleanShutdown(b.cfg.FS, b.cfg.DataDir, epoch); err != nil {
				errs = append(errs, fmt.Errorf("clean-shutdown marker: %w", err))
			}
		}
		b.closeErr = errors.Join(errs...)
		b.log.Info("samsa stopped", "err", b.closeErr)
	})
	return b.closeErr
}

// stopListeners closes the listeners that carry quorum connections, once
// the quorum has stopped.
func (b *Broker) stopListeners() {
	if b.stopController != nil {
		b.stopController()
	}
	if b.quorumMux != nil {
		b.quorumMux.close()
		b.quorumMux.wait()
	}
}
