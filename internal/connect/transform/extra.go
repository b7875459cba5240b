package transform

import (
	"github.com/samsa-streaming/samsa/connect"
	"github.com/samsa-streaming/samsa/internal/connect/convert"
)

// SetSchemaMetadata is org.apache.kafka.connect.transforms.SetSchemaMetadata$Key/$Value.
type SetSchemaMetadata struct {
	side                   side
	name                   string
	version                *int32
	replaceNullWithDefault bool
}

// SetSchemaMetadataConfig is its CONFIG_DEF.
func SetSchemaMetadataConfig() *connect.ConfigDef {
	return connect.NewConfigDef().
		Define(connect.ConfigKey{Name: "schema.name", Type: connect.TypeString, Importance: connect.High, Documentation: "Schema name to set."}).
		Define(connect.ConfigKey{Name: "schema.version", Type: connect.TypeInt, Importance: connect.High, Documentation: "Schema version to set."}).
		Define(replaceNullKey())
}

// Configure reads the settings.
func (t *SetSchemaMetadata) Configure(props map[string]string) error {
	p, err := parseConfig(SetSchemaMetadataConfig(), props)
	if err != nil {
		return err
	}
	t.name, _ = str(p, "schema.name")
	if v, ok := p["schema.version"].(int32); ok {
		t.version = &v
	}
	t.replaceNullWithDefault = p["replace.null.with.default"].(bool)
	if t.name == "" && t.version == nil {
		return &ConfigException{Msg: "Neither schema name nor version configured"}
	}
	return nil
}

// Apply renames / re-versions the schema.
func (t *SetSchemaMetadata) Apply(r *connect.Record) (*connect.Record, error) {
	s, v := t.side.schema(r), t.side.value(r)
	if s == nil && v == nil {
		return r, nil
	}
	if err := requireSchema(s, "updating schema metadata"); err != nil {
		return nil, err
	}
	ns := *s
	if t.name != "" {
		ns.Name = t.name
	}
	if t.version != nil {
		ns.Version = t.version
	}
	if st, ok := v.(*connect.Struct); ok {
		out := connect.NewStruct(&ns)
		for i := range ns.Fields {
			if f := st.Schema.Field(ns.Fields[i].Name); f != nil {
				out.Values[i] = fieldValue(st, f, t.replaceNullWithDefault)
			}
		}
		v = out
	}
	return t.side.with(r, &ns, v), nil
}

// Close releases nothing.
func (t *SetSchemaMetadata) Close() error { return nil }

// Flatten is org.apache.kafka.connect.transforms.Flatten$Key/$Value:
// nested maps and structs become top-level fields named path.to.field.
type Flatten struct {
	side      side
	delimiter string
	cache     schemaCache
}

// FlattenConfig is its CONFIG_DEF.
func FlattenConfig() *connect.ConfigDef {
	return connect.NewConfigDef().Define(connect.ConfigKey{Name: "delimiter", Type: connect.TypeString, Default: ".", Importance: connect.Medium,
		Documentation: "Delimiter to insert between field names from the input record when generating field names for the output record"})
}

// Configure reads delimiter.
func (t *Flatten) Configure(props map[string]string) error {
	p, err := parseConfig(FlattenConfig(), props)
	if err != nil {
		return err
	}
	t.delimiter, _ = str(p, "delimiter")
	if _, ok := props["delimiter"]; !ok {
		t.delimiter = "."
	}
	return nil
}

func (t *Flatten) name(prefix, f string) string {
	if prefix == "" {
		return f
	}
	return prefix + t.delimiter + f
}

const flattenPurpose = "flattening"

// Apply flattens the key or value.
func (t *Flatten) Apply(r *connect.Record) (*connect.Record, error) {
	s, v := t.side.schema(r), t.side.value(r)
	if v == nil {
		return r, nil
	}
	if s == nil {
		m, err := requireMap(v, flattenPurpose)
		if err != nil {
			return nil, err
		}
		out := map[string]any{}
		if err := t.flatMap(m, "", out, 0); err != nil {
			return nil, err
		}
		return t.side.with(r, nil, out), nil
	}
	st, err := requireStruct(v, flattenPurpose)
	if err != nil {
		return nil, err
	}
	ns, err := t.cache.get(s, func() (*connect.Schema, error) {
		ns := copyBasics(s, connect.StructT)
		ns.Optional = s.Optional
		return ns, t.flatSchema(s, "", s.Optional, ns, 0)
	})
	if err != nil {
		return nil, err
	}
	out := connect.NewStruct(ns)
	t.flatStruct(st, "", out, 0)
	return t.side.with(r, ns, out), nil
}

