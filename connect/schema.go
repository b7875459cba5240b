package connect

import (
	"errors"
	"fmt"
	"math/big"
	"time"
)

// Type is a Kafka Connect schema type, spelled as in Java's Schema.Type.
type Type string

// The schema types.
const (
	Int8    Type = "int8"
	Int16   Type = "int16"
	Int32   Type = "int32"
	Int64   Type = "int64"
	Float32 Type = "float32"
	Float64 Type = "float64"
	Boolean Type = "boolean"
	String  Type = "string"
	Bytes   Type = "bytes"
	Array   Type = "array"
	Map     Type = "map"
	StructT Type = "struct"
)

// Logical type names (Schema.Name), as Kafka Connect's
// org.apache.kafka.connect.data classes name them.
const (
	DecimalName       = "org.apache.kafka.connect.data.Decimal"
	DateName          = "org.apache.kafka.connect.data.Date"
	TimeName          = "org.apache.kafka.connect.data.Time"
	TimestampName     = "org.apache.kafka.connect.data.Timestamp"
	DecimalScaleParam = "scale"
)

// Schema describes a value. Schemas are immutable once built; share them.
type Schema struct {
	Type       Type
	Optional   bool
	Default    any
	Name       string
	Version    *int32
	Doc        string
	Parameters map[string]string
	Fields     []Field // StructT only, in order
	Key        *Schema // Map only
	Value      *Schema // Map and Array
}

// Field is one field of a struct schema.
type Field struct {
	Name   string
	Index  int
	Schema *Schema
}

// Field returns the named field, or nil.
func (s *Schema) Field(name string) *Field {
	if s == nil {
		return nil
	}
	for i := range s.Fields {
		if s.Fields[i].Name == name {
			return &s.Fields[i]
		}
	}
	return nil
}

// Common optional and required primitive schemas.
var (
	// These are read-only; never modify them.
	SchemaInt8      = &Schema{Type: Int8}
	SchemaInt16     = &Schema{Type: Int16}
	SchemaInt32     = &Schema{Type: Int32}
	SchemaInt64     = &Schema{Type: Int64}
	SchemaFloat32   = &Schema{Type: Float32}
	SchemaFloat64   = &Schema{Type: Float64}
	SchemaBoolean   = &Schema{Type: Boolean}
	SchemaString    = &Schema{Type: String}
	SchemaBytes     = &Schema{Type: Bytes}
	OptionalInt8    = &Schema{Type: Int8, Optional: true}
	OptionalInt16   = &Schema{Type: Int16, Optional: true}
	OptionalInt32   = &Schema{Type: Int32, Optional: true}
	OptionalInt64   = &Schema{Type: Int64, Optional: true}
	OptionalFloat32 = &Schema{Type: Float32, Optional: true}
	OptionalFloat64 = &Schema{Type: Float64, Optional: true}
	OptionalBoolean = &Schema{Type: Boolean, Optional: true}
	OptionalString  = &Schema{Type: String, Optional: true}
	OptionalBytes   = &Schema{Type: Bytes, Optional: true}
)

// Decimal is the value of the Decimal logical type: Unscaled × 10^-Scale.
type Decimal struct {
	Unscaled *big.Int
	Scale    int32
}

// String renders the decimal in plain notation.
func (d Decimal) String() string {
	if d.Unscaled == nil {
		return "0"
	}
	r := new(big.Rat).SetFrac(d.Unscaled, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d.Scale)), nil))
	if d.Scale <= 0 {
		return r.FloatString(0)
	}
	return r.FloatString(int(d.Scale))
}

// Struct is a value of a struct schema: one value per field, in order.
type Struct struct {
	Schema *Schema
	Values []any
}

// NewStruct returns an empty struct of schema s.
func NewStruct(s *Schema) *Struct {
	return &Struct{Schema: s, Values: make([]any, len(s.Fields))}
}

// ErrNoField is returned for a field the struct's schema does not have.
var ErrNoField = errors.New("connect: no such field")

// Get returns the named field's value (nil when unset or absent).
func (st *Struct) Get(name string) any {
	f := st.Schema.Field(name)
	if f == nil {
		return nil
	}
	return st.Values[f.Index]
}

// Put sets the named field.
func (st *Struct) Put(name string, v any) error {
	f := st.Schema.Field(name)
	if f == nil {
		return fmt.Errorf("%w: %q", ErrNoField, name)
	}
	st.Values[f.Index] = v
	return nil
}

// Validate checks the value against its schema: required fields present
// and every value of the Go type its schema type calls for.
func (st *Struct) Validate() error {
	for _, f := range st.Schema.Fields {
		if err := ValidateValue(f.Schema, st.Values[f.Index]); err != nil {
			return fmt.Errorf("field %q: %w", f.Name, err)
		}
	}
	return nil
}

// ValidateValue checks that v fits schema s (nil s accepts anything).
func ValidateValue(s *Schema, v any) error {
	if s == nil {
		return nil
	}
	if v == nil {
		if s.Optional || s.Default != nil {
			return nil
		}
		return errors.New("required value is missing")
	}
	ok := false
	switch s.Name {
	case DecimalName:
		_, ok = v.(Decimal)
		return typeErr(ok, s, v)
	case DateName, TimeName, TimestampName:
		_, ok = v.(time.Time)
		return typeErr(ok, s, v)
	}
	switch s.Type {
	case Int8:
		_, ok = v.(int8)
	case Int16:
		_, ok = v.(int16)
	case Int32:
		_, ok = v.(int32)
	case Int64:
		_, ok = v.(int64)
	case Float32:
		_, ok = v.(float32)
	case Float64:
		_, ok = v.(float64)
	case Boolean:
		_, ok = v.(bool)
	case String:
		_, ok = v.(string)
	case Bytes:
		_, ok = v.([]byte)
	case Array:
		var a []any
		if a, ok = v.([]any); ok {
			for i, e := range a {
				if err := ValidateValue(s.Value, e); err != nil {
					return fmt.Errorf("element %d: %w", i, err)
				}
			}
		}
	case Map:
		switch m := v.(type) {
		case map[any]any:
			ok = true
			for k, e := range m {
				if err := ValidateValue(s.Key, k); err != nil {
					return fmt.Errorf("map key: %w", err)
				}
				if err := ValidateValue(s.Value, e); err != nil {
					return fmt.Errorf("map value: %w", err)
				}
			}
		case map[string]any:
			ok = s.Key == nil || s.Key.Type == String
			for _, e := range m {
				if err := ValidateValue(s.Value, e); err != nil {
					return fmt.Errorf("map value: %w", err)
				}
			}
		}
	case StructT:
		var st *Struct
		if st, ok = v.(*Struct); ok {
			return st.Validate()
		}
	}
	return typeErr(ok, s, v)
}

func typeErr(ok bool, s *Schema, v any) error {
	if ok {
		return nil
	}
	name := string(s.Type)
	if s.Name != "" {
		name = s.Name
	}
	return fmt.Errorf("value of Go type %T does not fit schema type %s", v, name)
}
