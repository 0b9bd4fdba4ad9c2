package config

import "strings"

// Layers are the places a config value comes from. A topic config takes
// its topic override, else its broker synonyms from the dynamic per-broker
// configs, the dynamic cluster defaults, the static configs and the broker
// defaults, in that order; a broker config the same without the override.
// Nil maps are empty.
type Layers struct {
	// Topic holds a topic's overrides (DYNAMIC_TOPIC_CONFIG).
	Topic map[string]string
	// DynamicBroker holds this broker's dynamic configs (DYNAMIC_BROKER_CONFIG).
	DynamicBroker map[string]string
	// DynamicDefault holds the cluster-wide dynamic defaults
	// (DYNAMIC_DEFAULT_BROKER_CONFIG).
	DynamicDefault map[string]string
	// Static holds server.properties and flags (STATIC_BROKER_CONFIG).
	Static map[string]string
}

// SynonymValue is one place a described config's value was found.
type SynonymValue struct {
	Name string
	// Value is as it was set, in the synonym's own unit; nil for secrets.
	Value  *string
	Source Source
}

// Entry is one config as DescribeConfigs reports it.
type Entry struct {
	Name string
	// Value is the effective value, converted to this config's unit; nil when
	// the config is null or secret.
	Value     *string
	Source    Source
	ReadOnly  bool
	Sensitive bool
	Type      Type
	Doc       string
	// Synonyms lists every place a value was found, highest precedence
	// first: the topic override, then for each of dynamic per-broker,
	// dynamic default, static and default, the synonyms in their order.
	Synonyms []SynonymValue
}

// candidate is a value found for a config or one of its synonyms.
type candidate struct {
	name   string
	raw    string
	source Source
	factor int64
}

// topicCandidates lists the values found for topic config d.
func topicCandidates(d *Def, l Layers) []candidate {
	var out []candidate
	if raw, ok := l.Topic[d.Name]; ok {
		out = append(out, candidate{d.Name, raw, SourceDynamicTopic, 1})
	}
	return append(out, brokerCandidates(d.Synonyms, l)...)
}

// brokerGroup is a broker config followed by its lower-precedence synonyms.
func brokerGroup(d *Def) []Synonym {
	return append([]Synonym{{Name: d.Name, Factor: 1}}, d.Synonyms...)
}

// brokerCandidates lists the values found for broker configs names, by
// source first and then in the order of names, as Kafka lists synonyms.
func brokerCandidates(names []Synonym, l Layers) []candidate {
	var out []candidate
	for _, layer := range []struct {
		source Source
		m      map[string]string
	}{
		{SourceDynamicBroker, l.DynamicBroker},
		{SourceDynamicDefaultBroker, l.DynamicDefault},
		{SourceStaticBroker, l.Static},
	} {
		for _, s := range names {
			if raw, ok := layer.m[s.Name]; ok {
				out = append(out, candidate{s.Name, raw, layer.source, s.factor()})
			}
		}
	}
	for _, s := range names {
		if bd, ok := brokerCatalog.Lookup(s.Name); ok && bd.HasDefault {
			out = append(out, candidate{s.Name, bd.Default, SourceDefault, s.factor()})
		}
	}
	return out
}

// effective picks the value of d from its candidates: the first one,
// converted to d's unit, else d's own default.
func effective(d *Def, cands []candidate) (raw string, source Source, ok bool) {
	if len(cands) > 0 {
		c := cands[0]
		return scale(c.raw, c.factor), c.source, true
	}
	if d.HasDefault {
		return d.Default, SourceDefault, true
	}
	return "", SourceDefault, false
}

func candidatesOf(c *Catalog, d *Def, l Layers) []candidate {
	if c == topicCatalog {
		return topicCandidates(d, l)
	}
	return brokerCandidates(brokerGroup(d), l)
}

func entryOf(c *Catalog, d *Def, l Layers) Entry {
	cands := candidatesOf(c, d, l)
	raw, source, ok := effective(d, cands)
	e := Entry{
		Name:      d.Name,
		Source:    source,
		ReadOnly:  c == brokerCatalog && d.Mode == ReadOnly,
		Sensitive: d.Sensitive(),
		Type:      d.Type,
		Doc:       d.Doc,
	}
	if ok && !e.Sensitive {
		e.Value = canonical(d, raw)
	}
	for _, cand := range cands {
		sv := SynonymValue{Name: cand.name, Source: cand.source}
		if !e.Sensitive {
			v := strings.TrimSpace(cand.raw)
			sv.Value = &v
		}
		e.Synonyms = append(e.Synonyms, sv)
	}
	return e
}

// canonical formats raw as parsed for d's type (trimmed, lists joined
// without blanks), or returns raw trimmed if it does not parse.
func canonical(d *Def, raw string) *string {
	s := strings.TrimSpace(raw)
	if v, err := parseValue(d.Type, raw); err == nil {
		s = formatValue(v)
	}
	return &s
}

func describeAll(c *Catalog, l Layers) []Entry {
	out := make([]Entry, 0, len(c.defs))
	for _, d := range c.defs {
		out = append(out, entryOf(c, d, l))
	}
	return out
}

// DescribeTopic describes every topic config of a topic, sorted by name.
func DescribeTopic(l Layers) []Entry { return describeAll(topicCatalog, l) }

// DescribeTopicConfig describes one topic config.
func DescribeTopicConfig(name string, l Layers) (Entry, bool) {
	d, ok := topicCatalog.Lookup(name)
	if !ok {
		return Entry{}, false
	}
	return entryOf(topicCatalog, d, l), true
}

// DescribeBroker describes every broker config of one broker, sorted by
// name. l.Topic is ignored.
//
// Unlike Kafka, a config whose value comes from a synonym reports that
// value converted, and lists the synonym: Kafka 4.2 reports an unset
// log.retention.ms as null with no synonyms, Samsa as 604800000 with
// log.retention.hours=168 (DEFAULT_CONFIG) as its synonym. As in Kafka,
// higher-precedence names are not synonyms of lower ones: describing
// log.retention.hours lists only log.retention.hours.
func DescribeBroker(l Layers) []Entry { return describeAll(brokerCatalog, l) }

// DescribeBrokerConfig describes one broker config of one broker.
func DescribeBrokerConfig(name string, l Layers) (Entry, bool) {
	d, ok := brokerCatalog.Lookup(name)
	if !ok {
		return Entry{}, false
	}
	return entryOf(brokerCatalog, d, l), true
}

// DescribeBrokerDefaults describes the cluster-default broker resource (the
// empty broker name): only the configs set as dynamic cluster defaults, each
// with its DYNAMIC_DEFAULT_BROKER_CONFIG synonyms, as Kafka does.
func DescribeBrokerDefaults(l Layers) []Entry {
	only := Layers{DynamicDefault: l.DynamicDefault}
	var out []Entry
	for _, d := range brokerCatalog.defs {
		if _, ok := l.DynamicDefault[d.Name]; !ok {
			continue
		}
		e := entryOf(brokerCatalog, d, only)
		e.Synonyms = keepSource(e.Synonyms, SourceDynamicDefaultBroker)
		out = append(out, e)
	}
	return out
}

func keepSource(syns []SynonymValue, s Source) []SynonymValue {
	var out []SynonymValue
	for _, sv := range syns {
		if sv.Source == s {
			out = append(out, sv)
		}
	}
	return out
}
