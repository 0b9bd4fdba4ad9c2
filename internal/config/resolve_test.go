package config

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// syns renders synonyms as "SOURCE name=value" lines for comparison.
func syns(e Entry) string {
	parts := make([]string, len(e.Synonyms))
	for i, s := range e.Synonyms {
		v := "<nil>"
		if s.Value != nil {
			v = *s.Value
		}
		parts[i] = fmt.Sprintf("%v %s=%s", s.Source, s.Name, v)
	}
	return strings.Join(parts, "; ")
}

func valueOf(e Entry) string {
	if e.Value == nil {
		return "<nil>"
	}
	return *e.Value
}

// retention.ms takes the topic override, then log.retention.ms,
// log.retention.minutes and log.retention.hours (converted) from the dynamic
// per-broker, dynamic default, static and default layers in that order.
func TestDescribeTopicRetentionPrecedence(t *testing.T) {
	for _, tc := range []struct {
		name       string
		l          Layers
		wantValue  string
		wantSource Source
		wantSyns   string
	}{
		{"defaults only", Layers{}, "604800000", SourceDefault,
			"DEFAULT_CONFIG log.retention.hours=168"},
		{"static hours", Layers{Static: map[string]string{"log.retention.hours": "24"}},
			"86400000", SourceStaticBroker,
			"STATIC_BROKER_CONFIG log.retention.hours=24; DEFAULT_CONFIG log.retention.hours=168"},
		{"static minutes beat static hours", Layers{Static: map[string]string{"log.retention.hours": "24", "log.retention.minutes": "30"}},
			"1800000", SourceStaticBroker,
			"STATIC_BROKER_CONFIG log.retention.minutes=30; STATIC_BROKER_CONFIG log.retention.hours=24; DEFAULT_CONFIG log.retention.hours=168"},
		{"static ms beats minutes", Layers{Static: map[string]string{"log.retention.ms": "1234", "log.retention.minutes": "30"}},
			"1234", SourceStaticBroker,
			"STATIC_BROKER_CONFIG log.retention.ms=1234; STATIC_BROKER_CONFIG log.retention.minutes=30; DEFAULT_CONFIG log.retention.hours=168"},
		{"dynamic default beats static", Layers{
			DynamicDefault: map[string]string{"log.retention.ms": "5000"},
			Static:         map[string]string{"log.retention.hours": "24"}},
			"5000", SourceDynamicDefaultBroker,
			"DYNAMIC_DEFAULT_BROKER_CONFIG log.retention.ms=5000; STATIC_BROKER_CONFIG log.retention.hours=24; DEFAULT_CONFIG log.retention.hours=168"},
		{"dynamic per-broker beats dynamic default", Layers{
			DynamicBroker:  map[string]string{"log.retention.ms": "7000"},
			DynamicDefault: map[string]string{"log.retention.ms": "5000"}},
			"7000", SourceDynamicBroker,
			"DYNAMIC_BROKER_CONFIG log.retention.ms=7000; DYNAMIC_DEFAULT_BROKER_CONFIG log.retention.ms=5000; DEFAULT_CONFIG log.retention.hours=168"},
		{"topic override beats all", Layers{
			Topic:         map[string]string{"retention.ms": "1000"},
			DynamicBroker: map[string]string{"log.retention.ms": "7000"}},
			"1000", SourceDynamicTopic,
			"DYNAMIC_TOPIC_CONFIG retention.ms=1000; DYNAMIC_BROKER_CONFIG log.retention.ms=7000; DEFAULT_CONFIG log.retention.hours=168"},
		{"negative hours mean no limit", Layers{Static: map[string]string{"log.retention.hours": "-1"}},
			"-1", SourceStaticBroker,
			"STATIC_BROKER_CONFIG log.retention.hours=-1; DEFAULT_CONFIG log.retention.hours=168"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, ok := DescribeTopicConfig("retention.ms", tc.l)
			if !ok {
				t.Fatal("retention.ms not found")
			}
			if valueOf(e) != tc.wantValue || e.Source != tc.wantSource || syns(e) != tc.wantSyns {
				t.Errorf("got %s %v [%s]\nwant %s %v [%s]", valueOf(e), e.Source, syns(e), tc.wantValue, tc.wantSource, tc.wantSyns)
			}
			if e.ReadOnly || e.Sensitive || e.Type != TypeLong || e.Doc == "" {
				t.Errorf("flags: %+v", e)
			}
		})
	}
}

