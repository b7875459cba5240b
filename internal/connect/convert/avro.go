package convert

import (
	"bytes"
	"fmt"
	"math/big"
	"reflect"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/samsa-streaming/samsa/connect"
)

// AvroConverter is io.confluent.connect.avro.AvroConverter.
type AvroConverter struct {
	reg      *registryClient
	api      avro.API
	enhanced bool // enhanced.avro.schema.support
}

// EnhancedAvroConfig is Confluent's enhanced.avro.schema.support.
const EnhancedAvroConfig = "enhanced.avro.schema.support"

// maxAvroAlloc bounds what one decoded value may allocate.
const maxAvroAlloc = 64 << 20

type avroWriter struct {
	text, name string
	schema     avro.Schema
}

type avroParsed struct {
	schema  avro.Schema
	connect *connect.Schema
}

// Configure reads the registry settings.
func (c *AvroConverter) Configure(props map[string]string, isKey bool) error {
	cfg, err := parseRegistryConfig(props, isKey)
	if err != nil {
		return err
	}
	if c.reg, err = newRegistryClient(cfg); err != nil {
		return err
	}
	c.api = avro.Config{MaxByteSliceSize: maxAvroAlloc, MaxSliceAllocSize: maxAvroAlloc}.Freeze()
	if v, ok := props[EnhancedAvroConfig]; ok {
		b, err := connect.ParseValue(connect.TypeBoolean, v)
		if err != nil {
			return fmt.Errorf("convert: Invalid value %s for configuration %s: %w", v, EnhancedAvroConfig, err)
		}
		c.enhanced = b.(bool)
	}
	return nil
}

// Version reports the Confluent version whose behaviour this follows.
func (c *AvroConverter) Version() string { return confluentVersion }

const confluentVersion = "7.9.0"

// Config describes the settings.
func (c *AvroConverter) Config() *connect.ConfigDef { return AvroConfigDef() }

// AvroConfigDef is the registry settings plus AvroConverter's own.
func AvroConfigDef() *connect.ConfigDef {
	return RegistryConfigDef().Define(connect.ConfigKey{Name: EnhancedAvroConfig, Type: connect.TypeBoolean, Default: "false", Importance: connect.Medium,
		Documentation: "Enable enhanced schema support to preserve package information and Enums."})
}

// FromConnect registers (or looks up) the Avro schema for s and writes v.
func (c *AvroConverter) FromConnect(topic string, headers []connect.Header, s *connect.Schema, v any) ([]byte, error) {
	if v == nil && (s == nil || s.Optional || s.Default == nil) {
		return nil, nil
	}
	w, err := c.reg.writer(s, func() (any, error) {
		text, name, err := ConnectToAvroSchemaOpts(s, c.enhanced)
		if err != nil {
			return nil, err
		}
		as, err := avro.ParseWithCache(text, "", &avro.SchemaCache{})
		if err != nil {
			return nil, dataErrCause("Failed to serialize Avro data: invalid schema:", err)
		}
		return &avroWriter{text: text, name: name, schema: as}, nil
	})
	if err != nil {
		return nil, err
	}
	aw := w.(*avroWriter)
	subject, err := c.reg.subject(topic, aw.name)
	if err != nil {
		return nil, err
	}
	id, latest, err := c.reg.idFor(subject, sr.Schema{Schema: aw.text, Type: sr.TypeAvro})
	if err != nil {
		return nil, err
	}
	as := aw.schema
	if latest != nil {
		p, err := c.reg.parsed(latest.ID, c.parseSchema)
		if err != nil {
			return nil, err
		}
		as = p.(*avroParsed).schema
	}
	gv, err := connectToAvroValue(s, as, v, 0)
	if err != nil {
		return nil, err
	}
	payload, err := c.api.Marshal(as, gv)
	if err != nil {
		return nil, dataErrCause(fmt.Sprintf("Failed to serialize Avro data from topic %s :", topic), err)
	}
	return frame(id, nil, payload), nil
}

// ToConnect reads the schema id, fetches the writer schema and decodes.
func (c *AvroConverter) ToConnect(topic string, headers []connect.Header, data []byte) (*connect.Schema, any, error) {
	if data == nil {
		return nil, nil, nil
	}
	id, _, payload, err := unframe(data, headers, c.reg.cfg.IsKey, false)
	if err != nil {
		return nil, nil, err
	}
	p, err := c.reg.parsed(id, c.parseSchema)
	if err != nil {
		return nil, nil, err
	}
	ap := p.(*avroParsed)
	var gv any
	r := avro.NewReader(bytes.NewReader(payload), 512, avro.WithReaderConfig(c.api))
	r.ReadVal(ap.schema, &gv)
	if err := r.Error; err != nil {
		return nil, nil, dataErrCause(fmt.Sprintf("Failed to deserialize Avro data for topic %s to Connect:", topic), err)
	}
	v, err := avroValueToConnect(ap.schema, ap.connect, gv, 0)
	if err != nil {
		return nil, nil, err
	}
	return ap.connect, v, nil
}

