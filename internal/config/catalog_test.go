package config

import (
	"slices"
	"strings"
	"testing"
)

// kafkaTopicConfigs is Kafka 4.2's topic config table: each config and its
// "Server Default Property" ("" where Kafka lists null).
var kafkaTopicConfigs = map[string]string{
	"cleanup.policy":                          "log.cleanup.policy",
	"compression.gzip.level":                  "compression.gzip.level",
	"compression.lz4.level":                   "compression.lz4.level",
	"compression.type":                        "compression.type",
	"compression.zstd.level":                  "compression.zstd.level",
	"delete.retention.ms":                     "log.cleaner.delete.retention.ms",
	"file.delete.delay.ms":                    "log.segment.delete.delay.ms",
	"flush.messages":                          "log.flush.interval.messages",
	"flush.ms":                                "log.flush.interval.ms",
	"follower.replication.throttled.replicas": "",
	"index.interval.bytes":                    "log.index.interval.bytes",
	"leader.replication.throttled.replicas":   "",
	"local.retention.bytes":                   "log.local.retention.bytes",
	"local.retention.ms":                      "log.local.retention.ms",
	"max.compaction.lag.ms":                   "log.cleaner.max.compaction.lag.ms",
	"max.message.bytes":                       "message.max.bytes",
	"message.timestamp.after.max.ms":          "log.message.timestamp.after.max.ms",
	"message.timestamp.before.max.ms":         "log.message.timestamp.before.max.ms",
	"message.timestamp.type":                  "log.message.timestamp.type",
	"min.cleanable.dirty.ratio":               "log.cleaner.min.cleanable.ratio",
	"min.compaction.lag.ms":                   "log.cleaner.min.compaction.lag.ms",
	"min.insync.replicas":                     "min.insync.replicas",
	"preallocate":                             "log.preallocate",
	"remote.log.copy.disable":                 "",
	"remote.log.delete.on.disable":            "",
	"remote.storage.enable":                   "",
	"retention.bytes":                         "log.retention.bytes",
	"retention.ms":                            "log.retention.ms",
	"segment.bytes":                           "log.segment.bytes",
	"segment.index.bytes":                     "log.index.size.max.bytes",
	"segment.jitter.ms":                       "log.roll.jitter.ms",
	"segment.ms":                              "log.roll.ms",
	"unclean.leader.election.enable":          "unclean.leader.election.enable",
}

func TestTopicCatalogMatchesKafka(t *testing.T) {
	if got, want := len(topicCatalog.Defs()), len(kafkaTopicConfigs); got != want {
		t.Errorf("%d topic configs, Kafka 4.2 has %d", got, want)
	}
	for _, d := range topicCatalog.Defs() {
		want, ok := kafkaTopicConfigs[d.Name]
		if !ok {
			t.Errorf("%s is not a Kafka 4.2 topic config", d.Name)
			continue
		}
		var got string
		if len(d.Synonyms) > 0 {
			got = d.Synonyms[0].Name
		}
		if got != want {
			t.Errorf("%s: server default %q, Kafka's is %q", d.Name, got, want)
		}
	}
}

// Every topic config has a valid default, every synonym is a broker config
// of a compatible type, and the broker defaults give each topic config its
// own default.
func TestTopicDefaultsAndSynonyms(t *testing.T) {
	for _, d := range topicCatalog.Defs() {
		if !d.HasDefault {
			t.Errorf("%s has no default", d.Name)
			continue
		}
		if _, err := checkValue("topic", d, d.Default); err != nil {
			t.Errorf("%s default: %v", d.Name, err)
		}
		for _, s := range d.Synonyms {
			bd, ok := brokerCatalog.Lookup(s.Name)
			if !ok {
				t.Errorf("%s: synonym %s is not a broker config", d.Name, s.Name)
				continue
			}
			if !compatible(d.Type, bd.Type) {
				t.Errorf("%s (%v): synonym %s is %v", d.Name, d.Type, s.Name, bd.Type)
			}
			if s.factor() != 1 && d.Type != TypeLong {
				t.Errorf("%s: unit conversion into a %v", d.Name, d.Type)
			}
		}
		e, _ := DescribeTopicConfig(d.Name, Layers{})
		if want := *canonical(d, d.Default); e.Value == nil || *e.Value != want {
			t.Errorf("%s: broker defaults give %v, the topic default is %s", d.Name, valueOf(e), want)
		}
	}
}

