package config

import (
	"fmt"
	"sort"
)

// Type is a config's value type, numbered as Kafka's DescribeConfigs (v3+)
// ConfigType field numbers them.
type Type int8

// Kafka's ConfigType codes.
const (
	TypeUnknown  Type = 0
	TypeBoolean  Type = 1
	TypeString   Type = 2
	TypeInt      Type = 3
	TypeShort    Type = 4
	TypeLong     Type = 5
	TypeDouble   Type = 6
	TypeList     Type = 7
	TypeClass    Type = 8
	TypePassword Type = 9
)

var typeNames = [...]string{"UNKNOWN", "BOOLEAN", "STRING", "INT", "SHORT", "LONG", "DOUBLE", "LIST", "CLASS", "PASSWORD"}

// String returns Kafka's upper-case name of the type, as its error messages
// use it ("Not a number of type LONG").
func (t Type) String() string {
	if t >= 0 && int(t) < len(typeNames) {
		return typeNames[t]
	}
	return fmt.Sprintf("Type(%d)", int8(t))
}

// Source says where a described value came from, numbered as Kafka's
// DescribeConfigs ConfigSource.
type Source int8

// Kafka's ConfigSource codes.
const (
	SourceUnknown              Source = 0
	SourceDynamicTopic         Source = 1
	SourceDynamicBroker        Source = 2
	SourceDynamicDefaultBroker Source = 3
	SourceStaticBroker         Source = 4
	SourceDefault              Source = 5
	SourceDynamicBrokerLogger  Source = 6
	SourceDynamicClientMetrics Source = 7
	SourceDynamicGroup         Source = 8
)

var sourceNames = [...]string{
	"UNKNOWN", "DYNAMIC_TOPIC_CONFIG", "DYNAMIC_BROKER_CONFIG",
	"DYNAMIC_DEFAULT_BROKER_CONFIG", "STATIC_BROKER_CONFIG", "DEFAULT_CONFIG",
	"DYNAMIC_BROKER_LOGGER_CONFIG", "CLIENT_METRICS_CONFIG", "GROUP_CONFIG",
}

// String returns Kafka's name of the source, e.g. "STATIC_BROKER_CONFIG".
func (s Source) String() string {
	if s >= 0 && int(s) < len(sourceNames) {
		return sourceNames[s]
	}
	return fmt.Sprintf("Source(%d)", int8(s))
}

// Importance mirrors Kafka's documented importance of a config.
type Importance int8

// Importance levels; the zero value means none was given.
const (
	ImportanceUnset Importance = iota
	High
	Medium
	Low
)

func (i Importance) String() string {
	switch i {
	case High:
		return "high"
	case Medium:
		return "medium"
	case Low:
		return "low"
	}
	return ""
}

// UpdateMode is Kafka's dynamic update mode of a broker config. Topic configs
// leave it unset: every topic config may be altered.
type UpdateMode int8

// Update modes, named as Kafka's broker config table names them.
const (
	ModeUnset UpdateMode = iota
	// ReadOnly configs need a restart: only server.properties and flags set them.
	ReadOnly
	// PerBroker configs may be altered for one broker, not as a cluster default.
	PerBroker
	// ClusterWide configs may be altered as a cluster default or per broker.
	ClusterWide
)

func (m UpdateMode) String() string {
	switch m {
	case ReadOnly:
		return "read-only"
	case PerBroker:
		return "per-broker"
	case ClusterWide:
		return "cluster-wide"
	}
	return ""
}

// Synonym names a broker config that supplies a value for another config
// when that one is not set, with the factor that converts the synonym's
// unit to the config's (log.retention.hours to retention.ms: 3600000).
type Synonym struct {
	Name string
	// Factor multiplies the synonym's value; 0 and 1 both mean "same unit".
	Factor int64
}

func (s Synonym) factor() int64 {
	if s.Factor == 0 {
		return 1
	}
	return s.Factor
}

// Def describes one config: the single source for parsing, validation,
// DescribeConfigs and alters.
type Def struct {
	Name string
	Type Type
	// Default is the default in string form, meaningful when HasDefault.
	// A config without a default is null unless set (Kafka's "null").
	Default    string
	HasDefault bool
	Doc        string
	// Validator checks a parsed value; nil accepts every value of Type.
	Validator  Validator
	Importance Importance
	// Mode is the dynamic update mode of a broker config; unset for topics.
	Mode UpdateMode
	// Synonyms lists, highest precedence first, the broker configs that
	// supply this config's value when it is not set itself. For a topic
	// config these are its server defaults (retention.ms: log.retention.ms,
	// log.retention.minutes, log.retention.hours); for a broker config the
	// lower-precedence names of the same setting (log.retention.ms:
	// log.retention.minutes, log.retention.hours).
	Synonyms []Synonym
	// NoEffect marks a Kafka config Samsa accepts, so that Kafka's
	// server.properties loads, but does not act on.
	NoEffect bool
}

// Sensitive reports whether values of the config are secrets, hidden from
// DescribeConfigs and error messages (Kafka's PASSWORD type).
func (d *Def) Sensitive() bool { return d.Type == TypePassword }

// Catalog is an immutable set of config definitions: the broker's or the
// topic's.
type Catalog struct {
	kind   string // "broker" or "topic", for error messages
	defs   []*Def // sorted by name
	byName map[string]*Def
}

func newCatalog(kind string, defs []Def) *Catalog {
	c := &Catalog{kind: kind, byName: make(map[string]*Def, len(defs))}
	for i := range defs {
		d := &defs[i]
		if _, dup := c.byName[d.Name]; dup {
			panic("config: duplicate " + kind + " config " + d.Name)
		}
		c.byName[d.Name] = d
		c.defs = append(c.defs, d)
	}
	sort.Slice(c.defs, func(i, j int) bool { return c.defs[i].Name < c.defs[j].Name })
	return c
}

// Kind is "broker" or "topic".
func (c *Catalog) Kind() string { return c.kind }

// Lookup returns the definition of name.
func (c *Catalog) Lookup(name string) (*Def, bool) {
	d, ok := c.byName[name]
	return d, ok
}

// Defs returns every definition, sorted by name. The caller must not modify
// them.
func (c *Catalog) Defs() []*Def { return c.defs }

var (
	topicCatalog  = newCatalog("topic", topicDefs())
	brokerCatalog = newCatalog("broker", brokerDefs())
)

// TopicCatalog returns the topic-level configs of Kafka 4.2.
func TopicCatalog() *Catalog { return topicCatalog }

// BrokerCatalog returns the broker configs Samsa accepts.
func BrokerCatalog() *Catalog { return brokerCatalog }
