package connect

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// rtPython returns the compat venv's interpreter (make deps-connect-py,
// or SAMSA_COMPAT_PYTHON) after checking kafka-connect-py 1.0.0 imports;
// a missing dependency fails under CI and skips elsewhere, as the other
// compatibility tests do.
func rtPython(t testing.TB) string {
	t.Helper()
	python := os.Getenv("SAMSA_COMPAT_PYTHON")
	if python == "" {
		wd, err := os.Getwd()
		if err != nil {
			t.Fatal(err)
		}
		python = filepath.Join(wd, "..", "..", ".cache", "venv", "bin", "python")
	}
	out, err := exec.Command(python, "-c", `import importlib.metadata as m, kafka_connect
assert m.version("kafka-connect-py") == "1.0.0", m.version("kafka-connect-py")`).CombinedOutput()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("kafka-connect-py 1.0.0 unavailable in CI (make deps-connect-py should have installed it): %v: %s", err, out)
		}
		t.Skipf("kafka-connect-py 1.0.0 unavailable (run make deps-connect-py): %v: %s", err, out)
	}
	return python
}

// TestRTPythonClient: PyPI's kafka-connect-py 1.0.0 creates a connector,
// reads its status, pauses, resumes, restarts and deletes it.
func TestRTPythonClient(t *testing.T) {
	python := rtPython(t)
	n := rtStartNode(t)
	in := filepath.Join(t.TempDir(), "in.txt")
	if err := os.WriteFile(in, []byte("py1\npy2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, filepath.Join("python", "rt_kafka_connect_py.py"), n.URL, in)
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("kafka-connect-py driver: %v\n%s\n%s", err, out, stderr)
	}
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("driver output %q: %v", out, err)
	}
	want := map[string]any{
		"cluster": []any{"commit", "kafka_cluster_id", "version"}, "created": "pysrc",
		"running": "RUNNING", "paused": "PAUSED", "resumed": "RUNNING", "restarted": "RUNNING",
		"listed": []any{"pysrc"}, "topics": []any{"rt-python"}, "after_delete": []any{},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("kafka-connect-py saw\n%v\nwant\n%v", got, want)
	}
}
