package transform

import (
	"strings"
	"time"

	"github.com/samsa-streaming/samsa/connect"
)

// insertSpec is InsertField's field spec: a name, optional unless it
// ends with "!" ("?" says optional explicitly).
type insertSpec struct {
	name     string
	optional bool
}

func parseInsertSpec(s string) *insertSpec {
	switch {
	case s == "":
		return nil
	case strings.HasSuffix(s, "?"):
		return &insertSpec{s[:len(s)-1], true}
	case strings.HasSuffix(s, "!"):
		return &insertSpec{s[:len(s)-1], false}
	}
	return &insertSpec{s, true}
}

// InsertField is org.apache.kafka.connect.transforms.InsertField$Key/$Value.
type InsertField struct {
	side                                   side
	topic, partition, offset, ts, static   *insertSpec
	staticValue                            string
	hasStaticValue, replaceNullWithDefault bool
	cache                                  schemaCache
}

// InsertFieldConfig is InsertField.CONFIG_DEF.
func InsertFieldConfig() *connect.ConfigDef {
	const opt = " Suffix with <code>!</code> to make this a required field, or <code>?</code> to keep it optional (the default)."
	d := connect.NewConfigDef()
	for _, k := range []struct{ name, doc string }{
		{"topic.field", "Field name for Kafka topic." + opt},
		{"partition.field", "Field name for Kafka partition." + opt},
		{"offset.field", "Field name for Kafka offset - only applicable to sink connectors.<br/>" + opt},
		{"timestamp.field", "Field name for record timestamp." + opt},
		{"static.field", "Field name for static data field." + opt},
		{"static.value", "Static field value, if field name configured."},
	} {
		d.Define(connect.ConfigKey{Name: k.name, Type: connect.TypeString, Importance: connect.Medium, Documentation: k.doc})
	}
	return d.Define(replaceNullKey())
}

// Configure reads the settings.
func (t *InsertField) Configure(props map[string]string) error {
	p, err := parseConfig(InsertFieldConfig(), props)
	if err != nil {
		return err
	}
	get := func(n string) *insertSpec { s, _ := str(p, n); return parseInsertSpec(s) }
	t.topic, t.partition, t.offset, t.ts, t.static = get("topic.field"), get("partition.field"), get("offset.field"), get("timestamp.field"), get("static.field")
	t.staticValue, _ = str(p, "static.value")
	_, t.hasStaticValue = props["static.value"]
	t.replaceNullWithDefault = p["replace.null.with.default"].(bool)
	if t.topic == nil && t.partition == nil && t.offset == nil && t.ts == nil && t.static == nil {
		return &ConfigException{Msg: "No field insertion configured"}
	}
	if t.static != nil && !t.hasStaticValue {
		return configErrValue("static.value", nil, "No value specified for static field: "+t.static.name)
	}
	return nil
}

const insertPurpose = "field insertion"

// Apply inserts the configured fields.
func (t *InsertField) Apply(r *connect.Record) (*connect.Record, error) {
	v := t.side.value(r)
	if v == nil {
		return r, nil
	}
	if t.offset != nil && !isSinkRecord(r) {
		return nil, dataErr("Only SinkRecord supported for [%s], found: org.apache.kafka.connect.source.SourceRecord", insertPurpose)
	}
	if t.side.schema(r) == nil {
		m, err := requireMap(v, insertPurpose)
		if err != nil {
			return nil, err
		}
		out := copyMap(m)
		if t.topic != nil {
			out[t.topic.name] = r.Topic
		}
		if t.partition != nil && r.Partition >= 0 {
			out[t.partition.name] = r.Partition
		}
		if t.offset != nil {
			out[t.offset.name] = r.Offset
		}
		if t.ts != nil && !r.Timestamp.IsZero() {
			out[t.ts.name] = r.Timestamp.UnixMilli()
		}
		if t.static != nil {
			out[t.static.name] = t.staticValue
		}
		return t.side.with(r, nil, out), nil
	}
	st, err := requireStruct(v, insertPurpose)
	if err != nil {
		return nil, err
	}
	ns, err := t.cache.get(st.Schema, func() (*connect.Schema, error) { return t.schemaFor(st.Schema) })
	if err != nil {
		return nil, err
	}
	out := connect.NewStruct(ns)
	for i := range st.Schema.Fields {
		out.Values[i] = fieldValue(st, &st.Schema.Fields[i], t.replaceNullWithDefault)
	}
	if t.topic != nil {
		_ = out.Put(t.topic.name, r.Topic)
	}
	if t.partition != nil && r.Partition >= 0 {
		_ = out.Put(t.partition.name, r.Partition)
	}
	if t.offset != nil {
		_ = out.Put(t.offset.name, r.Offset)
	}
	if t.ts != nil && !r.Timestamp.IsZero() {
		_ = out.Put(t.ts.name, time.UnixMilli(r.Timestamp.UnixMilli()).UTC())
	}
	if t.static != nil {
		_ = out.Put(t.static.name, t.staticValue)
	}
	return t.side.with(r, ns, out), nil
}

