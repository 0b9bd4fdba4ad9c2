package txn

import (
	"fmt"
	"maps"
)

type pidEpoch struct {
	pid   int64
	epoch int16
}

// invariants checks, after every operation, what must always hold:
//   - a producer id's epoch never goes backwards for an id;
//   - with transactions v2 a producer id and epoch prepares (and so
//     completes) at most one outcome, once;
//   - Empty and Complete* transactions hold no partition, and a prepared
//     one has its markers on their way;
//   - the state equals the replay of the records written so far.
type invariants struct {
	epochs   map[string]pidEpoch
	prepared map[pidEpoch]State
}

func newInvariants() invariants {
	return invariants{epochs: map[string]pidEpoch{}, prepared: map[pidEpoch]State{}}
}

func (inv *invariants) check(s *Shard, fx Effects, cfg Config, records []Record) error {
	for _, r := range fx.Records {
		if err := inv.checkRecord(r); err != nil {
			return err
		}
	}
	for id, t := range s.txns {
		if err := inv.checkTxn(id, t); err != nil {
			return err
		}
	}
	return checkReplay(s, cfg, records)
}

func (inv *invariants) checkRecord(r Record) error {
	if r.Value == nil {
		return nil
	}
	var id string
	t, err := decodeValue(id, r.Value)
	if err != nil {
		return err
	}
	if !t.state.preparing() || t.tv < 2 {
		return nil
	}
	pe := pidEpoch{t.producerID, t.epoch}
	if prev, ok := inv.prepared[pe]; ok {
		return fmt.Errorf("producer %d epoch %d prepared twice: %s then %s", pe.pid, pe.epoch, prev, t.state)
	}
	inv.prepared[pe] = t.state
	return nil
}

func (inv *invariants) checkTxn(id string, t *txnMeta) error {
	switch {
	case (t.state == Empty || t.state.complete()) && len(t.partitions) > 0:
		return fmt.Errorf("%s holds partitions in %s", id, t.state)
	case t.state.preparing() && t.markers == nil:
		return fmt.Errorf("%s is %s without markers", id, t.state)
	case !t.state.preparing() && t.markers != nil:
		return fmt.Errorf("%s is %s with markers", id, t.state)
	}
	last, ok := inv.epochs[id]
	if ok && last.pid == t.producerID && t.epoch < last.epoch {
		return fmt.Errorf("%s: producer %d epoch went back from %d to %d", id, t.producerID, last.epoch, t.epoch)
	}
	inv.epochs[id] = pidEpoch{t.producerID, t.epoch}
	return nil
}

// checkReplay rebuilds a shard from the records and compares every
// persistent field (the last epoch is not stored, as in Kafka).
func checkReplay(s *Shard, cfg Config, records []Record) error {
	r := NewShard(cfg, 0)
	for _, rec := range records {
		if err := r.Replay(rec.Key, rec.Value); err != nil {
			return err
		}
	}
	if len(r.txns) != len(s.txns) {
		return fmt.Errorf("replay has %d ids, the shard %d", len(r.txns), len(s.txns))
	}
	for id, t := range s.txns {
		got := r.txns[id]
		if got == nil {
			return fmt.Errorf("replay lacks %s", id)
		}
		a, b := persisted(t), persisted(got)
		if cfg.TransactionVersion < 1 { // value version 0 has no tagged fields
			a.prev, a.next, a.tv = b.prev, b.next, b.tv
		}
		if a != b || !maps.Equal(t.partitions, got.partitions) {
			return fmt.Errorf("replay of %s:\n got %+v %v\nwant %+v %v", id, b, got.partitions, a, t.partitions)
		}
	}
	return nil
}

type persistedTxn struct {
	id              string
	pid, prev, next int64
	epoch           int16
	timeout         int32
	state           State
	start, update   int64
	tv              int16
}

func persisted(t *txnMeta) persistedTxn {
	return persistedTxn{t.id, t.producerID, t.prevProducerID, t.nextProducerID, t.epoch, t.timeoutMs, t.state, t.startMs, t.updateMs, t.tv}
}
