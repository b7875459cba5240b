package convert

import (
	"encoding/json"
	"fmt"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/samsa-streaming/samsa/connect"
)

// Connect ↔ Avro schema mapping, following Confluent's AvroData with
// connect.meta.data=true: INT8/INT16 are Avro ints marked "connect.type",
// optional schemas are unions with null (null first, or second when the
// schema has a non-null default), structs are records named after the
// Connect schema (io.confluent.connect.avro.ConnectDefault when unnamed),
// maps with non-string keys are arrays of io.confluent.connect.avro.MapEntry
// records, and the Connect name, version, doc, parameters and default
// travel as connect.* properties; Decimal, Date, Time and Timestamp map to
// the decimal, date, time-millis and timestamp-millis logical types.

const (
	avroNamespace      = "io.confluent.connect.avro"
	avroDefaultName    = "ConnectDefault"
	avroMapEntry       = "MapEntry"
	avroEnumParam      = "io.confluent.connect.avro.Enum"
	avroFixedSizeParam = "connect.fixed.size"
	avroRecordDoc      = "io.confluent.connect.avro.record.doc"
	avroFieldDoc       = "io.confluent.connect.avro.field.doc."
	avroPropPrefix     = "io.confluent.connect.avro"
	decimalPrecision   = "connect.decimal.precision"
)

// ordered is a JSON object that keeps member order.
type ordered []kv

type kv struct {
	k string
	v any
}

func (o ordered) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, m := range o {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, m.k)
		b = append(b, ':')
		vb, err := json.Marshal(m.v)
		if err != nil {
			return nil, err
		}
		b = append(b, vb...)
	}
	return append(b, '}'), nil
}

type avroBuilder struct {
	enhanced bool
	defined  map[string]bool
	unnamed  int
	depth    int
}

// ConnectToAvroSchema returns the Avro schema text for s and the full
// name of its top-level record ("" when it is not a record).
func ConnectToAvroSchema(s *connect.Schema) (string, string, error) {
	return ConnectToAvroSchemaOpts(s, false)
}

// ConnectToAvroSchemaOpts is ConnectToAvroSchema; enhanced is Confluent's
// enhanced.avro.schema.support (strings carrying enum parameters and
// bytes carrying connect.fixed.size become Avro enums and fixed).
func ConnectToAvroSchemaOpts(s *connect.Schema, enhanced bool) (string, string, error) {
	if s == nil {
		return "", "", dataErr("AvroConverter does not support schemaless data")
	}
	b := &avroBuilder{defined: map[string]bool{}, enhanced: enhanced}
	v, err := b.schema(s, true)
	if err != nil {
		return "", "", err
	}
	out, err := json.Marshal(v)
	if err != nil {
		return "", "", dataErrCause("Failed to build Avro schema:", err)
	}
	name := ""
	if s.Type == connect.StructT {
		name = b.recordName(s)
	}
	return string(out), name, nil
}

func (b *avroBuilder) recordName(s *connect.Schema) string {
	if s.Name != "" {
		return s.Name
	}
	return avroNamespace + "." + avroDefaultName
}

// schema maps s, wrapping optional schemas in a union with null.
func (b *avroBuilder) schema(s *connect.Schema, withOptional bool) (any, error) {
	b.depth++
	defer func() { b.depth-- }()
	if b.depth > maxDepth {
		return nil, dataErr("Schema nesting too deep")
	}
	if s.Type == connect.StructT && s.Name == avroUnionName {
		return b.unionSchema(s)
	}
	base, err := b.base(s)
	if err != nil {
		return nil, err
	}
	if !withOptional || !s.Optional {
		return base, nil
	}
	if s.Default != nil {
		return []any{base, "null"}, nil
	}
	return []any{"null", base}, nil
}

