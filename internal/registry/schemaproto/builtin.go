package schemaproto

// The .proto files Confluent's serializers may import without the schema
// registering them as references. The texts are this package's own,
// written from Confluent's public description of the two files: a Meta
// message (documentation, free-form parameters and tags) that can annotate
// files, messages, fields, enums and enum values through custom options,
// and a Decimal message (unscaled value as big-endian two's-complement
// bytes, precision and scale).
const (
	metaProtoPath    = "confluent/meta.proto"
	decimalProtoPath = "confluent/type/decimal.proto"
)

const metaProtoText = `syntax = "proto3";

package confluent;

import "google/protobuf/descriptor.proto";

option go_package = "github.com/confluentinc/schema-registry/confluent/meta";
option java_package = "io.confluent.protobuf";

// Meta annotates a schema element with documentation and parameters.
message Meta {
  string doc = 1;
  map<string, string> params = 2;
  repeated string tags = 3;
}

extend google.protobuf.FileOptions {
  Meta file_meta = 1088;
}

extend google.protobuf.MessageOptions {
  Meta message_meta = 1088;
}

extend google.protobuf.FieldOptions {
  Meta field_meta = 1088;
}

extend google.protobuf.EnumOptions {
  Meta enum_meta = 1088;
}

extend google.protobuf.EnumValueOptions {
  Meta enum_value_meta = 1088;
}
`

const decimalProtoText = `syntax = "proto3";

package confluent.type;

option go_package = "github.com/confluentinc/schema-registry/confluent/type/decimal";
option java_package = "io.confluent.protobuf.type";

// Decimal is an arbitrary-precision decimal number: the unscaled value
// as big-endian two's-complement bytes, its precision and its scale.
message Decimal {
  bytes value = 1;
  uint32 precision = 2;
  int32 scale = 3;
}
`

// builtinFiles maps the import paths above to their texts.
func builtinFiles() map[string]string {
	return map[string]string{
		metaProtoPath:    metaProtoText,
		decimalProtoPath: decimalProtoText,
	}
}

// BuiltinFiles returns the texts of the .proto files Confluent's
// serializers import without references (confluent/meta.proto and
// confluent/type/decimal.proto), by import path, for clients of the
// registry that compile schemas themselves (the Connect converters).
func BuiltinFiles() map[string]string { return builtinFiles() }
