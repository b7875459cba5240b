package convert

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/samsa-streaming/samsa/connect"
)

// JSONSchemaConverter is io.confluent.connect.json.JsonSchemaConverter:
// Connect schemas become JSON Schemas as Confluent's JsonSchemaData writes
// them (integer/number with "connect.type", "title" for the Connect name,
// "connect.index" on struct properties, optional as oneOf with null,
// maps as objects with additionalProperties or, for non-string keys,
// arrays of {key,value} objects), values plain JSON after the Confluent
// framing.
type JSONSchemaConverter struct {
	reg  *registryClient
	json *JSONConverter // for value text (BASE64 bytes, Java numbers)
}

// Configure reads the registry settings.
func (c *JSONSchemaConverter) Configure(props map[string]string, isKey bool) error {
	cfg, err := parseRegistryConfig(props, isKey)
	if err != nil {
		return err
	}
	c.reg, err = newRegistryClient(cfg)
	jc := JSONConfig{}.Defaults()
	jc.SchemasEnable, jc.DecimalNumeric = false, true
	c.json = NewJSONConverter(jc)
	return err
}

// Version reports the Confluent version whose behaviour this follows.
func (c *JSONSchemaConverter) Version() string { return confluentVersion }

// Config describes the settings.
func (c *JSONSchemaConverter) Config() *connect.ConfigDef { return RegistryConfigDef() }

// ConnectToJSONSchema returns the JSON Schema text for s and its title.
func ConnectToJSONSchema(s *connect.Schema) (string, string, error) {
	if s == nil {
		return "", "", dataErr("JsonSchemaConverter does not support schemaless data")
	}
	v, err := jsonSchemaFor(s, true, 0)
	if err != nil {
		return "", "", err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", "", dataErrCause("Failed to build JSON schema:", err)
	}
	return string(b), s.Name, nil
}

func jsonSchemaFor(s *connect.Schema, withOptional bool, depth int) (ordered, error) {
	if depth > maxDepth {
		return nil, dataErr("Schema nesting too deep")
	}
	var o ordered
	ctype := func(t string, ct string) ordered { return ordered{{"type", t}, {"connect.type", ct}} }
	switch s.Name {
	case connect.DecimalName:
		o = ordered{{"type", "number"}, {"connect.type", "bytes"}}
	case connect.DateName, connect.TimeName:
		o = ctype("integer", "int32")
	case connect.TimestampName:
		o = ctype("integer", "int64")
	}
	if o == nil {
		switch s.Type {
		case connect.Int8, connect.Int16, connect.Int32, connect.Int64:
			o = ctype("integer", string(s.Type))
		case connect.Float32, connect.Float64:
			o = ctype("number", string(s.Type))
		case connect.Boolean:
			o = ordered{{"type", "boolean"}}
		case connect.String:
			o = ordered{{"type", "string"}}
		case connect.Bytes:
			o = ctype("string", "bytes")
		case connect.Array:
			items, err := jsonSchemaFor(nonNil(s.Value), true, depth+1)
			if err != nil {
				return nil, err
			}
			o = ordered{{"type", "array"}, {"items", items}}
		case connect.Map:
			var err error
			if o, err = jsonMapSchema(s, depth); err != nil {
				return nil, err
			}
		case connect.StructT:
			var err error
			if o, err = jsonStructSchema(s, depth); err != nil {
				return nil, err
			}
		default:
			return nil, dataErr(fmt.Sprintf("Unknown schema type: %s", s.Type))
		}
	}
	if s.Name != "" {
		o = append(o, kv{"title", s.Name})
	}
	if s.Doc != "" {
		o = append(o, kv{"description", s.Doc})
	}
	if s.Version != nil {
		o = append(o, kv{"connect.version", *s.Version})
	}
	if len(s.Parameters) > 0 {
		var p ordered
		for _, k := range sortedKeys(s.Parameters) {
			p = append(p, kv{k, s.Parameters[k]})
		}
		o = append(o, kv{"connect.parameters", p})
	}
	if s.Default != nil {
		if d, err := jsonDefault(s); err == nil {
			o = append(o, kv{"default", d})
		}
	}
	if withOptional && s.Optional {
		return ordered{{"oneOf", []any{ordered{{"type", "null"}}, o}}}, nil
	}
	return o, nil
}

