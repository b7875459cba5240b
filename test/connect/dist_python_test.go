package connect

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// distPython returns the compat venv's interpreter (make
// deps-kafka-connect-py, or SAMSA_COMPAT_PYTHON) after checking that
// kafka-connect-py 1.0.0 imports.
func distPython(t *testing.T) string {
	t.Helper()
	clustertest.SkipInShort(t, "runs the Python kafka-connect-py driver")
	python := os.Getenv("SAMSA_COMPAT_PYTHON")
	if python == "" {
		python = filepath.Join(javaModuleRoot(t), ".cache", "venv", "bin", "python")
	}
	_, err := os.Stat(python)
	if err == nil {
		var out []byte
		out, err = exec.Command(python, "-c", `import kafka_connect, importlib.metadata as m
v = m.version("kafka-connect-py")
assert v == "1.0.0", v`).CombinedOutput()
		if err != nil {
			err = fmt.Errorf("%v: %s", err, out)
		}
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("kafka-connect-py 1.0.0 unavailable in CI (make deps-kafka-connect-py): %v", err)
		}
		t.Skipf("kafka-connect-py 1.0.0 unavailable (run make deps-kafka-connect-py): %v", err)
	}
	return python
}

// TestDistKafkaConnectPy is issue 16's acceptance item 6: PyPI's
// kafka-connect-py 1.0.0 (a third-party REST client) drives create,
// status, pause, resume and delete against Samsa's worker (embedded in
// `samsa serve`), and every answer it got has Kafka Connect's shape.
func TestDistKafkaConnectPy(t *testing.T) {
	python := distPython(t)
	n := rtStartNode(t)
	script := filepath.Join(javaModuleRoot(t), "test", "connect", "python", "kafka_connect_py.py")
	cmd := exec.Command(python, script, n.URL, "pysrc", "dist-python")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }() // ends with the script
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("kafka_connect_py.py: %v\nstderr:\n%s\nstdout:\n%s", err, stderr.String(), stdout.String())
		}
	case <-time.After(3 * time.Minute):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("kafka_connect_py.py did not finish\nstderr:\n%s\nstdout:\n%s", stderr.String(), stdout.String())
	}
	steps := map[string]any{}
	var order []string
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		var s struct {
			Step   string `json:"step"`
			Result any    `json:"result"`
		}
		if err := json.Unmarshal([]byte(line), &s); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		steps[s.Step] = s.Result
		order = append(order, s.Step)
	}
	want := "info create config status tasks pause resume list status-after-delete list-after-delete"
	if got := strings.Join(order, " "); got != want {
		t.Fatalf("steps %q, want %q\nstderr:\n%s", got, want, stderr.String())
	}
	obj := func(step string) map[string]any {
		m, ok := steps[step].(map[string]any)
		if !ok {
			t.Fatalf("%s: %v is not an object", step, steps[step])
		}
		return m
	}
	if info := obj("info"); rtKeys(info) != "commit,kafka_cluster_id,version" {
		t.Fatalf("GET /: %v", info)
	}
	if c := obj("create"); c["name"] != "pysrc" || rtKeys(c) != "config,name,tasks,type" {
		t.Fatalf("create answered %v", c)
	}
	if c := obj("config"); c["topic"] != "dist-python" || c["tasks.max"] != "2" || c["name"] != "pysrc" {
		t.Fatalf("config %v", c)
	}
	for step, state := range map[string]string{"status": "RUNNING", "pause": "PAUSED", "resume": "RUNNING"} {
		st := obj(step)
		if rtConnState(st) != state || strings.Join(rtTaskStates(st), ",") != state+","+state || st["type"] != "source" {
			t.Fatalf("%s: status %v, want connector and 2 tasks %s", step, st, state)
		}
	}
	if tasks, ok := steps["tasks"].([]any); !ok || len(tasks) != 2 {
		t.Fatalf("tasks %v, want 2", steps["tasks"])
	}
	list := obj("list")
	entry, _ := list["pysrc"].(map[string]any)
	if st, _ := entry["status"].(map[string]any); rtConnState(st) != "RUNNING" {
		t.Fatalf("list?expand=status: %v", list)
	}
	if code, _ := steps["status-after-delete"].(float64); code != 404 {
		t.Fatalf("status after delete: %v, want 404", steps["status-after-delete"])
	}
	if l, ok := steps["list-after-delete"].([]any); !ok || len(l) != 0 {
		t.Fatalf("connectors after delete: %v, want none", steps["list-after-delete"])
	}
}
