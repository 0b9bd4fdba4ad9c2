package config

import (
	"errors"
	"maps"
	"strings"
	"testing"
)

func ptr(s string) *string { return &s }

func TestApplyIncremental(t *testing.T) {
	current := map[string]string{"retention.ms": "1000", "cleanup.policy": "compact"}
	for _, tc := range []struct {
		name string
		ops  []AlterOp
		want map[string]string
	}{
		{"set and delete", []AlterOp{{"segment.ms", OpSet, ptr("60000")}, {"retention.ms", OpDelete, nil}},
			map[string]string{"segment.ms": "60000", "cleanup.policy": "compact"}},
		{"delete of an unset config", []AlterOp{{"segment.ms", OpDelete, nil}},
			map[string]string{"retention.ms": "1000", "cleanup.policy": "compact"}},
		{"append skips present elements", []AlterOp{{"cleanup.policy", OpAppend, ptr("delete,compact")}},
			map[string]string{"retention.ms": "1000", "cleanup.policy": "compact,delete"}},
		{"subtract", []AlterOp{{"cleanup.policy", OpSubtract, ptr("compact")}},
			map[string]string{"retention.ms": "1000", "cleanup.policy": ""}},
		{"append starts from the default", []AlterOp{{"leader.replication.throttled.replicas", OpAppend, ptr("0:1")}},
			map[string]string{"retention.ms": "1000", "cleanup.policy": "compact", "leader.replication.throttled.replicas": "0:1"}},
	} {
		got, err := ApplyIncremental(topicCatalog, current, tc.ops)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if !maps.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
	if current["retention.ms"] != "1000" || len(current) != 2 {
		t.Errorf("current was modified: %v", current)
	}
	got, _ := ApplyIncremental(topicCatalog, nil, []AlterOp{{"cleanup.policy", OpAppend, ptr("compact")}})
	if got["cleanup.policy"] != "delete,compact" {
		t.Errorf("append to unset cleanup.policy = %q, want the default plus compact", got["cleanup.policy"])
	}
}

func TestApplyIncrementalErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		ops     []AlterOp
		wantErr string
	}{
		{"append to a non-list", []AlterOp{{"retention.ms", OpAppend, ptr("1")}}, "APPEND and SUBTRACT apply only to LIST configs"},
		{"unknown", []AlterOp{{"retention.msec", OpSet, ptr("1")}}, "Unknown topic config name: retention.msec (did you mean retention.ms?)"},
		{"duplicate", []AlterOp{{"retention.ms", OpSet, ptr("1")}, {"retention.ms", OpDelete, nil}}, "more than once"},
		{"null set", []AlterOp{{"retention.ms", OpSet, nil}}, "null value"},
		{"bad op", []AlterOp{{"retention.ms", OpType(9), ptr("1")}}, "unknown operation"},
		{"bad list", []AlterOp{{"cleanup.policy", OpAppend, ptr("a,,b")}}, "empty elements"},
	} {
		_, err := ApplyIncremental(topicCatalog, nil, tc.ops)
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.wantErr)
		}
	}
}

func TestValidateBrokerAlter(t *testing.T) {
	for _, tc := range []struct {
		name      string
		configs   map[string]string
		perBroker bool
		wantErr   string
	}{
		{"cluster-wide at default", map[string]string{"log.retention.ms": "1000", "log.cleaner.threads": "2"}, false, ""},
		{"cluster-wide per broker", map[string]string{"min.insync.replicas": "2"}, true, ""},
		{"per-broker per broker", map[string]string{"listeners": "PLAINTEXT://:9092"}, true, ""},
		{"per-broker at default", map[string]string{"ssl.keystore.location": "/ks"}, false, "at the default cluster level"},
		{"read-only", map[string]string{"log.retention.hours": "1"}, true, "Cannot update this config dynamically"},
		{"read-only node.id", map[string]string{"node.id": "3"}, true, "read-only"},
		{"invalid value", map[string]string{"log.roll.ms": "0"}, false, "Value must be at least 1"},
		{"unknown", map[string]string{"log.retention.msec": "1"}, false, "did you mean log.retention.ms?"},
		{"listener-prefixed per broker", map[string]string{"listener.name.ssl.ssl.keystore.location": "/ks"}, true, ""},
		{"listener-prefixed at default", map[string]string{"listener.name.ssl.ssl.keystore.location": "/ks"}, false, "default cluster level"},
		{"listener-prefixed unknown", map[string]string{"listener.name.ssl.nope": "1"}, true, "Unknown broker config name"},
	} {
		err := ValidateBrokerAlter(tc.configs, tc.perBroker)
		if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.wantErr)
		}
	}
}
