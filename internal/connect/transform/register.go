package transform

import (
	"fmt"

	"github.com/samsa-streaming/samsa/connect"
)

// kafkaVersion is the Kafka release whose transformations these follow.
const kafkaVersion = "4.4.0"

const pkg = "org.apache.kafka.connect.transforms."

// Register adds every transformation and predicate to r under Kafka's
// class names.
func Register(r *connect.Registry) error {
	var ps []connect.Plugin
	keyValue := func(name string, cfg func() *connect.ConfigDef, mk func(side) connect.Transformation) {
		for _, v := range []struct {
			suffix string
			s      side
		}{{"$Key", keySide}, {"$Value", valueSide}} {
			s := v.s
			ps = append(ps, connect.Plugin{Class: pkg + name + v.suffix, Kind: connect.KindTransformation, Version: kafkaVersion,
				New: func() any { return mk(s) }, Config: cfg})
		}
	}
	keyValue("InsertField", InsertFieldConfig, func(s side) connect.Transformation { return &InsertField{side: s} })
	keyValue("ReplaceField", ReplaceFieldConfig, func(s side) connect.Transformation { return &ReplaceField{side: s} })
	keyValue("MaskField", MaskFieldConfig, func(s side) connect.Transformation { return &MaskField{side: s} })
	keyValue("ExtractField", ExtractFieldConfig, func(s side) connect.Transformation { return &ExtractField{side: s} })
	keyValue("HoistField", HoistFieldConfig, func(s side) connect.Transformation { return &HoistField{side: s} })
	keyValue("Cast", CastConfig, func(s side) connect.Transformation { return &Cast{side: s} })
	keyValue("SetSchemaMetadata", SetSchemaMetadataConfig, func(s side) connect.Transformation { return &SetSchemaMetadata{side: s} })
	keyValue("TimestampConverter", TimestampConverterConfig, func(s side) connect.Transformation { return &TimestampConverter{side: s} })
	keyValue("Flatten", FlattenConfig, func(s side) connect.Transformation { return &Flatten{side: s} })
	keyValue("HeaderFrom", HeaderFromConfig, func(s side) connect.Transformation { return &HeaderFrom{side: s} })
	single := func(name string, kind connect.Kind, cfg func() *connect.ConfigDef, mk func() any) {
		ps = append(ps, connect.Plugin{Class: name, Kind: kind, Version: kafkaVersion, New: mk, Config: cfg})
	}
	tr := connect.KindTransformation
	single(pkg+"ValueToKey", tr, ValueToKeyConfig, func() any { return &ValueToKey{} })
	single(pkg+"TimestampRouter", tr, TimestampRouterConfig, func() any { return &TimestampRouter{} })
	single(pkg+"RegexRouter", tr, RegexRouterConfig, func() any { return &RegexRouter{} })
	single(pkg+"Filter", tr, connect.NewConfigDef, func() any { return Filter{} })
	single(pkg+"InsertHeader", tr, InsertHeaderConfig, func() any { return &InsertHeader{} })
	single(pkg+"DropHeaders", tr, DropHeadersConfig, func() any { return &DropHeaders{} })
	pr := connect.KindPredicate
	single(pkg+"predicates.TopicNameMatches", pr, TopicNameMatchesConfig, func() any { return &TopicNameMatches{} })
	single(pkg+"predicates.HasHeaderKey", pr, HasHeaderKeyConfig, func() any { return &HasHeaderKey{} })
	single(pkg+"predicates.RecordIsTombstone", pr, connect.NewConfigDef, func() any { return RecordIsTombstone{} })
	for _, p := range ps {
		if err := r.Register(p); err != nil {
			return fmt.Errorf("transform: %w", err)
		}
	}
	return nil
}
