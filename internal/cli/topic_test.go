package cli_test

import (
	"slices"
	"strings"
	"testing"
)

func TestTopicCreateListDescribe(t *testing.T) {
	_, c := start(t)
	out := c.ok("", "topic", "create", "orders", "-p", "3", "-c", "retention.ms=3600000", "-c", "cleanup.policy=compact")
	if !strings.Contains(out, "orders") || !strings.Contains(out, "OK") {
		t.Fatalf("topic create printed:\n%s", out)
	}

	var listed []listedTopic
	c.jsonOf(&listed, "topic", "list")
	if len(listed) != 1 || listed[0] != (listedTopic{Name: "orders", Partitions: 3, Replicas: 1}) {
		t.Fatalf("topic list --format json = %+v, want orders with 3 partitions of 1 replica", listed)
	}
	if text := c.ok("", "topic", "list"); !strings.Contains(text, "NAME") || !strings.Contains(text, "orders") {
		t.Fatalf("topic list printed:\n%s", text)
	}

	d := c.describe("orders")
	if len(d.ID) != 22 { // Kafka's spelling: 16 bytes in URL-safe base64 without padding
		t.Errorf("topic id %q is not 22 characters of base64", d.ID)
	}
	if len(d.Partitions) != 3 {
		t.Fatalf("describe shows %d partitions, want 3", len(d.Partitions))
	}
	for i, p := range d.Partitions {
		if p.Partition != int32(i) || p.Leader < 0 || len(p.Replicas) != 1 || p.Replicas[0] != p.Leader ||
			!slices.Equal(p.ISR, p.Replicas) || p.LogStartOffset != 0 || p.HighWatermark != 0 {
			t.Errorf("partition %d: %+v, want a leader that is the one replica and in sync, empty log", i, p)
		}
	}
	for name, want := range map[string]configEntry{
		"retention.ms":   {Name: "retention.ms", Value: ptr("3600000"), Source: "DYNAMIC_TOPIC_CONFIG"},
		"cleanup.policy": {Name: "cleanup.policy", Value: ptr("compact"), Source: "DYNAMIC_TOPIC_CONFIG"},
		"segment.ms":     {Name: "segment.ms", Value: ptr("604800000"), Source: "DEFAULT_CONFIG"},
	} {
		if got := d.config(t, name); str(got.Value) != str(want.Value) || got.Source != want.Source {
			t.Errorf("config %s = %s (%s), want %s (%s)", name, str(got.Value), got.Source, str(want.Value), want.Source)
		}
	}
	text := c.ok("", "topic", "describe", "orders")
	for _, want := range []string{"SUMMARY", "CONFIGS", "PARTITIONS", "retention.ms", "DYNAMIC_TOPIC_CONFIG", "HIGH-WATERMARK"} {
		if !strings.Contains(text, want) {
			t.Errorf("topic describe text lacks %q:\n%s", want, text)
		}
	}

	// Creating it again fails, names the error, and --if-not-exists accepts it.
	msg, out := c.fails("", "topic", "create", "orders")
	if !strings.Contains(out, "TOPIC_ALREADY_EXISTS") || !strings.Contains(msg, "1 of 1 topics failed") {
		t.Errorf("second create: error %q, stdout:\n%s", msg, out)
	}
	c.ok("", "topic", "create", "orders", "--if-not-exists")

	// A dry run validates without creating; a bad request is refused.
	c.ok("", "topic", "create", "dry", "--dry-run")
	c.jsonOf(&listed, "topic", "list")
	if len(listed) != 1 {
		t.Errorf("after a dry run, topics are %+v", listed)
	}
	if _, out := c.fails("", "topic", "create", "wide", "-r", "3"); !strings.Contains(out, "INVALID_REPLICATION_FACTOR") {
		t.Errorf("3 replicas on one broker: stdout:\n%s", out)
	}
	if msg, _ := c.fails("", "topic", "create", "bad", "-c", "retention.ms"); !strings.Contains(msg, "key=value") {
		t.Errorf("-c without = : %s", msg)
	}
}

func TestTopicAddPartitionsAndDelete(t *testing.T) {
	_, c := start(t)
	c.ok("", "topic", "create", "grow", "-p", "2")
	c.ok("", "topic", "create", "other")
	// --num is how many to add, as in rpk.
	c.ok("", "topic", "add-partitions", "grow", "--num", "3")
	if d := c.describe("grow"); len(d.Partitions) != 5 || d.Partitions[4].Partition != 4 || d.Partitions[4].Leader < 0 {
		t.Fatalf("after adding 3 to 2 partitions: %+v", d.Partitions)
	}
	c.ok("a\nb\n", "produce", "grow", "--partition", "4")
	if d := c.describe("grow"); d.Partitions[4].HighWatermark != 2 {
		t.Errorf("new partition 4 holds up to %d, want 2 records", d.Partitions[4].HighWatermark)
	}
	if msg, _ := c.fails("", "topic", "add-partitions", "grow", "--num", "0"); !strings.Contains(msg, "at least 1") {
		t.Errorf("--num 0: %s", msg)
	}
	if _, out := c.fails("", "topic", "add-partitions", "missing", "--num", "1"); !strings.Contains(out, "samsa topic list") {
		t.Errorf("add-partitions to a missing topic: stdout:\n%s", out)
	}

	c.ok("", "topic", "delete", "grow")
	var listed []listedTopic
	c.jsonOf(&listed, "topic", "list")
	if len(listed) != 1 || listed[0].Name != "other" {
		t.Fatalf("after deleting grow, topics are %+v", listed)
	}
	msg, out := c.fails("", "topic", "delete", "other", "grow")
	if !strings.Contains(msg, "1 of 2 topics failed") || !strings.Contains(out, "UNKNOWN_TOPIC_OR_PARTITION") {
		t.Errorf("deleting a deleted topic: %s\n%s", msg, out)
	}
	c.jsonOf(&listed, "topic", "list")
	if len(listed) != 0 {
		t.Errorf("other was not deleted along: %+v", listed)
	}
}

func ptr(s string) *string { return &s }