func compatible(a, b Type) bool {
	isInt := func(t Type) bool { return t == TypeInt || t == TypeShort || t == TypeLong }
	return a == b || isInt(a) && isInt(b)
}

func TestBrokerCatalog(t *testing.T) {
	for _, d := range brokerCatalog.Defs() {
		if d.Mode == ModeUnset || d.Importance == ImportanceUnset || d.Type == TypeUnknown {
			t.Errorf("%s: mode %v, importance %v, type %v must all be set", d.Name, d.Mode, d.Importance, d.Type)
		}
		if d.Doc == "" {
			t.Errorf("%s has no doc", d.Name)
		}
		if d.NoEffect != strings.HasPrefix(d.Doc, noEffectDoc) {
			t.Errorf("%s: NoEffect=%v but doc %q", d.Name, d.NoEffect, d.Doc)
		}
		if d.HasDefault {
			if err := checkBrokerValue(d, d.Default); err != nil {
				t.Errorf("%s default: %v", d.Name, err)
			}
		}
		for _, s := range d.Synonyms {
			sd, ok := brokerCatalog.Lookup(s.Name)
			if !ok || !compatible(d.Type, sd.Type) {
				t.Errorf("%s: synonym %s missing or of another type", d.Name, s.Name)
			}
		}
		if _, isTopic := topicCatalog.Lookup(d.Name); isTopic && d.Mode == ReadOnly {
			t.Errorf("%s shares a topic config's name, so Kafka makes it dynamic", d.Name)
		}
	}
}

// The configs Samsa honours now or soon are all there.
func TestBrokerCatalogHasTheBrief(t *testing.T) {
	for _, name := range strings.Fields(`node.id process.roles listeners advertised.listeners
		listener.security.protocol.map controller.listener.names controller.quorum.voters
		controller.quorum.bootstrap.servers inter.broker.listener.name log.dirs log.dir metadata.log.dir
		num.partitions default.replication.factor auto.create.topics.enable delete.topic.enable
		socket.request.max.bytes connections.max.idle.ms queued.max.requests message.max.bytes
		log.segment.bytes log.roll.ms log.roll.hours log.retention.ms log.retention.minutes
		log.retention.hours log.retention.bytes log.cleanup.policy log.flush.interval.messages
		log.flush.interval.ms log.index.interval.bytes log.index.size.max.bytes
		log.message.timestamp.type log.cleaner.threads log.retention.check.interval.ms
		min.insync.replicas unclean.leader.election.enable offsets.topic.num.partitions
		offsets.topic.replication.factor transaction.state.log.num.partitions
		transaction.state.log.replication.factor transactional.id.expiration.ms producer.id.expiration.ms
		group.min.session.timeout.ms group.max.session.timeout.ms group.initial.rebalance.delay.ms
		group.max.size group.consumer.session.timeout.ms replica.lag.time.max.ms broker.rack
		compression.type metrics.listen num.network.threads num.io.threads socket.send.buffer.bytes
		socket.receive.buffer.bytes num.recovery.threads.per.data.dir`) {
		if _, ok := brokerCatalog.Lookup(name); !ok {
			t.Errorf("broker catalog lacks %s", name)
		}
	}
	for _, name := range []string{"num.network.threads", "num.io.threads", "socket.send.buffer.bytes",
		"socket.receive.buffer.bytes", "num.recovery.threads.per.data.dir"} {
		if d, _ := brokerCatalog.Lookup(name); !d.NoEffect {
			t.Errorf("%s should be marked as accepted without effect", name)
		}
	}
	d, _ := brokerCatalog.Lookup("metrics.listen")
	if !strings.Contains(d.Doc, "Samsa extension") {
		t.Errorf("metrics.listen doc: %q", d.Doc)
	}
}

