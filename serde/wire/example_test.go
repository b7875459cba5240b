package wire_test

import (
	"fmt"

	"github.com/samsa-streaming/samsa/serde/wire"
)

// Framing an Avro value with schema id 42, and reading it back.
func Example() {
	avro := []byte{0x06, 'f', 'o', 'o'} // the Avro string "foo"
	value := append(wire.AppendHeader(nil, 42), avro...)
	fmt.Printf("% x\n", value)

	id, payload, err := wire.ParseHeader(value)
	fmt.Println(id, payload, err)
	// Output:
	// 00 00 00 00 2a 06 66 6f 6f
	// 42 [6 102 111 111] <nil>
}

// A Protobuf value names its message type after the schema id: [0] (the
// file's first message) is one byte, others a count and the indexes.
func ExampleAppendProtoIndexes() {
	first := wire.AppendProtoIndexes(wire.AppendHeader(nil, 7), []int{0})
	nested := wire.AppendProtoIndexes(wire.AppendHeader(nil, 7), []int{1, 0})
	fmt.Printf("% x\n% x\n", first, nested)

	_, rest, _ := wire.ParseHeader(nested)
	idx, msg, err := wire.ParseProtoIndexes(rest)
	fmt.Println(idx, len(msg), err)
	// Output:
	// 00 00 00 00 07 00
	// 00 00 00 00 07 04 02 00
	// [1 0] 0 <nil>
}

// Confluent's clients may name the schema in a record header instead, by
// GUID; Split finds it there or in the payload's prefix.
func ExampleSplit() {
	guid, _ := wire.ParseGUID("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0")
	headers := []wire.RecordHeader{{Key: wire.ValueSchemaIDHeader, Value: wire.GUIDHeader(guid).AppendTo(nil)}}
	f, err := wire.Split([]byte(`{"a":1}`), headers, false)
	fmt.Println(f.Header, f.InRecordHeader, string(f.Payload), err)
	// Output:
	// guid 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0 true {"a":1} <nil>
}
