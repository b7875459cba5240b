package convert

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/samsa-streaming/samsa/connect"
)

// kafkaVersion is the Kafka release whose converters these follow.
const kafkaVersion = "4.4.0"

// EncodingConfig is StringConverter's converter.encoding.
const EncodingConfig = "converter.encoding"

// StringConverter is org.apache.kafka.connect.storage.StringConverter.
type StringConverter struct {
	encoding string // UTF8 or ISO-8859-1 / US-ASCII
}

// StringConfigDef is StringConverterConfig.configDef().
func StringConfigDef() *connect.ConfigDef {
	return converterTypeDef().Define(connect.ConfigKey{Name: EncodingConfig, Type: connect.TypeString, Default: "UTF-8", Importance: connect.High,
		Documentation: "The name of the Java character set to use for encoding strings as byte arrays.", Group: "Converter", OrderInGroup: 1, Width: connect.WidthMedium, DisplayName: "Encoding"})
}

// Configure reads converter.encoding (also serializer.encoding /
// deserializer.encoding, as Java's StringSerializer does).
func (c *StringConverter) Configure(props map[string]string, isKey bool) error {
	enc := "UTF-8"
	for _, k := range []string{EncodingConfig, "serializer.encoding"} {
		if v, ok := props[k]; ok {
			enc = v
		}
	}
	switch upper(enc) {
	case "UTF8", "UTF-8":
		enc = "UTF-8"
	case "ISO-8859-1", "ISO8859_1", "LATIN1":
		enc = "ISO-8859-1"
	case "US-ASCII", "ASCII":
		enc = "US-ASCII"
	default:
		return fmt.Errorf("convert: StringConverter: unsupported %s %q (UTF-8, ISO-8859-1, US-ASCII)", EncodingConfig, enc)
	}
	c.encoding = enc
	return nil
}

// Version reports the Kafka version.
func (c *StringConverter) Version() string { return kafkaVersion }

// Config describes the settings.
func (c *StringConverter) Config() *connect.ConfigDef { return StringConfigDef() }

// FromConnect writes the value's string form (Java's toString).
func (c *StringConverter) FromConnect(topic string, headers []connect.Header, s *connect.Schema, v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	str := javaToString(v)
	switch c.encoding {
	case "ISO-8859-1", "US-ASCII":
		limit := rune(0xFF)
		if c.encoding == "US-ASCII" {
			limit = 0x7F
		}
		out := make([]byte, 0, len(str))
		for _, r := range str {
			if r > limit {
				r = '?'
			}
			out = append(out, byte(r))
		}
		return out, nil
	}
	return []byte(str), nil
}

// ToConnect returns an optional string.
func (c *StringConverter) ToConnect(topic string, headers []connect.Header, data []byte) (*connect.Schema, any, error) {
	if data == nil {
		return connect.OptionalString, nil, nil
	}
	if c.encoding == "ISO-8859-1" || c.encoding == "US-ASCII" {
		rs := make([]rune, len(data))
		for i, b := range data {
			rs[i] = rune(b)
			if c.encoding == "US-ASCII" && b > 0x7F {
				rs[i] = utf8.RuneError
			}
		}
		return connect.OptionalString, string(rs), nil
	}
	return connect.OptionalString, string(data), nil
}

// javaToString renders a value roughly as Java's Object.toString.
func javaToString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float32:
		return JavaFloatString(float64(x), 32)
	case float64:
		return JavaFloatString(x, 64)
	case connect.Decimal:
		return DecimalString(x)
	case []byte:
		return string(x)
	}
	if s, err := ValuesString(v); err == nil {
		return s
	}
	return fmt.Sprint(v)
}

// ByteArrayConverter is org.apache.kafka.connect.converters.ByteArrayConverter.
type ByteArrayConverter struct{}

// Configure accepts any settings.
func (ByteArrayConverter) Configure(map[string]string, bool) error { return nil }

// Version reports the Kafka version.
func (ByteArrayConverter) Version() string { return kafkaVersion }

// Config describes the settings.
func (ByteArrayConverter) Config() *connect.ConfigDef { return converterTypeDef() }

// FromConnect passes bytes through.
func (ByteArrayConverter) FromConnect(topic string, headers []connect.Header, s *connect.Schema, v any) ([]byte, error) {
	if s != nil && s.Type != connect.Bytes {
		return nil, dataErr("Invalid schema type for ByteArrayConverter: " + upper(string(s.Type)))
	}
	if v == nil {
		return nil, nil
	}
	b, ok := v.([]byte)
	if !ok {
		return nil, dataErr("ByteArrayConverter is not compatible with objects of type " + goJavaClass(v))
	}
	return b, nil
}

