package txn

import (
	"fmt"
	"time"
)

// ProducerIDs hands out producer ids that never repeat across the
// cluster's life (Kafka's ProducerIdManager; Samsa allocates blocks of them
// through the metadata quorum). Next may fail while no block is available:
// an error wrapping a kerr.Error is answered with that code, any other with
// COORDINATOR_LOAD_IN_PROGRESS, the retriable error Kafka's
// RPCProducerIdManager throws while it waits for a block.
type ProducerIDs interface {
	Next() (int64, error)
}

// Config holds the broker settings the transaction coordinator obeys
// (Kafka's names with each field).
type Config struct {
	// MaxTimeout is transaction.max.timeout.ms: the largest
	// transaction.timeout.ms a producer may ask for.
	MaxTimeout time.Duration
	// IDExpiration is transactional.id.expiration.ms: an id idle (Empty,
	// CompleteCommit or CompleteAbort) this long is forgotten.
	IDExpiration time.Duration
	// TransactionVersion is the cluster's finalized transaction.version
	// feature level: 2 (Kafka 4's default) bumps the epoch when the
	// coordinator itself aborts (timeouts, fencing); from 1 the records are
	// written as value version 1 (flexible, with tagged fields).
	TransactionVersion int16
	// MarkerRetryBackoff is how long a marker write that failed with a
	// retriable error waits before it is sent again (Kafka retries on its
	// send thread's next round, bounded by retry.backoff.ms).
	MarkerRetryBackoff time.Duration
	// ProducerIDs allocates producer ids.
	ProducerIDs ProducerIDs
}

// DefaultConfig returns Kafka's defaults; ProducerIDs must still be set.
func DefaultConfig() Config {
	return Config{
		MaxTimeout:         15 * time.Minute,
		IDExpiration:       7 * 24 * time.Hour,
		TransactionVersion: 2,
		MarkerRetryBackoff: 100 * time.Millisecond,
	}
}

// Validate reports settings Kafka would refuse.
func (c Config) Validate() error {
	switch {
	case c.MaxTimeout <= 0:
		return fmt.Errorf("txn: transaction.max.timeout.ms %v must be positive", c.MaxTimeout)
	case c.IDExpiration <= 0:
		return fmt.Errorf("txn: transactional.id.expiration.ms %v must be positive", c.IDExpiration)
	case c.TransactionVersion < 0 || c.TransactionVersion > 2:
		return fmt.Errorf("txn: transaction.version %d is not 0, 1 or 2", c.TransactionVersion)
	case c.MarkerRetryBackoff <= 0:
		return fmt.Errorf("txn: marker retry backoff %v must be positive", c.MarkerRetryBackoff)
	case c.ProducerIDs == nil:
		return fmt.Errorf("txn: no producer id allocator")
	}
	return nil
}
