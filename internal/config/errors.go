package config

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidConfig is matched (errors.Is) by every validation error of this
// package; handlers map it to Kafka's INVALID_CONFIG (40).
var ErrInvalidConfig = errors.New("config: invalid config")

// hidden replaces secret values in messages, as Kafka prints passwords.
const hidden = "[hidden]"

// Error is one rejected config.
type Error struct {
	// Kind is "broker" or "topic".
	Kind string
	Name string
	// Value is the rejected value; "[hidden]" for secrets, "" for unknown names.
	Value string
	// Reason says what is wrong, in Kafka's words.
	Reason string
	// Unknown is set when Name is not a config of Kind.
	Unknown bool
	// Suggestion is the known config Name most likely meant, if any.
	Suggestion string
}

// Error formats the problem as Kafka does: "Invalid value -5 for
// configuration retention.ms: Value must be at least -1", or "Unknown topic
// config name: retentoin.ms", plus a suggestion when one is close.
func (e *Error) Error() string {
	var msg string
	switch {
	case e.Unknown:
		msg = fmt.Sprintf("Unknown %s config name: %s", e.Kind, e.Name)
	case e.Value == "" && e.Reason != "":
		msg = fmt.Sprintf("Invalid configuration %s: %s", e.Name, e.Reason)
	default:
		msg = fmt.Sprintf("Invalid value %s for configuration %s: %s", e.Value, e.Name, e.Reason)
	}
	if e.Unknown && e.Reason != "" {
		msg += ": " + e.Reason
	}
	if e.Suggestion != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", e.Suggestion)
	}
	return msg
}

// Is makes errors.Is(err, ErrInvalidConfig) true.
func (e *Error) Is(target error) bool { return target == ErrInvalidConfig }

// Errors collects every problem found in one set of configs.
type Errors []*Error

// Error joins the problems with "; ".
func (es Errors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "; ")
}

// Unwrap exposes each problem to errors.Is and errors.As.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// orNil returns es as an error, or nil when empty, so that a nil Errors is
// never returned as a non-nil error interface.
func (es Errors) orNil() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

func invalid(kind string, d *Def, raw, reason string) *Error {
	v := strings.TrimSpace(raw)
	if d.Sensitive() {
		v = hidden
	}
	return &Error{Kind: kind, Name: d.Name, Value: v, Reason: reason}
}

// conflict reports a problem between configs rather than with one value.
func conflict(kind, name, reason string) *Error {
	return &Error{Kind: kind, Name: name, Reason: reason}
}

func (c *Catalog) unknown(name string) *Error {
	return &Error{Kind: c.kind, Name: name, Unknown: true, Suggestion: c.Suggest(name)}
}
