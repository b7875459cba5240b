// Package wire reads and writes the framing that Confluent Schema Registry
// serializers put around a Kafka record's key or value, so that a consumer
// (or a broker validating produce requests) can tell which registered
// schema the bytes were written with.
//
// # Prefix framing (the common form)
//
//	0x00 | schema id (4 bytes, big endian) | [Protobuf message indexes] | payload
//
// The magic byte 0x00 is followed by the schema id as a signed 32-bit
// big-endian integer (Java's int, as the registry numbers schemas). Avro
// and JSON Schema payloads follow directly. AppendHeader writes this
// prefix, ParseHeader reads it.
//
// # GUID framing
//
//	0x01 | schema GUID (16 bytes) | [Protobuf message indexes] | payload
//
// Newer Confluent clients can name a schema by its GUID instead of its id:
// magic byte 0x01 followed by the GUID's 16 bytes (RFC 9562 byte order, as
// it prints). ParseHeader reports such bytes with ErrGUIDHeader; Parse
// reads both forms into a Header, whose Magic says which one it is.
//
// # Protobuf message indexes
//
// A .proto file may define several messages, nested at any depth, so a
// Protobuf payload names its message type after the schema reference: a
// zig-zag varint count, then that many zig-zag varint indexes (the first
// index counts top-level messages in file order, each next one the nested
// messages of the previous). The frequent [0], the file's first message, is
// written as the single byte 0x00 (a count of zero). AppendProtoIndexes and
// ParseProtoIndexes handle this; parsing bounds the count by the bytes
// present and by MaxProtoIndexes, and refuses negative indexes and indexes
// beyond math.MaxInt32.
//
// # Schema id record headers
//
// Instead of prefixing the payload, Confluent's clients can put the schema
// reference in a Kafka record header, __key_schema_id for the key and
// __value_schema_id for the value (KeySchemaIDHeader, ValueSchemaIDHeader).
// The header's value is encoded as the prefix above would be: magic byte,
// id or GUID (serializers write the GUID form), then for Protobuf the
// message indexes; the key or value then holds the bare payload.
// Deserializers look for the header first and, when it is absent, empty or
// unreadable, read the prefix from the payload. FromRecordHeader reads the
// header; Split applies the whole rule and returns the schema reference and
// the payload, whose Protobuf message indexes Framed.ProtoIndexes reads
// from wherever they are.
//
// Errors wrap the sentinels ErrShort, ErrNoMagic, ErrGUIDHeader,
// ErrIndexes and ErrNoSchemaHeader with the detail of what was wrong, for
// errors.Is. Nothing here panics on malformed input; successful parsing
// allocates nothing but the index slice ParseProtoIndexes returns, and the
// returned slices point into the caller's bytes.
package wire
