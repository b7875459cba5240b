package convert

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/samsa-streaming/samsa/connect"
)

// ToConnect parses data as Java's JsonConverter.toConnectData does.
func (c *JSONConverter) ToConnect(topic string, headers []connect.Header, data []byte) (*connect.Schema, any, error) {
	if data == nil {
		return nil, nil, nil
	}
	if c.cfg.SchemasEnable && c.cfg.SchemasCacheSize > 0 {
		if s, v, ok, err := c.toConnectCached(data); ok {
			return s, v, err
		}
	}
	root, missing, err := parseJSON(data)
	if err != nil {
		return nil, nil, dataErrCause("Converting byte[] to Kafka Connect data failed due to serialization error: ", err)
	}
	var schemaNode, payload any
	if c.cfg.SchemasEnable {
		obj, ok := root.(map[string]any)
		_, hasS := obj["schema"]
		_, hasP := obj["payload"]
		if missing || !ok || len(obj) != 2 || !hasS || !hasP {
			return nil, nil, dataErr("JsonConverter with schemas.enable requires \"schema\" and \"payload\" fields and may not contain additional fields." +
				" If you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration.")
		}
		schemaNode, payload = obj["schema"], obj["payload"]
	} else {
		payload = root
	}
	s, err := c.asConnectSchema(schemaNode, 0)
	if err != nil {
		return nil, nil, err
	}
	v, err := c.toConnect(s, payload, 0)
	if err != nil {
		return nil, nil, err
	}
	return s, v, nil
}

// toConnectCached is the fast path for an envelope whose schema text was
// seen before: the schema is not parsed again. ok is false when data is
// not a plain two-member envelope, and the general path then decides.
func (c *JSONConverter) toConnectCached(data []byte) (*connect.Schema, any, bool, error) {
	var env map[string]json.RawMessage
	if err := json.Unmarshal(data, &env); err != nil || len(env) != 2 {
		return nil, nil, false, nil
	}
	rawSchema, hasS := env["schema"]
	rawPayload, hasP := env["payload"]
	if !hasS || !hasP {
		return nil, nil, false, nil
	}
	key := string(rawSchema)
	c.mu.Lock()
	s, cached := c.parsedSchemas[key]
	c.mu.Unlock()
	if !cached {
		node, _, err := parseJSON(rawSchema)
		if err != nil {
			return nil, nil, false, nil
		}
		if s, err = c.asConnectSchema(node, 0); err != nil {
			return nil, nil, true, err
		}
		c.mu.Lock()
		if c.parsedSchemas == nil || len(c.parsedSchemas) >= c.cfg.SchemasCacheSize {
			c.parsedSchemas = map[string]*connect.Schema{}
		}
		c.parsedSchemas[key] = s
		c.mu.Unlock()
	}
	payload, _, err := parseJSON(rawPayload)
	if err != nil {
		return nil, nil, false, nil
	}
	v, err := c.toConnect(s, payload, 0)
	if err != nil {
		return nil, nil, true, err
	}
	return s, v, true, nil
}

// parseJSON reads the first JSON value of data (Jackson ignores trailing
// content); missing reports empty input (Jackson's MissingNode).
func parseJSON(data []byte) (v any, missing bool, err error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, true, nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, false, err
	}
	return v, false, nil
}

func jsonUnmarshalString(b []byte, s *string) error { return json.Unmarshal(b, s) }

// nodeType names a JSON value's kind as Jackson's JsonNodeType.
func nodeType(v any) string {
	switch v.(type) {
	case nil:
		return "NULL"
	case bool:
		return "BOOLEAN"
	case json.Number:
		return "NUMBER"
	case string:
		return "STRING"
	case []any:
		return "ARRAY"
	case map[string]any:
		return "OBJECT"
	}
	return "MISSING"
}

