package compat

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// The churn scenario: one consumer group per client, members joining,
// leaving and being killed while franz-go produces in the background.
//
// Every member is a process of its own, so that "killed" is a real SIGKILL
// for every client: Java and Python run their drivers' churn-member mode, and
// the Go clients (sarama, kafka-go, confluent-kafka-go) run in this test
// binary, re-executed with churnMemberEnv set (see TestMain). A member is
// stopped gracefully by closing its stdin: it finishes its batch, commits,
// closes its consumer (leaving the group) and exits 0.
//
// Members print JSON lines (churnEvent): every record they processed, and
// after that every commit the client confirmed. The test checks:
//   - every produced record was consumed at least once, where a killed
//     member's records count only below what the broker had committed when
//     it died (work in flight dies with the process);
//   - committed offsets never go backwards: in the broker's answers to
//     OffsetFetch (polled every 100 ms), in the commit history the broker
//     wrote to __consumer_offsets, and in each member's confirmed commits;
//   - once everything is consumed and the members have left, the committed
//     offsets equal the end offsets;
//   - a member that joins later resumes from committed offsets: its first
//     offset in a partition is a committed offset at least as new as the
//     commit seen before it started, and a member joining the empty group
//     at the end reads exactly the records produced after everything was
//     committed.

const (
	churnPartitions = 6
	churnRecords    = 3000
	// churnRate is records produced per 50 ms tick, round robin over the
	// partitions (240 records/s).
	churnRate = 12
	// churnSession is the members' session timeout: the broker's default
	// group.min.session.timeout.ms, so a killed member is evicted soon.
	churnSession = 6 * time.Second
	churnWait    = 45 * time.Second
	// churnMemberEnv, set to 1, makes the test binary run one Go client's
	// churn member (runChurnMember) instead of the tests.
	churnMemberEnv = "SAMSA_COMPAT_CHURN_MEMBER"
)

// churnBrokerConfig keeps groups fast: few offsets partitions, no initial
// rebalance delay, and (for group.protocol=consumer) a 6 s session.
const churnBrokerConfig = "offsets.topic.num.partitions=4\n" +
	"group.initial.rebalance.delay.ms=0\n" +
	"group.consumer.session.timeout.ms=6000\n" +
	"group.consumer.heartbeat.interval.ms=1000\n"

