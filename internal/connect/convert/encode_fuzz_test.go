package convert

import (
	"testing"

	"github.com/hamba/avro/v2"
	"google.golang.org/protobuf/proto"

	"github.com/samsa-streaming/samsa/connect"
)

// FuzzRegistryEncoders maps arbitrary Connect schemas and values (decoded
// by JsonConverter from fuzzed envelopes) to Avro, JSON Schema and
// Protobuf, encodes them and reads them back, offline: mapping may refuse
// a schema with an error but never panics, and what encodes decodes.
func FuzzRegistryEncoders(f *testing.F) {
	f.Add([]byte(`{"schema":{"type":"struct","name":"a.B","fields":[{"type":"int8","optional":false,"field":"a"},{"type":"map","keys":{"type":"int32"},"values":{"type":"string","optional":true},"optional":true,"field":"m"},{"type":"array","items":{"type":"double"},"optional":false,"field":"l"}]},"payload":{"a":1,"m":[[1,"x"]],"l":[1.5]}}`))
	f.Add([]byte(`{"schema":{"type":"struct","fields":[{"type":"bytes","name":"org.apache.kafka.connect.data.Decimal","parameters":{"scale":"2"},"optional":false,"field":"d"},{"type":"int64","name":"org.apache.kafka.connect.data.Timestamp","optional":true,"field":"t"}]},"payload":{"d":"AJw=","t":5}}`))
	jc := NewJSONConverter(JSONConfig{SchemasEnable: true, ReplaceNullWithDefault: true})
	f.Fuzz(func(t *testing.T, data []byte) {
		s, v, err := jc.ToConnect("t", nil, data)
		if err != nil || s == nil || v == nil {
			return
		}
		if text, _, err := ConnectToAvroSchema(s); err == nil {
			if as, err := avro.ParseWithCache(text, "", &avro.SchemaCache{}); err == nil {
				if gv, err := connectToAvroValue(s, as, v, 0); err == nil {
					if raw, err := avro.Marshal(as, gv); err == nil {
						cs, err := AvroToConnectSchema(as)
						if err != nil {
							t.Fatalf("own Avro schema unreadable: %v\n%s", err, text)
						}
						var out any
						if err := avro.Unmarshal(as, raw, &out); err != nil {
							t.Fatalf("own Avro bytes unreadable: %v", err)
						}
						if _, err := avroValueToConnect(as, cs, out, 0); err != nil {
							t.Fatalf("own Avro value unreadable: %v\n%s", err, text)
						}
					}
				}
			}
		}
		if text, _, err := ConnectToJSONSchema(s); err == nil {
			if _, err := JSONSchemaToConnect([]byte(text)); err != nil {
				t.Fatalf("own JSON schema unreadable: %v\n%s", err, text)
			}
		}
		if text, _, err := ConnectToProtoSchema(s); err == nil {
			fd, err := compileProto(text, nil)
			if err != nil {
				return // names Connect allows but proto does not
			}
			md, _ := messageAt(fd, nil)
			st, ok := v.(*connect.Struct)
			if !ok {
				return
			}
			if msg, err := structToProto(md, st, 0); err == nil {
				if _, err := proto.Marshal(msg); err != nil {
					t.Fatalf("proto marshal: %v", err)
				}
			}
		}
	})
}