// base maps s without optionality, then adds its
// io.confluent.connect.avro.* parameters as Avro properties, last, as
// Confluent's AvroData does.
func (b *avroBuilder) base(s *connect.Schema) (any, error) {
	v, err := b.baseType(s)
	if err != nil {
		return nil, err
	}
	var extra ordered
	for _, k := range sortedKeys(s.Parameters) {
		if strings.HasPrefix(k, avroPropPrefix) && k != avroRecordDoc && !strings.HasPrefix(k, avroFieldDoc) {
			extra = append(extra, kv{k, s.Parameters[k]})
		}
	}
	if len(extra) == 0 {
		return v, nil
	}
	switch x := v.(type) {
	case ordered:
		return append(x, extra...), nil
	case string:
		if b.defined[x] {
			return x, nil // a reference to a named type
		}
		return append(ordered{{"type", x}}, extra...), nil
	}
	return v, nil
}

func (b *avroBuilder) baseType(s *connect.Schema) (any, error) {
	var o ordered
	switch s.Name {
	case connect.DecimalName:
		scale, err := DecimalScale(s)
		if err != nil {
			return nil, err
		}
		prec := 64
		if p, ok := s.Parameters[decimalPrecision]; ok {
			if n, err := strconv.Atoi(p); err == nil {
				prec = n
			}
		}
		o = ordered{{"type", "bytes"}, {"scale", scale}, {"precision", prec}}
		o = b.props(o, s)
		return append(o, kv{"logicalType", "decimal"}), nil
	case connect.DateName, connect.TimeName, connect.TimestampName:
		t, lt := "int", "date"
		if s.Name == connect.TimeName {
			lt = "time-millis"
		} else if s.Name == connect.TimestampName {
			t, lt = "long", "timestamp-millis"
		}
		o = b.props(ordered{{"type", t}}, s)
		return append(o, kv{"logicalType", lt}), nil
	}
	switch s.Type {
	case connect.Int8, connect.Int16:
		// connect.type comes after the other connect.* properties, as
		// Confluent's AvroData adds it last.
		return append(b.props(ordered{{"type", "int"}}, s), kv{"connect.type", string(s.Type)}), nil
	case connect.Int32:
		o = ordered{{"type", "int"}}
	case connect.Int64:
		o = ordered{{"type", "long"}}
	case connect.Float32:
		o = ordered{{"type", "float"}}
	case connect.Float64:
		o = ordered{{"type", "double"}}
	case connect.Boolean:
		o = ordered{{"type", "boolean"}}
	case connect.String:
		if enum := b.enum(s); b.enhanced && enum != nil {
			return enum, nil
		}
		o = ordered{{"type", "string"}}
	case connect.Bytes:
		if fixed := b.fixed(s); b.enhanced && fixed != nil {
			return fixed, nil
		}
		o = ordered{{"type", "bytes"}}
	case connect.Array:
		items, err := b.schema(nonNil(s.Value), true)
		if err != nil {
			return nil, err
		}
		o = ordered{{"type", "array"}, {"items", items}}
	case connect.Map:
		return b.mapSchema(s)
	case connect.StructT:
		return b.record(s)
	default:
		return nil, dataErr(fmt.Sprintf("Unknown schema type: %s", s.Type))
	}
	o = b.props(o, s)
	if len(o) == 1 {
		return o[0].v, nil // a bare primitive
	}
	return o, nil
}

// enum maps a string carrying Confluent's enum parameters back to an
// Avro enum (symbols in sorted order: Connect parameters keep none).
func (b *avroBuilder) enum(s *connect.Schema) any {
	full, ok := s.Parameters[avroEnumParam]
	if !ok || full == "" {
		return nil
	}
	if b.defined[full] {
		return full
	}
	var symbols []string
	for k, v := range s.Parameters {
		if strings.HasPrefix(k, avroEnumParam+".") {
			symbols = append(symbols, v)
		}
	}
	if len(symbols) == 0 {
		return nil
	}
	sortStrings(symbols)
	b.defined[full] = true
	ns, name := "", full
	if i := strings.LastIndexByte(full, '.'); i >= 0 {
		ns, name = full[:i], full[i+1:]
	}
	o := ordered{{"type", "enum"}, {"name", name}}
	if ns != "" {
		o = append(o, kv{"namespace", ns})
	}
	return b.props(append(o, kv{"symbols", symbols}), s)
}

