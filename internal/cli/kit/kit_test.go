package kit

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
)

func TestBrokers(t *testing.T) {
	brokers := func(args ...string) string {
		root := &cobra.Command{Use: "x", RunE: func(*cobra.Command, []string) error { return nil }}
		AddRootFlags(root)
		root.SetArgs(args)
		if err := root.Execute(); err != nil {
			t.Fatal(err)
		}
		return strings.Join(Brokers(root), "|")
	}
	t.Setenv(EnvBrokers, "")
	if got := brokers(); got != DefaultBrokers {
		t.Errorf("default: %s", got)
	}
	t.Setenv(EnvBrokers, "e1:1, e2:2")
	if got := brokers(); got != "e1:1|e2:2" {
		t.Errorf("from the environment: %s", got)
	}
	if got := brokers("--brokers", " a:1,,b:2 "); got != "a:1|b:2" {
		t.Errorf("--brokers over the environment: %s", got)
	}
}

func TestAlterations(t *testing.T) {
	as, err := Alterations("--set", []string{"a=1", "b=x=y", "c="}, []string{"d"})
	if err != nil {
		t.Fatal(err)
	}
	want := []kadm.AlterConfig{
		{Op: kadm.SetConfig, Name: "a", Value: kadm.StringPtr("1")},
		{Op: kadm.SetConfig, Name: "b", Value: kadm.StringPtr("x=y")},
		{Op: kadm.SetConfig, Name: "c", Value: kadm.StringPtr("")},
		{Op: kadm.DeleteConfig, Name: "d"},
	}
	for i := range want {
		if as[i].Op != want[i].Op || as[i].Name != want[i].Name || (want[i].Value != nil) != (as[i].Value != nil) ||
			want[i].Value != nil && *as[i].Value != *want[i].Value {
			t.Errorf("alteration %d: %+v, want %+v", i, as[i], want[i])
		}
	}
	for _, bad := range []struct{ set, del []string }{
		{nil, nil}, {[]string{"a"}, nil}, {[]string{"=1"}, nil}, {[]string{"a=1", "a=2"}, nil},
		{[]string{"a=1"}, []string{"a"}}, {nil, []string{"a=1"}}, {nil, []string{" "}},
	} {
		if _, err := Alterations("--set", bad.set, bad.del); err == nil {
			t.Errorf("set %q delete %q: no error", bad.set, bad.del)
		}
	}
	if _, err := ConfigMap([]string{"a=1", "a=2"}, "-c"); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("ConfigMap with a key twice: %v", err)
	}
}