func TestDescribeTopicOtherSynonyms(t *testing.T) {
	for _, tc := range []struct {
		config     string
		l          Layers
		wantValue  string
		wantSource Source
		wantSyns   string
	}{
		{"segment.ms", Layers{}, "604800000", SourceDefault, "DEFAULT_CONFIG log.roll.hours=168"},
		{"segment.ms", Layers{Static: map[string]string{"log.roll.hours": "1"}}, "3600000", SourceStaticBroker,
			"STATIC_BROKER_CONFIG log.roll.hours=1; DEFAULT_CONFIG log.roll.hours=168"},
		{"segment.jitter.ms", Layers{Static: map[string]string{"log.roll.jitter.hours": "2"}}, "7200000", SourceStaticBroker,
			"STATIC_BROKER_CONFIG log.roll.jitter.hours=2; DEFAULT_CONFIG log.roll.jitter.hours=0"},
		{"flush.ms", Layers{}, maxLong, SourceDefault, "DEFAULT_CONFIG log.flush.scheduler.interval.ms=" + maxLong},
		{"flush.ms", Layers{DynamicDefault: map[string]string{"log.flush.interval.ms": "1000"}}, "1000", SourceDynamicDefaultBroker,
			"DYNAMIC_DEFAULT_BROKER_CONFIG log.flush.interval.ms=1000; DEFAULT_CONFIG log.flush.scheduler.interval.ms=" + maxLong},
		{"flush.messages", Layers{Static: map[string]string{"log.flush.interval.messages": "1"}}, "1", SourceStaticBroker,
			"STATIC_BROKER_CONFIG log.flush.interval.messages=1; DEFAULT_CONFIG log.flush.interval.messages=" + maxLong},
		{"max.message.bytes", Layers{Static: map[string]string{"message.max.bytes": "2000000"}}, "2000000", SourceStaticBroker,
			"STATIC_BROKER_CONFIG message.max.bytes=2000000; DEFAULT_CONFIG message.max.bytes=1048588"},
		{"cleanup.policy", Layers{DynamicBroker: map[string]string{"log.cleanup.policy": "compact , delete"}}, "compact,delete", SourceDynamicBroker,
			"DYNAMIC_BROKER_CONFIG log.cleanup.policy=compact , delete; DEFAULT_CONFIG log.cleanup.policy=delete"},
		{"min.cleanable.dirty.ratio", Layers{}, "0.5", SourceDefault, "DEFAULT_CONFIG log.cleaner.min.cleanable.ratio=0.5"},
		{"compression.type", Layers{Topic: map[string]string{"compression.type": "zstd"}}, "zstd", SourceDynamicTopic,
			"DYNAMIC_TOPIC_CONFIG compression.type=zstd; DEFAULT_CONFIG compression.type=producer"},
		{"remote.storage.enable", Layers{}, "false", SourceDefault, ""},
		{"leader.replication.throttled.replicas", Layers{Topic: map[string]string{"leader.replication.throttled.replicas": "*"}},
			"*", SourceDynamicTopic, "DYNAMIC_TOPIC_CONFIG leader.replication.throttled.replicas=*"},
	} {
		e, _ := DescribeTopicConfig(tc.config, tc.l)
		if valueOf(e) != tc.wantValue || e.Source != tc.wantSource || syns(e) != tc.wantSyns {
			t.Errorf("%s: got %s %v [%s]\nwant %s %v [%s]", tc.config, valueOf(e), e.Source, syns(e), tc.wantValue, tc.wantSource, tc.wantSyns)
		}
	}
}

