package config

import (
	"errors"
	"strings"
	"testing"
)

// Every type parses as Kafka's ConfigDef does and fails with its words.
func TestValidateTopicTypesAndValidators(t *testing.T) {
	for _, tc := range []struct {
		name, value string
		wantErr     string // "" for accepted
	}{
		{"preallocate", "TRUE", ""},
		{"preallocate", " false ", ""},
		{"preallocate", "yes", "Invalid value yes for configuration preallocate: Expected value to be either true or false"},
		{"retention.ms", "-1", ""},
		{"retention.ms", "9223372036854775807", ""},
		{"retention.ms", "-2", "Invalid value -2 for configuration retention.ms: Value must be at least -1"},
		{"retention.ms", "1h", "Invalid value 1h for configuration retention.ms: Not a number of type LONG"},
		{"retention.ms", "9223372036854775808", "Not a number of type LONG"},
		{"max.message.bytes", "2147483648", "Invalid value 2147483648 for configuration max.message.bytes: Not a number of type INT"},
		{"segment.bytes", "1048575", "Value must be at least 1048576"},
		{"segment.bytes", "1048576", ""},
		{"segment.index.bytes", "3", "Value must be at least 4"},
		{"min.cleanable.dirty.ratio", "0.75", ""},
		{"min.cleanable.dirty.ratio", "1.5", "Invalid value 1.5 for configuration min.cleanable.dirty.ratio: Value must be no more than 1"},
		{"min.cleanable.dirty.ratio", "half", "Not a number of type DOUBLE"},
		{"compression.gzip.level", "-1", ""},
		{"compression.gzip.level", "9", ""},
		{"compression.gzip.level", "0", "Value must be in [1,...,9] or -1"},
		{"compression.lz4.level", "18", "Value must be no more than 17"},
		{"compression.zstd.level", "-131072", ""},
		{"compression.zstd.level", "23", "Value must be no more than 22"},
		{"compression.type", "zstd", ""},
		{"compression.type", "producer", ""},
		{"compression.type", "uncompressed", ""},
		{"compression.type", "ZSTD", "String must be one of: uncompressed, zstd, lz4, snappy, gzip, producer"},
		{"compression.type", "brotli", "String must be one of"},
		{"message.timestamp.type", "LogAppendTime", ""},
		{"message.timestamp.type", "logappendtime", "String must be one of: CreateTime, LogAppendTime"},
		{"cleanup.policy", "compact", ""},
		{"cleanup.policy", "compact, delete", ""},
		{"cleanup.policy", "delete,delete", ""},
		{"cleanup.policy", "", ""},
		{"cleanup.policy", "compact,,delete", "List must not contain empty elements"},
		{"cleanup.policy", "compact,archive", "Invalid value compact,archive for configuration cleanup.policy: String must be one of: compact, delete"},
		{"min.insync.replicas", "0", "Value must be at least 1"},
		{"flush.messages", "0", "Value must be at least 1"},
		{"local.retention.ms", "-2", ""},
		{"local.retention.ms", "-3", "Value must be at least -2"},
		{"leader.replication.throttled.replicas", "*", ""},
		{"leader.replication.throttled.replicas", "0:101, 1:102", ""},
		{"follower.replication.throttled.replicas", "0-101", "[partitionId]:[brokerId]"},
		{"follower.replication.throttled.replicas", "*,0:1", "[partitionId]:[brokerId]"},
		{"retentoin.ms", "1", "Unknown topic config name: retentoin.ms (did you mean retention.ms?)"},
	} {
		err := ValidateTopic(map[string]string{tc.name: tc.value})
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s=%q: unexpected error %v", tc.name, tc.value, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s=%q: got %v, want error containing %q", tc.name, tc.value, err, tc.wantErr)
		case err != nil && !errors.Is(err, ErrInvalidConfig):
			t.Errorf("%s=%q: %v does not match ErrInvalidConfig", tc.name, tc.value, err)
		}
	}
}

func TestValidateTopicReportsEveryProblem(t *testing.T) {
	err := ValidateTopic(map[string]string{
		"retention.ms":     "x",
		"log.retention.ms": "5",
		"segment.ms":       "0",
		"cleanup.policy":   "compact",
	})
	var es Errors
	if !errors.As(err, &es) || len(es) != 3 {
		t.Fatalf("got %v, want three errors", err)
	}
	// Sorted by name: log.retention.ms, retention.ms, segment.ms.
	if !es[0].Unknown || es[0].Suggestion != "retention.ms" {
		t.Errorf("broker name as topic override: got %+v, want a suggestion of retention.ms", es[0])
	}
	if es[1].Name != "retention.ms" || es[1].Value != "x" || es[1].Reason != "Not a number of type LONG" {
		t.Errorf("got %+v", es[1])
	}
	var one *Error
	if !errors.As(err, &one) || one.Kind != "topic" {
		t.Errorf("errors.As(*Error) = %+v", one)
	}
}