// TestMain runs a Go client's churn member when churnMemberEnv is set
// (the test re-executes its own binary for that), and the tests otherwise.
func TestMain(m *testing.M) {
	if os.Getenv(churnMemberEnv) == "1" {
		os.Exit(runChurnMember(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// churnCommand makes the command that runs one member named name.
type churnCommand func(node *clustertest.Node, topic, group, name string) *exec.Cmd

// TestChurn runs the churn scenario for every client's group consumer, one
// client after another (franz-go's is in test/group). It is
// not parallel: with 6 s sessions, a starved machine would evict members
// that are alive.
func TestChurn(t *testing.T) {
	node := clustertest.Start(t, clustertest.Options{Config: churnBrokerConfig})
	goMember := func(t *testing.T, client string) churnCommand {
		exe, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		return func(node *clustertest.Node, topic, group, name string) *exec.Cmd {
			cmd := exec.Command(exe, client, node.Addr, topic, group, name)
			cmd.Env = append(os.Environ(), churnMemberEnv+"=1")
			return cmd
		}
	}
	javaMember := func(t *testing.T, protocol string) churnCommand {
		java, jar := javaCommand(t)
		return func(node *clustertest.Node, topic, group, name string) *exec.Cmd {
			args := []string{"-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-jar", jar,
				"churn-member", node.Addr, topic, group, "client.id=" + name, "group.protocol=" + protocol}
			if protocol == "classic" {
				// group.protocol=consumer takes these from the broker.
				args = append(args, fmt.Sprintf("session.timeout.ms=%d", churnSession.Milliseconds()),
					"heartbeat.interval.ms=1000")
			}
			return exec.Command(java, args...)
		}
	}
	clients := []struct {
		name  string
		setup func(t *testing.T) churnCommand
	}{
		{"sarama", func(t *testing.T) churnCommand { return goMember(t, "sarama") }},
		{"kafka-go", func(t *testing.T) churnCommand { return goMember(t, "kafka-go") }},
		{"confluent-kafka-go", func(t *testing.T) churnCommand {
			requireTool(t, "confluent-kafka-go", confluentChurnUnavailable(), "CGO_ENABLED=1 and a C compiler")
			return goMember(t, "confluent-kafka-go")
		}},
		{"java-classic", func(t *testing.T) churnCommand { return javaMember(t, "classic") }},
		{"java-consumer", func(t *testing.T) churnCommand {
			// group.protocol=consumer (KIP-848) needs ConsumerGroupHeartbeat.
			node.RequireAPIs(t, "KIP-848 consumer groups (group.protocol=consumer)", kmsg.ConsumerGroupHeartbeat)
			return javaMember(t, "consumer")
		}},
		{"python", func(t *testing.T) churnCommand {
			python, script := pythonCommand(t)
			return func(node *clustertest.Node, topic, group, name string) *exec.Cmd {
				return exec.Command(python, script, "churn-member", node.Addr, topic, group, "client.id="+name,
					fmt.Sprintf("session.timeout.ms=%d", churnSession.Milliseconds()), "heartbeat.interval.ms=1000")
			}
		}},
	}
	for _, c := range clients {
		t.Run(c.name, func(t *testing.T) {
			node.RequireGroups(t)
			cmd := c.setup(t)
			r := &churnRun{t: t, node: node, client: c.name, command: cmd,
				topic: "churn-" + c.name, group: "churn-group-" + c.name,
				members: make(map[string]*churnMember)}
			r.run()
		})
	}
}

// churnPos is a record's position.
type churnPos struct {
	p int32
	o int64
}

// churnEvent is one JSON line from a member.
type churnEvent struct {
	Event      string  `json:"event"`
	Topic      string  `json:"topic,omitempty"`
	Partition  int32   `json:"partition"`
	Offset     int64   `json:"offset"`
	Partitions []int32 `json:"partitions,omitempty"`
	Error      string  `json:"error,omitempty"`
}

// churnRun is one client's scenario.
type churnRun struct {
	t       *testing.T
	node    *clustertest.Node
	client  string
	command churnCommand
	topic   string
	group   string
	begin   time.Time

	mu      sync.Mutex
	members map[string]*churnMember
	order   []string
}

// churnMember is one member process.
type churnMember struct {
	name   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr *tailWriter
	done   chan struct{} // closed once stdout ended and the process was reaped
	err    error         // the exit status, valid once done is closed

	// guarded by churnRun.mu
	records      []churnPos
	first        map[int32]int64     // first offset consumed per partition
	lastAt       map[int32]time.Time // when the last record of a partition arrived
	commits      []churnPos
	lastCommitAt time.Time
	failures     int      // commit_failed events
	notes        []string // other events, the latest few
	closed       bool     // printed "closed"
	leaving      bool     // stopped or killed by the test
	killed       bool
	killedAt     map[int32]int64 // broker's committed offsets after the kill
	badOutput    int
}

func (r *churnRun) logf(format string, args ...any) {
	r.t.Helper()
	r.t.Logf("%5.1fs %s", time.Since(r.begin).Seconds(), fmt.Sprintf(format, args...))
}

func (r *churnRun) run() {
	t := r.t
	r.begin = time.Now()
	createTopicN(t, r.node, r.topic, churnPartitions)
	adm := kadm.NewClient(r.node.Client(t))
	watch := watchChurnCommits(t, adm, r.group, r.topic)
	prod := startChurnProducer(t, r.node, r.topic)
	defer prod.halt()
	t.Cleanup(r.reportOnFailure)

	r.start("A")
	r.waitUntil("A consumed 150 records and committed", func() bool {
		return r.count("A") >= 150 && r.commitCount("A") > 0
	})
	r.start("B")
	r.start("C")
	r.waitUntil("B and C joined (rebalance) and consumed", func() bool { return r.count("B") >= 20 && r.count("C") >= 20 })

	left := time.Now()
	r.stop("B")
	r.waitUntil("B left and every partition is consumed by A or C", func() bool { return r.coveredSince(left, "A", "C") })
	settled := time.Now()
	r.waitUntil("C committed in the new generation", func() bool { return r.committedSince(settled, "C") })

	r.kill("C")
	killed := time.Now()
	// Whatever C sent before it died has reached the broker by now; C's
	// records count as consumed only below what was committed.
	time.Sleep(time.Second)
	snap := churnCommitted(t, adm, r.group, r.topic)
	r.mu.Lock()
	r.members["C"].killedAt = snap
	r.mu.Unlock()
	r.logf("C killed; committed then: %v", snap)
	r.waitUntil("C evicted and every partition is consumed by A", func() bool { return r.coveredSince(killed, "A") })

	beforeD := churnCommitted(t, adm, r.group, r.topic)
	joined := time.Now()
	r.start("D")
	r.waitUntil("D joined and every partition is consumed by A or D", func() bool {
		return r.count("D") >= 20 && r.coveredSince(joined, "A", "D")
	})

	r.waitUntil(fmt.Sprintf("%d records produced", churnRecords), func() bool { return prod.count() >= churnRecords })
	acks := prod.stop(t)
	r.logf("producer stopped after %d records", len(acks))
	r.waitUntil("every record consumed", func() bool { return len(r.missing(acks)) == 0 }, func() string {
		miss := r.missing(acks)
		return fmt.Sprintf("%d records not consumed (a killed member's above its commits excluded), e.g. %v", len(miss), miss[:min(len(miss), 10)])
	})
	r.stop("A")
	r.stop("D")
	ends := r.waitCommittedAtEnd(adm, "after A and D left")

	// A new member resumes from the commits: it reads exactly the records
	// produced from now on.
	r.start("E")
	fresh := produceChurn(t, r.node, r.topic, 60)
	r.waitUntil("E consumed the 60 new records", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		have := make(map[churnPos]bool)
		for _, p := range r.members["E"].records {
			have[p] = true
		}
		for _, p := range fresh {
			if !have[p] {
				return false
			}
		}
		return true
	})
	r.stop("E")
	final := r.waitCommittedAtEnd(adm, "after E left")
	watch.finish()

	// The checks.
	all := append(slices.Clone(acks), fresh...)
	if miss := r.missing(all); len(miss) > 0 {
		t.Errorf("%d records never consumed (killed members' records above their commits excluded), e.g. %v", len(miss), miss[:min(len(miss), 10)])
	}
	r.checkConsumedExist(all)
	if len(watch.regress) > 0 {
		t.Errorf("OffsetFetch answers went backwards: %v", watch.regress)
	}
	history := churnCommitHistory(t, r.node, r.group, r.topic)
	checkHistory(t, history, final)
	r.checkMemberCommits()
	r.checkResume("D", beforeD, history, false)
	r.checkResume("E", ends, history, true)
	r.summary()
}

// start runs member name.
func (r *churnRun) start(name string) {
	t := r.t
	t.Helper()
	cmd := r.command(r.node, r.topic, r.group, "samsa-churn-"+name)
	m := &churnMember{name: name, cmd: cmd, stderr: &tailWriter{max: 32 << 10}, done: make(chan struct{}),
		first: make(map[int32]int64), lastAt: make(map[int32]time.Time)}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = m.stderr
	m.stdin = stdin
	if err := cmd.Start(); err != nil {
		t.Fatalf("start member %s: %v", name, err)
	}
	r.mu.Lock()
	r.members[name] = m
	r.order = append(r.order, name)
	r.mu.Unlock()
	go func() { // owned by m; stopped by closing its stdin or killing it; waited via m.done
		defer close(m.done)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		for sc.Scan() {
			r.handle(m, sc.Bytes())
		}
		_, _ = io.Copy(io.Discard, stdout)
		m.err = cmd.Wait()
	}()
	t.Cleanup(func() {
		select {
		case <-m.done:
		default:
			_ = cmd.Process.Kill()
			<-m.done
		}
	})
	r.logf("started member %s: %s", name, strings.Join(cmd.Args[1:], " "))
}

// handle takes one line of member output.
func (r *churnRun) handle(m *churnMember, line []byte) {
	now := time.Now()
	var ev churnEvent
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &ev) != nil {
		m.badOutput++
		m.note(fmt.Sprintf("stdout: %.200s", line))
		return
	}
	switch ev.Event {
	case "record":
		if ev.Topic != r.topic {
			m.note(fmt.Sprintf("record of topic %q", ev.Topic))
			m.badOutput++
			return
		}
		p := churnPos{ev.Partition, ev.Offset}
		m.records = append(m.records, p)
		if _, ok := m.first[p.p]; !ok {
			m.first[p.p] = p.o
		}
		m.lastAt[p.p] = now
	case "commit":
		m.commits = append(m.commits, churnPos{ev.Partition, ev.Offset})
		m.lastCommitAt = now
	case "commit_failed":
		m.failures++
		m.note(fmt.Sprintf("%5.1fs commit failed: %s", now.Sub(r.begin).Seconds(), ev.Error))
	case "closed":
		m.closed = true
	case "assigned", "revoked", "lost":
		m.note(fmt.Sprintf("%5.1fs %s %v", now.Sub(r.begin).Seconds(), ev.Event, ev.Partitions))
	default:
		m.note(fmt.Sprintf("%5.1fs %s %s", now.Sub(r.begin).Seconds(), ev.Event, ev.Error))
	}
}

func (m *churnMember) note(s string) {
	m.notes = append(m.notes, s)
	if len(m.notes) > 40 {
		m.notes = m.notes[len(m.notes)-40:]
	}
}

// stop closes member name's stdin and waits for it to leave the group and
// exit 0.
func (r *churnRun) stop(name string) {
	t := r.t
	t.Helper()
	r.mu.Lock()
	m := r.members[name]
	m.leaving = true
	r.mu.Unlock()
	start := time.Now()
	_ = m.stdin.Close()
	select {
	case <-m.done:
	case <-time.After(churnWait):
		_ = m.cmd.Process.Kill()
		<-m.done
		t.Errorf("member %s did not exit within %v of being told to stop; killed it", name, churnWait)
	}
	r.mu.Lock()
	closed := m.closed
	r.mu.Unlock()
	if m.err != nil || !closed {
		t.Errorf("member %s: exit %v, closed %v\nstderr:\n%s", name, m.err, closed, m.stderr.String())
	}
	r.logf("member %s left (close took %v)", name, time.Since(start).Round(time.Millisecond))
}

// kill SIGKILLs member name: it sends no LeaveGroup and commits nothing more.
func (r *churnRun) kill(name string) {
	r.t.Helper()
	r.mu.Lock()
	m := r.members[name]
	m.leaving = true
	m.killed = true
	r.mu.Unlock()
	_ = m.cmd.Process.Kill()
	<-m.done
	r.logf("member %s killed", name)
}

// waitUntil polls cond, failing the test if a member exits on its own or
// the wait times out; diag explains a timeout.
func (r *churnRun) waitUntil(what string, cond func() bool, diag ...func() string) {
	t := r.t
	t.Helper()
	deadline := time.Now().Add(churnWait)
	for !cond() {
		r.mu.Lock()
		for _, name := range r.order {
			m := r.members[name]
			select {
			case <-m.done:
				if !m.leaving {
					r.mu.Unlock()
					t.Fatalf("while waiting for %s, member %s exited on its own: %v\nstderr:\n%s", what, name, m.err, m.stderr.String())
				}
			default:
			}
		}
		r.mu.Unlock()
		if time.Now().After(deadline) {
			var why []string
			for _, d := range diag {
				why = append(why, d())
			}
			t.Fatalf("timed out after %v waiting for: %s %s", churnWait, what, strings.Join(why, "; "))
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.logf("%s", what)
}

func (r *churnRun) count(name string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.members[name].records)
}

// committedSince reports whether member name confirmed a commit since t.
func (r *churnRun) committedSince(t time.Time, name string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return !r.members[name].lastCommitAt.Before(t)
}

func (r *churnRun) commitCount(name string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.members[name].commits)
}

// coveredSince reports whether every partition has had a record consumed
// by one of the named members since t.
func (r *churnRun) coveredSince(t time.Time, names ...string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for p := int32(0); p < churnPartitions; p++ {
		ok := false
		for _, n := range names {
			if at, seen := r.members[n].lastAt[p]; seen && !at.Before(t) {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// missing returns the records of want nobody consumed. A killed member's
// records count only below the offset the broker had committed when it
// died: the rest died with it and must be consumed again by someone else.
func (r *churnRun) missing(want []churnPos) []churnPos {
	r.mu.Lock()
	defer r.mu.Unlock()
	have := make(map[churnPos]bool)
	for _, m := range r.members {
		for _, p := range m.records {
			if m.killed && (m.killedAt == nil || p.o >= m.killedAt[p.p]) {
				continue
			}
			have[p] = true
		}
	}
	var out []churnPos
	for _, p := range want {
		if !have[p] {
			out = append(out, p)
		}
	}
	return out
}

// checkConsumedExist requires every consumed position to be a produced one.
func (r *churnRun) checkConsumedExist(all []churnPos) {
	r.mu.Lock()
	defer r.mu.Unlock()
	produced := make(map[churnPos]bool, len(all))
	for _, p := range all {
		produced[p] = true
	}
	for _, name := range r.order {
		bad := 0
		for _, p := range r.members[name].records {
			if !produced[p] {
				if bad < 5 {
					r.t.Errorf("member %s consumed %d/%d, which was never produced", name, p.p, p.o)
				}
				bad++
			}
		}
		if m := r.members[name]; m.badOutput > 0 {
			r.t.Errorf("member %s printed %d unexpected lines, e.g. %v", name, m.badOutput, m.notes)
		}
	}
}

// checkMemberCommits requires each member's confirmed commits to be
// non-decreasing per partition.
func (r *churnRun) checkMemberCommits() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, name := range r.order {
		last := make(map[int32]int64)
		for _, c := range r.members[name].commits {
			if prev, ok := last[c.p]; ok && c.o < prev {
				r.t.Errorf("member %s committed partition %d at %d after committing %d", name, c.p, c.o, prev)
			}
			last[c.p] = c.o
		}
	}
}

// checkResume checks where member name started in each partition: at a
// committed offset (one in the broker's history, or 0 before any commit),
// no older than before[p]; exact means it must be before[p] itself and
// cover every partition.
func (r *churnRun) checkResume(name string, before map[int32]int64, history map[int32][]int64, exact bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.members[name]
	if len(m.first) == 0 {
		r.t.Errorf("member %s consumed nothing", name)
	}
	for p, first := range m.first {
		committed := slices.Contains(history[p], first) || (first == 0 && len(history[p]) == 0)
		switch {
		case exact && first != before[p]:
			r.t.Errorf("member %s started partition %d at offset %d, want the committed offset %d", name, p, first, before[p])
		case !committed:
			r.t.Errorf("member %s started partition %d at offset %d, which was never committed", name, p, first)
		case first < before[p]:
			r.t.Errorf("member %s started partition %d at offset %d, before the offset %d committed when it started", name, p, first, before[p])
		}
	}
	if exact {
		if len(m.first) != churnPartitions {
			r.t.Errorf("member %s consumed from partitions %v, want all %d", name, slices.Sorted(maps.Keys(m.first)), churnPartitions)
		}
		for _, p := range m.records {
			if p.o < before[p.p] {
				r.t.Errorf("member %s re-consumed %d/%d, below the committed offset %d", name, p.p, p.o, before[p.p])
				break
			}
		}
	}
	r.logf("member %s started at %v (committed before it started: %v)", name, m.first, before)
}

// checkHistory requires the broker's commit history for each partition to
// be non-decreasing and to end at the final end offset.
func checkHistory(t *testing.T, history map[int32][]int64, ends map[int32]int64) {
	t.Helper()
	n := 0
	for p := int32(0); p < churnPartitions; p++ {
		offs := history[p]
		n += len(offs)
		for i := 1; i < len(offs); i++ {
			if offs[i] < offs[i-1] {
				t.Errorf("__consumer_offsets: partition %d committed %d after %d (commit %d of %d)", p, offs[i], offs[i-1], i+1, len(offs))
				break
			}
		}
		if len(offs) == 0 || offs[len(offs)-1] != ends[p] {
			t.Errorf("__consumer_offsets: the last commit of partition %d is not the end offset %d (history %d commits, last %v)", p, ends[p], len(offs), offs[max(len(offs)-1, 0):])
		}
	}
	t.Logf("__consumer_offsets holds %d commits of the group's partitions", n)
}

// summary logs what each member did.
func (r *churnRun) summary() {
	r.mu.Lock()
	defer r.mu.Unlock()
	total, distinct := 0, make(map[churnPos]bool)
	for _, name := range r.order {
		m := r.members[name]
		total += len(m.records)
		for _, p := range m.records {
			distinct[p] = true
		}
		state := "left"
		if m.killed {
			state = "killed"
		}
		r.t.Logf("member %s (%s): %d records from partitions %v, %d commits, %d failed commits",
			name, state, len(m.records), slices.Sorted(maps.Keys(m.first)), len(m.commits), m.failures)
	}
	r.t.Logf("%s: %d records consumed, %d distinct, %d duplicates; %.1fs", r.client, total, len(distinct), total-len(distinct), time.Since(r.begin).Seconds())
}

// reportOnFailure logs each member's latest events and stderr.
func (r *churnRun) reportOnFailure() {
	if !r.t.Failed() && os.Getenv("SAMSA_TEST_LOG") != "1" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, name := range r.order {
		m := r.members[name]
		last := make(map[int32]int64)
		for _, c := range m.commits {
			last[c.p] = c.o
		}
		r.t.Logf("member %s: %d records, first offsets %v, last commits %v, %d failed commits, killed %v\n  events:\n    %s\n  stderr:\n%s",
			name, len(m.records), m.first, last, m.failures, m.killed, strings.Join(m.notes, "\n    "), m.stderr.String())
	}
}

// waitCommittedAtEnd polls until the group's committed offsets equal the
// end offsets of every partition and returns them.
func (r *churnRun) waitCommittedAtEnd(adm *kadm.Client, when string) map[int32]int64 {
	t := r.t
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		listed, err := adm.ListEndOffsets(ctx, r.topic)
		cancel()
		if err != nil {
			t.Fatalf("list end offsets: %v", err)
		}
		ends := make(map[int32]int64)
		listed.Each(func(o kadm.ListedOffset) { ends[o.Partition] = o.Offset })
		committed := churnCommitted(t, adm, r.group, r.topic)
		var diff []string
		for p := int32(0); p < churnPartitions; p++ {
			if committed[p] != ends[p] {
				diff = append(diff, fmt.Sprintf("p%d committed %d end %d", p, committed[p], ends[p]))
			}
		}
		if len(diff) == 0 {
			r.logf("committed offsets equal the end offsets %s: %v", when, ends)
			return ends
		}
		if time.Now().After(deadline) {
			t.Errorf("%s: committed offsets did not reach the end offsets within 30s: %v", when, diff)
			return ends
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// churnCommitted fetches the group's committed offsets of topic.
func churnCommitted(t *testing.T, adm *kadm.Client, group, topic string) map[int32]int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	offs, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		t.Fatalf("fetch offsets of %s: %v", group, err)
	}
	out := make(map[int32]int64)
	offs.Each(func(o kadm.OffsetResponse) {
		if o.Topic == topic && o.Err == nil && o.At >= 0 {
			out[o.Partition] = o.At
		}
	})
	return out
}

// churnWatcher polls the group's committed offsets and records any that go
// backwards.
type churnWatcher struct {
	cancel  context.CancelFunc
	done    chan struct{}
	regress []string // valid after finish
}

func watchChurnCommits(t *testing.T, adm *kadm.Client, group, topic string) *churnWatcher {
	ctx, cancel := context.WithCancel(context.Background())
	w := &churnWatcher{cancel: cancel, done: make(chan struct{})}
	go func() { // owned by w; stopped by w.cancel; waited via w.done
		defer close(w.done)
		last := make(map[int32]int64)
		for ctx.Err() == nil {
			rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
			offs, err := adm.FetchOffsets(rctx, group)
			rcancel()
			if err == nil {
				offs.Each(func(o kadm.OffsetResponse) {
					if o.Topic != topic || o.Err != nil {
						return
					}
					if prev, ok := last[o.Partition]; ok && o.At < prev {
						w.regress = append(w.regress, fmt.Sprintf("partition %d: %d after %d", o.Partition, o.At, prev))
					}
					last[o.Partition] = o.At
				})
			}
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	t.Cleanup(w.finish)
	return w
}

func (w *churnWatcher) finish() {
	w.cancel()
	<-w.done
}

// churnCommitHistory reads every offset commit of group for topic from
// __consumer_offsets, in the order the broker wrote them.
func churnCommitHistory(t *testing.T, node *clustertest.Node, group, topic string) map[int32][]int64 {
	t.Helper()
	const offsetsTopic = "__consumer_offsets"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ends, err := kadm.NewClient(node.Client(t)).ListEndOffsets(ctx, offsetsTopic)
	if err != nil {
		t.Fatalf("list end offsets of %s: %v", offsetsTopic, err)
	}
	want := make(map[int32]int64)
	start := make(map[int32]kgo.Offset)
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err == nil && o.Offset > 0 {
			want[o.Partition] = o.Offset
			start[o.Partition] = kgo.NewOffset().AtStart()
		}
	})
	cl := node.Client(t, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{offsetsTopic: start}))
	defer cl.Close()
	next := make(map[int32]int64)
	history := make(map[int32][]int64)
	reached := func() bool {
		for p, end := range want {
			if next[p] < end {
				return false
			}
		}
		return true
	}
	for !reached() {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %s: reached %v of %v before timeout", offsetsTopic, next, want)
		}
		fs.EachError(func(_ string, p int32, err error) { t.Fatalf("read %s/%d: %v", offsetsTopic, p, err) })
		fs.EachRecord(func(rec *kgo.Record) {
			next[rec.Partition] = rec.Offset + 1
			if len(rec.Key) < 2 || rec.Value == nil {
				return
			}
			if v := int16(binary.BigEndian.Uint16(rec.Key)); v != 0 && v != 1 {
				return // group metadata
			}
			var k kmsg.OffsetCommitKey
			var v kmsg.OffsetCommitValue
			if err := k.ReadFrom(rec.Key); err != nil {
				t.Fatalf("%s offset %d: offset commit key: %v", offsetsTopic, rec.Offset, err)
			}
			if k.Group != group || k.Topic != topic {
				return
			}
			if err := v.ReadFrom(rec.Value); err != nil {
				t.Fatalf("%s offset %d: offset commit value: %v", offsetsTopic, rec.Offset, err)
			}
			history[k.Partition] = append(history[k.Partition], v.Offset)
		})
	}
	return history
}

// churnProducer produces churnRate records every 50 ms, round robin over the
// partitions, until stopped.
type churnProducer struct {
	cl     *kgo.Client
	cancel context.CancelFunc
	done   chan struct{}

	mu   sync.Mutex
	acks []churnPos
	err  error
}

func startChurnProducer(t *testing.T, node *clustertest.Node, topic string) *churnProducer {
	cl := node.Client(t, kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	ctx, cancel := context.WithCancel(context.Background())
	p := &churnProducer{cl: cl, cancel: cancel, done: make(chan struct{})}
	go func() { // owned by p; stopped by p.cancel; waited via p.done
		defer close(p.done)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			for j := 0; j < churnRate; j++ {
				cl.Produce(context.Background(), &kgo.Record{Value: fmt.Appendf(nil, "%06d", i)}, p.ack)
				i++
			}
		}
	}()
	return p
}

func (p *churnProducer) ack(r *kgo.Record, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		if p.err == nil {
			p.err = err
		}
		return
	}
	p.acks = append(p.acks, churnPos{r.Partition, r.Offset})
}

func (p *churnProducer) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.acks)
}

