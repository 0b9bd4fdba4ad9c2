package config

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
)

// ParseProperties reads a Java .properties file, the format of Kafka's
// server.properties:
//
//   - lines whose first non-blank character is '#' or '!' are comments;
//   - a key ends at the first unescaped '=', ':' or blank; blanks around the
//     separator are skipped, so "k=v", "k: v" and "k v" all set k to "v";
//   - a line ending in an odd number of backslashes continues on the next
//     one, whose leading blanks are dropped (a comment never continues);
//   - escapes \t \n \r \f \\ and \uXXXX are decoded in keys and values; any
//     other escaped character stands for itself ("\=" is "=");
//   - a key given twice keeps its last value.
//
// Unlike Java, the input is read as UTF-8 rather than ISO-8859-1, and values
// have surrounding blanks trimmed, as Kafka trims them when it parses a
// config value. The only error is a malformed \u escape, or a read error.
func ParseProperties(r io.Reader) (map[string]string, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("config: reading properties: %w", err)
	}
	lines := splitNaturalLines(string(data))
	props := make(map[string]string)
	for i := 0; i < len(lines); i++ {
		start := i + 1
		line := strings.TrimLeft(lines[i], propBlanks)
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		for endsInEscape(line) {
			line = line[:len(line)-1]
			if i+1 >= len(lines) {
				break
			}
			i++
			line += strings.TrimLeft(lines[i], propBlanks)
		}
		key, value, err := splitProperty(line)
		if err != nil {
			return nil, fmt.Errorf("config: properties line %d: %w", start, err)
		}
		props[key] = value
	}
	return props, nil
}

// propBlanks are the characters Java's Properties treats as white space.
const propBlanks = " \t\f"

func splitNaturalLines(s string) []string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.Split(s, "\n")
}

// endsInEscape reports whether line ends in an odd number of backslashes,
// i.e. in a backslash that escapes the line terminator.
func endsInEscape(line string) bool {
	n := 0
	for i := len(line) - 1; i >= 0 && line[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

// splitProperty splits a logical line (leading blanks removed) into its
// decoded key and value.
func splitProperty(line string) (string, string, error) {
	keyEnd := len(line)
	for i := 0; i < len(line); i++ {
		c := line[i]
		if c == '\\' {
			i++
			continue
		}
		if c == '=' || c == ':' || strings.IndexByte(propBlanks, c) >= 0 {
			keyEnd = i
			break
		}
	}
	rest := strings.TrimLeft(line[keyEnd:], propBlanks)
	if rest != "" && (rest[0] == '=' || rest[0] == ':') {
		rest = strings.TrimLeft(rest[1:], propBlanks)
	}
	key, err := unescapeProperty(line[:keyEnd])
	if err != nil {
		return "", "", err
	}
	value, err := unescapeProperty(rest)
	if err != nil {
		return "", "", err
	}
	return key, strings.TrimSpace(value), nil
}

func unescapeProperty(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		i++
		if i >= len(s) {
			break // a lone trailing backslash at end of input
		}
		switch s[i] {
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			r, n, err := decodeUnicodeEscape(s[i+1:])
			if err != nil {
				return "", err
			}
			b.WriteRune(r)
			i += n
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String(), nil
}

// decodeUnicodeEscape decodes the XXXX of a \uXXXX escape at the start of
// s, joining a UTF-16 surrogate pair written as two escapes, as Java does. It
// returns the rune and how many bytes of s it used.
func decodeUnicodeEscape(s string) (rune, int, error) {
	r, err := hex4(s)
	if err != nil {
		return 0, 0, err
	}
	if utf16.IsSurrogate(r) && strings.HasPrefix(s[4:], `\u`) {
		if lo, err := hex4(s[6:]); err == nil {
			if pair := utf16.DecodeRune(r, lo); pair != unicode.ReplacementChar {
				return pair, 10, nil
			}
		}
	}
	return r, 4, nil
}

func hex4(s string) (rune, error) {
	if len(s) < 4 {
		return 0, errors.New(`malformed \uxxxx escape`)
	}
	n, err := strconv.ParseUint(s[:4], 16, 16)
	if err != nil {
		return 0, fmt.Errorf(`malformed \uxxxx escape %q`, `\u`+s[:4])
	}
	return rune(n), nil
}
