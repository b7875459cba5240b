// Package connect tests Samsa Connect from outside and holds the reference
// it is measured against: Apache Kafka Connect 4.4.0's Java worker (the
// class path `make deps-connect-java` puts in .cache/connect/libs), run
// against Samsa's broker. The java_* files start and drive that worker.
package connect

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

const (
	// javaStartTimeout bounds a Java worker's start (the JVM, the plugin
	// scan and the first group join take some 10 s on a quiet machine).
	javaStartTimeout = 90 * time.Second
	// javaStopTimeout bounds a clean stop after SIGTERM.
	javaStopTimeout = 30 * time.Second
)

// javaLog4j sends the worker's log to stderr, leaving stdout to the
// Verifiable connectors' JSON lines.
const javaLog4j = `status = warn
appender.err.type = Console
appender.err.name = STDERR
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.err.ref = STDERR
logger.reflections.name = org.reflections
logger.reflections.level = ERROR
`

// javaConnectLibs finds java and the Connect class path (make
// deps-connect-java; SAMSA_CONNECT_JAVA_LIBS overrides the directory).
// Missing ones skip the test locally and fail it under CI.
func javaConnectLibs(t *testing.T) (java, libs string) {
	t.Helper()
	clustertest.SkipInShort(t, "runs the Java Connect worker")
	java, err := exec.LookPath("java")
	javaRequire(t, "java", err)
	libs = os.Getenv("SAMSA_CONNECT_JAVA_LIBS")
	if libs == "" {
		libs = filepath.Join(javaModuleRoot(t), ".cache", "connect", "libs")
	}
	if _, err = os.Stat(filepath.Join(libs, "connect-runtime-4.4.0.jar")); err == nil {
		_, err = os.Stat(filepath.Join(libs, "samsa-compat-connect.jar"))
	}
	javaRequire(t, "Kafka Connect 4.4.0's class path", err)
	return java, libs
}

// javaRequire skips a test whose external tool is missing, except under CI
// (CI set), where make test installs it and its absence is a failure.
func javaRequire(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s unavailable in CI (make deps-connect-java should have installed it): %v", what, err)
	}
	t.Skipf("%s unavailable (run make deps-connect-java): %v", what, err)
}

// javaModuleRoot finds the directory holding go.mod above the test's.
func javaModuleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
}

// javaStartBroker starts a single `samsa serve` for Connect workers to use,
// with its HTTP services off (each would take a fixed port).
func javaStartBroker(t *testing.T) *clustertest.Node {
	t.Helper()
	n := clustertest.Start(t, clustertest.Options{Args: []string{
		"--admin-listen", "none", "--registry-listen", "none", "--rest-listen", "none",
	}})
	n.RequireGroups(t)
	return n
}

// javaWorkerConfig is one distributed worker's settings; Props adds or
// overrides worker properties.
type javaWorkerConfig struct {
	Bootstrap string
	GroupID   string
	// Topics prefix: <Prefix>-configs, -offsets, -status; empty means GroupID.
	TopicPrefix string
	Props       map[string]string
}

