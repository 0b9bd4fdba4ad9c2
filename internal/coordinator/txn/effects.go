package txn

import (
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Handle identifies a request whose response the caller waits for; opaque
// here, the runtime maps it back to a connection.
type Handle uint64

// Response answers the request its Handle names.
type Response struct {
	Handle Handle
	Msg    kmsg.Response
}

// Record is one key/value record for __transaction_state; a nil Value is a
// tombstone.
type Record struct {
	Key, Value []byte
}

// TopicPartition names a partition in a transaction.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// Marker asks the runtime to write a transaction marker (a COMMIT or ABORT
// control batch) to each of Partitions, as WriteTxnMarkers asks their
// leaders, and to report each partition's outcome with MarkersWritten.
type Marker struct {
	TransactionalID  string
	ProducerID       int64
	ProducerEpoch    int16
	Commit           bool
	CoordinatorEpoch int32
	// TransactionVersion is WriteTxnMarkers v2's field: the client's
	// transaction version, which the partition leader checks the marker's
	// epoch against (strictly greater from version 2, KIP-890).
	TransactionVersion int8
	Partitions         []TopicPartition
}

// MarkerResult is the outcome of one partition's marker: the ErrorCode its
// leader answered (0 for success), or Gone when the partition no longer
// exists in the cluster's metadata (Kafka's channel manager then drops it).
type MarkerResult struct {
	TransactionalID string
	ProducerID      int64
	ProducerEpoch   int16
	Partition       TopicPartition
	ErrorCode       int16
	Gone            bool
}

// Transition reports a transactional id changing state (for logs and
// metrics).
type Transition struct {
	TransactionalID string
	From, To        State
	ProducerID      int64
	ProducerEpoch   int16
}

// Effects is what an operation asks the runtime to do: append Records,
// then, once they (and everything appended before) are durable, deliver
// Responses and send Markers. The state already reflects them.
type Effects struct {
	Records     []Record
	Responses   []Response
	Markers     []Marker
	Transitions []Transition
	// Warnings are events an operator should see (a marker write fenced by
	// a newer coordinator, a corrupt record skipped at load).
	Warnings []string
}

// Empty reports whether there is nothing to do.
func (e Effects) Empty() bool {
	return len(e.Records) == 0 && len(e.Responses) == 0 && len(e.Markers) == 0 &&
		len(e.Transitions) == 0 && len(e.Warnings) == 0
}

// op carries the time and the effects of one operation.
type op struct {
	now time.Time
	fx  Effects
}

func (o *op) respond(h Handle, msg kmsg.Response) {
	o.fx.Responses = append(o.fx.Responses, Response{Handle: h, Msg: msg})
}

func (o *op) nowMs() int64 { return o.now.UnixMilli() }