// fixed maps bytes with connect.fixed.size back to an Avro fixed (named
// after the Connect schema, or ConnectDefaultFixed).
func (b *avroBuilder) fixed(s *connect.Schema) any {
	n, err := strconv.Atoi(s.Parameters[avroFixedSizeParam])
	if err != nil || n < 0 {
		return nil
	}
	full := s.Name
	if full == "" {
		full = avroNamespace + ".ConnectDefaultFixed"
		for i := 2; b.defined[full]; i++ {
			full = avroNamespace + ".ConnectDefaultFixed" + strconv.Itoa(i)
		}
	}
	if b.defined[full] {
		return full
	}
	b.defined[full] = true
	ns, name := "", full
	if i := strings.LastIndexByte(full, '.'); i >= 0 {
		ns, name = full[:i], full[i+1:]
	}
	o := ordered{{"type", "fixed"}, {"name", name}}
	if ns != "" {
		o = append(o, kv{"namespace", ns})
	}
	return b.props(append(o, kv{"size", n}), s)
}

func nonNil(s *connect.Schema) *connect.Schema {
	if s == nil {
		return connect.OptionalBytes
	}
	return s
}

func (b *avroBuilder) mapSchema(s *connect.Schema) (any, error) {
	vals, err := b.schema(nonNil(s.Value), true)
	if err != nil {
		return nil, err
	}
	if s.Key == nil || (s.Key.Type == connect.String && !s.Key.Optional) {
		return b.props(ordered{{"type", "map"}, {"values", vals}}, s), nil
	}
	keys, err := b.schema(s.Key, true)
	if err != nil {
		return nil, err
	}
	name := avroMapEntry
	for n := 2; b.defined[avroNamespace+"."+name]; n++ {
		name = avroMapEntry + strconv.Itoa(n)
	}
	b.defined[avroNamespace+"."+name] = true
	entry := ordered{{"type", "record"}, {"name", name}, {"namespace", avroNamespace},
		{"fields", []any{ordered{{"name", "key"}, {"type", keys}}, ordered{{"name", "value"}, {"type", vals}}}}}
	return b.props(ordered{{"type", "array"}, {"items", entry}}, s), nil
}

func (b *avroBuilder) record(s *connect.Schema) (any, error) {
	full := s.Name
	if full == "" {
		full = avroNamespace + "." + avroDefaultName
		if b.unnamed > 0 {
			full += strconv.Itoa(b.unnamed + 1)
		}
		b.unnamed++
	}
	if b.defined[full] {
		return full, nil // already defined in this schema: refer to it
	}
	b.defined[full] = true
	ns, name := "", full
	if i := strings.LastIndexByte(full, '.'); i >= 0 {
		ns, name = full[:i], full[i+1:]
	}
	o := ordered{{"type", "record"}, {"name", name}}
	if ns != "" {
		o = append(o, kv{"namespace", ns})
	}
	if doc := s.Parameters[avroRecordDoc]; doc != "" {
		o = append(o, kv{"doc", doc})
	}
	fields := make([]any, 0, len(s.Fields))
	for _, f := range s.Fields {
		ft, err := b.schema(f.Schema, true)
		if err != nil {
			return nil, err
		}
		fo := ordered{{"name", f.Name}, {"type", ft}}
		if doc := s.Parameters[avroFieldDoc+f.Name]; doc != "" {
			fo = append(fo, kv{"doc", doc})
		}
		switch {
		case f.Schema.Default != nil:
			d, err := avroDefaultJSON(f.Schema, f.Schema.Default, 0)
			if err != nil {
				return nil, err
			}
			fo = append(fo, kv{"default", d})
		case f.Schema.Optional:
			fo = append(fo, kv{"default", nil})
		}
		fields = append(fields, fo)
	}
	o = append(o, kv{"fields", fields})
	return b.props(o, s), nil
}

// props appends the connect.* properties of s.
func (b *avroBuilder) props(o ordered, s *connect.Schema) ordered {
	if s.Doc != "" {
		o = append(o, kv{"connect.doc", s.Doc})
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
		if d, err := avroDefaultJSON(s, s.Default, 0); err == nil {
			o = append(o, kv{"connect.default", d})
		}
	}
	if s.Name != "" {
		o = append(o, kv{"connect.name", s.Name})
	}
	return o
}