func (c *AvroConverter) parseSchema(s sr.Schema) (any, error) {
	if s.Type != sr.TypeAvro {
		return nil, dataErr(fmt.Sprintf("Failed to deserialize data: schema is %s, not AVRO", s.Type))
	}
	var refs []namedText
	if err := c.reg.references(s, map[string]bool{}, &refs, 0); err != nil {
		return nil, err
	}
	cache := &avro.SchemaCache{}
	for _, r := range refs {
		if _, err := avro.ParseWithCache(r.text, "", cache); err != nil {
			return nil, dataErrCause("Failed to deserialize data: invalid Avro reference "+r.name+":", err)
		}
	}
	as, err := avro.ParseWithCache(s.Schema, "", cache)
	if err != nil {
		return nil, dataErrCause("Failed to deserialize data: invalid Avro schema:", err)
	}
	cs, err := AvroToConnectSchema(as)
	if err != nil {
		return nil, err
	}
	return &avroParsed{schema: as, connect: cs}, nil
}

// connectToAvroValue converts v (of Connect schema s) to hamba's generic
// form for Avro schema as.
func connectToAvroValue(s *connect.Schema, as avro.Schema, v any, depth int) (any, error) {
	if depth > maxDepth {
		return nil, dataErr("Value nesting too deep")
	}
	if ref, ok := as.(*avro.RefSchema); ok {
		as = ref.Schema()
	}
	if v == nil && s != nil && s.Default != nil {
		v = s.Default
	}
	if u, ok := as.(*avro.UnionSchema); ok {
		if v == nil {
			return nil, nil
		}
		branch, err := nullableBranch(u)
		if err != nil {
			return connectUnionToAvro(s, u, v, depth)
		}
		inner, err := connectToAvroValue(s, branch, v, depth+1)
		if err != nil {
			return nil, err
		}
		return map[string]any{unionBranchName(branch): inner}, nil
	}
	if v == nil {
		return nil, dataErr("Conversion error: null value for field that is required and has no default value")
	}
	if s == nil {
		return nil, dataErr("AvroConverter does not support schemaless data")
	}
	if err := connect.ValidateValue(&connect.Schema{Type: s.Type, Name: s.Name, Optional: true, Key: s.Key, Value: s.Value}, shallow(v)); err != nil {
		return nil, dataErr(fmt.Sprintf("Invalid type for %s: %s", javaTypeName(s.Type), goJavaClass(v)))
	}
	return connectTypedToAvro(s, as, v, depth)
}