func (t *Flatten) flatMap(m map[string]any, prefix string, out map[string]any, depth int) error {
	if depth > 100 {
		return dataErr("Flatten: nesting too deep")
	}
	for k, v := range m {
		name := t.name(prefix, k)
		switch x := v.(type) {
		case map[string]any:
			if err := t.flatMap(x, name, out, depth+1); err != nil {
				return err
			}
		case map[any]any:
			sm, err := requireMap(x, flattenPurpose)
			if err != nil {
				return err
			}
			if err := t.flatMap(sm, name, out, depth+1); err != nil {
				return err
			}
		case *connect.Struct:
			return dataErr("Flatten transformation does not support class %s for record without schemas (for field %s).", nullSafeClassName(v), name)
		default:
			out[name] = v
		}
	}
	return nil
}

func (t *Flatten) flatSchema(s *connect.Schema, prefix string, optional bool, ns *connect.Schema, depth int) error {
	if depth > 100 {
		return dataErr("Flatten: nesting too deep")
	}
	for _, f := range s.Fields {
		name := t.name(prefix, f.Name)
		if f.Schema.Type == connect.StructT {
			if err := t.flatSchema(f.Schema, name, optional || f.Schema.Optional, ns, depth+1); err != nil {
				return err
			}
			continue
		}
		fs := f.Schema
		if optional && !fs.Optional {
			c := *fs
			c.Optional = true
			fs = &c
		}
		if err := addField(ns, name, fs); err != nil {
			return err
		}
	}
	return nil
}

func (t *Flatten) flatStruct(st *connect.Struct, prefix string, out *connect.Struct, depth int) {
	for i := range st.Schema.Fields {
		f := &st.Schema.Fields[i]
		name := t.name(prefix, f.Name)
		v := fieldValue(st, f, true)
		if f.Schema.Type == connect.StructT {
			if sub, ok := v.(*connect.Struct); ok && depth < 100 {
				t.flatStruct(sub, name, out, depth+1)
			}
			continue
		}
		_ = out.Put(name, v)
	}
}

// Close releases nothing.
func (t *Flatten) Close() error { return nil }

// InsertHeader is org.apache.kafka.connect.transforms.InsertHeader.
type InsertHeader struct {
	header string
	schema *connect.Schema
	value  any
}

// InsertHeaderConfig is its CONFIG_DEF.
func InsertHeaderConfig() *connect.ConfigDef {
	return connect.NewConfigDef().
		Define(connect.ConfigKey{Name: "header", Type: connect.TypeString, Required: true, Importance: connect.High, Documentation: "The name of the header."}).
		Define(connect.ConfigKey{Name: "value.literal", Type: connect.TypeString, Required: true, Importance: connect.High,
			Documentation: "The literal value that is to be set as the header value on all records."})
}

// Configure reads header and value.literal (parsed as Values.parseString).
func (t *InsertHeader) Configure(props map[string]string) error {
	p, err := parseConfig(InsertHeaderConfig(), props)
	if err != nil {
		return err
	}
	t.header, _ = str(p, "header")
	lit, _ := str(p, "value.literal")
	t.schema, t.value = convert.ParseValuesString(lit)
	return nil
}

// Apply adds the header.
func (t *InsertHeader) Apply(r *connect.Record) (*connect.Record, error) {
	c := r.Copy()
	c.Headers = append(c.Headers, connect.Header{Key: t.header, Schema: t.schema, Value: t.value})
	return c, nil
}

// Close releases nothing.
func (t *InsertHeader) Close() error { return nil }

// DropHeaders is org.apache.kafka.connect.transforms.DropHeaders.
type DropHeaders struct{ names map[string]bool }

// DropHeadersConfig is its CONFIG_DEF.
func DropHeadersConfig() *connect.ConfigDef {
	return connect.NewConfigDef().Define(connect.ConfigKey{Name: "headers", Type: connect.TypeList, Required: true, Validator: nonEmptyList,
		Importance: connect.High, Documentation: "The name of the headers to be removed."})
}

// Configure reads headers.
func (t *DropHeaders) Configure(props map[string]string) error {
	p, err := parseConfig(DropHeadersConfig(), props)
	if err != nil {
		return err
	}
	t.names = set(p["headers"].([]string))
	return nil
}

// Apply removes the headers.
func (t *DropHeaders) Apply(r *connect.Record) (*connect.Record, error) {
	c := r.Copy()
	c.Headers = c.Headers[:0]
	for _, h := range r.Headers {
		if !t.names[h.Key] {
			c.Headers = append(c.Headers, h)
		}
	}
	return c, nil
}

// Close releases nothing.
func (t *DropHeaders) Close() error { return nil }
