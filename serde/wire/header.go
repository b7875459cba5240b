package wire

import (
	"errors"
	"fmt"
)

// The record headers Confluent's clients put a key's or a value's schema
// reference in, when they do not prefix the payload with it.
const (
	KeySchemaIDHeader   = "__key_schema_id"
	ValueSchemaIDHeader = "__value_schema_id"
)

// ErrNoSchemaHeader reports a record without a (non-empty) schema id
// header for the key or value asked about.
var ErrNoSchemaHeader = errors.New("wire: no schema id record header")

// RecordHeader is one Kafka record header. It has the shape of franz-go's
// kgo.RecordHeader and confluent-kafka-go's kafka.Header, so converting
// one is a field-by-field copy.
type RecordHeader struct {
	Key   string
	Value []byte
}

// SchemaIDHeaderName is the record header naming the key's schema (key
// true) or the value's.
func SchemaIDHeaderName(key bool) string {
	if key {
		return KeySchemaIDHeader
	}
	return ValueSchemaIDHeader
}

// FromRecordHeader reads the schema reference of a record's key (key true)
// or value from its schema id header (SchemaIDHeaderName). The header's
// value is a header as Parse reads it, a GUID one as Confluent's
// serializers write it or an id one; rest is what follows it in the
// header's value, the Protobuf message indexes for a Protobuf payload,
// else normally nothing. As Confluent's deserializers, FromRecordHeader
// skips headers with an empty value and takes the first that parses. It
// returns ErrNoSchemaHeader when there is none, else the first header's
// parse error.
func FromRecordHeader(headers []RecordHeader, key bool) (h Header, rest []byte, err error) {
	name := SchemaIDHeaderName(key)
	var first error
	for _, rh := range headers {
		if rh.Key != name || len(rh.Value) == 0 {
			continue
		}
		h, rest, err := Parse(rh.Value)
		if err == nil {
			return h, rest, nil
		}
		if first == nil {
			first = fmt.Errorf("record header %s: %w", name, err)
		}
	}
	if first != nil {
		return Header{}, nil, first
	}
	return Header{}, nil, fmt.Errorf("%w: %s", ErrNoSchemaHeader, name)
}

// Framed is a key or value split into its schema reference and payload.
type Framed struct {
	Header Header
	// InRecordHeader says the reference came from the record's schema id
	// header, so Payload is the whole key or value; otherwise it came from
	// the payload's prefix, and Payload is what follows it.
	InRecordHeader bool
	// Payload is the serialized bytes after the header: for Protobuf, the
	// message indexes (unless InRecordHeader) and the message; see
	// ProtoIndexes.
	Payload []byte
	// after is what followed the header in the record header's value,
	// named name.
	after []byte
	name  string
}

// Split finds the schema reference of a key (key true) or value data as
// Confluent's deserializers do: in the record's schema id header when one
// is present and readable (FromRecordHeader), else in data's prefix
// (Parse). The error is the prefix's when neither holds a reference.
func Split(data []byte, headers []RecordHeader, key bool) (Framed, error) {
	if h, after, err := FromRecordHeader(headers, key); err == nil {
		return Framed{Header: h, InRecordHeader: true, Payload: data, after: after, name: SchemaIDHeaderName(key)}, nil
	}
	h, payload, err := Parse(data)
	if err != nil {
		return Framed{}, err
	}
	return Framed{Header: h, Payload: payload}, nil
}

// ProtoIndexes reads the Protobuf message indexes of a framed Protobuf
// key or value, from the record header's value when the reference came
// from there, else from the front of Payload, and returns them with the
// message bytes.
func (f Framed) ProtoIndexes() (idx []int, message []byte, err error) {
	if f.InRecordHeader {
		idx, _, err = ParseProtoIndexes(f.after)
		if err != nil {
			return nil, nil, fmt.Errorf("record header %s: %w", f.name, err)
		}
		return idx, f.Payload, nil
	}
	return ParseProtoIndexes(f.Payload)
}