func TestValidateTopicCrossChecks(t *testing.T) {
	err := ValidateTopic(map[string]string{"min.compaction.lag.ms": "10", "max.compaction.lag.ms": "5"})
	if err == nil || !strings.Contains(err.Error(), "min.compaction.lag.ms (10) > max.compaction.lag.ms (5)") {
		t.Errorf("min > max lag: got %v", err)
	}
	if err := ValidateTopic(map[string]string{"min.compaction.lag.ms": "10", "max.compaction.lag.ms": "10"}); err != nil {
		t.Errorf("min == max lag: %v", err)
	}
	err = ValidateTopic(map[string]string{"remote.storage.enable": "true"})
	if err == nil || !strings.Contains(err.Error(), "Tiered Storage functionality is disabled") {
		t.Errorf("remote.storage.enable=true: got %v", err)
	}
	if err := ValidateTopic(map[string]string{"remote.storage.enable": "false"}); err != nil {
		t.Errorf("remote.storage.enable=false: %v", err)
	}
}

func TestSuggest(t *testing.T) {
	for _, tc := range []struct {
		cat        *Catalog
		name, want string
	}{
		{brokerCatalog, "lgo.dirs", "log.dirs"},
		{brokerCatalog, "log_retention_hours", "log.retention.hours"},
		{brokerCatalog, "LOG.DIRS", "log.dirs"},
		{brokerCatalog, "log.retention.hour", "log.retention.hours"},
		{brokerCatalog, "auto.create.topic.enable", "auto.create.topics.enable"},
		{brokerCatalog, "retention.ms", "log.retention.ms"},
		{brokerCatalog, "segment.ms", "log.roll.ms"},
		{brokerCatalog, "max.message.bytes", "message.max.bytes"},
		{brokerCatalog, "zookeeper.connect", ""},
		{brokerCatalog, "acks", ""},
		{topicCatalog, "log.cleanup.policy", "cleanup.policy"},
		{topicCatalog, "message.max.bytes", "max.message.bytes"},
		{topicCatalog, "log.roll.hours", "segment.ms"},
		{topicCatalog, "retention-ms", "retention.ms"},
		{topicCatalog, "bootstrap.servers", ""},
	} {
		if got := tc.cat.Suggest(tc.name); got != tc.want {
			t.Errorf("%s Suggest(%q) = %q, want %q", tc.cat.Kind(), tc.name, got, tc.want)
		}
	}
}