// halt stops producing without waiting for acknowledgements.
func (p *churnProducer) halt() {
	p.cancel()
	<-p.done
}

// stop stops producing and returns every acknowledged position.
func (p *churnProducer) stop(t *testing.T) []churnPos {
	t.Helper()
	p.halt()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.cl.Flush(ctx); err != nil {
		t.Fatalf("producer flush: %v", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		t.Fatalf("produce: %v", p.err)
	}
	return slices.Clone(p.acks)
}

// produceChurn produces n records round robin and returns their positions.
func produceChurn(t *testing.T, node *clustertest.Node, topic string, n int) []churnPos {
	t.Helper()
	cl := node.Client(t, kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var recs []*kgo.Record
	for i := 0; i < n; i++ {
		recs = append(recs, &kgo.Record{Value: fmt.Appendf(nil, "fresh-%d", i)})
	}
	res := cl.ProduceSync(ctx, recs...)
	if err := res.FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
	out := make([]churnPos, 0, n)
	for _, r := range res {
		out = append(out, churnPos{r.Record.Partition, r.Record.Offset})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].p < out[j].p || out[i].p == out[j].p && out[i].o < out[j].o })
	return out
}

// createTopicN creates topic with n partitions.
func createTopicN(t testing.TB, node *clustertest.Node, topic string, n int32) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	resp, err := kadm.NewClient(node.Client(t)).CreateTopic(ctx, n, 1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}
}

