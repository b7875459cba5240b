package plugins

import (
	"bufio"
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/samsa-streaming/samsa/connect"
	"github.com/samsa-streaming/samsa/internal/connect/plugins/verifiable"
)

func TestRegisterAll(t *testing.T) {
	r := connect.NewRegistry()
	if err := RegisterWith(r, Options{Stdout: &bytes.Buffer{}}); err != nil {
		t.Fatal(err)
	}
	want := map[string]connect.Kind{
		"org.apache.kafka.connect.file.FileStreamSourceConnector": connect.KindSource,
		"FileStreamSource": connect.KindSource,
		"org.apache.kafka.connect.file.FileStreamSinkConnector": connect.KindSink,
		"FileStreamSink": connect.KindSink,
		"org.apache.kafka.connect.tools.VerifiableSourceConnector": connect.KindSource,
		"VerifiableSourceConnector":                                connect.KindSource,
		"org.apache.kafka.connect.tools.VerifiableSinkConnector":   connect.KindSink,
		"io.samsa.connect.datagen.DataGenSourceConnector":          connect.KindSource,
		"DataGen": connect.KindSource,
		"io.samsa.connect.http.HttpSinkConnector": connect.KindSink,
		"HttpSink": connect.KindSink,
		"io.samsa.connect.jdbc.PostgresSinkConnector":        connect.KindSink,
		"io.samsa.connect.jdbc.PostgresSourceConnector":      connect.KindSource,
		"io.samsa.connect.cdc.PostgresCdcSourceConnector":    connect.KindSource,
		"io.debezium.connector.postgresql.PostgresConnector": connect.KindSource,
	}
	for name, kind := range want {
		p, ok := r.Lookup(name)
		if !ok || p.Kind != kind || p.Version == "" || p.Config == nil || p.Config() == nil {
			t.Fatalf("%s: %+v, %v", name, p, ok)
		}
		c := p.New()
		switch kind {
		case connect.KindSource:
			if _, ok := c.(connect.SourceConnector); !ok {
				t.Fatalf("%s: %T is not a SourceConnector", name, c)
			}
		case connect.KindSink:
			if _, ok := c.(connect.SinkConnector); !ok {
				t.Fatalf("%s: %T is not a SinkConnector", name, c)
			}
		}
	}
	if n := len(r.Plugins(connect.KindSource, connect.KindSink)); n != 10 {
		t.Fatalf("%d connectors, want 10 (6 built in, 4 PostgreSQL)", n)
	}
	p, _ := r.Lookup("FileStreamSource")
	if _, ok := p.New().(connect.ExactlyOnceSourceConnector); !ok {
		t.Fatal("FileStreamSource does not answer exactly-once support")
	}
	if err := Register(r); err == nil {
		t.Fatal("registering twice succeeded")
	}
}

type offsets struct{}

func (offsets) Offset(context.Context, map[string]any) (map[string]any, error) { return nil, nil }

type srcCtx struct{}

func (srcCtx) Offsets() connect.OffsetReader { return offsets{} }
func (srcCtx) Logger() *slog.Logger          { return slog.New(slog.DiscardHandler) }

// Tasks running at once share the output without mixing their lines.
func TestSharedOutputKeepsLines(t *testing.T) {
	var out bytes.Buffer
	r := connect.NewRegistry()
	if err := RegisterWith(r, Options{Stdout: &out}); err != nil {
		t.Fatal(err)
	}
	p, _ := r.Lookup("VerifiableSourceConnector")
	c := p.New().(connect.SourceConnector)
	if err := c.Start(nil, map[string]string{"name": "s", "topic": "t", "throughput": "-1"}); err != nil {
		t.Fatal(err)
	}
	cfgs, _ := c.TaskConfigs(4)
	var wg sync.WaitGroup
	for _, cfg := range cfgs {
		task := c.NewTask()
		if err := task.Start(srcCtx{}, cfg); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				recs, err := task.Poll(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				for _, rec := range recs {
					if err := task.(connect.SourceCommitter).CommitRecord(rec, nil); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	var events []verifiable.Event
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		e, ok := verifiable.ParseEvent(sc.Bytes())
		if !ok {
			t.Fatalf("mixed line %q", sc.Text())
		}
		events = append(events, e)
	}
	if len(events) != 4*5*1000*2 {
		t.Fatalf("%d lines, want %d", len(events), 4*5*1000*2)
	}
	for _, e := range events {
		if e.Name != "s" || e.Topic != "t" {
			t.Fatalf("event %+v", e)
		}
	}
}
