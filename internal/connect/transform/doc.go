// Package transform holds Samsa Connect's single message transformations
// and predicates, registered under Kafka Connect's class names
// (org.apache.kafka.connect.transforms.InsertField$Value, …,
// org.apache.kafka.connect.transforms.predicates.TopicNameMatches) with
// Kafka's configuration names, defaults and error messages, and the chain
// that a connector's "transforms" / "predicates" properties describe.
//
// Each transformation handles schemaless records (maps with string keys,
// as the JSON converter without schemas produces) and records with
// schemas (*connect.Struct), as its Java counterpart does. Key and value
// variants share one implementation parameterized by which side of the
// record it operates on. Nested field paths (field.syntax.version=V2) are
// not supported: field names are plain top-level names (V1, the default).
//
// Concurrency: a configured transformation, predicate or Chain is used by
// one task goroutine at a time; schema caches are bounded per instance.
package transform
