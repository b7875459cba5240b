package restproxy

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// schemathesisBin returns the venv's schemathesis (make
// deps-schemathesis, or SAMSA_SCHEMATHESIS) after checking it is 4.32.5.
func schemathesisBin(t testing.TB) string {
	t.Helper()
	clustertest.SkipInShort(t, "runs schemathesis")
	bin := os.Getenv("SAMSA_SCHEMATHESIS")
	if bin == "" {
		bin = filepath.Join(moduleRoot(t), ".cache", "venv", "bin", "schemathesis")
	}
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err == nil && !bytes.Contains(out, []byte("4.32.5")) {
		err = &exec.Error{Name: bin, Err: os.ErrNotExist}
		t.Logf("schemathesis --version: %s", out)
	}
	requireDep(t, "schemathesis 4.32.5", err, "make deps-schemathesis")
	return bin
}

// TestSchemathesis runs `schemathesis run --url <proxy> <proxy>/openapi.json
// --checks all` against `samsa serve` (with test/restproxy/schemathesis.toml,
// which documents the 4xx answers of operations whose valid-looking bodies
// Kafka may still refuse). The acceptance (issue #15): no 500, no answer
// that breaks its schema, no undocumented status code or content type.
// What else it finds (ST201 "schema-violating request accepted" and ST202
// "schema-valid request rejected": the document is looser than the
// proxy's validation) is logged, each with the curl that reproduces it.
// SAMSA_SCHEMATHESIS_EXAMPLES sets --max-examples (default 100, as
// schemathesis's).
func TestSchemathesis(t *testing.T) {
	bin := schemathesisBin(t)
	examples := 100
	if s := os.Getenv("SAMSA_SCHEMATHESIS_EXAMPLES"); s != "" {
		var err error
		if examples, err = strconv.Atoi(s); err != nil || examples <= 0 {
			t.Fatalf("SAMSA_SCHEMATHESIS_EXAMPLES=%q", s)
		}
	}
	n := startRESTNode(t)
	createTopic(t, n.Bootstrap, "st", 2, nil)

	// Run in a scratch directory (schemathesis keeps its cache in the
	// working directory), with the checked-in settings.
	dir := t.TempDir()
	conf := filepath.Join(moduleRoot(t), "test", "restproxy", "schemathesis.toml")
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--config-file", conf, "run", "--url", n.URL, n.URL+"/openapi.json",
		"--checks", "all", "--max-examples", strconv.Itoa(examples), "--seed", "15", "--request-timeout", "30",
		"--no-color")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	text := out.String()
	// Exit status 1 is "failures found"; anything else is a broken run.
	if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() != 1) {
		t.Fatalf("schemathesis: %v\n%s", err, text)
	}
	gen := regexp.MustCompile(`(\d+) generated`).FindStringSubmatch(text)
	if gen == nil || gen[1] == "0" {
		t.Fatalf("schemathesis generated no test cases:\n%s", text)
	}
	t.Logf("schemathesis: %s test cases in %v", gen[1], time.Since(start).Round(time.Second))
	failures := regexp.MustCompile(`(?m)^\s*❌ (ST\d+ )?([^:\n]+): (\d+)\s*$`).FindAllStringSubmatch(text, -1)
	looser := map[string]bool{"Schema-valid request rejected": true, "Schema-violating request accepted": true}
	for _, f := range failures {
		if !looser[f[2]] {
			t.Errorf("schemathesis: %s%s: %s", f[1], f[2], f[3])
		} else {
			t.Logf("schemathesis (the document is looser than the proxy): %s%s: %s", f[1], f[2], f[3])
		}
	}
	for _, bad := range []string{"Server error", "Undocumented HTTP status code", "Response violates schema",
		"Undocumented Content-Type", "Missing Content-Type"} {
		if strings.Contains(text, bad) {
			t.Errorf("schemathesis reports %q", bad)
		}
	}
	if t.Failed() || testing.Verbose() {
		t.Logf("schemathesis output:\n%s", text)
	}
	if !n.Running() {
		t.Fatal("the node died under schemathesis")
	}
}
