package convert

import "github.com/samsa-streaming/samsa/connect"

// registryPlugins are the Confluent converters.
func registryPlugins() []connect.Plugin {
	return []connect.Plugin{
		{Class: "io.confluent.connect.avro.AvroConverter", Kind: connect.KindConverter, Version: confluentVersion,
			New: func() any { return &AvroConverter{} }, Config: AvroConfigDef},
		{Class: "io.confluent.connect.json.JsonSchemaConverter", Kind: connect.KindConverter, Version: confluentVersion,
			New: func() any { return &JSONSchemaConverter{} }, Config: RegistryConfigDef},
		{Class: "io.confluent.connect.protobuf.ProtobufConverter", Kind: connect.KindConverter, Version: confluentVersion,
			New: func() any { return &ProtobufConverter{} }, Config: RegistryConfigDef},
	}
}
