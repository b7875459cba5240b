package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// runSamsa runs the samsa binary and returns its combined output.
func runSamsa(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, clustertest.Binary(t), args...).CombinedOutput()
	return string(out), err
}

func TestUnknownConfigNameWarns(t *testing.T) {
	cfg := "num.partitions=3\nsome.unknown.setting=1\nlog.retention.hours=24\n"
	n := clustertest.Start(t, clustertest.Options{Config: cfg})
	n.Stop()
	log, err := os.ReadFile(n.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(log), "some.unknown.setting") {
		t.Fatalf("no warning naming the unknown setting in:\n%s", log)
	}
}

func TestBadConfigValueRefused(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "server.properties")
	os.WriteFile(p, []byte("num.partitions=lots\n"), 0o644)
	out, err := runSamsa(t, "serve", "--config", p, "--data-dir", filepath.Join(dir, "d"), "--listen", "127.0.0.1:0")
	if err == nil {
		t.Fatal("serve accepted num.partitions=lots")
	}
	if !strings.Contains(out, "num.partitions") || strings.Contains(out, "goroutine") {
		t.Fatalf("want a one-line error naming num.partitions, got:\n%s", out)
	}
}
