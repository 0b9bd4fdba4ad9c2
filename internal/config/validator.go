package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Validator checks a parsed config value. Values reach it parsed to the
// Def's type: bool, string (STRING, CLASS, PASSWORD), int64 (INT, SHORT,
// LONG), float64 (DOUBLE) or []string (LIST).
type Validator interface {
	// Validate returns nil, or an error whose text is the reason in Kafka's
	// words ("Value must be at least 1").
	Validate(v any) error
	// String is the "Valid Values" column of Kafka's config tables.
	String() string
}

// AtLeast accepts integers >= min.
func AtLeast(min int64) Validator { return intRange{min: &min} }

// Between accepts integers in [min, max].
func Between(min, max int64) Validator { return intRange{min: &min, max: &max} }

// Exactly accepts one integer; with AnyOf it admits a sentinel such as -1.
func Exactly(n int64) Validator { return intRange{min: &n, max: &n} }

// FloatBetween accepts doubles in [min, max].
func FloatBetween(min, max float64) Validator { return floatRange{min, max} }

// OneOf accepts one of the strings, compared exactly.
func OneOf(values ...string) Validator { return oneOf{values: values} }

// OneOfFold accepts one of the strings, ignoring case.
func OneOfFold(values ...string) Validator { return oneOf{values: values, fold: true} }

// EachOf accepts a list whose every element is one of values. An empty list
// passes: combine with NonEmptyList where Kafka forbids it.
func EachOf(values ...string) Validator { return eachOf{values} }

// NonEmptyList rejects an empty list.
func NonEmptyList() Validator { return nonEmptyList{} }

// NonEmptyString rejects an empty string.
func NonEmptyString() Validator { return nonEmptyString{} }

// AnyOf accepts a value that one of vs accepts.
func AnyOf(vs ...Validator) Validator { return anyOf(vs) }

// All accepts a value that every one of vs accepts.
func All(vs ...Validator) Validator { return all(vs) }

// Func wraps a check; desc is its "Valid Values" text.
func Func(desc string, check func(v any) error) Validator { return funcValidator{desc, check} }

type intRange struct{ min, max *int64 }

func (r intRange) Validate(v any) error {
	n, ok := v.(int64)
	if !ok {
		return fmt.Errorf("Value must be a number, got %T", v)
	}
	if r.min != nil && r.max != nil && *r.min == *r.max && n != *r.min {
		return fmt.Errorf("Value must be %d", *r.min)
	}
	if r.min != nil && n < *r.min {
		return fmt.Errorf("Value must be at least %d", *r.min)
	}
	if r.max != nil && n > *r.max {
		return fmt.Errorf("Value must be no more than %d", *r.max)
	}
	return nil
}

func (r intRange) String() string {
	switch {
	case r.min != nil && r.max != nil && *r.min == *r.max:
		return strconv.FormatInt(*r.min, 10)
	case r.max == nil:
		return fmt.Sprintf("[%d,...]", *r.min)
	case r.min == nil:
		return fmt.Sprintf("[...,%d]", *r.max)
	}
	return fmt.Sprintf("[%d,...,%d]", *r.min, *r.max)
}

type floatRange struct{ min, max float64 }

func (r floatRange) Validate(v any) error {
	f, ok := v.(float64)
	if !ok {
		return fmt.Errorf("Value must be a number, got %T", v)
	}
	if f < r.min || f != f { // f != f: NaN is in no range
		return fmt.Errorf("Value must be at least %s", fmtFloat(r.min))
	}
	if f > r.max {
		return fmt.Errorf("Value must be no more than %s", fmtFloat(r.max))
	}
	return nil
}

func (r floatRange) String() string {
	return fmt.Sprintf("[%s,...,%s]", fmtFloat(r.min), fmtFloat(r.max))
}

func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

type oneOf struct {
	values []string
	fold   bool
}

func (o oneOf) Validate(v any) error {
	s, _ := v.(string)
	for _, allowed := range o.values {
		if s == allowed || (o.fold && strings.EqualFold(s, allowed)) {
			return nil
		}
	}
	if o.fold {
		return errors.New("String must be one of (case insensitive): " + strings.Join(o.values, ", "))
	}
	return errors.New("String must be one of: " + strings.Join(o.values, ", "))
}

func (o oneOf) String() string {
	list := "[" + strings.Join(o.values, ", ") + "]"
	if o.fold {
		return "(case insensitive) " + list
	}
	return list
}

type eachOf struct{ values []string }

func (e eachOf) Validate(v any) error {
	list, _ := v.([]string)
	for _, s := range list {
		if err := (oneOf{values: e.values}).Validate(s); err != nil {
			return err
		}
	}
	return nil
}

func (e eachOf) String() string { return "[" + strings.Join(e.values, ", ") + "]" }

type nonEmptyList struct{}

func (nonEmptyList) Validate(v any) error {
	if list, _ := v.([]string); len(list) == 0 {
		return errors.New("Empty list is not allowed")
	}
	return nil
}

func (nonEmptyList) String() string { return "non-empty list" }

type nonEmptyString struct{}

func (nonEmptyString) Validate(v any) error {
	if s, _ := v.(string); s == "" {
		return errors.New("String must be non-empty")
	}
	return nil
}

func (nonEmptyString) String() string { return "non-empty string" }

type anyOf []Validator

func (a anyOf) Validate(v any) error {
	for _, x := range a {
		if x.Validate(v) == nil {
			return nil
		}
	}
	return errors.New("Value must be in " + a.String())
}

func (a anyOf) String() string {
	parts := make([]string, len(a))
	for i, x := range a {
		parts[i] = x.String()
	}
	return strings.Join(parts, " or ")
}

type all []Validator

func (a all) Validate(v any) error {
	for _, x := range a {
		if err := x.Validate(v); err != nil {
			return err
		}
	}
	return nil
}

func (a all) String() string {
	parts := make([]string, len(a))
	for i, x := range a {
		parts[i] = x.String()
	}
	return strings.Join(parts, ", ")
}

type funcValidator struct {
	desc  string
	check func(any) error
}

func (f funcValidator) Validate(v any) error { return f.check(v) }
func (f funcValidator) String() string       { return f.desc }
