package transform

import (
	"encoding/base64"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/samsa-streaming/samsa/connect"
	"github.com/samsa-streaming/samsa/internal/connect/convert"
)

// Cast is org.apache.kafka.connect.transforms.Cast$Key/$Value.
type Cast struct {
	side                   side
	casts                  map[string]connect.Type
	whole                  connect.Type // "" unless the spec is a single type
	replaceNullWithDefault bool
	cache                  schemaCache
}

// CastConfig is Cast.CONFIG_DEF.
func CastConfig() *connect.ConfigDef {
	return connect.NewConfigDef().
		Define(connect.ConfigKey{Name: "spec", Type: connect.TypeList, Required: true, Importance: connect.High,
			Documentation: "List of fields and the type to cast them to of the form field1:type,field2:type to cast fields of Maps or Structs. A single type to cast the entire value. Valid types are int8, int16, int32, int64, float32, float64, boolean, and string. Note that binary fields can only be cast to string."}).
		Define(replaceNullKey())
}

var castOutputs = []connect.Type{connect.Int8, connect.Int16, connect.Int32, connect.Int64, connect.Float32, connect.Float64, connect.Boolean, connect.String}

func supportedList(ts []connect.Type) string {
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = strings.ToUpper(string(t))
	}
	return "[" + strings.Join(names, ", ") + "]"
}

func parseCastType(s string) (connect.Type, error) {
	t := connect.Type(strings.ToLower(strings.TrimSpace(s)))
	switch t {
	case connect.Int8, connect.Int16, connect.Int32, connect.Int64, connect.Float32, connect.Float64, connect.Boolean, connect.String:
		return t, nil
	case connect.Bytes, connect.Array, connect.Map, connect.StructT:
		return "", &ConfigException{Msg: fmt.Sprintf("Cast transformation does not support casting to %s; supported types are %s", strings.ToUpper(string(t)), supportedList(castOutputs))}
	}
	return "", &ConfigException{Msg: "Invalid type found in casting spec: " + strings.TrimSpace(s)}
}

// Configure reads spec.
func (t *Cast) Configure(props map[string]string) error {
	p, err := parseConfig(CastConfig(), props)
	if err != nil {
		return err
	}
	spec := p["spec"].([]string)
	if len(spec) == 0 || (len(spec) == 1 && spec[0] == "") {
		return configErrValue("spec", spec, "Must specify at least one field to cast.")
	}
	t.casts = map[string]connect.Type{}
	for _, m := range spec {
		parts := strings.Split(m, ":")
		switch len(parts) {
		case 1:
			typ, err := parseCastType(parts[0])
			if err != nil {
				return err
			}
			t.whole = typ
		case 2:
			typ, err := parseCastType(parts[1])
			if err != nil {
				return err
			}
			t.casts[strings.TrimSpace(parts[0])] = typ
		default:
			return configErrValue("renames", spec, "Invalid rename mapping: "+m)
		}
	}
	if t.whole != "" && len(spec) > 1 {
		return &ConfigException{Msg: "Cast transformations that specify a type to cast the entire value to may only specify a single cast in their spec"}
	}
	t.replaceNullWithDefault = p["replace.null.with.default"].(bool)
	return nil
}

const castPurpose = "cast types"

// Apply casts the fields (or the whole key/value).
func (t *Cast) Apply(r *connect.Record) (*connect.Record, error) {
	s, v := t.side.schema(r), t.side.value(r)
	if v == nil {
		return r, nil
	}
	if s == nil {
		if t.whole != "" {
			out, err := castValue(nil, v, t.whole)
			if err != nil {
				return nil, err
			}
			return t.side.with(r, nil, out), nil
		}
		m, err := requireMap(v, castPurpose)
		if err != nil {
			return nil, err
		}
		out := copyMap(m)
		for f, typ := range t.casts {
			if out[f], err = castValue(nil, m[f], typ); err != nil {
				return nil, err
			}
		}
		return t.side.with(r, nil, out), nil
	}
	ns, err := t.cache.get(s, func() (*connect.Schema, error) { return t.schemaFor(s) })
	if err != nil {
		return nil, err
	}
	if t.whole != "" {
		out, err := castValue(s, v, t.whole)
		if err != nil {
			return nil, err
		}
		return t.side.with(r, ns, out), nil
	}
	st, err := requireStruct(v, castPurpose)
	if err != nil {
		return nil, err
	}
	out := connect.NewStruct(ns)
	for i := range st.Schema.Fields {
		f := &st.Schema.Fields[i]
		fv := fieldValue(st, f, t.replaceNullWithDefault)
		if typ, ok := t.casts[f.Name]; ok {
			if fv, err = castValue(f.Schema, fv, typ); err != nil {
				return nil, err
			}
		}
		if nf := ns.Field(f.Name); nf != nil {
			out.Values[nf.Index] = fv
		}
	}
	return t.side.with(r, ns, out), nil
}

