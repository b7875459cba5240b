package convert

import (
	"fmt"
	"math/big"
	"reflect"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/samsa-streaming/samsa/connect"
)

// JsonConverter settings (JsonConverterConfig's names).
const (
	SchemasEnableConfig          = "schemas.enable"
	SchemasCacheSizeConfig       = "schemas.cache.size"
	DecimalFormatConfig          = "decimal.format"
	ReplaceNullWithDefaultConfig = "replace.null.with.default"
	ConverterTypeConfig          = "converter.type"
)

// JSONConfig is JsonConverter's typed configuration.
type JSONConfig struct {
	SchemasEnable          bool
	SchemasCacheSize       int
	DecimalNumeric         bool // decimal.format=NUMERIC (else BASE64)
	ReplaceNullWithDefault bool
	IsKey                  bool
}

// Defaults returns Java's defaults.
func (JSONConfig) Defaults() JSONConfig {
	return JSONConfig{SchemasEnable: true, SchemasCacheSize: 1000, ReplaceNullWithDefault: true}
}

// Validate checks the settings.
func (c JSONConfig) Validate() error {
	if c.SchemasCacheSize < 0 {
		return fmt.Errorf("convert: %s must be at least 0", SchemasCacheSizeConfig)
	}
	return nil
}

// JSONConfigDef is JsonConverterConfig.configDef().
func JSONConfigDef() *connect.ConfigDef {
	return converterTypeDef().
		Define(connect.ConfigKey{Name: SchemasEnableConfig, Type: connect.TypeBoolean, Default: "true", Importance: connect.High,
			Documentation: "Include schemas within each of the serialized values and keys.", Group: "Schemas", OrderInGroup: 1, Width: connect.WidthMedium, DisplayName: "Enable Schemas"}).
		Define(connect.ConfigKey{Name: SchemasCacheSizeConfig, Type: connect.TypeInt, Default: "1000", Importance: connect.High,
			Documentation: "The maximum number of schemas that can be cached in this converter instance.", Group: "Schemas", OrderInGroup: 2, Width: connect.WidthMedium, DisplayName: "Schema Cache Size"}).
		Define(connect.ConfigKey{Name: DecimalFormatConfig, Type: connect.TypeString, Default: "BASE64", Importance: connect.Low,
			Validator:     connect.InList(true, "BASE64", "NUMERIC"),
			Documentation: "Controls which format this converter will serialize decimals in. This value is case insensitive and can be either 'BASE64' (default) or 'NUMERIC'", Group: "Serialization", OrderInGroup: 1, Width: connect.WidthMedium, DisplayName: "Decimal Format"}).
		Define(connect.ConfigKey{Name: ReplaceNullWithDefaultConfig, Type: connect.TypeBoolean, Default: "true", Importance: connect.Low,
			Documentation: "Whether to replace fields that have a default value and that are null to the default value. When set to true, the default value is used, otherwise null is used.", Group: "Serialization", OrderInGroup: 2, Width: connect.WidthMedium, DisplayName: "Replace null with default"})
}

// withType returns props with converter.type set as Java's
// configure(props, isKey) does, unless it says "header" already.
func withType(props map[string]string, isKey bool) map[string]string {
	p := make(map[string]string, len(props)+1)
	for k, v := range props {
		p[k] = v
	}
	if p[ConverterTypeConfig] != "header" {
		p[ConverterTypeConfig] = "value"
		if isKey {
			p[ConverterTypeConfig] = "key"
		}
	}
	return p
}

func converterTypeDef() *connect.ConfigDef {
	return connect.NewConfigDef().Define(connect.ConfigKey{Name: ConverterTypeConfig, Type: connect.TypeString, Importance: connect.Low,
		Validator:     connect.InList(true, "key", "value", "header"),
		Documentation: "How this converter will be used."})
}

// JSONConverter is org.apache.kafka.connect.json.JsonConverter.
type JSONConverter struct {
	cfg JSONConfig

	mu      sync.Mutex
	schemas map[*connect.Schema][]byte // schema JSON by schema, bounded by schemas.cache.size
	// parsedSchemas maps schema JSON text to the schema read from it.
	parsedSchemas map[string]*connect.Schema
}

