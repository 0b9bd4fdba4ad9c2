package broker

// A broker's life in the cluster (KIP-631): it registers with the active
// controller (listeners, rack, a fresh incarnation id) and gets a broker
// epoch; it starts its partitions once the metadata log it has replayed
// holds that registration; then it heartbeats every
// broker.heartbeat.interval.ms with how far it has read the metadata log.
// The controller unfences it once caught up and fences it when heartbeats
// stop for broker.session.timeout.ms. On a clean stop it asks for a
// controlled shutdown: the controller moves its leaderships away, and the
// broker stops once told it may.

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/internal/metadata"
)

// lifecycle is the broker's registration state.
type lifecycle struct {
	incarnation metadata.UUID
	epoch       atomic.Int64 // -1 until registered
	fenced      atomic.Bool
	// ready is closed once the broker is registered, has started its
	// partitions, and the controller unfenced it for the first time.
	ready chan struct{}
	// shutdown asks the heartbeat loop for a controlled shutdown; done is
	// closed when the controller allows it (or the loop gave up).
	shutdown chan struct{}
	done     chan struct{}
	// quit stops the loop whatever it is doing: the broker is closing.
	quit chan struct{}
}

func newLifecycle() *lifecycle {
	lc := &lifecycle{incarnation: metadata.NewUUID(), ready: make(chan struct{}),
		shutdown: make(chan struct{}), done: make(chan struct{}), quit: make(chan struct{})}
	lc.epoch.Store(-1)
	lc.fenced.Store(true)
	return lc
}

// BrokerEpoch is this broker's epoch from its registration, -1 before.
func (b *Broker) BrokerEpoch() int64 { return b.lc.epoch.Load() }

// runLifecycle registers, starts the partitions, and heartbeats until the
// broker stops.
func (b *Broker) runLifecycle() {
	defer close(b.lc.done)
	started := false
	for {
		if !b.registerOnce() {
			return
		}
		if !started {
			b.parts.Start(b.store.Image())
			started = true
		}
		if !b.heartbeatLoop() {
			return
		}
		// The controller forgot us (a stale epoch): register anew.
	}
}

// registerOnce registers until it succeeds and the local image holds the
// registration; false when the broker is stopping.
func (b *Broker) registerOnce() bool {
	for {
		epoch, err := b.sendRegistration()
		if err == nil && b.awaitRegistration(epoch) {
			b.lc.epoch.Store(epoch)
			b.log.Info("registered with the controller", "broker_epoch", epoch)
			return true
		}
		if err != nil {
			b.log.Warn("broker registration failed; retrying", "err", err)
		}
		if !b.sleep(b.cfg.HeartbeatInterval / 4) {
			return false
		}
	}
}

func (b *Broker) sendRegistration() (int64, error) {
	req := kmsg.NewPtrBrokerRegistrationRequest()
	req.BrokerID, req.ClusterID, req.IncarnationID = b.cfg.NodeID, b.meta.ClusterID, b.lc.incarnation
	l := kmsg.NewBrokerRegistrationRequestListener()
	l.Name, l.Host, l.Port = b.cfg.ListenerName, b.cfg.AdvertisedHost, uint16(b.advertisedPort())
	req.Listeners = append(req.Listeners, l)
	if b.cfg.Rack != "" {
		req.Rack = &b.cfg.Rack
	}
	req.PreviousBrokerEpoch = b.previousEpoch()
	if id, err := metadata.ParseUUID(b.meta.DirectoryID); err == nil {
		req.LogDirs = append(req.LogDirs, id)
	}
	ctx, cancel := context.WithTimeout(context.Background(), b.cfg.SessionTimeout)
	defer cancel()
	resp := forward(ctx, b.ctlc, req, func(ctx context.Context) *kmsg.BrokerRegistrationResponse {
		return b.localController().BrokerRegistration(ctx, req)
	})
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return 0, err
	}
	return resp.BrokerEpoch, nil
}

// previousEpoch is KIP-966's PreviousBrokerEpoch: the epoch this node
// registered with in this run, or the one its last run stopped cleanly
// with; -1 after a crash. The controller counts a registration without it
// as a restart after an unclean shutdown (the node leaves the ELRs). The
// registration also names the node's log directory, which lets it replace
// the old registration at once either way (a restart of the same node),
// where another process with the node's id waits out the old session
// (DUPLICATE_BROKER_REGISTRATION).
func (b *Broker) previousEpoch() int64 {
	if e := b.lc.epoch.Load(); e >= 0 {
		return e
	}
	return b.cleanEpoch
}

