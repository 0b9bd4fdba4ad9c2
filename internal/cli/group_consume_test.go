package cli_test

import (
	"fmt"
	"strings"
	"testing"
)

// values is the "partition/offset=value" of consumed records, in the
// order printed.
func values(recs []consumedRecord) string {
	var out []string
	for _, r := range recs {
		out = append(out, fmt.Sprintf("%d/%d=%s", r.Partition, r.Offset, str(r.Value)))
	}
	return strings.Join(out, " ")
}

func TestConsumeAsGroupMember(t *testing.T) {
	_, c := start(t, quickGroups())
	adm := c.admin()
	c.ok("", "topic", "create", "events", "-p", "3")
	c.ok("a\nb\nc\n", "produce", "events", "--partition", "0")
	c.ok("d\ne\n", "produce", "events", "--partition", "1")
	sameMap := func(label string, got, want map[int32]int64) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: committed %v, want %v", label, got, want)
		}
	}

	// A new group starts at --offset's choice (the start) and commits what
	// it printed, and its position in the empty partition.
	recs := c.consumeJSON("events", "-g", "readers", "-e")
	if len(recs) != 5 {
		t.Fatalf("consume -g -e printed %s, want the 5 records", values(recs))
	}
	sameMap("after consuming everything", committed(t, adm, "readers", "events"), map[int32]int64{0: 3, 1: 2, 2: 0})
	d := c.describeGroup("readers")
	if d.State != "Empty" || len(d.Members) != 0 || d.TotalLag != 0 || len(d.Offsets) != 3 {
		t.Errorf("describe after consuming: %+v (the member left, nothing to lag)", d)
	}

	// Next runs go on from the commits: -n commits only what it printed.
	c.ok("f\ng\n", "produce", "events", "--partition", "1")
	if d := c.describeGroup("readers"); d.TotalLag != 2 {
		t.Errorf("lag after 2 more records: %d", d.TotalLag)
	}
	if got := values(c.consumeJSON("events", "-g", "readers", "-n", "1")); got != "1/2=f" {
		t.Errorf("consume -g -n 1 printed %s, want the first new record", got)
	}
	sameMap("after -n 1", committed(t, adm, "readers", "events"), map[int32]int64{0: 3, 1: 3, 2: 0})
	if got := values(c.consumeJSON("events", "-g", "readers", "-e")); got != "1/3=g" {
		t.Errorf("consume -g -e printed %s, want the one record left", got)
	}
	if d := c.describeGroup("readers"); d.TotalLag != 0 {
		t.Errorf("lag after reading all: %d", d.TotalLag)
	}
	// With nothing new, -e ends at once and prints nothing.
	if out := c.ok("", "consume", "events", "-g", "readers", "-e"); out != "" {
		t.Errorf("consume -g -e with nothing new printed %q", out)
	}

	// Reset, and the group reads everything again.
	c.ok("", "group", "reset-offsets", "readers", "--all-topics", "--to-earliest")
	if got := values(c.consumeJSON("events", "-g", "readers", "-e")); len(strings.Fields(got)) != 7 {
		t.Errorf("after a reset to the earliest, consume -g printed %s, want all 7", got)
	}

	// --offset is the fallback for partitions without a commit only.
	commit(t, adm, "late", "events", map[int32]int64{1: 1})
	got := strings.Fields(values(c.consumeJSON("events", "-g", "late", "--offset", "-1", "-e")))
	if strings.Join(sortedCopy(got), " ") != "0/2=c 1/1=e 1/2=f 1/3=g" {
		t.Errorf("consume -g late --offset -1 printed %v, want partition 0's last and partition 1 from its commit", got)
	}
	sameMap("late", committed(t, adm, "late", "events"), map[int32]int64{0: 3, 1: 4, 2: 0})

	// The default text template works in a group too.
	c.ok("h\n", "produce", "events", "--partition", "2")
	if out := c.ok("", "consume", "events", "-g", "readers", "-e"); out != "h\n" {
		t.Errorf("consume -g text printed %q", out)
	}

	if msg, _ := c.fails("", "consume", "events", "-g", "x", "--partitions", "0"); !strings.Contains(msg, "[group partitions]") {
		t.Errorf("-g with --partitions: %s", msg)
	}
	if msg, _ := c.fails("", "consume", "missing", "-g", "x", "-e"); !strings.Contains(msg, `topic "missing" does not exist`) {
		t.Errorf("-g on a missing topic: %s", msg)
	}
}

func sortedCopy(xs []string) []string {
	out := append([]string(nil), xs...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}
