package clustertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Pause sends SIGSTOP to the node's process group: the process stops
// answering anything (its sockets stay open), as a long GC pause or a
// stalled VM would. Kill works on a paused node; ClusterNode.Stop and
// Restart resume it first, and the end of the test resumes it before
// stopping it. (Node.Stop on a paused plain Node waits out its timeout;
// call Resume first.)
func (n *Node) Pause() {
	n.t.Helper()
	pid := n.PID()
	if pid == 0 {
		n.t.Errorf("clustertest: Pause %s: node is not running", n.Addr)
		return
	}
	if err := syscall.Kill(-pid, syscall.SIGSTOP); err != nil {
		n.t.Errorf("clustertest: Pause %s: %v", n.Addr, err)
		return
	}
	// The stop is delivered asynchronously: wait until it took effect.
	waitState(pid, true)
	// Registered now, so it runs before the node's own cleanup (which
	// SIGTERMs it): a stopped process would not handle SIGTERM.
	n.t.Cleanup(n.Resume)
}

// Resume sends SIGCONT to the node's process group. It is a no-op for a
// node that is not paused or not running.
func (n *Node) Resume() {
	if pid := n.PID(); pid != 0 {
		if syscall.Kill(-pid, syscall.SIGCONT) == nil {
			waitState(pid, false)
		}
	}
}

