package controller

// Broker registration and heartbeats (KIP-631, controlled shutdown as in
// KIP-841), after Kafka's ClusterControlManager.registerBroker and
// BrokerHeartbeatManager.calculateNextBrokerState.
//
// BrokerRegistration (62) records a BrokerRecord, fenced, whose epoch is
// larger than any before (the log index it will have at the least). A
// retried registration of the same incarnation with the same content is
// answered with the registration's epoch and writes nothing. A new
// incarnation replaces the registration when the old one's session has
// expired, when it names the old registration's epoch as its previous one
// (KIP-966's PreviousBrokerEpoch: the same broker restarted after a clean
// shutdown), or when it names one of the old registration's log
// directories (the same broker restarted after a crash; another process
// with the node's id has directories of its own); otherwise it is
// DUPLICATE_BROKER_REGISTRATION, as Kafka answers while another process
// may still own the id. A broker restarted without a clean shutdown may
// have lost what its page cache held, so it leaves the ELRs (KIP-966's
// handleBrokerUncleanShutdown) where another replica remains eligible.
//
// BrokerHeartbeat (63) keeps the session (contact times live in memory
// only: a newly active controller gives every broker a fresh session) and
// moves the broker between states:
//
//	FENCED --caught up to its registration, !WantFence--> UNFENCED
//	FENCED --WantShutDown--> SHUTDOWN_NOW
//	UNFENCED --WantFence--> FENCED (SHUTDOWN_NOW with WantShutDown)
//	UNFENCED --WantShutDown, leads partitions--> CONTROLLED_SHUTDOWN
//	UNFENCED --WantShutDown, leads nothing--> SHUTDOWN_NOW
//	CONTROLLED_SHUTDOWN --leads nothing, active brokers replayed the
//	    shutdown's changes--> SHUTDOWN_NOW (fenced)
//
// Tick fences brokers whose session expired and, with
// auto.leader.rebalance.enable, elects preferred leaders every
// leader.imbalance.check.interval.seconds.

import (
	"context"
	"math"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/internal/metadata"
)

// session is what the active controller knows of a broker between
// heartbeats.
type session struct {
	lastContact    time.Time
	metadataOffset int64
	// shutdownOffset is the log index of the entry that started the
	// broker's controlled shutdown (-1: none known).
	shutdownOffset int64
}

// brokerState is a broker's state in the heartbeat state machine.
type brokerState int

const (
	stateFenced brokerState = iota
	stateUnfenced
	stateControlledShutdown
	stateShutdownNow
)

func (s brokerState) fenced() bool { return s == stateFenced || s == stateShutdownNow }

// Activate starts this node's term as the active controller: every
// registered broker gets a fresh session, and the first leader imbalance
// check is an interval away. Call it when the node becomes the active
// controller, before the first Tick.
func (c *Controller) Activate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sessions = map[int32]*session{}
	c.nextRebalance, c.nextUnclean = time.Time{}, time.Time{}
}

// sessionOf returns a broker's session, fresh at now when there is none.
func (c *Controller) sessionOf(id int32, now time.Time) *session {
	s := c.sessions[id]
	if s == nil {
		s = &session{lastContact: now, metadataOffset: -1, shutdownOffset: -1}
		c.sessions[id] = s
	}
	return s
}

func (c *Controller) expired(s *session, now time.Time) bool {
	return now.Sub(s.lastContact) > c.cfg.SessionTimeout
}

// KafkaBrokerRegistration answers a BrokerRegistration request.
func (c *Controller) KafkaBrokerRegistration(ctx context.Context, req *kmsg.BrokerRegistrationRequest) *kmsg.BrokerRegistrationResponse {
	resp := req.ResponseKind().(*kmsg.BrokerRegistrationResponse)
	epoch, err := c.registerBroker(ctx, req)
	resp.ErrorCode, resp.BrokerEpoch = Code(err), epoch
	return resp
}