func (t *Cast) schemaFor(s *connect.Schema) (*connect.Schema, error) {
	var ns *connect.Schema
	if t.whole != "" {
		ns = copyBasics(s, t.whole)
	} else {
		ns = copyBasics(s, connect.StructT)
		for _, f := range s.Fields {
			typ, ok := t.casts[f.Name]
			if !ok {
				if err := addField(ns, f.Name, f.Schema); err != nil {
					return nil, err
				}
				continue
			}
			fs := &connect.Schema{Type: typ, Optional: f.Schema.Optional}
			if f.Schema.Default != nil {
				d, err := castValue(f.Schema, f.Schema.Default, typ)
				if err != nil {
					return nil, err
				}
				fs.Default = d
			}
			if err := addField(ns, f.Name, fs); err != nil {
				return nil, err
			}
		}
	}
	ns.Optional = s.Optional
	if s.Default != nil {
		d, err := castValue(s, s.Default, ns.Type)
		if err != nil {
			return nil, err
		}
		ns.Default = d
	}
	return ns, nil
}

var castInputs = []connect.Type{connect.Int8, connect.Int16, connect.Int32, connect.Int64, connect.Float32, connect.Float64, connect.Boolean, connect.String, connect.Bytes}

func inferType(v any) (connect.Type, bool) {
	switch v.(type) {
	case int8:
		return connect.Int8, true
	case int16:
		return connect.Int16, true
	case int32:
		return connect.Int32, true
	case int64:
		return connect.Int64, true
	case float32:
		return connect.Float32, true
	case float64:
		return connect.Float64, true
	case bool:
		return connect.Boolean, true
	case string:
		return connect.String, true
	case []byte, connect.Decimal:
		return connect.Bytes, true
	case []any:
		return connect.Array, true
	case map[string]any, map[any]any:
		return connect.Map, true
	case *connect.Struct:
		return connect.StructT, true
	case time.Time:
		return connect.Int64, true
	}
	return "", false
}

// castValue is Cast.castValueToType.
func castValue(s *connect.Schema, v any, target connect.Type) (any, error) {
	if v == nil {
		return nil, nil
	}
	var in connect.Type
	if s != nil {
		in = s.Type
	} else {
		var ok bool
		if in, ok = inferType(v); !ok {
			return nil, dataErr("Cast transformation was passed a value of type class %s which is not supported by Connect's data API", nullSafeClassName(v))
		}
	}
	supported := false
	for _, c := range castInputs {
		supported = supported || c == in
	}
	if !supported {
		return nil, dataErr("Cast transformation does not support casting from %s; supported types are %s", strings.ToUpper(string(in)), supportedList(castInputs))
	}
	if tm, ok := v.(time.Time); ok && target != connect.String && s != nil {
		n, err := convert.TimeFromLogical(s.Name, tm)
		if err != nil {
			return nil, err
		}
		if s.Type == connect.Int32 {
			v = int32(n)
		} else {
			v = n
		}
	}
	if target == connect.String {
		return castToString(v), nil
	}
	return castNumeric(v, target)
}

