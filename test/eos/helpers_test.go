package eos_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// nodeConfig is every test's broker configuration.
const nodeConfig = "transaction.state.log.num.partitions=4\noffsets.topic.num.partitions=4\ngroup.initial.rebalance.delay.ms=0\n"

// txnAPIs are what a transactional producer and EOS consumer need.
var txnAPIs = []kmsg.Key{kmsg.InitProducerID, kmsg.AddPartitionsToTxn, kmsg.AddOffsetsToTxn,
	kmsg.EndTxn, kmsg.WriteTxnMarkers, kmsg.TxnOffsetCommit, kmsg.FindCoordinator}

// startNode starts a broker with nodeConfig (plus extra lines) and fails
// the test if the broker lacks the group or transaction APIs.
func startNode(t *testing.T, extra string) *clustertest.Node {
	t.Helper()
	node := clustertest.Start(t, clustertest.Options{Config: nodeConfig + extra})
	node.RequireGroups(t)
	node.RequireAPIs(t, "transactions", txnAPIs...)
	return node
}

func createTopic(t testing.TB, node *clustertest.Node, topic string, partitions int32) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	adm := kadm.NewClient(node.Client(t))
	resp, err := adm.CreateTopic(ctx, partitions, 1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}
	// Wait until every partition has a leader.
	for {
		md, err := adm.Metadata(ctx, topic)
		if err == nil {
			td := md.Topics[topic]
			ready := td.Err == nil && len(td.Partitions) == int(partitions)
			for _, p := range td.Partitions {
				ready = ready && p.Err == nil && p.Leader >= 0
			}
			if ready {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("topic %s has no leaders: %v", topic, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// got is one consumed record.
type got struct {
	Partition int32
	Offset    int64
	Key       string
	Value     string
}

// consumeAll reads topic from the start, with read_committed or
// read_uncommitted, until it has n records, then keeps polling a little so
// that extra records show up. Too few records within a minute fail the
// test.
func consumeAll(t testing.TB, node *clustertest.Node, topic string, committed bool, n int) []got {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	iso := kgo.ReadUncommitted()
	if committed {
		iso = kgo.ReadCommitted()
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(node.Addr), kgo.ConsumeTopics(topic), kgo.FetchIsolationLevel(iso),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []got
	var quietUntil time.Time
	for {
		if len(out) >= n {
			if quietUntil.IsZero() {
				quietUntil = time.Now().Add(500 * time.Millisecond)
			} else if time.Now().After(quietUntil) {
				return out
			}
		}
		pctx, pcancel := context.WithTimeout(ctx, 200*time.Millisecond)
		fs := cl.PollFetches(pctx)
		pcancel()
		if ctx.Err() != nil {
			t.Fatalf("consume %s (read_committed=%v): %d of %d records within a minute", topic, committed, len(out), n)
		}
		fs.EachError(func(_ string, _ int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("consume %s: %v", topic, err)
			}
		})
		fs.EachRecord(func(r *kgo.Record) {
			out = append(out, got{r.Partition, r.Offset, string(r.Key), string(r.Value)})
		})
	}
}

// byPartition groups values by partition, in offset order.
func byPartition(recs []got) map[int32][]string {
	sorted := append([]got(nil), recs...)
	sort.SliceStable(sorted, func(i, j int) bool {
		if sorted[i].Partition != sorted[j].Partition {
			return sorted[i].Partition < sorted[j].Partition
		}
		return sorted[i].Offset < sorted[j].Offset
	})
	out := map[int32][]string{}
	for _, r := range sorted {
		out[r.Partition] = append(out[r.Partition], r.Value)
	}
	return out
}

// moduleRoot finds the directory holding go.mod.
func moduleRoot(t testing.TB) string {
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
			t.Fatal("go.mod not found")
		}
		dir = parent
	}
}

// requireTool skips (fails under CI) when a driver is missing.
func requireTool(t testing.TB, what string, err error, install string) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s unavailable in CI (%s should have installed it): %v", what, install, err)
	}
	t.Skipf("%s unavailable (run %s): %v", what, install, err)
}

// javaDriver returns the java binary and test/compat's driver jar.
func javaDriver(t testing.TB) (java, jar string) {
	t.Helper()
	clustertest.SkipInShort(t, "runs the Java driver")
	java, err := exec.LookPath("java")
	requireTool(t, "java", err, "make deps-java")
	jar = os.Getenv("SAMSA_COMPAT_JAR")
	if jar == "" {
		jar = filepath.Join(moduleRoot(t), "test", "compat", "java", "target", "samsa-compat.jar")
	}
	_, err = os.Stat(jar)
	requireTool(t, "Java driver", err, "make deps-java")
	return java, jar
}

