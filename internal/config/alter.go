package config

import (
	"slices"
	"strings"
)

// OpType is an IncrementalAlterConfigs operation, numbered as Kafka's
// AlterConfigOp.OpType.
type OpType int8

// Kafka's AlterConfigOp types.
const (
	OpSet      OpType = 0
	OpDelete   OpType = 1
	OpAppend   OpType = 2
	OpSubtract OpType = 3
)

// AlterOp is one operation of an IncrementalAlterConfigs resource.
type AlterOp struct {
	Name  string
	Op    OpType
	Value *string
}

// ApplyIncremental applies IncrementalAlterConfigs operations to the
// configs currently stored for a resource (topic overrides, or one level of
// dynamic broker configs) and returns the new set; current is not modified.
// As in Kafka, APPEND and SUBTRACT apply to LIST configs only, start from
// the stored value or else the config's default, and APPEND skips elements
// already present. Names must be known and appear once. The result still
// needs ValidateTopic or ValidateBrokerAlter.
func ApplyIncremental(c *Catalog, current map[string]string, ops []AlterOp) (map[string]string, error) {
	out := make(map[string]string, len(current)+len(ops))
	for k, v := range current {
		out[k] = v
	}
	var errs Errors
	seen := make(map[string]bool, len(ops))
	for _, op := range ops {
		if seen[op.Name] {
			errs = append(errs, &Error{Kind: c.kind, Name: op.Name, Reason: "the config appears more than once in the request"})
			continue
		}
		seen[op.Name] = true
		if err := applyOp(c, out, op); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}

func applyOp(c *Catalog, out map[string]string, op AlterOp) *Error {
	d, ok := c.Lookup(op.Name)
	if !ok && c == brokerCatalog {
		d, ok = listenerBase(op.Name)
	}
	if !ok {
		return c.unknown(op.Name)
	}
	if op.Op != OpDelete && op.Value == nil {
		return &Error{Kind: c.kind, Name: op.Name, Reason: "a null value is only allowed for DELETE"}
	}
	switch op.Op {
	case OpSet:
		out[op.Name] = *op.Value
	case OpDelete:
		delete(out, op.Name)
	case OpAppend, OpSubtract:
		if d.Type != TypeList {
			return &Error{Kind: c.kind, Name: op.Name, Reason: "APPEND and SUBTRACT apply only to LIST configs"}
		}
		return applyListOp(c, d, out, op)
	default:
		return &Error{Kind: c.kind, Name: op.Name, Reason: "unknown operation type"}
	}
	return nil
}

func applyListOp(c *Catalog, d *Def, out map[string]string, op AlterOp) *Error {
	oldRaw, ok := out[op.Name]
	if !ok {
		oldRaw = d.Default
	}
	oldList, err := parseList(strings.TrimSpace(oldRaw))
	if err != nil {
		return invalid(c.kind, d, oldRaw, err.Error())
	}
	delta, err := parseList(strings.TrimSpace(*op.Value))
	if err != nil {
		return invalid(c.kind, d, *op.Value, err.Error())
	}
	list := oldList.([]string)
	for _, e := range delta.([]string) {
		if op.Op == OpAppend && !slices.Contains(list, e) {
			list = append(list, e)
		}
		if op.Op == OpSubtract {
			list = slices.DeleteFunc(list, func(x string) bool { return x == e })
		}
	}
	out[op.Name] = strings.Join(list, ",")
	return nil
}

// ValidateBrokerAlter checks configs about to be stored as dynamic broker
// configs, for one broker (perBroker) or as the cluster default: each must
// be known, dynamic — not read-only, and cluster-wide when given as the
// cluster default — and valid. Listener-prefixed configs are per-broker.
func ValidateBrokerAlter(configs map[string]string, perBroker bool) error {
	var errs Errors
	for _, k := range sortedKeys(configs) {
		if err := checkDynamic(k, perBroker); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := checkBrokerKey(k, configs[k]); err != nil {
			errs = append(errs, err)
		}
	}
	return errs.orNil()
}

func checkDynamic(name string, perBroker bool) *Error {
	d, ok := brokerCatalog.Lookup(name)
	mode := ReadOnly
	switch {
	case ok:
		mode = d.Mode
	case strings.HasPrefix(name, listenerPrefix):
		if _, ok := listenerBase(name); !ok {
			return brokerCatalog.unknown(name)
		}
		mode = PerBroker
	default:
		return brokerCatalog.unknown(name)
	}
	switch {
	case mode == ReadOnly:
		return &Error{Kind: "broker", Name: name, Reason: "Cannot update this config dynamically: it is read-only and needs a restart"}
	case mode == PerBroker && !perBroker:
		return &Error{Kind: "broker", Name: name, Reason: "Cannot update this config at the default cluster level, a broker id must be specified"}
	}
	return nil
}
