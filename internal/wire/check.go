package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrUnknownAPI: the request key, or its version, is not in the schema
// table (the keys and versions kmsg knows). The body was not looked at.
var ErrUnknownAPI = errors.New("wire: unknown API key or version")

// maxStringLen is the longest string Kafka accepts: its own generated
// readers reject a compact string longer than an int16 can express.
const maxStringLen = 0x7fff

// CheckRequest walks a request body (what ParseRequestHeader returns) by
// the layout of that key and version, and fails with an error wrapping
// ErrMalformed unless every count and length fits the bytes left, every
// varint is well formed, every tagged-field section's count and sizes fit,
// every known tagged field parses to exactly its declared size, and the
// body is not cut short. It costs time O(len(body)) and allocates nothing
// unless it fails, whatever the body declares, so a body it accepts is
// safe to hand to kmsg's ReadFrom, which trusts tagged-field counts.
//
// It is stricter than kmsg where Kafka's generated Java readers are: null
// (any negative length) in a field that is not nullable in that version,
// and a compact string longer than 32767 bytes, are rejected, while kmsg
// reads a null non-nullable array or bytes as empty. A nullable struct's
// presence byte below -1 is rejected too: Kafka reads it as null, kmsg as
// present. A known tagged field with bytes left over after its value is
// rejected (kmsg ignores them; Kafka reads the value in line, ignoring the
// size, so the two would disagree on where the next field starts).
//
// Bytes after the body's last field are ignored, as kmsg's ReadFrom
// ignores them. Produce's records are opaque bytes here: only their length
// is checked.
func CheckRequest(key, version int16, body []byte) error {
	_, err := checkBody(key, version, body)
	return err
}

// checkBody is CheckRequest returning the bytes after the body's last field.
func checkBody(key, version int16, body []byte) ([]byte, error) {
	s := schemaFor(key)
	if s == nil || version < 0 || version > s.maxVersion {
		return nil, fmt.Errorf("%w: key %d version %d", ErrUnknownAPI, key, version)
	}
	c := checker{b: body, v: version, flexible: s.flexibleAt >= 0 && version >= s.flexibleAt}
	if err := c.structBody(s.fields); err != nil {
		return nil, fmt.Errorf("%s v%d: %w", s.name, version, err)
	}
	return c.b, nil
}

// checker walks one body, or one tagged field's bytes.
type checker struct {
	b        []byte // what is left to read
	v        int16
	flexible bool
}

func (c *checker) fail(f *field, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrMalformed, f.name, fmt.Sprintf(format, args...))
}

// structBody checks a struct's in-line fields, then, in flexible versions,
// its tagged-field section.
func (c *checker) structBody(fields []field) error {
	for i := range fields {
		f := &fields[i]
		if f.tagged || !f.in(c.v) {
			continue
		}
		if err := c.value(f); err != nil {
			return err
		}
	}
	if !c.flexible {
		return nil
	}
	return c.tags(fields)
}

// value checks one value of field f.
func (c *checker) value(f *field) error {
	k := f.kind
	if n := fixedSize(k); n > 0 {
		return c.skip(f, n)
	}
	switch k {
	case kindVarint:
		return c.varint(f, 5)
	case kindVarlong:
		return c.varint(f, 10)
	case kindString:
		return c.lengthPrefixed(f, 2, maxStringLen)
	case kindBytes:
		return c.lengthPrefixed(f, 4, -1)
	case kindStruct:
		return c.structValue(f)
	case kindArray:
		return c.array(f)
	}
	return c.fail(f, "unknown kind %d", k)
}

// fixedSize is the encoded size of a fixed-size kind, 0 for the others.
func fixedSize(k kind) int {
	switch k {
	case kindBool, kindInt8:
		return 1
	case kindInt16, kindUint16:
		return 2
	case kindInt32, kindUint32:
		return 4
	case kindInt64, kindFloat64:
		return 8
	case kindUUID:
		return 16
	}
	return 0
}