// avroDefaultJSON renders a Connect value as an Avro JSON default.
func avroDefaultJSON(s *connect.Schema, v any, depth int) (any, error) {
	if v == nil || depth > maxDepth {
		return nil, nil
	}
	switch s.Name {
	case connect.DecimalName:
		d, ok := v.(connect.Decimal)
		if !ok {
			return nil, dataErr("Invalid Decimal default")
		}
		raw, err := DecimalFromLogical(s, d)
		if err != nil {
			return nil, err
		}
		return latin1(raw), nil
	case connect.DateName, connect.TimeName, connect.TimestampName:
		t, ok := v.(time.Time)
		if !ok {
			return nil, dataErr("Invalid " + simpleName(s.Name) + " default")
		}
		return TimeFromLogical(s.Name, t)
	}
	switch x := v.(type) {
	case []byte:
		return latin1(x), nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			d, err := avroDefaultJSON(nonNil(s.Value), e, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = d
		}
		return out, nil
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			d, err := avroDefaultJSON(nonNil(s.Value), e, depth+1)
			if err != nil {
				return nil, err
			}
			out[k] = d
		}
		return out, nil
	case map[any]any:
		var out []any
		entries, _, _ := mapEntries(x)
		for _, e := range entries {
			k, err := avroDefaultJSON(s.Key, e.k, depth+1)
			if err != nil {
				return nil, err
			}
			d, err := avroDefaultJSON(nonNil(s.Value), e.v, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, map[string]any{"key": k, "value": d})
		}
		return out, nil
	case *connect.Struct:
		out := ordered{}
		for _, f := range x.Schema.Fields {
			d, err := avroDefaultJSON(f.Schema, x.Values[f.Index], depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, kv{f.Name, d})
		}
		return out, nil
	case float32:
		return float64(x), nil
	}
	return v, nil
}

