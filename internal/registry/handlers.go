package registry

import (
	"github.com/samsa-streaming/samsa/internal/registry/schema"
	"github.com/samsa-streaming/samsa/internal/registry/schemaavro"
	"github.com/samsa-streaming/samsa/internal/registry/schemajson"
	"github.com/samsa-streaming/samsa/internal/registry/schemaproto"
)

// DefaultHandlers are the schema types a registry serves by default:
// Avro, Protobuf and JSON Schema.
func DefaultHandlers() []schema.Handler {
	return []schema.Handler{schemaavro.New(), schemaproto.New(), schemajson.New()}
}
