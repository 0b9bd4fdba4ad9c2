package cli_test

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/samsa-io/samsa/internal/cli/kit"
)

type describedConfigs struct {
	Type    string        `json:"type"`
	Name    string        `json:"name"`
	Configs []configEntry `json:"configs"`
}

func (d describedConfigs) get(t *testing.T, name string) configEntry {
	t.Helper()
	for _, c := range d.Configs {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("%s %s has no config %s", d.Type, d.Name, name)
	return configEntry{}
}

func TestAlterConfigsChangeTheSource(t *testing.T) {
	_, c := start(t)
	c.ok("", "topic", "create", "cfg")
	if got := c.describe("cfg").config(t, "retention.ms"); got.Source != "DEFAULT_CONFIG" {
		t.Fatalf("a new topic's retention.ms comes from %s", got.Source)
	}

	// topic alter-config is incremental: a second change keeps the first.
	c.ok("", "topic", "alter-config", "cfg", "--set", "retention.ms=1234")
	c.ok("", "topic", "alter-config", "cfg", "--set", "segment.bytes=1048576")
	d := c.describe("cfg")
	for name, want := range map[string]string{"retention.ms": "1234", "segment.bytes": "1048576"} {
		if got := d.config(t, name); str(got.Value) != want || got.Source != "DYNAMIC_TOPIC_CONFIG" {
			t.Errorf("after alter-config, %s = %s from %s", name, str(got.Value), got.Source)
		}
	}
	c.ok("", "topic", "alter-config", "cfg", "--delete", "retention.ms")
	d = c.describe("cfg")
	if got := d.config(t, "retention.ms"); str(got.Value) != "604800000" || got.Source != "DEFAULT_CONFIG" {
		t.Errorf("after --delete, retention.ms = %s from %s, want the default", str(got.Value), got.Source)
	}
	if got := d.config(t, "segment.bytes"); got.Source != "DYNAMIC_TOPIC_CONFIG" {
		t.Errorf("deleting retention.ms dropped segment.bytes too: %s", got.Source)
	}

	// config set / describe --topic speak of the same configs.
	c.ok("", "config", "set", "--topic", "cfg", "cleanup.policy=compact", "max.message.bytes=5000")
	var dc describedConfigs
	c.jsonOf(&dc, "config", "describe", "--topic", "cfg")
	if dc.Type != "topic" || dc.Name != "cfg" {
		t.Errorf("config describe --topic: %s %s", dc.Type, dc.Name)
	}
	if got := dc.get(t, "cleanup.policy"); str(got.Value) != "compact" || got.Source != "DYNAMIC_TOPIC_CONFIG" {
		t.Errorf("cleanup.policy = %s from %s", str(got.Value), got.Source)
	}
	if text := c.ok("", "config", "describe", "--topic", "cfg"); !strings.Contains(text, "max.message.bytes") ||
		!strings.Contains(text, "5000") || !strings.Contains(text, "SOURCE") {
		t.Errorf("config describe --topic text:\n%s", text)
	}

	// A broker: its own dynamic value, and the cluster-wide default.
	var ci clusterInfo
	c.jsonOf(&ci, "cluster", "info")
	id := fmt.Sprint(ci.Brokers[0].ID)
	c.ok("", "config", "set", "--broker-default", "log.retention.ms=7200000")
	c.jsonOf(&dc, "config", "describe", "--broker", id)
	if got := dc.get(t, "log.retention.ms"); str(got.Value) != "7200000" || got.Source != "DYNAMIC_DEFAULT_BROKER_CONFIG" {
		t.Errorf("after --broker-default, log.retention.ms = %s from %s", str(got.Value), got.Source)
	}
	c.ok("", "config", "set", "--broker", id, "log.retention.ms=3600000")
	c.jsonOf(&dc, "config", "describe", "--broker", id)
	if got := dc.get(t, "log.retention.ms"); str(got.Value) != "3600000" || got.Source != "DYNAMIC_BROKER_CONFIG" {
		t.Errorf("after --broker %s, log.retention.ms = %s from %s", id, str(got.Value), got.Source)
	}
	c.ok("", "config", "set", "--broker", id, "--delete", "log.retention.ms")
	c.jsonOf(&dc, "config", "describe", "--broker", id)
	if got := dc.get(t, "log.retention.ms"); str(got.Value) != "7200000" || got.Source != "DYNAMIC_DEFAULT_BROKER_CONFIG" {
		t.Errorf("after deleting the broker's value, log.retention.ms = %s from %s, want the cluster default", str(got.Value), got.Source)
	}

	// Mistakes are refused with the reason.
	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"topic", "alter-config", "cfg", "--set", "retention.ms=soon"}, "retention.ms"},
		{[]string{"topic", "alter-config", "cfg"}, "nothing to change"},
		{[]string{"config", "set", "--topic", "cfg", "retention.ms"}, "want key=value"},
		{[]string{"config", "set", "retention.ms=1"}, "broker"},
		{[]string{"config", "describe", "--topic", "cfg", "--broker", id}, "none of the others can be"},
		{[]string{"config", "describe", "--topic", "missing"}, "samsa topic list"},
		{[]string{"config", "describe", "--broker", "77"}, "no broker 77: the brokers are " + id},
		{[]string{"config", "set", "--broker", "77", "a=b"}, "samsa cluster info"},
	} {
		msg, out := c.fails("", bad.args...)
		if !strings.Contains(msg+out, bad.want) {
			t.Errorf("samsa %s: %q %q, want it to mention %q", strings.Join(bad.args, " "), msg, out, bad.want)
		}
	}
	// The topic has no value of its own, so it follows the cluster default.
	if got := c.describe("cfg").config(t, "retention.ms"); str(got.Value) != "7200000" || got.Source != "DYNAMIC_DEFAULT_BROKER_CONFIG" {
		t.Errorf("topic retention.ms = %s from %s, want the broker default log.retention.ms", str(got.Value), got.Source)
	}
}