func TestValidateBrokerDefaults(t *testing.T) {
	v, err := ValidateBroker(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := v.List("log.dirs"); len(got) != 1 || got[0] != "./data" {
		t.Errorf("log.dirs = %q, want log.dir's ./data", got)
	}
	if _, set := v.Lookup("broker.rack"); set {
		t.Error("broker.rack should be null")
	}
	if got := v.String("metrics.listen"); got != ":9644" {
		t.Errorf("metrics.listen = %q", got)
	}
	protos := v.ListenerProtocols()
	if protos["CONTROLLER"] != "PLAINTEXT" || protos["SASL_SSL"] != "SASL_SSL" {
		t.Errorf("protocols = %v", protos)
	}
	if got := v.AdvertisedListenerNames(); len(got) != 1 || got[0] != "PLAINTEXT" {
		t.Errorf("advertised names = %q, want the non-controller listener", got)
	}
}

func TestValidateBrokerCollectsEveryError(t *testing.T) {
	_, err := ValidateBroker(map[string]string{
		"lgo.dirs":           "/x",
		"num.partitions":     "0",
		"log.segment.bytes":  "many",
		"ssl.key.password":   "  ",
		"zookeeper.connect":  "localhost:2181",
		"log.cleanup.policy": "compact",
	})
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("got %v", err)
	}
	got := make([]string, len(es))
	for i, e := range es {
		got[i] = e.Error()
	}
	want := []string{
		"Unknown broker config name: lgo.dirs (did you mean log.dirs?)",
		"Invalid value many for configuration log.segment.bytes: Not a number of type INT",
		"Invalid value 0 for configuration num.partitions: Value must be at least 1",
		"Unknown broker config name: zookeeper.connect",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestValidateBrokerHidesSecrets(t *testing.T) {
	_, err := ValidateBroker(map[string]string{"listener.name.ssl.ssl.key.password": "s3cret,", "ssl.client.auth": "maybe"})
	if err == nil || !strings.Contains(err.Error(), "ssl.client.auth") {
		t.Fatalf("got %v", err)
	}
	if e := checkBrokerKey("ssl.keystore.password", "x"); e != nil {
		t.Fatalf("a password accepts any string: %v", e)
	}
	d, _ := brokerCatalog.Lookup("ssl.keystore.password")
	if e := invalid("broker", d, "s3cret", "bad"); strings.Contains(e.Error(), "s3cret") || e.Value != hidden {
		t.Errorf("secret leaked: %v", e)
	}
}

// Broker configs that stand in for topic configs also pass the topic
// config's validator, converted to its unit.
func TestValidateBrokerChecksTopicSynonyms(t *testing.T) {
	for _, tc := range []struct {
		name, value, wantErr string
	}{
		{"log.roll.ms", "0", "Invalid value 0 for configuration log.roll.ms: Value must be at least 1"},
		{"log.flush.scheduler.interval.ms", "-5", "Value must be at least 0"},
		{"log.retention.hours", "-1", ""},
		{"log.retention.minutes", "-7", ""},
		{"log.retention.ms", "-2", "Value must be at least -1"},
		{"message.max.bytes", "-1", "Value must be at least 0"},
	} {
		_, err := ValidateBroker(map[string]string{tc.name: tc.value})
		if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%s=%s: got %v, want %q", tc.name, tc.value, err, tc.wantErr)
		}
	}
}

func TestValidateBrokerCrossChecks(t *testing.T) {
	for _, tc := range []struct {
		name    string
		props   map[string]string
		wantErr string
	}{
		{"broker.id equals node.id", map[string]string{"broker.id": "1"}, ""},
		{"broker.id differs", map[string]string{"node.id": "2", "broker.id": "3"}, "broker.id (3) must equal node.id (2)"},
		{"controller listener missing", map[string]string{"listeners": "PLAINTEXT://:9092"},
			"controller.listener.names must contain at least one value appearing in the 'listeners'"},
		{"broker-only with controller listener", map[string]string{"process.roles": "broker"},
			"must not contain a value appearing in the 'listeners' configuration when running KRaft with just the broker role"},
		{"broker-only", map[string]string{"process.roles": "broker", "listeners": "PLAINTEXT://:9092",
			"controller.quorum.voters": "1@localhost:9093"}, ""},
		{"unmapped listener", map[string]string{"listeners": "INTERNAL://:9092,CONTROLLER://:9093"},
			"No security protocol defined for listener INTERNAL"},
		{"mapped listener", map[string]string{"listeners": "internal://:9092,CONTROLLER://:9093",
			"listener.security.protocol.map": "INTERNAL:SSL"}, ""},
		{"both inter-broker settings", map[string]string{"inter.broker.listener.name": "PLAINTEXT",
			"security.inter.broker.protocol": "PLAINTEXT"}, "Only one of inter.broker.listener.name and security.inter.broker.protocol"},
		{"inter-broker listener not advertised", map[string]string{"inter.broker.listener.name": "SSL"},
			"inter.broker.listener.name must be a listener name defined in advertised.listeners"},
		{"advertise 0.0.0.0", map[string]string{"advertised.listeners": "PLAINTEXT://0.0.0.0:9092"},
			"cannot use the nonroutable meta-address 0.0.0.0"},
		{"duplicate listener names", map[string]string{"listeners": "PLAINTEXT://:9092,plaintext://:9094,CONTROLLER://:9093"},
			"PLAINTEXT appears twice"},
		{"bad listener", map[string]string{"listeners": "PLAINTEXT:9092"}, "must be of the form NAME://host:port"},
		{"bad voters", map[string]string{"controller.quorum.voters": "localhost:9093"}, "must be of the form id@host:port"},
		{"ipv6 listener", map[string]string{"listeners": "PLAINTEXT://[::1]:9092,CONTROLLER://:9093"}, ""},
		{"bad metrics.listen", map[string]string{"metrics.listen": "9644"}, "must be of the form host:port"},
		{"metrics off", map[string]string{"metrics.listen": ""}, ""},
	} {
		_, err := ValidateBroker(tc.props)
		if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.wantErr)
		}
	}
}

func TestListenerPrefixedConfigs(t *testing.T) {
	v, err := ValidateBroker(map[string]string{
		"listeners": "PLAINTEXT://:9092,SASL_SSL://:9094,CONTROLLER://:9093",
		"listener.name.sasl_ssl.ssl.keystore.location":  "/etc/ks.jks",
		"listener.name.sasl_ssl.plain.sasl.jaas.config": "org.example.Login required;",
		"listener.name.sasl_ssl.max.connections":        "100",
		"ssl.keystore.location":                         "/etc/default.jks",
		"listener.security.protocol.map":                "PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL",
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := v.ListenerConfig("SASL_SSL", "ssl.keystore.location"); got != "/etc/ks.jks" {
		t.Errorf("listener keystore = %q", got)
	}
	if got, _ := v.ListenerConfig("PLAINTEXT", "ssl.keystore.location"); got != "/etc/default.jks" {
		t.Errorf("fallback keystore = %q", got)
	}
	if got, ok := v.ListenerConfig("sasl_ssl", "plain.sasl.jaas.config"); !ok || got != "org.example.Login required;" {
		t.Errorf("mechanism jaas = %q %v", got, ok)
	}
	if _, ok := v.ListenerConfig("PLAINTEXT", "plain.sasl.jaas.config"); ok {
		t.Error("mechanism-prefixed config has no broker-wide fallback")
	}
	for name, wantErr := range map[string]string{
		"listener.name.sasl_ssl.max.connections": "Not a number of type INT",
		"listener.name.sasl_ssl.no.such.config":  "Unknown broker config name: listener.name.sasl_ssl.no.such.config",
		"listener.name.ssl.keystore.location":    "Unknown broker config name",
	} {
		_, err := ValidateBroker(map[string]string{name: "x"})
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("%s: got %v, want %q", name, err, wantErr)
		}
	}
}
