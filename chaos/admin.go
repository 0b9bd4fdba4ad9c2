package main

// What the suite asks the cluster: partition leaders, the active
// controller, and whether the cluster is whole again after a fault.

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// queryTimeout bounds one question to the cluster: a paused node must
// not stall the suite.
const queryTimeout = 5 * time.Second

type admin struct {
	cl    *kgo.Client
	adm   *kadm.Client
	topic string
	ids   []int
}

func newAdmin(addrs []string, topic string, ids []int) (*admin, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.MetadataMinAge(100*time.Millisecond),
		kgo.DialTimeout(time.Second), kgo.RequestRetries(2), kgo.RetryTimeout(queryTimeout))
	if err != nil {
		return nil, err
	}
	return &admin{cl: cl, adm: kadm.NewClient(cl), topic: topic, ids: ids}, nil
}

func (a *admin) Close() { a.cl.Close() }

// createTopic creates the topic (replication factor: every node,
// min.insync.replicas 2), retrying while the cluster is still forming.
func (a *admin) createTopic(ctx context.Context, partitions int32, limit time.Duration) error {
	minISR := "2"
	return retry(ctx, limit, func(ctx context.Context) error {
		resp, err := a.adm.CreateTopic(ctx, partitions, int16(len(a.ids)),
			map[string]*string{"min.insync.replicas": &minISR}, a.topic)
		if err == nil {
			err = resp.Err
		}
		if errors.Is(err, kerr.TopicAlreadyExists) {
			return nil
		}
		return err
	})
}

// leaders maps each partition to its leader's node id (-1: none).
func (a *admin) leaders(ctx context.Context) (map[int32]int32, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	td, err := a.adm.ListTopics(ctx, a.topic)
	if err != nil {
		return nil, err
	}
	t, ok := td[a.topic]
	if !ok || t.Err != nil {
		return nil, fmt.Errorf("topic %s: %v", a.topic, t.Err)
	}
	out := map[int32]int32{}
	for _, p := range t.Partitions {
		out[p.Partition] = p.Leader
	}
	return out, nil
}

// controller is the metadata quorum's leader (DescribeQuorum), which is
// the active controller.
func (a *admin) controller(ctx context.Context) (int32, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	req := kmsg.NewPtrDescribeQuorumRequest()
	t := kmsg.NewDescribeQuorumRequestTopic()
	t.Topic = "__cluster_metadata"
	p := kmsg.NewDescribeQuorumRequestTopicPartition()
	t.Partitions = append(t.Partitions, p)
	req.Topics = append(req.Topics, t)
	resp, err := req.RequestWith(ctx, a.cl)
	if err != nil {
		return -1, err
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return -1, err
	}
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		return -1, errors.New("DescribeQuorum: no __cluster_metadata partition in the response")
	}
	rp := resp.Topics[0].Partitions[0]
	if err := kerr.ErrorForCode(rp.ErrorCode); err != nil {
		return -1, err
	}
	if rp.LeaderID < 0 {
		return -1, errors.New("DescribeQuorum: no quorum leader")
	}
	return rp.LeaderID, nil
}

// health is nil when the cluster is whole: the quorum has a leader, and
// every node sees every node registered and every partition led with a
// full ISR, all nodes the same leader at the same epoch. Otherwise it
// says what is missing.
func (a *admin) health(ctx context.Context) error {
	if _, err := a.controller(ctx); err != nil {
		return fmt.Errorf("controller: %w", err)
	}
	var first map[int32][2]int32
	for _, id := range a.ids {
		leaders, err := a.nodeSeesHealth(ctx, int32(id))
		if err != nil {
			return fmt.Errorf("node %d: %w", id, err)
		}
		if first == nil {
			first = leaders
		} else if !maps.Equal(first, leaders) {
			return fmt.Errorf("nodes %d and %d disagree on leaders and epochs: %v and %v", a.ids[0], id, first, leaders)
		}
	}
	return nil
}

// nodeMetadata asks node id itself for the topic's metadata.
func (a *admin) nodeMetadata(ctx context.Context, id int32) (*kmsg.MetadataResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(a.topic)
	req.Topics = append(req.Topics, rt)
	raw, err := a.cl.Broker(int(id)).Request(ctx, req)
	if err != nil {
		return nil, err
	}
	return raw.(*kmsg.MetadataResponse), nil
}

// view is node id's view of the partitions' leaders and ISRs, for logs.
func (a *admin) view(ctx context.Context, id int32) string {
	resp, err := a.nodeMetadata(ctx, id)
	if err != nil {
		return fmt.Sprintf("node %d: %v", id, err)
	}
	var parts []string
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			parts = append(parts, fmt.Sprintf("p%d %d%v", p.Partition, p.Leader, p.ISR))
		}
	}
	slices.Sort(parts)
	return fmt.Sprintf("node %d sees %d brokers, leader[ISR]: %s", id, len(resp.Brokers), strings.Join(parts, " "))
}

// nodeSeesHealth checks node id's view and returns its leader and
// leader epoch of each partition.
func (a *admin) nodeSeesHealth(ctx context.Context, id int32) (map[int32][2]int32, error) {
	resp, err := a.nodeMetadata(ctx, id)
	if err != nil {
		return nil, err
	}
	if len(resp.Brokers) != len(a.ids) {
		return nil, fmt.Errorf("%d of %d brokers registered and unfenced", len(resp.Brokers), len(a.ids))
	}
	if len(resp.Topics) != 1 {
		return nil, errors.New("topic missing from metadata")
	}
	if err := kerr.ErrorForCode(resp.Topics[0].ErrorCode); err != nil {
		return nil, err
	}
	leaders := map[int32][2]int32{}
	for _, p := range resp.Topics[0].Partitions {
		if p.Leader < 0 || len(p.ISR) != len(a.ids) || p.ErrorCode != 0 {
			return nil, fmt.Errorf("partition %d: leader %d, ISR %v, error %v", p.Partition, p.Leader, p.ISR, kerr.ErrorForCode(p.ErrorCode))
		}
		leaders[p.Partition] = [2]int32{p.Leader, p.LeaderEpoch}
	}
	return leaders, nil
}

// waitHealthy polls health until nil or limit; the error is the last
// reason the cluster was not whole.
func (a *admin) waitHealthy(ctx context.Context, limit time.Duration) error {
	return retry(ctx, limit, a.health)
}

// retry calls f every 250ms until it succeeds, ctx ends or limit passes.
func retry(ctx context.Context, limit time.Duration, f func(context.Context) error) error {
	deadline := time.Now().Add(limit)
	for {
		err := f(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after %v: %w", limit, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}