func TestClusterInfo(t *testing.T) {
	node, c := start(t)
	c.ok("", "topic", "create", "a")
	c.ok("", "topic", "create", "b", "-p", "2")
	var ci clusterInfo
	c.jsonOf(&ci, "cluster", "info")
	if ci.ClusterID != node.ClusterID() || ci.Topics != 2 || len(ci.Brokers) != 1 {
		t.Fatalf("cluster info = %+v, want cluster %s with 2 topics and 1 broker", ci, node.ClusterID())
	}
	b := ci.Brokers[0]
	if net.JoinHostPort(b.Host, fmt.Sprint(b.Port)) != node.Addr() || b.ID != ci.Controller || b.Rack != nil {
		t.Errorf("broker %+v, want %s, the controller, no rack", b, node.Addr())
	}
	text := c.ok("", "cluster", "info")
	for _, want := range []string{node.ClusterID(), fmt.Sprintf("%d*", b.ID), fmt.Sprint(b.Port), "2 (and 0 internal)"} {
		if !strings.Contains(text, want) {
			t.Errorf("cluster info text lacks %q:\n%s", want, text)
		}
	}
}

// A port nothing listens on.
func deadAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestUnreachableBrokerSaysWhatToDo(t *testing.T) {
	dead := deadAddr(t)
	c := &cli{t: t, brokers: dead}
	for _, args := range [][]string{
		{"topic", "list"},
		{"cluster", "info"},
		{"produce", "t"},
		{"consume", "t", "-n", "1"},
		{"config", "describe", "--broker", "1"},
	} {
		began := time.Now()
		msg, _ := c.fails("x\n", args...)
		for _, want := range []string{"cannot reach a broker at " + dead, "connection refused", "--brokers", kit.EnvBrokers, "samsa server"} {
			if !strings.Contains(msg, want) {
				t.Errorf("samsa %s: %q lacks %q", strings.Join(args, " "), msg, want)
			}
		}
		if d := time.Since(began); d > 3*time.Second {
			t.Errorf("samsa %s took %v to give up on a refused connection", strings.Join(args, " "), d)
		}
	}
	c.brokers = dead + ",127.0.0.1:1"
	if msg, _ := c.fails("", "topic", "list"); !strings.Contains(msg, "any broker of "+dead+", 127.0.0.1:1") {
		t.Errorf("two dead brokers: %q", msg)
	}
}

func TestBrokersFromTheEnvironment(t *testing.T) {
	node := samsatestStart(t)
	c := &cli{t: t} // no --brokers
	t.Setenv(kit.EnvBrokers, node.Addr())
	c.ok("", "topic", "create", "env")
	if out := c.ok("", "topic", "list"); !strings.Contains(out, "env") {
		t.Errorf("topic list through %s:\n%s", kit.EnvBrokers, out)
	}
	// --brokers wins over the environment.
	dead := deadAddr(t)
	c.brokers = dead
	if msg, _ := c.fails("", "topic", "list"); !strings.Contains(msg, dead) {
		t.Errorf("--brokers %s did not win over %s: %q", dead, kit.EnvBrokers, msg)
	}
	c.brokers = ""
	t.Setenv(kit.EnvBrokers, dead)
	if msg, _ := c.fails("", "topic", "list"); !strings.Contains(msg, dead) {
		t.Errorf("%s=%s: %q", kit.EnvBrokers, dead, msg)
	}
}

func TestUnknownTopicSaysWhatToDo(t *testing.T) {
	_, c := start(t)
	for _, args := range [][]string{
		{"topic", "describe", "nope"},
		{"consume", "nope", "-n", "1"},
		{"produce", "nope"},
		{"config", "describe", "--topic", "nope"},
	} {
		msg, _ := c.fails("x\n", args...)
		if !strings.Contains(msg, `topic "nope" does not exist`) || !strings.Contains(msg, "samsa topic list") {
			t.Errorf("samsa %s: %q", strings.Join(args, " "), msg)
		}
	}
	// produce may ask the broker to create it.
	r := c.exec("x\n", "produce", "auto", "--allow-auto-topic-creation")
	if r.err != nil || !strings.Contains(r.stderr, "produced 1 record to auto, 0 failed") {
		t.Fatalf("produce --allow-auto-topic-creation: %v %s", r.err, r.stderr)
	}
	if got := c.ok("", "consume", "auto", "-e"); got != "x\n" {
		t.Errorf("auto-created topic holds %q", got)
	}
}

func TestShellCompletion(t *testing.T) {
	_, c := start(t)
	if out := c.ok("", "completion", "bash"); !strings.Contains(out, "__start_samsa") {
		t.Errorf("completion bash does not define the completion function:\n%.200s", out)
	}
	c.ok("", "topic", "create", "alpha")
	c.ok("", "topic", "create", "beta")
	// What the shell asks cobra when the user presses Tab.
	out := c.ok("", "__complete", "topic", "describe", "alpha", "")
	if !strings.Contains(out, "beta\n") || strings.Contains(out, "alpha\n") {
		t.Errorf("completing a second topic for describe:\n%s", out)
	}
	out = c.ok("", "__complete", "consume", "--format", "")
	if !strings.Contains(out, "json\n") {
		t.Errorf("completing --format:\n%s", out)
	}
}