// pythonDriver returns the venv's python (with confluent_kafka) and
// test/compat's driver script.
func pythonDriver(t testing.TB) (python, script string) {
	t.Helper()
	clustertest.SkipInShort(t, "runs the Python driver")
	root := moduleRoot(t)
	python = os.Getenv("SAMSA_COMPAT_PYTHON")
	if python == "" {
		python = filepath.Join(root, ".cache", "venv", "bin", "python")
	}
	var err error
	if _, err = os.Stat(python); err == nil {
		var out []byte
		if out, err = exec.Command(python, "-c", "import confluent_kafka").CombinedOutput(); err != nil {
			err = fmt.Errorf("%v: %s", err, out)
		}
	}
	requireTool(t, "Python confluent-kafka", err, "make deps-python")
	return python, filepath.Join(root, "test", "compat", "python", "roundtrip.py")
}

// runLines runs a driver to completion and returns its JSON stdout lines
// decoded as T; a non-zero exit fails the test with its stderr.
func runLines[T any](t testing.TB, timeout time.Duration, name string, args ...string) []T {
	t.Helper()
	out, err := runLinesErr[T](timeout, name, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// runLinesErr is runLines for any goroutine: it returns the failure.
func runLinesErr[T any](timeout time.Duration, name string, args ...string) ([]T, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	out, derr := decodeLines[T](&stdout)
	if err != nil {
		return out, fmt.Errorf("%s %s: %v\nstderr:\n%s", filepath.Base(name), strings.Join(args, " "), err, tail(stderr.String(), 6000))
	}
	return out, derr
}

func decodeLines[T any](r io.Reader) ([]T, error) {
	var out []T
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] != '{' {
			continue
		}
		var v T
		if err := json.Unmarshal(line, &v); err != nil {
			return out, fmt.Errorf("bad driver output %q: %v", line, err)
		}
		out = append(out, v)
	}
	return out, nil
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// child is a long-running driver process whose stdout lines are
// collected; closing stdin asks it to stop, kill ends it with SIGKILL.
type child struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr *bytes.Buffer
	mu     sync.Mutex
	lines  [][]byte
	done   chan struct{}
	err    error
}

func startChild(t testing.TB, name string, args ...string) *child {
	t.Helper()
	c := &child{cmd: exec.Command(name, args...), stderr: &bytes.Buffer{}, done: make(chan struct{})}
	c.cmd.Stderr = c.stderr
	var err error
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { // owned by c; ends when the process's stdout closes; waited by wait
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
		for sc.Scan() {
			c.mu.Lock()
			c.lines = append(c.lines, bytes.Clone(sc.Bytes()))
			c.mu.Unlock()
		}
		c.err = c.cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() { c.kill() })
	return c
}

// waitLine waits until some stdout line contains s.
func (c *child) waitLine(t testing.TB, s string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		for _, l := range c.lines {
			if bytes.Contains(l, []byte(s)) {
				c.mu.Unlock()
				return
			}
		}
		c.mu.Unlock()
		select {
		case <-c.done:
			t.Fatalf("%s exited (%v) before printing %q\nstderr:\n%s", c.cmd.Path, c.err, s, tail(c.stderr.String(), 6000))
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("%s printed no %q within %v\nstderr:\n%s", c.cmd.Path, s, timeout, tail(c.stderr.String(), 6000))
}

// kill sends SIGKILL and waits for the process.
func (c *child) kill() {
	_ = c.cmd.Process.Kill()
	<-c.done
}

// stop closes stdin and waits up to timeout for a clean exit.
func (c *child) stop(t testing.TB, timeout time.Duration) {
	t.Helper()
	_ = c.stdin.Close()
	select {
	case <-c.done:
		if c.err != nil {
			t.Errorf("%s: %v\nstderr:\n%s", c.cmd.Path, c.err, tail(c.stderr.String(), 6000))
		}
	case <-time.After(timeout):
		c.kill()
		t.Errorf("%s did not stop within %v", c.cmd.Path, timeout)
	}
}

// numLines is how many stdout lines the child printed so far.
func (c *child) numLines() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.lines)
}
