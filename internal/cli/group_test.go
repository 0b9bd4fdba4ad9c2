package cli_test

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Shapes of `samsa group ... --format json`.
type (
	listedGroup struct {
		Group        string `json:"group"`
		State        string `json:"state"`
		ProtocolType string `json:"protocol_type"`
		Type         string `json:"type"`
		Members      int    `json:"members"`
	}
	groupOffset struct {
		Topic        string `json:"topic"`
		Partition    int32  `json:"partition"`
		Committed    *int64 `json:"committed_offset"`
		LogEndOffset int64  `json:"log_end_offset"`
		Lag          *int64 `json:"lag"`
		MemberID     string `json:"member_id"`
		ClientID     string `json:"client_id"`
	}
	describedGroup struct {
		Group        string `json:"group"`
		State        string `json:"state"`
		ProtocolType string `json:"protocol_type"`
		Protocol     string `json:"protocol"`
		Members      []struct {
			MemberID string `json:"member_id"`
			ClientID string `json:"client_id"`
			Host     string `json:"host"`
			Assigned []struct {
				Topic      string  `json:"topic"`
				Partitions []int32 `json:"partitions"`
			} `json:"assigned"`
		} `json:"members"`
		Offsets  []groupOffset `json:"offsets"`
		TotalLag int64         `json:"total_lag"`
	}
	resetPlan struct {
		Group   string `json:"group"`
		DryRun  bool   `json:"dry_run"`
		Offsets []struct {
			Topic     string `json:"topic"`
			Partition int32  `json:"partition"`
			Current   *int64 `json:"current_offset"`
			New       int64  `json:"new_offset"`
			Error     string `json:"error"`
		} `json:"offsets"`
	}
)

// admin is a Kafka admin client on the test's node, to set up and check
// what the commands did without going through them.
func (c *cli) admin() *kadm.Client {
	c.t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.brokers))
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// commit commits offsets for a group with no members, as a script would.
func commit(t *testing.T, adm *kadm.Client, group, topic string, at map[int32]int64) {
	t.Helper()
	offs := kadm.Offsets{}
	for p, o := range at {
		offs.Add(kadm.Offset{Topic: topic, Partition: p, At: o, LeaderEpoch: -1})
	}
	resp, err := adm.CommitOffsets(ctxFor(t), group, offs)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.Fatalf("committing %v for %s: %v", at, group, err)
	}
}

// committed is a group's committed offsets of a topic, by partition.
func committed(t *testing.T, adm *kadm.Client, group, topic string) map[int32]int64 {
	t.Helper()
	fo, err := adm.FetchOffsets(ctxFor(t), group)
	if err == nil {
		err = fo.Error()
	}
	if err != nil {
		t.Fatal(err)
	}
	out := map[int32]int64{}
	for p, o := range fo[topic] {
		if o.At >= 0 {
			out[p] = o.At
		}
	}
	return out
}

// liveMember joins group as a franz-go consumer of topic, reads want
// records and commits them; it stays in the group until the test ends.
func liveMember(t *testing.T, brokers, group, topic string, want int) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers), kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
		kgo.ClientID("live-member"), kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	ctx := ctxFor(t)
	for got := 0; got < want; {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("member of %s read %d of %d records: %v", group, got, want, err)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Logf("member fetch %s/%d: %v", topic, p, err) })
		got += fs.NumRecords()
	}
	if err := cl.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatal(err)
	}
	return cl
}

func (c *cli) describeGroup(group string) describedGroup {
	c.t.Helper()
	var ds []describedGroup
	c.jsonOf(&ds, "group", "describe", group)
	if len(ds) != 1 || ds[0].Group != group {
		c.t.Fatalf("group describe %s: %+v", group, ds)
	}
	return ds[0]
}