func TestDescribeTopicListsEveryConfig(t *testing.T) {
	entries := DescribeTopic(Layers{})
	if len(entries) != len(topicCatalog.Defs()) {
		t.Fatalf("%d entries for %d configs", len(entries), len(topicCatalog.Defs()))
	}
	for i, e := range entries {
		if i > 0 && entries[i-1].Name >= e.Name {
			t.Errorf("not sorted at %s", e.Name)
		}
		if e.Value == nil {
			t.Errorf("%s has no value", e.Name)
		}
	}
}

func TestDescribeBroker(t *testing.T) {
	for _, tc := range []struct {
		config     string
		l          Layers
		wantValue  string
		wantSource Source
		wantSyns   string
		readOnly   bool
	}{
		{"log.retention.ms", Layers{}, "604800000", SourceDefault, "DEFAULT_CONFIG log.retention.hours=168", false},
		{"log.retention.ms", Layers{Static: map[string]string{"log.retention.hours": "24"}}, "86400000", SourceStaticBroker,
			"STATIC_BROKER_CONFIG log.retention.hours=24; DEFAULT_CONFIG log.retention.hours=168", false},
		{"log.retention.minutes", Layers{}, "10080", SourceDefault, "DEFAULT_CONFIG log.retention.hours=168", true},
		// A lower-precedence name lists no higher-precedence synonym.
		{"log.retention.hours", Layers{Static: map[string]string{"log.retention.ms": "1"}}, "168", SourceDefault,
			"DEFAULT_CONFIG log.retention.hours=168", true},
		{"log.roll.ms", Layers{DynamicDefault: map[string]string{"log.roll.ms": "60000"}}, "60000", SourceDynamicDefaultBroker,
			"DYNAMIC_DEFAULT_BROKER_CONFIG log.roll.ms=60000; DEFAULT_CONFIG log.roll.hours=168", false},
		{"log.dirs", Layers{}, "./data", SourceDefault, "DEFAULT_CONFIG log.dir=./data", true},
		{"log.dirs", Layers{Static: map[string]string{"log.dir": "/d"}}, "/d", SourceStaticBroker,
			"STATIC_BROKER_CONFIG log.dir=/d; DEFAULT_CONFIG log.dir=./data", true},
		{"broker.rack", Layers{}, "<nil>", SourceDefault, "", true},
		{"num.io.threads", Layers{Static: map[string]string{"num.io.threads": "16"}}, "16", SourceStaticBroker,
			"STATIC_BROKER_CONFIG num.io.threads=16; DEFAULT_CONFIG num.io.threads=8", false},
		{"ssl.keystore.password", Layers{Static: map[string]string{"ssl.keystore.password": "pw"}}, "<nil>", SourceStaticBroker,
			"STATIC_BROKER_CONFIG ssl.keystore.password=<nil>", false},
	} {
		e, ok := DescribeBrokerConfig(tc.config, tc.l)
		if !ok {
			t.Fatalf("%s not found", tc.config)
		}
		if valueOf(e) != tc.wantValue || e.Source != tc.wantSource || syns(e) != tc.wantSyns || e.ReadOnly != tc.readOnly {
			t.Errorf("%s: got %s %v [%s] ro=%v\nwant %s %v [%s] ro=%v", tc.config, valueOf(e), e.Source, syns(e), e.ReadOnly,
				tc.wantValue, tc.wantSource, tc.wantSyns, tc.readOnly)
		}
	}
	e, _ := DescribeBrokerConfig("ssl.keystore.password", Layers{})
	if !e.Sensitive || e.Type != TypePassword {
		t.Errorf("password entry: %+v", e)
	}
	if _, ok := DescribeBrokerConfig("retention.ms", Layers{}); ok {
		t.Error("a topic config is not a broker config")
	}
	if got := len(DescribeBroker(Layers{})); got != len(brokerCatalog.Defs()) {
		t.Errorf("DescribeBroker: %d entries", got)
	}
}

