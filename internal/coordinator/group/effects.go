package group

import (
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Handle identifies a request whose response the caller is waiting for. It
// is opaque here: the runtime maps it back to a connection.
type Handle uint64

// Response is a response to deliver for the request the Handle names.
type Response struct {
	Handle Handle
	Msg    kmsg.Response
}

// Record is one key/value record for __consumer_offsets; a nil Value is a
// tombstone.
type Record struct {
	Key, Value []byte
}

// Transition reports a group changing state (for logs and metrics).
type Transition struct {
	Group      string
	From, To   State
	Generation int32
}

// Effects is what an operation asks the runtime to do: append Records, then,
// once they are durable, deliver Responses. The state already reflects them.
type Effects struct {
	Records     []Record
	Responses   []Response
	Transitions []Transition
	// Txn, when set, says Records are a transaction's offset commits: the
	// runtime appends them as one transactional batch of that producer
	// (TxnOffsetCommit), to be decided by the transaction's marker.
	Txn *TxnProducer
}

// TxnProducer is the producer of a transaction.
type TxnProducer struct {
	ID    int64
	Epoch int16
}

// Empty reports whether there is nothing to do.
func (e Effects) Empty() bool {
	return len(e.Records) == 0 && len(e.Responses) == 0 && len(e.Transitions) == 0
}

// op carries the time and the effects of one operation through the group.
type op struct {
	now time.Time
	fx  Effects
}

func (o *op) respond(h Handle, msg kmsg.Response) {
	o.fx.Responses = append(o.fx.Responses, Response{Handle: h, Msg: msg})
}

func (o *op) record(rs ...Record) {
	o.fx.Records = append(o.fx.Records, rs...)
}

// at returns now+d, never earlier than a millisecond from now, so that a
// deadline set while firing deadlines is never due in the same Tick.
func (o *op) at(d time.Duration) time.Time {
	return o.now.Add(max(d, time.Millisecond))
}

func ms(v int32) time.Duration { return time.Duration(v) * time.Millisecond }
