package store

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
)

// appendJSON writes v as compact JSON the way Jackson writes what
// JsonConverter (schemas disabled) hands it: integers plain, floats with
// a fraction, bytes as base64, map keys sorted (Java's order is its
// HashMap's; any order reads the same).
func appendJSON(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return appendString(b, x)
	case bool:
		return strconv.AppendBool(b, x)
	case int:
		return strconv.AppendInt(b, int64(x), 10)
	case int8:
		return strconv.AppendInt(b, int64(x), 10)
	case int16:
		return strconv.AppendInt(b, int64(x), 10)
	case int32:
		return strconv.AppendInt(b, int64(x), 10)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case uint32:
		return strconv.AppendUint(b, uint64(x), 10)
	case uint64:
		return strconv.AppendUint(b, x, 10)
	case float32:
		return appendFloat(b, float64(x), 32)
	case float64:
		return appendFloat(b, x, 64)
	case json.Number:
		return append(b, x...)
	case []byte:
		return appendString(b, base64.StdEncoding.EncodeToString(x))
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSON(b, e)
		}
		return append(b, ']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			b = appendJSON(b, x[k])
		}
		return append(b, '}')
	case map[string]string:
		m := make(map[string]any, len(x))
		for k, s := range x {
			m[k] = s
		}
		return appendJSON(b, m)
	default:
		// Anything else goes through encoding/json (without HTML escaping).
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(x); err != nil {
			return appendString(b, fmt.Sprint(x))
		}
		return append(b, bytes.TrimRight(buf.Bytes(), "\n")...)
	}
}

func appendFloat(b []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(b, `"-Infinity"`...)
	}
	s := strconv.FormatFloat(f, 'g', -1, bits)
	if f == math.Trunc(f) && math.Abs(f) < 1e7 {
		s = strconv.FormatFloat(f, 'f', 1, bits) // Java: 1.0
	}
	return append(b, s...)
}

// appendString writes s as a JSON string, escaping like Jackson (quotes,
// backslash and control characters; not <, >, & nor non-ASCII).
func appendString(b []byte, s string) []byte {
	const hex = "0123456789ABCDEF"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c == '\b':
			b = append(b, '\\', 'b')
		case c == '\f':
			b = append(b, '\\', 'f')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// decodeJSON parses a value: integers become int64, other numbers
// float64, objects map[string]any, arrays []any.
func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("store: invalid JSON: %w", err)
	}
	if dec.More() {
		return nil, errors.New("store: trailing data after JSON value")
	}
	return convertNumbers(v), nil
}

func convertNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = convertNumbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = convertNumbers(e)
		}
	}
	return v
}

// decodeObject parses a config or status value: a JSON object, unwrapped
// from a {"schema","payload"} envelope if it has one.
func decodeObject(data []byte) (map[string]any, error) {
	v, err := decodeJSON(data)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("store: value is %T, not an object", v)
	}
	if p, ok := m["payload"]; ok && len(m) == 2 {
		if _, ok := m["schema"]; ok {
			if pm, ok := p.(map[string]any); ok {
				return pm, nil
			}
			return nil, fmt.Errorf("store: envelope payload is %T, not an object", p)
		}
	}
	return m, nil
}

// object writes an object with fields in the given order (Java's schema
// field order).
func object(kv ...any) []byte {
	b := []byte{'{'}
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, kv[i].(string))
		b = append(b, ':')
		b = appendJSON(b, kv[i+1])
	}
	return append(b, '}')
}

func intField(m map[string]any, k string) (int64, error) {
	switch x := m[k].(type) {
	case int64:
		return x, nil
	case float64:
		if x == math.Trunc(x) {
			return int64(x), nil
		}
	}
	return 0, fmt.Errorf("store: field %q is %T, not an integer", k, m[k])
}

func stringField(m map[string]any, k string) (string, bool) {
	s, ok := m[k].(string)
	return s, ok
}
