package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// runAdminCLI runs `samsa args...` in-process with every command,
// including `partition` (added here while root.go does not list it yet).
func runAdminCLI(t *testing.T, stdin string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	root := newRootCmd()
	if !slices.ContainsFunc(root.Commands(), func(c *cobra.Command) bool { return c.Name() == "partition" }) {
		root.AddCommand(newPartitionCmd())
	}
	var stdout, stderr strings.Builder
	root.SetArgs(args)
	root.SetIn(strings.NewReader(stdin))
	root.SetOut(&stdout)
	root.SetErr(&stderr)
	err := root.ExecuteContext(ctx)
	return cliResult{stdout: stdout.String(), stderr: stderr.String(), err: err}
}

func TestParseReassignmentJSON(t *testing.T) {
	got, err := parseReassignmentJSON([]byte(`{"version":1,"partitions":[
		{"topic":"b","partition":1,"replicas":[3,1,2],"log_dirs":["any","any","any"]},
		{"topic":"a","partition":0,"replicas":[1]}]}`), "f.json", false)
	if err != nil {
		t.Fatal(err)
	}
	want := []reassignTarget{{tp{"b", 1}, []int32{3, 1, 2}}, {tp{"a", 0}, []int32{1}}}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i].tp != want[i].tp || !slices.Equal(got[i].replicas, want[i].replicas) {
			t.Fatalf("entry %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	// No version means 1, as in Kafka; --cancel needs no replicas.
	got, err = parseReassignmentJSON([]byte(`{"partitions":[{"topic":"a","partition":2}]}`), "f.json", true)
	if err != nil || len(got) != 1 || got[0].tp != (tp{"a", 2}) || got[0].replicas != nil {
		t.Fatalf("cancel file = %+v, %v", got, err)
	}
	// What Kafka's --generate prints round-trips.
	out := formatReassignmentJSON(want)
	if out != `{"version":1,"partitions":[{"topic":"b","partition":1,"replicas":[3,1,2]},{"topic":"a","partition":0,"replicas":[1]}]}` {
		t.Fatalf("formatted = %s", out)
	}
	if back, err := parseReassignmentJSON([]byte(out), "x", false); err != nil || len(back) != 2 {
		t.Fatalf("round trip = %+v, %v", back, err)
	}

	const p = "invalid reassignment JSON in f.json: "
	for _, tc := range []struct{ in, want string }{
		{``, p + "the file is empty"},
		{`{"version":1,"partitions":[`, p + "unexpected end of the file"},
		{"{\"version\":1,\n\"partitions\":[}", p + "line 2: invalid character '}' looking for beginning of value"},
		{`[1,2]`, p + "line 1: the document must be an object, not array"},
		{`{"version":2,"partitions":[{"topic":"a","partition":0,"replicas":[1]}]}`, p + "unsupported version 2: want 1"},
		{`{"version":1,"partitions":[]}`, p + `no partitions: want {"version":1,"partitions":[{"topic":"t","partition":0,"replicas":[1,2,3]}]}`},
		{`{"version":1}`, p + `no partitions: want {"version":1,"partitions":[{"topic":"t","partition":0,"replicas":[1,2,3]}]}`},
		{`{"partitions":[{"partition":0,"replicas":[1]}]}`, p + "partitions[0] has no topic"},
		{`{"partitions":[{"topic":"a","replicas":[1]}]}`, p + "partitions[0] (topic a) has no partition"},
		{`{"partitions":[{"topic":"a","partition":-1,"replicas":[1]}]}`, p + "partitions[0]: partition -1 is negative"},
		{`{"partitions":[{"topic":"a","partition":0,"replicas":[1]},{"topic":"a","partition":0,"replicas":[2]}]}`, p + "partition a-0 is listed twice"},
		{`{"partitions":[{"topic":"a","partition":0}]}`, p + "replicas of a-0: empty: give at least one broker id"},
		{`{"partitions":[{"topic":"a","partition":0,"replicas":[1,1]}]}`, p + "replicas of a-0: broker 1 is listed twice"},
		{`{"partitions":[{"topic":"a","partition":0,"replicas":[-2]}]}`, p + "replicas of a-0: broker id -2 is negative"},
		{`{"partitions":[{"topic":"a","partition":0,"replicas":["1"]}]}`, p + "line 1: partitions.replicas must be an integer, not string"},
		{`{"partitions":[{"topic":"a","partition":"0","replicas":[1]}]}`, p + "line 1: partitions.partition must be an integer, not string"},
		{`{"partitions":[{"topic":"a","partition":0,"replicas":[99999999999]}]}`, p + "line 1: partitions.replicas must be an integer, not number 99999999999"},
		{`{"partitions":[{"topic":"a","partition":0,"replica":[1]}]}`, p + `unknown field "replica"`},
		{`{"partitions":[{"topic":"a","partition":0,"replicas":[1,2],"log_dirs":["any"]}]}`, p + "log_dirs of a-0 has 1 entries for 2 replicas"},
		{`{"partitions":[{"topic":"a","partition":0,"replicas":[1],"log_dirs":["/d1"]}]}`, p + `log_dirs of a-0 names "/d1": moving replicas between log directories is not supported, use "any"`},
		{`{"partitions":[{"topic":"a","partition":0,"replicas":[1]}]} {}`, p + "unexpected data after the JSON object at line 1"},
	} {
		if _, err := parseReassignmentJSON([]byte(tc.in), "f.json", false); err == nil || err.Error() != tc.want {
			t.Errorf("parse %q: error = %v\n want %q", tc.in, err, tc.want)
		}
	}
}

// TestPartitionFlagErrors runs the commands with bad flags; none of them
// may reach for a broker (the seed is a closed port).
func TestPartitionFlagErrors(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "plan.json")
	if err := os.WriteFile(good, []byte(`{"version":1,"partitions":[{"topic":"a","partition":0,"replicas":[1]}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte("{\n  \"partitions\": [\n    {\"topic\": \"a\", \"partition\": 0, \"replicas\": [1,]}\n  ]\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b := []string{"-b", "127.0.0.1:1", "--timeout", "2s"}
	for _, tc := range []struct {
		args  []string
		stdin string
		want  string
	}{
		{[]string{"partition", "reassign"}, "", "nothing to reassign: give --file FILE (Kafka's reassignment JSON) or --topic T --partition N --replicas IDS"},
		{[]string{"partition", "reassign", "--file", good, "--topic", "a"}, "", "--file and --topic cannot be used together: give one"},
		{[]string{"partition", "reassign", "--topic", "a", "--replicas", "1"}, "", "--topic needs --partition N"},
		{[]string{"partition", "reassign", "--topic", "a", "--partition", "0"}, "", "--topic and --partition need --replicas IDS (comma-separated broker ids), or --cancel"},
		{[]string{"partition", "reassign", "--topic", "a", "--partition", "0", "--replicas", "1,x"}, "", `invalid value "1,x" for --replicas: want comma-separated integers`},
		{[]string{"partition", "reassign", "--topic", "a", "--partition", "x", "--replicas", "1"}, "", `invalid value "x" for --partition: want an integer`},
		{[]string{"partition", "reassign", "--topic", "a", "--partition", "-1", "--replicas", "1"}, "", "invalid --partition -1: must not be negative"},
		{[]string{"partition", "reassign", "--topic", "a", "--partition", "0", "--replicas", "1,2,1"}, "", "invalid --replicas: broker 1 is listed twice"},
		{[]string{"partition", "reassign", "--topic", "a", "--partition", "0", "--replicas", "1", "--cancel"}, "", "--replicas cannot be used with --cancel"},
		{[]string{"partition", "reassign", "--file", good, "--cancel", "--verify"}, "", "--cancel and --verify cannot be used together"},
		{[]string{"partition", "reassign", "--file", good, "--dry-run", "--wait"}, "", "--dry-run cannot be used with --verify or --wait"},
		{[]string{"partition", "reassign", "--file", good, "--wait-timeout", "0s"}, "", "invalid --wait-timeout 0s: must be positive"},
		{[]string{"partition", "reassign", "--partition", "0"}, "", "--partition needs --topic"},
		{[]string{"partition", "reassign", "--file", good, "--replicas", "1"}, "", "--replicas needs --topic and --partition (with --file the replicas come from the file)"},
		{[]string{"partition", "reassign", "--file", filepath.Join(dir, "missing.json")}, "", "cannot read " + filepath.Join(dir, "missing.json") + ": no such file or directory"},
		{[]string{"partition", "reassign", "--file", bad}, "", "invalid reassignment JSON in " + bad + ": line 3: invalid character ']' looking for beginning of value"},
		{[]string{"partition", "reassign", "--file", "-"}, "not json", "invalid reassignment JSON in standard input: line 1: invalid character 'o' in literal null (expecting 'u')"},
		{[]string{"partition", "elect-leaders"}, "", "nothing to elect: give --topic TOPIC [--partition N] or --all"},
		{[]string{"partition", "elect-leaders", "--all", "--topic", "a"}, "", "--all and --topic cannot be used together: give one"},
		{[]string{"partition", "elect-leaders", "--partition", "1"}, "", "--partition needs --topic"},
		{[]string{"partition", "elect-leaders", "--all", "--type", "dirty"}, "", `invalid --type "dirty": want preferred or unclean`},
		{[]string{"partition", "elect-leaders", "--topic", "a", "--partition", "0,-3"}, "", "invalid --partition -3: must not be negative"},
		{[]string{"partition", "list-reassignments", "--partition", "1"}, "", "--partition needs --topic"},
		{[]string{"cluster", "remove-broker", "three"}, "", `invalid broker id "three": want an integer`},
		{[]string{"cluster", "remove-broker", "-1"}, "", "unknown shorthand flag: '1' in -1"},
		{[]string{"cluster", "remove-broker", "--", "-1"}, "", "invalid broker id -1: must not be negative"},
		{[]string{"cluster", "remove-broker", "99999999999"}, "", `invalid broker id "99999999999": want an integer`},
		{[]string{"cluster", "remove-broker", "1", "--wait-timeout", "-1s"}, "", "invalid --wait-timeout -1s: must be positive"},
		{[]string{"cluster", "remove-broker"}, "", "accepts 1 arg(s), received 0"},
	} {
		// The connection flags go right after the subcommand, before
		// any "--".
		args := slices.Concat(tc.args[:2], b, tc.args[2:])
		runAdminCLI(t, tc.stdin, args...).wantErr(t, tc.want)
	}
}

func TestPlanBrokerRemoval(t *testing.T) {
	brokers := []clusterBroker{{id: 1}, {id: 2}, {id: 3}, {id: 4}}
	parts := []planPartition{
		{tp{"t", 0}, []int32{3, 1}},
		{tp{"t", 1}, []int32{1, 3}},
		{tp{"t", 2}, []int32{1, 2}},
		{tp{"t", 3}, []int32{2, 3}},
		{tp{"u", 0}, []int32{3}},
	}
	moves, err := planBrokerRemoval(3, brokers, parts)
	if err != nil {
		t.Fatal(err)
	}
	// Loads before: 1:3, 2:2, 4:0. The replacement keeps the removed
	// replica's position and goes to the least loaded broker that does not
	// hold the partition: 4 (t-0), then 4 (t-1: load 1 < 2's 2), then
	// t-3 (holds 2): 4 again (load 2 vs 1's 3), then u-0: 2 (load 2 vs 4's 3).
	want := []planMove{
		{tp{"t", 0}, []int32{3, 1}, []int32{4, 1}},
		{tp{"t", 1}, []int32{1, 3}, []int32{1, 4}},
		{tp{"t", 3}, []int32{2, 3}, []int32{2, 4}},
		{tp{"u", 0}, []int32{3}, []int32{2}},
	}
	checkMoves(t, moves, want)

	// Fenced brokers receive nothing; the removed broker may itself be
	// fenced.
	brokers = []clusterBroker{{id: 1}, {id: 2, fenced: true}, {id: 3, fenced: true}, {id: 4}}
	moves, err = planBrokerRemoval(3, brokers, []planPartition{{tp{"t", 0}, []int32{1, 3}}})
	if err != nil {
		t.Fatal(err)
	}
	checkMoves(t, moves, []planMove{{tp{"t", 0}, []int32{1, 3}, []int32{1, 4}}})

	// Nothing to move is not an error.
	if moves, err := planBrokerRemoval(9, brokers, parts); err != nil || len(moves) != 0 {
		t.Fatalf("broker without replicas: %v, %v", moves, err)
	}

	// No room: every live broker already holds the partition.
	three := []clusterBroker{{id: 1}, {id: 2}, {id: 3}}
	_, err = planBrokerRemoval(3, three, []planPartition{
		{tp{"t", 0}, []int32{1, 2, 3}}, {tp{"t", 1}, []int32{3, 1, 2}}, {tp{"t", 2}, []int32{1, 3}},
	})
	if err == nil || err.Error() != "cannot move 2 partitions off broker 3: every other live broker (1,2) already holds a replica of each: t-0, t-1; add a broker or lower the replication factor first" {
		t.Fatalf("no room: %v", err)
	}
}

func TestPlanBrokerRemovalRackAware(t *testing.T) {
	// Racks a: 1, 2; b: 3, 4; c: 5. Broker 2 (rack a) leaves.
	brokers := []clusterBroker{
		{id: 1, rack: "a"}, {id: 2, rack: "a"}, {id: 3, rack: "b"}, {id: 4, rack: "b"}, {id: 5, rack: "c"},
	}
	parts := []planPartition{
		// Other replicas in a and b: only c (broker 5) adds a rack,
		// though 5 is the most loaded broker.
		{tp{"t", 0}, []int32{2, 1, 3}},
		// Other replica in c: any of 1, 3, 4; 4 is the least loaded.
		{tp{"t", 1}, []int32{5, 2}},
		// Padding load on 5 and 1.
		{tp{"x", 0}, []int32{5}}, {tp{"x", 1}, []int32{5}}, {tp{"x", 2}, []int32{5}},
		{tp{"x", 3}, []int32{1}},
	}
	moves, err := planBrokerRemoval(2, brokers, parts)
	if err != nil {
		t.Fatal(err)
	}
	checkMoves(t, moves, []planMove{
		{tp{"t", 0}, []int32{2, 1, 3}, []int32{5, 1, 3}},
		{tp{"t", 1}, []int32{5, 2}, []int32{5, 4}},
	})

	// Without racks the least loaded broker wins.
	for i := range brokers {
		brokers[i].rack = ""
	}
	moves, err = planBrokerRemoval(2, brokers, parts)
	if err != nil {
		t.Fatal(err)
	}
	checkMoves(t, moves, []planMove{
		{tp{"t", 0}, []int32{2, 1, 3}, []int32{4, 1, 3}},
		{tp{"t", 1}, []int32{5, 2}, []int32{5, 3}},
	})
}

func checkMoves(t *testing.T, got, want []planMove) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("moves = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].tp != want[i].tp || !slices.Equal(got[i].from, want[i].from) || !slices.Equal(got[i].to, want[i].to) {
			t.Fatalf("move %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestWriteQuorum(t *testing.T) {
	now := time.UnixMilli(1_000_000)
	rs := func(id int32, leo, fetch, caught int64) kmsg.DescribeQuorumResponseTopicPartitionReplicaState {
		return kmsg.DescribeQuorumResponseTopicPartitionReplicaState{ReplicaID: id, LogEndOffset: leo, LastFetchTimestamp: fetch, LastCaughtUpTimestamp: caught}
	}
	p := kmsg.DescribeQuorumResponseTopicPartition{
		LeaderID: 2, LeaderEpoch: 7, HighWatermark: 95,
		CurrentVoters: []kmsg.DescribeQuorumResponseTopicPartitionReplicaState{
			rs(1, 90, 999_900, 999_000), rs(2, 100, -1, -1), rs(3, 100, 999_950, 999_950),
		},
		Observers: []kmsg.DescribeQuorumResponseTopicPartitionReplicaState{rs(4, -1, -1, -1)},
	}
	var out strings.Builder
	if err := writeQuorum(&out, p, map[int32]string{1: "h:1", 2: "h:2", 3: "h:3"}, now); err != nil {
		t.Fatal(err)
	}
	want := `LEADER                 2
EPOCH                  7
HIGH-WATERMARK         95
MAX-FOLLOWER-LAG       10
MAX-FOLLOWER-LAG-TIME  1000ms
VOTERS                 [1,2,3]
OBSERVERS              [4]

REPLICAS
NODE  ROLE      LOG-END-OFFSET  LAG  LAST-FETCH  LAST-CAUGHT-UP  ENDPOINT
2     leader    100             0    -           -               h:2
1     follower  90              10   100ms ago   1000ms ago      h:1
3     follower  100             0    50ms ago    50ms ago        h:3
4     observer  -               -    -           -               -
`
	if out.String() != want {
		t.Fatalf("quorum output:\n%s\nwant:\n%s", out.String(), want)
	}
}
