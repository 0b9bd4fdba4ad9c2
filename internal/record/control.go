package record

// Transaction markers (KIP-98): a control batch (attributes control and
// transactional, the producer's id and epoch, base sequence -1) holding one
// record whose key is Kafka's ControlRecordKey (version int16 0, type int16:
// 0 ABORT, 1 COMMIT) and whose value is EndTxnMarker (version int16 0,
// coordinator_epoch int32), both encoded by kmsg.

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// EndTxn is a transaction marker's content.
type EndTxn struct {
	ProducerID       int64
	ProducerEpoch    int16
	Commit           bool
	CoordinatorEpoch int32
	Timestamp        int64
}

// BuildEndTxn encodes a COMMIT or ABORT control batch at base offset 0.
func BuildEndTxn(m EndTxn) ([]byte, error) {
	k := kmsg.NewControlRecordKey()
	k.Type = kmsg.ControlRecordKeyTypeAbort
	if m.Commit {
		k.Type = kmsg.ControlRecordKeyTypeCommit
	}
	v := kmsg.NewEndTxnMarker()
	v.CoordinatorEpoch = m.CoordinatorEpoch
	return Build(BatchSpec{
		Transactional: true, Control: true, BaseTimestamp: m.Timestamp,
		ProducerID: m.ProducerID, ProducerEpoch: m.ProducerEpoch, BaseSequence: -1, LastOffsetDelta: -1,
	}, []Record{{Key: k.AppendTo(nil), Value: v.AppendTo(nil)}})
}

// ParseEndTxn decodes the marker of a control batch; a control batch of
// another type (KRaft's leader-change and snapshot records) is ErrInvalid.
func ParseEndTxn(batch []byte) (EndTxn, error) {
	h, err := ParseHeader(batch)
	if err != nil {
		return EndTxn{}, err
	}
	if !h.Control() {
		return EndTxn{}, fmt.Errorf("%w: not a control batch", ErrInvalid)
	}
	recs, err := Records(batch, 1<<10)
	if err != nil {
		return EndTxn{}, err
	}
	if len(recs) != 1 {
		return EndTxn{}, fmt.Errorf("%w: control batch of %d records", ErrInvalid, len(recs))
	}
	var k kmsg.ControlRecordKey
	if err := k.ReadFrom(recs[0].Key); err != nil {
		return EndTxn{}, fmt.Errorf("%w: control record key: %v", ErrInvalid, err)
	}
	if k.Type != kmsg.ControlRecordKeyTypeAbort && k.Type != kmsg.ControlRecordKeyTypeCommit {
		return EndTxn{}, fmt.Errorf("%w: control record type %d is not a transaction marker", ErrInvalid, k.Type)
	}
	var v kmsg.EndTxnMarker
	if err := v.ReadFrom(recs[0].Value); err != nil {
		return EndTxn{}, fmt.Errorf("%w: end transaction marker: %v", ErrInvalid, err)
	}
	return EndTxn{ProducerID: h.ProducerID, ProducerEpoch: h.ProducerEpoch, Commit: k.Type == kmsg.ControlRecordKeyTypeCommit,
		CoordinatorEpoch: v.CoordinatorEpoch, Timestamp: h.MaxTimestamp}, nil
}