// Samsa's deliberate departures from Kafka's defaults; changing one must be
// deliberate too, and listed in catalog_broker.go.
func TestSamsaDefaults(t *testing.T) {
	for name, want := range map[string]string{
		"node.id":                          "1",
		"process.roles":                    "broker,controller",
		"controller.listener.names":        "CONTROLLER",
		"listeners":                        "PLAINTEXT://:9092,CONTROLLER://:9093",
		"log.dir":                          "./data",
		"offsets.topic.replication.factor": "1",
		"transaction.state.log.replication.factor": "1",
		"transaction.state.log.min.isr":            "1",
		"metrics.listen":                           ":9644",
		// Kafka's, for contrast.
		"log.retention.hours":          "168",
		"message.max.bytes":            "1048588",
		"socket.request.max.bytes":     "104857600",
		"group.max.session.timeout.ms": "1800000",
	} {
		d, ok := brokerCatalog.Lookup(name)
		if !ok || !d.HasDefault || d.Default != want {
			t.Errorf("%s default = %q, want %q", name, d.Default, want)
		}
	}
	if d, _ := brokerCatalog.Lookup("log.dirs"); d.HasDefault {
		t.Error("log.dirs must stay unset by default so that log.dir applies")
	}
}

func TestDynamicUpdateModes(t *testing.T) {
	for mode, names := range map[UpdateMode][]string{
		ReadOnly: {"node.id", "log.dirs", "log.retention.hours", "log.retention.minutes", "log.roll.hours",
			"advertised.listeners", "num.partitions", "auto.create.topics.enable", "log.flush.scheduler.interval.ms"},
		PerBroker: {"listeners", "listener.security.protocol.map", "ssl.keystore.location", "sasl.jaas.config"},
		ClusterWide: {"log.retention.ms", "log.roll.ms", "log.segment.bytes", "message.max.bytes",
			"min.insync.replicas", "compression.type", "log.cleaner.threads", "num.io.threads"},
	} {
		for _, n := range names {
			if d, _ := brokerCatalog.Lookup(n); d == nil || d.Mode != mode {
				t.Errorf("%s: mode %v, want %v", n, d.Mode, mode)
			}
		}
	}
}

func TestKafkaCodes(t *testing.T) {
	types := []Type{TypeBoolean, TypeString, TypeInt, TypeShort, TypeLong, TypeDouble, TypeList, TypeClass, TypePassword}
	for i, ty := range types {
		if int(ty) != i+1 {
			t.Errorf("%v = %d, want %d", ty, ty, i+1)
		}
	}
	if TypeLong.String() != "LONG" || TypePassword.String() != "PASSWORD" {
		t.Error("type names")
	}
	// Kafka's DescribeConfigsResponse.ConfigSource codes, as kmsg numbers them.
	sources := []Source{SourceUnknown, SourceDynamicTopic, SourceDynamicBroker, SourceDynamicDefaultBroker,
		SourceStaticBroker, SourceDefault, SourceDynamicBrokerLogger, SourceDynamicClientMetrics, SourceDynamicGroup}
	for i, s := range sources {
		if int(s) != i {
			t.Errorf("%v = %d, want %d", s, s, i)
		}
	}
	if SourceStaticBroker.String() != "STATIC_BROKER_CONFIG" || SourceDynamicGroup.String() != "GROUP_CONFIG" {
		t.Error("source names")
	}
	if !slices.Equal([]string{ReadOnly.String(), PerBroker.String(), ClusterWide.String()},
		[]string{"read-only", "per-broker", "cluster-wide"}) {
		t.Error("mode names")
	}
}

func TestValidatorDescriptions(t *testing.T) {
	for _, tc := range []struct {
		v    Validator
		want string
	}{
		{AtLeast(1048576), "[1048576,...]"},
		{Between(1, 17), "[1,...,17]"},
		{AnyOf(Between(1, 9), Exactly(-1)), "[1,...,9] or -1"},
		{FloatBetween(0, 1), "[0,...,1]"},
		{OneOf("CreateTime", "LogAppendTime"), "[CreateTime, LogAppendTime]"},
		{OneOfFold("UPGRADE", "DOWNGRADE"), "(case insensitive) [UPGRADE, DOWNGRADE]"},
		{EachOf("compact", "delete"), "[compact, delete]"},
		{NonEmptyList(), "non-empty list"},
	} {
		if got := tc.v.String(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
	if err := OneOfFold("UPGRADE").Validate("upgrade"); err != nil {
		t.Errorf("case-insensitive: %v", err)
	}
	if err := NonEmptyString().Validate(""); err == nil {
		t.Error("empty string accepted")
	}
}
