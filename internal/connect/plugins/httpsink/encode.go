package httpsink

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/samsa-streaming/samsa/connect"
)

// maxDepth bounds the nesting of values encoded (a cycle in a
// hand-built value ends there instead of overflowing the stack).
const maxDepth = 100

// appendValue writes v (of schema s, which may be nil) as JSON.
func appendValue(b []byte, s *connect.Schema, v any, depth int) ([]byte, error) {
	if depth > maxDepth {
		return b, fmt.Errorf("http sink: value nested deeper than %d", maxDepth)
	}
	if s != nil && v == nil && s.Default != nil {
		v = s.Default
	}
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return appendString(b, x), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case int8, int16, int32, int64, int, uint8, uint16, uint32, uint64:
		return fmt.Append(b, x), nil
	case float32:
		return appendFloat(b, float64(x), 32)
	case float64:
		return appendFloat(b, x, 64)
	case []byte:
		b = append(b, '"')
		b = base64.StdEncoding.AppendEncode(b, x)
		return append(b, '"'), nil
	case connect.Decimal:
		return append(b, x.String()...), nil
	case time.Time:
		return appendTime(b, s, x), nil
	case *connect.Struct:
		return appendStruct(b, x, depth)
	case []any:
		var elem *connect.Schema
		if s != nil {
			elem = s.Value
		}
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendValue(b, elem, e, depth+1); err != nil {
				return b, err
			}
		}
		return append(b, ']'), nil
	case map[string]any:
		return appendStringMap(b, s, x, depth)
	case map[any]any:
		return appendAnyMap(b, s, x, depth)
	}
	j, err := json.Marshal(v)
	if err != nil {
		return b, fmt.Errorf("http sink: encode %T: %w", v, err)
	}
	return append(b, j...), nil
}

func appendFloat(b []byte, f float64, bits int) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return b, fmt.Errorf("http sink: %v has no JSON form", f)
	}
	return strconv.AppendFloat(b, f, 'g', -1, bits), nil
}

// appendTime writes Kafka Connect's logical types as JsonConverter does
// (Date: days, Time: milliseconds of the day, else epoch milliseconds).
func appendTime(b []byte, s *connect.Schema, t time.Time) []byte {
	ms := t.UnixMilli()
	if s != nil {
		switch s.Name {
		case connect.DateName:
			return strconv.AppendInt(b, int64(math.Floor(float64(ms)/86400000)), 10)
		case connect.TimeName:
			return strconv.AppendInt(b, ((ms%86400000)+86400000)%86400000, 10)
		}
	}
	return strconv.AppendInt(b, ms, 10)
}

func appendStruct(b []byte, st *connect.Struct, depth int) ([]byte, error) {
	b = append(b, '{')
	for i, f := range st.Schema.Fields {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(appendString(b, f.Name), ':')
		var v any
		if i < len(st.Values) {
			v = st.Values[i]
		}
		var err error
		if b, err = appendValue(b, f.Schema, v, depth+1); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}

func appendStringMap(b []byte, s *connect.Schema, m map[string]any, depth int) ([]byte, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var elem *connect.Schema
	if s != nil {
		elem = s.Value
	}
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(appendString(b, k), ':')
		var err error
		if b, err = appendValue(b, elem, m[k], depth+1); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}

// appendAnyMap writes an object when every key is a string, else an
// array of [key, value] pairs (JsonConverter's form).
func appendAnyMap(b []byte, s *connect.Schema, m map[any]any, depth int) ([]byte, error) {
	sm := make(map[string]any, len(m))
	for k, v := range m {
		ks, ok := k.(string)
		if !ok {
			sm = nil
			break
		}
		sm[ks] = v
	}
	if sm != nil {
		return appendStringMap(b, s, sm, depth)
	}
	var ks, vs *connect.Schema
	if s != nil {
		ks, vs = s.Key, s.Value
	}
	type pair struct {
		key []byte
		val any
	}
	pairs := make([]pair, 0, len(m))
	for k, v := range m {
		kb, err := appendValue(nil, ks, k, depth+1)
		if err != nil {
			return b, err
		}
		pairs = append(pairs, pair{kb, v})
	}
	sort.Slice(pairs, func(i, j int) bool { return string(pairs[i].key) < string(pairs[j].key) })
	b = append(b, '[')
	for i, p := range pairs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(append(append(b, '['), p.key...), ',')
		var err error
		if b, err = appendValue(b, vs, p.val, depth+1); err != nil {
			return b, err
		}
		b = append(b, ']')
	}
	return append(b, ']'), nil
}

func appendString(b []byte, s string) []byte {
	j, _ := json.Marshal(s) // a string always encodes
	return append(b, j...)
}

// appendEnvelope writes {"topic","partition","offset","timestamp","key",
// "value","headers"} for r.
func appendEnvelope(b []byte, r *connect.Record) ([]byte, error) {
	b = append(b, `{"topic":`...)
	b = appendString(b, r.Topic)
	b = append(b, `,"partition":`...)
	b = strconv.AppendInt(b, int64(r.Partition), 10)
	b = append(b, `,"offset":`...)
	b = strconv.AppendInt(b, r.Offset, 10)
	b = append(b, `,"timestamp":`...)
	if r.Timestamp.IsZero() {
		b = append(b, "null"...)
	} else {
		b = strconv.AppendInt(b, r.Timestamp.UnixMilli(), 10)
	}
	var err error
	b = append(b, `,"key":`...)
	if b, err = appendValue(b, r.KeySchema, r.Key, 0); err != nil {
		return b, err
	}
	b = append(b, `,"value":`...)
	if b, err = appendValue(b, r.ValueSchema, r.Value, 0); err != nil {
		return b, err
	}
	b = append(b, `,"headers":[`...)
	for i, h := range r.Headers {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(appendString(append(b, `{"key":`...), h.Key), `,"value":`...)
		if b, err = appendValue(b, h.Schema, h.Value, 0); err != nil {
			return b, err
		}
		b = append(b, '}')
	}
	return append(b, "]}"...), nil
}
