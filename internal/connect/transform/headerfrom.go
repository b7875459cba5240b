package transform

import (
	"fmt"

	"github.com/samsa-streaming/samsa/connect"
)

// HeaderFrom is org.apache.kafka.connect.transforms.HeaderFrom$Key/$Value:
// it copies or moves fields of the key or value into headers.
type HeaderFrom struct {
	side                   side
	fields, headers        []string
	move                   bool
	replaceNullWithDefault bool
	cache                  schemaCache
}

// HeaderFromConfig is its CONFIG_DEF.
func HeaderFromConfig() *connect.ConfigDef {
	return connect.NewConfigDef().
		Define(connect.ConfigKey{Name: "fields", Type: connect.TypeList, Required: true, Validator: nonEmptyList, Importance: connect.High,
			Documentation: "Field names in the record whose values are to be copied or moved to headers."}).
		Define(connect.ConfigKey{Name: "headers", Type: connect.TypeList, Required: true, Validator: nonEmptyList, Importance: connect.High,
			Documentation: "Header names, in the same order as the field names listed in the fields configuration property."}).
		Define(connect.ConfigKey{Name: "operation", Type: connect.TypeString, Required: true, Validator: connect.InList(false, "move", "copy"),
			Importance: connect.High, Documentation: "Either <code>move</code> if the fields are to be moved to the headers (removed from the key/value), or <code>copy</code> if the fields are to be copied to the headers (retained in the key/value)."}).
		Define(replaceNullKey())
}

// Configure reads the settings.
func (t *HeaderFrom) Configure(props map[string]string) error {
	p, err := parseConfig(HeaderFromConfig(), props)
	if err != nil {
		return err
	}
	t.fields, t.headers = p["fields"].([]string), p["headers"].([]string)
	if len(t.fields) != len(t.headers) {
		return &ConfigException{Msg: fmt.Sprintf("'%s' config must have the same number of elements as '%s' config.", "fields", "headers")}
	}
	t.move = p["operation"] == "move"
	t.replaceNullWithDefault = p["replace.null.with.default"].(bool)
	return nil
}

func (t *HeaderFrom) purpose() string {
	if t.move {
		return "header move"
	}
	return "header copy"
}

// Apply adds the headers (and drops the fields when moving).
func (t *HeaderFrom) Apply(r *connect.Record) (*connect.Record, error) {
	s, v := t.side.schema(r), t.side.value(r)
	if s == nil {
		m, err := requireMap(v, t.purpose())
		if err != nil {
			return nil, err
		}
		out := copyMap(m)
		c := t.side.with(r, nil, out)
		for i, f := range t.fields {
			if t.move {
				delete(out, f)
			}
			c.Headers = append(c.Headers, connect.Header{Key: t.headers[i], Value: m[f]})
		}
		return c, nil
	}
	st, err := requireStruct(v, t.purpose())
	if err != nil {
		return nil, err
	}
	ns, nv := s, st
	if t.move {
		if ns, err = t.cache.get(s, func() (*connect.Schema, error) { return t.moved(s) }); err != nil {
			return nil, err
		}
		nv = connect.NewStruct(ns)
		for i, f := range ns.Fields {
			nv.Values[i] = fieldValue(st, st.Schema.Field(f.Name), t.replaceNullWithDefault)
		}
	}
	c := t.side.with(r, ns, nv)
	for i, name := range t.fields {
		f := s.Field(name)
		if f == nil {
			return nil, dataErr("%s is not a valid field name", name)
		}
		var fv any
		if sf := st.Schema.Field(name); sf != nil {
			fv = fieldValue(st, sf, t.replaceNullWithDefault)
		}
		c.Headers = append(c.Headers, connect.Header{Key: t.headers[i], Schema: f.Schema, Value: fv})
	}
	return c, nil
}

func (t *HeaderFrom) moved(s *connect.Schema) (*connect.Schema, error) {
	drop := set(t.fields)
	ns := copyBasics(s, connect.StructT)
	for _, f := range s.Fields {
		if !drop[f.Name] {
			if err := addField(ns, f.Name, f.Schema); err != nil {
				return nil, err
			}
		}
	}
	return ns, nil
}

// Close releases nothing.
func (t *HeaderFrom) Close() error { return nil }