func TestDescribeBrokerDefaults(t *testing.T) {
	l := Layers{
		DynamicBroker:  map[string]string{"log.retention.ms": "1", "log.cleaner.threads": "2"},
		DynamicDefault: map[string]string{"log.retention.ms": "5000"},
		Static:         map[string]string{"log.retention.hours": "24"},
	}
	entries := DescribeBrokerDefaults(l)
	if len(entries) != 1 {
		t.Fatalf("got %d entries, want only the dynamic default", len(entries))
	}
	e := entries[0]
	if e.Name != "log.retention.ms" || valueOf(e) != "5000" || e.Source != SourceDynamicDefaultBroker ||
		syns(e) != "DYNAMIC_DEFAULT_BROKER_CONFIG log.retention.ms=5000" {
		t.Errorf("got %s %s %v [%s]", e.Name, valueOf(e), e.Source, syns(e))
	}
}

func TestResolveTopicTypedValues(t *testing.T) {
	v, err := ResolveTopic(Layers{
		Topic:  map[string]string{"cleanup.policy": "compact,delete", "min.cleanable.dirty.ratio": "0.1"},
		Static: map[string]string{"log.retention.minutes": "90", "log.preallocate": "true"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := v.Long("retention.ms"); got != 90*minuteMs {
		t.Errorf("retention.ms = %d", got)
	}
	if got := v.Duration("retention.ms"); got != 90*time.Minute {
		t.Errorf("retention.ms duration = %v", got)
	}
	if got := v.Duration("max.compaction.lag.ms"); got != time.Duration(1<<63-1) {
		t.Errorf("never should saturate, got %v", got)
	}
	if got := v.List("cleanup.policy"); strings.Join(got, "|") != "compact|delete" {
		t.Errorf("cleanup.policy = %q", got)
	}
	if got := v.Double("min.cleanable.dirty.ratio"); got != 0.1 {
		t.Errorf("ratio = %v", got)
	}
	if !v.Bool("preallocate") || v.Source("preallocate") != SourceStaticBroker {
		t.Errorf("preallocate = %v from %v", v.Bool("preallocate"), v.Source("preallocate"))
	}
	if got := v.Int("max.message.bytes"); got != 1048588 {
		t.Errorf("max.message.bytes = %d", got)
	}
	if got, _ := v.Lookup("cleanup.policy"); got != "compact,delete" {
		t.Errorf("Lookup = %q", got)
	}
	if got := v.Map()["compression.type"]; got != "producer" {
		t.Errorf("Map compression.type = %q", got)
	}
}

func TestResolveTopicRejectsBadStoredValues(t *testing.T) {
	_, err := ResolveTopic(Layers{Topic: map[string]string{"segment.ms": "soon"}})
	if err == nil || !strings.Contains(err.Error(), "segment.ms") {
		t.Errorf("got %v", err)
	}
}

func TestResolveBrokerDynamic(t *testing.T) {
	v, err := ResolveBroker(Layers{
		DynamicBroker:  map[string]string{"log.cleaner.threads": "4"},
		DynamicDefault: map[string]string{"log.cleaner.threads": "2", "min.insync.replicas": "2"},
		Static:         map[string]string{"min.insync.replicas": "3"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := v.Int("log.cleaner.threads"); got != 4 {
		t.Errorf("per-broker should win: %d", got)
	}
	if got := v.Int("min.insync.replicas"); got != 2 {
		t.Errorf("dynamic default should beat static: %d", got)
	}
}

func TestValuesPanicOnMisuse(t *testing.T) {
	v, _ := ValidateBroker(nil)
	for name, f := range map[string]func(){
		"unknown name": func() { v.Int("no.such.config") },
		"wrong type":   func() { v.Bool("num.partitions") },
		"topic name":   func() { v.Long("retention.ms") },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}
