package connect

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// distWorker is one Connect worker process of either implementation, as
// the dist_* tests drive it: its REST URL, the worker_id its statuses
// carry, kill -9, and its standard output (the Verifiable connectors'
// JSON lines).
type distWorker interface {
	RESTURL() string
	WorkerID() string
	Kill()
	Lines(t *testing.T) []string
	PID() int
}

func (w *javaWorker) RESTURL() string             { return w.URL }
func (w *javaWorker) WorkerID() string            { return w.ID }
func (w *javaWorker) Lines(t *testing.T) []string { return w.JSONLines(t) }
func (w *javaWorker) PID() int                    { return w.cmd.Process.Pid }

// distSamsa is a `samsa connect` process with its standard output (the
// Verifiable connectors' lines) and its log (stderr) in separate files.
type distSamsa struct {
	URL, ID         string
	stdout, logPath string
	cmd             *exec.Cmd
	done            chan struct{}
}

func (w *distSamsa) RESTURL() string  { return w.URL }
func (w *distSamsa) WorkerID() string { return w.ID }
func (w *distSamsa) PID() int         { return w.cmd.Process.Pid }

// Kill sends SIGKILL (kill -9) and waits for the process to exit.
func (w *distSamsa) Kill() {
	select {
	case <-w.done:
		return
	default:
	}
	_ = w.cmd.Process.Kill()
	<-w.done
}

// Stop interrupts the worker and waits for a clean exit (kill -9 after
// 30 s).
func (w *distSamsa) Stop() {
	select {
	case <-w.done:
		return
	default:
	}
	_ = w.cmd.Process.Signal(os.Interrupt)
	select {
	case <-w.done:
	case <-time.After(30 * time.Second):
		w.Kill()
	}
}

// Log returns the worker's log (its stderr) so far.
func (w *distSamsa) Log() string {
	b, _ := os.ReadFile(w.logPath)
	return string(b)
}

// Lines returns the JSON-object lines of the worker's stdout.
func (w *distSamsa) Lines(t *testing.T) []string {
	t.Helper()
	return distJSONLines(t, w.stdout)
}

// distJSONLines returns a file's lines that are JSON objects.
func distJSONLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "{") && json.Valid([]byte(line)) {
			lines = append(lines, line)
		}
	}
	return lines
}

// distProps renders worker properties in sorted order.
func distProps(props map[string]string) string {
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s\n", k, props[k])
	}
	return b.String()
}

// distSamsaProps are the worker properties of a Samsa worker in the same
// group as javaWorkerConfig cfg would make (same topics, converters and
// timings), without the listeners (each worker takes a free port).
func distSamsaProps(cfg javaWorkerConfig) map[string]string {
	props := map[string]string{}
	for _, line := range strings.Split(cfg.properties(1), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && k != "listeners" {
			props[k] = v
		}
	}
	return props
}

// distStartSamsa starts one `samsa connect worker.properties` per props
// at once and waits until each answers GET / and takes writes.
func distStartSamsa(t testing.TB, props ...map[string]string) []*distSamsa {
	t.Helper()
	bin := clustertest.Binary(t)
	ws := make([]*distSamsa, len(props))
	for i, p := range props {
		ws[i] = distLaunchSamsa(t, bin, filepath.Join(t.TempDir(), fmt.Sprintf("samsa-w%d", i)), p)
	}
	for _, w := range ws {
		addr := rtAddrFromLog(t, w.logPath, rtConnectAddrRE)
		w.URL, w.ID = "http://"+addr, addr
		rtWaitHTTP(t, w.URL+"/")
	}
	for _, w := range ws {
		rtWaitWritable(t, w.URL)
	}
	return ws
}

// distLaunchSamsa starts one worker with its files in dir and does not
// wait for it; it is killed when the test ends.
func distLaunchSamsa(t testing.TB, bin, dir string, props map[string]string) *distSamsa {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	propsPath := filepath.Join(dir, "worker.properties")
	if err := os.WriteFile(propsPath, []byte(distProps(props)), 0o600); err != nil {
		t.Fatal(err)
	}
	w := &distSamsa{stdout: filepath.Join(dir, "stdout.txt"), logPath: filepath.Join(dir, "worker.log"), done: make(chan struct{})}
	out, err := os.Create(w.stdout)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	logf, err := os.Create(w.logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	w.cmd = exec.Command(bin, "connect", "--listen", "127.0.0.1:0", propsPath)
	w.cmd.Stdout, w.cmd.Stderr = out, logf
	w.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { // ends when the process exits (Kill, Stop or a crash)
		_ = w.cmd.Wait()
		close(w.done)
	}()
	t.Cleanup(func() {
		w.Kill()
		if t.Failed() {
			t.Logf("--- samsa connect worker %s log %s ---\n%s", w.ID, w.logPath, javaTail(w.logPath, 16<<10))
		}
	})
	return w
}

// distPost sends a write, retrying the 409 answered while the group
// rebalances, and fails unless the final status is want.
func distPost(t testing.TB, method, url, body string, want int) javaAnswer {
	t.Helper()
	var a javaAnswer
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
		if a = distCall(t, method, url, body); a.Status != http.StatusConflict || want == http.StatusConflict {
			break
		}
	}
	if a.Status != want {
		t.Fatalf("%s %s %s: %d %s, want %d", method, url, body, a.Status, a.Body, want)
	}
	return a
}

