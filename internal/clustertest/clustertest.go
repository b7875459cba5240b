package clustertest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

const (
	// startTimeout bounds how long Start waits for the port to answer.
	startTimeout = 30 * time.Second
	// stopTimeout bounds how long Stop waits for a clean exit after SIGTERM.
	stopTimeout = 20 * time.Second
	// logTailBytes is how much of a node's log is shown on failure.
	logTailBytes = 64 << 10
)

var build struct {
	once sync.Once
	path string
	err  error
}

// Binary returns the path of a samsa binary built from this module's
// ./cmd/samsa. It builds once per test process; SAMSA_BINARY overrides it.
//
// Every way this package starts a process goes through Binary, so it is
// the one place that keeps `go test -short` free of processes: in -short
// mode it skips the test.
func Binary(t testing.TB) string {
	t.Helper()
	SkipInShort(t, "starts the samsa binary")
	build.once.Do(func() { build.path, build.err = buildBinary() })
	if build.err != nil {
		t.Fatalf("clustertest: %v", build.err)
	}
	return build.path
}

func buildBinary() (string, error) {
	if p := os.Getenv("SAMSA_BINARY"); p != "" {
		abs, err := filepath.Abs(p)
		if err != nil {
			return "", err
		}
		if _, err := os.Stat(abs); err != nil {
			return "", fmt.Errorf("SAMSA_BINARY: %w", err)
		}
		return abs, nil
	}
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("go env GOMOD: not inside a module")
	}
	root := filepath.Dir(gomod)

	// One shared directory, one file per test process. Files from processes
	// that ended long ago are removed so repeated runs leak nothing lasting.
	dir := filepath.Join(os.TempDir(), "samsa-clustertest")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	removeStale(dir)
	bin := filepath.Join(dir, fmt.Sprintf("samsa-%d", os.Getpid()))
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/samsa")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stdout = &stderr
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build ./cmd/samsa: %w\n%s", err, stderr.String())
	}
	return bin, nil
}

func removeStale(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		info, err := e.Info()
		if err == nil && time.Since(info.ModTime()) > 6*time.Hour {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// Options configures Start. The zero value starts a node with a fresh data
// directory and default settings.
type Options struct {
	// DataDir is the node's data directory; empty means a fresh t.TempDir.
	DataDir string
	// Args are extra command-line arguments appended after the defaults.
	Args []string
	// Env holds extra KEY=VALUE entries added to the test's environment.
	Env []string
	// Config, if set, is written to a server.properties file passed with
	// --config.
	Config string
	// Listeners are further Kafka listeners after the node's own PLAINTEXT
	// one at Addr, as listeners entries ("SASL_SSL://127.0.0.1:9094"); the
	// node is started with --listen PLAINTEXT://Addr,Listeners... (the flag
	// replaces a listeners setting in Config). Their security settings go
	// in Config. Readiness and Client use Addr.
	Listeners []string
	// NoFile, if set, is the node's RLIMIT_NOFILE, soft and hard (set by
	// /bin/sh's ulimit before it execs the binary; lowering needs no
	// privilege). The node's file-descriptor budget, and so how many
	// partitions it hosts, follows from it.
	NoFile uint64
}

// Node is one running (or stopped) samsa process.
type Node struct {
	// Addr is host:port the node listens on; it stays the same across
	// Restart.
	Addr string
	// DataDir is the node's data directory; it stays across Restart.
	DataDir string
	// LogPath is the file receiving the node's stdout and stderr, across
	// all its runs.
	LogPath string

	t         testing.TB
	args      []string
	env       []string
	listeners []string // Options.Listeners
	noFile    uint64   // Options.NoFile

	mu   sync.Mutex
	proc *process // nil when not running
}

// process is one run of the binary; exited closes when cmd.Wait returns.
type process struct {
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error // valid once exited is closed
}

// Start runs a node and waits until it answers ApiVersions. The node is
// stopped when the test ends.
func Start(t testing.TB, opts Options) *Node {
	t.Helper()
	bin := Binary(t)
	n := &Node{t: t, DataDir: opts.DataDir, env: opts.Env, listeners: opts.Listeners, noFile: opts.NoFile}
	if n.DataDir == "" {
		n.DataDir = t.TempDir()
	}
	logDir := t.TempDir()
	n.LogPath = filepath.Join(logDir, "samsa.log")
	if opts.Config != "" {
		cfg := filepath.Join(logDir, "server.properties")
		if err := os.WriteFile(cfg, []byte(opts.Config), 0o644); err != nil {
			t.Fatalf("clustertest: write config: %v", err)
		}
		n.args = append(n.args, "--config", cfg)
	}
	n.args = append(n.args, opts.Args...)

	t.Cleanup(func() {
		n.shutdown()
		if t.Failed() || os.Getenv("SAMSA_TEST_LOG") == "1" {
			n.dumpLog()
		}
	})

	// A free port found by listening on :0 can be taken by someone else
	// before the node binds it; retry on a fresh port if the node dies
	// while starting.
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatalf("clustertest: %v", err)
		}
		n.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		lastErr = n.start(bin)
		if lastErr == nil {
			return n
		}
		if !errors.Is(lastErr, errExitedEarly) {
			break
		}
		if !strings.Contains(readTail(n.LogPath, 4096), "address already in use") {
			break
		}
	}
	t.Fatalf("clustertest: start node: %v", lastErr)
	return nil
}

