package schemaavro

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
)

// maxSchemaDepth bounds how deeply schemas nest in a text (a record in
// an array in a union in a field ... counts one level each).
const maxSchemaDepth = 128

// Reserved attributes, which are not properties (Avro Java's
// SCHEMA_RESERVED, ENUM_RESERVED and FIELD_RESERVED).
var (
	schemaReserved = map[string]bool{"doc": true, "fields": true, "items": true,
		"name": true, "namespace": true, "size": true, "symbols": true,
		"values": true, "type": true, "aliases": true}
	enumReserved = map[string]bool{"doc": true, "fields": true, "items": true,
		"name": true, "namespace": true, "size": true, "symbols": true,
		"values": true, "type": true, "aliases": true, "default": true}
	fieldReserved = map[string]bool{"default": true, "doc": true, "name": true,
		"order": true, "type": true, "aliases": true}
)

// parser turns JSON into nodes. names holds every named type defined so
// far, by full name, including those of the referenced schemas.
type parser struct {
	names map[string]*node
	dep   bool // parsing a referenced schema
}

func newParser() *parser { return &parser{names: map[string]*node{}} }

// parseText parses one schema text.
func (p *parser) parseText(text string) (*node, error) {
	v, err := parseJSON(text)
	if err != nil {
		return nil, err
	}
	return p.parse(v, "", 0)
}

func (p *parser) parse(v *jval, space string, depth int) (*node, error) {
	if depth > maxSchemaDepth {
		return nil, fmt.Errorf("schema nests deeper than %d levels", maxSchemaDepth)
	}
	switch v.kind {
	case jString:
		return p.lookup(v.s, space)
	case jArray:
		return p.parseUnion(v, space, depth)
	case jObject:
		return p.parseObject(v, space, depth)
	}
	return nil, fmt.Errorf("a schema must be a type name, an object or an array (union), not %s", describe(v))
}

// lookup resolves a type name: a primitive, or a named type defined
// earlier, tried in space first and then in the null namespace.
func (p *parser) lookup(name, space string) (*node, error) {
	if k, ok := primitives[name]; ok {
		return &node{kind: k}, nil
	}
	if !strings.Contains(name, ".") && space != "" {
		if n := p.names[space+"."+name]; n != nil {
			return n, nil
		}
	}
	// ".F" names F in the null namespace, as in Avro Java.
	if n := p.names[strings.TrimPrefix(name, ".")]; n != nil {
		return n, nil
	}
	return nil, fmt.Errorf("unknown type %q (not a primitive and not defined before this use or in a reference)", name)
}

func (p *parser) parseUnion(v *jval, space string, depth int) (*node, error) {
	n := &node{kind: kUnion}
	seen := map[string]bool{}
	for i, e := range v.arr {
		b, err := p.parse(e, space, depth+1)
		if err != nil {
			return nil, err
		}
		if b.kind == kUnion {
			return nil, fmt.Errorf("union branch %d is itself a union; unions may not contain unions", i)
		}
		key := b.kind.String()
		if b.named() {
			key = b.fullName()
		}
		if seen[key] {
			return nil, fmt.Errorf("union contains %s twice", key)
		}
		seen[key] = true
		n.branches = append(n.branches, b)
	}
	return n, nil
}

func (p *parser) parseObject(v *jval, space string, depth int) (*node, error) {
	t := v.get("type")
	if t == nil {
		return nil, errors.New(`a schema object needs a "type"`)
	}
	if t.kind != jString {
		return nil, fmt.Errorf(`"type" must be a string, not %s (write a union as a bare JSON array)`, describe(t))
	}
	if k, ok := primitives[t.s]; ok {
		return &node{kind: k, props: properties(v, schemaReserved)}, nil
	}
	switch t.s {
	case "record", "error":
		return p.parseRecord(v, space, depth)
	case "enum":
		return p.parseEnum(v, space)
	case "fixed":
		return p.parseFixed(v, space)
	case "array", "map":
		return p.parseContainer(v, t.s, space, depth)
	}
	n, err := p.lookup(t.s, space)
	if err != nil {
		return nil, fmt.Errorf(`"type" %q is not a primitive, "record", "error", "enum", "fixed", "array", "map" or a defined name`, t.s)
	}
	return n, nil
}

