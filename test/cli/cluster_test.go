package cli_test

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/samsa-streaming/samsa/internal/clustertest"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestClusterCommands runs the binary's cluster and partition commands
// against three combined broker+controller nodes. The subtests share the
// cluster and run in order: the last ones stop node 3 and remove it.
func TestClusterCommands(t *testing.T) {
	c := clustertest.StartCluster(t, 3, clustertest.ClusterOptions{
		Config: "broker.heartbeat.interval.ms=200\nbroker.session.timeout.ms=1500\n",
	})
	seeds := func() string {
		var s []string
		for _, n := range c.Nodes {
			if n.Running() {
				s = append(s, n.Addr)
			}
		}
		return strings.Join(s, ",")
	}
	run := func(t *testing.T, args ...string) cliResult {
		t.Helper()
		// The connection flags go right after the subcommand.
		return runCLI(t, "", slices.Concat(args[:2], []string{"-b", seeds()}, args[2:])...)
	}
	ok := func(t *testing.T, args ...string) cliResult {
		t.Helper()
		r := run(t, args...)
		if r.err != nil {
			t.Fatalf("samsa %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.err, r.stdout, r.stderr)
		}
		return r
	}
	// needAPIs fails a subtest whose command the brokers do not serve.
	needAPIs := func(t *testing.T, keys ...kmsg.Key) {
		t.Helper()
		c.Nodes[0].RequireAPIs(t, "what this command needs", keys...)
	}

	var controller int32
	t.Run("brokers", func(t *testing.T) {
		r := ok(t, "cluster", "brokers")
		rows := brokerRows(t, r.stdout)
		if len(rows) != 3 {
			t.Fatalf("want 3 brokers:\n%s", r.stdout)
		}
		actives := 0
		for i, row := range rows {
			n := c.Nodes[i]
			if row.id != n.ID || row.addr != n.Addr || row.rack != "-" || row.state != "active" {
				t.Fatalf("broker row %+v, want node %d at %s, active:\n%s", row, n.ID, n.Addr, r.stdout)
			}
			switch row.controller {
			case "active":
				actives++
				controller = row.id
			case "voter":
			default:
				t.Fatalf("broker %d has controller role %q, want active or voter:\n%s", row.id, row.controller, r.stdout)
			}
		}
		if actives != 1 {
			t.Fatalf("want exactly one active controller:\n%s", r.stdout)
		}
	})

	t.Run("quorum", func(t *testing.T) {
		r := ok(t, "cluster", "quorum")
		field := func(name string) string {
			m := regexp.MustCompile(`(?m)^` + name + `\s+(\S+)$`).FindStringSubmatch(r.stdout)
			if m == nil {
				t.Fatalf("quorum lacks %s:\n%s", name, r.stdout)
			}
			return m[1]
		}
		leader, err := strconv.Atoi(field("LEADER"))
		if err != nil || leader < 1 || leader > 3 {
			t.Fatalf("leader %q:\n%s", field("LEADER"), r.stdout)
		}
		if controller != 0 && int32(leader) != controller {
			t.Fatalf("quorum leader %d, but brokers named %d the active controller:\n%s", leader, controller, r.stdout)
		}
		if v := field("VOTERS"); v != "[1,2,3]" {
			t.Fatalf("voters %s:\n%s", v, r.stdout)
		}
		if epoch, err := strconv.Atoi(field("EPOCH")); err != nil || epoch < 1 {
			t.Fatalf("epoch %q:\n%s", field("EPOCH"), r.stdout)
		}
		// One row per voter; the leader knows every voter's log end
		// offset.
		rows := regexp.MustCompile(`(?m)^([123])\s+(leader|follower)\s+(\d+)\s+(\d+)\s`).FindAllStringSubmatch(r.stdout, -1)
		if len(rows) != 3 {
			t.Fatalf("want 3 voter rows with offsets and lag:\n%s", r.stdout)
		}
		if rows[0][1] != strconv.Itoa(leader) || rows[0][2] != "leader" || rows[1][2] != "follower" || rows[2][2] != "follower" {
			t.Fatalf("leader row first, then followers:\n%s", r.stdout)
		}
	})

	t.Run("describe shows replicas and ISR", func(t *testing.T) {
		ok(t, "topic", "create", "rf3", "-p", "2", "-r", "3")
		r := ok(t, "topic", "describe", "rf3")
		rows := regexp.MustCompile(`(?m)^(\d+)\s+(\d+|none)\s+(\d+)\s+\[([\d,]*)\]\s+\[([\d,]*)\]`).FindAllStringSubmatch(r.stdout, -1)
		if len(rows) != 2 {
			t.Fatalf("want 2 partition rows:\n%s", r.stdout)
		}
		for _, row := range rows {
			replicas, isr := ids(row[4]), ids(row[5])
			if len(replicas) != 3 || len(slices.Compact(slices.Sorted(slices.Values(replicas)))) != 3 {
				t.Fatalf("partition %s: replicas %v, want 3 distinct brokers:\n%s", row[1], replicas, r.stdout)
			}
			if len(isr) == 0 {
				t.Fatalf("partition %s: empty ISR:\n%s", row[1], r.stdout)
			}
			for _, b := range isr {
				if !slices.Contains(replicas, b) {
					t.Fatalf("partition %s: ISR member %d is not a replica:\n%s", row[1], b, r.stdout)
				}
			}
			if row[2] != "none" && !slices.Contains(replicas, atoi32(t, row[2])) {
				t.Fatalf("partition %s: leader %s is not a replica:\n%s", row[1], row[2], r.stdout)
			}
		}
	})

	t.Run("bad input", func(t *testing.T) {
		run(t, "partition", "reassign", "--topic", "nope", "--partition", "0", "--replicas", "1").wantErr(t, "topic nope does not exist")
		run(t, "partition", "reassign", "--topic", "rf3", "--partition", "7", "--replicas", "1").wantErr(t, "partition 7 does not exist: topic rf3 has 2 partitions")
		run(t, "partition", "reassign", "--topic", "rf3", "--partition", "0", "--replicas", "1,9").
			wantErr(t, "broker 9 in the new replicas of rf3-0 is not registered in the cluster (brokers: 1, 2, 3)")
		run(t, "partition", "elect-leaders", "--topic", "nope").wantErr(t, "topic nope does not exist")
		run(t, "partition", "elect-leaders", "--topic", "rf3", "--partition", "5").wantErr(t, "partition 5 does not exist: topic rf3 has 2 partitions")
		run(t, "partition", "list-reassignments", "--topic", "nope").wantErr(t, "topic nope does not exist")
		run(t, "cluster", "remove-broker", "9").wantErr(t, "broker 9 is not registered in the cluster (brokers: 1, 2, 3)")
	})

	t.Run("reassign dry run", func(t *testing.T) {
		r := ok(t, "partition", "reassign", "--topic", "rf3", "--partition", "1", "--replicas", "3,2,1", "--dry-run")
		if !regexp.MustCompile(`(?m)^rf3\s+1\s+\[\d,\d,\d\]\s+\[3,2,1\]$`).MatchString(r.stdout) ||
			!strings.Contains(r.stdout, `{"version":1,"partitions":[{"topic":"rf3","partition":1,"replicas":[`) ||
			!strings.HasSuffix(r.stdout, "dry run: nothing submitted\n") {
			t.Fatalf("dry run said:\n%s", r.stdout)
		}
	})

	t.Run("remove-broker plan", func(t *testing.T) {
		// rf3 has a replica on every broker: there is nowhere to move
		// broker 3's.
		run(t, "cluster", "remove-broker", "3", "--dry-run").wantErr(t,
			"cannot move 2 partitions off broker 3: every other live broker (1,2) already holds a replica of each: rf3-0, rf3-1; add a broker or lower the replication factor first")
		ok(t, "topic", "delete", "rf3")
		ok(t, "topic", "create", "moveme", "-p", "6", "-r", "2")
		var r cliResult
		eventually(t, "rf3 still planned after its deletion", func() string {
			r = run(t, "cluster", "remove-broker", "3", "--dry-run")
			if r.err != nil {
				return r.err.Error()
			}
			return ""
		})
		rows := regexp.MustCompile(`(?m)^moveme\s+(\d)\s+\[([\d,]+)\]\s+\[([\d,]+)\]$`).FindAllStringSubmatch(r.stdout, -1)
		if len(rows) == 0 {
			t.Fatalf("no moves planned off broker 3 for 6 partitions on 3 brokers:\n%s", r.stdout)
		}
		for _, row := range rows {
			from, to := ids(row[2]), ids(row[3])
			at := slices.Index(from, 3)
			if at < 0 || len(to) != 2 || slices.Contains(to, 3) || to[1-at] != from[1-at] || to[0] == to[1] {
				t.Fatalf("move of moveme-%s from %v to %v does not replace 3 in place:\n%s", row[1], from, to, r.stdout)
			}
		}
		if !strings.Contains(r.stdout, `{"version":1,"partitions":[{"topic":"moveme",`) ||
			!strings.Contains(r.stdout, "dry run: nothing changed") {
			t.Fatalf("dry run lacks the plan JSON or the dry-run note:\n%s", r.stdout)
		}
	})

	t.Run("list-reassignments", func(t *testing.T) {
		needAPIs(t, kmsg.ListPartitionReassignments)
		r := ok(t, "partition", "list-reassignments")
		if r.stdout != "no partition reassignments in progress\n" {
			t.Fatalf("list-reassignments said:\n%s", r.stdout)
		}
		r = ok(t, "partition", "list-reassignments", "--topic", "moveme")
		if r.stdout != "no partition reassignments in progress\n" {
			t.Fatalf("list-reassignments --topic said:\n%s", r.stdout)
		}
	})

	t.Run("elect-leaders", func(t *testing.T) {
		needAPIs(t, kmsg.ElectLeaders)
		r := ok(t, "partition", "elect-leaders", "--topic", "moveme", "--partition", "0,1")
		if got := regexp.MustCompile(`(?m)^(elected a new leader for )?moveme-[01]( already has the leader asked for \(ELECTION_NOT_NEEDED\))?$`).FindAllString(r.stdout, -1); len(got) != 2 {
			t.Fatalf("elect-leaders said:\n%s", r.stdout)
		}
		ok(t, "partition", "elect-leaders", "--all")
	})

	t.Run("reassign", func(t *testing.T) {
		needAPIs(t, kmsg.AlterPartitionAssignments, kmsg.ListPartitionReassignments)
		d := ok(t, "topic", "describe", "moveme")
		m := regexp.MustCompile(`(?m)^0\s+\S+\s+\d+\s+\[(\d),(\d)\]`).FindStringSubmatch(d.stdout)
		if m == nil {
			t.Fatalf("describe moveme:\n%s", d.stdout)
		}
		cur := []int32{atoi32(t, m[1]), atoi32(t, m[2])}
		// Swap one replica for the broker that does not hold it.
		spare := int32(6) - cur[0] - cur[1]
		target := strconv.Itoa(int(cur[0])) + "," + strconv.Itoa(int(spare))
		r := ok(t, "partition", "reassign", "--topic", "moveme", "--partition", "0", "--replicas", target, "--wait", "--wait-timeout", "60s")
		if !strings.HasSuffix(r.stdout, "reassignment of partition moveme-0 complete\n") {
			t.Fatalf("reassign --wait said:\n%s", r.stdout)
		}
		r = ok(t, "partition", "reassign", "--topic", "moveme", "--partition", "0", "--replicas", target, "--verify")
		if !strings.HasPrefix(r.stdout, "reassignment of moveme-0 is complete: replicas [") {
			t.Fatalf("--verify said:\n%s", r.stdout)
		}
		r = ok(t, "partition", "reassign", "--topic", "moveme", "--partition", "0", "--cancel")
		if r.stdout != "no reassignment of moveme-0 was in progress\n" {
			t.Fatalf("--cancel with nothing in progress said:\n%s", r.stdout)
		}
	})

	t.Run("stopped broker is fenced", func(t *testing.T) {
		c.Node(3).Stop()
		eventually(t, "broker 3 not shown fenced", func() string {
			r := run(t, "cluster", "brokers")
			if r.err != nil {
				return r.err.Error()
			}
			rows := brokerRows(t, r.stdout)
			if len(rows) != 3 || rows[2].id != 3 || rows[2].state != "fenced" || rows[0].state != "active" || rows[1].state != "active" {
				return "brokers:\n" + r.stdout
			}
			return ""
		})
	})

	t.Run("remove-broker", func(t *testing.T) {
		needAPIs(t, kmsg.AlterPartitionAssignments, kmsg.ListPartitionReassignments, kmsg.UnregisterBroker)
		r := ok(t, "cluster", "remove-broker", "3", "--wait-timeout", "90s")
		if !strings.HasSuffix(r.stdout, "unregistered broker 3\n") {
			t.Fatalf("remove-broker said:\n%s", r.stdout)
		}
		b := ok(t, "cluster", "brokers")
		if rows := brokerRows(t, b.stdout); len(rows) != 2 || rows[0].id != 1 || rows[1].id != 2 {
			t.Fatalf("brokers after removing 3:\n%s", b.stdout)
		}
		d := ok(t, "topic", "describe", "moveme")
		if regexp.MustCompile(`(?m)^\d+\s+\S+\s+\d+\s+\[[\d,]*3`).MatchString(d.stdout) {
			t.Fatalf("a replica is still on broker 3:\n%s", d.stdout)
		}
	})
}

// brokerRow is one row of `cluster brokers`.
type brokerRow struct {
	id                            int32
	addr, rack, state, controller string
}

func brokerRows(t *testing.T, out string) []brokerRow {
	t.Helper()
	var rows []brokerRow
	for _, m := range regexp.MustCompile(`(?m)^(\d+)\s+(\S+)\s+(\S+)\s+(active|fenced)\s+(\S+)$`).FindAllStringSubmatch(out, -1) {
		rows = append(rows, brokerRow{atoi32(t, m[1]), m[2], m[3], m[4], m[5]})
	}
	return rows
}

// ids parses "1,2,3".
func ids(s string) []int32 {
	var out []int32
	for f := range strings.SplitSeq(s, ",") {
		if n, err := strconv.Atoi(f); err == nil {
			out = append(out, int32(n))
		}
	}
	return out
}

func atoi32(t *testing.T, s string) int32 {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return int32(n)
}
