package main

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// The DSL is franz-go's (generate/README.md in its module): top-level
// definitions separated by blank lines, fields indented two spaces per
// level, "Name: type // vN+, tag T" per field. This parser reads what a
// request needs and fails loudly on anything else, so a definition that
// does not map cleanly stops the generator instead of yielding a wrong
// table.

// node is a parsed type.
type node struct {
	kind     string // a primitive name, "string", "bytes", "struct" or "array"
	nullable bool
	nullFrom int // first version in which null is valid, when nullable
	elem     *node
	fields   []fieldDef
	flexible bool // structs: tagged-field sections in flexible versions
}

// fieldDef is a parsed struct field. max is -1 when open; a tag-only
// field has min -1.
type fieldDef struct {
	name     string
	min, max int
	tag      int // -1: not tagged
	t        node
}

// request is a parsed top-level request.
type request struct {
	name       string
	key        int
	maxVersion int
	flexibleAt int // -1: never flexible
	fields     []fieldDef
}

// parser holds the named types seen so far; definitions must precede use,
// as in franz-go's own generator.
type parser struct {
	enums    map[string]string // enum name -> backing primitive
	named    map[string]node
	requests []request
}

var primitives = map[string]bool{
	"bool": true, "int8": true, "int16": true, "uint16": true, "int32": true,
	"int64": true, "float64": true, "uint32": true, "varint": true,
	"varlong": true, "uuid": true,
}

var enumRe = regexp.MustCompile(`^([A-Za-z]+) ([a-z0-9]+) (?:camelcase )?\($`)

// parseEnums records each enum's backing type.
func (p *parser) parseEnums(raw string) error {
	for _, line := range strings.Split(raw, "\n") {
		if m := enumRe.FindStringSubmatch(line); m != nil {
			if !primitives[m[2]] {
				return fmt.Errorf("enum %s backed by %q", m[1], m[2])
			}
			p.enums[m[1]] = m[2]
		}
	}
	return nil
}

// lines is a cursor over one definition's lines.
type lines struct {
	file string
	ls   []string
	i    int
}

func (l *lines) errf(format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s", l.file, l.i, fmt.Sprintf(format, args...))
}

// parseFile reads every definition of one file: blocks separated by blank
// lines, each optional comments, a header and indented fields.
func (p *parser) parseFile(file, raw string) error {
	for _, block := range strings.Split(raw, "\n\n") {
		var ls []string
		for _, line := range strings.Split(block, "\n") {
			if line != "" && !strings.HasPrefix(line, "//") {
				ls = append(ls, line)
			}
		}
		if len(ls) == 0 {
			continue
		}
		if err := p.parseDefinition(&lines{file: file, ls: ls}); err != nil {
			return err
		}
	}
	return nil
}

var requestRe = regexp.MustCompile(`^([A-Za-z]+)Request => key (\d+), max version (\d+)(.*)$`)

func (p *parser) parseDefinition(l *lines) error {
	head := l.ls[0]
	l.i = 1
	if name, mods, ok := strings.Cut(head, " => not top level"); ok {
		flexible := strings.Contains(mods, "flexible v")
		fields, err := p.parseFields(l, 0)
		if err != nil {
			return err
		}
		p.named[name] = node{kind: "struct", fields: fields, flexible: flexible}
		return p.rest(l)
	}
	if strings.HasSuffix(head, "Response =>") {
		return nil // only requests are needed
	}
	m := requestRe.FindStringSubmatch(head)
	if m == nil {
		return l.errf("unknown definition header %q", head)
	}
	r := request{name: m[1], flexibleAt: -1}
	r.key, _ = strconv.Atoi(m[2])
	r.maxVersion, _ = strconv.Atoi(m[3])
	for _, mod := range strings.Split(m[4], ", ") {
		if v, ok := strings.CutPrefix(mod, "flexible v"); ok {
			r.flexibleAt, _ = strconv.Atoi(strings.TrimSuffix(v, "+"))
		}
	}
	var err error
	if r.fields, err = p.parseFields(l, 0); err != nil {
		return err
	}
	p.requests = append(p.requests, r)
	return p.rest(l)
}

func (p *parser) rest(l *lines) error {
	if l.i != len(l.ls) {
		return l.errf("unparsed line %q", l.ls[l.i])
	}
	return nil
}

// parseFields reads the fields of a struct at the given nesting level,
// stopping at the first line indented less.
func (p *parser) parseFields(l *lines, level int) ([]fieldDef, error) {
	indent := strings.Repeat(" ", 2*(level+1))
	var fields []fieldDef
	for l.i < len(l.ls) {
		line, ok := strings.CutPrefix(l.ls[l.i], indent)
		if !ok {
			break
		}
		l.i++
		if strings.HasPrefix(line, "//") {
			continue
		}
		f, err := p.parseField(l, line, level)
		if err != nil {
			return nil, err
		}
		fields = append(fields, f)
	}
	return fields, nil
}