func jsonDefault(s *connect.Schema) (json.RawMessage, error) {
	jc := NewJSONConverter(JSONConfig{DecimalNumeric: true, ReplaceNullWithDefault: true})
	b, err := jc.appendValue(nil, s, s.Default, 0)
	return json.RawMessage(b), err
}

func jsonMapSchema(s *connect.Schema, depth int) (ordered, error) {
	vals, err := jsonSchemaFor(nonNil(s.Value), true, depth+1)
	if err != nil {
		return nil, err
	}
	if s.Key == nil || s.Key.Type == connect.String {
		return ordered{{"type", "object"}, {"additionalProperties", vals}, {"connect.type", "map"}}, nil
	}
	keys, err := jsonSchemaFor(s.Key, true, depth+1)
	if err != nil {
		return nil, err
	}
	entry := ordered{{"type", "object"}, {"properties", ordered{
		{"key", append(keys, kv{"connect.index", 0})}, {"value", append(vals, kv{"connect.index", 1})}}}, {"additionalProperties", false}}
	return ordered{{"type", "array"}, {"items", entry}, {"connect.type", "map"}}, nil
}

func jsonStructSchema(s *connect.Schema, depth int) (ordered, error) {
	// No "required" list: Confluent's JsonSchemaData writes none, and
	// optionality is the oneOf with null.
	props := ordered{}
	for i, f := range s.Fields {
		fs, err := jsonSchemaFor(f.Schema, true, depth+1)
		if err != nil {
			return nil, err
		}
		props = append(props, kv{f.Name, append(fs, kv{"connect.index", i})})
	}
	return ordered{{"type", "object"}, {"properties", props}}, nil
}

// FromConnect registers the JSON schema for s and writes v as JSON.
func (c *JSONSchemaConverter) FromConnect(topic string, headers []connect.Header, s *connect.Schema, v any) ([]byte, error) {
	if v == nil && (s == nil || s.Optional || s.Default == nil) {
		return nil, nil
	}
	w, err := c.reg.writer(s, func() (any, error) {
		text, title, err := ConnectToJSONSchema(s)
		return [2]string{text, title}, err
	})
	if err != nil {
		return nil, err
	}
	text, title := w.([2]string)[0], w.([2]string)[1]
	subject, err := c.reg.subject(topic, title)
	if err != nil {
		return nil, err
	}
	id, _, err := c.reg.idFor(subject, sr.Schema{Schema: text, Type: sr.TypeJSON})
	if err != nil {
		return nil, err
	}
	payload, err := c.json.appendJSONSchemaValue(nil, s, v, 0)
	if err != nil {
		return nil, err
	}
	return frame(id, nil, payload), nil
}