// connectTypedToAvro converts a non-null value whose Go type fits s.
func connectTypedToAvro(s *connect.Schema, as avro.Schema, v any, depth int) (any, error) {
	switch s.Name {
	case connect.DecimalName:
		d := v.(connect.Decimal)
		if _, err := DecimalFromLogical(s, d); err != nil {
			return nil, err
		}
		return decimalRat(d), nil
	case connect.DateName, connect.TimestampName:
		return v.(time.Time).UTC(), nil
	case connect.TimeName:
		ms, err := TimeFromLogical(connect.TimeName, v.(time.Time))
		if err != nil {
			return nil, err
		}
		return time.Duration(ms) * time.Millisecond, nil
	}
	if fs, ok := as.(*avro.FixedSchema); ok {
		b, _ := v.([]byte)
		if len(b) != fs.Size() {
			return nil, dataErr(fmt.Sprintf("Invalid length %d for Avro fixed of size %d", len(b), fs.Size()))
		}
		arr := reflect.New(reflect.ArrayOf(fs.Size(), reflect.TypeOf(byte(0)))).Elem()
		reflect.Copy(arr, reflect.ValueOf(b))
		return arr.Interface(), nil
	}
	switch x := v.(type) {
	case int8:
		return int32(x), nil
	case int16:
		return int32(x), nil
	case []any:
		arr, _ := as.(*avro.ArraySchema)
		if arr == nil {
			return nil, dataErr("Avro schema is not an array")
		}
		out := make([]any, len(x))
		for i, e := range x {
			ev, err := connectToAvroValue(nonNil(s.Value), arr.Items(), e, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = ev
		}
		return out, nil
	case map[string]any, map[any]any:
		return connectMapToAvro(s, as, v, depth)
	case *connect.Struct:
		rec, _ := as.(*avro.RecordSchema)
		if rec == nil {
			return nil, dataErr("Avro schema is not a record")
		}
		out := make(map[string]any, len(rec.Fields()))
		for _, f := range rec.Fields() {
			cf := x.Schema.Field(f.Name())
			if cf == nil {
				out[f.Name()] = nil
				continue
			}
			fv, err := connectToAvroValue(cf.Schema, f.Type(), x.Values[cf.Index], depth+1)
			if err != nil {
				return nil, fmt.Errorf("%w (field %s)", err, f.Name())
			}
			out[f.Name()] = fv
		}
		return out, nil
	}
	return v, nil
}

// shallow returns v with containers emptied, so that ValidateValue
// checks only the top-level Go type.
func shallow(v any) any {
	switch v.(type) {
	case []any:
		return []any{}
	case map[string]any:
		return map[string]any{}
	case map[any]any:
		return map[any]any{}
	case *connect.Struct:
		return v
	}
	return v
}

func connectMapToAvro(s *connect.Schema, as avro.Schema, v any, depth int) (any, error) {
	entries, _, _ := mapEntries(v)
	if m, ok := as.(*avro.MapSchema); ok {
		out := make(map[string]any, len(entries))
		for _, e := range entries {
			k, ok := e.k.(string)
			if !ok {
				return nil, dataErr("Avro map keys must be strings")
			}
			ev, err := connectToAvroValue(nonNil(s.Value), m.Values(), e.v, depth+1)
			if err != nil {
				return nil, err
			}
			out[k] = ev
		}
		return out, nil
	}
	arr, _ := as.(*avro.ArraySchema)
	var me *avro.RecordSchema
	if arr != nil {
		me = mapEntryRecord(arr.Items())
	}
	if me == nil {
		return nil, dataErr("Avro schema is not a map")
	}
	out := make([]any, 0, len(entries))
	for _, e := range entries {
		k, err := connectToAvroValue(s.Key, me.Fields()[0].Type(), e.k, depth+1)
		if err != nil {
			return nil, err
		}
		ev, err := connectToAvroValue(nonNil(s.Value), me.Fields()[1].Type(), e.v, depth+1)
		if err != nil {
			return nil, err
		}
		out = append(out, map[string]any{"key": k, "value": ev})
	}
	return out, nil
}

// avroValueToConnect converts hamba's generic value of Avro schema as to
// the Connect value of schema cs.
func avroValueToConnect(as avro.Schema, cs *connect.Schema, v any, depth int) (any, error) {
	if depth > maxDepth {
		return nil, dataErr("Value nesting too deep")
	}
	if ref, ok := as.(*avro.RefSchema); ok {
		as = ref.Schema()
	}
	if v == nil {
		return nil, nil
	}
	if u, ok := as.(*avro.UnionSchema); ok {
		branch, err := nullableBranch(u)
		if err != nil {
			return avroUnionValueToConnect(u, cs, v, depth)
		}
		if m, ok := v.(map[string]any); ok && len(m) == 1 {
			if inner, ok := m[unionBranchName(branch)]; ok {
				v = inner
			}
		}
		return avroValueToConnect(branch, cs, v, depth+1)
	}
	switch cs.Name {
	case connect.DecimalName:
		r, ok := v.(*big.Rat)
		if !ok {
			return nil, dataErr(fmt.Sprintf("Invalid Decimal value %T", v))
		}
		scale, err := DecimalScale(cs)
		if err != nil {
			return nil, err
		}
		e := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(scale))), nil))
		if scale >= 0 {
			r = new(big.Rat).Mul(r, e)
		} else {
			r = new(big.Rat).Quo(r, e)
		}
		return connect.Decimal{Unscaled: new(big.Int).Quo(r.Num(), r.Denom()), Scale: scale}, nil
	case connect.DateName, connect.TimestampName:
		if t, ok := v.(time.Time); ok {
			return t.UTC(), nil
		}
	case connect.TimeName:
		if d, ok := v.(time.Duration); ok {
			return time.UnixMilli(d.Milliseconds()).UTC(), nil
		}
	}
	return avroPlainToConnect(as, cs, v, depth)
}