// offsetString is a partition's "committed/end/lag", "-" for a null.
func offsetString(o groupOffset) string {
	d := func(p *int64) string {
		if p == nil {
			return "-"
		}
		return strconv.FormatInt(*p, 10)
	}
	return d(o.Committed) + "/" + strconv.FormatInt(o.LogEndOffset, 10) + "/" + d(o.Lag)
}

func TestGroupListAndDescribe(t *testing.T) {
	_, c := start(t, quickGroups())
	adm := c.admin()
	c.ok("", "topic", "create", "orders", "-p", "3")
	c.ok("a\nb\nc\n", "produce", "orders", "--partition", "0")
	c.ok("d\ne\n", "produce", "orders", "--partition", "1")
	// Partition 2 stays empty: the live member commits nothing there.
	liveMember(t, c.brokers, "live", "orders", 5)
	commit(t, adm, "idle", "orders", map[int32]int64{0: 1})

	var listed []listedGroup
	c.jsonOf(&listed, "group", "list")
	if len(listed) != 2 ||
		listed[0] != (listedGroup{Group: "idle", State: "Empty", ProtocolType: "", Type: listed[0].Type, Members: 0}) ||
		listed[1] != (listedGroup{Group: "live", State: "Stable", ProtocolType: "consumer", Type: listed[1].Type, Members: 1}) {
		t.Fatalf("group list --format json = %+v, want idle Empty and live Stable with 1 member", listed)
	}
	for _, g := range listed {
		if g.Type != "" && g.Type != "classic" {
			t.Errorf("group %s has type %q, want classic (or none from an older broker)", g.Group, g.Type)
		}
	}
	text := c.ok("", "group", "list")
	for _, want := range []string{"GROUP", "STATE", "MEMBERS", "idle", "Empty", "live", "Stable"} {
		if !strings.Contains(text, want) {
			t.Errorf("group list lacks %q:\n%s", want, text)
		}
	}
	c.jsonOf(&listed, "group", "list", "--state", "empty")
	if len(listed) != 1 || listed[0].Group != "idle" {
		t.Errorf("group list --state empty = %+v, want only idle", listed)
	}
	c.jsonOf(&listed, "group", "list", "--state", "Stable,Empty")
	if len(listed) != 2 {
		t.Errorf("group list --state Stable,Empty = %+v, want both", listed)
	}
	if msg, _ := c.fails("", "group", "list", "--state", "asleep"); !strings.Contains(msg, "want one of") {
		t.Errorf("--state asleep: %s", msg)
	}

	// The live group: one member owning all three partitions; two committed
	// to their end, the empty one never committed ("-", as Kafka's tool).
	d := c.describeGroup("live")
	if d.State != "Stable" || d.ProtocolType != "consumer" || d.Protocol == "" || len(d.Members) != 1 {
		t.Fatalf("describe live: %+v", d)
	}
	m := d.Members[0]
	if m.ClientID != "live-member" || m.MemberID == "" || m.Host == "" || len(m.Assigned) != 1 ||
		m.Assigned[0].Topic != "orders" || fmt.Sprint(m.Assigned[0].Partitions) != "[0 1 2]" {
		t.Errorf("live's member: %+v", m)
	}
	var got []string
	for _, o := range d.Offsets {
		got = append(got, fmt.Sprintf("%s/%d:%s", o.Topic, o.Partition, offsetString(o)))
		if o.MemberID != m.MemberID || o.ClientID != "live-member" {
			t.Errorf("partition %d is owned by %q (%q), want the member", o.Partition, o.MemberID, o.ClientID)
		}
	}
	if want := "[orders/0:3/3/0 orders/1:2/2/0 orders/2:-/0/-]"; fmt.Sprint(got) != want {
		t.Errorf("live's offsets: %v, want %v", got, want)
	}
	if d.TotalLag != 0 {
		t.Errorf("live's total lag %d, want 0", d.TotalLag)
	}

	// The idle group: behind by 2 where it committed; the topic's other
	// partitions are shown uncommitted.
	d = c.describeGroup("idle")
	got = nil
	for _, o := range d.Offsets {
		got = append(got, fmt.Sprintf("%s/%d:%s:%s", o.Topic, o.Partition, offsetString(o), o.MemberID))
	}
	if d.State != "Empty" || len(d.Members) != 0 || d.TotalLag != 2 ||
		fmt.Sprint(got) != "[orders/0:1/3/2: orders/1:-/2/-: orders/2:-/0/-:]" {
		t.Errorf("describe idle: %+v, offsets %v", d, got)
	}

	// Several groups come out in the order named (kadm's Lag reorders the
	// slice it is given).
	for _, names := range [][]string{{"live", "idle"}, {"idle", "live"}} {
		var two []describedGroup
		c.jsonOf(&two, append([]string{"group", "describe"}, names...)...)
		if len(two) != 2 || two[0].Group != names[0] || two[1].Group != names[1] {
			t.Errorf("group describe %v printed groups %+v", names, two)
		}
	}

	text = c.ok("", "group", "describe", "live", "idle")
	for _, want := range []string{"GROUP", "live", "idle", "Stable", "Empty", "TOTAL-LAG", "MEMBER-ID", "live-member",
		"CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "orders"} {
		if !strings.Contains(text, want) {
			t.Errorf("group describe text lacks %q:\n%s", want, text)
		}
	}
	// Partition 2's row: no commit, so "-" for the offset and the lag.
	if !regexp.MustCompile(`(?m)^orders\s+2\s+-\s+0\s+-\s`).MatchString(text) {
		t.Errorf("group describe text has no row for partition 2 with - for offset and lag:\n%s", text)
	}

	msg, _ := c.fails("", "group", "describe", "live", "nobody")
	if !strings.Contains(msg, `group "nobody" does not exist`) || !strings.Contains(msg, "samsa group list") {
		t.Errorf("describe of a missing group: %s", msg)
	}
}

