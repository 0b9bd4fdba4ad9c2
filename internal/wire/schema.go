package wire

//go:generate go run ./internal/schemagen -o schema_gen.go

// kind is the wire type of a field.
type kind uint8

const (
	kindBool kind = iota + 1
	kindInt8
	kindInt16
	kindUint16
	kindInt32
	kindUint32
	kindInt64
	kindFloat64
	kindUUID
	kindVarint
	kindVarlong
	kindString // int16 length, or compact (uvarint length+1) in flexible versions
	kindBytes  // int32 length, or compact in flexible versions
	kindStruct
	kindArray // int32 count, or compact (uvarint count+1) in flexible versions
)

// field is one field of a request body or of a struct inside it, as
// franz-go's protocol definitions describe it (schema_gen.go).
type field struct {
	name     string
	min, max int16 // the versions the field exists in, inclusive
	// tagged: the field is carried in its struct's tagged-field section
	// (flexible versions only) under number tag, not in line.
	tagged bool
	tag    uint32
	kind   kind
	// nullable from version nullFrom on (strings, bytes, arrays, structs).
	nullable bool
	nullFrom int16
	elem     kind    // arrays: the element kind
	fields   []field // structs, and arrays of structs: the struct's fields
}

// requestSchema is the layout of one request key across its versions.
type requestSchema struct {
	name       string
	maxVersion int16
	flexibleAt int16 // first flexible version (KIP-482); -1: never
	fields     []field
}

// schemaFor returns the layout of a request key, or nil when unknown.
func schemaFor(key int16) *requestSchema {
	if key < 0 || int(key) >= len(requestSchemas) || requestSchemas[key].name == "" {
		return nil
	}
	return &requestSchemas[key]
}

// in reports whether the field exists in version v.
func (f *field) in(v int16) bool { return f.min <= v && v <= f.max }

// nullableIn reports whether null is a valid value in version v.
func (f *field) nullableIn(v int16) bool { return f.nullable && v >= f.nullFrom }

// ResponseHeaderFlexible reports whether the response to a request of this
// key and version starts with a flexible header (v1, with tagged fields):
// exactly when the request version is flexible, except ApiVersions, whose
// response header is always v0 so that a client can read it whatever
// versions the broker supports (KIP-511). False for unknown keys and
// versions.
func ResponseHeaderFlexible(key, version int16) bool {
	s := schemaFor(key)
	if s == nil || key == apiVersionsKey || version < 0 || version > s.maxVersion {
		return false
	}
	return s.flexibleAt >= 0 && version >= s.flexibleAt
}

const apiVersionsKey = 18
