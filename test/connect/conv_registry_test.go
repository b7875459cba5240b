package connect

import (
	"context"
	"net"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/samsa-streaming/samsa/connect"
	"github.com/samsa-streaming/samsa/internal/clustertest"
	"github.com/samsa-streaming/samsa/internal/connect/convert"
	"github.com/samsa-streaming/samsa/serde/wire"
)

func convAvro(t *testing.T, props map[string]string, isKey bool) *convert.AvroConverter {
	t.Helper()
	c := &convert.AvroConverter{}
	if err := c.Configure(props, isKey); err != nil {
		t.Fatal(err)
	}
	return c
}

func convUser(fields ...string) (*connect.Schema, *connect.Struct) {
	s := &connect.Schema{Type: connect.StructT, Name: "acme.User"}
	for i, f := range fields {
		s.Fields = append(s.Fields, connect.Field{Name: f, Index: i, Schema: connect.OptionalString})
	}
	st := connect.NewStruct(s)
	st.Values[0] = "v"
	return s, st
}

// TestConvRegistrySubjects covers Confluent's serializer settings with
// the Avro converter against a real registry: TopicNameStrategy for keys
// ("<topic>-key"), RecordNameStrategy and TopicRecordNameStrategy,
// auto.register.schemas=false (lookup only; an unregistered schema is a
// clear error) and use.latest.version (writes with the subject's latest
// schema).
func TestConvRegistrySubjects(t *testing.T) {
	url := convStartRegistry(t)
	cl := convSRClient(t, url)
	ctx := context.Background()
	s, v := convUser("name")
	subjectOf := func(data []byte) string {
		t.Helper()
		id, _, err := wire.ParseHeader(data)
		if err != nil {
			t.Fatal(err)
		}
		subs, err := cl.SubjectsByID(ctx, int(id))
		if err != nil || len(subs) == 0 {
			t.Fatalf("subjects of %d: %v %v", id, subs, err)
		}
		return strings.Join(subs, ",")
	}
	for _, tc := range []struct {
		props   map[string]string
		isKey   bool
		subject string
	}{
		{map[string]string{}, true, "t1-key"},
		{map[string]string{}, false, "t1-value"},
		{map[string]string{"value.subject.name.strategy": convert.RecordNameStrategy}, false, "acme.User"},
		{map[string]string{"key.subject.name.strategy": convert.TopicRecordNameStrategy}, true, "t1-acme.User"},
	} {
		tc.props["schema.registry.url"] = url
		data, err := convAvro(t, tc.props, tc.isKey).FromConnect("t1", nil, s, v)
		if err != nil {
			t.Fatal(err)
		}
		if got := subjectOf(data); !strings.Contains(got, tc.subject) {
			t.Errorf("%v key=%v: subject %s, want %s", tc.props, tc.isKey, got, tc.subject)
		}
	}

	lookup := convAvro(t, map[string]string{"schema.registry.url": url, "auto.register.schemas": "false"}, false)
	if _, err := lookup.FromConnect("t2", nil, s, v); err == nil || !strings.Contains(err.Error(), "error retrieving schema under subject t2-value") {
		t.Fatalf("unregistered lookup: %v", err)
	}
	if _, err := convAvro(t, map[string]string{"schema.registry.url": url}, false).FromConnect("t2", nil, s, v); err != nil {
		t.Fatal(err)
	}
	if _, err := lookup.FromConnect("t2", nil, s, v); err != nil {
		t.Fatalf("registered lookup: %v", err)
	}

	// A newer version with one more optional field: use.latest.version
	// writes with it; reading gives the newer schema with the field null.
	s2, v2 := convUser("name", "email")
	newer, err := convAvro(t, map[string]string{"schema.registry.url": url}, false).FromConnect("t2", nil, s2, v2)
	if err != nil {
		t.Fatal(err)
	}
	latest := convAvro(t, map[string]string{"schema.registry.url": url, "auto.register.schemas": "false", "use.latest.version": "true"}, false)
	data, err := latest.FromConnect("t2", nil, s, v)
	if err != nil {
		t.Fatal(err)
	}
	if string(data[:5]) != string(newer[:5]) {
		t.Fatalf("use.latest.version wrote id %x, latest is %x", data[1:5], newer[1:5])
	}
	rs, rv, err := latest.ToConnect("t2", nil, data)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs.Fields) != 2 || rv.(*connect.Struct).Get("name") != "v" || rv.(*connect.Struct).Get("email") != nil {
		t.Fatalf("read %+v %v", rs.Fields, rv)
	}
	if err := (&convert.AvroConverter{}).Configure(map[string]string{}, false); err == nil ||
		!strings.Contains(err.Error(), `Missing required configuration "schema.registry.url"`) {
		t.Fatalf("no url: %v", err)
	}
}

// TestConvRegistryBasicAuth: with the registry's BASIC authentication on,
// basic.auth.credentials.source=USER_INFO and credentials in the URL both
// authenticate; without credentials the converter fails with a clear
// error.
func TestConvRegistryBasicAuth(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	saslAddr := l.Addr().String()
	l.Close()
	url := convStartRegistryWith(t, clustertest.Options{
		Config: "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer\n" +
			"super.users=User:admin;User:ANONYMOUS\nsasl.enabled.mechanisms=SCRAM-SHA-512\n" +
			"samsa.registry.authentication.method=BASIC\n",
		Listeners: []string{"SASL_PLAINTEXT://" + saslAddr},
		Args:      []string{"--add-scram", "SCRAM-SHA-512=[name=admin,password=admin-secret]"},
	})
	s, v := convUser("name")
	ok := []map[string]string{
		{"schema.registry.url": url, "basic.auth.credentials.source": "USER_INFO", "basic.auth.user.info": "admin:admin-secret"},
		{"schema.registry.url": strings.Replace(url, "http://", "http://admin:admin-secret@", 1)},
	}
	for _, props := range ok {
		c := convAvro(t, props, false)
		data, err := c.FromConnect("secure", nil, s, v)
		if err != nil {
			t.Fatalf("%v: %v", props, err)
		}
		if _, rv, err := c.ToConnect("secure", nil, data); err != nil || rv.(*connect.Struct).Get("name") != "v" {
			t.Fatalf("read back: %v", err)
		}
	}
	anon := convAvro(t, map[string]string{"schema.registry.url": url}, false)
	if _, err := anon.FromConnect("secure2", nil, s, v); err == nil || !strings.Contains(err.Error(), "Failed to serialize data") {
		t.Fatalf("anonymous write: %v", err)
	}
	cl, err := sr.NewClient(sr.URLs(url))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Subjects(context.Background()); err == nil {
		t.Fatal("the registry must refuse anonymous requests in this setup")
	}
}