func (p *parser) parseContainer(v *jval, typ, space string, depth int) (*node, error) {
	key, k := "items", kArray
	if typ == "map" {
		key, k = "values", kMap
	}
	sub := v.get(key)
	if sub == nil {
		return nil, fmt.Errorf("%s has no %q", typ, key)
	}
	inner, err := p.parse(sub, space, depth+1)
	if err != nil {
		return nil, err
	}
	return &node{kind: k, items: inner, props: properties(v, schemaReserved)}, nil
}

// properties returns the members of v that are not reserved.
func properties(v *jval, reserved map[string]bool) []member {
	var out []member
	for _, m := range v.obj {
		if !reserved[m.key] {
			out = append(out, m)
		}
	}
	return out
}

// declare parses the name, namespace, doc and aliases of a named type
// and registers it, so that the type can refer to itself.
func (p *parser) declare(n *node, v *jval, space string) error {
	nameVal := v.get("name")
	if nameVal == nil || nameVal.kind != jString {
		return fmt.Errorf("%s has no \"name\" string", n.kind)
	}
	if ns := v.get("namespace"); ns != nil && ns.kind == jString {
		space = ns.s
	}
	var err error
	if n.space, n.name, err = splitFullName(nameVal.s, space); err != nil {
		return err
	}
	full := n.fullName()
	if _, ok := primitives[full]; ok {
		return fmt.Errorf("a %s may not be named after the primitive %q", n.kind, full)
	}
	if p.names[full] != nil {
		return fmt.Errorf("type %q is defined twice", full)
	}
	if n.doc, err = optionalString(v, "doc", full); err != nil {
		return err
	}
	if n.aliases, err = aliases(v, n.space, full); err != nil {
		return err
	}
	n.dep = p.dep
	p.names[full] = n
	return nil
}

// splitFullName applies Avro's naming rules: a dotted name carries its
// namespace, else the namespace given applies.
func splitFullName(name, space string) (string, string, error) {
	if s, short := splitName(name); s != "" || strings.HasPrefix(name, ".") {
		space, name = s, short
	}
	if err := validateName(name); err != nil {
		return "", "", err
	}
	return space, name, nil
}

// validateName is Avro Java's name rule: a letter or underscore, then
// letters, digits or underscores.
func validateName(name string) error {
	if name == "" {
		return errors.New("empty name")
	}
	for i, r := range name {
		ok := r == '_' || unicode.IsLetter(r) || (i > 0 && unicode.IsDigit(r))
		if !ok {
			return fmt.Errorf("invalid name %q: a name starts with a letter or _ and has only letters, digits and _", name)
		}
	}
	return nil
}

func optionalString(v *jval, key, where string) (*string, error) {
	d := v.get(key)
	if d == nil {
		return nil, nil
	}
	if d.kind != jString {
		return nil, fmt.Errorf("%q of %s must be a string", key, where)
	}
	s := d.s
	return &s, nil
}

// aliases reads "aliases" as full names (qualified with space when
// space is not empty); space "" with a field's aliases keeps them simple.
func aliases(v *jval, space, where string) ([]string, error) {
	a := v.get("aliases")
	if a == nil {
		return nil, nil
	}
	if a.kind != jArray {
		return nil, fmt.Errorf(`"aliases" of %s must be an array of names`, where)
	}
	var out []string
	for _, e := range a.arr {
		if e.kind != jString {
			return nil, fmt.Errorf(`"aliases" of %s must be an array of names`, where)
		}
		s, name, err := splitFullName(e.s, space)
		if err != nil {
			return nil, fmt.Errorf("alias of %s: %w", where, err)
		}
		if s != "" {
			name = s + "." + name
		}
		out = append(out, name)
	}
	return out, nil
}

func (p *parser) parseRecord(v *jval, space string, depth int) (*node, error) {
	n := &node{kind: kRecord, isError: v.get("type").s == "error"}
	if err := p.declare(n, v, space); err != nil {
		return nil, err
	}
	full := n.fullName()
	fs := v.get("fields")
	if fs == nil || fs.kind != jArray {
		return nil, fmt.Errorf("record %s has no \"fields\" array", full)
	}
	n.props = properties(v, schemaReserved)
	seen := map[string]bool{}
	for i, fv := range fs.arr {
		f, err := p.parseField(fv, n.space, depth)
		if err != nil {
			return nil, fmt.Errorf("record %s, field %d: %w", full, i, err)
		}
		if seen[f.name] {
			return nil, fmt.Errorf("record %s has two fields named %q", full, f.name)
		}
		seen[f.name] = true
		n.fields = append(n.fields, f)
	}
	for _, f := range n.fields {
		if f.def != nil && !validDefault(f.typ, f.def) {
			return nil, fmt.Errorf("record %s: invalid default for field %q: %s is not a valid %s",
				full, f.name, jsonText(f.def), shortType(f.typ))
		}
	}
	return n, nil
}

