package config

import (
	"fmt"
	"slices"
	"strings"
)

// listenerPrefix starts Kafka's per-listener broker configs:
// listener.name.<listener>.<config>, or for SASL settings
// listener.name.<listener>.<mechanism>.<config>.
const listenerPrefix = "listener.name."

// ValidateBroker checks the static broker configs — server.properties and
// flags — and returns their effective values. It reports every problem at
// once: unknown names (with the closest known name), values that do not
// parse or validate, and configs that contradict each other.
func ValidateBroker(static map[string]string) (Values, error) {
	var errs Errors
	for _, k := range sortedKeys(static) {
		if err := checkBrokerKey(k, static[k]); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return Values{}, errs
	}
	v, errs := resolveValues(brokerCatalog, Layers{Static: static})
	v.prefixed = listenerPrefixed(static)
	errs = append(errs, crossCheckBroker(v)...)
	if len(errs) > 0 {
		return Values{}, errs
	}
	return v, nil
}

// checkBrokerKey validates one broker config given by name.
func checkBrokerKey(name, raw string) *Error {
	d, ok := brokerCatalog.Lookup(name)
	if !ok {
		base, ok := listenerBase(name)
		if !ok {
			return brokerCatalog.unknown(name)
		}
		d = base
	}
	if err := checkBrokerValue(d, raw); err != nil {
		err.Name = name
		return err
	}
	return nil
}

// listenerBase returns the definition behind a listener-prefixed name.
func listenerBase(name string) (*Def, bool) {
	rest, ok := strings.CutPrefix(name, listenerPrefix)
	if !ok {
		return nil, false
	}
	listener, cfg, ok := strings.Cut(rest, ".")
	if !ok || listener == "" {
		return nil, false
	}
	if d, ok := brokerCatalog.Lookup(cfg); ok {
		return d, true
	}
	if _, saslCfg, ok := strings.Cut(cfg, "."); ok && strings.HasPrefix(saslCfg, "sasl.") {
		return brokerCatalog.Lookup(saslCfg)
	}
	return nil, false
}

// checkBrokerValue validates raw for broker config d and, where d stands in
// for topic configs, the value it gives them: log.roll.ms=0 is rejected
// because segment.ms must be at least 1.
func checkBrokerValue(d *Def, raw string) *Error {
	if _, err := checkValue("broker", d, raw); err != nil {
		return err
	}
	for _, td := range topicCatalog.defs {
		for _, s := range td.Synonyms {
			if s.Name != d.Name {
				continue
			}
			if _, err := checkValue("topic", td, scale(raw, s.factor())); err != nil {
				return invalid("broker", d, raw, err.Reason)
			}
		}
	}
	return nil
}

