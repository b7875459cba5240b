package node

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestAdminEndpoints: /healthz answers while the process is up, /readyz
// once start-up is done and 503 through the shutdown (probed while the
// first closer runs; the admin listener closes last), /metrics serves the
// Go and process collectors, and PUT /admin/loggers/root changes the log
// level at run time.
func TestAdminEndpoints(t *testing.T) {
	cfg := singleConfig(t, t.TempDir())
	cfg.AdminListen = "127.0.0.1:0"
	cfg.LogLevel = new(slog.LevelVar)
	var readyDuringClose = -1
	var n *Node
	cfg.hook = func(event, name string) error {
		if event == "close" && readyDuringClose == -1 && n != nil && n.AdminAddr() != "" {
			readyDuringClose, _ = httpGet(t, "http://"+n.AdminAddr()+"/readyz")
		}
		return nil
	}
	var err error
	if n, err = Start(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	base := "http://" + n.AdminAddr()
	if code, _ := httpGet(t, base+"/healthz"); code != 200 {
		t.Fatalf("/healthz %d", code)
	}
	if code, _ := httpGet(t, base+"/readyz"); code != 200 {
		t.Fatalf("/readyz %d after start-up", code)
	}
	code, body := httpGet(t, base+"/metrics")
	if code != 200 || !strings.Contains(body, "process_open_fds") || !strings.Contains(body, "go_goroutines") {
		t.Fatalf("/metrics %d:\n%.300s", code, body)
	}
	req, _ := http.NewRequest(http.MethodPut, base+"/admin/loggers/root", strings.NewReader(`{"level":"DEBUG"}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || cfg.LogLevel.Level() != slog.LevelDebug {
		t.Fatalf("PUT /admin/loggers/root: %d", resp.StatusCode)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if readyDuringClose != http.StatusServiceUnavailable {
		t.Fatalf("/readyz during shutdown: %d, want 503", readyDuringClose)
	}
}
