package broker

// Forwarding to the active controller. Kafka's brokers forward admin
// requests to the controller quorum's leader (KIP-590); Samsa's nodes all
// vote, so the active controller is the metadata quorum's Raft leader:
// this node when it leads, else the leader's controller listener, reached
// with a Kafka client. A request that finds no leader waits for one until
// its deadline, then answers NOT_CONTROLLER (clients retry it).

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/internal/api"
)

// errNoController: no active controller answered before the deadline.
var errNoController = errors.New("broker: no active controller")

// controllerClient sends requests to the active controller.
type controllerClient struct {
	self   int32
	dial   *nodeDialer
	voters map[int32]string
	leader func() int32 // the quorum's leader, 0 when unknown
	log    *slog.Logger

	mu      sync.Mutex
	clients map[int32]*kgo.Client
	closed  bool
}

func newControllerClient(self int32, dial *nodeDialer, voters []Voter, leader func() int32, log *slog.Logger) *controllerClient {
	c := &controllerClient{self: self, dial: dial, voters: map[int32]string{}, leader: leader, log: log, clients: map[int32]*kgo.Client{}}
	for _, v := range voters {
		c.voters[v.ID] = v.Addr
	}
	return c
}

// active waits for a known quorum leader until ctx ends. A broker-only
// node learns the leader from the metadata log only once the leader has
// added it as a learner, which it does after the node registered; until
// then it asks the voters (askVoters).
func (c *controllerClient) active(ctx context.Context) (int32, error) {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	_, voter := c.voters[c.self]
	var asked time.Time
	for {
		if id := c.leader(); id != 0 {
			return id, nil
		}
		if !voter && time.Since(asked) >= askVotersEvery {
			asked = time.Now()
			if id := c.askVoters(ctx); id != 0 {
				return id, nil
			}
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("%w: %w", errNoController, ctx.Err())
		case <-t.C:
		}
	}
}

// askVotersEvery is how often a node that is no voter asks the voters who
// leads while it does not know.
const askVotersEvery = 200 * time.Millisecond

// askVoters asks each voter's DescribeQuorum, which only the quorum's
// leader answers without an error; 0 when none did.
func (c *controllerClient) askVoters(ctx context.Context) int32 {
	req := describeQuorumRequest()
	for id := range c.voters {
		rctx, cancel := context.WithTimeout(ctx, time.Second)
		resp, err := c.send(rctx, id, req)
		cancel()
		if err != nil {
			continue
		}
		r := resp.(*kmsg.DescribeQuorumResponse)
		if len(r.Topics) == 1 && len(r.Topics[0].Partitions) == 1 {
			if p := r.Topics[0].Partitions[0]; p.ErrorCode == 0 && p.LeaderID > 0 {
				return p.LeaderID
			}
		}
	}
	return 0
}

// send sends req to voter id's controller listener.
func (c *controllerClient) send(ctx context.Context, id int32, req kmsg.Request) (kmsg.Response, error) {
	cl, err := c.client(id)
	if err != nil {
		return nil, err
	}
	seeds := cl.SeedBrokers()
	if len(seeds) == 0 {
		return nil, fmt.Errorf("broker: no client for controller %d", id)
	}
	return seeds[0].Request(ctx, req)
}

func (c *controllerClient) client(id int32) (*kgo.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, errors.New("broker: controller client closed")
	}
	if cl := c.clients[id]; cl != nil {
		return cl, nil
	}
	addr, ok := c.voters[id]
	if !ok {
		return nil, fmt.Errorf("broker: quorum leader %d is not in controller.quorum.voters", id)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ClientID(fmt.Sprintf("samsa-node-%d", c.self)),
		kgo.Dialer(c.dial.DialContext), kgo.RequestRetries(0))
	if err != nil {
		return nil, err
	}
	c.clients[id] = cl
	return cl, nil
}

func (c *controllerClient) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	for _, cl := range c.clients {
		cl.Close()
	}
	clear(c.clients)
}

// withRequestTimeout bounds ctx by req's own timeout, or def for a request
// without one: a controller operation must not wait on a quorum forever
// (it holds the controller's lock meanwhile).
func withRequestTimeout(ctx context.Context, req kmsg.Request, def time.Duration) (context.Context, context.CancelFunc) {
	timeout := def
	if t, ok := req.(kmsg.TimeoutRequest); ok && t.Timeout() > 0 {
		timeout = time.Duration(t.Timeout()) * time.Millisecond
	}
	return context.WithTimeout(ctx, timeout)
}

// forwardTimeout bounds a forwarded request that carries no timeout of its
// own (Kafka's request.timeout.ms default).
const forwardTimeout = 30 * time.Second

// forward answers req on the active controller: local (this node leads
// the quorum) or over the network, retrying while the leadership moves,
// within the request's own timeout (forwardTimeout for those without
// one); then its error response says REQUEST_TIMED_OUT.
func forward[R kmsg.Response](ctx context.Context, c *controllerClient, req kmsg.Request, local func(context.Context) R) R {
	ctx, cancel := withRequestTimeout(ctx, req, forwardTimeout)
	defer cancel()
	for {
		id, err := c.active(ctx)
		if err != nil {
			return api.ErrorResponse(req, kerr.RequestTimedOut).(R)
		}
		if id == c.self {
			return local(ctx)
		}
		resp, err := c.send(ctx, id, req)
		if err == nil {
			return resp.(R)
		}
		c.log.Debug("forwarding to the active controller failed", "controller", id, "key", req.Key(), "err", err)
		select {
		case <-ctx.Done():
			return api.ErrorResponse(req, kerr.RequestTimedOut).(R)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
