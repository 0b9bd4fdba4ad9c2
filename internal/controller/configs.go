package controller

// Config changes: AlterConfigs (whole set replaced) and
// IncrementalAlterConfigs (KIP-339: SET, DELETE, APPEND, SUBTRACT), for
// topics and brokers. A broker resource named "" is the cluster-wide
// default (DYNAMIC_DEFAULT_BROKER_CONFIG).

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/samsa-io/samsa/internal/metadata"
)

// Incremental operations, with IncrementalAlterConfigs' codes.
const (
	OpSet      int8 = 0
	OpDelete   int8 = 1
	OpAppend   int8 = 2
	OpSubtract int8 = 3
)

// ConfigOp is one change to one config.
type ConfigOp struct {
	Name  string
	Op    int8
	Value *string
}

// ConfigChange is the change to one resource.
type ConfigChange struct {
	Type int8 // metadata.ResourceTopic or metadata.ResourceBroker
	Name string
	// Incremental applies Ops to the current overrides; otherwise the Ops
	// (all sets) replace every override of the resource.
	Incremental bool
	Ops         []ConfigOp
}

// AlterConfigs applies config changes; each resource succeeds or fails on
// its own.
// A resource named twice in one request fails both times with
// INVALID_REQUEST, as in Kafka.
func (c *Controller) AlterConfigs(ctx context.Context, changes []ConfigChange, validateOnly bool) []error {
	key := func(ch ConfigChange) string { return fmt.Sprintf("%d/%s", ch.Type, ch.Name) }
	dup := repeated(changes, key)
	return planEach(c, ctx, changes, validateOnly, func(im *metadata.Image, ch ConfigChange) ([]metadata.Record, error) {
		if dup[key(ch)] {
			return nil, errorf(kerr.InvalidRequest, "resource %q appears more than once in the request", ch.Name)
		}
		touches := func(name string) bool {
			return slices.ContainsFunc(ch.Ops, func(op ConfigOp) bool { return op.Name == name })
		}
		if touches("unclean.leader.election.enable") {
			c.nextUnclean = time.Time{} // under mu: take the change into account at the next Tick
		}
		recs, err := c.planConfigs(im, ch)
		if err == nil && touches("min.insync.replicas") {
			recs = append(recs, clearELR(im, ch)...)
		}
		return recs, err
	})
}

// clearELR empties the eligible leader replicas of the partitions whose
// min.insync.replicas the change may move (Kafka's ClearElrRecord): an ELR
// member is only known to hold the committed records while the high
// watermark stands still under the old setting.
func clearELR(im *metadata.Image, ch ConfigChange) []metadata.Record {
	var recs []metadata.Record
	for _, name := range im.TopicNames() {
		if ch.Type == metadata.ResourceTopic && name != ch.Name {
			continue
		}
		t := im.Topic(name)
		for i, p := range t.Partitions {
			if len(p.ELR) == 0 && len(p.LastKnownELR) == 0 {
				continue
			}
			p.ELR, p.LastKnownELR = nil, nil
			p.PartitionEpoch++
			recs = append(recs, partitionRecord(t, i, p))
		}
	}
	return recs
}

func (c *Controller) planConfigs(im *metadata.Image, ch ConfigChange) ([]metadata.Record, error) {
	validate, err := c.resourceCheck(im, ch)
	if err != nil {
		return nil, err
	}
	cur := im.Configs(metadata.ConfigKey{Type: ch.Type, Name: ch.Name})
	next, err := nextConfigs(cur, ch)
	if err != nil {
		return nil, err
	}
	if validate != nil {
		asPtrs := map[string]*string{}
		for k, v := range next {
			asPtrs[k] = &v
		}
		if err := validate(asPtrs); err != nil {
			return nil, errorf(kerr.InvalidConfig, "%v", err)
		}
	}
	return diffRecords(ch, cur, next), nil
}

func (c *Controller) resourceCheck(im *metadata.Image, ch ConfigChange) (func(map[string]*string) error, error) {
	switch ch.Type {
	case metadata.ResourceTopic:
		if im.Topic(ch.Name) == nil {
			return nil, errorf(kerr.UnknownTopicOrPartition, "no topic %q", ch.Name)
		}
		return c.cfg.ValidateTopicConfigs, nil
	case metadata.ResourceBroker:
		if ch.Name != "" {
			id, err := strconv.ParseInt(ch.Name, 10, 32)
			if _, ok := im.Broker(int32(id)); err != nil || !ok {
				return nil, errorf(kerr.InvalidRequest, "no broker %q", ch.Name)
			}
		}
		return c.cfg.ValidateBrokerConfigs, nil
	}
	return nil, errorf(kerr.InvalidRequest, "config resource type %d is not supported", ch.Type)
}

// nextConfigs computes a resource's overrides after the change.
func nextConfigs(cur map[string]string, ch ConfigChange) (map[string]string, error) {
	next := maps.Clone(cur)
	if next == nil || !ch.Incremental {
		next = map[string]string{}
	}
	seen := map[string]bool{}
	for _, op := range ch.Ops {
		if seen[op.Name] {
			return nil, errorf(kerr.InvalidRequest, "config %q appears twice", op.Name)
		}
		seen[op.Name] = true
		if !ch.Incremental {
			op.Op = OpSet
		}
		if err := applyOp(next, op); err != nil {
			return nil, err
		}
	}
	return next, nil
}

func applyOp(m map[string]string, op ConfigOp) error {
	switch op.Op {
	case OpSet:
		if op.Value == nil {
			delete(m, op.Name)
		} else {
			m[op.Name] = *op.Value
		}
	case OpDelete:
		delete(m, op.Name)
	case OpAppend, OpSubtract:
		if op.Value == nil {
			return errorf(kerr.InvalidRequest, "%s of %q needs a value", opName(op.Op), op.Name)
		}
		list := splitList(m[op.Name])
		for _, v := range splitList(*op.Value) {
			has := slices.Contains(list, v)
			if op.Op == OpAppend && !has {
				list = append(list, v)
			} else if op.Op == OpSubtract && has {
				list = slices.DeleteFunc(list, func(s string) bool { return s == v })
			}
		}
		if len(list) == 0 {
			delete(m, op.Name)
		} else {
			m[op.Name] = strings.Join(list, ",")
		}
	default:
		return errorf(kerr.InvalidRequest, "unknown config operation %d", op.Op)
	}
	return nil
}

func opName(op int8) string {
	if op == OpAppend {
		return "APPEND"
	}
	return "SUBTRACT"
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// diffRecords emits the config records that turn cur into next.
func diffRecords(ch ConfigChange, cur, next map[string]string) []metadata.Record {
	var recs []metadata.Record
	add := func(name string, v *string) {
		recs = append(recs, metadata.Record{Config: &metadata.ConfigRecord{
			ResourceType: ch.Type, ResourceName: ch.Name, Name: name, Value: v}})
	}
	for _, name := range slices.Sorted(maps.Keys(cur)) {
		if _, ok := next[name]; !ok {
			add(name, nil)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(next)) {
		if v, ok := cur[name]; !ok || v != next[name] {
			val := next[name]
			add(name, &val)
		}
	}
	return recs
}
