package kit

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
)

// KeyValues parses key=value pairs (a config, a header); flag names the
// flag or argument for the error.
func KeyValues(pairs []string, flag string) ([][2]string, error) {
	out := make([][2]string, 0, len(pairs))
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("%s %q: want key=value", flag, p)
		}
		out = append(out, [2]string{strings.TrimSpace(k), v})
	}
	return out, nil
}

// ConfigMap parses key=value config pairs, refusing a key given twice.
func ConfigMap(pairs []string, flag string) (map[string]*string, error) {
	kvs, err := KeyValues(pairs, flag)
	if err != nil {
		return nil, err
	}
	m := make(map[string]*string, len(kvs))
	for _, kv := range kvs {
		if _, dup := m[kv[0]]; dup {
			return nil, fmt.Errorf("%s: %s given twice", flag, kv[0])
		}
		v := kv[1]
		m[kv[0]] = &v
	}
	return m, nil
}

// CompleteTopics completes topic names from the brokers, for commands whose
// arguments are topics.
func CompleteTopics(cmd *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
	adm, err := Admin(cmd)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError
	}
	defer adm.Close()
	ctx, cancel := Timeout(cmd)
	defer cancel()
	topics, err := adm.ListTopics(ctx)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError
	}
	return unnamed(topics.Names(), args, prefix), cobra.ShellCompDirectiveNoFileComp
}

// CompleteGroups completes consumer group names from the brokers, for
// commands whose arguments are groups.
func CompleteGroups(cmd *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
	adm, err := Admin(cmd)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError
	}
	defer adm.Close()
	ctx, cancel := Timeout(cmd)
	defer cancel()
	groups, err := adm.ListGroups(ctx)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError
	}
	return unnamed(groups.Groups(), args, prefix), cobra.ShellCompDirectiveNoFileComp
}

// unnamed is the names that start with prefix and are not among args,
// sorted.
func unnamed(names, args []string, prefix string) []string {
	given := map[string]bool{}
	for _, a := range args {
		given[a] = true
	}
	var out []string
	for _, n := range names {
		if !given[n] && strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// Alterations turns key=value settings and key deletions into incremental
// config alterations, refusing a key named twice; setFlag names the
// settings in errors.
func Alterations(setFlag string, set, del []string) ([]kadm.AlterConfig, error) {
	if len(set) == 0 && len(del) == 0 {
		return nil, errors.New("nothing to change: give configs to set (key=value) or --delete key")
	}
	kvs, err := KeyValues(set, setFlag)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []kadm.AlterConfig
	for _, kv := range kvs {
		if seen[kv[0]] {
			return nil, fmt.Errorf("%s is named twice", kv[0])
		}
		seen[kv[0]] = true
		out = append(out, kadm.AlterConfig{Op: kadm.SetConfig, Name: kv[0], Value: kadm.StringPtr(kv[1])})
	}
	for _, k := range del {
		if k = strings.TrimSpace(k); k == "" || strings.Contains(k, "=") {
			return nil, fmt.Errorf("--delete %q: want a config name", k)
		}
		if seen[k] {
			return nil, fmt.Errorf("%s is named twice", k)
		}
		seen[k] = true
		out = append(out, kadm.AlterConfig{Op: kadm.DeleteConfig, Name: k})
	}
	return out, nil
}
