package config

import (
	"math"
	"sort"
	"strings"
	"time"
)

// Values are the effective, validated configs of a broker or a topic: each
// config's own value, else its synonyms' (unit-converted), else its
// default. The typed accessors panic when name is not in the catalog or is
// of another type: that is a programming error, not a user's, as is using
// the zero Values. A null config reads as the zero value; Lookup tells null
// apart.
type Values struct {
	cat  *Catalog
	vals map[string]value
	// prefixed holds listener.name.<listener>.<config> keys, as given.
	prefixed map[string]string
}

type value struct {
	parsed any // nil when null
	source Source
}

// resolveValues computes the effective value of every config of c.
func resolveValues(c *Catalog, l Layers) (Values, Errors) {
	v := Values{cat: c, vals: make(map[string]value, len(c.defs))}
	var errs Errors
	for _, d := range c.defs {
		raw, source, ok := effective(d, candidatesOf(c, d, l))
		if !ok {
			v.vals[d.Name] = value{source: source}
			continue
		}
		parsed, err := checkValue(c.kind, d, raw)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		v.vals[d.Name] = value{parsed: parsed, source: source}
	}
	return v, errs
}

// ResolveTopic returns a topic's effective configs: its overrides over the
// broker's topic defaults.
func ResolveTopic(l Layers) (Values, error) {
	v, errs := resolveValues(topicCatalog, l)
	return v, errs.orNil()
}

// ResolveBroker returns a broker's effective configs from its dynamic and
// static layers; l.Topic is ignored. Listener-prefixed static keys are kept
// for ListenerConfig.
func ResolveBroker(l Layers) (Values, error) {
	v, errs := resolveValues(brokerCatalog, l)
	v.prefixed = listenerPrefixed(l.Static)
	return v, errs.orNil()
}

func listenerPrefixed(m map[string]string) map[string]string {
	out := make(map[string]string)
	for k, raw := range m {
		if strings.HasPrefix(k, listenerPrefix) {
			out[k] = strings.TrimSpace(raw)
		}
	}
	return out
}

func (v Values) get(name string, types ...Type) value {
	d, ok := v.cat.Lookup(name)
	if !ok {
		panic("config: no " + v.cat.kind + " config " + name)
	}
	if len(types) == 0 {
		return v.vals[name]
	}
	for _, t := range types {
		if d.Type == t {
			return v.vals[name]
		}
	}
	panic("config: " + name + " is of type " + d.Type.String())
}

// Lookup returns the canonical string form of name's effective value, and
// false when it is null.
func (v Values) Lookup(name string) (string, bool) {
	val := v.get(name)
	if val.parsed == nil {
		return "", false
	}
	return formatValue(val.parsed), true
}

// Source returns where name's effective value came from.
func (v Values) Source(name string) Source { return v.get(name).source }

// Bool returns a BOOLEAN config.
func (v Values) Bool(name string) bool {
	b, _ := v.get(name, TypeBoolean).parsed.(bool)
	return b
}

// String returns a STRING, CLASS or PASSWORD config.
func (v Values) String(name string) string {
	s, _ := v.get(name, TypeString, TypeClass, TypePassword).parsed.(string)
	return s
}

// Int returns an INT or SHORT config.
func (v Values) Int(name string) int {
	n, _ := v.get(name, TypeInt, TypeShort).parsed.(int64)
	return int(n)
}

// Long returns an INT, SHORT or LONG config.
func (v Values) Long(name string) int64 {
	n, _ := v.get(name, TypeInt, TypeShort, TypeLong).parsed.(int64)
	return n
}

// Double returns a DOUBLE config.
func (v Values) Double(name string) float64 {
	f, _ := v.get(name, TypeDouble).parsed.(float64)
	return f
}

// List returns a LIST config; the caller must not modify it.
func (v Values) List(name string) []string {
	l, _ := v.get(name, TypeList).parsed.([]string)
	return l
}

// Duration returns an INT or LONG config that counts milliseconds. Values
// too large for a time.Duration (Kafka's "never", Long.MAX_VALUE) saturate
// at the largest Duration; negative values ("no limit") stay negative.
func (v Values) Duration(name string) time.Duration {
	ms := v.Long(name)
	if ms > math.MaxInt64/int64(time.Millisecond) {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(ms) * time.Millisecond
}

// ListenerConfig returns a broker config for one listener: Kafka's
// listener.name.<listener>.<name> if set (the listener name lower-cased),
// else the broker-wide value of name. name may carry a SASL mechanism
// prefix ("plain.sasl.jaas.config"), which has no broker-wide fallback.
func (v Values) ListenerConfig(listener, name string) (string, bool) {
	if raw, ok := v.prefixed[listenerPrefix+strings.ToLower(listener)+"."+name]; ok {
		return raw, true
	}
	if _, ok := v.cat.Lookup(name); !ok {
		return "", false
	}
	return v.Lookup(name)
}

// Map returns the canonical string form of every non-null config, for
// logging or passing on. Secrets are included.
func (v Values) Map() map[string]string {
	out := make(map[string]string, len(v.vals))
	for name, val := range v.vals {
		if val.parsed != nil {
			out[name] = formatValue(val.parsed)
		}
	}
	return out
}

// sortedKeys returns m's keys in order, for deterministic error lists.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
