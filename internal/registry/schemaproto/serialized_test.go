package schemaproto

import (
	"encoding/base64"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"

	"github.com/samsa-streaming/samsa/internal/registry/schema"
)

// A schema given as the base64 of a serialized FileDescriptorProto (what
// confluent-kafka's Python ProtobufSerializer registers) parses to the same
// schema as its text, and its imports resolve from the references.
func TestParseSerializedDescriptor(t *testing.T) {
	deps := []schema.Dep{{Name: "money.proto", Schema: `syntax = "proto3"; package shop; message Money { int64 units = 1; }`}}
	text := `syntax = "proto3";
package shop;
import "money.proto";
import "google/protobuf/timestamp.proto";
message Order { Money total = 1; google.protobuf.Timestamp at = 2; repeated string tags = 3; }
`
	fromText := mustParse(t, text, deps)
	b, err := proto.Marshal(protodesc.ToFileDescriptorProto(fromText.file))
	if err != nil {
		t.Fatal(err)
	}
	fromDesc := mustParse(t, base64.StdEncoding.EncodeToString(b), deps)
	if fromDesc.Canonical() != fromText.Canonical() {
		t.Errorf("canonical from the descriptor:\n%s\nfrom the text:\n%s", fromDesc.Canonical(), fromText.Canonical())
	}
	if _, err := New().Parse(base64.StdEncoding.EncodeToString(b), nil); err == nil || !strings.Contains(err.Error(), "money.proto") {
		t.Errorf("descriptor without its reference: %v, want an error naming money.proto", err)
	}
	// Text that is neither keeps the text's error.
	if _, err := New().Parse("bWVzc2FnZQ", nil); err == nil || !strings.Contains(err.Error(), "schema.proto") {
		t.Errorf("bad input: %v", err)
	}
}
