package postgres

import (
	"testing"

	"github.com/samsa-streaming/samsa/connect"
)

func TestRegister(t *testing.T) {
	r := connect.NewRegistry()
	if err := Register(r); err != nil {
		t.Fatal(err)
	}
	for name, kind := range map[string]connect.Kind{
		SinkClass: connect.KindSink, "PostgresSink": connect.KindSink,
		SourceClass: connect.KindSource, "PostgresSource": connect.KindSource,
		CdcClass: connect.KindSource, "PostgresCdcSource": connect.KindSource,
		DebeziumClass: connect.KindSource, "PostgresConnector": connect.KindSource,
	} {
		p, ok := r.Lookup(name)
		if !ok || p.Kind != kind || p.Config() == nil {
			t.Fatalf("Lookup(%s) = %+v, %v", name, p, ok)
		}
		switch p.New().(type) {
		case connect.SinkConnector:
			if kind != connect.KindSink {
				t.Fatalf("%s: a sink registered as %s", name, kind)
			}
		case connect.SourceConnector:
			if kind != connect.KindSource {
				t.Fatalf("%s: a source registered as %s", name, kind)
			}
		default:
			t.Fatalf("%s: New returned %T", name, p.New())
		}
	}
	if err := Register(r); err == nil {
		t.Fatal("registering twice succeeded")
	}
	// Debezium's required settings are reported by validation
	vals := CdcConfigDef().Validate(map[string]string{"database.hostname": "h"})
	missing := 0
	for _, v := range vals {
		if len(v.Errors) > 0 {
			missing++
		}
	}
	if missing != 3 { // database.user, database.dbname, topic.prefix
		t.Fatalf("%d settings with errors, want 3", missing)
	}
}