// NewJSONConverter returns a converter with cfg (no Configure needed).
func NewJSONConverter(cfg JSONConfig) *JSONConverter { return &JSONConverter{cfg: cfg} }

// Configure reads JsonConverterConfig's settings.
func (c *JSONConverter) Configure(props map[string]string, isKey bool) error {
	parsed, err := JSONConfigDef().Parse(withType(props, isKey))
	if err != nil {
		return fmt.Errorf("convert: JsonConverter: %w", err)
	}
	cfg := JSONConfig{}.Defaults()
	cfg.SchemasEnable = parsed[SchemasEnableConfig].(bool)
	cfg.SchemasCacheSize = int(parsed[SchemasCacheSizeConfig].(int32))
	cfg.DecimalNumeric = equalFold(parsed[DecimalFormatConfig].(string), "NUMERIC")
	cfg.ReplaceNullWithDefault = parsed[ReplaceNullWithDefaultConfig].(bool)
	cfg.IsKey = isKey
	if err := cfg.Validate(); err != nil {
		return err
	}
	c.cfg = cfg
	return nil
}

// Version is the Kafka version whose behaviour this follows.
func (c *JSONConverter) Version() string { return kafkaVersion }

// Config describes the settings.
func (c *JSONConverter) Config() *connect.ConfigDef { return JSONConfigDef() }

// FromConnect serializes v (nil, nil when both schema and value are nil).
func (c *JSONConverter) FromConnect(topic string, headers []connect.Header, s *connect.Schema, v any) ([]byte, error) {
	if s == nil && v == nil {
		return nil, nil
	}
	var b []byte
	var err error
	if c.cfg.SchemasEnable {
		b = append(b, `{"schema":`...)
		if b, err = c.appendCachedSchema(b, s); err != nil {
			return nil, err
		}
		b = append(b, `,"payload":`...)
	}
	if b, err = c.appendValue(b, s, v, 0); err != nil {
		return nil, err
	}
	if c.cfg.SchemasEnable {
		b = append(b, '}')
	}
	return b, nil
}

const maxDepth = 200

// appendCachedSchema appends s's JSON form, cached per schema (schemas
// are immutable once built).
func (c *JSONConverter) appendCachedSchema(b []byte, s *connect.Schema) ([]byte, error) {
	if s == nil || c.cfg.SchemasCacheSize <= 0 {
		return c.appendSchema(b, s)
	}
	c.mu.Lock()
	cached, ok := c.schemas[s]
	c.mu.Unlock()
	if ok {
		return append(b, cached...), nil
	}
	text, err := c.appendSchema(nil, s)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.schemas == nil || len(c.schemas) >= c.cfg.SchemasCacheSize {
		c.schemas = map[*connect.Schema][]byte{}
	}
	c.schemas[s] = text
	c.mu.Unlock()
	return append(b, text...), nil
}

// appendSchema writes Java's JSON schema form: type, items | keys,values |
// fields, optional, name, version, doc, parameters, default.
func (c *JSONConverter) appendSchema(b []byte, s *connect.Schema) ([]byte, error) {
	return c.appendSchemaField(b, s, "", 0)
}

