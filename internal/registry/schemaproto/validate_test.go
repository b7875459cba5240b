package schemaproto

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

const ordersProto = `syntax = "proto2";
package orders;
message Order {
  required string id = 1;
  optional int32 qty = 2;
  map<string, string> tags = 3;
  message Line {
    optional string sku = 1;
    message Detail { optional string text = 1; }
  }
  repeated Line lines = 4;
}
message Refund {
  optional string order_id = 1;
  message Reason { optional string why = 1; }
}
`

// encode builds a message of md with set and marshals it.
func encode(t *testing.T, md protoreflect.MessageDescriptor, set func(m *dynamicpb.Message)) []byte {
	t.Helper()
	m := dynamicpb.NewMessage(md)
	set(m)
	b, err := proto.MarshalOptions{AllowPartial: true}.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func setString(m *dynamicpb.Message, field, v string) {
	m.Set(m.Descriptor().Fields().ByName(protoreflect.Name(field)), protoreflect.ValueOfString(v))
}

func TestValidate(t *testing.T) {
	s := mustParse(t, ordersProto, nil)
	order, _ := s.MessageByIndexes([]int{0})
	refund, _ := s.MessageByIndexes([]int{1})
	reason, _ := s.MessageByIndexes([]int{1, 0})
	good := encode(t, order, func(m *dynamicpb.Message) {
		setString(m, "id", "o-1")
		m.Set(order.Fields().ByName("qty"), protoreflect.ValueOfInt32(3))
		line := m.Mutable(order.Fields().ByName("lines")).List().AppendMutable().Message()
		line.Set(line.Descriptor().Fields().ByName("sku"), protoreflect.ValueOfString("sku-9"))
		m.Mutable(order.Fields().ByName("tags")).Map().Set(protoreflect.ValueOfString("k").MapKey(), protoreflect.ValueOfString("v"))
	})
	noID := encode(t, order, func(m *dynamicpb.Message) { m.Set(order.Fields().ByName("qty"), protoreflect.ValueOfInt32(3)) })
	refundMsg := encode(t, refund, func(m *dynamicpb.Message) { setString(m, "order_id", "o-1") })
	reasonMsg := encode(t, reason, func(m *dynamicpb.Message) { setString(m, "why", "broken") })
	// field 1 (id) announces 10 bytes and has 3.
	truncated := []byte{0x0a, 0x0a, 'a', 'b', 'c'}

	cases := []struct {
		name    string
		payload []byte
		indexes []int
		wantErr string
	}{
		{"order default indexes", good, nil, ""},
		{"order [0]", good, []int{0}, ""},
		{"refund", refundMsg, []int{1}, ""},
		{"nested reason", reasonMsg, []int{1, 0}, ""},
		{"empty refund", nil, []int{1}, ""},
		{"reason as refund is still decodable", reasonMsg, []int{1}, ""},
		{"missing required", noID, nil, "required field orders.Order.id not set"},
		{"truncated", truncated, nil, "orders.Order"},
		{"garbage", []byte{0xff, 0xff, 0xff}, nil, "does not decode"},
		{"no such top-level", good, []int{2}, "the file has no message at index 2"},
		{"no such nested", good, []int{1, 1}, "message orders.Refund has no message at index 1"},
		{"negative", good, []int{-1}, "no message at index -1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := s.Validate(c.payload, c.indexes)
			if c.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("Validate error %v, want it to contain %q", err, c.wantErr)
			}
		})
	}
}

func TestValidateProto3UTF8(t *testing.T) {
	s := mustParse(t, `syntax = "proto3"; message M { string s = 1; }`, nil)
	// field 1, length 2, invalid UTF-8
	if err := s.Validate([]byte{0x0a, 0x02, 0xff, 0xfe}, nil); err == nil {
		t.Fatal("invalid UTF-8 in a proto3 string validated")
	}
	if err := s.Validate([]byte{0x0a, 0x02, 'h', 'i'}, nil); err != nil {
		t.Fatal(err)
	}
}

func TestMessageIndexes(t *testing.T) {
	s := mustParse(t, ordersProto, nil)
	cases := []struct {
		name string
		want []int
	}{
		{"orders.Order", []int{0}},
		{".orders.Order", []int{0}},
		{"orders.Refund", []int{1}},
		// Order's nested messages: TagsEntry (the map entry) is 0.
		{"orders.Order.TagsEntry", []int{0, 0}},
		{"orders.Order.Line", []int{0, 1}},
		{"orders.Order.Line.Detail", []int{0, 1, 0}},
		{"orders.Refund.Reason", []int{1, 0}},
	}
	for _, c := range cases {
		got, err := s.MessageIndexes(c.name)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("MessageIndexes(%q) = %v, %v; want %v", c.name, got, err, c.want)
			continue
		}
		md, err := s.MessageByIndexes(got)
		if err != nil || string(md.FullName()) != strings.TrimPrefix(c.name, ".") {
			t.Errorf("MessageByIndexes(%v) = %v, %v", got, md, err)
		}
	}
	for _, bad := range []string{"orders.Nope", "orders", "orders.Order.id", ""} {
		if _, err := s.MessageIndexes(bad); err == nil {
			t.Errorf("MessageIndexes(%q) succeeded", bad)
		}
	}
}

func TestMessageIndexesSkipDependencies(t *testing.T) {
	s := mustParse(t, `syntax = "proto3"; import "google/protobuf/timestamp.proto"; message M { google.protobuf.Timestamp t = 1; }`, nil)
	if _, err := s.MessageIndexes("google.protobuf.Timestamp"); err == nil {
		t.Fatal("a message of an import got indexes in this schema")
	}
}

// TestMessageIndexesSurviveCanonical checks that a nested message keeps
// its index in the canonical text although map entries are declared
// around it.
func TestMessageIndexesSurviveCanonical(t *testing.T) {
	s := mustParse(t, `syntax = "proto3"; package ix;
message M {
  map<string, int32> a = 1;
  message N { string s = 1; }
  map<string, N> b = 2;
  message O {}
  N n = 3;
}`, nil)
	c := mustParse(t, s.Canonical(), nil)
	for _, name := range []string{"ix.M.N", "ix.M.O", "ix.M.AEntry", "ix.M.BEntry"} {
		want, err := s.MessageIndexes(name)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.MessageIndexes(name)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%s: indexes %v in canonical, %v in source (%v)\n%s", name, got, want, err, s.Canonical())
		}
	}
	if want := []int{0, 1}; !slices.Equal(must(s.MessageIndexes("ix.M.N")), want) {
		t.Errorf("ix.M.N indexes %v, want %v", must(s.MessageIndexes("ix.M.N")), want)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestConcurrentUse exercises one Schema from several goroutines (run
// with -race).
func TestConcurrentUse(t *testing.T) {
	s := mustParse(t, ordersProto, nil)
	payload := []byte{0x0a, 0x01, 'x'}
	done := make(chan error, 8)
	for i := 0; i < 8; i++ {
		go func() {
			var err error
			for j := 0; j < 20 && err == nil; j++ {
				err = s.Validate(payload, nil)
				if inc := New().Check(s, s); len(inc) != 0 {
					err = fmt.Errorf("self-incompatible: %v", inc)
				}
				_, _ = s.MessageIndexes("orders.Order.Line")
				_, _ = s.Format(FormatSerialized)
			}
			done <- err
		}()
	}
	for i := 0; i < 8; i++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