func (c *checker) skip(f *field, n int) error {
	if len(c.b) < n {
		return c.fail(f, "needs %d bytes, %d left", n, len(c.b))
	}
	c.b = c.b[n:]
	return nil
}

// varint skips a varint of at most maxLen bytes. The last byte of a
// 5-byte (32-bit) one may carry 4 bits, of a 10-byte (64-bit) one 1 bit:
// kmsg's limits, so no value kmsg rejects passes here.
func (c *checker) varint(f *field, maxLen int) error {
	_, n, ok := uvarint(c.b, maxLen)
	if !ok {
		return c.fail(f, "malformed varint")
	}
	c.b = c.b[n:]
	return nil
}

// uvarint decodes an unsigned varint of at most maxLen (5 or 10) bytes.
func uvarint(b []byte, maxLen int) (v uint64, n int, ok bool) {
	last := byte(0x0f) // 32 bits: 4*7 + 4
	if maxLen == 10 {
		last = 0x01 // 64 bits: 9*7 + 1
	}
	for i := 0; i < maxLen && i < len(b); i++ {
		x := b[i]
		if i == maxLen-1 && x > last {
			return 0, 0, false
		}
		v |= uint64(x&0x7f) << (7 * i)
		if x < 0x80 {
			return v, i + 1, true
		}
	}
	return 0, 0, false
}

// uvarint32 reads an unsigned 32-bit varint (compact lengths, tags).
func (c *checker) uvarint32(f *field) (uint32, error) {
	v, n, ok := uvarint(c.b, 5)
	if !ok {
		return 0, c.fail(f, "malformed unsigned varint")
	}
	c.b = c.b[n:]
	return uint32(v), nil
}

// length reads a length or count: a big-endian int16 or int32 (width 2 or
// 4), or in flexible versions a compact uvarint holding length+1. A
// negative result means null.
func (c *checker) length(f *field, width int) (int64, error) {
	if c.flexible {
		u, err := c.uvarint32(f)
		return int64(u) - 1, err
	}
	if len(c.b) < width {
		return 0, c.fail(f, "length needs %d bytes, %d left", width, len(c.b))
	}
	var n int64
	if width == 2 {
		n = int64(int16(binary.BigEndian.Uint16(c.b)))
	} else {
		n = int64(int32(binary.BigEndian.Uint32(c.b)))
	}
	c.b = c.b[width:]
	return n, nil
}

// null handles a negative length: valid only where the field is nullable.
func (c *checker) null(f *field, n int64) error {
	if f.nullableIn(c.v) {
		return nil
	}
	return c.fail(f, "length %d in a field that is not nullable in v%d", n, c.v)
}

// lengthPrefixed skips a string or bytes value; limit < 0: no limit but
// the bytes left.
func (c *checker) lengthPrefixed(f *field, width int, limit int64) error {
	n, err := c.length(f, width)
	switch {
	case err != nil:
		return err
	case n < 0:
		return c.null(f, n)
	case limit >= 0 && n > limit:
		return c.fail(f, "length %d over the limit %d", n, limit)
	case n > int64(len(c.b)):
		return c.fail(f, "length %d with %d bytes left", n, len(c.b))
	}
	c.b = c.b[n:]
	return nil
}

// structValue checks a struct field: a presence byte first when the
// struct is nullable (-1 null, 0 and up present), then its fields.
func (c *checker) structValue(f *field) error {
	if f.nullable {
		if len(c.b) < 1 {
			return c.fail(f, "presence byte missing")
		}
		present := int8(c.b[0])
		c.b = c.b[1:]
		switch {
		case present == -1:
			return nil
		case present < -1:
			return c.fail(f, "presence byte %d", present)
		}
	}
	return c.structBody(f.fields)
}

