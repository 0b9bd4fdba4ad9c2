package txn

import "github.com/twmb/franz-go/pkg/kmsg"

// State is a transactional id's state, Kafka's TransactionState; its value
// is the id stored in __transaction_state (kmsg.TransactionState).
type State int8

// Kafka's states and their ids (TransactionState.java).
const (
	Empty             = State(kmsg.TransactionStateEmpty)
	Ongoing           = State(kmsg.TransactionStateOngoing)
	PrepareCommit     = State(kmsg.TransactionStatePrepareCommit)
	PrepareAbort      = State(kmsg.TransactionStatePrepareAbort)
	CompleteCommit    = State(kmsg.TransactionStateCompleteCommit)
	CompleteAbort     = State(kmsg.TransactionStateCompleteAbort)
	Dead              = State(kmsg.TransactionStateDead)
	PrepareEpochFence = State(kmsg.TransactionStatePrepareEpochFence)
)

// String is the name DescribeTransactions and ListTransactions show.
func (s State) String() string {
	switch s {
	case Empty:
		return "Empty"
	case Ongoing:
		return "Ongoing"
	case PrepareCommit:
		return "PrepareCommit"
	case PrepareAbort:
		return "PrepareAbort"
	case CompleteCommit:
		return "CompleteCommit"
	case CompleteAbort:
		return "CompleteAbort"
	case Dead:
		return "Dead"
	case PrepareEpochFence:
		return "PrepareEpochFence"
	}
	return "Unknown"
}

// stateByName parses a ListTransactions state filter (case-sensitive, as
// Kafka's TransactionState.fromName).
func stateByName(name string) (State, bool) {
	for s := Empty; s <= PrepareEpochFence; s++ {
		if s.String() == name {
			return s, true
		}
	}
	return 0, false
}

// preparing reports a state whose markers are being written.
func (s State) preparing() bool { return s == PrepareCommit || s == PrepareAbort }

// complete reports a state with no transaction open.
func (s State) complete() bool { return s == CompleteCommit || s == CompleteAbort }

// expirable reports the states transactional.id.expiration.ms may expire
// (Kafka's isExpirationAllowed).
func (s State) expirable() bool { return s == Empty || s.complete() }

// validPrevious reports whether Kafka allows a transition from prev to s
// (TransactionState.validPreviousStates).
func (s State) validPrevious(prev State) bool {
	switch s {
	case Empty:
		return prev == Empty || prev.complete()
	case Ongoing:
		return prev == Ongoing || prev == Empty || prev.complete()
	case PrepareCommit:
		return prev == Ongoing
	case PrepareAbort:
		return prev == Ongoing || prev == PrepareEpochFence || prev == Empty || prev.complete()
	case CompleteCommit:
		return prev == PrepareCommit
	case CompleteAbort:
		return prev == PrepareAbort
	case Dead:
		return prev == Empty || prev.complete()
	case PrepareEpochFence:
		return prev == Ongoing
	}
	return false
}
