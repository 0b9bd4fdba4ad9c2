package broker

// A partition leader's transaction verification in a cluster (KIP-890,
// Kafka's AddPartitionsToTxnManager): before it appends a transactional
// batch of a producer with no transaction open in the partition, the
// leader sends AddPartitionsToTxn v4+ (verify, or add under transactions
// v2) to the coordinator of the batch's transactional id. The API layer
// asks this node's txnView; here each transaction goes to the node
// leading its __transaction_state partition in the metadata image: this
// one's coordinator, or the other node over its broker listener through
// the replica fetchers' client of that broker. A forwarded request
// carries forwardedTag and is answered where it lands, never forwarded
// again, so two nodes whose images disagree for a moment about the
// leader cannot pass it back and forth; the coordinator there answers
// NOT_COORDINATOR, which the leader turns into NOT_ENOUGH_REPLICAS for
// the producer to retry.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/internal/coordinator"
)

// forwardedTag is the tagged field (unknown to Kafka, which skips it)
// marking an AddPartitionsToTxn forwarded by another node.
const forwardedTag = 0x53414d53 // "SAMS"

// addPartitionsToTxn answers an AddPartitionsToTxn: v0-3 (from clients)
// and forwarded ones here, v4+ from this node's partitions at each
// transaction's coordinator.
func (b *Broker) addPartitionsToTxn(ctx context.Context, r *kmsg.AddPartitionsToTxnRequest) *kmsg.AddPartitionsToTxnResponse {
	if r.Version < 4 || isForwarded(r) {
		return b.txn.AddPartitionsToTxn(ctx, r)
	}
	t := b.store.Image().Topic(coordinator.TxnTopic)
	byNode := map[int32][]kmsg.AddPartitionsToTxnRequestTransaction{}
	var order []int32
	resp := r.ResponseKind().(*kmsg.AddPartitionsToTxnResponse)
	resp.Version = r.Version
	for _, tx := range r.Transactions {
		node := int32(-1)
		if p := b.txn.PartitionFor(tx.TransactionalID); t != nil && int(p) < len(t.Partitions) {
			node = t.Partitions[p].Leader
		}
		if node < 0 {
			resp.Transactions = append(resp.Transactions, coordinator.TxnFailed(tx, kerr.CoordinatorNotAvailable.Code))
			continue
		}
		if byNode[node] == nil {
			order = append(order, node)
		}
		byNode[node] = append(byNode[node], tx)
	}
	for _, node := range order {
		sub := *r
		sub.Transactions = byNode[node]
		var got *kmsg.AddPartitionsToTxnResponse
		if node == b.cfg.NodeID {
			got = b.txn.AddPartitionsToTxn(ctx, &sub)
		} else {
			got = b.forwardAddPartitions(ctx, node, &sub)
		}
		if resp.ErrorCode == 0 {
			resp.ErrorCode = got.ErrorCode
		}
		resp.Transactions = append(resp.Transactions, got.Transactions...)
	}
	return resp
}

func isForwarded(r *kmsg.AddPartitionsToTxnRequest) bool {
	forwarded := false
	r.UnknownTags.Each(func(key uint32, _ []byte) {
		forwarded = forwarded || key == forwardedTag
	})
	return forwarded
}

// forwardAddPartitions sends r to node, the coordinator of its
// transactions; a failed request answers NETWORK_EXCEPTION.
func (b *Broker) forwardAddPartitions(ctx context.Context, node int32, r *kmsg.AddPartitionsToTxnRequest) *kmsg.AddPartitionsToTxnResponse {
	fail := func(err error) *kmsg.AddPartitionsToTxnResponse {
		if ctx.Err() == nil {
			b.log.Debug("forwarding AddPartitionsToTxn failed", "coordinator", node, "err", err)
		}
		resp := r.ResponseKind().(*kmsg.AddPartitionsToTxnResponse)
		for _, tx := range r.Transactions {
			resp.Transactions = append(resp.Transactions, coordinator.TxnFailed(tx, kerr.NetworkException.Code))
		}
		return resp
	}
	cl, err := b.leaders.client(node)
	if err != nil {
		return fail(err)
	}
	fwd := *r
	fwd.UnknownTags = kmsg.Tags{}
	fwd.UnknownTags.Set(forwardedTag, nil)
	got, err := cl.SeedBrokers()[0].Request(ctx, &fwd)
	if err != nil {
		return fail(err)
	}
	return got.(*kmsg.AddPartitionsToTxnResponse)
}