// array checks a count against the bytes left, at the smallest encoded
// size of one element, before walking the elements.
func (c *checker) array(f *field) error {
	n, err := c.length(f, 4)
	switch {
	case err != nil:
		return err
	case n < 0:
		return c.null(f, n)
	}
	if least := c.minElemSize(f); n > int64(len(c.b)/least) {
		return c.fail(f, "%d elements of at least %d bytes with %d bytes left", n, least, len(c.b))
	}
	// Elements are never null: the array's own nullability is not theirs.
	elem := field{name: f.name, kind: f.elem, fields: f.fields}
	for ; n > 0; n-- {
		if err := c.value(&elem); err != nil {
			return err
		}
	}
	return nil
}

// minElemSize is a lower bound on the encoded size of one element of an
// array, never below 1 (kmsg's own bound: an array may not declare more
// elements than there are bytes left).
func (c *checker) minElemSize(f *field) int {
	if f.elem == kindStruct {
		return max(c.minStructSize(f.fields), 1)
	}
	return c.minSize(f.elem, nil)
}

// minSize is the smallest encoded size of a value of kind k in this
// version: exact for fixed sizes, the length prefix for the others.
func (c *checker) minSize(k kind, fields []field) int {
	if n := fixedSize(k); n > 0 {
		return n
	}
	switch k {
	case kindString:
		return c.prefixSize(2)
	case kindBytes, kindArray:
		return c.prefixSize(4)
	case kindStruct:
		return c.minStructSize(fields)
	}
	return 1 // varints
}

func (c *checker) prefixSize(width int) int {
	if c.flexible {
		return 1
	}
	return width
}

// minStructSize sums the smallest sizes of a struct's in-line fields, plus
// one byte for an empty tagged-field section. A nullable struct field
// counts its presence byte only.
func (c *checker) minStructSize(fields []field) int {
	n := 0
	if c.flexible {
		n = 1
	}
	for i := range fields {
		f := &fields[i]
		switch {
		case f.tagged || !f.in(c.v):
		case f.kind == kindStruct && f.nullable:
			n++
		default:
			n += c.minSize(f.kind, f.fields)
		}
	}
	return n
}

// tags checks a tagged-field section: a count, then per field a tag
// number, a size and that many bytes. Each field takes at least two bytes,
// so the count is bounded by half the bytes left before any loop. A known
// field (a tag of this struct) must parse to exactly its declared size;
// unknown ones are skipped, as kmsg keeps them opaque.
func (c *checker) tags(fields []field) error {
	section := &field{name: "tagged fields"}
	count, err := c.uvarint32(section)
	if err != nil {
		return err
	}
	if int64(count) > int64(len(c.b)/2) {
		return c.fail(section, "%d fields with %d bytes left", count, len(c.b))
	}
	for ; count > 0; count-- {
		if err := c.tag(section, fields); err != nil {
			return err
		}
	}
	return nil
}

// tag checks one tagged field.
func (c *checker) tag(section *field, fields []field) error {
	tag, err := c.uvarint32(section)
	if err != nil {
		return err
	}
	size, err := c.uvarint32(section)
	if err != nil {
		return err
	}
	if int64(size) > int64(len(c.b)) {
		return c.fail(section, "tag %d of %d bytes with %d left", tag, size, len(c.b))
	}
	data := c.b[:size]
	c.b = c.b[size:]
	f := knownTag(fields, tag)
	if f == nil {
		return nil
	}
	sub := checker{b: data, v: c.v, flexible: c.flexible}
	if err := sub.value(f); err != nil {
		return err
	}
	if len(sub.b) != 0 {
		return c.fail(f, "tagged field of %d bytes has %d bytes after its value", size, len(sub.b))
	}
	return nil
}

// knownTag returns the struct's field carried under tag, or nil.
func knownTag(fields []field, tag uint32) *field {
	for i := range fields {
		if fields[i].tagged && fields[i].tag == tag {
			return &fields[i]
		}
	}
	return nil
}
