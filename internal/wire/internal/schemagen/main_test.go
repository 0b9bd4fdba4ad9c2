package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// TestGeneratedFileIsCurrent: the committed table is what the generator
// makes from the franz-go version go.mod requires.
func TestGeneratedFileIsCurrent(t *testing.T) {
	want, err := generate("")
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../schema_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("schema_gen.go is stale: run go generate ./internal/wire/")
	}
}

// TestParseRejectsWhatItCannotMap: constructs the table cannot express stop
// the generator instead of being mistranslated.
func TestParseRejectsWhatItCannotMap(t *testing.T) {
	for name, def := range map[string]string{
		"nested array":      "FooRequest => key 1, max version 1\n  A: [[int32]]\n",
		"varint array":      "FooRequest => key 1, max version 1\n  A: varint[int32]\n",
		"length-field":      "FooRequest => key 1, max version 1\n  A: length-field-minus => L - 4\n",
		"unknown type":      "FooRequest => key 1, max version 1\n  A: Mystery\n",
		"bad comment":       "FooRequest => key 1, max version 1\n  A: int32 // sometimes\n",
		"unknown header":    "Foo => something\n  A: int32\n",
		"nullable elements": "FooRequest => key 1, max version 1\n  A: [nullable-string]\n",
	} {
		p := &parser{enums: map[string]string{}, named: map[string]node{}}
		if err := p.parseFile("test", def); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

// TestParseAndEmit: one request with the DSL's features becomes the
// expected table rows.
func TestParseAndEmit(t *testing.T) {
	def := `Named => not top level, no encoding, flexible v2+
  X: int64

// comment
FooRequest => key 7, max version 3, flexible v2+
  A: nullable-string-v1+ // v1+
  B: nullable[=>]
    C: enum-E
    D: [Named] // v0-v2
  T: nullable-bytes(null) // tag 0
  TimeoutMillis(1000)
  S: nullable=>
    U: uuid

FooResponse =>
  Z: int8
`
	p := &parser{enums: map[string]string{}, named: map[string]node{}}
	if err := p.parseEnums("E int16 (\n  1: ONE\n)\n"); err != nil {
		t.Fatal(err)
	}
	if err := p.parseFile("test", def); err != nil {
		t.Fatal(err)
	}
	src, err := emit(p.requests, "test")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`7: {name: "Foo", maxVersion: 3, flexibleAt: 2, fields: []field{`,
		`{name: "A", min: 1, max: 3, kind: kindString, nullable: true, nullFrom: 1},`,
		`{name: "B", min: 0, max: 3, kind: kindArray, nullable: true, elem: kindStruct, fields: []field{`,
		`{name: "C", min: 0, max: 3, kind: kindInt16},`,
		`{name: "D", min: 0, max: 2, kind: kindArray, elem: kindStruct, fields: []field{`,
		`{name: "X", min: 0, max: 3, kind: kindInt64},`,
		`{name: "T", min: 0, max: 3, tagged: true, tag: 0, kind: kindBytes, nullable: true},`,
		`{name: "TimeoutMillis", min: 0, max: 3, kind: kindInt32},`,
		`{name: "S", min: 0, max: 3, kind: kindStruct, nullable: true, fields: []field{`,
	} {
		if !strings.Contains(string(src), want) {
			t.Errorf("missing %s in\n%s", want, src)
		}
	}
	if strings.Contains(string(src), "Response") {
		t.Error("a response made it into the table")
	}
}

// TestEmitRejectsTaggedNullableStruct: Kafka and kmsg mark such a field's
// presence differently, so the generator refuses it.
func TestEmitRejectsTaggedNullableStruct(t *testing.T) {
	p := &parser{enums: map[string]string{}, named: map[string]node{}}
	def := "FooRequest => key 1, max version 1, flexible v0+\n  S: nullable=> // tag 0\n    A: int8\n"
	if err := p.parseFile("test", def); err != nil {
		t.Fatal(err)
	}
	if _, err := emit(p.requests, "test"); err == nil {
		t.Fatal("emitted")
	}
}