// tailWriter keeps the last max bytes written to it.
type tailWriter struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (w *tailWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, b...)
	if len(w.buf) > w.max {
		w.buf = append(w.buf[:0], w.buf[len(w.buf)-w.max:]...)
	}
	return len(b), nil
}

func (w *tailWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.buf)
}

// ---- The Go clients' members, run in a re-executed test binary. ----

// churnEmitter prints events as JSON lines, one write each.
type churnEmitter struct {
	mu sync.Mutex
	w  io.Writer
}

func (e *churnEmitter) emit(ev churnEvent) {
	b, _ := json.Marshal(ev)
	e.mu.Lock()
	defer e.mu.Unlock()
	_, _ = e.w.Write(append(b, '\n'))
}

// runChurnMember runs one member: args are CLIENT BOOTSTRAP TOPIC GROUP
// NAME. It consumes until stdin closes, then leaves the group and exits 0.
func runChurnMember(args []string) int {
	if len(args) != 5 {
		fmt.Fprintln(os.Stderr, "usage: CLIENT BOOTSTRAP TOPIC GROUP NAME")
		return 2
	}
	client, bootstrap, topic, group, name := args[0], args[1], args[2], args[3], args[4]
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Owned by this process; stopped by stdin closing; not waited for, as
	// the process exits.
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	em := &churnEmitter{w: os.Stdout}
	var err error
	switch client {
	case "sarama":
		err = saramaChurnMember(ctx, em, bootstrap, topic, group, name)
	case "kafka-go":
		err = kafkaGoChurnMember(ctx, em, bootstrap, topic, group, name)
	case "confluent-kafka-go":
		err = confluentChurnMember(ctx, em, bootstrap, topic, group, name)
	default:
		err = fmt.Errorf("unknown client %q", client)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "churn member %s (%s): %v\n", name, client, err)
		return 1
	}
	em.emit(churnEvent{Event: "closed"})
	return 0
}