// ToConnect returns optional bytes.
func (ByteArrayConverter) ToConnect(topic string, headers []connect.Header, data []byte) (*connect.Schema, any, error) {
	if data == nil {
		return connect.OptionalBytes, nil, nil
	}
	return connect.OptionalBytes, data, nil
}

// NumberConverter is one of Kafka's org.apache.kafka.connect.converters
// primitive converters (ShortConverter, IntegerConverter, LongConverter,
// FloatConverter, DoubleConverter, BooleanConverter): Kafka's big-endian
// serializers with an optional schema of the type.
type NumberConverter struct {
	Type connect.Type
}

// Configure accepts converter.type.
func (c *NumberConverter) Configure(map[string]string, bool) error { return nil }

// Version reports the Kafka version.
func (c *NumberConverter) Version() string { return kafkaVersion }

// Config describes the settings.
func (c *NumberConverter) Config() *connect.ConfigDef { return converterTypeDef() }

func (c *NumberConverter) javaName() string {
	switch c.Type {
	case connect.Int16:
		return "Short"
	case connect.Int32:
		return "Integer"
	case connect.Int64:
		return "Long"
	case connect.Float32:
		return "Float"
	case connect.Float64:
		return "Double"
	}
	return "Boolean"
}

// FromConnect serializes the number.
func (c *NumberConverter) FromConnect(topic string, headers []connect.Header, s *connect.Schema, v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	var out []byte
	ok := true
	switch c.Type {
	case connect.Int16:
		var x int16
		x, ok = v.(int16)
		out = binary.BigEndian.AppendUint16(nil, uint16(x))
	case connect.Int32:
		var x int32
		x, ok = v.(int32)
		out = binary.BigEndian.AppendUint32(nil, uint32(x))
	case connect.Int64:
		var x int64
		x, ok = v.(int64)
		out = binary.BigEndian.AppendUint64(nil, uint64(x))
	case connect.Float32:
		var x float32
		x, ok = v.(float32)
		out = binary.BigEndian.AppendUint32(nil, math.Float32bits(x))
	case connect.Float64:
		var x float64
		x, ok = v.(float64)
		out = binary.BigEndian.AppendUint64(nil, math.Float64bits(x))
	default:
		var x bool
		x, ok = v.(bool)
		out = []byte{0}
		if x {
			out[0] = 1
		}
	}
	if !ok {
		return nil, dataErr(fmt.Sprintf("Failed to serialize to %s (was %s): ", upper(c.javaName()), goJavaClass(v)))
	}
	return out, nil
}

// ToConnect deserializes the number.
func (c *NumberConverter) ToConnect(topic string, headers []connect.Header, data []byte) (*connect.Schema, any, error) {
	s := &connect.Schema{Type: c.Type, Optional: true}
	if data == nil {
		return s, nil, nil
	}
	size := map[connect.Type]int{connect.Int16: 2, connect.Int32: 4, connect.Int64: 8, connect.Float32: 4, connect.Float64: 8, connect.Boolean: 1}[c.Type]
	if len(data) != size {
		return nil, nil, dataErr(fmt.Sprintf("Failed to deserialize %s: Size of data received by %sDeserializer is not %d", javaTypeName(c.Type), c.javaName(), size))
	}
	switch c.Type {
	case connect.Int16:
		return s, int16(binary.BigEndian.Uint16(data)), nil
	case connect.Int32:
		return s, int32(binary.BigEndian.Uint32(data)), nil
	case connect.Int64:
		return s, int64(binary.BigEndian.Uint64(data)), nil
	case connect.Float32:
		return s, math.Float32frombits(binary.BigEndian.Uint32(data)), nil
	case connect.Float64:
		return s, math.Float64frombits(binary.BigEndian.Uint64(data)), nil
	}
	if data[0] > 1 {
		return nil, nil, dataErr("Failed to deserialize BOOLEAN: Unexpected byte received by BooleanDeserializer: " + strconv.Itoa(int(data[0])))
	}
	return s, data[0] == 1, nil
}

// AsHeaderConverter adapts a Converter (JsonConverter, StringConverter…)
// to the HeaderConverter interface, as Java's classes implement both.
func AsHeaderConverter(c connect.Converter) connect.HeaderConverter { return headerAdapter{c} }

type headerAdapter struct{ c connect.Converter }

func (h headerAdapter) Configure(props map[string]string) error {
	p := make(map[string]string, len(props)+1)
	for k, v := range props {
		p[k] = v
	}
	p[ConverterTypeConfig] = "header"
	return h.c.Configure(p, false)
}

func (h headerAdapter) FromConnectHeader(topic, key string, s *connect.Schema, v any) ([]byte, error) {
	return h.c.FromConnect(topic, nil, s, v)
}

func (h headerAdapter) ToConnectHeader(topic, key string, data []byte) (*connect.Schema, any, error) {
	return h.c.ToConnect(topic, nil, data)
}