func (c *JSONConverter) asConnectSchema(node any, depth int) (*connect.Schema, error) {
	if node == nil {
		return nil, nil
	}
	if depth > maxDepth {
		return nil, dataErr("Schema nesting too deep")
	}
	obj, _ := node.(map[string]any)
	tn, ok := obj["type"].(string)
	if !ok {
		return nil, dataErr("Schema must contain 'type' field")
	}
	s := &connect.Schema{}
	switch tn {
	case "boolean", "int8", "int16", "int32", "int64", "bytes", "string":
		s.Type = connect.Type(tn)
	case "float":
		s.Type = connect.Float32
	case "double":
		s.Type = connect.Float64
	case "array":
		s.Type = connect.Array
		if obj["items"] == nil {
			return nil, dataErr("Array schema did not specify the element type")
		}
		var err error
		if s.Value, err = c.asConnectSchema(obj["items"], depth+1); err != nil {
			return nil, err
		}
	case "map":
		if err := c.mapSchema(s, obj, depth); err != nil {
			return nil, err
		}
	case "struct":
		if err := c.structSchema(s, obj, depth); err != nil {
			return nil, err
		}
	default:
		return nil, dataErr("Unknown schema type: " + tn)
	}
	if err := c.schemaAttrs(s, obj); err != nil {
		return nil, err
	}
	return s, nil
}

func (c *JSONConverter) mapSchema(s *connect.Schema, obj map[string]any, depth int) error {
	s.Type = connect.Map
	k, ok := obj["keys"]
	if !ok {
		return dataErr("Map schema did not specify the key type")
	}
	v, ok := obj["values"]
	if !ok {
		return dataErr("Map schema did not specify the value type")
	}
	var err error
	if s.Key, err = c.asConnectSchema(k, depth+1); err != nil {
		return err
	}
	s.Value, err = c.asConnectSchema(v, depth+1)
	return err
}

func (c *JSONConverter) structSchema(s *connect.Schema, obj map[string]any, depth int) error {
	s.Type = connect.StructT
	fields, ok := obj["fields"].([]any)
	if !ok {
		return dataErr("Struct schema's \"fields\" argument is not an array.")
	}
	for _, f := range fields {
		fo, _ := f.(map[string]any)
		name, ok := fo["field"].(string)
		if !ok {
			return dataErr("Struct schema's field name not specified properly")
		}
		if s.Field(name) != nil {
			return &DataException{Msg: "Cannot create field because of field name duplication " + name}
		}
		fs, err := c.asConnectSchema(f, depth+1)
		if err != nil {
			return err
		}
		s.Fields = append(s.Fields, connect.Field{Name: name, Index: len(s.Fields), Schema: fs})
	}
	return nil
}

func (c *JSONConverter) schemaAttrs(s *connect.Schema, obj map[string]any) error {
	if b, ok := obj["optional"].(bool); ok && b {
		s.Optional = true
	}
	if n, ok := obj["name"].(string); ok {
		s.Name = n
	}
	if n, ok := obj["version"].(json.Number); ok && isIntegral(n) {
		v := int32(jacksonLong(n))
		s.Version = &v
	}
	if d, ok := obj["doc"].(string); ok {
		s.Doc = d
	}
	if p, ok := obj["parameters"].(map[string]any); ok {
		s.Parameters = make(map[string]string, len(p))
		for k, v := range p {
			t, ok := v.(string)
			if !ok {
				return dataErr("Schema parameters must have string values.")
			}
			s.Parameters[k] = t
		}
	}
	if d, ok := obj["default"]; ok {
		v, err := c.toConnect(s, d, 0)
		if err != nil {
			return err
		}
		s.Default = v
	}
	return nil
}

