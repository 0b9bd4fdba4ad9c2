package raft

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/samsa-io/samsa/internal/vfs"
)

// StateMachine receives the committed log. The node calls it from one
// goroutine, never concurrently.
type StateMachine interface {
	// Apply is called for each committed normal entry, in index order.
	// Indexes have gaps: raft's own entries (a new leader's empty entry,
	// configuration changes) are not passed on. data must not be modified;
	// it may be kept. An error stops the node: an entry cannot be skipped.
	Apply(index uint64, data []byte) error
	// Snapshot returns the state as of the last applied index.
	Snapshot() ([]byte, error)
	// Restore replaces the state with a snapshot's data.
	Restore(data []byte) error
}

// Transport carries messages to the other nodes. Send must not block for
// long: it runs on the node's loop. It may keep the messages (the node does
// not touch them again) and may drop them; raft retries. Inbound messages
// go to Node.Step.
type Transport interface {
	Send(msgs []*raftpb.Message)
}

// Config configures a Node.
type Config struct {
	// ID is this node's raft id, non-zero and never reused.
	ID uint64
	// Voters are the initial voters, used only when Dir holds no state yet.
	// A node started with none waits to be added by an existing cluster.
	Voters []uint64
	// Learners are the initial learners, bootstrapped with Voters (and only
	// with them): they receive the committed log but never vote or
	// campaign, as KRaft's observers. Every node of a cluster must be
	// started with the same Voters and Learners.
	Learners []uint64

	FS  vfs.FS
	Dir string

	Tick           time.Duration // default 100ms
	ElectionTicks  int           // default 10
	HeartbeatTicks int           // default 1

	// SnapshotEvery takes a snapshot and compacts the log after this many
	// applied entries. Default 10000.
	SnapshotEvery uint64
	// SegmentBytes is the size at which the WAL starts a new segment.
	// Default DefaultSegmentBytes.
	SegmentBytes int64

	Transport Transport    // nil for a cluster of one
	Logger    *slog.Logger // default slog.Default()
}

const (
	defaultTick          = 100 * time.Millisecond
	defaultElectionTicks = 10
	defaultSnapshotEvery = 10000
	// maxCatchUpEntries bounds how many entries before a snapshot stay in
	// memory for followers that are a little behind.
	maxCatchUpEntries = 5000
)

func (c Config) withDefaults() (Config, error) {
	if c.ID == 0 {
		return c, errors.New("raft: node id 0")
	}
	if err := checkMembers(c.Voters, c.Learners); err != nil {
		return c, err
	}
	if c.FS == nil || c.Dir == "" {
		return c, errors.New("raft: no file system or directory")
	}
	if c.Tick <= 0 {
		c.Tick = defaultTick
	}
	if c.HeartbeatTicks <= 0 {
		c.HeartbeatTicks = 1
	}
	if c.ElectionTicks <= 0 {
		c.ElectionTicks = defaultElectionTicks
	}
	if c.ElectionTicks <= c.HeartbeatTicks {
		return c, errors.New("raft: election ticks must exceed heartbeat ticks")
	}
	if c.SnapshotEvery == 0 {
		c.SnapshotEvery = defaultSnapshotEvery
	}
	if c.SegmentBytes <= 0 {
		c.SegmentBytes = DefaultSegmentBytes
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}

// checkMembers refuses a bootstrap membership raft would reject or
// misread: id 0, an id listed twice, learners without voters.
func checkMembers(voters, learners []uint64) error {
	if len(learners) > 0 && len(voters) == 0 {
		return errors.New("raft: learners without voters")
	}
	seen := map[uint64]bool{}
	for _, id := range append(slices.Clip(voters), learners...) {
		if id == 0 || seen[id] {
			return fmt.Errorf("raft: member id %d is zero or listed twice", id)
		}
		seen[id] = true
	}
	return nil
}
