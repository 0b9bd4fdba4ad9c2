package controller

// Broker state changes and what they do to partitions, after Kafka's
// ReplicationControlManager (handleBrokerFenced, handleBrokerUnfenced,
// handleBrokerInControlledShutdown; KIP-631, KIP-841): a fenced or
// shutting-down broker leaves every ISR and leadership, and an unfenced
// broker leads the leaderless partitions whose ISR holds it.

import (
	"slices"
	"strconv"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/samsa-io/samsa/internal/metadata"
)

// batch is records being planned together with the image they make, so
// each step plans against the steps before it (fencing two brokers in one
// entry elects no leader on the first one fenced).
type batch struct {
	im   *metadata.Image
	recs []metadata.Record
}

func newBatch(im *metadata.Image) *batch { return &batch{im: im} }

// add applies recs to the planned image. Records are planned against that
// image, so a failure is a controller bug; nothing is kept then.
func (b *batch) add(recs ...metadata.Record) error {
	if len(recs) == 0 {
		return nil
	}
	next, err := b.im.Apply(b.im.Index, recs)
	if err != nil {
		return errorf(kerr.UnknownServerError, "planned records do not apply: %v", err)
	}
	b.im, b.recs = next, append(b.recs, recs...)
	return nil
}

// isActive reports whether a broker may lead and join ISRs: registered,
// unfenced and not shutting down (Kafka's ClusterControlManager.isActive).
func isActive(im *metadata.Image, id int32) bool {
	b, ok := im.Broker(id)
	return ok && !b.Fenced && !b.InControlledShutdown
}

func activeIn(im *metadata.Image) func(int32) bool {
	return func(id int32) bool { return isActive(im, id) }
}

// uncleanEnabled is unclean.leader.election.enable for a topic: the
// topic's config, else the cluster-wide dynamic broker config, else the
// static one (Kafka's uncleanLeaderElectionEnabledForTopic).
func (c *Controller) uncleanEnabled(im *metadata.Image, topic string) bool {
	const name = "unclean.leader.election.enable"
	for _, m := range []map[string]string{im.TopicConfigs(topic), im.Configs(metadata.ConfigKey{Type: metadata.ResourceBroker})} {
		if v, ok := m[name]; ok {
			b, err := strconv.ParseBool(v)
			return err == nil && b
		}
	}
	return c.cfg.UncleanLeaderElection
}

// partitionChange starts a change of a topic's partition that tracks its
// eligible leader replicas, with the topic's min.insync.replicas capped at
// the replication factor (Kafka's effectiveMinIsr).
func (c *Controller) partitionChange(im *metadata.Image, t *metadata.Topic, p int, acceptable func(int32) bool) *change {
	ch := newChange(t.Partitions[p], acceptable)
	ch.minISR = max(1, min(c.cfg.MinInsyncReplicas(im, t.Name), len(ch.replicas)))
	return ch
}

// topicChange is partitionChange with the topic's unclean election
// setting.
func (c *Controller) topicChange(im *metadata.Image, t *metadata.Topic, p int, acceptable func(int32) bool) *change {
	ch := c.partitionChange(im, t, p, acceptable)
	if c.uncleanEnabled(im, t.Name) {
		ch.election = electUnclean
	}
	return ch
}

func partitionRecord(t *metadata.Topic, p int, next metadata.Partition) metadata.Record {
	rec := next.Record(t.ID, int32(p))
	return metadata.Record{Partition: &rec}
}

// leaveAll removes broker id from every ISR (into the ELR while the ISR is
// below min.insync.replicas) and moves its leaderships, electing among the
// other active replicas. A broker restarted after an unclean shutdown
// leaves the ELRs too, where another replica stays eligible.
func (c *Controller) leaveAll(b *batch, id int32, unclean bool) error {
	im := b.im
	active := activeIn(im)
	acceptable := func(r int32) bool { return r != id && active(r) }
	var recs []metadata.Record
	for _, name := range im.TopicNames() {
		t := im.Topic(name)
		for i, p := range t.Partitions {
			if !slices.Contains(p.ISR, id) && p.Leader != id && !(unclean && slices.Contains(p.ELR, id)) {
				continue
			}
			ch := c.topicChange(im, t, i, acceptable)
			ch.isr = without(p.ISR, id)
			if unclean {
				ch.uncleanShutdown = id
			}
			if next, ok := ch.build(); ok {
				recs = append(recs, partitionRecord(t, i, next))
			}
		}
	}
	return b.add(recs...)
}

// electLeaderless elects leaders where there are none, after a broker
// became active.
func (c *Controller) electLeaderless(b *batch) error {
	im := b.im
	var recs []metadata.Record
	for _, name := range im.TopicNames() {
		t := im.Topic(name)
		for i, p := range t.Partitions {
			if p.Leader != metadata.NoLeader {
				continue
			}
			if next, ok := c.topicChange(im, t, i, activeIn(im)).build(); ok {
				recs = append(recs, partitionRecord(t, i, next))
			}
		}
	}
	return b.add(recs...)
}

func brokerChange(b metadata.BrokerRecord, fenced, shuttingDown *bool) metadata.Record {
	return metadata.Record{BrokerChange: &metadata.BrokerChangeRecord{
		ID: b.ID, Epoch: b.Epoch, Fenced: fenced, InControlledShutdown: shuttingDown}}
}

func ptr[T any](v T) *T { return &v }

// fence fences a registered broker: it leaves every ISR and leadership.
func (c *Controller) fence(b *batch, id int32) error {
	reg, _ := b.im.Broker(id)
	if err := c.leaveAll(b, id, false); err != nil {
		return err
	}
	return b.add(brokerChange(reg, ptr(true), ptr(false)))
}

// unfence lets a broker lead and join ISRs again, and elects it where a
// partition has no leader and its ISR holds it.
func (c *Controller) unfence(b *batch, id int32) error {
	reg, _ := b.im.Broker(id)
	if err := b.add(brokerChange(reg, ptr(false), nil)); err != nil {
		return err
	}
	return c.electLeaderless(b)
}

// shutDown starts a broker's controlled shutdown: it leaves every ISR
// and leadership but stays registered and unfenced until it stops.
func (c *Controller) shutDown(b *batch, id int32) error {
	reg, _ := b.im.Broker(id)
	if err := b.add(brokerChange(reg, nil, ptr(true))); err != nil {
		return err
	}
	return c.leaveAll(b, id, false)
}

// leads reports whether a broker leads any partition.
func leads(im *metadata.Image, id int32) bool {
	for _, name := range im.TopicNames() {
		for _, p := range im.Topic(name).Partitions {
			if p.Leader == id {
				return true
			}
		}
	}
	return false
}
