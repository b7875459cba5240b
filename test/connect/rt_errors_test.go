package connect

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestRTTaskFailure: a task that fails (a sink whose file is a
// directory; a sink that cannot convert what it reads) turns FAILED with a
// trace, the worker keeps serving, and a restart of only the failed tasks
// answers 202 with them RESTARTING.
func TestRTTaskFailure(t *testing.T) {
	n := rtStartNode(t)
	u := n.URL
	dir := t.TempDir()
	rtExpect(t, 201, "POST", u+"/connectors", map[string]any{"name": "dirsink", "config": map[string]string{
		"connector.class": "FileStreamSink", "file": dir, "topics": "rt-fail"}})
	st := rtWaitStates(t, u, "dirsink", "RUNNING", "FAILED")
	task := st["tasks"].([]any)[0].(map[string]any)
	if tr, _ := task["trace"].(string); tr == "" {
		t.Fatalf("FAILED task without a trace: %v", st)
	}
	rs := rtExpect(t, 202, "POST", u+"/connectors/dirsink/restart?includeTasks=true&onlyFailed=true", nil).Map()
	if got := rtTaskStates(rs); len(got) != 1 || got[0] != "RESTARTING" || rtConnState(rs) != "RUNNING" {
		t.Fatalf("restart of failed tasks: %v", rs)
	}
	rtWaitStates(t, u, "dirsink", "RUNNING", "FAILED")

	// Records the value converter cannot read fail the task.
	cl, err := kgo.NewClient(kgo.SeedBrokers(n.Bootstrap), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "rt-bad", Value: []byte("not json")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	rtExpect(t, 201, "POST", u+"/connectors", map[string]any{"name": "jsonsink", "config": map[string]string{
		"connector.class": "FileStreamSink", "file": filepath.Join(dir, "json.txt"), "topics": "rt-bad",
		"value.converter": "org.apache.kafka.connect.json.JsonConverter"}})
	st = rtWaitStates(t, u, "jsonsink", "RUNNING", "FAILED")
	if tr, _ := st["tasks"].([]any)[0].(map[string]any)["trace"].(string); !strings.Contains(tr, "Tolerance exceeded") {
		t.Fatalf("trace %q", tr)
	}
	rtExpect(t, 200, "GET", u+"/", nil)
}

// TestRTDeadLetterQueue: with errors.tolerance=all, a record the
// converter rejects goes to the dead-letter topic with Java's
// __connect.errors.* headers, and the good records reach the sink.
func TestRTDeadLetterQueue(t *testing.T) {
	n := rtStartNode(t)
	u := n.URL
	out := filepath.Join(t.TempDir(), "out.txt")
	cl, err := kgo.NewClient(kgo.SeedBrokers(n.Bootstrap), kgo.AllowAutoTopicCreation(),
		kgo.ConsumeTopics("rt-dlq"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, v := range []string{`{"schema":{"type":"string","optional":false},"payload":"good1"}`, "bad", `{"schema":{"type":"string","optional":false},"payload":"good2"}`} {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "rt-dlq-in", Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	rtExpect(t, 201, "POST", u+"/connectors", map[string]any{"name": "tolerant", "config": map[string]string{
		"connector.class": "FileStreamSink", "file": out, "topics": "rt-dlq-in",
		"value.converter": "org.apache.kafka.connect.json.JsonConverter", "errors.tolerance": "all",
		"errors.deadletterqueue.topic.name": "rt-dlq", "errors.deadletterqueue.topic.replication.factor": "1",
		"errors.deadletterqueue.context.headers.enable": "true"}})
	if got := rtWaitFile(t, out, 2); got[0] != "good1" || got[1] != "good2" {
		t.Fatalf("sink file %q", got)
	}
	rtWaitStates(t, u, "tolerant", "RUNNING", "RUNNING")
	var rec *kgo.Record
	for rec == nil && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) { rec = r })
	}
	if rec == nil || string(rec.Value) != "bad" {
		t.Fatalf("dead-letter record %v", rec)
	}
	h := map[string]string{}
	for _, x := range rec.Headers {
		h[x.Key] = string(x.Value)
	}
	for k, want := range map[string]string{"__connect.errors.topic": "rt-dlq-in", "__connect.errors.partition": "0",
		"__connect.errors.offset": "1", "__connect.errors.connector.name": "tolerant", "__connect.errors.task.id": "0",
		"__connect.errors.stage": "VALUE_CONVERTER"} {
		if h[k] != want {
			t.Fatalf("header %s = %q, want %q (all: %v)", k, h[k], want, h)
		}
	}
	if h["__connect.errors.exception.message"] == "" || h["__connect.errors.exception.class.name"] == "" {
		t.Fatalf("no exception headers: %v", h)
	}
}