func avroPlainToConnect(as avro.Schema, cs *connect.Schema, v any, depth int) (any, error) {
	switch cs.Type {
	case connect.Int8, connect.Int16, connect.Int32, connect.Int64:
		n, ok := toInt64(v)
		if !ok {
			break
		}
		switch cs.Type {
		case connect.Int8:
			return int8(n), nil
		case connect.Int16:
			return int16(n), nil
		case connect.Int32:
			return int32(n), nil
		}
		return n, nil
	case connect.Float32, connect.Float64, connect.Boolean, connect.String:
		return v, nil
	case connect.Bytes:
		if b, ok := v.([]byte); ok {
			return b, nil
		}
		rv := reflect.ValueOf(v)
		if rv.Kind() == reflect.Array && rv.Type().Elem().Kind() == reflect.Uint8 {
			b := make([]byte, rv.Len())
			reflect.Copy(reflect.ValueOf(b), rv)
			return b, nil
		}
	case connect.Array:
		a, ok := v.([]any)
		arr, _ := as.(*avro.ArraySchema)
		if !ok || arr == nil {
			break
		}
		out := make([]any, len(a))
		for i, e := range a {
			ev, err := avroValueToConnect(arr.Items(), cs.Value, e, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = ev
		}
		return out, nil
	case connect.Map:
		return avroMapToConnect(as, cs, v, depth)
	case connect.StructT:
		m, ok := v.(map[string]any)
		rec, _ := as.(*avro.RecordSchema)
		if !ok || rec == nil {
			break
		}
		st := connect.NewStruct(cs)
		for i, f := range rec.Fields() {
			fv, err := avroValueToConnect(f.Type(), cs.Fields[i].Schema, m[f.Name()], depth+1)
			if err != nil {
				return nil, err
			}
			st.Values[i] = fv
		}
		return st, nil
	}
	return nil, dataErr(fmt.Sprintf("Unexpected Avro value of Go type %T for Connect type %s", v, cs.Type))
}

func avroMapToConnect(as avro.Schema, cs *connect.Schema, v any, depth int) (any, error) {
	if m, ok := v.(map[string]any); ok {
		ms, _ := as.(*avro.MapSchema)
		if ms == nil {
			return nil, dataErr("Avro value is a map but the schema is not")
		}
		out := make(map[string]any, len(m))
		for k, e := range m {
			ev, err := avroValueToConnect(ms.Values(), cs.Value, e, depth+1)
			if err != nil {
				return nil, err
			}
			out[k] = ev
		}
		return out, nil
	}
	a, ok := v.([]any)
	arr, _ := as.(*avro.ArraySchema)
	if !ok || arr == nil || mapEntryRecord(arr.Items()) == nil {
		return nil, dataErr("Avro map value is neither a map nor MapEntry records")
	}
	me := mapEntryRecord(arr.Items())
	out := make(map[any]any, len(a))
	for _, e := range a {
		em, ok := e.(map[string]any)
		if !ok {
			return nil, dataErr("Avro MapEntry is not a record")
		}
		k, err := avroValueToConnect(me.Fields()[0].Type(), cs.Key, em["key"], depth+1)
		if err != nil {
			return nil, err
		}
		if !hashable(k) {
			return nil, dataErr(fmt.Sprintf("Map keys of type %s are not supported", goJavaClass(k)))
		}
		ev, err := avroValueToConnect(me.Fields()[1].Type(), cs.Value, em["value"], depth+1)
		if err != nil {
			return nil, err
		}
		out[k] = ev
	}
	return out, nil
}

func toInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int8:
		return int64(x), true
	case int16:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case float64: // hamba reads JSON defaults as float64
		return int64(x), true
	}
	return 0, false
}

// connectUnionToAvro writes the one set field of a Connect union struct
// as the matching Avro union branch.
func connectUnionToAvro(s *connect.Schema, u *avro.UnionSchema, v any, depth int) (any, error) {
	st, ok := v.(*connect.Struct)
	if !ok || s == nil || s.Name != avroUnionName {
		return nil, dataErr("Avro union values must be io.confluent.connect.avro.Union structs")
	}
	for _, m := range u.Types() {
		if m.Type() == avro.Null {
			continue
		}
		f := st.Schema.Field(unionMemberField(m))
		if f == nil || st.Values[f.Index] == nil {
			continue
		}
		inner, err := connectToAvroValue(f.Schema, m, st.Values[f.Index], depth+1)
		if err != nil {
			return nil, err
		}
		return map[string]any{unionBranchName(m): inner}, nil
	}
	return nil, nil
}

// avroUnionValueToConnect reads a general union's value (hamba gives
// {branch name: value}) into the Connect union struct.
func avroUnionValueToConnect(u *avro.UnionSchema, cs *connect.Schema, v any, depth int) (any, error) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return nil, dataErr(fmt.Sprintf("Did not find matching union field for data: %v", v))
	}
	for _, br := range u.Types() {
		inner, ok := m[unionBranchName(br)]
		if !ok || br.Type() == avro.Null {
			continue
		}
		f := cs.Field(unionMemberField(br))
		if f == nil {
			break
		}
		cv, err := avroValueToConnect(br, f.Schema, inner, depth+1)
		if err != nil {
			return nil, err
		}
		st := connect.NewStruct(cs)
		st.Values[f.Index] = cv
		return st, nil
	}
	return nil, dataErr(fmt.Sprintf("Did not find matching union field for data: %v", v))
}