func TestGroupDelete(t *testing.T) {
	_, c := start(t, quickGroups())
	adm := c.admin()
	c.ok("", "topic", "create", "orders", "-p", "1")
	c.ok("a\n", "produce", "orders")
	liveMember(t, c.brokers, "live", "orders", 1)
	commit(t, adm, "idle", "orders", map[int32]int64{0: 1})
	commit(t, adm, "other", "orders", map[int32]int64{0: 0})

	// Shell completion offers the brokers' groups, minus those given.
	if out := c.ok("", "__complete", "group", "delete", "idle", ""); !strings.Contains(out, "live\nother\n") || strings.Contains(out, "idle") {
		t.Errorf("completing group names printed:\n%s", out)
	}
	if out := c.ok("", "__complete", "consume", "orders", "-g", "l"); !strings.HasPrefix(out, "live\n") {
		t.Errorf("completing consume -g printed:\n%s", out)
	}

	// One command, three outcomes: each printed, and the exit says so.
	msg, out := c.fails("", "group", "delete", "live", "idle", "nobody")
	if !strings.Contains(msg, "2 of 3 groups failed") {
		t.Errorf("delete: error %q", msg)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^idle\s+OK$`),
		regexp.MustCompile(`(?m)^live\s+NON_EMPTY_GROUP.*stop its consumers first`),
		regexp.MustCompile(`(?m)^nobody\s+GROUP_ID_NOT_FOUND.*samsa group list`),
	} {
		if !want.MatchString(out) {
			t.Errorf("delete output lacks %s:\n%s", want, out)
		}
	}
	if got := committed(t, adm, "idle", "orders"); len(got) != 0 {
		t.Errorf("idle still has offsets %v after its delete", got)
	}
	if got := committed(t, adm, "live", "orders"); got[0] != 1 {
		t.Errorf("live's offsets changed by a refused delete: %v", got)
	}

	var rs []struct {
		Name  string `json:"name"`
		Error string `json:"error"`
	}
	c.jsonOf(&rs, "group", "delete", "other")
	if len(rs) != 1 || rs[0].Name != "other" || rs[0].Error != "" {
		t.Errorf("delete other --format json: %+v", rs)
	}
	var listed []listedGroup
	c.jsonOf(&listed, "group", "list")
	if len(listed) != 1 || listed[0].Group != "live" {
		t.Errorf("after the deletes, groups are %+v", listed)
	}
	if msg, _ := c.fails("", "group", "delete"); !strings.Contains(msg, "requires at least 1 arg") {
		t.Errorf("delete without a group: %s", msg)
	}
}

func TestGroupResetOffsets(t *testing.T) {
	_, c := start(t, quickGroups())
	adm := c.admin()
	c.ok("", "topic", "create", "orders", "-p", "3")
	c.ok("a\nb\nc\nd\n", "produce", "orders", "--partition", "0")
	c.ok("e\nf\n", "produce", "orders", "--partition", "1")
	commit(t, adm, "idle", "orders", map[int32]int64{0: 3, 1: 1})
	plan := func(args ...string) resetPlan {
		t.Helper()
		var p resetPlan
		c.jsonOf(&p, append([]string{"group", "reset-offsets", "idle"}, args...)...)
		return p
	}
	planString := func(p resetPlan) string {
		var parts []string
		for _, o := range p.Offsets {
			cur := "-"
			if o.Current != nil {
				cur = strconv.FormatInt(*o.Current, 10)
			}
			parts = append(parts, fmt.Sprintf("%s/%d:%s->%d", o.Topic, o.Partition, cur, o.New))
			if o.Error != "" {
				t.Errorf("partition %d: %s", o.Partition, o.Error)
			}
		}
		return strings.Join(parts, " ")
	}
	want := func(label string, got map[int32]int64, exp map[int32]int64) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(exp) {
			t.Errorf("%s: committed %v, want %v", label, got, exp)
		}
	}

	// A dry run prints the plan and commits nothing.
	p := plan("--topic", "orders", "--to-earliest", "--dry-run")
	if !p.DryRun || planString(p) != "orders/0:3->0 orders/1:1->0 orders/2:-->0" {
		t.Errorf("dry run plan: %+v (%s)", p, planString(p))
	}
	want("after a dry run", committed(t, adm, "idle", "orders"), map[int32]int64{0: 3, 1: 1})
	text := c.ok("", "group", "reset-offsets", "idle", "--topic", "orders:1", "--to-latest", "--dry-run")
	if !regexp.MustCompile(`(?m)^idle\s+orders\s+1\s+1\s+2\s+dry run: not committed$`).MatchString(text) ||
		!strings.Contains(text, "CURRENT-OFFSET") {
		t.Errorf("dry run text:\n%s", text)
	}
	want("after a text dry run", committed(t, adm, "idle", "orders"), map[int32]int64{0: 3, 1: 1})

	// For real: each target, clamped to what the partition holds.
	p = plan("--all-topics", "--to-latest")
	if p.DryRun || planString(p) != "orders/0:3->4 orders/1:1->2" {
		t.Errorf("--all-topics --to-latest: %s", planString(p))
	}
	want("--to-latest", committed(t, adm, "idle", "orders"), map[int32]int64{0: 4, 1: 2})
	plan("--all-topics", "--shift-by", "-3")
	want("--shift-by -3", committed(t, adm, "idle", "orders"), map[int32]int64{0: 1, 1: 0})
	plan("--topic", "orders:0", "--to-offset", "100")
	want("--to-offset 100 on 4 records", committed(t, adm, "idle", "orders"), map[int32]int64{0: 4, 1: 0})
	plan("--topic", "orders:1,2", "--to-offset", "1")
	want("--to-offset 1", committed(t, adm, "idle", "orders"), map[int32]int64{0: 4, 1: 1, 2: 0})
	plan("--topic", "orders", "--to-datetime", "2000-01-01T00:00:00Z")
	want("--to-datetime in the past", committed(t, adm, "idle", "orders"), map[int32]int64{0: 0, 1: 0, 2: 0})
	plan("--topic", "orders", "--to-datetime", time.Now().Add(time.Hour).Format("2006-01-02T15:04:05.000"))
	want("--to-datetime in the future (local, Kafka's spelling)", committed(t, adm, "idle", "orders"), map[int32]int64{0: 4, 1: 2, 2: 0})
	text = c.ok("", "group", "reset-offsets", "idle", "--topic", "orders:0", "--to-earliest")
	if !regexp.MustCompile(`(?m)^idle\s+orders\s+0\s+4\s+0\s+OK$`).MatchString(text) {
		t.Errorf("reset text:\n%s", text)
	}
	want("--to-earliest", committed(t, adm, "idle", "orders"), map[int32]int64{0: 0, 1: 2, 2: 0})

	// A new group may be given offsets, as in Kafka.
	var fresh resetPlan
	c.jsonOf(&fresh, "group", "reset-offsets", "fresh", "--topic", "orders:1", "--to-latest")
	want("a new group", committed(t, adm, "fresh", "orders"), map[int32]int64{1: 2})

	// Mistakes say what to do.
	for _, bad := range []struct {
		args []string
		msg  string
	}{
		{[]string{"idle", "--topic", "orders"}, "exactly one of --to-earliest"},
		{[]string{"idle", "--topic", "orders", "--to-earliest", "--to-offset", "3"}, "got --to-earliest and --to-offset"},
		{[]string{"idle", "--to-earliest"}, "--topic T[:P,...] (repeatable) or --all-topics"},
		{[]string{"idle", "--topic", "orders", "--all-topics", "--to-earliest"}, "or --all-topics"},
		{[]string{"idle", "--topic", "orders", "--to-datetime", "yesterday"}, "RFC 3339"},
		{[]string{"idle", "--topic", "orders", "--to-offset", "-1"}, "cannot be negative"},
		{[]string{"idle", "--topic", "orders:x", "--to-earliest"}, "not a partition number"},
		{[]string{"idle", "--topic", "orders:7", "--to-earliest"}, "has no partition 7"},
		{[]string{"idle", "--topic", "missing", "--to-earliest"}, `topic "missing" does not exist`},
		{[]string{"fresh", "--topic", "orders:0", "--shift-by", "1"}, "no committed offset on orders partition 0"},
		{[]string{"nobody", "--all-topics", "--to-earliest"}, "no committed offsets for --all-topics"},
		{[]string{"idle", "other", "--all-topics", "--to-earliest"}, "name one group"},
	} {
		if msg, _ := c.fails("", append([]string{"group", "reset-offsets"}, bad.args...)...); !strings.Contains(msg, bad.msg) {
			t.Errorf("reset-offsets %s: %q, want it to say %q", strings.Join(bad.args, " "), msg, bad.msg)
		}
	}
	want("after the mistakes", committed(t, adm, "idle", "orders"), map[int32]int64{0: 0, 1: 2, 2: 0})

	// A group with members is refused; a dry run only warns.
	liveMember(t, c.brokers, "live", "orders", 6)
	before := committed(t, adm, "live", "orders")
	msg, _ := c.fails("", "group", "reset-offsets", "live", "--all-topics", "--to-earliest")
	if !strings.Contains(msg, "group live is Stable with 1 member(s)") || !strings.Contains(msg, "stop its consumers first") {
		t.Errorf("reset of a live group: %s", msg)
	}
	r := c.exec("", "group", "reset-offsets", "live", "--all-topics", "--to-earliest", "--dry-run")
	if r.err != nil || !strings.Contains(r.stderr, "warning: group live is Stable") || !strings.Contains(r.stdout, "dry run") {
		t.Errorf("dry run on a live group: %v\n%s%s", r.err, r.stdout, r.stderr)
	}
	want("live after the refusals", committed(t, adm, "live", "orders"), before)
}