func registrationRecord(req *kmsg.BrokerRegistrationRequest) metadata.BrokerRecord {
	b := metadata.BrokerRecord{ID: req.BrokerID, IncarnationID: req.IncarnationID, Rack: req.Rack, Fenced: true,
		Listeners: make([]metadata.Endpoint, 0, len(req.Listeners))}
	for _, d := range req.LogDirs {
		b.LogDirs = append(b.LogDirs, metadata.UUID(d))
	}
	for _, l := range req.Listeners {
		b.Listeners = append(b.Listeners, metadata.Endpoint{Name: l.Name, Host: l.Host, Port: int32(l.Port), SecurityProtocol: l.SecurityProtocol})
	}
	return b
}

func sameRegistration(a, b metadata.BrokerRecord) bool {
	sameRack := (a.Rack == nil) == (b.Rack == nil) && (a.Rack == nil || *a.Rack == *b.Rack)
	return a.IncarnationID == b.IncarnationID && sameRack && slices.Equal(a.Listeners, b.Listeners)
}

func (c *Controller) registerBroker(ctx context.Context, req *kmsg.BrokerRegistrationRequest) (int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cfg.ClusterID != "" && req.ClusterID != c.cfg.ClusterID {
		return -1, errorf(kerr.InconsistentClusterID, "cluster id is %q, not %q", c.cfg.ClusterID, req.ClusterID)
	}
	now, im := c.cfg.Now(), c.store.Image()
	rec := registrationRecord(req)
	old, exists := im.Broker(req.BrokerID)
	if exists && sameRegistration(old, rec) {
		c.sessionOf(rec.ID, now).lastContact = now
		return old.Epoch, nil // a retry: same process, same answer
	}
	clean := exists && req.PreviousBrokerEpoch == old.Epoch
	sameDir := exists && slices.ContainsFunc(rec.LogDirs, func(d metadata.UUID) bool { return slices.Contains(old.LogDirs, d) })
	if exists && old.IncarnationID != rec.IncarnationID && !c.expired(c.sessionOf(rec.ID, now), now) && !clean && !sameDir {
		return -1, errorf(kerr.DuplicateBrokerRegistration, "broker %d is registered by another incarnation whose session is live", rec.ID)
	}
	rec.Epoch = int64(im.Index) + 1
	if exists {
		rec.Epoch = max(rec.Epoch, old.Epoch+1) // past RegisterBroker's counting epochs too
	}
	b := newBatch(im)
	if exists {
		// The old registration's process is gone: it leads nothing now.
		if err := c.leaveAll(b, rec.ID, !clean); err != nil {
			return -1, err
		}
	}
	if err := b.add(metadata.Record{Broker: &rec}); err != nil {
		return -1, err
	}
	if err := c.propose(ctx, b.recs); err != nil {
		return -1, err
	}
	c.sessions[rec.ID] = &session{lastContact: now, metadataOffset: -1, shutdownOffset: -1}
	return rec.Epoch, nil
}

// KafkaBrokerHeartbeat answers a BrokerHeartbeat request.
func (c *Controller) KafkaBrokerHeartbeat(ctx context.Context, req *kmsg.BrokerHeartbeatRequest) *kmsg.BrokerHeartbeatResponse {
	resp := req.ResponseKind().(*kmsg.BrokerHeartbeatResponse)
	c.mu.Lock()
	defer c.mu.Unlock()
	reg, ok := c.store.Image().Broker(req.BrokerID)
	if !ok || reg.Epoch != req.BrokerEpoch {
		resp.ErrorCode, resp.IsFenced = kerr.StaleBrokerEpoch.Code, true
		return resp
	}
	next, err := c.heartbeat(ctx, reg, req)
	if err != nil {
		resp.ErrorCode, resp.IsFenced = Code(err), true
		return resp
	}
	resp.IsCaughtUp = req.CurrentMetadataOffset >= int64(reg.RegisteredAt)
	resp.IsFenced = next.fenced()
	resp.ShouldShutdown = next == stateShutdownNow
	return resp
}