// ValidateTopic checks topic overrides, as given to CreateTopics or
// resulting from AlterConfigs. Every problem is reported; errors.Is(err,
// ErrInvalidConfig) holds, for Kafka's INVALID_CONFIG.
func ValidateTopic(overrides map[string]string) error {
	var errs Errors
	for _, k := range sortedKeys(overrides) {
		d, ok := topicCatalog.Lookup(k)
		if !ok {
			errs = append(errs, topicCatalog.unknown(k))
			continue
		}
		if _, err := checkValue("topic", d, overrides[k]); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return crossCheckTopic(overrides).orNil()
}

// crossCheckTopic checks overrides, over the topic defaults, against each
// other.
func crossCheckTopic(overrides map[string]string) Errors {
	v, errs := resolveValues(topicCatalog, Layers{Topic: overrides})
	if len(errs) > 0 {
		return errs
	}
	if minLag, maxLag := v.Long("min.compaction.lag.ms"), v.Long("max.compaction.lag.ms"); minLag > maxLag {
		errs = append(errs, conflict("topic", "min.compaction.lag.ms", fmt.Sprintf(
			"conflict topic config setting min.compaction.lag.ms (%d) > max.compaction.lag.ms (%d)", minLag, maxLag)))
	}
	if v.Bool("remote.storage.enable") {
		d, _ := topicCatalog.Lookup("remote.storage.enable")
		errs = append(errs, invalid("topic", d, "true",
			"Tiered Storage functionality is disabled in the broker. Topic cannot be configured with remote log storage."))
	}
	return errs
}

// crossCheckBroker checks the effective broker configs against each other.
func crossCheckBroker(v Values) Errors {
	var errs Errors
	for _, check := range []func(Values) *Error{
		checkBrokerID, checkInterBroker, checkListenerProtocols,
		checkControllerListeners, checkAdvertised,
	} {
		if err := check(v); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

func checkBrokerID(v Values) *Error {
	if id := v.Int("broker.id"); id != -1 && id != v.Int("node.id") {
		return conflict("broker", "broker.id", fmt.Sprintf(
			"broker.id (%d) must equal node.id (%d) when both are set", id, v.Int("node.id")))
	}
	return nil
}

func checkInterBroker(v Values) *Error {
	_, named := v.Lookup("inter.broker.listener.name")
	if named && v.Source("security.inter.broker.protocol") != SourceDefault {
		return conflict("broker", "inter.broker.listener.name",
			"Only one of inter.broker.listener.name and security.inter.broker.protocol should be set")
	}
	return nil
}

func checkListenerProtocols(v Values) *Error {
	protos := v.ListenerProtocols()
	for _, name := range append(listenerNames(v, "listeners"), listenerNames(v, "advertised.listeners")...) {
		if _, ok := protos[name]; !ok {
			return conflict("broker", "listener.security.protocol.map",
				"No security protocol defined for listener "+name)
		}
	}
	return nil
}

func checkControllerListeners(v Values) *Error {
	roles := v.List("process.roles")
	names := listenerNames(v, "listeners")
	var controllerInListeners bool
	for _, c := range v.List("controller.listener.names") {
		controllerInListeners = controllerInListeners || slices.Contains(names, strings.ToUpper(c))
	}
	switch {
	case slices.Contains(roles, "controller") && !controllerInListeners:
		return conflict("broker", "controller.listener.names",
			"controller.listener.names must contain at least one value appearing in the 'listeners' configuration when running the KRaft controller role")
	case !slices.Contains(roles, "controller") && controllerInListeners:
		return conflict("broker", "controller.listener.names",
			"controller.listener.names must not contain a value appearing in the 'listeners' configuration when running KRaft with just the broker role")
	}
	return nil
}

func checkAdvertised(v Values) *Error {
	adv, _ := ParseListeners(v.List("advertised.listeners"))
	for _, l := range adv {
		if l.Host == "0.0.0.0" {
			return conflict("broker", "advertised.listeners",
				"advertised.listeners cannot use the nonroutable meta-address 0.0.0.0")
		}
	}
	if ibl, ok := v.Lookup("inter.broker.listener.name"); ok {
		if !slices.Contains(v.AdvertisedListenerNames(), strings.ToUpper(ibl)) {
			return conflict("broker", "inter.broker.listener.name",
				"inter.broker.listener.name must be a listener name defined in advertised.listeners")
		}
	}
	return nil
}

func listenerNames(v Values, name string) []string {
	ls, _ := ParseListeners(v.List(name))
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.Name
	}
	return out
}

// AdvertisedListenerNames returns the names of advertised.listeners, or of
// listeners when it is unset, leaving out controller listeners.
func (v Values) AdvertisedListenerNames() []string {
	names := listenerNames(v, "advertised.listeners")
	if _, set := v.Lookup("advertised.listeners"); !set {
		names = listenerNames(v, "listeners")
	}
	return slices.DeleteFunc(names, func(n string) bool {
		return slices.ContainsFunc(v.List("controller.listener.names"), func(c string) bool {
			return strings.EqualFold(c, n)
		})
	})
}

// ListenerProtocols maps each listener name to its security protocol:
// listener.security.protocol.map, plus PLAINTEXT for controller listener
// names it leaves out, as Kafka assumes in KRaft mode.
func (v Values) ListenerProtocols() map[string]string {
	protos, err := ParseProtocolMap(v.String("listener.security.protocol.map"))
	if err != nil {
		protos = map[string]string{}
	}
	for _, c := range v.List("controller.listener.names") {
		if _, ok := protos[strings.ToUpper(c)]; !ok {
			protos[strings.ToUpper(c)] = "PLAINTEXT"
		}
	}
	return protos
}
