package schemaavro

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hamba/avro/v2"
)

// compatPython finds the Python that has the avro package: env
// SAMSA_COMPAT_PYTHON, else the repository's .cache/venv. Without one the
// test skips, or fails when env CI is set.
func compatPython(t *testing.T) string {
	t.Helper()
	py := os.Getenv("SAMSA_COMPAT_PYTHON")
	if py == "" {
		py = filepath.Join("..", "..", "..", ".cache", "venv", "bin", "python")
	}
	if _, err := exec.LookPath(py); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no python with avro for the Apache compatibility table (%s: %v); set SAMSA_COMPAT_PYTHON", py, err)
		}
		t.Skipf("no python with avro at %s (set SAMSA_COMPAT_PYTHON): %v", py, err)
	}
	return py
}

// TestApacheCompatibilityTable replays every case of Apache Avro's
// avro.test.test_compatibility through Check.
func TestApacheCompatibilityTable(t *testing.T) {
	pairs, err := LoadApachePairs(compatPython(t))
	if err != nil {
		if os.Getenv("CI") == "" {
			t.Skipf("%v (install avro==1.12.2 into the venv)", err)
		}
		t.Fatal(err)
	}
	h := New()
	match := 0
	for i, p := range pairs {
		r, err := h.Parse(p.Reader, nil)
		if err != nil {
			t.Errorf("pair %d (%s): reader %s: %v", i, p.Test, p.Reader, err)
			continue
		}
		w, err := h.Parse(p.Writer, nil)
		if err != nil {
			t.Errorf("pair %d (%s): writer %s: %v", i, p.Test, p.Writer, err)
			continue
		}
		issues := h.Check(r, w)
		if got := len(issues) == 0; got != p.Compatible {
			t.Errorf("pair %d (%s): compatible = %v, want %v\nreader %s\nwriter %s\nissues %v",
				i, p.Test, got, p.Compatible, p.Reader, p.Writer, issues)
			continue
		}
		var paths []string
		for _, is := range issues {
			paths = append(paths, is.Path)
		}
		if r.(*avroSchema).root.kind != kUnion && w.(*avroSchema).root.kind == kUnion {
			// Avro Java 1.12 (AVRO-3612) locates a non-union reader's
			// failure on a writer union's branch by the branch index;
			// the Python checker and its test do not.
			for j, p := range paths {
				paths[j] = dropBranchIndex(p)
			}
		}
		ok := true
		for _, loc := range p.Locations {
			if !slices.Contains(paths, loc) {
				ok = false
				t.Errorf("pair %d (%s): no incompatibility at %s; got %v", i, p.Test, loc, issues)
			}
		}
		if ok {
			match++
		}
		crossCheckHamba(t, i, p)
	}
	t.Logf("Apache Avro compatibility table: %d of %d pairs match (verdict and asserted locations)", match, len(pairs))
}

// crossCheckHamba logs where hamba's compatibility check disagrees with
// Apache's expected verdict (informational: hamba is not the reference).
func crossCheckHamba(t *testing.T, i int, p Pair) {
	t.Helper()
	r, err1 := avro.ParseWithCache(p.Reader, "", &avro.SchemaCache{})
	w, err2 := avro.ParseWithCache(p.Writer, "", &avro.SchemaCache{})
	if err1 != nil || err2 != nil {
		t.Logf("pair %d: hamba cannot parse it: %v %v", i, err1, err2)
		return
	}
	if got := avro.NewSchemaCompatibility().Compatible(r, w) == nil; got != p.Compatible {
		t.Logf("pair %d (%s): hamba says compatible=%v, Apache %v", i, p.Test, got, p.Compatible)
	}
}

// dropBranchIndex removes the leading "/N" (a writer union branch) of p.
func dropBranchIndex(p string) string {
	rest := strings.TrimLeft(strings.TrimPrefix(p, "/"), "0123456789")
	if rest == "" {
		return "/"
	}
	return rest
}