func castToString(v any) string {
	switch x := v.(type) {
	case time.Time:
		ms := x.UnixMilli()
		switch {
		case ms >= 0 && ms < 86400000:
			return x.UTC().Format("15:04:05.000Z")
		case ms%86400000 == 0:
			return x.UTC().Format("2006-01-02")
		}
		return x.UTC().Format("2006-01-02T15:04:05.000Z")
	case []byte:
		return base64.StdEncoding.EncodeToString(x)
	case string:
		return x
	case float32:
		return convert.JavaFloatString(float64(x), 32)
	case float64:
		return convert.JavaFloatString(x, 64)
	case connect.Decimal:
		return convert.DecimalString(x)
	}
	return fmt.Sprint(v)
}

// castNumeric casts a number, boolean or string to a numeric or boolean
// type as Java's Number.xxxValue / parseXxx do.
func castNumeric(v any, target connect.Type) (any, error) {
	var i int64
	var f float64
	isFloat := false
	switch x := v.(type) {
	case int8:
		i = int64(x)
	case int16:
		i = int64(x)
	case int32:
		i = int64(x)
	case int64:
		i = x
	case float32:
		f, isFloat = float64(x), true
	case float64:
		f, isFloat = x, true
	case connect.Decimal:
		r := new(big.Rat).SetFrac(x.Unscaled, big.NewInt(1))
		e := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs32(x.Scale))), nil)
		if x.Scale > 0 {
			r.Quo(r, new(big.Rat).SetInt(e))
		} else {
			r.Mul(r, new(big.Rat).SetInt(e))
		}
		if target == connect.Float32 || target == connect.Float64 {
			f, _ = r.Float64()
			isFloat = true
		} else {
			q := new(big.Int).Quo(r.Num(), r.Denom())
			i = int64(new(big.Int).And(q, new(big.Int).SetUint64(math.MaxUint64)).Uint64())
		}
	case bool:
		if x {
			i = 1
		}
	case string:
		return parseCast(x, target)
	default:
		return nil, dataErr("Unexpected type in Cast transformation: class %s", nullSafeClassName(v))
	}
	if isFloat {
		switch target {
		case connect.Float32:
			return float32(f), nil
		case connect.Float64:
			return f, nil
		case connect.Boolean:
			return javaLong(f) != 0, nil
		}
		i = javaLong(f)
		if target != connect.Int64 {
			i = int64(javaInt(f))
		}
	}
	switch target {
	case connect.Int8:
		return int8(i), nil
	case connect.Int16:
		return int16(i), nil
	case connect.Int32:
		return int32(i), nil
	case connect.Int64:
		return i, nil
	case connect.Float32:
		return float32(i), nil
	case connect.Float64:
		return float64(i), nil
	}
	return i != 0, nil
}

func abs32(x int32) int32 {
	if x < 0 {
		return -x
	}
	return x
}

// javaLong is Java's (long) cast of a double: NaN → 0, saturating.
func javaLong(f float64) int64 {
	switch {
	case math.IsNaN(f):
		return 0
	case f >= math.MaxInt64:
		return math.MaxInt64
	case f <= math.MinInt64:
		return math.MinInt64
	}
	return int64(f)
}

// javaInt is Java's (int) cast of a double (then narrowed for byte/short).
func javaInt(f float64) int32 {
	switch {
	case math.IsNaN(f):
		return 0
	case f >= math.MaxInt32:
		return math.MaxInt32
	case f <= math.MinInt32:
		return math.MinInt32
	}
	return int32(f)
}

func parseCast(s string, target connect.Type) (any, error) {
	outOfRange := func() error {
		return dataErr("Value (%s) was out of range for requested data type", s)
	}
	bits := map[connect.Type]int{connect.Int8: 8, connect.Int16: 16, connect.Int32: 32, connect.Int64: 64}
	switch target {
	case connect.Int8, connect.Int16, connect.Int32, connect.Int64:
		n, err := strconv.ParseInt(strings.TrimPrefix(s, "+"), 10, bits[target])
		if err != nil {
			return nil, outOfRange()
		}
		return castNumeric(n, target)
	case connect.Float32, connect.Float64:
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil && !strings.Contains(err.Error(), "range") {
			return nil, outOfRange()
		}
		if target == connect.Float32 {
			return float32(f), nil
		}
		return f, nil
	}
	return strings.EqualFold(s, "true"), nil
}