func (c *JSONConverter) appendSchemaField(b []byte, s *connect.Schema, field string, depth int) ([]byte, error) {
	if s == nil {
		return append(b, "null"...), nil
	}
	if depth > maxDepth {
		return nil, dataErr("Schema nesting too deep")
	}
	var err error
	b = append(b, `{"type":`...)
	name, ok := jsonTypeNames[s.Type]
	if !ok {
		return nil, dataErr(fmt.Sprintf("Couldn't translate unsupported schema type %s.", s.Type))
	}
	b = appendJSONString(b, name)
	switch s.Type {
	case connect.Array:
		b = append(b, `,"items":`...)
		if b, err = c.appendSchemaField(b, s.Value, "", depth+1); err != nil {
			return nil, err
		}
	case connect.Map:
		b = append(b, `,"keys":`...)
		if b, err = c.appendSchemaField(b, s.Key, "", depth+1); err != nil {
			return nil, err
		}
		b = append(b, `,"values":`...)
		if b, err = c.appendSchemaField(b, s.Value, "", depth+1); err != nil {
			return nil, err
		}
	case connect.StructT:
		b = append(b, `,"fields":[`...)
		for i, f := range s.Fields {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = c.appendSchemaField(b, f.Schema, f.Name, depth+1); err != nil {
				return nil, err
			}
		}
		b = append(b, ']')
	}
	b = append(b, `,"optional":`...)
	b = strconv.AppendBool(b, s.Optional)
	if s.Name != "" {
		b = append(b, `,"name":`...)
		b = appendJSONString(b, s.Name)
	}
	if s.Version != nil {
		b = append(b, `,"version":`...)
		b = strconv.AppendInt(b, int64(*s.Version), 10)
	}
	if s.Doc != "" {
		b = append(b, `,"doc":`...)
		b = appendJSONString(b, s.Doc)
	}
	if s.Parameters != nil {
		b = append(b, `,"parameters":{`...)
		for i, k := range sortedKeys(s.Parameters) {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			b = appendJSONString(b, s.Parameters[k])
		}
		b = append(b, '}')
	}
	if s.Default != nil {
		b = append(b, `,"default":`...)
		if b, err = c.appendValue(b, s, s.Default, depth+1); err != nil {
			return nil, err
		}
	}
	if field != "" {
		b = append(b, `,"field":`...)
		b = appendJSONString(b, field)
	}
	return append(b, '}'), nil
}

