package config

import (
	"errors"
	"math"
	"strconv"
	"strings"
)

// parseValue parses raw as a value of typ, as Kafka's ConfigDef does:
// surrounding whitespace is trimmed, booleans ignore case, lists split on
// commas with the whitespace around them dropped. The result is a bool,
// string, int64, float64 or []string. Its error is the reason in Kafka's
// words.
func parseValue(typ Type, raw string) (any, error) {
	s := strings.TrimSpace(raw)
	switch typ {
	case TypeBoolean:
		return parseBool(s)
	case TypeString, TypeClass, TypePassword:
		return s, nil
	case TypeInt:
		return parseInt(s, 32, typ)
	case TypeShort:
		return parseInt(s, 16, typ)
	case TypeLong:
		return parseInt(s, 64, typ)
	case TypeDouble:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, errors.New("Not a number of type DOUBLE")
		}
		return f, nil
	case TypeList:
		return parseList(s)
	}
	return nil, errors.New("unknown config type " + typ.String())
}

func parseBool(s string) (any, error) {
	switch {
	case strings.EqualFold(s, "true"):
		return true, nil
	case strings.EqualFold(s, "false"):
		return false, nil
	}
	return nil, errors.New("Expected value to be either true or false")
}

func parseInt(s string, bits int, typ Type) (any, error) {
	n, err := strconv.ParseInt(s, 10, bits)
	if err != nil {
		return nil, errors.New("Not a number of type " + typ.String())
	}
	return n, nil
}

// parseList splits a comma-separated list. Kafka 4.2 ignores repeated
// elements rather than failing on them; Samsa drops the repeats. An empty
// element ("a,,b") is an error: it is always a typo.
func parseList(s string) (any, error) {
	if s == "" {
		return []string{}, nil
	}
	parts := strings.Split(s, ",")
	out := make([]string, 0, len(parts))
	seen := make(map[string]bool, len(parts))
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			return nil, errors.New("List must not contain empty elements")
		}
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out, nil
}

// formatValue is the inverse of parseValue, giving the canonical string
// form DescribeConfigs reports.
func formatValue(v any) string {
	switch x := v.(type) {
	case bool:
		return strconv.FormatBool(x)
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return fmtFloat(x)
	case []string:
		return strings.Join(x, ",")
	}
	return ""
}

// checkValue parses raw as def's type and runs def's validator, returning
// the parsed value or an *Error naming the config.
func checkValue(kind string, d *Def, raw string) (any, *Error) {
	v, err := parseValue(d.Type, raw)
	if err == nil && d.Validator != nil {
		err = d.Validator.Validate(v)
	}
	if err != nil {
		return nil, invalid(kind, d, raw, err.Error())
	}
	return v, nil
}

// scale converts a value in a synonym's unit to the unit of the config it
// stands in for. Negative values are "no limit" sentinels and become -1, as
// Kafka's log.retention.hours=-1 means retention.ms=-1; a product that
// overflows saturates.
func scale(raw string, factor int64) string {
	if factor == 1 {
		return raw
	}
	n, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
	if err != nil {
		return raw
	}
	switch {
	case n < 0:
		n = -1
	case n > math.MaxInt64/factor:
		n = math.MaxInt64
	default:
		n *= factor
	}
	return strconv.FormatInt(n, 10)
}