func latin1(b []byte) string {
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

// AvroToConnectSchema maps a parsed Avro schema to Connect.
func AvroToConnectSchema(as avro.Schema) (*connect.Schema, error) {
	return avroToConnect(as, 0)
}

type propSchema interface{ Prop(string) any }

func avroToConnect(as avro.Schema, depth int) (*connect.Schema, error) {
	if depth > maxDepth {
		return nil, dataErr("Avro schema nesting too deep (recursive schemas are not supported by Connect)")
	}
	if ref, ok := as.(*avro.RefSchema); ok {
		as = ref.Schema()
	}
	s := &connect.Schema{}
	switch x := as.(type) {
	case *avro.PrimitiveSchema:
		if err := avroPrimitive(x, s); err != nil {
			return nil, err
		}
	case *avro.RecordSchema:
		s.Type = connect.StructT
		if !strings.HasPrefix(x.FullName(), avroNamespace+"."+avroDefaultName) {
			s.Name = x.FullName()
		}
		s.Parameters = map[string]string{}
		if x.Doc() != "" {
			s.Parameters[avroRecordDoc] = x.Doc()
		}
		for _, f := range x.Fields() {
			if f.Doc() != "" {
				s.Parameters[avroFieldDoc+f.Name()] = f.Doc()
			}
			fs, err := avroToConnect(f.Type(), depth+1)
			if err != nil {
				return nil, err
			}
			if f.HasDefault() && f.Default() != nil {
				fs = withDefault(fs, f.Type(), f.Default())
			}
			s.Fields = append(s.Fields, connect.Field{Name: f.Name(), Index: len(s.Fields), Schema: fs})
		}
	case *avro.ArraySchema:
		if me := mapEntryRecord(x.Items()); me != nil {
			s.Type = connect.Map
			var err error
			if s.Key, err = avroToConnect(me.Fields()[0].Type(), depth+1); err != nil {
				return nil, err
			}
			if s.Value, err = avroToConnect(me.Fields()[1].Type(), depth+1); err != nil {
				return nil, err
			}
			break
		}
		s.Type = connect.Array
		var err error
		if s.Value, err = avroToConnect(x.Items(), depth+1); err != nil {
			return nil, err
		}
	case *avro.MapSchema:
		s.Type, s.Key = connect.Map, connect.SchemaString
		var err error
		if s.Value, err = avroToConnect(x.Values(), depth+1); err != nil {
			return nil, err
		}
	case *avro.EnumSchema:
		s.Type = connect.String
		s.Name = x.FullName()
		s.Parameters = map[string]string{avroEnumParam: x.FullName()}
		for _, sym := range x.Symbols() {
			s.Parameters[avroEnumParam+"."+sym] = sym
		}
	case *avro.FixedSchema:
		if d, ok := x.Logical().(*avro.DecimalLogicalSchema); ok {
			setDecimal(s, d)
		} else {
			s.Type = connect.Bytes
			s.Parameters = map[string]string{avroFixedSizeParam: strconv.Itoa(x.Size())}
		}
	case *avro.UnionSchema:
		inner, err := nullableBranch(x)
		if err != nil {
			return avroUnionToConnect(x, depth)
		}
		opt, err := avroToConnect(inner, depth+1)
		if err != nil {
			return nil, err
		}
		c := *opt
		c.Optional = true
		return &c, nil
	default:
		return nil, dataErr(fmt.Sprintf("Unsupported Avro type: %s", as.Type()))
	}
	applyConnectProps(as, s)
	return s, nil
}

func avroPrimitive(x *avro.PrimitiveSchema, s *connect.Schema) error {
	v := int32(1)
	if l := x.Logical(); l != nil {
		switch l.Type() {
		case avro.Decimal:
			if d, ok := l.(*avro.DecimalLogicalSchema); ok && x.Type() == avro.Bytes {
				setDecimal(s, d)
				return nil
			}
		case avro.Date:
			*s = connect.Schema{Type: connect.Int32, Name: connect.DateName, Version: &v}
			return nil
		case avro.TimeMillis:
			*s = connect.Schema{Type: connect.Int32, Name: connect.TimeName, Version: &v}
			return nil
		case avro.TimestampMillis:
			*s = connect.Schema{Type: connect.Int64, Name: connect.TimestampName, Version: &v}
			return nil
		}
	}
	switch x.Type() {
	case avro.Boolean:
		s.Type = connect.Boolean
	case avro.Int:
		s.Type = connect.Int32
		switch x.Prop("connect.type") {
		case "int8":
			s.Type = connect.Int8
		case "int16":
			s.Type = connect.Int16
		}
	case avro.Long:
		s.Type = connect.Int64
	case avro.Float:
		s.Type = connect.Float32
	case avro.Double:
		s.Type = connect.Float64
	case avro.Bytes:
		s.Type = connect.Bytes
	case avro.String:
		s.Type = connect.String
	default:
		return dataErr(fmt.Sprintf("Unsupported Avro type: %s", x.Type()))
	}
	return nil
}

func setDecimal(s *connect.Schema, d *avro.DecimalLogicalSchema) {
	v := int32(1)
	*s = connect.Schema{Type: connect.Bytes, Name: connect.DecimalName, Version: &v, Parameters: map[string]string{
		connect.DecimalScaleParam: strconv.Itoa(d.Scale())}}
	if d.Precision() != 64 {
		s.Parameters[decimalPrecision] = strconv.Itoa(d.Precision())
	}
}

// applyConnectProps applies connect.name/doc/version/parameters.
func applyConnectProps(as avro.Schema, s *connect.Schema) {
	ps, ok := as.(propSchema)
	if !ok {
		return
	}
	if n, ok := ps.Prop("connect.name").(string); ok {
		s.Name = n
	}
	if d, ok := ps.Prop("connect.doc").(string); ok {
		s.Doc = d
	}
	if v, ok := ps.Prop("connect.version").(float64); ok {
		n := int32(v)
		s.Version = &n
	}
	if p, ok := ps.Prop("connect.parameters").(map[string]any); ok {
		if s.Parameters == nil {
			s.Parameters = map[string]string{}
		}
		for k, v := range p {
			if str, ok := v.(string); ok {
				s.Parameters[k] = str
			}
		}
	}
}

func nullableBranch(u *avro.UnionSchema) (avro.Schema, error) {
	ts := u.Types()
	if len(ts) == 1 {
		return ts[0], nil
	}
	if len(ts) == 2 && u.Nullable() {
		_, i := u.Indices()
		return ts[i], nil
	}
	return nil, dataErr("Avro unions other than a type with null are not supported by this converter")
}

func mapEntryRecord(items avro.Schema) *avro.RecordSchema {
	if ref, ok := items.(*avro.RefSchema); ok {
		items = ref.Schema()
	}
	r, ok := items.(*avro.RecordSchema)
	if !ok || len(r.Fields()) != 2 || r.Fields()[0].Name() != "key" || r.Fields()[1].Name() != "value" {
		return nil
	}
	named := r.Namespace() == avroNamespace && strings.HasPrefix(r.Name(), avroMapEntry)
	if !named && r.Prop("connect.internal.type") != avroMapEntry {
		return nil
	}
	return r
}

// withDefault returns fs with the field default d (as hamba parsed it).
func withDefault(fs *connect.Schema, as avro.Schema, d any) *connect.Schema {
	v, err := avroValueToConnect(as, fs, d, 0)
	if err != nil || v == nil {
		return fs
	}
	c := *fs
	c.Default = v
	return &c
}

// unionBranchName is the key hamba uses for a union branch in generic
// data: a named type's full name, else the type (with ".logicalType").
func unionBranchName(as avro.Schema) string {
	if ref, ok := as.(*avro.RefSchema); ok {
		as = ref.Schema()
	}
	if n, ok := as.(avro.NamedSchema); ok {
		return n.FullName()
	}
	if l, ok := as.(avro.LogicalTypeSchema); ok && l.Logical() != nil {
		return string(as.Type()) + "." + string(l.Logical().Type())
	}
	return string(as.Type())
}

// decimalRat is d as the *big.Rat hamba encodes.
func decimalRat(d connect.Decimal) *big.Rat {
	u := d.Unscaled
	if u == nil {
		u = new(big.Int)
	}
	r := new(big.Rat).SetInt(u)
	e := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(d.Scale))), nil)
	if d.Scale >= 0 {
		return r.Quo(r, new(big.Rat).SetInt(e))
	}
	return r.Mul(r, new(big.Rat).SetInt(e))
}