var jsonTypeNames = map[connect.Type]string{
	connect.Boolean: "boolean", connect.Int8: "int8", connect.Int16: "int16", connect.Int32: "int32",
	connect.Int64: "int64", connect.Float32: "float", connect.Float64: "double", connect.Bytes: "bytes",
	connect.String: "string", connect.Array: "array", connect.Map: "map", connect.StructT: "struct",
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// appendValue is Java's convertToJson.
func (c *JSONConverter) appendValue(b []byte, s *connect.Schema, v any, depth int) ([]byte, error) {
	if depth > maxDepth {
		return nil, dataErr("Value nesting too deep")
	}
	if v == nil {
		if s == nil {
			return append(b, "null"...), nil
		}
		if s.Default != nil && c.cfg.ReplaceNullWithDefault {
			return c.appendValue(b, s, s.Default, depth+1)
		}
		if s.Optional {
			return append(b, "null"...), nil
		}
		return nil, dataErr("Conversion error: null value for field that is required and has no default value")
	}
	if s != nil && s.Name != "" {
		if out, handled, err := c.appendLogical(b, s, v); handled {
			return out, err
		}
	}
	t, err := valueType(s, v)
	if err != nil {
		return nil, err
	}
	bad := func() ([]byte, error) {
		st := "unknown schema"
		if s != nil {
			st = javaTypeName(s.Type)
		}
		return nil, dataErr(fmt.Sprintf("Invalid type for %s: %s", st, goJavaClass(v)))
	}
	switch t {
	case connect.Int8, connect.Int16, connect.Int32, connect.Int64:
		n, ok := exactInt(t, v)
		if !ok {
			return bad()
		}
		return strconv.AppendInt(b, n, 10), nil
	case connect.Float32:
		f, ok := v.(float32)
		if !ok {
			return bad()
		}
		return appendJavaFloat(b, float64(f), 32), nil
	case connect.Float64:
		f, ok := v.(float64)
		if !ok {
			return bad()
		}
		return appendJavaFloat(b, f, 64), nil
	case connect.Boolean:
		x, ok := v.(bool)
		if !ok {
			return bad()
		}
		return strconv.AppendBool(b, x), nil
	case connect.String:
		x, ok := v.(string)
		if !ok {
			return bad()
		}
		return appendJSONString(b, x), nil
	case connect.Bytes:
		x, ok := v.([]byte)
		if !ok {
			return nil, dataErr(fmt.Sprintf("Invalid type for bytes type: %s", goJavaClass(v)))
		}
		return appendBase64(b, x), nil
	case connect.Array:
		return c.appendArray(b, s, v, depth)
	case connect.Map:
		return c.appendMap(b, s, v, depth)
	case connect.StructT:
		return c.appendStruct(b, s, v, depth)
	}
	return nil, dataErr(fmt.Sprintf("Couldn't convert %v to JSON.", v))
}

func (c *JSONConverter) appendArray(b []byte, s *connect.Schema, v any, depth int) ([]byte, error) {
	a, ok := v.([]any)
	if !ok {
		return nil, dataErr(fmt.Sprintf("Invalid type for ARRAY: %s", goJavaClass(v)))
	}
	var es *connect.Schema
	if s != nil {
		es = s.Value
	}
	b = append(b, '[')
	for i, e := range a {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = c.appendValue(b, es, e, depth+1); err != nil {
			return nil, err
		}
	}
	return append(b, ']'), nil
}

func (c *JSONConverter) appendMap(b []byte, s *connect.Schema, v any, depth int) ([]byte, error) {
	entries, allString, ok := mapEntries(v)
	if !ok {
		return nil, dataErr(fmt.Sprintf("Invalid type for MAP: %s", goJavaClass(v)))
	}
	var ks, vs *connect.Schema
	objectMode := allString
	if s != nil {
		ks, vs = s.Key, s.Value
		objectMode = ks != nil && ks.Type == connect.String
	}
	open, close := byte('{'), byte('}')
	if !objectMode {
		open, close = '[', ']'
	}
	b = append(b, open)
	for i, e := range entries {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if objectMode {
			key, err := c.appendValue(nil, ks, e.k, depth+1)
			if err != nil {
				return nil, err
			}
			b = appendJSONString(b, jsonAsText(key))
			b = append(b, ':')
			if b, err = c.appendValue(b, vs, e.v, depth+1); err != nil {
				return nil, err
			}
			continue
		}
		b = append(b, '[')
		if b, err = c.appendValue(b, ks, e.k, depth+1); err != nil {
			return nil, err
		}
		b = append(b, ',')
		if b, err = c.appendValue(b, vs, e.v, depth+1); err != nil {
			return nil, err
		}
		b = append(b, ']')
	}
	return append(b, close), nil
}

func (c *JSONConverter) appendStruct(b []byte, s *connect.Schema, v any, depth int) ([]byte, error) {
	st, ok := v.(*connect.Struct)
	if !ok || st == nil {
		return nil, dataErr(fmt.Sprintf("Invalid type for STRUCT: %s", goJavaClass(v)))
	}
	if s == nil || !SchemaEqual(st.Schema, s) {
		return nil, dataErr("Mismatching schema.") // Java's message also without a schema
	}
	b = append(b, '{')
	for i, f := range s.Fields {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, f.Name)
		b = append(b, ':')
		var fv any
		if f.Index < len(st.Values) {
			fv = st.Values[f.Index]
		}
		var err error
		if b, err = c.appendValue(b, f.Schema, fv, depth+1); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

// jsonAsText is Jackson's JsonNode.asText for a key written as JSON: the
// string's content for text, the literal otherwise.
func jsonAsText(key []byte) string {
	if len(key) >= 2 && key[0] == '"' {
		var s string
		if err := jsonUnmarshalString(key, &s); err == nil {
			return s
		}
	}
	if string(key) == "null" {
		return ""
	}
	return string(key)
}

func (c *JSONConverter) appendLogical(b []byte, s *connect.Schema, v any) ([]byte, bool, error) {
	switch s.Name {
	case connect.DecimalName:
		d, ok := v.(connect.Decimal)
		if !ok {
			return nil, true, dataErr(fmt.Sprintf("Invalid type for Decimal, expected BigDecimal but was %s", goJavaClass(v)))
		}
		if c.cfg.DecimalNumeric {
			return append(b, DecimalString(d)...), true, nil
		}
		raw, err := DecimalFromLogical(s, d)
		if err != nil {
			return nil, true, err
		}
		return appendBase64(b, raw), true, nil
	case connect.DateName, connect.TimeName, connect.TimestampName:
		t, ok := v.(time.Time)
		if !ok {
			return nil, true, dataErr(fmt.Sprintf("Invalid type for %s, expected Date but was %s", simpleName(s.Name), goJavaClass(v)))
		}
		n, err := TimeFromLogical(s.Name, t)
		if err != nil {
			return nil, true, err
		}
		return strconv.AppendInt(b, n, 10), true, nil
	}
	return nil, false, nil
}

const msPerDay = 24 * 60 * 60 * 1000

// TimeFromLogical is Date/Time/Timestamp.fromLogical: days since the
// epoch, milliseconds of the day, or milliseconds since the epoch.
func TimeFromLogical(name string, t time.Time) (int64, error) {
	ms := t.UnixMilli()
	switch name {
	case connect.DateName:
		if ms%msPerDay != 0 {
			return 0, dataErr("Kafka Connect Date type should not have any time fields set to non-zero values.")
		}
		return ms / msPerDay, nil
	case connect.TimeName:
		if ms < 0 || ms >= msPerDay {
			return 0, dataErr("Kafka Connect Time type should not have any date fields set to non-zero values.")
		}
		return ms, nil
	}
	return ms, nil
}

// TimeToLogical is the inverse of TimeFromLogical.
func TimeToLogical(name string, n int64) (time.Time, error) {
	switch name {
	case connect.DateName:
		return time.UnixMilli(n * msPerDay).UTC(), nil
	case connect.TimeName:
		if n < 0 || n >= msPerDay {
			return time.Time{}, dataErr("Time values must use number of milliseconds greater than 0 and less than 86400000")
		}
	}
	return time.UnixMilli(n).UTC(), nil
}

// DecimalScale reads a Decimal schema's scale parameter.
func DecimalScale(s *connect.Schema) (int32, error) {
	p, ok := s.Parameters[connect.DecimalScaleParam]
	if !ok {
		return 0, dataErr("Invalid Decimal schema: scale parameter not found.")
	}
	n, err := strconv.ParseInt(p, 10, 32)
	if err != nil {
		return 0, dataErrCause("Invalid scale parameter found in Decimal schema:", err)
	}
	return int32(n), nil
}

// DecimalFromLogical is Decimal.fromLogical: the unscaled value's two's
// complement bytes, after checking the scale.
func DecimalFromLogical(s *connect.Schema, d connect.Decimal) ([]byte, error) {
	scale, err := DecimalScale(s)
	if err != nil {
		return nil, err
	}
	if d.Scale != scale {
		return nil, dataErr("BigDecimal has mismatching scale value for given Decimal schema")
	}
	return TwosComplement(d.Unscaled), nil
}

// DecimalToLogical is Decimal.toLogical.
func DecimalToLogical(s *connect.Schema, raw []byte) (connect.Decimal, error) {
	scale, err := DecimalScale(s)
	if err != nil {
		return connect.Decimal{}, err
	}
	u, ok := FromTwosComplement(raw)
	if !ok {
		return connect.Decimal{}, dataErr("Zero length BigInteger")
	}
	return connect.Decimal{Unscaled: u, Scale: scale}, nil
}

func simpleName(class string) string {
	for i := len(class) - 1; i >= 0; i-- {
		if class[i] == '.' {
			return class[i+1:]
		}
	}
	return class
}

// valueType is the schema's type, or for a schemaless value the type
// Java's ConnectSchema.schemaType infers from its class.
func valueType(s *connect.Schema, v any) (connect.Type, error) {
	if s != nil {
		return s.Type, nil
	}
	switch v.(type) {
	case int8:
		return connect.Int8, nil
	case int16:
		return connect.Int16, nil
	case int32:
		return connect.Int32, nil
	case int64:
		return connect.Int64, nil
	case float32:
		return connect.Float32, nil
	case float64:
		return connect.Float64, nil
	case bool:
		return connect.Boolean, nil
	case string:
		return connect.String, nil
	case []byte:
		return connect.Bytes, nil
	case []any:
		return connect.Array, nil
	case map[string]any, map[any]any:
		return connect.Map, nil
	case *connect.Struct:
		return connect.StructT, nil
	}
	return "", dataErr(fmt.Sprintf("Java class %s does not have corresponding schema type.", goJavaClass(v)))
}

func exactInt(t connect.Type, v any) (int64, bool) {
	switch x := v.(type) {
	case int8:
		return int64(x), t == connect.Int8
	case int16:
		return int64(x), t == connect.Int16
	case int32:
		return int64(x), t == connect.Int32
	case int64:
		return x, t == connect.Int64
	}
	return 0, false
}

// goJavaClass names a Go value's type as the Java class Connect would
// hold, for error messages.
func goJavaClass(v any) string {
	switch v.(type) {
	case int8:
		return "class java.lang.Byte"
	case int16:
		return "class java.lang.Short"
	case int32:
		return "class java.lang.Integer"
	case int64:
		return "class java.lang.Long"
	case float32:
		return "class java.lang.Float"
	case float64:
		return "class java.lang.Double"
	case bool:
		return "class java.lang.Boolean"
	case string:
		return "class java.lang.String"
	case []byte:
		return "class [B"
	case []any:
		return "class java.util.ArrayList"
	case map[string]any, map[any]any:
		return "class java.util.HashMap"
	case *connect.Struct:
		return "class org.apache.kafka.connect.data.Struct"
	case connect.Decimal:
		return "class java.math.BigDecimal"
	case time.Time:
		return "class java.util.Date"
	}
	return fmt.Sprintf("class %T", v)
}

func javaTypeName(t connect.Type) string {
	switch t {
	case connect.StructT:
		return "STRUCT"
	}
	return upper(string(t))
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 32
		}
	}
	return string(b)
}

