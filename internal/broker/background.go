package broker

import (
	"context"
	"time"
)

// startBackground runs the periodic log work, each on its own ticker:
// flush.ms checks (page-cache mode), retention and compaction
// (log.retention.check.interval.ms), and offset checkpoints
// (log.flush.offset.checkpoint.interval.ms), and the expiry of idle
// producer ids (producer.id.expiration.check.interval.ms). Close stops them.
func (b *Broker) startBackground() {
	b.every(b.cfg.FlushCheck, "flush", func() error {
		for _, p := range b.parts.Partitions() {
			if err := p.Log().MaybeFlush(); err != nil {
				return err
			}
		}
		return nil
	})
	b.every(b.cfg.RetentionCheck, "retention and compaction", b.dir.Maintain)
	b.every(b.cfg.CheckpointInterval, "checkpoint", b.checkpoint)
	b.every(b.cfg.ProducerIDExpirationCheck, "producer id expiration", b.expireProducers)
	b.every(b.cfg.ReplicaLagMax/2, "ISR check", func() error { b.parts.CheckISR(b.cfg.Now()); return nil })
	var wasActive bool
	b.every(controllerTick, "controller", func() error { return b.tickController(&wasActive) })
	if b.transport != nil && b.cfg.Roles.Controller {
		b.every(learnerTick, "learners", b.syncLearners)
	}
}

// controllerTick is how often the active controller checks broker
// sessions and leader balance: well within broker.session.timeout.ms.
const controllerTick = 250 * time.Millisecond

// tickController runs the controller's timed work while this node is the
// active controller; a node that just became it starts every broker's
// session afresh (Kafka's BrokerHeartbeatManager does the same).
func (b *Broker) tickController(wasActive *bool) error {
	active := b.activeController()
	if active && !*wasActive {
		b.ctrl.Activate()
	}
	if *wasActive = active; !active {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return b.ctrl.Tick(ctx, b.cfg.Now())
}

func (b *Broker) every(d time.Duration, what string, fn func() error) {
	b.bg.Add(1)
	go func() {
		defer b.bg.Done()
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-b.stop:
				return
			case <-t.C:
				if err := fn(); err != nil {
					b.log.Error("background log work failed", "work", what, "err", err)
				}
			}
		}
	}()
}

// checkpoint writes the log directory's checkpoint files, with each
// partition's high watermark as of now (replication-offset-checkpoint).
func (b *Broker) checkpoint() error {
	b.parts.RecordHighWatermarks()
	return b.dir.Checkpoint()
}