var (
	commentRe = regexp.MustCompile(`^ // (?:v(\d+)(?:\+|-v(\d+))(?:, tag (\d+))?|tag (\d+))$`)
	specialRe = regexp.MustCompile(`^(ThrottleMillis|TimeoutMillis)(?:\(\d+\))?(?: // v(\d+)\+)?$`)
)

// parseField parses one field line (and, for inline structs, the lines
// nested under it).
func (p *parser) parseField(l *lines, line string, level int) (fieldDef, error) {
	f := fieldDef{max: -1, tag: -1}
	if m := specialRe.FindStringSubmatch(line); m != nil {
		f.name, f.t = m[1], node{kind: "int32"}
		f.min, _ = strconv.Atoi(m[2])
		return f, nil
	}
	name, typ, ok := strings.Cut(line, ": ")
	if !ok {
		return f, l.errf("bad field line %q", line)
	}
	f.name = name
	if typ2, comment, ok := strings.Cut(typ, " // "); ok {
		m := commentRe.FindStringSubmatch(" // " + comment)
		if m == nil {
			return f, l.errf("bad version comment %q", comment)
		}
		typ = typ2
		f.min, f.max, f.tag = versionComment(m)
	}
	t, err := p.parseType(l, typ, level)
	f.t = t
	return f, err
}

// versionComment decodes commentRe's groups: a tag-only comment gives
// min -1 (every version), as in franz-go.
func versionComment(m []string) (min, max, tag int) {
	atoi := func(s string, def int) int {
		if s == "" {
			return def
		}
		n, _ := strconv.Atoi(s)
		return n
	}
	if m[4] != "" {
		return -1, -1, atoi(m[4], -1)
	}
	return atoi(m[1], 0), atoi(m[2], -1), atoi(m[3], -1)
}

// parseType parses a type expression: array decorations, a default in
// parentheses, an inline struct, or a named type.
func (p *parser) parseType(l *lines, typ string, level int) (node, error) {
	if strings.Count(typ, "[") > 1 || strings.HasPrefix(typ, "varint[") {
		return node{}, l.errf("nested or varint arrays are not supported: %q", typ)
	}
	if i := strings.IndexByte(typ, '['); i >= 0 {
		arr := node{kind: "array"}
		switch prefix := typ[:i]; {
		case prefix == "nullable":
			arr.nullable = true
		case strings.HasPrefix(prefix, "nullable-v") && strings.HasSuffix(prefix, "+"):
			arr.nullable = true
			arr.nullFrom, _ = strconv.Atoi(prefix[len("nullable-v") : len(prefix)-1])
		case prefix != "":
			return node{}, l.errf("unknown array prefix %q", prefix)
		}
		end := strings.LastIndexByte(typ, ']')
		if end < i || end != len(typ)-1 {
			return node{}, l.errf("bad array %q", typ)
		}
		elem, err := p.parseType(l, typ[i+1:end], level)
		if err != nil {
			return node{}, err
		}
		if elem.nullable {
			return node{}, l.errf("arrays of nullable elements are not supported: %q", typ)
		}
		arr.elem = &elem
		return arr, nil
	}
	if i := strings.IndexByte(typ, '('); i >= 0 {
		typ = typ[:i] // a default value changes nothing on the wire
	}
	if rest, ok := strings.CutPrefix(typ, "nullable=>"); ok && rest == "" {
		fields, err := p.parseFields(l, level+1)
		return node{kind: "struct", nullable: true, fields: fields, flexible: true}, err
	}
	if strings.HasPrefix(typ, "=>") {
		fields, err := p.parseFields(l, level+1)
		return node{kind: "struct", fields: fields, flexible: true}, err
	}
	return p.namedType(l, typ)
}

// namedType resolves a primitive, string/bytes form, enum or named struct.
func (p *parser) namedType(l *lines, typ string) (node, error) {
	switch {
	case primitives[typ]:
		return node{kind: typ}, nil
	case typ == "string" || typ == "bytes":
		return node{kind: typ}, nil
	case typ == "nullable-string" || typ == "nullable-bytes":
		return node{kind: typ[len("nullable-"):], nullable: true}, nil
	case strings.HasPrefix(typ, "nullable-string-v") && strings.HasSuffix(typ, "+"):
		from, err := strconv.Atoi(typ[len("nullable-string-v") : len(typ)-1])
		return node{kind: "string", nullable: true, nullFrom: from}, err
	case strings.HasPrefix(typ, "enum-"):
		backing, ok := p.enums[typ[len("enum-"):]]
		if !ok {
			return node{}, l.errf("unknown enum %q", typ)
		}
		return node{kind: backing}, nil
	}
	if n, ok := p.named[typ]; ok {
		return n, nil
	}
	return node{}, l.errf("unknown or unsupported type %q", typ)
}
