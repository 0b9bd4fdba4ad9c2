package controller

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Kafka bounds the partitions one admin request may create
// (ReplicationControlManager.validateTotalNumberOfPartitions:
// MAX_PARTITIONS_PER_BATCH = 10000, POLICY_VIOLATION "Excessively large
// number of partitions per request."; CreatePartitions is bounded by
// MAX_RECORDS_PER_USER_OP). (A review found the first version got this
// wrong.)
func TestPartitionsPerRequestAreBounded(t *testing.T) {
	c, _, _ := newController(t, 1)
	res := c.CreateTopics(context.Background(), []TopicSpec{{Name: "huge", Partitions: 20001, ReplicationFactor: -1}}, true)
	if got := code(res[0].Err); got != kerr.PolicyViolation {
		t.Errorf("CreateTopics with 20001 partitions: %v, want POLICY_VIOLATION", res[0].Err)
	}
	if res := c.CreateTopics(context.Background(), []TopicSpec{{Name: "small", Partitions: 1, ReplicationFactor: -1}}, false); res[0].Err != nil {
		t.Fatal(res[0].Err)
	}
	errs := c.CreatePartitions(context.Background(), []PartitionsSpec{{Topic: "small", Count: 20001}}, true)
	if errs[0] == nil {
		t.Errorf("CreatePartitions to 20001 partitions accepted")
	}
}