func equalFold(a, b string) bool { return upper(a) == upper(b) }

type mapEntry struct{ k, v any }

// mapEntries lists a map's entries in a deterministic order (string keys
// sorted, other keys by their printed form) and says whether every key
// is a string.
func mapEntries(v any) ([]mapEntry, bool, bool) {
	var out []mapEntry
	allString := true
	switch m := v.(type) {
	case map[string]any:
		for k, e := range m {
			out = append(out, mapEntry{k, e})
		}
	case map[any]any:
		for k, e := range m {
			if _, ok := k.(string); !ok {
				allString = false
			}
			out = append(out, mapEntry{k, e})
		}
	default:
		return nil, false, false
	}
	sort.Slice(out, func(i, j int) bool { return keyLess(out[i].k, out[j].k) })
	return out, allString, true
}

func keyLess(a, b any) bool {
	sa, aok := a.(string)
	sb, bok := b.(string)
	if aok && bok {
		return sa < sb
	}
	na, aok := toBigInt(a)
	nb, bok := toBigInt(b)
	if aok && bok {
		return na.Cmp(nb) < 0
	}
	return fmt.Sprint(a) < fmt.Sprint(b)
}

func toBigInt(v any) (*big.Int, bool) {
	switch x := v.(type) {
	case int8:
		return big.NewInt(int64(x)), true
	case int16:
		return big.NewInt(int64(x)), true
	case int32:
		return big.NewInt(int64(x)), true
	case int64:
		return big.NewInt(x), true
	}
	return nil, false
}

