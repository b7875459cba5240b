package connect

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// rtNode is a running `samsa serve` with its embedded Connect worker.
type rtNode struct {
	*clustertest.Node
	Bootstrap string // Kafka host:port
	URL       string // http://host:port of the Connect REST API
}

var rtConnectAddrRE = regexp.MustCompile(`connect worker listening.*addr=([0-9.]+:[0-9]+)`)

// rtStartNode starts `samsa serve --connect-listen 127.0.0.1:0` and waits
// for the worker's REST API.
func rtStartNode(t testing.TB, args ...string) *rtNode {
	t.Helper()
	n := clustertest.Start(t, clustertest.Options{
		Args: append([]string{"--admin-listen", "none", "--registry-listen", "none", "--rest-listen", "none",
			"--connect-listen", "127.0.0.1:0"}, args...),
	})
	rn := &rtNode{Node: n, Bootstrap: n.Addr, URL: "http://" + rtAddrFromLog(t, n.LogPath, rtConnectAddrRE)}
	rtWaitHTTP(t, rn.URL+"/")
	rtWaitWritable(t, rn.URL)
	return rn
}

// rtWaitWritable waits until a distributed worker takes writes: its
// group has a leader (before, writes answer 409, which callers retry).
func rtWaitWritable(t testing.TB, url string) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if a := rtDo(t, "PUT", url+"/connectors/rt-probe/config", map[string]string{}); a.Status != 409 {
			if a.Status != 400 {
				t.Fatalf("probe write: %s", a)
			}
			return
		}
	}
	t.Fatalf("%s never left the rebalance (409)", url)
}

// rtWorker is a `samsa connect` process.
type rtWorker struct {
	URL     string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
}

// rtStartWorker runs `samsa connect args...` (a worker of its own
// process) and returns it once its REST API answers; it is killed at
// cleanup unless stopped before.
func rtStartWorker(t testing.TB, args ...string) *rtWorker {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), "connect.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(clustertest.Binary(t), append([]string{"connect", "--listen", "127.0.0.1:0"}, args...)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w := &rtWorker{cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() { // ends when the process does
		cmd.Wait()
		logf.Close()
		close(w.done)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-w.done
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("samsa connect log:\n%s", b)
		}
	})
	w.URL = "http://" + rtAddrFromLog(t, logPath, rtConnectAddrRE)
	rtWaitHTTP(t, w.URL+"/")
	return w
}

// Stop interrupts the worker and waits for it to exit.
func (w *rtWorker) Stop(t testing.TB) {
	t.Helper()
	if err := w.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case <-w.done:
	case <-time.After(30 * time.Second):
		t.Fatal("samsa connect did not exit on interrupt")
	}
}

// rtAddrFromLog waits for the last line of a log matching re and returns
// its first group.
func rtAddrFromLog(t testing.TB, path string, re *regexp.Regexp) string {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		b, _ := os.ReadFile(path)
		if m := re.FindAllSubmatch(b, -1); len(m) > 0 {
			return string(m[len(m)-1][1])
		}
	}
	b, _ := os.ReadFile(path)
	t.Fatalf("no %s in %s:\n%s", re, path, b)
	return ""
}

// rtWaitHTTP waits until url answers 200 to GET.
func rtWaitHTTP(t testing.TB, url string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
	}
	t.Fatalf("%s never answered 200", url)
}

// rtAnswer is an HTTP answer: status, body, and the body as JSON (nil if
// it is not JSON).
type rtAnswer struct {
	Status int
	Body   []byte
	JSON   any
}

func (a rtAnswer) Map() map[string]any {
	m, _ := a.JSON.(map[string]any)
	return m
}

func (a rtAnswer) List() []any {
	l, _ := a.JSON.([]any)
	return l
}

// ErrorCode is the body's error_code, 0 if none.
func (a rtAnswer) ErrorCode() int {
	if c, ok := a.Map()["error_code"].(float64); ok {
		return int(c)
	}
	return 0
}

func (a rtAnswer) String() string {
	return http.StatusText(a.Status) + " " + string(a.Body)
}

// rtDo sends a request with a JSON body (a string is sent as is; nil:
// none).
func rtDo(t testing.TB, method, url string, body any) rtAnswer {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := rtAnswer{Status: resp.StatusCode, Body: b}
	if len(b) > 0 {
		var v any
		if json.Unmarshal(b, &v) == nil {
			a.JSON = v
		}
	}
	return a
}

// rtExpect sends a request and fails unless the status is want.
func rtExpect(t testing.TB, want int, method, url string, body any) rtAnswer {
	t.Helper()
	a := rtDo(t, method, url, body)
	if a.Status != want {
		t.Fatalf("%s %s: got %s, want %d", method, url, a, want)
	}
	if want >= 400 && a.ErrorCode() != want {
		t.Fatalf("%s %s: error_code %d, want %d: %s", method, url, a.ErrorCode(), want, a)
	}
	return a
}

// rtStatus returns a connector's status (GET …/status).
func rtStatus(t testing.TB, url, name string) map[string]any {
	t.Helper()
	return rtExpect(t, 200, "GET", url+"/connectors/"+name+"/status", nil).Map()
}

// rtConnState and rtTaskStates read a status answer.
func rtConnState(st map[string]any) string {
	c, _ := st["connector"].(map[string]any)
	s, _ := c["state"].(string)
	return s
}

func rtTaskStates(st map[string]any) []string {
	var out []string
	ts, _ := st["tasks"].([]any)
	for _, x := range ts {
		m, _ := x.(map[string]any)
		s, _ := m["state"].(string)
		out = append(out, s)
	}
	return out
}

// rtWaitStates waits until the connector is in conn and every one of its
// (at least one, unless tasks is "") tasks in tasks.
func rtWaitStates(t testing.TB, url, name, conn, tasks string) map[string]any {
	t.Helper()
	var st map[string]any
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		st = rtStatus(t, url, name)
		ts := rtTaskStates(st)
		ok := rtConnState(st) == conn
		if tasks == "" {
			ok = ok && len(ts) == 0
		} else {
			ok = ok && len(ts) > 0
			for _, s := range ts {
				ok = ok && s == tasks
			}
		}
		if ok {
			return st
		}
	}
	t.Fatalf("connector %s never reached %s/%s: %v", name, conn, tasks, st)
	return nil
}

// rtWaitFile waits until the file has at least n lines and returns them.
func rtWaitFile(t testing.TB, path string, n int) []string {
	t.Helper()
	var lines []string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		b, _ := os.ReadFile(path)
		lines = strings.Split(strings.TrimRight(string(b), "\n"), "\n")
		if len(b) > 0 && len(lines) >= n {
			return lines
		}
	}
	t.Fatalf("%s: %d lines, want %d: %q", path, len(lines), n, lines)
	return nil
}

// rtKeys returns the keys of a JSON object, sorted.
func rtKeys(m map[string]any) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ",")
}