// distOwners maps each connector and task ("c" or "c/n") of the cluster to
// the worker_id running it, as GET /connectors?expand=status at url says.
func distOwners(t *testing.T, url string) map[string]string {
	t.Helper()
	ans := javaCall(t, http.MethodGet, url+"/connectors?expand=status", "")
	var all map[string]struct {
		Status javaStatus `json:"status"`
	}
	if ans.Status != http.StatusOK || json.Unmarshal(ans.Body, &all) != nil {
		t.Fatalf("GET %s/connectors?expand=status: %d %s", url, ans.Status, ans.Body)
	}
	owners := map[string]string{}
	for name, c := range all {
		owners[name] = c.Status.Connector.WorkerID
		for _, tk := range c.Status.Tasks {
			owners[fmt.Sprintf("%s/%d", name, tk.ID)] = tk.WorkerID
		}
	}
	return owners
}

// distProcStat reads a process's CPU time (utime+stime) and resident set
// size from /proc.
func distProcStat(pid int) (cpu time.Duration, rss int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	// Fields after the command name, which is in parentheses.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("/proc/%d/stat: no command", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime is field 14, stime 15, rss 24.
	if len(f) < 22 {
		return 0, 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	var ut, st, pages int64
	if _, err := fmt.Sscan(f[11], &ut); err != nil {
		return 0, 0, err
	}
	if _, err := fmt.Sscan(f[12], &st); err != nil {
		return 0, 0, err
	}
	if _, err := fmt.Sscan(f[21], &pages); err != nil {
		return 0, 0, err
	}
	const hz = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / hz, pages * int64(os.Getpagesize()), nil
}

// distCall sends one request with a JSON body (none when body is "");
// javaCall for benchmarks too.
func distCall(t testing.TB, method, url, body string) javaAnswer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		t.Fatal(err)
	}
	a := javaAnswer{Status: resp.StatusCode, Body: b}
	if len(bytes.TrimSpace(b)) > 0 {
		_ = json.Unmarshal(b, &a.JSON)
	}
	return a
}

// distWaitFor polls a GET until ok accepts the answer (javaWaitFor for
// benchmarks too).
func distWaitFor(t testing.TB, url string, timeout time.Duration, ok func(javaAnswer) bool) javaAnswer {
	t.Helper()
	var last javaAnswer
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		if last = distCall(t, http.MethodGet, url, ""); ok(last) {
			return last
		}
	}
	t.Fatalf("GET %s: condition not met within %s; last answer %d %s", url, timeout, last.Status, last.Body)
	return last
}

// distStartJava starts one Java Connect 4.4.0 worker for a benchmark (the
// java_* helpers take a *testing.T) and waits until it is ready.
func distStartJava(t testing.TB, cfg javaWorkerConfig) *javaWorker {
	t.Helper()
	java, err := exec.LookPath("java")
	if err != nil {
		t.Fatalf("java: %v", err)
	}
	libs := os.Getenv("SAMSA_CONNECT_JAVA_LIBS")
	if libs == "" {
		mod, err := exec.Command("go", "env", "GOMOD").Output()
		if err != nil {
			t.Fatal(err)
		}
		libs = filepath.Join(filepath.Dir(strings.TrimSpace(string(mod))), ".cache", "connect", "libs")
	}
	if _, err := os.Stat(filepath.Join(libs, "connect-runtime-4.4.0.jar")); err != nil {
		t.Fatalf("Kafka Connect 4.4.0's class path (make deps-connect-java): %v", err)
	}
	dir := t.TempDir()
	log4j := filepath.Join(dir, "log4j2.properties")
	if err := os.WriteFile(log4j, []byte(javaLog4j), 0o600); err != nil {
		t.Fatal(err)
	}
	port, err := javaFreePort()
	if err != nil {
		t.Fatal(err)
	}
	props := filepath.Join(dir, "worker.properties")
	if err := os.WriteFile(props, []byte(cfg.properties(port)), 0o600); err != nil {
		t.Fatal(err)
	}
	w := &javaWorker{URL: fmt.Sprintf("http://127.0.0.1:%d", port), ID: fmt.Sprintf("127.0.0.1:%d", port),
		Stdout: filepath.Join(dir, "stdout.txt"), LogPath: filepath.Join(dir, "worker.log"), exited: make(chan struct{})}
	out, err := os.Create(w.Stdout)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	logf, err := os.Create(w.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	w.cmd = exec.Command(java, "-Xms64m", "-Xmx512m", "-XX:+UseSerialGC", "-Dlog4j2.configurationFile="+log4j,
		"-cp", filepath.Join(libs, "*"), "org.apache.kafka.connect.cli.ConnectDistributed", props)
	w.cmd.Stdout, w.cmd.Stderr = out, logf
	w.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { // ends when the process exits
		_ = w.cmd.Wait()
		close(w.exited)
	}()
	t.Cleanup(w.Kill)
	if err := w.waitReady(); err != nil {
		t.Fatalf("java connect worker: %v\n%s", err, javaTail(w.LogPath, 8<<10))
	}
	return w
}