func timestampSchema(optional bool) *connect.Schema {
	v := int32(1)
	return &connect.Schema{Type: connect.Int64, Name: connect.TimestampName, Version: &v, Optional: optional}
}

func (t *InsertField) schemaFor(s *connect.Schema) (*connect.Schema, error) {
	ns := copyBasics(s, connect.StructT)
	for _, f := range s.Fields {
		if err := addField(ns, f.Name, f.Schema); err != nil {
			return nil, err
		}
	}
	add := func(sp *insertSpec, req, opt *connect.Schema) error {
		if sp == nil {
			return nil
		}
		if sp.optional {
			return addField(ns, sp.name, opt)
		}
		return addField(ns, sp.name, req)
	}
	for _, e := range []error{
		add(t.topic, connect.SchemaString, connect.OptionalString),
		add(t.partition, connect.SchemaInt32, connect.OptionalInt32),
		add(t.offset, connect.SchemaInt64, connect.OptionalInt64),
		add(t.ts, timestampSchema(false), timestampSchema(true)),
		add(t.static, connect.SchemaString, connect.OptionalString),
	} {
		if e != nil {
			return nil, e
		}
	}
	return ns, nil
}

// Close releases nothing.
func (t *InsertField) Close() error { return nil }

// ReplaceField is org.apache.kafka.connect.transforms.ReplaceField$Key/$Value.
type ReplaceField struct {
	side                   side
	exclude, include       map[string]bool
	renames, reverse       map[string]string
	replaceNullWithDefault bool
	cache                  schemaCache
}

// ReplaceFieldConfig is ReplaceField.CONFIG_DEF (with the pre-4.0 names
// blacklist/whitelist accepted as aliases).
func ReplaceFieldConfig() *connect.ConfigDef {
	return connect.NewConfigDef().
		Define(connect.ConfigKey{Name: "exclude", Type: connect.TypeList, Importance: connect.Medium, Documentation: "Fields to exclude. This takes precedence over the fields to include."}).
		Define(connect.ConfigKey{Name: "include", Type: connect.TypeList, Importance: connect.Medium, Documentation: "Fields to include. If specified, only these fields will be used."}).
		Define(connect.ConfigKey{Name: "renames", Type: connect.TypeList, Importance: connect.Medium, Documentation: "Field rename mappings."}).
		Define(replaceNullKey())
}

// Configure reads the settings.
func (t *ReplaceField) Configure(props map[string]string) error {
	props = aliasProps(props, map[string]string{"blacklist": "exclude", "whitelist": "include"})
	p, err := parseConfig(ReplaceFieldConfig(), props)
	if err != nil {
		return err
	}
	t.exclude, t.include = set(p["exclude"].([]string)), set(p["include"].([]string))
	renames := p["renames"].([]string)
	t.renames, t.reverse = map[string]string{}, map[string]string{}
	for _, m := range renames {
		parts := strings.Split(m, ":")
		if len(parts) != 2 {
			return configErrValue("renames", renames, "Invalid rename mapping: "+m)
		}
		t.renames[parts[0]] = parts[1]
		t.reverse[parts[1]] = parts[0]
	}
	t.replaceNullWithDefault = p["replace.null.with.default"].(bool)
	return nil
}

// aliasProps copies props, moving deprecated names to their successors
// unless the new name is set.
func aliasProps(props map[string]string, aliases map[string]string) map[string]string {
	out := make(map[string]string, len(props))
	for k, v := range props {
		out[k] = v
	}
	for old, nw := range aliases {
		if v, ok := out[old]; ok {
			if _, set := out[nw]; !set {
				out[nw] = v
			}
			delete(out, old)
		}
	}
	return out
}