func abs(x int32) int32 {
	if x < 0 {
		return -x
	}
	return x
}

// sortStrings is sort.Strings, kept local for map key order.
func sortStrings(s []string) { sort.Strings(s) }

// avroUnionName is the Connect struct Confluent's AvroData reads a
// general Avro union as: one optional field per branch, named after the
// branch (a record's or enum's simple name, else the Avro type name),
// exactly one of them set.
const avroUnionName = "io.confluent.connect.avro.Union"

func unionMemberField(as avro.Schema) string {
	if ref, ok := as.(*avro.RefSchema); ok {
		as = ref.Schema()
	}
	switch x := as.(type) {
	case *avro.RecordSchema:
		return x.Name()
	case *avro.EnumSchema:
		return x.Name()
	}
	return string(as.Type())
}

func avroUnionToConnect(u *avro.UnionSchema, depth int) (*connect.Schema, error) {
	s := &connect.Schema{Type: connect.StructT, Name: avroUnionName}
	for _, m := range u.Types() {
		if m.Type() == avro.Null {
			s.Optional = true
			continue
		}
		fs, err := avroToConnect(m, depth+1)
		if err != nil {
			return nil, err
		}
		name := unionMemberField(m)
		if s.Field(name) != nil {
			return nil, dataErr("Multiple union schemas map to the Connect union field name")
		}
		c := *fs
		c.Optional = true
		s.Fields = append(s.Fields, connect.Field{Name: name, Index: len(s.Fields), Schema: &c})
	}
	return s, nil
}

// unionSchema writes a Connect union struct back as an Avro union.
func (b *avroBuilder) unionSchema(s *connect.Schema) (any, error) {
	var branches []any
	if s.Optional {
		branches = append(branches, "null")
	}
	for _, f := range s.Fields {
		fs := *f.Schema
		fs.Optional = false
		br, err := b.schema(&fs, false)
		if err != nil {
			return nil, err
		}
		branches = append(branches, br)
	}
	return branches, nil
}