// heartbeat records the contact and carries out the broker's transition.
func (c *Controller) heartbeat(ctx context.Context, reg metadata.BrokerRecord, req *kmsg.BrokerHeartbeatRequest) (brokerState, error) {
	now, im := c.cfg.Now(), c.store.Image()
	s := c.sessionOf(reg.ID, now)
	s.lastContact, s.metadataOffset = now, req.CurrentMetadataOffset
	cur := currentState(reg)
	next := c.nextState(im, cur, reg, s, req)
	b := newBatch(im)
	var err error
	switch {
	case cur == next:
	case next == stateUnfenced:
		err = c.unfence(b, reg.ID)
	case next == stateControlledShutdown:
		err = c.shutDown(b, reg.ID)
	case next.fenced() && !reg.Fenced:
		err = c.fence(b, reg.ID)
	}
	if err != nil {
		return cur, err
	}
	index, err := c.proposeAt(ctx, b.recs)
	if err != nil {
		return cur, err
	}
	if next == stateControlledShutdown && cur != next {
		s.shutdownOffset = int64(index)
	}
	return next, nil
}

func currentState(reg metadata.BrokerRecord) brokerState {
	switch {
	case reg.Fenced:
		return stateFenced
	case reg.InControlledShutdown:
		return stateControlledShutdown
	}
	return stateUnfenced
}

// nextState is Kafka's calculateNextBrokerState.
func (c *Controller) nextState(im *metadata.Image, cur brokerState, reg metadata.BrokerRecord, s *session, req *kmsg.BrokerHeartbeatRequest) brokerState {
	switch cur {
	case stateFenced:
		switch {
		case req.WantShutdown:
			return stateShutdownNow
		case !req.WantFence && req.CurrentMetadataOffset >= int64(reg.RegisteredAt):
			return stateUnfenced
		}
		return stateFenced
	case stateUnfenced:
		switch {
		case req.WantFence && req.WantShutdown:
			return stateShutdownNow
		case req.WantFence:
			return stateFenced
		case req.WantShutdown && leads(im, reg.ID):
			return stateControlledShutdown
		case req.WantShutdown:
			return stateShutdownNow
		}
		return stateUnfenced
	}
	// In controlled shutdown: done once the broker leads nothing and every
	// active broker has replayed the entry that moved its leaderships.
	if leads(im, reg.ID) || max(s.shutdownOffset, 0) > c.lowestActiveOffset(im) {
		return stateControlledShutdown
	}
	return stateShutdownNow
}

// lowestActiveOffset is the lowest metadata offset active brokers reported.
func (c *Controller) lowestActiveOffset(im *metadata.Image) int64 {
	low := int64(math.MaxInt64)
	for _, b := range im.Brokers() {
		if s := c.sessions[b.ID]; s != nil && isActive(im, b.ID) {
			low = min(low, s.metadataOffset)
		}
	}
	return low
}

// Tick runs the active controller's timed work at now: it fences the
// brokers whose session expired (broker.session.timeout.ms) and, with
// AutoLeaderRebalance, elects preferred leaders once every
// LeaderImbalanceCheckInterval. Call it about once a second (well within
// broker.session.timeout.ms), only while this node is the active
// controller, after Activate; brokers that never heartbeat (RegisterBroker's
// own registration) are fenced by it.
func (c *Controller) Tick(ctx context.Context, now time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := newBatch(c.store.Image())
	for _, reg := range b.im.Brokers() {
		if !reg.Fenced && c.expired(c.sessionOf(reg.ID, now), now) {
			if err := c.fence(b, reg.ID); err != nil {
				return err
			}
		}
	}
	if c.cfg.AutoLeaderRebalance {
		if c.nextRebalance.IsZero() {
			c.nextRebalance = now.Add(c.cfg.LeaderImbalanceCheckInterval)
		}
		if !now.Before(c.nextRebalance) {
			c.nextRebalance = now.Add(c.cfg.LeaderImbalanceCheckInterval)
			if err := c.balanceLeaders(b); err != nil {
				return err
			}
		}
	}
	if !now.Before(c.nextUnclean) {
		c.nextUnclean = now.Add(c.cfg.UncleanElectionInterval)
		// Kafka's periodic maybeElectUncleanLeaders: turning unclean
		// election on takes effect without a broker coming or going.
		if err := c.electLeaderless(b); err != nil {
			return err
		}
	}
	return c.propose(ctx, b.recs)
}
