package connect

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
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
func distStartSamsa(t *testing.T, props ...map[string]string) []*distSamsa {
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
func distLaunchSamsa(t *testing.T, bin, dir string, props map[string]string) *distSamsa {
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
func distPost(t *testing.T, method, url, body string, want int) javaAnswer {
	t.Helper()
	var a javaAnswer
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
		if a = javaCall(t, method, url, body); a.Status != http.StatusConflict || want == http.StatusConflict {
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