// saramaChurnHandler processes records one by one, marks them, and commits
// whenever its claim has nothing more buffered, and when the session ends.
type saramaChurnHandler struct {
	em    *churnEmitter
	topic string
}

func (h *saramaChurnHandler) Setup(s sarama.ConsumerGroupSession) error {
	h.em.emit(churnEvent{Event: "assigned", Partitions: s.Claims()[h.topic]})
	return nil
}

func (h *saramaChurnHandler) Cleanup(s sarama.ConsumerGroupSession) error {
	s.Commit()
	h.em.emit(churnEvent{Event: "revoked", Partitions: s.Claims()[h.topic]})
	return nil
}

func (h *saramaChurnHandler) ConsumeClaim(s sarama.ConsumerGroupSession, c sarama.ConsumerGroupClaim) error {
	for m := range c.Messages() {
		h.em.emit(churnEvent{Event: "record", Topic: m.Topic, Partition: m.Partition, Offset: m.Offset})
		s.MarkMessage(m, "")
		if len(c.Messages()) == 0 {
			// sarama reports commit failures on Errors(), not here: this
			// is the offset it was asked to commit.
			s.Commit()
			h.em.emit(churnEvent{Event: "commit", Topic: m.Topic, Partition: m.Partition, Offset: m.Offset + 1})
		}
	}
	return nil
}