// properties renders the worker.properties for a REST port.
func (c javaWorkerConfig) properties(port int) string {
	prefix := c.TopicPrefix
	if prefix == "" {
		prefix = c.GroupID
	}
	props := map[string]string{
		"bootstrap.servers":                 c.Bootstrap,
		"group.id":                          c.GroupID,
		"config.storage.topic":              prefix + "-configs",
		"offset.storage.topic":              prefix + "-offsets",
		"status.storage.topic":              prefix + "-status",
		"config.storage.replication.factor": "1",
		"offset.storage.replication.factor": "1",
		"status.storage.replication.factor": "1",
		"key.converter":                     "org.apache.kafka.connect.json.JsonConverter",
		"value.converter":                   "org.apache.kafka.connect.json.JsonConverter",
		"listeners":                         "http://127.0.0.1:" + strconv.Itoa(port),
		"offset.flush.interval.ms":          "1000",
		"scheduled.rebalance.max.delay.ms":  "5000",
		"task.shutdown.graceful.timeout.ms": "5000",
	}
	for k, v := range c.Props {
		props[k] = v
	}
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

// javaWorker is one running (or dead) ConnectDistributed process.
type javaWorker struct {
	URL     string // http://127.0.0.1:port
	ID      string // worker_id in statuses: 127.0.0.1:port
	Stdout  string // file receiving the process's stdout
	LogPath string // file receiving its log (stderr)

	cmd    *exec.Cmd
	exited chan struct{}
}

// javaStartWorker starts a distributed worker on a free REST port and waits
// until GET / answers and /health reports it ready. It is killed when the
// test ends (its log is shown if the test failed).
func javaStartWorker(t *testing.T, cfg javaWorkerConfig) *javaWorker {
	t.Helper()
	return javaStartWorkers(t, cfg)[0]
}

// javaStartWorkers starts one worker per config at once (their JVMs start
// in parallel) and waits until all are ready.
func javaStartWorkers(t *testing.T, cfgs ...javaWorkerConfig) []*javaWorker {
	t.Helper()
	java, libs := javaConnectLibs(t)
	dir := t.TempDir()
	log4j := filepath.Join(dir, "log4j2.properties")
	if err := os.WriteFile(log4j, []byte(javaLog4j), 0o600); err != nil {
		t.Fatal(err)
	}
	ws := make([]*javaWorker, len(cfgs))
	for i := range ws {
		ws[i] = javaLaunch(t, java, libs, log4j, filepath.Join(dir, fmt.Sprintf("w%d-0", i)), cfgs[i])
	}
	for i := range ws {
		err := ws[i].waitReady()
		// A free port found by listening on :0 can be taken before the
		// worker binds it: start that one again on another.
		for attempt := 1; err != nil && attempt < 3 && strings.Contains(javaTail(ws[i].LogPath, 64<<10), "Address already in use"); attempt++ {
			ws[i] = javaLaunch(t, java, libs, log4j, filepath.Join(dir, fmt.Sprintf("w%d-%d", i, attempt)), cfgs[i])
			err = ws[i].waitReady()
		}
		if err != nil {
			t.Fatalf("java connect worker: %v", err)
		}
	}
	return ws
}

// javaLaunch starts one worker process with its files in dir (created)
// and does not wait for it.
func javaLaunch(t *testing.T, java, libs, log4j, dir string, cfg javaWorkerConfig) *javaWorker {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
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
	w := &javaWorker{
		URL:     fmt.Sprintf("http://127.0.0.1:%d", port),
		ID:      fmt.Sprintf("127.0.0.1:%d", port),
		Stdout:  filepath.Join(dir, "stdout.txt"),
		LogPath: filepath.Join(dir, "worker.log"),
		exited:  make(chan struct{}),
	}
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
	w.cmd = exec.Command(java, "-Xms64m", "-Xmx512m", "-XX:+UseSerialGC",
		"-Dlog4j2.configurationFile="+log4j,
		"-cp", filepath.Join(libs, "*"),
		"org.apache.kafka.connect.cli.ConnectDistributed", props)
	w.cmd.Stdout, w.cmd.Stderr = out, logf
	w.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { // ends when the process exits (Kill, Stop or a crash)
		_ = w.cmd.Wait()
		close(w.exited)
	}()
	t.Cleanup(func() {
		w.Kill()
		if t.Failed() {
			t.Logf("--- java connect worker %s log %s ---\n%s", w.ID, w.LogPath, javaTail(w.LogPath, 16<<10))
		}
	})
	return w
}

// waitReady polls GET / and then GET /health until both answer 200.
func (w *javaWorker) waitReady() error {
	deadline := time.Now().Add(javaStartTimeout)
	for _, path := range []string{"/", "/health"} {
		for {
			select {
			case <-w.exited:
				return fmt.Errorf("worker %s exited while starting", w.ID)
			default:
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("worker %s: %s did not answer 200 within %s", w.ID, path, javaStartTimeout)
			}
			resp, err := http.Get(w.URL + path)
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	return nil
}

// Kill sends SIGKILL (kill -9) and waits for the process to exit.
func (w *javaWorker) Kill() {
	select {
	case <-w.exited:
		return
	default:
	}
	_ = w.cmd.Process.Kill()
	<-w.exited
}

// Stop sends SIGTERM and waits for a clean exit, killing it after
// javaStopTimeout.
func (w *javaWorker) Stop() {
	select {
	case <-w.exited:
		return
	default:
	}
	_ = w.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-w.exited:
	case <-time.After(javaStopTimeout):
		w.Kill()
	}
}

// JSONLines returns the lines of the worker's stdout that are JSON objects
// (the Verifiable connectors' output); other lines are left out.
func (w *javaWorker) JSONLines(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(w.Stdout)
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

// javaFreePort returns a loopback port that was free a moment ago.
func javaFreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// javaTail returns the last max bytes of a file.
func javaTail(path string, max int) string {
	b, _ := os.ReadFile(path)
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return string(b)
}

// javaAnswer is one HTTP answer: status, body and the body decoded.
type javaAnswer struct {
	Status int
	Body   []byte
	JSON   any
}

// javaCall sends one request with a JSON body (none when body is "").
func javaCall(t *testing.T, method, url, body string) javaAnswer {
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
	req.Header.Set("Accept", "application/json")
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

// javaWaitFor polls a GET until ok accepts the answer, failing the test
// after timeout; it returns the accepted answer.
func javaWaitFor(t *testing.T, url string, timeout time.Duration, ok func(javaAnswer) bool) javaAnswer {
	t.Helper()
	var last javaAnswer
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		last = javaCall(t, http.MethodGet, url, "")
		if ok(last) {
			return last
		}
	}
	t.Fatalf("GET %s: condition not met within %s; last answer %d %s", url, timeout, last.Status, last.Body)
	return last
}

// javaStatus is GET /connectors/{c}/status decoded.
type javaStatus struct {
	Name      string `json:"name"`
	Type      string `json:"type"`
	Connector struct {
		State    string `json:"state"`
		WorkerID string `json:"worker_id"`
		Trace    string `json:"trace"`
	} `json:"connector"`
	Tasks []struct {
		ID       int    `json:"id"`
		State    string `json:"state"`
		WorkerID string `json:"worker_id"`
		Trace    string `json:"trace"`
	} `json:"tasks"`
}

// javaDecodeStatus decodes a status answer; ok is false unless it is a 200.
func javaDecodeStatus(a javaAnswer) (javaStatus, bool) {
	var s javaStatus
	if a.Status != http.StatusOK || json.Unmarshal(a.Body, &s) != nil {
		return s, false
	}
	return s, true
}

// javaAllRunning accepts a status whose connector and tasks (tasks of them)
// all run.
func javaAllRunning(tasks int) func(javaAnswer) bool {
	return func(a javaAnswer) bool {
		s, ok := javaDecodeStatus(a)
		if !ok || s.Connector.State != "RUNNING" || len(s.Tasks) != tasks {
			return false
		}
		for _, tk := range s.Tasks {
			if tk.State != "RUNNING" {
				return false
			}
		}
		return true
	}
}