// awaitRegistration waits until the image this broker has replayed holds
// its registration at epoch: only then does it know the metadata before
// it, and may start its partitions.
func (b *Broker) awaitRegistration(epoch int64) bool {
	deadline := time.Now().Add(b.cfg.SessionTimeout)
	for time.Now().Before(deadline) {
		if rec, ok := b.store.Image().Broker(b.cfg.NodeID); ok && rec.Epoch >= epoch {
			return true
		}
		if !b.sleep(10 * time.Millisecond) {
			return false
		}
	}
	return false
}

// heartbeatLoop heartbeats until the broker stops (false) or the
// controller no longer knows this registration (true: register again).
func (b *Broker) heartbeatLoop() bool {
	interval := b.cfg.HeartbeatInterval
	for {
		wantShutdown := b.stopping()
		resp, err := b.sendHeartbeat(wantShutdown)
		switch {
		case err == nil:
			b.afterHeartbeat(resp)
			if wantShutdown && resp.ShouldShutdown {
				return false
			}
		case err == kerr.StaleBrokerEpoch || err == kerr.BrokerIDNotRegistered:
			if wantShutdown {
				return false
			}
			b.log.Warn("the controller does not know this registration; registering again", "err", err)
			return true
		default:
			b.log.Debug("broker heartbeat failed", "err", err)
		}
		wait := interval
		if b.lc.fenced.Load() || wantShutdown {
			wait = min(interval, 100*time.Millisecond) // catching up or leaving: ask often
		}
		stop := b.lc.shutdown
		if wantShutdown {
			stop = b.lc.quit
		}
		select {
		case <-time.After(wait):
		case <-stop:
			if wantShutdown {
				return false
			}
		case <-b.lc.quit: // Abort: no controlled shutdown
			return false
		}
	}
}

func (b *Broker) stopping() bool {
	select {
	case <-b.lc.shutdown:
		return true
	default:
		return false
	}
}

func (b *Broker) sendHeartbeat(wantShutdown bool) (*kmsg.BrokerHeartbeatResponse, error) {
	req := kmsg.NewPtrBrokerHeartbeatRequest()
	req.BrokerID, req.BrokerEpoch = b.cfg.NodeID, b.lc.epoch.Load()
	req.CurrentMetadataOffset = int64(b.store.Image().Index)
	req.WantShutdown = wantShutdown
	ctx, cancel := context.WithTimeout(context.Background(), b.cfg.HeartbeatInterval)
	defer cancel()
	resp := forward(ctx, b.ctlc, req, func(ctx context.Context) *kmsg.BrokerHeartbeatResponse {
		return b.localController().BrokerHeartbeat(ctx, req)
	})
	return resp, kerr.ErrorForCode(resp.ErrorCode)
}

func (b *Broker) afterHeartbeat(resp *kmsg.BrokerHeartbeatResponse) {
	was := b.lc.fenced.Swap(resp.IsFenced)
	switch {
	case was && !resp.IsFenced:
		b.log.Info("unfenced by the controller", "broker_epoch", b.lc.epoch.Load())
		select {
		case <-b.lc.ready:
		default:
			close(b.lc.ready)
		}
	case !was && resp.IsFenced && !b.stopping():
		b.log.Warn("fenced by the controller", "broker_epoch", b.lc.epoch.Load())
	}
}

// sleep waits d, or returns false once the broker stops.
func (b *Broker) sleep(d time.Duration) bool {
	select {
	case <-time.After(d):
		return true
	case <-b.lc.shutdown:
		return false
	case <-b.lc.quit:
		return false
	}
}

// awaitReady waits until the broker is registered and unfenced.
func (b *Broker) awaitReady(timeout time.Duration) error {
	select {
	case <-b.lc.ready:
		return nil
	case <-time.After(timeout):
		return fmt.Errorf("not registered and unfenced by the controller after %v", timeout)
	}
}

// controlledShutdown asks the controller to move this broker's
// leaderships away, waits for its consent up to timeout, then stops the
// lifecycle loop.
// Without a quorum leader for two election timeouts there is no one to
// ask, and it stops at once.
func (b *Broker) controlledShutdown(timeout time.Duration) {
	close(b.lc.shutdown)
	deadline := time.Now().Add(timeout)
	leaderless := time.Time{}
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
wait:
	for timeout > 0 {
		select {
		case <-b.lc.done:
			break wait
		case now := <-t.C:
			if now.After(deadline) {
				b.log.Warn("controlled shutdown did not finish in time; stopping anyway", "timeout", timeout)
				break wait
			}
			if b.quorum.Leader() != 0 {
				leaderless = time.Time{}
			} else if leaderless.IsZero() {
				leaderless = now
			} else if now.Sub(leaderless) > 2*b.cfg.ElectionTimeout {
				b.log.Warn("no active controller for a controlled shutdown; stopping anyway")
				break wait
			}
		}
	}
	close(b.lc.quit)
	<-b.lc.done
}
