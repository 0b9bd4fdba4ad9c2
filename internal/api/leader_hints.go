package api

// KIP-951 (Produce v10+, Fetch v16+): a partition answered with
// NOT_LEADER_OR_FOLLOWER or FENCED_LEADER_EPOCH names its current leader and
// leader epoch, and the response lists that leader's endpoint on the
// client's listener, so a client moves to the new leader without waiting
// for a metadata refresh. Older versions leave the fields out.

import (
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/samsa-io/samsa/internal/metadata"
)

// hintsLeader reports whether an error code gets a leader hint.
func hintsLeader(code int16) bool {
	return code == kerr.NotLeaderForPartition.Code || code == kerr.FencedLeaderEpoch.Code
}

// leaderOf is a partition's leader and leader epoch in im, -1 and -1 when
// unknown or leaderless.
func leaderOf(im *metadata.Image, topic string, partition int32) (leader, epoch int32) {
	if t := im.Topic(topic); t != nil && partition >= 0 && int(partition) < len(t.Partitions) {
		if p := t.Partitions[partition]; p.Leader >= 0 {
			return p.Leader, p.LeaderEpoch
		}
	}
	return -1, -1
}

// hintedBrokers calls add once for each distinct leader id of ids that is
// registered and unfenced, with its endpoint on the client's listener.
func hintedBrokers(im *metadata.Image, listener string, ids []int32, add func(b metadata.BrokerRecord, ep metadata.Endpoint)) {
	if len(ids) == 0 {
		return // the common case: a produce or fetch with no hint to give
	}
	seen := map[int32]bool{}
	for _, id := range ids {
		if id < 0 || seen[id] {
			continue
		}
		seen[id] = true
		if b, ok := im.Broker(id); ok && !b.Fenced {
			if ep, ok := b.Endpoint(listener); ok {
				add(b, ep)
			}
		}
	}
}
