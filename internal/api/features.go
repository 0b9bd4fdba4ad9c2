package api

// Feature flags (KIP-584) in ApiVersions v3+: the features this broker
// supports, with their level range, and the levels finalized for the
// cluster. Kafka 4.x advertises metadata.version, kraft.version,
// transaction.version, group.version and eligible.leader.replicas.version;
// Samsa advertises only the ones whose behaviour it implements:
//
//   - transaction.version 0-2, finalized at Deps.TransactionVersion (2, as
//     Kafka 4.0's default): at 2 clients run transactions v2 (KIP-890 part
//     2): Produce v12+ without AddPartitionsToTxn, the partition leader
//     adding the partition itself (produce_txn.go); TxnOffsetCommit v5
//     without AddOffsetsToTxn; EndTxn v5 bumping the epoch every
//     transaction. Older clients (librdkafka 2.0.2) do not read it and keep
//     the v1 flow, verified by KIP-890 part 1.
//   - group.version 0-1, finalized at 1: the consumer group protocol of
//     KIP-848 (ConsumerGroupHeartbeat) is served.
//
// metadata.version and kraft.version name levels of Kafka's own metadata
// log format, which Samsa's quorum does not write, so they are left out.
// A client reads finalized features only when the epoch is not -1; the
// levels never change in a running Samsa cluster, so the epoch is 0.

import "github.com/twmb/franz-go/pkg/kmsg"

// feature is one feature flag: its supported range and finalized level (0:
// not finalized, left out of FinalizedFeatures as Kafka leaves it).
type feature struct {
	name      string
	min, max  int16
	finalized int16
}

// finalizedFeaturesEpoch is the epoch of the finalized levels.
const finalizedFeaturesEpoch = 0

func (h *Handler) features() []feature {
	return []feature{
		{name: "group.version", min: 0, max: 1, finalized: 1},
		{name: "transaction.version", min: 0, max: 2, finalized: h.deps.TransactionVersion},
	}
}

// setFeatures fills an ApiVersions v3+ response's feature fields.
func (h *Handler) setFeatures(resp *kmsg.ApiVersionsResponse) {
	resp.FinalizedFeaturesEpoch = finalizedFeaturesEpoch
	for _, f := range h.features() {
		sf := kmsg.NewApiVersionsResponseSupportedFeature()
		sf.Name, sf.MinVersion, sf.MaxVersion = f.name, f.min, f.max
		resp.SupportedFeatures = append(resp.SupportedFeatures, sf)
		if f.finalized > 0 {
			ff := kmsg.NewApiVersionsResponseFinalizedFeature()
			ff.Name, ff.MinVersionLevel, ff.MaxVersionLevel = f.name, f.finalized, f.finalized
			resp.FinalizedFeatures = append(resp.FinalizedFeatures, ff)
		}
	}
}
