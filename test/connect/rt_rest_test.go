package connect

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRTRESTEndpoints drives every endpoint of the Connect REST API on a
// node's embedded worker with FileStream connectors and checks Java's
// status codes, error bodies and JSON shapes, including the errors real
// tools meet.
func TestRTRESTEndpoints(t *testing.T) {
	n := rtStartNode(t)
	u := n.URL
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.txt"), filepath.Join(dir, "out.txt")
	if err := os.WriteFile(in, []byte("alpha\nbeta\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	root := rtExpect(t, 200, "GET", u+"/", nil)
	if got := rtKeys(root.Map()); got != "commit,kafka_cluster_id,version" {
		t.Fatalf("GET / keys %s", got)
	}
	if id, _ := root.Map()["kafka_cluster_id"].(string); id == "" {
		t.Fatalf("GET /: no cluster id: %s", root)
	}
	if l := rtExpect(t, 200, "GET", u+"/connectors", nil).List(); l == nil || len(l) != 0 {
		t.Fatal("GET /connectors: want []")
	}

	// Plugins.
	plugins := rtExpect(t, 200, "GET", u+"/connector-plugins", nil)
	if !strings.Contains(string(plugins.Body), `"org.apache.kafka.connect.file.FileStreamSourceConnector"`) {
		t.Fatalf("plugins lack the file source: %s", plugins)
	}
	for _, p := range plugins.List() {
		if m := p.(map[string]any); m["type"] != "source" && m["type"] != "sink" {
			t.Fatalf("connectorsOnly lists %v", m)
		}
	}
	all := rtExpect(t, 200, "GET", u+"/connector-plugins?connectorsOnly=false", nil)
	if !strings.Contains(string(all.Body), `"type":"converter"`) {
		t.Fatalf("connectorsOnly=false lists no converter: %s", all)
	}
	defs := rtExpect(t, 200, "GET", u+"/connector-plugins/FileStreamSource/config", nil).List()
	if len(defs) == 0 || rtKeys(defs[0].(map[string]any)) != "default_value,dependents,display_name,documentation,group,importance,name,order_in_group,required,type,width" {
		t.Fatalf("plugin config: %v", defs)
	}
	rtExpect(t, 404, "GET", u+"/connector-plugins/NoSuchConnector/config", nil)
	v := rtExpect(t, 200, "PUT", u+"/connector-plugins/FileStreamSinkConnector/config/validate",
		map[string]string{"connector.class": "FileStreamSink", "name": "v", "file": out}).Map()
	if ec, _ := v["error_count"].(float64); ec < 1 {
		t.Fatalf("validate without topics: error_count %v", v["error_count"])
	}
	if rtKeys(v) != "configs,error_count,groups,name" {
		t.Fatalf("validate keys %s", rtKeys(v))
	}
	cfg0 := v["configs"].([]any)[0].(map[string]any)
	if rtKeys(cfg0) != "definition,value" || rtKeys(cfg0["value"].(map[string]any)) != "errors,name,recommended_values,value,visible" {
		t.Fatalf("validate config entry %v", cfg0)
	}
	v = rtExpect(t, 200, "PUT", u+"/connector-plugins/FileStreamSourceConnector/config/validate",
		map[string]string{"connector.class": "FileStreamSource", "name": "v", "file": in, "topic": "rt-lines"}).Map()
	if ec, _ := v["error_count"].(float64); ec != 0 {
		t.Fatalf("valid source config: %v", v)
	}
	rtExpect(t, 400, "PUT", u+"/connector-plugins/FileStreamSourceConnector/config/validate",
		map[string]string{"connector.class": "FileStreamSink"})

	// Creating: bad input first.
	rtExpect(t, 400, "POST", u+"/connectors", map[string]any{"name": "src", "config": map[string]string{"file": in, "topic": "rt-lines"}})
	rtExpect(t, 400, "POST", u+"/connectors", `{"name": "src", "config": {`)
	rtExpect(t, 400, "POST", u+"/connectors", map[string]any{"name": "src", "config": map[string]string{"connector.class": "com.example.Nope"}})
	rtExpect(t, 400, "POST", u+"/connectors", map[string]any{"name": "src", "config": map[string]string{"connector.class": "FileStreamSource", "name": "other", "topic": "x"}})
	src := map[string]string{"connector.class": "FileStreamSource", "file": in, "topic": "rt-lines", "tasks.max": "1"}
	created := rtExpect(t, 201, "POST", u+"/connectors", map[string]any{"name": "src", "config": src}).Map()
	if rtKeys(created) != "config,name,tasks,type" || created["type"] != "source" {
		t.Fatalf("create answer %v", created)
	}
	if e := rtExpect(t, 409, "POST", u+"/connectors", map[string]any{"name": "src", "config": src}); !strings.Contains(e.Map()["message"].(string), "already exists") {
		t.Fatalf("duplicate: %s", e)
	}

	// PUT creates (201), then updates (200); PATCH (200).
	sink := map[string]string{"connector.class": "FileStreamSink", "file": out, "topics": "rt-lines"}
	rtExpect(t, 201, "PUT", u+"/connectors/snk/config", sink)
	sink["tasks.max"] = "1"
	rtExpect(t, 200, "PUT", u+"/connectors/snk/config", sink)
	p := rtExpect(t, 200, "PATCH", u+"/connectors/snk/config", map[string]any{"errors.tolerance": "none"}).Map()
	if p["config"].(map[string]any)["errors.tolerance"] != "none" || p["config"].(map[string]any)["file"] != out {
		t.Fatalf("patch answer %v", p)
	}
	rtExpect(t, 404, "PATCH", u+"/connectors/nope/config", map[string]any{"a": "b"})

	// Data flows file → topic → file.
	if got := rtWaitFile(t, out, 2); got[0] != "alpha" || got[1] != "beta" {
		t.Fatalf("sink file %q", got)
	}
	st := rtWaitStates(t, u, "src", "RUNNING", "RUNNING")
	if rtKeys(st) != "connector,name,tasks,type" || rtKeys(st["connector"].(map[string]any)) != "state,version,worker_id" {
		t.Fatalf("status shape %v", st)
	}

	// Reads.
	if c := rtExpect(t, 200, "GET", u+"/connectors/src", nil).Map(); len(c["tasks"].([]any)) != 1 {
		t.Fatalf("info %v", c)
	}
	if c := rtExpect(t, 200, "GET", u+"/connectors/src/config", nil).Map(); c["name"] != "src" || c["topic"] != "rt-lines" {
		t.Fatalf("config %v", c)
	}
	tasks := rtExpect(t, 200, "GET", u+"/connectors/src/tasks", nil).List()
	if len(tasks) != 1 || rtKeys(tasks[0].(map[string]any)) != "config,id" {
		t.Fatalf("tasks %v", tasks)
	}
	rtExpect(t, 404, "GET", u+"/connectors/src/tasks-config", nil) // removed in Kafka 4.0
	if ts := rtExpect(t, 200, "GET", u+"/connectors/src/tasks/0/status", nil).Map(); ts["state"] != "RUNNING" || ts["id"] != 0.0 {
		t.Fatalf("task status %v", ts)
	}
	rtExpect(t, 404, "GET", u+"/connectors/src/tasks/7/status", nil)
	topics := rtExpect(t, 200, "GET", u+"/connectors/src/topics", nil).Map()
	if ts := topics["src"].(map[string]any)["topics"].([]any); len(ts) != 1 || ts[0] != "rt-lines" {
		t.Fatalf("topics %v", topics)
	}
	rtExpect(t, 202, "PUT", u+"/connectors/src/topics/reset", nil)
	ex := rtExpect(t, 200, "GET", u+"/connectors?expand=status&expand=info", nil).Map()
	if rtKeys(ex) != "snk,src" || rtKeys(ex["src"].(map[string]any)) != "info,status" {
		t.Fatalf("expand %v", ex)
	}

	// Unknown connector: 404 everywhere.
	for _, r := range [][2]string{{"GET", "/connectors/nope"}, {"GET", "/connectors/nope/config"}, {"GET", "/connectors/nope/status"},
		{"GET", "/connectors/nope/tasks"}, {"PUT", "/connectors/nope/pause"}, {"PUT", "/connectors/nope/resume"},
		{"PUT", "/connectors/nope/stop"}, {"POST", "/connectors/nope/restart"}, {"POST", "/connectors/nope/tasks/0/restart"},
		{"GET", "/connectors/nope/offsets"}, {"DELETE", "/connectors/nope"}} {
		rtExpect(t, 404, r[0], u+r[1], nil)
	}

	// Offsets only change while STOPPED.
	rtExpect(t, 400, "PATCH", u+"/connectors/src/offsets", map[string]any{"offsets": []any{map[string]any{"partition": map[string]any{"filename": in}, "offset": map[string]any{"position": 0}}}})
	rtExpect(t, 400, "DELETE", u+"/connectors/src/offsets", nil)

	// Restarts.
	rtExpect(t, 204, "POST", u+"/connectors/src/restart", nil)
	rs := rtExpect(t, 202, "POST", u+"/connectors/src/restart?includeTasks=true&onlyFailed=false", nil).Map()
	if rtKeys(rs) != "connector,name,tasks,type" {
		t.Fatalf("restart status %v", rs)
	}
	rtExpect(t, 204, "POST", u+"/connectors/src/tasks/0/restart", nil)
	rtExpect(t, 404, "POST", u+"/connectors/src/tasks/5/restart", nil)
	rtWaitStates(t, u, "src", "RUNNING", "RUNNING")

	// Loggers.
	lg := rtExpect(t, 200, "GET", u+"/admin/loggers/", nil).Map()
	if lg["root"] == nil {
		t.Fatalf("loggers %v", lg)
	}
	rtExpect(t, 204, "PUT", u+"/admin/loggers/root?scope=cluster", map[string]string{"level": "INFO"})
	if l := rtExpect(t, 200, "PUT", u+"/admin/loggers/org.apache.kafka.connect", map[string]string{"level": "DEBUG"}).List(); len(l) == 0 {
		t.Fatal("set logger: no loggers changed")
	}
	rtExpect(t, 200, "GET", u+"/admin/loggers/org.apache.kafka.connect", nil)
	rtExpect(t, 404, "PUT", u+"/admin/loggers/root", map[string]string{"level": "LOUD"})
	rtExpect(t, 400, "PUT", u+"/admin/loggers/root", map[string]string{})

	// Delete: 204, then the status is gone.
	rtExpect(t, 204, "DELETE", u+"/connectors/snk", nil)
	rtExpect(t, 404, "GET", u+"/connectors/snk/status", nil)
	rtExpect(t, 404, "GET", u+"/no/such/path", nil)
	rtExpect(t, 405, "DELETE", u+"/connector-plugins", nil)
}

// TestRTStatesAndOffsets pauses, resumes and stops a source, and changes
// its offsets while stopped: the source then re-reads its file.
func TestRTStatesAndOffsets(t *testing.T) {
	n := rtStartNode(t)
	u := n.URL
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.txt"), filepath.Join(dir, "out.txt")
	if err := os.WriteFile(in, []byte("one\ntwo\nthree\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rtExpect(t, 201, "POST", u+"/connectors", map[string]any{"name": "s", "config": map[string]string{
		"connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector", "file": in, "topic": "rt-states"}})
	rtExpect(t, 201, "POST", u+"/connectors", map[string]any{"name": "k", "config": map[string]string{
		"connector.class": "FileStreamSink", "file": out, "topics": "rt-states"}})
	rtWaitFile(t, out, 3)
	rtWaitStates(t, u, "s", "RUNNING", "RUNNING")

	rtExpect(t, 202, "PUT", u+"/connectors/s/pause", nil)
	rtWaitStates(t, u, "s", "PAUSED", "PAUSED")
	rtExpect(t, 202, "PUT", u+"/connectors/s/pause", nil) // idempotent
	rtExpect(t, 202, "PUT", u+"/connectors/s/resume", nil)
	rtWaitStates(t, u, "s", "RUNNING", "RUNNING")

	rtExpect(t, 204, "PUT", u+"/connectors/s/stop", nil)
	rtWaitStates(t, u, "s", "STOPPED", "")
	if ts := rtExpect(t, 200, "GET", u+"/connectors/s/tasks", nil).List(); len(ts) != 0 {
		t.Fatalf("stopped connector has tasks %v", ts)
	}
	offs := rtExpect(t, 200, "GET", u+"/connectors/s/offsets", nil).Map()
	entries, _ := offs["offsets"].([]any)
	if len(entries) != 1 || rtKeys(entries[0].(map[string]any)) != "offset,partition" {
		t.Fatalf("source offsets %v", offs)
	}
	// Rewind to the start: the three lines come again.
	part := entries[0].(map[string]any)["partition"]
	m := rtExpect(t, 200, "PATCH", u+"/connectors/s/offsets", map[string]any{"offsets": []any{
		map[string]any{"partition": part, "offset": map[string]any{"position": 0}}}}).Map()
	if msg, _ := m["message"].(string); !strings.Contains(msg, "altered successfully") {
		t.Fatalf("alter answer %v", m)
	}
	rtExpect(t, 400, "PATCH", u+"/connectors/s/offsets", map[string]any{"offsets": []any{}})
	rtExpect(t, 202, "PUT", u+"/connectors/s/resume", nil)
	rtWaitStates(t, u, "s", "RUNNING", "RUNNING")
	if got := rtWaitFile(t, out, 6); got[3] != "one" {
		t.Fatalf("after rewinding: %q", got)
	}

	rtExpect(t, 204, "PUT", u+"/connectors/s/stop", nil)
	rtWaitStates(t, u, "s", "STOPPED", "")
	if m := rtExpect(t, 200, "DELETE", u+"/connectors/s/offsets", nil).Map(); !strings.Contains(m["message"].(string), "reset successfully") {
		t.Fatalf("reset answer %v", m)
	}
	if offs := rtExpect(t, 200, "GET", u+"/connectors/s/offsets", nil).Map(); len(offs["offsets"].([]any)) != 0 {
		t.Fatalf("offsets after reset %v", offs)
	}

	// A connector created STOPPED or PAUSED starts so.
	rtExpect(t, 201, "POST", u+"/connectors", map[string]any{"name": "s2", "initial_state": "STOPPED", "config": map[string]string{
		"connector.class": "FileStreamSource", "file": in, "topic": "rt-states2"}})
	rtWaitStates(t, u, "s2", "STOPPED", "")
	rtExpect(t, 201, "POST", u+"/connectors", map[string]any{"name": "s3", "initial_state": "PAUSED", "config": map[string]string{
		"connector.class": "FileStreamSource", "file": in, "topic": "rt-states3"}})
	rtWaitStates(t, u, "s3", "PAUSED", "")
	rtExpect(t, 400, "POST", u+"/connectors", map[string]any{"name": "s4", "initial_state": "SLEEPING", "config": map[string]string{
		"connector.class": "FileStreamSource", "file": in, "topic": "x"}})
}