func set(l []string) map[string]bool {
	m := make(map[string]bool, len(l))
	for _, s := range l {
		m[s] = true
	}
	return m
}

func (t *ReplaceField) keep(name string) bool {
	return !t.exclude[name] && (len(t.include) == 0 || t.include[name])
}

func (t *ReplaceField) renamed(name string) string {
	if n, ok := t.renames[name]; ok {
		return n
	}
	return name
}

const replacePurpose = "field replacement"

// Apply filters and renames fields.
func (t *ReplaceField) Apply(r *connect.Record) (*connect.Record, error) {
	v := t.side.value(r)
	if v == nil {
		return r, nil
	}
	if t.side.schema(r) == nil {
		m, err := requireMap(v, replacePurpose)
		if err != nil {
			return nil, err
		}
		out := make(map[string]any, len(m))
		for k, e := range m {
			if t.keep(k) {
				out[t.renamed(k)] = e
			}
		}
		return t.side.with(r, nil, out), nil
	}
	st, err := requireStruct(v, replacePurpose)
	if err != nil {
		return nil, err
	}
	ns, err := t.cache.get(st.Schema, func() (*connect.Schema, error) {
		ns := copyBasics(st.Schema, connect.StructT)
		for _, f := range st.Schema.Fields {
			if t.keep(f.Name) {
				if err := addField(ns, t.renamed(f.Name), f.Schema); err != nil {
					return nil, err
				}
			}
		}
		return ns, nil
	})
	if err != nil {
		return nil, err
	}
	out := connect.NewStruct(ns)
	for i, f := range ns.Fields {
		orig := f.Name
		if o, ok := t.reverse[f.Name]; ok {
			orig = o
		}
		if of := st.Schema.Field(orig); of != nil {
			out.Values[i] = fieldValue(st, of, t.replaceNullWithDefault)
		}
	}
	return t.side.with(r, ns, out), nil
}

// Close releases nothing.
func (t *ReplaceField) Close() error { return nil }

// ValueToKey is org.apache.kafka.connect.transforms.ValueToKey.
type ValueToKey struct {
	fields                 []string
	replaceNullWithDefault bool
	cache                  schemaCache
}

// ValueToKeyConfig is ValueToKey.CONFIG_DEF.
func ValueToKeyConfig() *connect.ConfigDef {
	return connect.NewConfigDef().
		Define(connect.ConfigKey{Name: "fields", Type: connect.TypeList, Required: true, Validator: nonEmptyList, Importance: connect.High,
			Documentation: "Field names on the record value to extract as the record key."}).
		Define(replaceNullKey())
}

// Configure reads the settings.
func (t *ValueToKey) Configure(props map[string]string) error {
	p, err := parseConfig(ValueToKeyConfig(), props)
	if err != nil {
		return err
	}
	t.fields = p["fields"].([]string)
	t.replaceNullWithDefault = p["replace.null.with.default"].(bool)
	return nil
}

const valueToKeyPurpose = "copying fields from value to key"

// Apply builds the key from value fields.
func (t *ValueToKey) Apply(r *connect.Record) (*connect.Record, error) {
	c := r.Copy()
	if r.ValueSchema == nil {
		m, err := requireMap(r.Value, valueToKeyPurpose)
		if err != nil {
			return nil, err
		}
		key := make(map[string]any, len(t.fields))
		for _, f := range t.fields {
			key[f] = m[f]
		}
		c.KeySchema, c.Key = nil, key
		return c, nil
	}
	st, err := requireStruct(r.Value, valueToKeyPurpose)
	if err != nil {
		return nil, err
	}
	ks, err := t.cache.get(st.Schema, func() (*connect.Schema, error) {
		ks := &connect.Schema{Type: connect.StructT}
		for _, name := range t.fields {
			f := st.Schema.Field(name)
			if f == nil {
				return nil, dataErr("Field does not exist: %s", name)
			}
			if err := addField(ks, name, f.Schema); err != nil {
				return nil, err
			}
		}
		return ks, nil
	})
	if err != nil {
		return nil, err
	}
	key := connect.NewStruct(ks)
	for i, name := range t.fields {
		key.Values[i] = fieldValue(st, st.Schema.Field(name), t.replaceNullWithDefault)
	}
	c.KeySchema, c.Key = ks, key
	c.ValueSchema = st.Schema
	return c, nil
}

