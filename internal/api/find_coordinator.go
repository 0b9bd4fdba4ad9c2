package api

// FindCoordinator (key 10; batched keys from v4, KIP-699). Group keys
// (type 0) name this node once it leads the group's partition of
// __consumer_offsets, which the first request creates. Transaction keys
// (type 1, KIP-98) name the leader of the id's partition of
// __transaction_state, likewise created on first use.
//
// librdkafka before 2.10 enables LZ4 only on brokers that list this API
// (measured with kcat on librdkafka 2.0.2), another reason it is listed.

import (
	"context"
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(kmsg.FindCoordinator, 0, 6, handleFindCoordinator) }

// coordinatorFound is one key's answer.
type coordinatorFound struct {
	node int32
	host string
	port int32
	code int16
	msg  *string
}

func handleFindCoordinator(_ context.Context, h *Handler, c *Client, req kmsg.Request) reply {
	r := req.(*kmsg.FindCoordinatorRequest)
	return waitFor(func(ctx context.Context) kmsg.Response {
		resp := r.ResponseKind().(*kmsg.FindCoordinatorResponse)
		if r.Version < 4 {
			f := h.findCoordinator(ctx, c, r.CoordinatorType, r.CoordinatorKey)
			resp.NodeID, resp.Host, resp.Port, resp.ErrorCode, resp.ErrorMessage = f.node, f.host, f.port, f.code, f.msg
			return resp
		}
		for _, key := range r.CoordinatorKeys {
			f := h.findCoordinator(ctx, c, r.CoordinatorType, key)
			rc := kmsg.NewFindCoordinatorResponseCoordinator()
			rc.Key, rc.NodeID, rc.Host, rc.Port, rc.ErrorCode, rc.ErrorMessage = key, f.node, f.host, f.port, f.code, f.msg
			resp.Coordinators = append(resp.Coordinators, rc)
		}
		return resp
	})
}

func (h *Handler) findCoordinator(ctx context.Context, c *Client, typ int8, key string) coordinatorFound {
	fail := func(err error) coordinatorFound {
		return coordinatorFound{node: -1, code: errCode(err), msg: errMessage(err)}
	}
	var locate func(ctx context.Context, key string) (int32, error)
	switch {
	case typ == 1 && h.deps.Transactions != nil:
		locate = h.deps.Transactions.Coordinator
	case typ == 0 && h.deps.Groups != nil:
		locate = h.deps.Groups.Coordinator
	case typ == 0 || typ == 1:
		return fail(kerr.CoordinatorNotAvailable)
	default:
		return fail(kerr.InvalidRequest)
	}
	node, err := locate(ctx, key)
	if err != nil {
		if !errors.Is(err, kerr.CoordinatorNotAvailable) && !errors.Is(err, kerr.NotCoordinator) {
			err = errors.Join(kerr.CoordinatorNotAvailable, err)
		}
		return fail(err)
	}
	for _, b := range brokersOf(h.image(), c.Listener) {
		if b.NodeID == node {
			return coordinatorFound{node: node, host: b.Host, port: b.Port}
		}
	}
	return fail(kerr.CoordinatorNotAvailable)
}
