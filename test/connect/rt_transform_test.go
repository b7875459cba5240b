package connect

import (
	"os"
	"path/filepath"
	"testing"
)

// TestRTTransforms: a source's RegexRouter (applied only where its
// TopicNameMatches predicate says) renames the topic, and a sink's
// HoistField$Value wraps each line in a struct.
func TestRTTransforms(t *testing.T) {
	n := rtStartNode(t)
	u := n.URL
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.txt"), filepath.Join(dir, "out.txt")
	if err := os.WriteFile(in, []byte("alpha\nbeta\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rtExpect(t, 201, "POST", u+"/connectors", map[string]any{"name": "src", "config": map[string]string{
		"connector.class": "FileStreamSource", "file": in, "topic": "rt-tr-in",
		"transforms": "route", "transforms.route.type": "org.apache.kafka.connect.transforms.RegexRouter",
		"transforms.route.regex": "rt-tr-(.*)", "transforms.route.replacement": "routed-$1",
		"transforms.route.predicate": "isIn", "predicates": "isIn",
		"predicates.isIn.type":    "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
		"predicates.isIn.pattern": "rt-tr-in"}})
	rtExpect(t, 201, "POST", u+"/connectors", map[string]any{"name": "snk", "config": map[string]string{
		"connector.class": "FileStreamSink", "file": out, "topics": "routed-in",
		"transforms": "hoist", "transforms.hoist.type": "org.apache.kafka.connect.transforms.HoistField$Value",
		"transforms.hoist.field": "line"}})
	if got := rtWaitFile(t, out, 2); got[0] != "Struct{line=alpha}" || got[1] != "Struct{line=beta}" {
		t.Fatalf("sink file %q", got)
	}
	if ts := rtExpect(t, 200, "GET", u+"/connectors/src/topics", nil).Map()["src"].(map[string]any)["topics"].([]any); len(ts) != 1 || ts[0] != "routed-in" {
		t.Fatalf("source topics %v", ts)
	}
	// A transformation that does not exist is a validation error.
	rtExpect(t, 400, "POST", u+"/connectors", map[string]any{"name": "bad", "config": map[string]string{
		"connector.class": "FileStreamSink", "file": out, "topics": "x",
		"transforms": "t", "transforms.t.type": "com.example.NoSuchTransform"}})
}