// saramaChurnMember runs a sarama ConsumerGroup (range, eager) with manual
// commits.
func saramaChurnMember(ctx context.Context, em *churnEmitter, bootstrap, topic, group, name string) error {
	cfg := sarama.NewConfig()
	cfg.ClientID = name
	cfg.Net.DialTimeout = 10 * time.Second
	cfg.Metadata.Retry.Max = 10
	cfg.Consumer.Return.Errors = true
	cfg.Consumer.MaxWaitTime = 200 * time.Millisecond
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Consumer.Offsets.AutoCommit.Enable = false
	cfg.Consumer.Group.Session.Timeout = churnSession
	cfg.Consumer.Group.Heartbeat.Interval = time.Second
	cg, err := sarama.NewConsumerGroup([]string{bootstrap}, group, cfg)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // stopped when Errors closes on cg.Close; waited by wg
		defer wg.Done()
		for err := range cg.Errors() {
			em.emit(churnEvent{Event: "error", Error: err.Error()})
		}
	}()
	h := &saramaChurnHandler{em: em, topic: topic}
	for ctx.Err() == nil {
		if err := cg.Consume(ctx, []string{topic}, h); err != nil {
			em.emit(churnEvent{Event: "error", Error: "consume: " + err.Error()})
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	err = cg.Close()
	wg.Wait()
	return err
}

// kafkaGoChurnMember runs a kafka-go Reader with a GroupID, committing each
// record synchronously after processing it.
func kafkaGoChurnMember(ctx context.Context, em *churnEmitter, bootstrap, topic, group, name string) error {
	logTo := func(prefix string) kafka.LoggerFunc {
		return func(format string, args ...any) {
			fmt.Fprintf(os.Stderr, "%s %s "+format+"\n", append([]any{time.Now().Format("15:04:05.000"), prefix}, args...)...)
		}
	}
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:           []string{bootstrap},
		GroupID:           group,
		Topic:             topic,
		Dialer:            &kafka.Dialer{ClientID: name, Timeout: 10 * time.Second},
		MaxWait:           200 * time.Millisecond,
		ReadLagInterval:   -1,
		HeartbeatInterval: time.Second,
		SessionTimeout:    churnSession,
		RebalanceTimeout:  10 * time.Second,
		JoinGroupBackoff:  500 * time.Millisecond,
		StartOffset:       kafka.FirstOffset,
		CommitInterval:    0, // synchronous commits
		Logger:            logTo("kafka-go:"),
		ErrorLogger:       logTo("kafka-go error:"),
	})
	for {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			em.emit(churnEvent{Event: "error", Error: "fetch: " + err.Error()})
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
			continue
		}
		em.emit(churnEvent{Event: "record", Topic: m.Topic, Partition: int32(m.Partition), Offset: m.Offset})
		// Not ctx: a processed record is committed even when told to stop.
		cctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		err = r.CommitMessages(cctx, m)
		cancel()
		if err != nil {
			em.emit(churnEvent{Event: "commit_failed", Error: err.Error()})
			continue
		}
		em.emit(churnEvent{Event: "commit", Topic: m.Topic, Partition: int32(m.Partition), Offset: m.Offset + 1})
	}
	return r.Close()
}
