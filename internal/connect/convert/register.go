package convert

import (
	"fmt"

	"github.com/samsa-streaming/samsa/connect"
)

// Register adds every converter of this package to r under its Java
// class name (and the short simple name, which Registry.Lookup resolves).
func Register(r *connect.Registry) error {
	num := func(class string, t connect.Type) connect.Plugin {
		return connect.Plugin{Class: class, Kind: connect.KindConverter, Version: kafkaVersion,
			New: func() any { return &NumberConverter{Type: t} }, Config: converterTypeDef}
	}
	plugins := []connect.Plugin{
		{Class: "org.apache.kafka.connect.storage.StringConverter", Kind: connect.KindConverter, Version: kafkaVersion,
			New: func() any { return &StringConverter{} }, Config: StringConfigDef},
		{Class: "org.apache.kafka.connect.converters.ByteArrayConverter", Kind: connect.KindConverter, Version: kafkaVersion,
			New: func() any { return ByteArrayConverter{} }, Config: converterTypeDef},
		{Class: "org.apache.kafka.connect.json.JsonConverter", Kind: connect.KindConverter, Version: kafkaVersion,
			New: func() any { return NewJSONConverter(JSONConfig{}.Defaults()) }, Config: JSONConfigDef},
		{Class: "org.apache.kafka.connect.storage.SimpleHeaderConverter", Kind: connect.KindHeaderConverter, Version: kafkaVersion,
			New: func() any { return SimpleHeaderConverter{} }, Config: connect.NewConfigDef},
		num("org.apache.kafka.connect.converters.BooleanConverter", connect.Boolean),
		num("org.apache.kafka.connect.converters.ShortConverter", connect.Int16),
		num("org.apache.kafka.connect.converters.IntegerConverter", connect.Int32),
		num("org.apache.kafka.connect.converters.LongConverter", connect.Int64),
		num("org.apache.kafka.connect.converters.FloatConverter", connect.Float32),
		num("org.apache.kafka.connect.converters.DoubleConverter", connect.Float64),
	}
	plugins = append(plugins, registryPlugins()...)
	for _, p := range plugins {
		if err := r.Register(p); err != nil {
			return fmt.Errorf("convert: %w", err)
		}
	}
	return nil
}