func (p *parser) parseField(v *jval, space string, depth int) (*field, error) {
	if v.kind != jObject {
		return nil, errors.New("a field must be an object")
	}
	nv := v.get("name")
	if nv == nil || nv.kind != jString {
		return nil, errors.New(`a field needs a "name" string`)
	}
	if err := validateName(nv.s); err != nil {
		return nil, err
	}
	f := &field{name: nv.s, def: v.get("default"), props: properties(v, fieldReserved)}
	tv := v.get("type")
	if tv == nil {
		return nil, fmt.Errorf("field %q has no \"type\"", f.name)
	}
	typ, err := p.parse(tv, space, depth+1)
	if err != nil {
		return nil, fmt.Errorf("field %q: %w", f.name, err)
	}
	f.typ = typ
	if f.def != nil && f.def.kind == jString && (typ.kind == kFloat || typ.kind == kDouble) {
		if d, ok := javaDoubleDefault(f.def.s); ok {
			f.def = d
		}
	}
	if f.doc, err = optionalString(v, "doc", "field "+f.name); err != nil {
		return nil, err
	}
	if o := v.get("order"); o != nil {
		if o.kind != jString || (o.s != "ascending" && o.s != "descending" && o.s != "ignore") {
			return nil, fmt.Errorf(`"order" of field %q must be "ascending", "descending" or "ignore"`, f.name)
		}
		f.order = o.s
	}
	if f.aliases, err = aliases(v, "", "field "+f.name); err != nil {
		return nil, err
	}
	return f, nil
}

func (p *parser) parseEnum(v *jval, space string) (*node, error) {
	n := &node{kind: kEnum}
	if err := p.declare(n, v, space); err != nil {
		return nil, err
	}
	full := n.fullName()
	sv := v.get("symbols")
	if sv == nil || sv.kind != jArray {
		return nil, fmt.Errorf("enum %s has no \"symbols\" array", full)
	}
	seen := map[string]bool{}
	for _, s := range sv.arr {
		if s.kind != jString {
			return nil, fmt.Errorf("enum %s: symbols must be strings, not %s", full, describe(s))
		}
		if err := validateName(s.s); err != nil {
			return nil, fmt.Errorf("enum %s: symbol: %w", full, err)
		}
		if seen[s.s] {
			return nil, fmt.Errorf("enum %s has the symbol %q twice", full, s.s)
		}
		seen[s.s] = true
		n.symbols = append(n.symbols, s.s)
	}
	if d := v.get("default"); d != nil {
		if d.kind != jString || !seen[d.s] {
			return nil, fmt.Errorf("enum %s: default %s is not one of its symbols", full, jsonText(d))
		}
		s := d.s
		n.enumDefault = &s
	}
	n.props = properties(v, enumReserved)
	return n, nil
}

func (p *parser) parseFixed(v *jval, space string) (*node, error) {
	n := &node{kind: kFixed}
	if err := p.declare(n, v, space); err != nil {
		return nil, err
	}
	sv := v.get("size")
	if sv == nil || sv.kind != jNumber {
		return nil, fmt.Errorf("fixed %s has no \"size\" number", n.fullName())
	}
	size, err := strconv.ParseInt(sv.s, 10, 32)
	if err != nil || size < 0 || size > math.MaxInt32-8 {
		return nil, fmt.Errorf("fixed %s: size %s is not an integer from 0 to %d", n.fullName(), sv.s, math.MaxInt32-8)
	}
	n.size = int(size)
	n.props = properties(v, schemaReserved)
	return n, nil
}

// describe names a JSON value's kind for error messages.
func describe(v *jval) string {
	switch v.kind {
	case jNull:
		return "null"
	case jBool:
		return "a boolean"
	case jNumber:
		return "a number"
	case jString:
		return "a string"
	case jArray:
		return "an array"
	}
	return "an object"
}
