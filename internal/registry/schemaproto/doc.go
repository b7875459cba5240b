// Package schemaproto is the PROTOBUF schema type of the schema registry:
// a schema.Handler that compiles .proto text with protocompile, prints it
// in canonical and normalized forms, renders the formats
// GET /schemas/ids/{id}?format= knows, validates payloads with dynamicpb
// and checks compatibility between two versions.
//
// # Parsing
//
// A schema is the text of one .proto file. Its imports resolve, in this
// order, from the references the registry resolved (schema.Dep.Name is the
// import path, e.g. "other.proto"), from the two Confluent files its
// serializers may import unregistered, "confluent/meta.proto" (message
// confluent.Meta with doc, params and tags, and the options file_meta,
// message_meta, field_meta, enum_meta and enum_value_meta, number 1088)
// and "confluent/type/decimal.proto" (message confluent.type.Decimal with
// bytes value, uint32 precision, int32 scale), whose texts are this
// package's own (builtin.go), and from the google/protobuf standard
// imports (timestamp, any, wrappers, descriptor, struct, duration, empty,
// field_mask, ...). The schema compiles as "schema.proto" (or
// "schema_N.proto" if a reference has that name), so errors read
// "schema.proto:3:9: ...": protocompile's position and message, up to 8
// of them. A missing import names the path; an import cycle is
// protocompile's "cycle found in imports" error.
//
// Limits: 1 MiB per text, 8 MiB in all, 1024 references, and brackets
// ({, [, () nested at most 64 deep outside strings and comments, which
// bounds every recursion over what the text declares.
//
// After compiling, the file and its imports are rebuilt as protobuf-go's
// own descriptors (protodesc), whose lookups are indexed: protocompile's
// scan linearly, which made decoding or checking a message with tens of
// thousands of fields take tens of seconds. Schema.File returns them.
//
// # Canonical form
//
// Canonical is printed from the compiled FileDescriptorProto by this
// package's own printer (print.go, options.go); no printer module is
// added. It drops comments and layout, so texts differing only in
// whitespace or comments print the same, and it re-parses to itself.
// The layout:
//
//   - syntax (or edition), package, imports in declaration order (with
//     public/weak), file options;
//   - then top-level messages and extend blocks, enums and services, each
//     kind in declaration order, separated by blank lines;
//   - inside a message: options, reserved ranges, reserved names, fields
//     in declaration order (a oneof printed where its first member is;
//     map fields as map<K, V>; proto2 groups as "group Name = N { ... }";
//     proto3 optional as "optional"), extension ranges, nested enums,
//     nested messages, extend blocks (one per run of the same extendee);
//   - except that a nested message prints before a field (or extension)
//     whose map entry or group body protoc numbers after it: nested types
//     keep the order protoc gave them, so message indexes computed from
//     the canonical text are those of the original (members.go);
//   - type names (and custom option names) in the shortest form that
//     resolves, from where it is written, to the same element under
//     protobuf's scoping rules: "Address", "Person.Address",
//     "google.protobuf.Timestamp", or ".pkg.Msg" when every shorter form
//     is shadowed (names.go; shadowing is judged conservatively, so a
//     name may print longer than needed but never resolves elsewhere);
//   - options (file, message, field, oneof, enum, value, service, method,
//     extension range) sorted: standard options by field number, then
//     custom options by full name, "(pkg.ext)"; message values as text
//     literals "{ a: 1 b: [1, 2] }"; field pseudo-options default and
//     json_name first, json_name only when it differs from the derived
//     one; strings escaped in octal for non-printable bytes.
//
// The descriptor does not keep the interleaving of different kinds nor
// the order of options, so those are fixed as above.
//
// # Normalized form
//
// Normalized is Canonical of a copy of the descriptor in which order that
// protobuf semantics ignore is fixed: imports by path, enums, services
// and methods by name, fields by number (so a oneof prints at its
// lowest-numbered member), enum values by number after the first one
// (the default, which stays first), extensions by extendee and number,
// reserved and extension ranges by start, reserved names alphabetically.
// Messages keep their declaration order: Confluent's message indexes
// count messages in that order, so sorting them would make a serializer's
// indexes select another message in a schema registered with
// ?normalize=true. (Sorting fields can still move a map or group field
// past a nested message declared among the fields and so change that
// nested message's index; Canonical never does.)
//
// # Formats
//
// Format("") is Canonical. "serialized" is the standard base64 of the
// deterministically marshalled FileDescriptorProto (what Confluent serves
// for ?format=serialized). "ignore_extensions" is Canonical without the
// extend blocks and without custom options (those set through extensions,
// e.g. (confluent.field_meta)); extension ranges and imports stay. Any
// other format is an error.
//
// # Validation and message indexes
//
// Validate decodes a payload as the message Confluent's message indexes
// select: the first index counts top-level messages in declaration order,
// each further one the messages nested in the previous one
// (protoreflect's order, which includes map entry and group types, as
// Confluent's serializers count). No indexes or [0] mean the first
// message. Schema.MessageIndexes and Schema.MessageByIndexes convert
// between a full name and indexes for serializers.
//
// # Compatibility
//
// Check(reader, writer) reports what keeps reader from reading data
// written with writer, on the binary wire format, after Confluent's
// documented Protobuf rules and buf's WIRE breaking rules. Messages and
// enums are matched by full name relative to their file's package;
// message types that matched fields refer to are compared too, once
// each. Every incompatibility is reported. Path is "#/<full name>" for a
// message or enum, "#/<message>/<field>=<number>" for a field (the
// reader's, or the writer's when the reader has none), with "/key" or
// "/value" for a map's key or value, "#/<message>/<oneof>" for a oneof,
// "#/<enum>/<CONST>=<number>" for an enum constant and "#/package".
//
// Incompatible:
//
//   - PACKAGE_CHANGED: the packages differ (reported once; messages are
//     still compared by their names in the package).
//   - MESSAGE_REMOVED: a message of the writer's file (nested ones
//     included, map entries excluded) is missing from the reader.
//   - FIELD_KIND_CHANGED: a field (same number) changed between scalar,
//     enum, message, group and map.
//   - FIELD_SCALAR_KIND_CHANGED: the scalar type changed outside the
//     wire-compatible groups {int32, uint32, int64, uint64, bool},
//     {sint32, sint64}, {fixed32, sfixed32}, {fixed64, sfixed64},
//     {string, bytes}.
//   - FIELD_NAMED_TYPE_CHANGED: a message or enum field refers to another
//     type name.
//   - FIELD_NUMERIC_LABEL_CHANGED, FIELD_STRING_OR_BYTES_LABEL_CHANGED,
//     FIELD_MESSAGE_LABEL_CHANGED: the writer's field is repeated and the
//     reader's singular (packed numbers and enums are lost, strings and
//     bytes keep only the last, messages merge). Singular to repeated is
//     compatible: a repeated reader accepts one unpacked element.
//   - REQUIRED_FIELD_ADDED: the reader requires a field the writer lacks
//     or has optional. REQUIRED_FIELD_REMOVED: the writer's required field
//     is optional or missing in the reader ("required is forever", as
//     protobuf's guide and Confluent have it).
//   - ONEOF_FIELD_REMOVED: a writer's oneof member is outside that oneof in
//     the reader, or missing, while the reader still has the oneof. (A
//     oneof the reader dissolved altogether is compatible.)
//   - FIELD_MOVED_TO_EXISTING_ONEOF: a field joined a oneof the writer
//     already had.
//   - MULTIPLE_FIELDS_MOVED_TO_ONEOF: a oneof the writer did not have
//     gathers two or more of the writer's plain fields (one alone is
//     compatible).
//   - ENUM_CONST_REMOVED: the writer's enum has a number the reader's
//     enum neither declares nor reserves.
//
// Compatible (not reported): messages the reader adds, enums either side
// adds or removes (what matters of them is checked through the fields
// that use them), adding fields, removing (optional) fields (the
// reader skips unknown fields), renaming fields or enum constants (the
// wire carries numbers), ENUM_CONST_ADDED (the writer never wrote the new
// constant), removing an enum constant that the reader reserves, changing
// syntax between proto2 and proto3 (SYNTAX_CHANGED is compatible: the
// wire format is the same and label changes are checked on their own),
// proto3 optional added or removed, and moving a single field into a new
// oneof.
//
// Check reads in one direction; the registry checks both for FULL modes.
// So in BACKWARD (new reads old) a message added by the new schema is
// fine, and in FORWARD (old reads new) it is MESSAGE_REMOVED, because a
// producer may then write it.
package schemaproto
