package consume

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/twmb/franz-go/pkg/kgo"
)

// DefaultTemplate prints each value on its own line, as kcat does, so that
// `samsa consume a | samsa produce b` copies values.
const DefaultTemplate = `%v\n`

// templateHelp lists the template's verbs for --help.
const templateHelp = `%t topic, %p partition, %o offset, %k key, %v (or %s) value, %T timestamp
(Unix ms), %h headers (k=v, comma separated), %K key length, %S value
length, %% a percent sign; escapes \n \t \r \\`

// printer appends one record's output to a buffer.
type printer func(buf []byte, r *kgo.Record) []byte

// newPrinter returns the printer for -f: "json", "text" (the default
// template) or a template.
func newPrinter(format string) (printer, error) {
	switch format {
	case "json":
		return appendJSON, nil
	case "text", "":
		format = DefaultTemplate
	}
	return parseTemplate(format)
}

// jsonRecord is one record of --format json, one object per line.
type jsonRecord struct {
	Topic     string       `json:"topic"`
	Partition int32        `json:"partition"`
	Offset    int64        `json:"offset"`
	Timestamp int64        `json:"timestamp"`
	Key       *string      `json:"key"`
	Value     *string      `json:"value"`
	Headers   []jsonHeader `json:"headers"`
}

type jsonHeader struct {
	Key   string  `json:"key"`
	Value *string `json:"value"`
}

func strOrNil(b []byte) *string {
	if b == nil {
		return nil
	}
	s := string(b)
	return &s
}

func appendJSON(buf []byte, r *kgo.Record) []byte {
	j := jsonRecord{
		Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Timestamp: r.Timestamp.UnixMilli(),
		Key: strOrNil(r.Key), Value: strOrNil(r.Value), Headers: []jsonHeader{},
	}
	for _, h := range r.Headers {
		j.Headers = append(j.Headers, jsonHeader{Key: h.Key, Value: strOrNil(h.Value)})
	}
	b, err := json.Marshal(j)
	if err != nil { // cannot happen: strings and numbers only
		panic(err)
	}
	return append(append(buf, b...), '\n')
}

// parseTemplate compiles a kcat-style template into a list of pieces.
func parseTemplate(tmpl string) (printer, error) {
	var pieces []func([]byte, *kgo.Record) []byte
	var lit []byte
	flush := func() {
		if len(lit) > 0 {
			l := bytes.Clone(lit)
			pieces = append(pieces, func(b []byte, _ *kgo.Record) []byte { return append(b, l...) })
			lit = lit[:0]
		}
	}
	for i := 0; i < len(tmpl); i++ {
		c := tmpl[i]
		if (c != '%' && c != '\\') || i+1 == len(tmpl) {
			if c == '%' || c == '\\' {
				return nil, fmt.Errorf("template %q ends with a lone %c", tmpl, c)
			}
			lit = append(lit, c)
			continue
		}
		i++
		if c == '\\' {
			e, ok := escapes[tmpl[i]]
			if !ok {
				return nil, fmt.Errorf(`template %q: unknown escape \%c (known: \n \t \r \\)`, tmpl, tmpl[i])
			}
			lit = append(lit, e)
			continue
		}
		if tmpl[i] == '%' {
			lit = append(lit, '%')
			continue
		}
		v, ok := verbs[tmpl[i]]
		if !ok {
			return nil, fmt.Errorf("template %q: unknown verb %%%c (known: %s)", tmpl, tmpl[i], templateHelp)
		}
		flush()
		pieces = append(pieces, v)
	}
	flush()
	return func(b []byte, r *kgo.Record) []byte {
		for _, p := range pieces {
			b = p(b, r)
		}
		return b
	}, nil
}

var escapes = map[byte]byte{'n': '\n', 't': '\t', 'r': '\r', '\\': '\\'}

var verbs = map[byte]func([]byte, *kgo.Record) []byte{
	't': func(b []byte, r *kgo.Record) []byte { return append(b, r.Topic...) },
	'p': func(b []byte, r *kgo.Record) []byte { return strconv.AppendInt(b, int64(r.Partition), 10) },
	'o': func(b []byte, r *kgo.Record) []byte { return strconv.AppendInt(b, r.Offset, 10) },
	'k': func(b []byte, r *kgo.Record) []byte { return append(b, r.Key...) },
	'v': func(b []byte, r *kgo.Record) []byte { return append(b, r.Value...) },
	's': func(b []byte, r *kgo.Record) []byte { return append(b, r.Value...) },
	'T': func(b []byte, r *kgo.Record) []byte { return strconv.AppendInt(b, r.Timestamp.UnixMilli(), 10) },
	'K': func(b []byte, r *kgo.Record) []byte { return strconv.AppendInt(b, int64(len(r.Key)), 10) },
	'S': func(b []byte, r *kgo.Record) []byte { return strconv.AppendInt(b, int64(len(r.Value)), 10) },
	'h': appendHeaders,
}

func appendHeaders(b []byte, r *kgo.Record) []byte {
	for i, h := range r.Headers {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(append(append(b, h.Key...), '='), h.Value...)
	}
	return b
}