// MaskField is org.apache.kafka.connect.transforms.MaskField$Key/$Value.
type MaskField struct {
	side                   side
	fields                 map[string]bool
	replacement            string
	hasReplacement         bool
	replaceNullWithDefault bool
}

// MaskFieldConfig is MaskField.CONFIG_DEF.
func MaskFieldConfig() *connect.ConfigDef {
	return connect.NewConfigDef().
		Define(connect.ConfigKey{Name: "fields", Type: connect.TypeList, Required: true, Validator: nonEmptyList, Importance: connect.High, Documentation: "Names of fields to mask."}).
		Define(connect.ConfigKey{Name: "replacement", Type: connect.TypeString, Importance: connect.Low,
			Documentation: "Custom value replacement, that will be applied to all 'fields' values (numeric or non-empty string values only)."}).
		Define(replaceNullKey())
}

// Configure reads the settings.
func (t *MaskField) Configure(props map[string]string) error {
	p, err := parseConfig(MaskFieldConfig(), props)
	if err != nil {
		return err
	}
	t.fields = set(p["fields"].([]string))
	t.replacement, _ = str(p, "replacement")
	_, t.hasReplacement = props["replacement"]
	if t.hasReplacement && t.replacement == "" {
		return configErrValue("replacement", "", "String must be non-empty")
	}
	t.replaceNullWithDefault = p["replace.null.with.default"].(bool)
	return nil
}

const maskPurpose = "mask fields"

// Apply masks the fields.
func (t *MaskField) Apply(r *connect.Record) (*connect.Record, error) {
	s, v := t.side.schema(r), t.side.value(r)
	if s == nil {
		m, err := requireMap(v, maskPurpose)
		if err != nil {
			return nil, err
		}
		out := copyMap(m)
		for f := range t.fields {
			if out[f], err = t.mask(m[f]); err != nil {
				return nil, err
			}
		}
		return t.side.with(r, s, out), nil
	}
	st, err := requireStruct(v, maskPurpose)
	if err != nil {
		return nil, err
	}
	out := connect.NewStruct(st.Schema)
	for i := range st.Schema.Fields {
		f := &st.Schema.Fields[i]
		fv := fieldValue(st, f, t.replaceNullWithDefault)
		if t.fields[f.Name] {
			if fv, err = t.mask(fv); err != nil {
				return nil, err
			}
		}
		out.Values[f.Index] = fv
	}
	return t.side.with(r, st.Schema, out), nil
}

func (t *MaskField) mask(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if !t.hasReplacement {
		switch v.(type) {
		case bool:
			return false, nil
		case int8:
			return int8(0), nil
		case int16:
			return int16(0), nil
		case int32:
			return int32(0), nil
		case int64:
			return int64(0), nil
		case float32:
			return float32(0), nil
		case float64:
			return float64(0), nil
		case connect.Decimal:
			return connect.Decimal{Unscaled: new(big.Int)}, nil
		case time.Time:
			return time.UnixMilli(0).UTC(), nil
		case string:
			return "", nil
		case []any:
			return []any{}, nil
		case map[string]any:
			return map[string]any{}, nil
		case map[any]any:
			return map[any]any{}, nil
		}
		return nil, dataErr("Cannot mask value of type: class %s", nullSafeClassName(v))
	}
	rep := t.replacement
	bad := func() (any, error) {
		return nil, dataErr("Unable to convert %s (class java.lang.String) to number", rep)
	}
	switch v.(type) {
	case string:
		return rep, nil
	case int8, int16, int32, int64, float32, float64:
		typ, _ := inferType(v)
		_, num := convert.ParseValuesString(rep)
		if num == nil {
			return bad()
		}
		if _, isStr := num.(string); isStr {
			return bad()
		}
		out, err := castNumeric(num, typ)
		if err != nil {
			return bad()
		}
		return out, nil
	case connect.Decimal:
		d, ok := convert.ParseDecimal(rep)
		if !ok {
			return bad()
		}
		return d, nil
	}
	return nil, dataErr("Cannot mask value of type class %s with custom replacement.", nullSafeClassName(v))
}

// Close releases nothing.
func (t *MaskField) Close() error { return nil }

// Close releases nothing.
func (t *Cast) Close() error { return nil }
