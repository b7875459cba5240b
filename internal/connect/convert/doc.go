// Package convert holds Samsa Connect's converters, registered under the
// Java class names Kafka Connect and Confluent use so that worker and
// connector properties (key.converter, value.converter, header.converter)
// carry over unchanged:
//
//   - org.apache.kafka.connect.storage.StringConverter (converter.encoding),
//   - org.apache.kafka.connect.converters.ByteArrayConverter,
//   - org.apache.kafka.connect.converters.{Boolean,Short,Integer,Long,Float,Double}Converter
//     (Kafka's big-endian primitive serializers),
//   - org.apache.kafka.connect.json.JsonConverter: JSON with or without the
//     {"schema":…,"payload":…} envelope (schemas.enable), byte for byte as
//     Java's Jackson writes it (member order, Java's number formatting,
//     base64 bytes, decimal.format BASE64/NUMERIC, maps with non-string
//     keys as arrays of [key,value] pairs, replace.null.with.default),
//   - org.apache.kafka.connect.storage.SimpleHeaderConverter (Kafka's
//     Values text form),
//   - io.confluent.connect.avro.AvroConverter,
//     io.confluent.connect.json.JsonSchemaConverter and
//     io.confluent.connect.protobuf.ProtobufConverter: the Confluent wire
//     format (serde/wire: magic byte, schema id, Protobuf message indexes)
//     with schemas registered in and fetched from a schema registry through
//     franz-go's pkg/sr (schema.registry.url, basic.auth.*,
//     auto.register.schemas, use.latest.version, subject name strategies).
//
// Java's JsonConverter and StringConverter are also header converters; Go
// cannot give one type both Configure methods, so AsHeaderConverter adapts
// any Converter for header use (the runtime calls it when a header.converter
// names a plain converter).
//
// Concurrency: a configured converter is safe for concurrent use; the
// registry converters share a schema cache guarded by a mutex and bounded
// in size. Decoders never panic on malformed bytes: they return a
// *DataException, Java's DataException message included.
package convert
