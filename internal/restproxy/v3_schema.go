package restproxy

import "context"

// encodeSchema encodes a key or value of a schema'd type (AVRO,
// JSONSCHEMA, PROTOBUF) through the schema registry.
func (a *v3) encodeSchema(ctx context.Context, topic string, isKey bool, typ string, d *v3Data) ([]byte, obj, error) {
	return nil, nil, apiErr(400, 400, "schema'd formats are not supported yet")
}