// toConnect is Java's convertToConnect.
func (c *JSONConverter) toConnect(s *connect.Schema, v any, depth int) (any, error) {
	if depth > maxDepth {
		return nil, dataErr("Value nesting too deep")
	}
	var t connect.Type
	if s != nil {
		t = s.Type
		if v == nil {
			if s.Default != nil && c.cfg.ReplaceNullWithDefault {
				return s.Default, nil
			}
			if s.Optional {
				return nil, nil
			}
			return nil, dataErr(fmt.Sprintf("Invalid null value for required %s field", javaTypeName(t)))
		}
		if s.Name != "" {
			if out, handled, err := logicalToConnect(s, v); handled {
				return out, err
			}
		}
	} else {
		switch x := v.(type) {
		case nil:
			return nil, nil
		case bool:
			return x, nil
		case json.Number:
			if isIntegral(x) {
				return jacksonLong(x), nil
			}
			return jacksonDouble(x), nil
		case string:
			return x, nil
		case []any:
			t = connect.Array
		case map[string]any:
			t = connect.Map
		}
	}
	return c.typedToConnect(s, t, v, depth)
}

func (c *JSONConverter) typedToConnect(s *connect.Schema, t connect.Type, v any, depth int) (any, error) {
	switch t {
	case connect.Boolean:
		b, _ := v.(bool)
		return b, nil
	case connect.Int8:
		return int8(jacksonLong(v)), nil
	case connect.Int16:
		return int16(jacksonLong(v)), nil
	case connect.Int32:
		return int32(jacksonLong(v)), nil
	case connect.Int64:
		return jacksonLong(v), nil
	case connect.Float32:
		return float32(jacksonDouble(v)), nil
	case connect.Float64:
		return jacksonDouble(v), nil
	case connect.String:
		if str, ok := v.(string); ok {
			return str, nil
		}
		return nil, nil
	case connect.Bytes:
		str, ok := v.(string)
		if !ok {
			return nil, nil
		}
		b, err := base64.StdEncoding.DecodeString(str)
		if err != nil {
			return nil, dataErrCause("Invalid bytes field", err)
		}
		return b, nil
	case connect.Array:
		return c.arrayToConnect(s, v, depth)
	case connect.Map:
		return c.mapToConnect(s, v, depth)
	case connect.StructT:
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, dataErr("Structs should be encoded as JSON objects, but found " + nodeType(v))
		}
		st := connect.NewStruct(s)
		for _, f := range s.Fields {
			fv, err := c.toConnect(f.Schema, obj[f.Name], depth+1)
			if err != nil {
				return nil, err
			}
			st.Values[f.Index] = fv
		}
		return st, nil
	}
	return nil, dataErr(fmt.Sprintf("Unknown schema type: %s", t))
}

func (c *JSONConverter) arrayToConnect(s *connect.Schema, v any, depth int) (any, error) {
	var es *connect.Schema
	if s != nil {
		es = s.Value
	}
	var elems []any
	switch x := v.(type) {
	case []any:
		elems = x
	case map[string]any: // Jackson iterates an object's values
		for _, e := range x {
			elems = append(elems, e)
		}
	}
	out := make([]any, 0, len(elems))
	for _, e := range elems {
		cv, err := c.toConnect(es, e, depth+1)
		if err != nil {
			return nil, err
		}
		out = append(out, cv)
	}
	return out, nil
}

func (c *JSONConverter) mapToConnect(s *connect.Schema, v any, depth int) (any, error) {
	var ks, vs *connect.Schema
	if s != nil {
		ks, vs = s.Key, s.Value
	}
	if s == nil || (ks != nil && ks.Type == connect.String) {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, dataErr("Maps with string fields should be encoded as JSON objects, but found " + nodeType(v))
		}
		out := make(map[string]any, len(obj))
		for k, e := range obj {
			cv, err := c.toConnect(vs, e, depth+1)
			if err != nil {
				return nil, err
			}
			out[k] = cv
		}
		return out, nil
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, dataErr("Maps with non-string fields should be encoded as JSON array of tuples, but found " + nodeType(v))
	}
	out := make(map[any]any, len(arr))
	for _, e := range arr {
		pair, ok := e.([]any)
		if !ok {
			return nil, dataErr("Found invalid map entry instead of array tuple: " + nodeType(e))
		}
		if len(pair) != 2 {
			return nil, dataErr(fmt.Sprintf("Found invalid map entry, expected length 2 but found :%d", len(pair)))
		}
		k, err := c.toConnect(ks, pair[0], depth+1)
		if err != nil {
			return nil, err
		}
		if !hashable(k) {
			return nil, dataErr(fmt.Sprintf("Map keys of type %s are not supported", goJavaClass(k)))
		}
		val, err := c.toConnect(vs, pair[1], depth+1)
		if err != nil {
			return nil, err
		}
		out[k] = val
	}
	return out, nil
}

