package schemaavro

import (
	"errors"
	"fmt"

	"github.com/hamba/avro/v2"
	"github.com/samsa-streaming/samsa/internal/registry/schema"
)

// handler is the AVRO schema type.
type handler struct {
	reader avro.API // the configuration of payload readers
}

// New returns the AVRO schema type.
func New() schema.Handler {
	return handler{reader: readerConfig()}
}

func (handler) Type() schema.Type { return schema.Avro }

// Parse parses text after its references, which define the named types
// text may use by name. Each reference's text is parsed in order into
// the same name table, so a later one may use an earlier one's types.
func (h handler) Parse(text string, deps []schema.Dep) (schema.Schema, error) {
	p := newParser()
	p.dep = true
	for _, d := range deps {
		if _, err := p.parseText(d.Schema); err != nil {
			return nil, fmt.Errorf("invalid AVRO schema in reference %q: %w", d.Name, err)
		}
	}
	var depNames []string
	for name, n := range p.names {
		if n.dep {
			depNames = append(depNames, name)
		}
	}
	p.dep = false
	root, err := p.parseText(text)
	if err != nil {
		return nil, fmt.Errorf("invalid AVRO schema: %w", err)
	}
	s := &avroSchema{root: root, depNames: depNames, names: p.names, reader: h.reader}
	s.canonical = s.print(depNames, false)
	s.normalized = s.print(depNames, true)
	return s, nil
}

// Check reports why reader cannot read data written with writer.
func (handler) Check(reader, writer schema.Schema) []schema.Incompatibility {
	r, ok1 := reader.(*avroSchema)
	w, ok2 := writer.(*avroSchema)
	if !ok1 || !ok2 {
		return []schema.Incompatibility{{Path: "/", Rule: ruleTypeMismatch,
			Detail: "both schemas must be AVRO schemas"}}
	}
	return checkNodes(r.root, w.root)
}

// avroSchema is a parsed AVRO schema.
type avroSchema struct {
	root       *node
	depNames   []string         // full names of the named types the references define
	names      map[string]*node // every named type, by full name
	reader     avro.API
	canonical  string
	normalized string
}

func (s *avroSchema) print(known []string, normalized bool) string {
	p := newPrinter(known, s.names, normalized)
	p.schema(s.root, "")
	return p.b.String()
}

func (s *avroSchema) Canonical() string  { return s.canonical }
func (s *avroSchema) Normalized() string { return s.normalized }

// Format renders the schema: "" is the canonical form, "resolved" the
// canonical form with the referenced types written out in place, so the
// schema stands alone.
func (s *avroSchema) Format(format string) (string, error) {
	switch format {
	case "":
		return s.canonical, nil
	case "resolved":
		return s.print(nil, false), nil
	}
	return "", fmt.Errorf("unknown format %q for an AVRO schema (known: \"\", \"resolved\")", format)
}

// Validate decodes payload as Avro binary data of this schema.
func (s *avroSchema) Validate(payload []byte, _ []int) error {
	if s == nil || s.root == nil {
		return errors.New("no schema")
	}
	return validatePayload(s.root, payload, s.reader)
}
