package transform

import (
	"fmt"
	"reflect"
	"time"

	"github.com/samsa-streaming/samsa/connect"
)

// DataException is a failure on a record's data, worded as Java's
// org.apache.kafka.connect.errors.DataException.
type DataException struct{ Msg string }

func (e *DataException) Error() string { return e.Msg }

// ConfigException is an invalid configuration, worded as Java's
// org.apache.kafka.common.config.ConfigException.
type ConfigException struct{ Msg string }

func (e *ConfigException) Error() string { return e.Msg }

func dataErr(format string, args ...any) error {
	return &DataException{Msg: fmt.Sprintf(format, args...)}
}

// configErrValue is ConfigException(name, value, message)'s text.
func configErrValue(name string, value any, msg string) error {
	return &ConfigException{Msg: fmt.Sprintf("Invalid value %v for configuration %s: %s", javaValueString(value), name, msg)}
}

func javaValueString(v any) string {
	if l, ok := v.([]string); ok {
		s := "["
		for i, e := range l {
			if i > 0 {
				s += ", "
			}
			s += e
		}
		return s + "]"
	}
	return fmt.Sprint(v)
}

// parseConfig parses props with def, as Java's SimpleConfig.
func parseConfig(def *connect.ConfigDef, props map[string]string) (map[string]any, error) {
	parsed, err := def.Parse(props)
	if err != nil {
		return nil, &ConfigException{Msg: err.Error()}
	}
	return parsed, nil
}

func str(parsed map[string]any, name string) (string, bool) {
	s, ok := parsed[name].(string)
	return s, ok
}

// side picks the key or the value of a record.
type side bool

const (
	keySide   side = true
	valueSide side = false
)

func (s side) schema(r *connect.Record) *connect.Schema {
	if s == keySide {
		return r.KeySchema
	}
	return r.ValueSchema
}

func (s side) value(r *connect.Record) any {
	if s == keySide {
		return r.Key
	}
	return r.Value
}

// with returns a copy of r with this side replaced.
func (s side) with(r *connect.Record, sch *connect.Schema, v any) *connect.Record {
	c := r.Copy()
	if s == keySide {
		c.KeySchema, c.Key = sch, v
	} else {
		c.ValueSchema, c.Value = sch, v
	}
	return c
}

// nullSafeClassName is Requirements.nullSafeClassName for Go values.
func nullSafeClassName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case int8:
		return "java.lang.Byte"
	case int16:
		return "java.lang.Short"
	case int32:
		return "java.lang.Integer"
	case int64:
		return "java.lang.Long"
	case float32:
		return "java.lang.Float"
	case float64:
		return "java.lang.Double"
	case bool:
		return "java.lang.Boolean"
	case string:
		return "java.lang.String"
	case []byte:
		return "[B"
	case []any:
		return "java.util.ArrayList"
	case map[string]any, map[any]any:
		return "java.util.HashMap"
	case *connect.Struct:
		return "org.apache.kafka.connect.data.Struct"
	case connect.Decimal:
		return "java.math.BigDecimal"
	case time.Time:
		return "java.util.Date"
	}
	return reflect.TypeOf(v).String()
}

func requireMap(v any, purpose string) (map[string]any, error) {
	if m, ok := v.(map[string]any); ok {
		return m, nil
	}
	if m, ok := v.(map[any]any); ok {
		out := make(map[string]any, len(m))
		for k, e := range m {
			ks, ok := k.(string)
			if !ok {
				return nil, dataErr("Only Map objects supported in absence of schema for [%s], found: %s", purpose, nullSafeClassName(v))
			}
			out[ks] = e
		}
		return out, nil
	}
	return nil, dataErr("Only Map objects supported in absence of schema for [%s], found: %s", purpose, nullSafeClassName(v))
}

func requireStruct(v any, purpose string) (*connect.Struct, error) {
	if st, ok := v.(*connect.Struct); ok && st != nil {
		return st, nil
	}
	return nil, dataErr("Only Struct objects supported for [%s], found: %s", purpose, nullSafeClassName(v))
}

func requireSchema(s *connect.Schema, purpose string) error {
	if s == nil {
		return dataErr("Schema required for [%s]", purpose)
	}
	return nil
}

// isSinkRecord says whether r came from Kafka (a SinkRecord) rather than
// from a source task.
func isSinkRecord(r *connect.Record) bool {
	return r.SourcePartition == nil && r.SourceOffset == nil
}

// fieldValue is Struct.get (the field schema's default replaces null when
// replaceDefault) or Struct.getWithoutDefault.
func fieldValue(st *connect.Struct, f *connect.Field, replaceDefault bool) any {
	var v any
	if f.Index < len(st.Values) {
		v = st.Values[f.Index]
	}
	if v == nil && replaceDefault && f.Schema != nil {
		return f.Schema.Default
	}
	return v
}

// copyBasics is SchemaUtil.copySchemaBasics onto a new struct schema:
// name, version, doc and parameters (not optionality nor default).
func copyBasics(s *connect.Schema, t connect.Type) *connect.Schema {
	out := &connect.Schema{Type: t, Name: s.Name, Version: s.Version, Doc: s.Doc}
	if s.Parameters != nil {
		out.Parameters = make(map[string]string, len(s.Parameters))
		for k, v := range s.Parameters {
			out.Parameters[k] = v
		}
	}
	return out
}

func addField(s *connect.Schema, name string, fs *connect.Schema) error {
	if s.Field(name) != nil {
		return &DataException{Msg: "Cannot create field because of field name duplication " + name}
	}
	s.Fields = append(s.Fields, connect.Field{Name: name, Index: len(s.Fields), Schema: fs})
	return nil
}

// schemaCache maps an input schema to the derived one, bounded (Java's
// LRUCache(16)); eviction drops everything, which only costs a rebuild.
type schemaCache map[*connect.Schema]*connect.Schema

func (c *schemaCache) get(s *connect.Schema, build func() (*connect.Schema, error)) (*connect.Schema, error) {
	if *c == nil {
		*c = schemaCache{}
	}
	if out, ok := (*c)[s]; ok {
		return out, nil
	}
	out, err := build()
	if err != nil {
		return nil, err
	}
	if len(*c) >= 16 {
		*c = schemaCache{}
	}
	(*c)[s] = out
	return out, nil
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

const replaceNullDoc = "Whether to replace fields that have a default value and that are null to the default value. When set to true, the default value is used, otherwise null is used."

func replaceNullKey() connect.ConfigKey {
	return connect.ConfigKey{Name: "replace.null.with.default", Type: connect.TypeBoolean, Default: "true", Importance: connect.Medium, Documentation: replaceNullDoc}
}

func nonEmptyList(v any) error {
	if l, _ := v.([]string); len(l) == 0 {
		return fmt.Errorf("Empty list")
	}
	return nil
}

func nonEmptyString(v any) error {
	if s, _ := v.(string); s == "" {
		return fmt.Errorf("String must be non-empty")
	}
	return nil
}