var errExitedEarly = errors.New("node exited before answering ApiVersions")

func freePort() (int, error) {
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("find free port: %w", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if handedOut.claim(port) {
			return port, nil
		}
	}
	return 0, errors.New("find free port: the kernel keeps returning ports already handed out")
}

// handedOut remembers the ports freePort returned: a port is closed again
// until the process that gets it binds it, and the kernel may hand it to
// the next ":0" listener (another freePort, or a proxy) in between. It is
// the test binary's one piece of shared state.
var handedOut = &portSet{ports: map[int]bool{}}

type portSet struct {
	mu    sync.Mutex
	ports map[int]bool
}

// claim records port and reports whether it was not handed out before.
func (s *portSet) claim(port int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ports[port] {
		return false
	}
	s.ports[port] = true
	return true
}

// taken reports whether freePort handed port out.
func (s *portSet) taken(port int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ports[port]
}

// start launches the binary and waits for readiness. On failure the process
// is killed and reaped before returning.
func (n *Node) start(bin string) error {
	n.mu.Lock()
	if n.proc != nil {
		n.mu.Unlock()
		return errors.New("node already running")
	}
	n.mu.Unlock()

	logf, err := os.OpenFile(n.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	listen := n.Addr
	if len(n.listeners) > 0 {
		listen = "PLAINTEXT://" + n.Addr + "," + strings.Join(n.listeners, ",")
	}
	args := append([]string{
		"serve",
		"--data-dir", n.DataDir,
		"--listen", listen,
		"--node-id", "1",
	}, n.args...)
	fmt.Fprintf(logf, "=== clustertest %s: %s %s\n", time.Now().Format(time.RFC3339Nano), bin, strings.Join(args, " "))
	cmd := exec.Command(bin, args...)
	if n.noFile > 0 { // sh lowers the limit, then becomes the node (same pid)
		cmd = exec.Command("/bin/sh", append([]string{"-c", fmt.Sprintf(`ulimit -n %d && exec "$0" "$@"`, n.noFile), bin}, args...)...)
	}
	cmd.Env = append(os.Environ(), n.env...)
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	logf.Close() // the child holds its own descriptor
	p := &process{cmd: cmd, exited: make(chan struct{})}
	go func() { // owned by p; stopped by killing the process; waited via p.exited
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	n.mu.Lock()
	n.proc = p
	n.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	err = waitReady(ctx, n.Addr, p.exited)
	if err == nil {
		return nil
	}
	if errors.Is(err, errExitedEarly) {
		err = fmt.Errorf("%w (%v)", errExitedEarly, p.waitErr)
	}
	n.kill()
	return err
}

// waitReady polls addr with ApiVersions until it gets a well-formed
// response without error, the process exits, or ctx ends.
func waitReady(ctx context.Context, addr string, exited <-chan struct{}) error {
	var last error
	for {
		select {
		case <-exited:
			return errExitedEarly
		default:
		}
		if last = probe(ctx, addr); last == nil {
			return nil
		}
		select {
		case <-exited:
			return errExitedEarly
		case <-ctx.Done():
			return fmt.Errorf("no ApiVersions answer from %s within %v: %w", addr, startTimeout, last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// probe sends one ApiVersions v3 request on a fresh connection.
func probe(ctx context.Context, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}

	req := kmsg.NewPtrApiVersionsRequest()
	req.Version = 3
	req.ClientSoftwareName = "samsa-clustertest"
	req.ClientSoftwareVersion = "1"
	const correlationID = 1
	const clientID = "clustertest"

	// Request header v2: key, version, correlation id, client id, tags.
	msg := make([]byte, 4, 64)
	msg = binary.BigEndian.AppendUint16(msg, uint16(req.Key()))
	msg = binary.BigEndian.AppendUint16(msg, uint16(req.Version))
	msg = binary.BigEndian.AppendUint32(msg, correlationID)
	msg = binary.BigEndian.AppendUint16(msg, uint16(len(clientID)))
	msg = append(msg, clientID...)
	msg = append(msg, 0) // empty tagged fields
	msg = req.AppendTo(msg)
	binary.BigEndian.PutUint32(msg, uint32(len(msg)-4))
	if _, err := conn.Write(msg); err != nil {
		return err
	}

	// ApiVersions responses always use response header v0.
	var sizeBuf [4]byte
	if _, err := io.ReadFull(conn, sizeBuf[:]); err != nil {
		return fmt.Errorf("read response size: %w", err)
	}
	size := binary.BigEndian.Uint32(sizeBuf[:])
	if size < 4 || size > 1<<20 {
		return fmt.Errorf("implausible response size %d", size)
	}
	body := make([]byte, size)
	if _, err := io.ReadFull(conn, body); err != nil {
		return fmt.Errorf("read response: %w", err)
	}
	if got := binary.BigEndian.Uint32(body); got != correlationID {
		return fmt.Errorf("correlation id %d, want %d", got, correlationID)
	}
	resp := req.ResponseKind().(*kmsg.ApiVersionsResponse)
	resp.Version = req.Version
	if err := resp.ReadFrom(body[4:]); err != nil {
		return fmt.Errorf("parse ApiVersions response: %w", err)
	}
	if resp.ErrorCode != 0 {
		return fmt.Errorf("ApiVersions error code %d", resp.ErrorCode)
	}
	return nil
}

// Kill sends SIGKILL to the node's process group and waits for it to exit.
func (n *Node) Kill() {
	n.t.Helper()
	if !n.kill() {
		n.t.Errorf("clustertest: Kill %s: node is not running", n.Addr)
	}
}

// kill SIGKILLs and reaps the current process, if any; it reports whether
// one was running.
func (n *Node) kill() bool {
	n.mu.Lock()
	p := n.proc
	n.proc = nil
	n.mu.Unlock()
	if p == nil {
		return false
	}
	pgid := p.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	<-p.exited
	// Anything left in the group (children of the node) goes too.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	return true
}

// Stop sends SIGTERM and waits up to 20s for the node to exit with status
// 0. A node that does not exit in time is killed; either failure is reported
// as a test error.
func (n *Node) Stop() {
	n.t.Helper()
	if err := n.stop(); err != nil {
		n.t.Errorf("clustertest: Stop %s: %v", n.Addr, err)
	}
}

func (n *Node) stop() error {
	n.mu.Lock()
	p := n.proc
	n.proc = nil
	n.mu.Unlock()
	if p == nil {
		return errors.New("node is not running")
	}
	pgid := p.cmd.Process.Pid
	select {
	case <-p.exited:
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		if p.waitErr != nil {
			return fmt.Errorf("node had already exited: %w", p.waitErr)
		}
		return errors.New("node had already exited")
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	var err error
	select {
	case <-p.exited:
		if p.waitErr != nil {
			err = fmt.Errorf("unclean exit after SIGTERM: %w", p.waitErr)
		}
	case <-time.After(stopTimeout):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-p.exited
		err = fmt.Errorf("did not exit within %v of SIGTERM; killed", stopTimeout)
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	return err
}

// Restart starts the node again on the same address and data directory,
// stopping it cleanly first if it is still running, and waits until it
// answers ApiVersions.
func (n *Node) Restart(t testing.TB) {
	t.Helper()
	n.mu.Lock()
	running := n.proc != nil
	n.mu.Unlock()
	if running {
		if err := n.stop(); err != nil {
			t.Errorf("clustertest: Restart %s: stop: %v", n.Addr, err)
		}
	}
	if err := n.start(Binary(t)); err != nil {
		t.Fatalf("clustertest: Restart %s: %v", n.Addr, err)
	}
}

// Running reports whether the node's process is alive.
func (n *Node) Running() bool {
	n.mu.Lock()
	p := n.proc
	n.mu.Unlock()
	if p == nil {
		return false
	}
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// PID returns the process id of the node's running process, or 0 when it
// is not running. It changes across Restart.
func (n *Node) PID() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.proc == nil {
		return 0
	}
	return n.proc.cmd.Process.Pid
}

// shutdown is the cleanup: a node that died on its own is an error; a
// running one is stopped cleanly.
func (n *Node) shutdown() {
	n.mu.Lock()
	p := n.proc
	n.mu.Unlock()
	if p == nil {
		return
	}
	select {
	case <-p.exited:
		n.t.Errorf("clustertest: node %s exited unexpectedly: %v", n.Addr, p.waitErr)
		n.kill()
		return
	default:
	}
	if err := n.stop(); err != nil {
		n.t.Errorf("clustertest: stop %s at cleanup: %v", n.Addr, err)
	}
}

// Client returns a franz-go client seeded with the node, closed when the
// test ends. opts are applied after the seed.
func (n *Node) Client(t testing.TB, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	all := append([]kgo.Opt{kgo.SeedBrokers(n.Addr)}, opts...)
	cl, err := kgo.NewClient(all...)
	if err != nil {
		t.Fatalf("clustertest: new client: %v", err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func (n *Node) dumpLog() {
	tail := readTail(n.LogPath, logTailBytes)
	if tail == "" {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "--- samsa log %s (%s) ---\n", n.Addr, n.LogPath)
	sc := bufio.NewScanner(strings.NewReader(tail))
	sc.Buffer(make([]byte, 0, 64<<10), logTailBytes)
	for sc.Scan() {
		b.WriteString("  | ")
		b.WriteString(sc.Text())
		b.WriteByte('\n')
	}
	n.t.Log(b.String())
}

// readTail returns up to max bytes from the end of the file at path.
func readTail(path string, max int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return ""
	}
	off := info.Size() - max
	if off < 0 {
		off = 0
	}
	buf := make([]byte, info.Size()-off)
	nr, _ := f.ReadAt(buf, off)
	return string(buf[:nr])
}

// MissingAPIs returns the names of the given API keys that the node does not
// advertise in ApiVersions.
func (n *Node) MissingAPIs(t testing.TB, keys ...kmsg.Key) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	vs, err := kadm.NewClient(n.Client(t)).ApiVersions(ctx)
	if err != nil {
		t.Fatalf("ApiVersions: %v", err)
	}
	var missing []string
	vs.Each(func(v kadm.BrokerApiVersions) {
		for _, k := range keys {
			if _, ok := v.KeyMaxVersion(k.Int16()); !ok {
				missing = append(missing, k.Name())
			}
		}
	})
	return missing
}

// GroupAPIs are the APIs a classic consumer group needs.
var GroupAPIs = []kmsg.Key{kmsg.FindCoordinator, kmsg.JoinGroup, kmsg.SyncGroup,
	kmsg.Heartbeat, kmsg.LeaveGroup, kmsg.OffsetCommit, kmsg.OffsetFetch}

// RequireAPIs fails the test unless the node advertises every one of keys
// in ApiVersions; what names the feature they make up ("transactions").
// A broker that does not serve what a test needs fails it: a skip would
// hide the gap.
func (n *Node) RequireAPIs(t testing.TB, what string, keys ...kmsg.Key) {
	t.Helper()
	if missing := n.MissingAPIs(t, keys...); len(missing) > 0 {
		slices.Sort(missing)
		t.Fatalf("the broker does not serve %s: ApiVersions lacks %v", what, slices.Compact(missing))
	}
}

// RequireGroups fails a consumer-group test unless the broker serves
// consumer groups.
func (n *Node) RequireGroups(t testing.TB) {
	t.Helper()
	n.RequireAPIs(t, "consumer groups", GroupAPIs...)
}

// SkipInShort skips the test in -short mode; what says which process it
// would start ("runs the Java driver"). `go test -short ./...` starts none.
func SkipInShort(t testing.TB, what string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("%s; not in -short", what)
	}
}