// waitState waits up to 2s until the process is (stopped) or is not
// stopped by a signal, where /proc tells.
func waitState(pid int, stopped bool) {
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		st, ok := procState(pid)
		if !ok || (st == 'T') == stopped {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// procState is the state letter of /proc/<pid>/stat (Linux), e.g. 'R',
// 'S', or 'T' when stopped by a signal.
func procState(pid int) (byte, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// pid (comm) state ...; comm may contain spaces, so cut at the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return 0, false
	}
	return b[i+2], true
}

// Paused reports whether the node's process is stopped by a signal
// (Linux: state T in /proc/<pid>/stat); false where that cannot be read.
func (n *Node) Paused() bool {
	pid := n.PID()
	if pid == 0 {
		return false
	}
	st, ok := procState(pid)
	return ok && st == 'T'
}

// startController launches a controller-only node (which has no Kafka
// listener to probe) and waits until its log, from this run on, says the
// controller is serving — which it does once the quorum has formed.
func (n *Node) startController(bin string) error {
	n.mu.Lock()
	if n.proc != nil {
		n.mu.Unlock()
		return errors.New("node already running")
	}
	n.mu.Unlock()
	var from int64
	if info, err := os.Stat(n.LogPath); err == nil {
		from = info.Size()
	}
	logf, err := os.OpenFile(n.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	args := append([]string{
		"serve",
		"--data-dir", n.DataDir,
		"--listen", n.Addr,
	}, n.args...)
	fmt.Fprintf(logf, "=== clustertest %s: %s %s\n", time.Now().Format(time.RFC3339Nano), bin, strings.Join(args, " "))
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), n.env...)
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	logf.Close()
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
	for {
		if logSince(n.LogPath, from, "samsa controller is serving") {
			return nil
		}
		select {
		case <-p.exited:
			n.kill()
			return fmt.Errorf("%w (%v)", errExitedEarly, p.waitErr)
		case <-ctx.Done():
			n.kill()
			return fmt.Errorf("controller-only node did not log that it is serving within %v", startTimeout)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// logSince reports whether the file at path contains s after offset from.
func logSince(path string, from int64, s string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || info.Size() <= from {
		return false
	}
	buf := make([]byte, info.Size()-from)
	nr, _ := f.ReadAt(buf, from)
	return bytes.Contains(buf[:nr], []byte(s))
}

var serveHelp struct {
	mu   sync.Mutex
	text map[string]string // binary → `serve --help` output
}

// HasServeFlag reports whether the binary's `samsa serve --help` lists
// flag (e.g. "--replication-listen").
func HasServeFlag(t testing.TB, flag string) bool {
	t.Helper()
	bin := Binary(t)
	serveHelp.mu.Lock()
	defer serveHelp.mu.Unlock()
	if serveHelp.text == nil {
		serveHelp.text = map[string]string{}
	}
	help, ok := serveHelp.text[bin]
	if !ok {
		out, err := exec.Command(bin, "serve", "--help").CombinedOutput()
		if err != nil {
			t.Fatalf("clustertest: %s serve --help: %v\n%s", bin, err, out)
		}
		help = string(out)
		serveHelp.text[bin] = help
	}
	for _, line := range strings.Split(help, "\n") {
		for _, field := range strings.Fields(line) {
			if strings.TrimSuffix(field, ",") == flag {
				return true
			}
		}
	}
	return false
}

// RequireServeFlag fails the test unless `samsa serve` has flag.
func RequireServeFlag(t testing.TB, flag string) {
	t.Helper()
	if !HasServeFlag(t, flag) {
		t.Fatalf("samsa serve has no %s flag; this test needs it", flag)
	}
}

// DescribeQuorum asks broker id (through cl) for the metadata quorum's
// state.
func DescribeQuorum(ctx context.Context, cl *kgo.Client, id int32) (*kmsg.DescribeQuorumResponseTopicPartition, error) {
	req := kmsg.NewPtrDescribeQuorumRequest()
	rt := kmsg.NewDescribeQuorumRequestTopic()
	rt.Topic = "__cluster_metadata"
	rt.Partitions = []kmsg.DescribeQuorumRequestTopicPartition{{Partition: 0}}
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl.Broker(int(id)))
	if err != nil {
		return nil, err
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return nil, err
	}
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		return nil, fmt.Errorf("DescribeQuorum: malformed response with %d topics", len(resp.Topics))
	}
	p := &resp.Topics[0].Partitions[0]
	return p, kerr.ErrorForCode(p.ErrorCode)
}

// ActiveController returns the id of the raft leader as the running
// brokers report it, once at least one running broker names a leader that
// is a running voter; it waits up to within.
func (c *Cluster) ActiveController(ctx context.Context, within time.Duration) (int32, error) {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.RunningBootstrap()...), kgo.RequestTimeoutOverhead(2*time.Second))
	if err != nil {
		return -1, err
	}
	defer cl.Close()
	last := errors.New("no running broker to ask")
	for {
		for _, b := range c.Brokers() {
			if !b.Running() || b.Paused() {
				continue
			}
			rctx, rcancel := context.WithTimeout(ctx, 2*time.Second)
			p, err := DescribeQuorum(rctx, cl, b.ID)
			rcancel()
			if err != nil {
				last = fmt.Errorf("node %d: %w", b.ID, err)
				continue
			}
			if l := c.Node(p.LeaderID); l != nil && l.Controller && l.Running() {
				return p.LeaderID, nil
			}
			last = fmt.Errorf("node %d names leader %d", b.ID, p.LeaderID)
		}
		select {
		case <-ctx.Done():
			return -1, fmt.Errorf("no active controller within %v: %w", within, last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// PartitionLeader returns the leader and leader epoch Metadata reports for
// topic/partition, waiting up to within for one that is a running broker
// other than any id in not.
func (c *Cluster) PartitionLeader(ctx context.Context, topic string, partition int32, within time.Duration, not ...int32) (leader, epoch int32, err error) {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	var last error
	for {
		leader, epoch, last = c.partitionLeaderOnce(ctx, topic, partition)
		ok := last == nil && leader >= 0
		for _, x := range not {
			ok = ok && leader != x
		}
		if ok {
			if n := c.Node(leader); n != nil && n.Running() {
				return leader, epoch, nil
			}
			last = fmt.Errorf("leader %d is not running", leader)
		} else if last == nil {
			last = fmt.Errorf("leader %d", leader)
		}
		select {
		case <-ctx.Done():
			return -1, -1, fmt.Errorf("%s/%d: no leader within %v: %w", topic, partition, within, last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (c *Cluster) partitionLeaderOnce(ctx context.Context, topic string, partition int32) (int32, int32, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.RunningBootstrap()...), kgo.RequestTimeoutOverhead(2*time.Second))
	if err != nil {
		return -1, -1, err
	}
	defer cl.Close()
	rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(rctx, cl)
	if err != nil {
		return -1, -1, err
	}
	for _, t := range resp.Topics {
		if t.Topic == nil || *t.Topic != topic {
			continue
		}
		if err := kerr.ErrorForCode(t.ErrorCode); err != nil {
			return -1, -1, err
		}
		for _, p := range t.Partitions {
			if p.Partition == partition {
				return p.Leader, p.LeaderEpoch, kerr.ErrorForCode(p.ErrorCode)
			}
		}
	}
	return -1, -1, fmt.Errorf("%s/%d not in metadata", topic, partition)
}

// PartitionDetails returns Metadata's view of every partition of topic
// (leader, epoch, replicas, ISR), sorted by partition.
func PartitionDetails(ctx context.Context, seeds []string, topic string) ([]kadm.PartitionDetail, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.RequestTimeoutOverhead(2*time.Second))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	md, err := kadm.NewClient(cl).Metadata(ctx, topic)
	if err != nil {
		return nil, err
	}
	td, ok := md.Topics[topic]
	if !ok {
		return nil, fmt.Errorf("%s not in metadata", topic)
	}
	if td.Err != nil {
		return nil, fmt.Errorf("%s: %w", topic, td.Err)
	}
	return td.Partitions.Sorted(), nil
}

// Request sends req to this node itself (whatever Metadata says about it:
// a fenced broker is not listed there, so a client's Broker(id) cannot
// reach it) on a fresh connection, and returns its response.
func (n *Node) Request(ctx context.Context, req kmsg.Request) (kmsg.Response, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(n.Addr), kgo.RequestTimeoutOverhead(2*time.Second))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	return cl.SeedBrokers()[0].Request(ctx, req)
}

// WaitUnfenced waits up to within until the Metadata of every running,
// unpaused broker lists every such broker (none is left fenced after the
// faults healed), and otherwise says which are missing where.
func (c *Cluster) WaitUnfenced(ctx context.Context, within time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	var last []string
	for {
		last = last[:0]
		var up []*ClusterNode
		for _, b := range c.Brokers() {
			if b.Running() && !b.Paused() {
				up = append(up, b)
			}
		}
		for _, b := range up {
			rctx, rcancel := context.WithTimeout(ctx, 3*time.Second)
			r, err := b.Request(rctx, kmsg.NewPtrMetadataRequest())
			rcancel()
			if err != nil {
				last = append(last, fmt.Sprintf("node %d: %v", b.ID, err))
				continue
			}
			listed := map[int32]bool{}
			for _, lb := range r.(*kmsg.MetadataResponse).Brokers {
				listed[lb.NodeID] = true
			}
			var missing []int32
			for _, o := range up {
				if !listed[o.ID] {
					missing = append(missing, o.ID)
				}
			}
			if len(missing) > 0 {
				last = append(last, fmt.Sprintf("node %d does not list running brokers %v", b.ID, missing))
			}
		}
		if len(last) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("running brokers still fenced %v after healing: %s", within, strings.Join(last, "; "))
		case <-time.After(200 * time.Millisecond):
		}
	}
}