// appendJSONSchemaValue is appendValue with JsonSchemaData's map form
// (non-string keys as {"key","value"} objects).
func (c *JSONConverter) appendJSONSchemaValue(b []byte, s *connect.Schema, v any, depth int) ([]byte, error) {
	if depth > maxDepth {
		return nil, dataErr("Value nesting too deep")
	}
	if s == nil || v == nil {
		return c.appendValue(b, s, v, depth)
	}
	var err error
	switch s.Type {
	case connect.Map:
		if s.Key == nil || s.Key.Type == connect.String {
			break
		}
		entries, _, ok := mapEntries(v)
		if !ok {
			return c.appendValue(b, s, v, depth)
		}
		b = append(b, '[')
		for i, e := range entries {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"key":`...)
			if b, err = c.appendJSONSchemaValue(b, s.Key, e.k, depth+1); err != nil {
				return nil, err
			}
			b = append(b, `,"value":`...)
			if b, err = c.appendJSONSchemaValue(b, s.Value, e.v, depth+1); err != nil {
				return nil, err
			}
			b = append(b, '}')
		}
		return append(b, ']'), nil
	case connect.StructT:
		st, ok := v.(*connect.Struct)
		if !ok {
			break
		}
		b = append(b, '{')
		for i, f := range s.Fields {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, f.Name)
			b = append(b, ':')
			if b, err = c.appendJSONSchemaValue(b, f.Schema, st.Values[f.Index], depth+1); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	case connect.Array:
		a, ok := v.([]any)
		if !ok {
			break
		}
		b = append(b, '[')
		for i, e := range a {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = c.appendJSONSchemaValue(b, s.Value, e, depth+1); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	}
	return c.appendValue(b, s, v, depth)
}

// ToConnect reads the schema id, fetches the JSON Schema and converts.
func (c *JSONSchemaConverter) ToConnect(topic string, headers []connect.Header, data []byte) (*connect.Schema, any, error) {
	if data == nil {
		return nil, nil, nil
	}
	id, _, payload, err := unframe(data, headers, c.reg.cfg.IsKey, false)
	if err != nil {
		return nil, nil, err
	}
	p, err := c.reg.parsed(id, parseJSONSchemaEntry)
	if err != nil {
		return nil, nil, err
	}
	s := p.(*connect.Schema)
	node, missing, err := parseJSON(payload)
	if err != nil || missing {
		return nil, nil, dataErrCause("Failed to deserialize JSON data:", err)
	}
	v, err := jsonValueToConnect(s, node, 0)
	if err != nil {
		return nil, nil, err
	}
	return s, v, nil
}

func parseJSONSchemaEntry(s sr.Schema) (any, error) {
	if s.Type != sr.TypeJSON {
		return nil, dataErr(fmt.Sprintf("Failed to deserialize data: schema is %s, not JSON", s.Type))
	}
	return JSONSchemaToConnect([]byte(s.Schema))
}

// JSONSchemaToConnect maps a JSON Schema document to a Connect schema.
func JSONSchemaToConnect(text []byte) (*connect.Schema, error) {
	root, err := parseOrdered(text)
	if err != nil {
		return nil, dataErrCause("Failed to deserialize data: invalid JSON schema:", err)
	}
	return jsToConnect(root, root, 0)
}

// oobj is a JSON object that remembers member order.
type oobj struct {
	keys []string
	m    map[string]any
}

func parseOrdered(text []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	return readOrdered(dec, 0)
}

func readOrdered(dec *json.Decoder, depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("nesting too deep")
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch d := tok.(type) {
	case json.Delim:
		switch d {
		case '{':
			o := &oobj{m: map[string]any{}}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, _ := kt.(string)
				v, err := readOrdered(dec, depth+1)
				if err != nil {
					return nil, err
				}
				if _, dup := o.m[k]; !dup {
					o.keys = append(o.keys, k)
				}
				o.m[k] = v
			}
			_, err := dec.Token()
			return o, err
		case '[':
			var a []any
			for dec.More() {
				v, err := readOrdered(dec, depth+1)
				if err != nil {
					return nil, err
				}
				a = append(a, v)
			}
			_, err := dec.Token()
			return a, err
		}
	}
	return tok, nil
}

func jsToConnect(root, node any, depth int) (*connect.Schema, error) {
	if depth > maxDepth {
		return nil, dataErr("JSON schema nesting too deep (recursive schemas are not supported by Connect)")
	}
	o, ok := node.(*oobj)
	if !ok {
		if b, isBool := node.(bool); isBool && b {
			return nil, dataErr("JSON schema 'true' (any value) is not supported by Connect")
		}
		return nil, dataErr("JSON schema must be an object")
	}
	if ref, ok := o.m["$ref"].(string); ok {
		target, err := resolveRef(root, ref)
		if err != nil {
			return nil, err
		}
		return jsToConnect(root, target, depth+1)
	}
	for _, comb := range []string{"oneOf", "anyOf"} {
		if alts, ok := o.m[comb].([]any); ok {
			return jsUnion(root, alts, depth)
		}
	}
	s := &connect.Schema{}
	typ, _ := o.m["type"].(string)
	if arr, ok := o.m["type"].([]any); ok {
		// ["null", T]: optional T.
		var other string
		for _, t := range arr {
			if ts, _ := t.(string); ts != "null" {
				other = ts
			}
		}
		if len(arr) == 2 && other != "" {
			typ, s.Optional = other, true
		}
	}
	ctype, _ := o.m["connect.type"].(string)
	title, _ := o.m["title"].(string)
	if err := jsType(root, o, s, typ, ctype, depth); err != nil {
		return nil, err
	}
	jsLogical(s, title)
	if d, ok := o.m["description"].(string); ok {
		s.Doc = d
	}
	if v, ok := o.m["connect.version"].(json.Number); ok {
		if n, err := v.Int64(); err == nil {
			n32 := int32(n)
			s.Version = &n32
		}
	}
	if p, ok := o.m["connect.parameters"].(*oobj); ok {
		if s.Parameters == nil {
			s.Parameters = map[string]string{}
		}
		for _, k := range p.keys {
			if v, ok := p.m[k].(string); ok {
				s.Parameters[k] = v
			}
		}
	}
	if d, ok := o.m["default"]; ok && d != nil {
		if v, err := jsonValueToConnect(s, plainJSON(d), 0); err == nil {
			s.Default = v
		}
	}
	return s, nil
}

func jsType(root any, o *oobj, s *connect.Schema, typ, ctype string, depth int) error {
	switch typ {
	case "integer":
		s.Type = connect.Int64
		switch ctype {
		case "int8", "int16", "int32":
			s.Type = connect.Type(ctype)
		}
	case "number":
		s.Type = connect.Float64
		if ctype == "float32" {
			s.Type = connect.Float32
		}
	case "boolean":
		s.Type = connect.Boolean
	case "string":
		s.Type = connect.String
		if ctype == "bytes" {
			s.Type = connect.Bytes
		}
	case "array":
		items, ok := o.m["items"]
		if !ok {
			return dataErr("JSON schema array without items is not supported by Connect")
		}
		is, err := jsToConnect(root, items, depth+1)
		if err != nil {
			return err
		}
		if ctype == "map" && is.Type == connect.StructT && is.Field("key") != nil && is.Field("value") != nil && len(is.Fields) == 2 {
			s.Type, s.Key, s.Value = connect.Map, is.Field("key").Schema, is.Field("value").Schema
			return nil
		}
		s.Type, s.Value = connect.Array, is
	case "object":
		return jsObject(root, o, s, ctype, depth)
	default:
		return dataErr(fmt.Sprintf("Unsupported JSON schema type: %q", typ))
	}
	return nil
}

func jsObject(root any, o *oobj, s *connect.Schema, ctype string, depth int) error {
	props, hasProps := o.m["properties"].(*oobj)
	if ap, ok := o.m["additionalProperties"].(*oobj); ok && (!hasProps || ctype == "map") {
		vs, err := jsToConnect(root, ap, depth+1)
		if err != nil {
			return err
		}
		s.Type, s.Key, s.Value = connect.Map, connect.SchemaString, vs
		return nil
	}
	s.Type = connect.StructT
	if !hasProps {
		return nil
	}
	type fieldAt struct {
		name  string
		index int64
		pos   int
	}
	var order []fieldAt
	for i, k := range props.keys {
		idx := int64(math.MaxInt32) + int64(i)
		if po, ok := props.m[k].(*oobj); ok {
			if n, ok := po.m["connect.index"].(json.Number); ok {
				if v, err := n.Int64(); err == nil {
					idx = v
				}
			}
		}
		order = append(order, fieldAt{k, idx, i})
	}
	sort.SliceStable(order, func(i, j int) bool { return order[i].index < order[j].index })
	for _, f := range order {
		fs, err := jsToConnect(root, props.m[f.name], depth+1)
		if err != nil {
			return err
		}
		s.Fields = append(s.Fields, connect.Field{Name: f.name, Index: len(s.Fields), Schema: fs})
	}
	return nil
}

func jsUnion(root any, alts []any, depth int) (*connect.Schema, error) {
	var other any
	hasNull := false
	for _, a := range alts {
		if ao, ok := a.(*oobj); ok && ao.m["type"] == "null" && len(ao.keys) == 1 {
			hasNull = true
			continue
		}
		if other != nil {
			return nil, dataErr("JSON schema oneOf/anyOf other than a type with null is not supported by this converter")
		}
		other = a
	}
	if other == nil {
		return nil, dataErr("JSON schema oneOf/anyOf has no non-null branch")
	}
	s, err := jsToConnect(root, other, depth+1)
	if err != nil || !hasNull {
		return s, err
	}
	c := *s
	c.Optional = true
	return &c, nil
}

func jsLogical(s *connect.Schema, title string) {
	one := int32(1)
	switch title {
	case connect.DecimalName:
		s.Type, s.Name, s.Version = connect.Bytes, title, &one
	case connect.DateName, connect.TimeName:
		s.Type, s.Name, s.Version = connect.Int32, title, &one
	case connect.TimestampName:
		s.Type, s.Name, s.Version = connect.Int64, title, &one
	default:
		s.Name = title
	}
}

func resolveRef(root any, ref string) (any, error) {
	if !strings.HasPrefix(ref, "#") {
		return nil, dataErr("JSON schema references to other documents are not supported by this converter: " + ref)
	}
	cur := root
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#"), "/") {
		if part == "" {
			continue
		}
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		o, ok := cur.(*oobj)
		if !ok {
			return nil, dataErr("Unresolvable JSON schema reference " + ref)
		}
		if cur, ok = o.m[part]; !ok {
			return nil, dataErr("Unresolvable JSON schema reference " + ref)
		}
	}
	return cur, nil
}

// plainJSON turns ordered objects back into map[string]any.
func plainJSON(v any) any {
	switch x := v.(type) {
	case *oobj:
		m := make(map[string]any, len(x.m))
		for k, e := range x.m {
			m[k] = plainJSON(e)
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plainJSON(e)
		}
		return out
	}
	return v
}

// jsonValueToConnect converts a JSON value (from parseJSON) of schema s.
func jsonValueToConnect(s *connect.Schema, v any, depth int) (any, error) {
	if depth > maxDepth {
		return nil, dataErr("Value nesting too deep")
	}
	if v == nil {
		if s.Default != nil {
			return s.Default, nil
		}
		if s.Optional {
			return nil, nil
		}
		return nil, dataErr(fmt.Sprintf("Invalid null value for required %s field", javaTypeName(s.Type)))
	}
	bad := func() (any, error) { return nil, jsonBadErr(s, v) }
	if s.Name != "" {
		if out, handled, err := jsonLogicalToConnect(s, v); handled {
			return out, err
		}
	}
	switch s.Type {
	case connect.Int8, connect.Int16, connect.Int32, connect.Int64:
		n, ok := v.(json.Number)
		if !ok {
			return bad()
		}
		x, err := strconv.ParseInt(string(n), 10, 64)
		if err != nil {
			return bad()
		}
		return narrow(s.Type, x)
	case connect.Float32, connect.Float64:
		n, ok := v.(json.Number)
		if !ok {
			return bad()
		}
		f := jacksonDouble(n)
		if s.Type == connect.Float32 {
			return float32(f), nil
		}
		return f, nil
	case connect.Boolean:
		b, ok := v.(bool)
		if !ok {
			return bad()
		}
		return b, nil
	case connect.String:
		str, ok := v.(string)
		if !ok {
			return bad()
		}
		return str, nil
	case connect.Bytes:
		str, ok := v.(string)
		if !ok {
			return bad()
		}
		b, err := base64.StdEncoding.DecodeString(str)
		if err != nil {
			return nil, dataErrCause("Invalid bytes field", err)
		}
		return b, nil
	case connect.Array, connect.StructT:
		return jsonContainerToConnect(s, v, depth)
	case connect.Map:
		return jsonMapToConnect(s, v, depth)
	}
	return bad()
}

func jsonContainerToConnect(s *connect.Schema, v any, depth int) (any, error) {
	switch s.Type {
	case connect.Array:
		a, ok := v.([]any)
		if !ok {
			return nil, jsonBadErr(s, v)
		}
		out := make([]any, len(a))
		for i, e := range a {
			ev, err := jsonValueToConnect(nonNil(s.Value), e, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = ev
		}
		return out, nil
	case connect.StructT:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, jsonBadErr(s, v)
		}
		st := connect.NewStruct(s)
		for _, f := range s.Fields {
			fv, err := jsonValueToConnect(f.Schema, m[f.Name], depth+1)
			if err != nil {
				return nil, err
			}
			st.Values[f.Index] = fv
		}
		return st, nil
	}
	return nil, jsonBadErr(s, v)
}

func jsonMapToConnect(s *connect.Schema, v any, depth int) (any, error) {
	if m, ok := v.(map[string]any); ok && (s.Key == nil || s.Key.Type == connect.String) {
		out := make(map[string]any, len(m))
		for k, e := range m {
			ev, err := jsonValueToConnect(nonNil(s.Value), e, depth+1)
			if err != nil {
				return nil, err
			}
			out[k] = ev
		}
		return out, nil
	}
	a, ok := v.([]any)
	if !ok {
		return nil, dataErr("Maps with non-string keys should be encoded as JSON arrays of {key,value} objects, but found " + nodeType(v))
	}
	out := make(map[any]any, len(a))
	for _, e := range a {
		em, ok := e.(map[string]any)
		if !ok {
			return nil, dataErr("Found invalid map entry: " + nodeType(e))
		}
		k, err := jsonValueToConnect(s.Key, em["key"], depth+1)
		if err != nil {
			return nil, err
		}
		if !hashable(k) {
			return nil, dataErr(fmt.Sprintf("Map keys of type %s are not supported", goJavaClass(k)))
		}
		ev, err := jsonValueToConnect(nonNil(s.Value), em["value"], depth+1)
		if err != nil {
			return nil, err
		}
		out[k] = ev
	}
	return out, nil
}

func narrow(t connect.Type, x int64) (any, error) {
	switch t {
	case connect.Int8:
		if x < math.MinInt8 || x > math.MaxInt8 {
			return nil, dataErr(fmt.Sprintf("Value %d out of range for INT8", x))
		}
		return int8(x), nil
	case connect.Int16:
		if x < math.MinInt16 || x > math.MaxInt16 {
			return nil, dataErr(fmt.Sprintf("Value %d out of range for INT16", x))
		}
		return int16(x), nil
	case connect.Int32:
		if x < math.MinInt32 || x > math.MaxInt32 {
			return nil, dataErr(fmt.Sprintf("Value %d out of range for INT32", x))
		}
		return int32(x), nil
	}
	return x, nil
}

// rescale raises d's scale (exactly: multiplies the unscaled value).
func rescale(d connect.Decimal, scale int32) connect.Decimal {
	if scale-d.Scale > 1000 {
		return d
	}
	m := bigPow10(int64(scale - d.Scale))
	return connect.Decimal{Unscaled: m.Mul(m, d.Unscaled), Scale: scale}
}

func jsonBadErr(s *connect.Schema, v any) error {
	return dataErr(fmt.Sprintf("Invalid JSON %s for Connect type %s", nodeType(v), javaTypeName(s.Type)))
}

// jsonLogicalToConnect reads the logical types (handled says whether s
// is one).
func jsonLogicalToConnect(s *connect.Schema, v any) (out any, handled bool, err error) {
	switch s.Name {
	case connect.DecimalName:
		if n, ok := v.(json.Number); ok {
			d, ok := ParseDecimal(string(n))
			if !ok {
				return nil, true, jsonBadErr(s, v)
			}
			if scale, err := DecimalScale(s); err == nil && d.Scale < scale {
				d = rescale(d, scale)
			}
			return d, true, nil
		}
		if str, ok := v.(string); ok {
			raw, err := base64.StdEncoding.DecodeString(str)
			if err != nil {
				return nil, true, jsonBadErr(s, v)
			}
			d, err := DecimalToLogical(s, raw)
			return d, true, err
		}
		return nil, true, jsonBadErr(s, v)
	case connect.DateName, connect.TimeName, connect.TimestampName:
		n, ok := v.(json.Number)
		if !ok || !isIntegral(n) {
			return nil, true, jsonBadErr(s, v)
		}
		x, err := strconv.ParseInt(string(n), 10, 64)
		if err != nil {
			return nil, true, jsonBadErr(s, v)
		}
		t, err := TimeToLogical(s.Name, x)
		return t, true, err
	}
	return nil, false, nil
}
