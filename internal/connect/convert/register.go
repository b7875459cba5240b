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

// headerCapable are the converter classes that Java also implements as
// header converters (Kafka's own; Confluent's registry converters are
// not). GET /connector-plugins lists them under both kinds.
var headerCapable = map[string]bool{
	"org.apache.kafka.connect.json.JsonConverter":            true,
	"org.apache.kafka.connect.storage.StringConverter":       true,
	"org.apache.kafka.connect.converters.ByteArrayConverter": true,
	"org.apache.kafka.connect.converters.BooleanConverter":   true,
	"org.apache.kafka.connect.converters.ShortConverter":     true,
	"org.apache.kafka.connect.converters.IntegerConverter":   true,
	"org.apache.kafka.connect.converters.LongConverter":      true,
	"org.apache.kafka.connect.converters.FloatConverter":     true,
	"org.apache.kafka.connect.converters.DoubleConverter":    true,
	"org.apache.kafka.connect.storage.SimpleHeaderConverter": true,
}

// IsHeaderConverter says whether Java's class named by p also serves as
// a header converter.
func IsHeaderConverter(p *connect.Plugin) bool {
	return p.Kind == connect.KindHeaderConverter || headerCapable[p.Class]
}

// NewHeaderConverter instantiates the header converter a worker's
// header.converter names: a HeaderConverter plugin, or one of Kafka's
// converters adapted with AsHeaderConverter.
func NewHeaderConverter(r *connect.Registry, class string) (connect.HeaderConverter, error) {
	p, ok := r.Lookup(class)
	if !ok || !IsHeaderConverter(p) {
		return nil, fmt.Errorf("convert: Class %s could not be found or is not a HeaderConverter", class)
	}
	switch v := p.New().(type) {
	case connect.HeaderConverter:
		return v, nil
	case connect.Converter:
		return AsHeaderConverter(v), nil
	}
	return nil, fmt.Errorf("convert: %s is not a HeaderConverter", class)
}