// hashable says whether k can be a Go map key.
func hashable(k any) bool {
	switch k.(type) {
	case []byte, []any, map[string]any, map[any]any:
		return false
	}
	return true
}

func logicalToConnect(s *connect.Schema, v any) (any, bool, error) {
	switch s.Name {
	case connect.DecimalName:
		switch x := v.(type) {
		case json.Number:
			d, ok := ParseDecimal(string(x))
			if !ok {
				return nil, true, dataErr("Invalid bytes for Decimal field")
			}
			return d, true, nil
		case string:
			raw, err := base64.StdEncoding.DecodeString(x)
			if err != nil {
				return nil, true, dataErrCause("Invalid bytes for Decimal field", err)
			}
			d, err := DecimalToLogical(s, raw)
			if err != nil {
				return nil, true, dataErrCause("Invalid bytes for Decimal field", err)
			}
			return d, true, nil
		}
		return nil, true, dataErr("Invalid type for Decimal, underlying representation should be numeric or bytes but was " + nodeType(v))
	case connect.DateName, connect.TimeName:
		n, ok := v.(json.Number)
		if !ok || !isIntegral(n) || !fitsInt32(n) {
			return nil, true, dataErr(fmt.Sprintf("Invalid type for %s, underlying representation should be integer but was %s", simpleName(s.Name), nodeType(v)))
		}
		t, err := TimeToLogical(s.Name, jacksonLong(n))
		return t, true, err
	case connect.TimestampName:
		n, ok := v.(json.Number)
		if !ok || !isIntegral(n) {
			return nil, true, dataErr("Invalid type for Timestamp, underlying representation should be integral but was " + nodeType(v))
		}
		t, err := TimeToLogical(s.Name, jacksonLong(n))
		return t, true, err
	}
	return nil, false, nil
}

func isIntegral(n json.Number) bool { return !strings.ContainsAny(string(n), ".eE") }

func fitsInt32(n json.Number) bool {
	x, err := strconv.ParseInt(string(n), 10, 64)
	return err == nil && x >= math.MinInt32 && x <= math.MaxInt32
}

// jacksonLong is JsonNode.longValue: the number truncated toward zero and
// then to its low 64 bits; 0 for anything that is not a number.
func jacksonLong(v any) int64 {
	n, ok := v.(json.Number)
	if !ok {
		return 0
	}
	if x, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return x
	}
	var bi *big.Int
	if isIntegral(n) {
		if len(n) > 4096 {
			return 0
		}
		bi, _ = new(big.Int).SetString(string(n), 10)
	} else {
		f, _, err := big.ParseFloat(string(n), 10, 256, big.ToZero)
		if err != nil || f.IsInf() {
			return 0
		}
		bi, _ = f.Int(nil)
	}
	if bi == nil {
		return 0
	}
	m := new(big.Int).And(bi, new(big.Int).SetUint64(math.MaxUint64))
	return int64(m.Uint64())
}

// jacksonDouble is JsonNode.doubleValue (0 for non-numbers).
func jacksonDouble(v any) float64 {
	n, ok := v.(json.Number)
	if !ok {
		return 0
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
			return f
		}
		return 0
	}
	return f
}
