package clustertest

import (
	"context"
	"os"
	"testing"
	"time"
)

func TestNodeLifecycle(t *testing.T) {
	n := Start(t, Options{})
	if n.DataDir == "" || n.Addr == "" {
		t.Fatalf("node has no address or data dir: %+v", n)
	}
	if _, err := os.Stat(n.DataDir); err != nil {
		t.Fatalf("data dir: %v", err)
	}
	ping := func(what string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		cl := n.Client(t)
		if err := cl.Ping(ctx); err != nil {
			t.Fatalf("%s: ping %s: %v", what, n.Addr, err)
		}
		cl.Close()
	}
	ping("after start")

	addr := n.Addr
	n.Kill()
	if n.Running() {
		t.Fatal("node still running after Kill")
	}
	if err := probe(context.Background(), addr); err == nil {
		t.Fatal("killed node still answers ApiVersions")
	}
	n.Restart(t)
	if n.Addr != addr {
		t.Fatalf("restart moved the node from %s to %s", addr, n.Addr)
	}
	ping("after kill and restart")

	n.Stop()
	if n.Running() {
		t.Fatal("node still running after Stop")
	}
	n.Restart(t)
	ping("after stop and restart")

	// Restart on a running node stops it cleanly first.
	n.Restart(t)
	ping("after restart of a running node")
}

func TestStartWithGivenDataDir(t *testing.T) {
	dir := t.TempDir()
	n := Start(t, Options{DataDir: dir})
	if n.DataDir != dir {
		t.Fatalf("DataDir = %q, want %q", n.DataDir, dir)
	}
	if err := probe(context.Background(), n.Addr); err != nil {
		t.Fatalf("probe: %v", err)
	}
}
