package schema

import (
	"fmt"
	"strings"
)

// Type is a schema type as the registry API names it.
type Type string

// The three schema types. An absent schemaType means AVRO.
const (
	Avro     Type = "AVRO"
	Protobuf Type = "PROTOBUF"
	JSON     Type = "JSON"
)

// Reference is one entry of a registration's "references": the name the
// schema uses for another schema (an Avro full name, a .proto import path,
// a JSON Schema $ref URL) and the subject version that holds it.
type Reference struct {
	Name    string `json:"name"`
	Subject string `json:"subject"`
	Version int    `json:"version"`
}

// Dep is a resolved reference: the name the referencing schema uses and
// the referenced schema's text. The registry resolves references
// transitively and hands a Handler the whole closure, flattened, with every
// schema after the ones it references (post-order, no duplicates).
type Dep struct {
	Name   string
	Schema string
}

// Handler parses one schema type and checks compatibility between two
// schemas of that type. Implementations are safe for concurrent use.
type Handler interface {
	Type() Type
	// Parse parses text with its resolved references. The error's
	// message is shown to the client as the reason for 42201, so it
	// names the problem (and the line or path when the parser knows it).
	Parse(text string, deps []Dep) (Schema, error)
	// Check reports why reader cannot read what writer wrote (for JSON
	// Schema: why some document valid under writer is not valid under
	// reader). No incompatibilities means compatible. Both schemas come
	// from this Handler's Parse.
	Check(reader, writer Schema) []Incompatibility
}

// Schema is a parsed schema.
type Schema interface {
	// Canonical is the form the registry stores and serves. Two texts
	// that differ only in whitespace (and, for Avro, in the spelling of a
	// primitive: {"type":"string"} and "string") have the same Canonical
	// form, so they get the same id.
	Canonical() string
	// Normalized is the form ?normalize=true registers and looks up: it
	// also makes equal what differs only in ways the type's semantics
	// ignore (ordering of unordered things, defaults written out, ...).
	Normalized() string
	// Format renders the schema for GET /schemas/ids/{id}?format=F. ""
	// is Canonical; each type documents the others it knows; an unknown
	// format is an error.
	Format(format string) (string, error)
	// Validate checks that payload (a record's key or value after the
	// wire-format header) decodes with this schema. For Protobuf,
	// indexes are the message indexes from the header ([] means the
	// first message); other types ignore them.
	Validate(payload []byte, indexes []int) error
}

// Incompatibility is one breaking change between a reader and a writer.
type Incompatibility struct {
	// Path locates the change in the reader's (or, when the reader has
	// no such place, the writer's) schema: "/fields/age/type",
	// "Person.age", "#/properties/age".
	Path string `json:"path"`
	// Rule is the rule broken, in Confluent's vocabulary where it has
	// one: TYPE_MISMATCH, READER_FIELD_MISSING_DEFAULT_VALUE,
	// MISSING_ENUM_SYMBOLS, FIELD_KIND_CHANGED, PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL, ...
	Rule string `json:"rule"`
	// Reader and Writer are the two sides at Path ("int", "string",
	// "required", the enum symbols, ...); either is "" when that side has
	// nothing there.
	Reader string `json:"reader,omitempty"`
	Writer string `json:"writer,omitempty"`
	// Detail is one sentence that explains the rule in this case.
	Detail string `json:"detail"`
}

// String renders the incompatibility for the API's messages list.
func (i Incompatibility) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s at %s", i.Rule, i.Path)
	if i.Reader != "" || i.Writer != "" {
		fmt.Fprintf(&b, " (reader %s, writer %s)", orNone(i.Reader), orNone(i.Writer))
	}
	if i.Detail != "" {
		b.WriteString(": ")
		b.WriteString(i.Detail)
	}
	return b.String()
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
