package broker

// Broker-only nodes (process.roles=broker) follow the metadata log as Raft
// learners, KRaft's observers (KIP-595): they receive every committed
// record but never vote. A broker-only node starts with no members and
// waits (raft.Config with no voters). Once its registration, forwarded to
// the active controller as any broker's, is committed, the active
// controller adds it as a learner with a membership change; the voters send
// to it on its Kafka listener, which tells quorum connections from Kafka's
// by their first bytes. The learner heartbeats like any broker and is
// unfenced once it has replayed its registration.
//
// A learner stays one when its broker stops or unregisters: a membership
// is as permanent as its node id, and a learner that is down costs the
// leader a probe per heartbeat and nothing else.
//
// A broker-only node may name controller.quorum.bootstrap.servers instead
// of the voters (KIP-853): it asks them DescribeQuorum, whose Nodes list
// every voter's controller listener, before it starts.

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"time"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/samsa-io/samsa/internal/metadata"
	"github.com/samsa-io/samsa/internal/raft"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// learnerTick is how often a voter looks for brokers to follow the log.
const learnerTick = 250 * time.Millisecond

// syncLearners points the quorum transport at every registered broker that
// is not a voter and, on the active controller, adds those that are not
// learners yet.
func (b *Broker) syncLearners() error {
	img := b.store.Image()
	var missing []uint64
	st := b.quorum.Status()
	for _, rec := range img.Brokers() {
		id := uint64(rec.ID)
		if slices.ContainsFunc(b.cfg.Voters, func(v Voter) bool { return v.ID == rec.ID }) {
			continue
		}
		if addr, err := brokerAddr(img, rec.ID, b.cfg.ListenerName); err == nil {
			b.transport.SetPeer(id, addr)
		}
		if !slices.ContainsFunc(st.Learners, func(p raft.PeerStatus) bool { return p.ID == id }) {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 || !b.activeController() {
		return nil
	}
	cc := &raftpb.ConfChangeV2{}
	for _, id := range missing {
		cc.Changes = append(cc.Changes, &raftpb.ConfChangeSingle{Type: raftpb.ConfChangeAddLearnerNode.Enum(), NodeId: new(id)})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := b.quorum.ProposeConfChange(ctx, cc); err != nil {
		return fmt.Errorf("adding learners %v: %w", missing, err)
	}
	b.log.Info("added broker-only nodes to the metadata quorum as learners", "nodes", missing)
	return nil
}

// brokerAddr is a registered broker's address on the named listener (its
// first one when it has none of that name).
func brokerAddr(img *metadata.Image, id int32, listener string) (string, error) {
	rec, _ := img.Broker(id)
	ep, ok := rec.Endpoint(listener)
	if !ok {
		return "", fmt.Errorf("broker: node %d is not registered", id)
	}
	return fmt.Sprintf("%s:%d", bracket(ep.Host), ep.Port), nil
}

// discoveryTimeout bounds how long a starting broker-only node looks for
// the voters through controller.quorum.bootstrap.servers.
const discoveryTimeout = time.Minute

// discoverVoters fills cfg.Voters from the bootstrap servers' DescribeQuorum
// when only those are configured; it retries until one answers.
func (b *Broker) discoverVoters() (func(), error) {
	if len(b.cfg.Voters) > 0 || len(b.cfg.Bootstrap) == 0 {
		return nil, nil
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.cfg.Bootstrap...), kgo.Dialer(b.dialer.DialContext),
		kgo.ClientID(fmt.Sprintf("samsa-node-%d", b.cfg.NodeID)), kgo.RequestRetries(0))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), discoveryTimeout)
	defer cancel()
	for {
		for _, seed := range cl.SeedBrokers() {
			if voters := askVoterSet(ctx, seed); len(voters) > 0 {
				b.cfg.Voters = voters
				b.log.Info("found the metadata quorum's voters", "bootstrap", b.cfg.Bootstrap, "voters", voters)
				return nil, nil
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("no controller answered at controller.quorum.bootstrap.servers %v within %v", b.cfg.Bootstrap, discoveryTimeout)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// askVoterSet asks one bootstrap server's DescribeQuorum (v2, which lists
// the voters' listeners) for the voter set; nil when it did not answer.
func askVoterSet(ctx context.Context, seed *kgo.Broker) []Voter {
	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	resp, err := seed.Request(rctx, describeQuorumRequest())
	if err != nil {
		return nil
	}
	var voters []Voter
	for _, n := range resp.(*kmsg.DescribeQuorumResponse).Nodes {
		if len(n.Listeners) > 0 {
			l := n.Listeners[0]
			voters = append(voters, Voter{ID: n.NodeID, Addr: net.JoinHostPort(l.Host, strconv.Itoa(int(l.Port)))})
		}
	}
	return voters
}
