package registry

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// node is a running `samsa serve` with its schema registry.
type node struct {
	*clustertest.Node
	URL string // http://host:port of the registry
}

// startNode starts `samsa serve` with the registry on a free loopback port.
func startNode(t *testing.T, args ...string) *node {
	t.Helper()
	n := clustertest.Start(t, clustertest.Options{
		Args: append([]string{"--admin-listen", "none", "--registry-listen", "127.0.0.1:0"}, args...),
	})
	return &node{Node: n, URL: "http://" + registryAddrFromLog(t, n.LogPath, 1)}
}

var registryAddrRE = regexp.MustCompile(`schema registry listening.*addr=([0-9.]+:[0-9]+)`)

// registryAddrFromLog waits for the nth "schema registry listening" line
// of a log and returns its address (the nth start of the process).
func registryAddrFromLog(t *testing.T, path string, nth int) string {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		b, _ := os.ReadFile(path)
		if m := registryAddrRE.FindAllSubmatch(b, -1); len(m) >= nth {
			return string(m[nth-1][1])
		}
	}
	t.Fatalf("no schema registry address in %s", path)
	return ""
}

// waitReady waits until the registry answers GET /subjects with 200.
func waitReady(t *testing.T, url string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get(url + "/subjects")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
	}
	t.Fatalf("registry at %s never became ready", url)
}

// answer is an HTTP answer: status, body and the body decoded.
type answer struct {
	Status int
	Body   []byte
	JSON   any
}

// ErrorCode is the body's error_code, 0 if none.
func (a answer) ErrorCode() int {
	if m, ok := a.JSON.(map[string]any); ok {
		if c, ok := m["error_code"].(float64); ok {
			return int(c)
		}
	}
	return 0
}

// call sends one request, as curl would: method, url, body (sent as
// application/vnd.schemaregistry.v1+json unless contentType says otherwise;
// "-" sends no Content-Type).
func call(t testing.TB, method, url, body string, contentType ...string) answer {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	ct := "application/vnd.schemaregistry.v1+json"
	if len(contentType) > 0 {
		ct = contentType[0]
	}
	if ct != "-" && body != "" {
		req.Header.Set("Content-Type", ct)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	a := answer{Status: resp.StatusCode, Body: b}
	if len(bytes.TrimSpace(b)) > 0 {
		_ = json.Unmarshal(b, &a.JSON)
	}
	return a
}

// schemaBody encodes a registration body.
func schemaBody(schema, typ string, refs ...map[string]any) string {
	m := map[string]any{"schema": schema}
	if typ != "" {
		m["schemaType"] = typ
	}
	if len(refs) > 0 {
		m["references"] = refs
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// registryProc is a `samsa registry` process started by startRegistry.
type registryProc struct {
	URL     string
	LogPath string
	cmd     *exec.Cmd
	exited  chan struct{}
}

// startRegistry runs `samsa registry --listen 127.0.0.1:0 args...` from the
// binary clustertest builds and waits for its listening line; the process
// is killed when the test ends. It does not wait for readiness (waitReady).
func startRegistry(t *testing.T, args ...string) *registryProc {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), "registry.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(clustertest.Binary(t), append([]string{"registry", "--listen", "127.0.0.1:0"}, args...)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &registryProc{LogPath: logPath, cmd: cmd, exited: make(chan struct{})}
	go func() { // ends when the process exits
		_ = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("--- samsa registry log %s ---\n%s", logPath, lastBytes(b, 16<<10))
		}
	})
	p.URL = "http://" + registryAddrFromLog(t, logPath, 1)
	return p
}

// Kill sends SIGKILL (kill -9) and waits for the process to exit.
func (p *registryProc) Kill() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Kill()
	<-p.exited
}

func lastBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
