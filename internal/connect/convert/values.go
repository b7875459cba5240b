package convert

import (
	"encoding/base64"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/samsa-streaming/samsa/connect"
)

// This file is Kafka's org.apache.kafka.connect.data.Values text form,
// used by SimpleHeaderConverter: ValuesString is Values.convertToString,
// ParseValuesString is Values.parseString.

const (
	isoDate      = "2006-01-02"
	isoTime      = "15:04:05.000Z"
	isoTimestamp = "2006-01-02T15:04:05.000Z"
)

// ValuesString renders v as Values.convertToString: top-level strings
// bare, embedded ones quoted, lists as [a,b], maps as {k:v}, structs as
// {"field":value}, bytes as base64 and dates in ISO 8601 (UTC).
func ValuesString(v any) (string, error) {
	var sb strings.Builder
	if err := valuesAppend(&sb, v, false, 0); err != nil {
		return "", err
	}
	return sb.String(), nil
}

func valuesAppend(sb *strings.Builder, v any, embedded bool, depth int) error {
	if depth > maxDepth {
		return dataErr("Value nesting too deep")
	}
	switch x := v.(type) {
	case nil:
		sb.WriteString("null")
	case int8, int16, int32, int64, bool:
		fmt.Fprint(sb, x)
	case float32:
		sb.WriteString(javaNumberString(float64(x), 32))
	case float64:
		sb.WriteString(javaNumberString(x, 64))
	case connect.Decimal:
		sb.WriteString(DecimalString(x))
	case string:
		if embedded {
			sb.WriteString(`"` + strings.ReplaceAll(strings.ReplaceAll(x, `\`, `\\`), `"`, `\"`) + `"`)
		} else {
			sb.WriteString(x)
		}
	case []byte:
		s := base64.StdEncoding.EncodeToString(x)
		if embedded {
			s = `"` + s + `"`
		}
		sb.WriteString(s)
	case []any:
		sb.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				sb.WriteByte(',')
			}
			if err := valuesAppend(sb, e, true, depth+1); err != nil {
				return err
			}
		}
		sb.WriteByte(']')
	case map[string]any, map[any]any:
		entries, _, _ := mapEntries(x)
		sb.WriteByte('{')
		for i, e := range entries {
			if i > 0 {
				sb.WriteByte(',')
			}
			if err := valuesAppend(sb, e.k, true, depth+1); err != nil {
				return err
			}
			sb.WriteByte(':')
			if err := valuesAppend(sb, e.v, true, depth+1); err != nil {
				return err
			}
		}
		sb.WriteByte('}')
	case *connect.Struct:
		sb.WriteByte('{')
		for i, f := range x.Schema.Fields {
			if i > 0 {
				sb.WriteByte(',')
			}
			_ = valuesAppend(sb, f.Name, true, depth+1)
			sb.WriteByte(':')
			if err := valuesAppend(sb, x.Values[f.Index], true, depth+1); err != nil {
				return err
			}
		}
		sb.WriteByte('}')
	case time.Time:
		ms := x.UnixMilli()
		t := x.UTC()
		switch {
		case ms >= 0 && ms < msPerDay:
			sb.WriteString(t.Format(isoTime))
		case ms%msPerDay == 0:
			sb.WriteString(t.Format(isoDate))
		default:
			sb.WriteString(t.Format(isoTimestamp))
		}
	default:
		return dataErr(fmt.Sprintf("Failed to serialize unexpected value type %T: %v", v, v))
	}
	return nil
}

// javaNumberString is Java's Float/Double toString, NaN and Infinity bare.
func javaNumberString(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return JavaFloatString(f, bits)
}

// ParseValuesString infers a schema and value from text as
// Values.parseString: null, booleans, the smallest integer type that
// holds an integer, FLOAT32/FLOAT64 for fractions, Decimal beyond,
// ISO 8601 dates, times and timestamps, [arrays] and {maps} of those;
// anything else is a STRING.
func ParseValuesString(s string) (*connect.Schema, any) {
	if s == "" {
		return connect.SchemaString, s
	}
	p := &valuesParser{src: s}
	p.skipSpace()
	if p.peek() == '[' || p.peek() == '{' {
		if sch, v, err := p.parseEmbedded(0); err == nil {
			p.skipSpace()
			if p.pos == len(p.src) {
				return sch, v
			}
		}
		return connect.SchemaString, s
	}
	tok := strings.TrimSpace(s)
	switch tok {
	case "null":
		return nil, nil
	case "true":
		return connect.SchemaBoolean, true
	case "false":
		return connect.SchemaBoolean, false
	}
	if tok != "" && tok[0] >= '0' && tok[0] <= '9' {
		if sch, v, ok := parseTemporal(tok); ok {
			return sch, v
		}
	}
	if tok != "" && (tok[0] >= '0' && tok[0] <= '9' || tok[0] == '+' || tok[0] == '-') {
		if sch, v, ok := parseNumber(tok); ok {
			return sch, v
		}
	}
	return connect.SchemaString, s
}

func parseTemporal(tok string) (*connect.Schema, any, bool) {
	layouts := map[int]struct {
		layout string
		name   string
	}{len(isoDate): {isoDate, connect.DateName}, len(isoTime): {isoTime, connect.TimeName}, len(isoTimestamp): {isoTimestamp, connect.TimestampName}}
	l, ok := layouts[len(tok)]
	if !ok {
		return nil, nil, false
	}
	t, err := time.Parse(l.layout, tok)
	if err != nil {
		return nil, nil, false
	}
	if l.name == connect.TimeName {
		t = time.UnixMilli(int64(t.Hour()*3600000 + t.Minute()*60000 + t.Second()*1000 + t.Nanosecond()/1e6)).UTC()
	}
	v := int32(1)
	return &connect.Schema{Type: map[string]connect.Type{connect.DateName: connect.Int32, connect.TimeName: connect.Int32, connect.TimestampName: connect.Int64}[l.name], Name: l.name, Version: &v}, t, true
}

func parseNumber(tok string) (*connect.Schema, any, bool) {
	d, ok := ParseDecimal(strings.TrimPrefix(tok, "+"))
	if !ok {
		return nil, nil, false
	}
	r := new(big.Rat).SetFrac(d.Unscaled, big.NewInt(1))
	if d.Scale > 0 {
		r.Quo(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d.Scale)), nil)))
	} else if d.Scale < 0 && d.Scale > -40 {
		r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(-d.Scale)), nil)))
	}
	if r.IsInt() && (d.Scale >= -40) && r.Num().IsInt64() {
		n := r.Num().Int64()
		switch {
		case n >= math.MinInt8 && n <= math.MaxInt8:
			return connect.SchemaInt8, int8(n), true
		case n >= math.MinInt16 && n <= math.MaxInt16:
			return connect.SchemaInt16, int16(n), true
		case n >= math.MinInt32 && n <= math.MaxInt32:
			return connect.SchemaInt32, int32(n), true
		}
		return connect.SchemaInt64, n, true
	}
	if d.Scale != 0 {
		if f, err := strconv.ParseFloat(tok, 32); err == nil {
			return connect.SchemaFloat32, float32(f), true
		}
		if f, err := strconv.ParseFloat(tok, 64); err == nil {
			return connect.SchemaFloat64, f, true
		}
	}
	v := int32(1)
	return &connect.Schema{Type: connect.Bytes, Name: connect.DecimalName, Version: &v,
		Parameters: map[string]string{connect.DecimalScaleParam: strconv.Itoa(int(d.Scale))}}, d, true
}

type valuesParser struct {
	src string
	pos int
}

func (p *valuesParser) peek() byte {
	if p.pos < len(p.src) {
		return p.src[p.pos]
	}
	return 0
}

func (p *valuesParser) skipSpace() {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t' || p.src[p.pos] == '\n' || p.src[p.pos] == '\r') {
		p.pos++
	}
}

func (p *valuesParser) parseEmbedded(depth int) (*connect.Schema, any, error) {
	if depth > maxDepth {
		return nil, nil, dataErr("too deep")
	}
	p.skipSpace()
	switch p.peek() {
	case '[':
		p.pos++
		return p.parseArray(depth)
	case '{':
		p.pos++
		return p.parseMap(depth)
	case '"':
		p.pos++
		var sb strings.Builder
		for p.pos < len(p.src) {
			c := p.src[p.pos]
			p.pos++
			if c == '\\' && p.pos < len(p.src) {
				sb.WriteByte(p.src[p.pos])
				p.pos++
				continue
			}
			if c == '"' {
				str := sb.String()
				if sch, v, ok := parseTemporal(str); ok {
					return sch, v, nil
				}
				return connect.SchemaString, str, nil
			}
			sb.WriteByte(c)
		}
		return nil, nil, dataErr("unterminated string")
	}
	start := p.pos
	for p.pos < len(p.src) && !strings.ContainsRune("[]{},:\"", rune(p.src[p.pos])) {
		p.pos++
	}
	tok := strings.TrimSpace(p.src[start:p.pos])
	switch tok {
	case "null":
		return nil, nil, nil
	case "true", "false":
		return connect.SchemaBoolean, tok == "true", nil
	case "":
		return nil, nil, dataErr("empty element")
	}
	if sch, v, ok := parseNumber(tok); ok {
		return sch, v, nil
	}
	return nil, nil, dataErr("Failed to parse embedded value")
}

func (p *valuesParser) parseArray(depth int) (*connect.Schema, any, error) {
	out := []any{}
	var common *connect.Schema
	mixed := false
	for {
		p.skipSpace()
		if p.peek() == ']' {
			p.pos++
			return listSchema(common, mixed), out, nil
		}
		if len(out) > 0 {
			if p.peek() != ',' {
				return nil, nil, dataErr("Array elements missing ',' delimiter")
			}
			p.pos++
		}
		s, v, err := p.parseEmbedded(depth + 1)
		if err != nil {
			return nil, nil, err
		}
		common, mixed = merge(common, s, mixed)
		out = append(out, v)
	}
}

func (p *valuesParser) parseMap(depth int) (*connect.Schema, any, error) {
	out := map[any]any{}
	var ks, vs *connect.Schema
	var kmixed, vmixed bool
	for n := 0; ; n++ {
		p.skipSpace()
		if p.peek() == '}' {
			p.pos++
			ms := &connect.Schema{Type: connect.Map}
			if !kmixed {
				ms.Key = ks
			}
			if !vmixed {
				ms.Value = vs
			}
			if ms.Key != nil && ms.Key.Type == connect.String {
				sm := make(map[string]any, len(out))
				for k, v := range out {
					sm[k.(string)] = v
				}
				return ms, sm, nil
			}
			return ms, out, nil
		}
		if n > 0 {
			if p.peek() != ',' {
				return nil, nil, dataErr("Map entry missing ','")
			}
			p.pos++
		}
		k1, k, err := p.parseEmbedded(depth + 1)
		if err != nil {
			return nil, nil, err
		}
		if k == nil || !hashable(k) {
			return nil, nil, dataErr("Map entry may not have a null key")
		}
		p.skipSpace()
		if p.peek() != ':' {
			return nil, nil, dataErr("Map entry is missing ':'")
		}
		p.pos++
		v1, v, err := p.parseEmbedded(depth + 1)
		if err != nil {
			return nil, nil, err
		}
		ks, kmixed = merge(ks, k1, kmixed)
		vs, vmixed = merge(vs, v1, vmixed)
		out[k] = v
	}
}

func merge(common, s *connect.Schema, mixed bool) (*connect.Schema, bool) {
	if s == nil || mixed {
		return common, mixed
	}
	if common == nil {
		return s, false
	}
	if common.Type != s.Type || common.Name != s.Name {
		return nil, true
	}
	return common, false
}

func listSchema(common *connect.Schema, mixed bool) *connect.Schema {
	if mixed {
		common = nil
	}
	return &connect.Schema{Type: connect.Array, Value: common}
}

// SimpleHeaderConverter is org.apache.kafka.connect.storage.SimpleHeaderConverter.
type SimpleHeaderConverter struct{}

// Configure accepts any settings.
func (SimpleHeaderConverter) Configure(map[string]string) error { return nil }

// Version reports the Kafka version.
func (SimpleHeaderConverter) Version() string { return kafkaVersion }

// Config describes the settings (none).
func (SimpleHeaderConverter) Config() *connect.ConfigDef { return connect.NewConfigDef() }

// FromConnectHeader writes the value's Values string in UTF-8.
func (SimpleHeaderConverter) FromConnectHeader(topic, key string, s *connect.Schema, v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	str, err := ValuesString(v)
	if err != nil {
		return nil, err
	}
	return []byte(str), nil
}

// ToConnectHeader infers schema and value from the text.
func (SimpleHeaderConverter) ToConnectHeader(topic, key string, data []byte) (*connect.Schema, any, error) {
	if data == nil {
		return nil, nil, nil
	}
	s, v := ParseValuesString(string(data))
	return s, v, nil
}