// SchemaEqual is Java's ConnectSchema.equals: same type, optionality,
// default, name, version, doc, parameters, fields, key and value schemas.
func SchemaEqual(a, b *connect.Schema) bool {
	if a == b {
		return true
	}
	if a == nil || b == nil {
		return false
	}
	if a.Type != b.Type || a.Optional != b.Optional || a.Name != b.Name || a.Doc != b.Doc ||
		(a.Version == nil) != (b.Version == nil) || (a.Version != nil && *a.Version != *b.Version) ||
		len(a.Fields) != len(b.Fields) || len(a.Parameters) != len(b.Parameters) {
		return false
	}
	for k, v := range a.Parameters {
		if w, ok := b.Parameters[k]; !ok || w != v {
			return false
		}
	}
	for i := range a.Fields {
		if a.Fields[i].Name != b.Fields[i].Name || a.Fields[i].Index != b.Fields[i].Index || !SchemaEqual(a.Fields[i].Schema, b.Fields[i].Schema) {
			return false
		}
	}
	return SchemaEqual(a.Key, b.Key) && SchemaEqual(a.Value, b.Value) && valueEqual(a.Default, b.Default)
}

func valueEqual(a, b any) bool {
	da, aok := a.(connect.Decimal)
	db, bok := b.(connect.Decimal)
	if aok && bok {
		return da.Scale == db.Scale && da.Unscaled.Cmp(db.Unscaled) == 0
	}
	return reflect.DeepEqual(a, b)
}
