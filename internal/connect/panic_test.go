package connect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	pub "github.com/samsa-streaming/samsa/connect"
	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// A test-only source whose task panics in Poll, and whose connector
// panics in Start when asked to.
type panicSource struct{}

func (panicSource) Version() string         { return "1" }
func (panicSource) Config() *pub.ConfigDef  { return pub.NewConfigDef() }
func (panicSource) Stop() error             { return nil }
func (panicSource) NewTask() pub.SourceTask { return &panicTask{} }
func (panicSource) TaskConfigs(max int) ([]map[string]string, error) {
	return []map[string]string{{}}, nil
}

func (panicSource) Start(_ pub.ConnectorContext, props map[string]string) error {
	if props["panic.in.start"] == "true" {
		panic("connector start exploded")
	}
	return nil
}

type panicTask struct{}

func (*panicTask) Version() string                                      { return "1" }
func (*panicTask) Start(pub.SourceTaskContext, map[string]string) error { return nil }
func (*panicTask) Stop() error                                          { return nil }
func (*panicTask) Poll(context.Context) ([]*pub.Record, error)          { panic("poll exploded") }

// passConverter and passHeaders are the smallest converters.
type passConverter struct{}

func (passConverter) Configure(map[string]string, bool) error { return nil }
func (passConverter) FromConnect(_ string, _ []pub.Header, _ *pub.Schema, v any) ([]byte, error) {
	return []byte(fmt.Sprint(v)), nil
}
func (passConverter) ToConnect(_ string, _ []pub.Header, b []byte) (*pub.Schema, any, error) {
	return nil, string(b), nil
}

type passHeaders struct{}

func (passHeaders) Configure(map[string]string) error { return nil }
func (passHeaders) FromConnectHeader(_, _ string, _ *pub.Schema, v any) ([]byte, error) {
	return []byte(fmt.Sprint(v)), nil
}
func (passHeaders) ToConnectHeader(_, _ string, b []byte) (*pub.Schema, any, error) {
	return nil, string(b), nil
}

func testRegistry(t *testing.T) *pub.Registry {
	reg := pub.NewRegistry()
	for _, p := range []pub.Plugin{
		{Class: "test.PanicSource", Kind: pub.KindSource, New: func() any { return panicSource{} }},
		{Class: "test.Pass", Kind: pub.KindConverter, New: func() any { return passConverter{} }},
		{Class: "test.PassHeaders", Kind: pub.KindHeaderConverter, New: func() any { return passHeaders{} }},
	} {
		if err := reg.Register(p); err != nil {
			t.Fatal(err)
		}
	}
	return reg
}

// TestPanicsFailNotKill: a connector that panics in Start and a task
// that panics in Poll are FAILED with the panic in their trace; the
// worker keeps answering.
func TestPanicsFailNotKill(t *testing.T) {
	n := clustertest.Start(t, clustertest.Options{Args: []string{"--admin-listen", "none", "--registry-listen", "none", "--rest-listen", "none"}})
	srv, err := New(Config{Listen: "127.0.0.1:0", Brokers: []string{n.Addr}, Standalone: true, Plugins: testRegistry(t),
		Props:  map[string]string{"key.converter": "test.Pass", "value.converter": "test.Pass", "header.converter": "test.PassHeaders"},
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if err := srv.AddConnector(map[string]string{"name": "p", "connector.class": "test.PanicSource"}); err != nil {
		t.Fatal(err)
	}
	if err := srv.AddConnector(map[string]string{"name": "q", "connector.class": "test.PanicSource", "panic.in.start": "true"}); err != nil {
		t.Fatal(err)
	}
	waitTrace(t, srv.URL()+"/connectors/p/tasks/0/status", "poll exploded")
	waitTrace(t, srv.URL()+"/connectors/q/status", "connector start exploded")
	resp, err := http.Get(srv.URL() + "/")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("worker no longer answers: %v %v", err, resp)
	}
	resp.Body.Close()
}

// waitTrace waits until a status (task, or a connector's "connector")
// is FAILED with a trace containing want.
func waitTrace(t *testing.T, url, want string) {
	t.Helper()
	var last string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		last = string(b)
		var m map[string]any
		if json.Unmarshal(b, &m) != nil {
			continue
		}
		if c, ok := m["connector"].(map[string]any); ok {
			m = c
		}
		if tr, _ := m["trace"].(string); m["state"] == "FAILED" && strings.Contains(tr, want) {
			return
		}
	}
	t.Fatal(errors.New(url + ": never FAILED with " + want + ": " + last))
}
