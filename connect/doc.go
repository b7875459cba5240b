// Package connect is the public API of Samsa Connect: the data model
// (Schema, Struct, Record) and the interfaces a connector, converter,
// transformation or predicate implements, modelled on Kafka Connect's
// org.apache.kafka.connect.{connector,source,sink,storage,transforms}
// so that a connector's configuration, its records and its offsets look
// the same as under a Java worker.
//
// A plugin is registered in a Registry under its Java class name and its
// aliases (for example "FileStreamSource"); the runtime (internal/connect)
// instantiates a new value per connector or task through Plugin.New.
//
// Writing a connector:
//
//	type mySource struct{ props map[string]string }
//
//	func (c *mySource) Version() string                  { return "1.0" }
//	func (c *mySource) Config() *connect.ConfigDef       { return def }
//	func (c *mySource) Start(ctx connect.ConnectorContext, props map[string]string) error { ... }
//	func (c *mySource) TaskConfigs(max int) ([]map[string]string, error) { ... }
//	func (c *mySource) Stop() error                      { return nil }
//	func (c *mySource) NewTask() connect.SourceTask      { return &myTask{} }
//
//	reg.Register(connect.Plugin{Class: "com.example.MySource", Kind: connect.KindSource,
//		New: func() any { return &mySource{} }})
//
// Example (example_test.go) is a complete source connector driven as the
// runtime drives it; docs/connect-plugins.md describes the contract and
// the built-in connectors (internal/connect/plugins).
//
// Values carried in a Record follow Kafka Connect's schema types:
// INT8..INT64 are int8..int64, FLOAT32/64 float32/float64, BOOLEAN bool,
// STRING string, BYTES []byte, ARRAY []any, MAP map[any]any (or
// map[string]any when every key is a string), STRUCT *Struct. Logical
// types: Decimal is Decimal, Date, Time and Timestamp are time.Time (UTC).
// A schemaless value (nil Schema) uses the same Go types, with maps as
// map[string]any when they come from JSON.
package connect