// Close releases nothing.
func (t *ValueToKey) Close() error { return nil }

// ExtractField is org.apache.kafka.connect.transforms.ExtractField$Key/$Value.
type ExtractField struct {
	side                   side
	field                  string
	replaceNullWithDefault bool
}

// ExtractFieldConfig is ExtractField.CONFIG_DEF (field.syntax.version V1 only).
func ExtractFieldConfig() *connect.ConfigDef {
	return connect.NewConfigDef().
		Define(connect.ConfigKey{Name: "field", Type: connect.TypeString, Required: true, Importance: connect.Medium, Documentation: "Field name to extract."}).
		Define(replaceNullKey()).
		Define(fieldSyntaxKey())
}

func fieldSyntaxKey() connect.ConfigKey {
	return connect.ConfigKey{Name: "field.syntax.version", Type: connect.TypeString, Default: "V1", Importance: connect.High,
		Validator:     connect.InList(true, "V1"),
		Documentation: "Defines the version of the syntax to access fields. Only V1 (plain top-level field names) is supported by Samsa."}
}

// Configure reads the settings.
func (t *ExtractField) Configure(props map[string]string) error {
	p, err := parseConfig(ExtractFieldConfig(), props)
	if err != nil {
		return err
	}
	t.field, _ = str(p, "field")
	t.replaceNullWithDefault = p["replace.null.with.default"].(bool)
	return nil
}

const extractPurpose = "field extraction"

// Apply replaces the key or value by one of its fields.
func (t *ExtractField) Apply(r *connect.Record) (*connect.Record, error) {
	s, v := t.side.schema(r), t.side.value(r)
	if s == nil {
		if v == nil {
			return t.side.with(r, nil, nil), nil
		}
		m, err := requireMap(v, extractPurpose)
		if err != nil {
			return nil, err
		}
		return t.side.with(r, nil, m[t.field]), nil
	}
	var st *connect.Struct
	if v != nil {
		var err error
		if st, err = requireStruct(v, extractPurpose); err != nil {
			return nil, err
		}
	}
	f := s.Field(t.field)
	if f == nil {
		return nil, dataErr("Unknown field: %s", t.field)
	}
	if st == nil {
		return t.side.with(r, f.Schema, nil), nil
	}
	sf := st.Schema.Field(t.field)
	if sf == nil {
		return nil, dataErr("Unknown field: %s", t.field)
	}
	return t.side.with(r, f.Schema, fieldValue(st, sf, t.replaceNullWithDefault)), nil
}

// Close releases nothing.
func (t *ExtractField) Close() error { return nil }

// HoistField is org.apache.kafka.connect.transforms.HoistField$Key/$Value.
type HoistField struct {
	side  side
	field string
	cache schemaCache
}

// HoistFieldConfig is HoistField.CONFIG_DEF.
func HoistFieldConfig() *connect.ConfigDef {
	return connect.NewConfigDef().Define(connect.ConfigKey{Name: "field", Type: connect.TypeString, Required: true, Importance: connect.Medium,
		Documentation: "Field name for the single field that will be created in the resulting Struct or Map."})
}

// Configure reads the settings.
func (t *HoistField) Configure(props map[string]string) error {
	p, err := parseConfig(HoistFieldConfig(), props)
	if err != nil {
		return err
	}
	t.field, _ = str(p, "field")
	return nil
}

// Apply wraps the key or value in a one-field struct or map.
func (t *HoistField) Apply(r *connect.Record) (*connect.Record, error) {
	s, v := t.side.schema(r), t.side.value(r)
	if s == nil {
		return t.side.with(r, nil, map[string]any{t.field: v}), nil
	}
	ns, _ := t.cache.get(s, func() (*connect.Schema, error) {
		return &connect.Schema{Type: connect.StructT, Fields: []connect.Field{{Name: t.field, Index: 0, Schema: s}}}, nil
	})
	st := connect.NewStruct(ns)
	st.Values[0] = v
	return t.side.with(r, ns, st), nil
}

// Close releases nothing.
func (t *HoistField) Close() error { return nil }
