package consume

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-io/samsa/internal/cli/kit"
)

// groupState is what a consumer in a group (-g) knows of its assignment.
// The group's callbacks run on franz-go's goroutines, so mu guards it and
// the plan's next offsets.
type groupState struct {
	group string
	mu    struct {
		sync.Mutex
		assigned map[string]map[int32]bool
		once     bool // assigned partitions at least once
		touched  map[string]map[int32]bool
	}
}

func newGroupState(group string) *groupState {
	g := &groupState{group: group}
	g.mu.assigned = map[string]map[int32]bool{}
	g.mu.touched = map[string]map[int32]bool{}
	return g
}

// groupFetchWait is how long the broker may hold a member's fetch when it
// has nothing: leaving the group waits for the fetch in flight, so this is
// Kafka's consumer default (fetch.max.wait.ms) rather than franz-go's 5 s.
const groupFetchWait = 500 * time.Millisecond

// groupOpts are the client options of a group member: franz-go's group
// consumer, committing only what was marked (printed) and, on a revoke,
// committing at once so that the next owner starts after it.
func (c *consumer) groupOpts(topics []string, spec startSpec) []kgo.Opt {
	return []kgo.Opt{
		kgo.ConsumerGroup(c.grp.group),
		kgo.ConsumeTopics(topics...),
		kgo.ConsumeResetOffset(spec.resetOffset()),
		kgo.AutoCommitMarks(),
		kgo.OnPartitionsAssigned(c.assigned),
		kgo.OnPartitionsRevoked(c.revoked),
		kgo.OnPartitionsLost(c.lost),
		kgo.FetchMaxWait(groupFetchWait),
	}
}

// startFromCommits moves the plan of every partition the group has
// committed to its commit, which is where the member will start.
func (c *consumer) startFromCommits(ctx context.Context, adm *kadm.Client, topics []string) error {
	fo, err := adm.FetchOffsetsForTopics(ctx, c.grp.group, topics...)
	if err == nil {
		err = fo.Error()
	}
	if err != nil {
		return fmt.Errorf("fetching the offsets of group %s: %s", c.grp.group, kit.Explain(err, ""))
	}
	c.grp.mu.Lock()
	defer c.grp.mu.Unlock()
	fo.Each(func(o kadm.OffsetResponse) {
		if pl := c.plan[o.Topic][o.Partition]; pl != nil && o.At >= 0 && !c.grp.mu.touched[o.Topic][o.Partition] {
			pl.next, pl.committed = o.At, true
		}
	})
	return nil
}

func (c *consumer) assigned(ctx context.Context, cl *kgo.Client, ps map[string][]int32) {
	// Another member may have committed since the start: refresh where the
	// newly assigned partitions begin.
	fctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	topics := make([]string, 0, len(ps))
	for t := range ps {
		topics = append(topics, t)
	}
	if err := c.startFromCommits(fctx, kadm.NewClient(cl), topics); err != nil && ctx.Err() == nil {
		fmt.Fprintf(c.stderr, "samsa: %v\n", err)
	}
	c.grp.mu.Lock()
	defer c.grp.mu.Unlock()
	c.grp.mu.once = true
	for t, parts := range ps {
		if c.grp.mu.assigned[t] == nil {
			c.grp.mu.assigned[t] = map[int32]bool{}
		}
		for _, p := range parts {
			c.grp.mu.assigned[t][p] = true
		}
	}
}

func (c *consumer) revoked(ctx context.Context, cl *kgo.Client, ps map[string][]int32) {
	if err := cl.CommitMarkedOffsets(ctx); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintf(c.stderr, "samsa: committing before giving up partitions: %v\n", err)
	}
	c.lost(ctx, cl, ps)
}

func (c *consumer) lost(_ context.Context, _ *kgo.Client, ps map[string][]int32) {
	c.grp.mu.Lock()
	defer c.grp.mu.Unlock()
	for t, parts := range ps {
		for _, p := range parts {
			delete(c.grp.mu.assigned[t], p)
		}
	}
}

// touchLocked records that the member read past a record of the
// partition, so that a late refresh from the group's commits does not move
// it back. mu is held.
func (g *groupState) touchLocked(topic string, partition int32) {
	if g.mu.touched[topic] == nil {
		g.mu.touched[topic] = map[int32]bool{}
	}
	g.mu.touched[topic][partition] = true
}

// groupDone is done() for a group member with -e: it was given partitions,
// and each it holds reached the end it had when the command started.
func (c *consumer) groupDone() bool {
	c.grp.mu.Lock()
	defer c.grp.mu.Unlock()
	if !c.grp.mu.once {
		return false
	}
	for t, ps := range c.grp.mu.assigned {
		for p := range ps {
			if pl := c.plan[t][p]; pl != nil && pl.next < pl.end {
				return false
			}
		}
	}
	return true
}

// commitAtExit commits what was printed and, for partitions held without
// a commit and read nothing from, where the member stands in them (as
// Kafka's consumer commits its position), so that `samsa group describe`
// shows the lag of every partition.
func (c *consumer) commitAtExit(ctx context.Context) error {
	c.grp.mu.Lock()
	marks := map[string]map[int32]kgo.EpochOffset{}
	for t, ps := range c.grp.mu.assigned {
		for p := range ps {
			pl := c.plan[t][p]
			if pl == nil || pl.committed || c.grp.mu.touched[t][p] {
				continue
			}
			if marks[t] == nil {
				marks[t] = map[int32]kgo.EpochOffset{}
			}
			marks[t][p] = kgo.EpochOffset{Epoch: -1, Offset: pl.next}
		}
	}
	c.grp.mu.Unlock()
	if len(marks) > 0 {
		c.cl.MarkCommitOffsets(marks)
	}
	if err := c.cl.CommitMarkedOffsets(ctx); err != nil {
		return fmt.Errorf("committing the offsets of group %s: %w", c.grp.group, err)
	}
	return nil
}
