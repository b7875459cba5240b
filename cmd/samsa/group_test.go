package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// runSamsa runs `samsa args...` in-process through the real root command
// (so the group commands are reached the way main reaches them).
func runSamsa(ctx context.Context, args ...string) cliResult {
	root := newRootCmd()
	var stdout, stderr bytes.Buffer
	root.SetArgs(args)
	root.SetIn(strings.NewReader(""))
	root.SetOut(&stdout)
	root.SetErr(&stderr)
	err := root.ExecuteContext(ctx)
	return cliResult{stdout: stdout.String(), stderr: stderr.String(), err: err}
}

func runGroupCLI(t *testing.T, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return runSamsa(ctx, args...)
}

// parseReset parses reset-offsets flags the way the command does.
func parseReset(t *testing.T, args ...string) (resetTarget, []topicSpec, error) {
	t.Helper()
	var o resetOptions
	fs := pflag.NewFlagSet("reset-offsets", pflag.ContinueOnError)
	o.register(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parse %q: %v", args, err)
	}
	return validateResetOptions(&o, fs.Changed)
}

func TestResetOffsetsFlagValidation(t *testing.T) {
	bad := []struct {
		args []string
		want string
	}{
		{[]string{"--topic", "t"}, "no reset target: give one of --to-earliest, --to-latest, --to-offset N, --to-datetime TIME or --shift-by N"},
		{[]string{"--topic", "t", "--to-earliest", "--to-latest"}, "--to-earliest and --to-latest cannot be used together: give one reset target"},
		{[]string{"--topic", "t", "--to-offset", "3", "--shift-by", "1", "--to-datetime", "0"}, "--to-offset, --to-datetime and --shift-by cannot be used together: give one reset target"},
		{[]string{"--to-earliest"}, "no partitions to reset: give --topic TOPIC or --all-topics"},
		{[]string{"--to-earliest", "--topic", "t", "--all-topics"}, "--topic and --all-topics cannot be used together"},
		{[]string{"--to-offset", "-1", "--topic", "t"}, "invalid --to-offset -1: must be 0 or more"},
		{[]string{"--to-latest", "--topic", "t:x"}, `invalid --topic "t:x": want TOPIC or TOPIC:PARTITION,PARTITION,... with partitions 0 or more`},
		{[]string{"--to-latest", "--topic", "t:-1"}, `invalid --topic "t:-1": want TOPIC or TOPIC:PARTITION,PARTITION,... with partitions 0 or more`},
		{[]string{"--to-latest", "--topic", ":0"}, `invalid --topic ":0": want TOPIC or TOPIC:PARTITION,PARTITION,...`},
		{[]string{"--to-datetime", "yesterday", "--all-topics"}, `invalid --to-datetime "yesterday": want an RFC 3339 time such as 2024-05-01T12:00:00Z or milliseconds since the epoch`},
		{[]string{"--to-datetime", "2024-05-01 12:00:00", "--all-topics"}, `invalid --to-datetime "2024-05-01 12:00:00": want an RFC 3339 time such as 2024-05-01T12:00:00Z or milliseconds since the epoch`},
		{[]string{"--to-datetime", "-5", "--all-topics"}, `invalid --to-datetime "-5": milliseconds since the epoch must not be negative`},
		{[]string{"--to-datetime", "1969-12-31T23:59:59Z", "--all-topics"}, `invalid --to-datetime "1969-12-31T23:59:59Z": the time is before 1970`},
	}
	for _, tc := range bad {
		_, _, err := parseReset(t, tc.args...)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%q: error = %v, want %q", tc.args, err, tc.want)
		}
	}

	good := []struct {
		args   []string
		target resetTarget
		specs  []topicSpec
	}{
		{[]string{"--to-earliest", "--all-topics"}, resetTarget{kind: resetEarliest}, nil},
		{[]string{"--to-latest", "--to-earliest=false", "--topic", "a"}, resetTarget{kind: resetLatest}, []topicSpec{{topic: "a"}}},
		{[]string{"--to-offset", "0", "--topic", "a:2,0,2"}, resetTarget{kind: resetToOffset}, []topicSpec{{topic: "a", partitions: []int32{0, 2}}}},
		// A negative value follows the flag as the next argument.
		{[]string{"--shift-by", "-2", "--topic", "a"}, resetTarget{kind: resetShiftBy, shift: -2}, []topicSpec{{topic: "a"}}},
		{[]string{"--shift-by=5", "--topic", "a:1", "--topic", "b", "--topic", "a:0"}, resetTarget{kind: resetShiftBy, shift: 5},
			[]topicSpec{{topic: "a", partitions: []int32{0, 1}}, {topic: "b"}}},
		{[]string{"--to-earliest", "--topic", "a:1", "--topic", "a"}, resetTarget{kind: resetEarliest}, []topicSpec{{topic: "a"}}},
		{[]string{"--to-datetime", "1714564800000", "--all-topics"}, resetTarget{kind: resetToDatetime, millis: 1714564800000}, nil},
		{[]string{"--to-datetime", "2024-05-01T12:00:00Z", "--all-topics"}, resetTarget{kind: resetToDatetime, millis: 1714564800000}, nil},
		{[]string{"--to-datetime", "2024-05-01T14:00:00.250+02:00", "--all-topics"}, resetTarget{kind: resetToDatetime, millis: 1714564800250}, nil},
	}
	for _, tc := range good {
		target, specs, err := parseReset(t, tc.args...)
		if err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		if target != tc.target {
			t.Errorf("%q: target = %+v, want %+v", tc.args, target, tc.target)
		}
		if len(specs) != len(tc.specs) {
			t.Errorf("%q: topics = %+v, want %+v", tc.args, specs, tc.specs)
			continue
		}
		for i := range specs {
			if specs[i].topic != tc.specs[i].topic || !equalInt32s(specs[i].partitions, tc.specs[i].partitions) {
				t.Errorf("%q: topics = %+v, want %+v", tc.args, specs, tc.specs)
			}
		}
	}
}

func equalInt32s(a, b []int32) bool {
	if (a == nil) != (b == nil) || len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// The command validates its flags before dialing, so these fail without a
// cluster and say what is wrong in one line.
func TestGroupCommandFlagErrors(t *testing.T) {
	b := []string{"-b", "127.0.0.1:1", "--timeout", "1s"}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"group", "reset-offsets", "g1", "--all-topics"}, "no reset target: give one of --to-earliest, --to-latest, --to-offset N, --to-datetime TIME or --shift-by N"},
		{[]string{"group", "reset-offsets", "g1", "--to-earliest", "--to-offset", "3", "--all-topics"}, "--to-earliest and --to-offset cannot be used together: give one reset target"},
		{[]string{"group", "reset-offsets", "g1", "--to-earliest"}, "no partitions to reset: give --topic TOPIC or --all-topics"},
		{[]string{"group", "reset-offsets", "g1", "--shift-by", "x", "--all-topics"}, `invalid value "x" for --shift-by: want an integer`},
		{[]string{"group", "reset-offsets", "g1", "--to-offset", "1.5", "--all-topics"}, `invalid value "1.5" for --to-offset: want an integer`},
		{[]string{"group", "list", "--state", "stable,running"}, `invalid --state "running": want one of Stable, Empty, PreparingRebalance, CompletingRebalance, Dead, Assigning, Reconciling`},
		{[]string{"group", "list", "--type", "share"}, `invalid --type "share": want classic or consumer`},
	}
	for _, tc := range cases {
		runGroupCLI(t, append(tc.args, b...)...).wantErr(t, tc.want)
	}
	r := runGroupCLI(t, "group", "describe")
	if r.err == nil || !strings.Contains(r.err.Error(), "requires at least 1 arg") {
		t.Fatalf("describe without a group: %v", r.err)
	}
	// Past validation, an unreachable broker is one readable line.
	r = runGroupCLI(t, append([]string{"group", "list"}, b...)...)
	if r.err == nil || !strings.HasPrefix(r.err.Error(), "cannot list groups: cannot reach a broker at 127.0.0.1:1") || strings.Contains(r.err.Error(), "\n") {
		t.Fatalf("list against nothing: %v", r.err)
	}
}

func TestParseStateAndTypeFilters(t *testing.T) {
	states, err := parseStateFilter([]string{"stable", " EMPTY", "Stable", ""})
	if err != nil || strings.Join(states, ",") != "Empty,Stable" {
		t.Fatalf("states = %q, %v", states, err)
	}
	for in, want := range map[string]string{"": "", "Classic": "classic", "consumer": "consumer"} {
		if got, err := parseTypeFilter(in); err != nil || got != want {
			t.Fatalf("type %q = %q, %v", in, got, err)
		}
	}
	listed := kadm.ListedGroups{
		"b": {Group: "b", State: "Empty", GroupType: "classic", ProtocolType: "consumer"},
		"a": {Group: "a", State: "Stable", GroupType: "consumer"},
		"c": {Group: "c", State: "Stable"}, // a broker without group types: classic
	}
	names := func(gs []kadm.ListedGroup) string {
		var s []string
		for _, g := range gs {
			s = append(s, g.Group)
		}
		return strings.Join(s, ",")
	}
	if got := names(filterListedGroups(listed, nil, "")); got != "a,b,c" {
		t.Fatalf("no filter: %s", got)
	}
	if got := names(filterListedGroups(listed, []string{"Stable"}, "")); got != "a,c" {
		t.Fatalf("stable: %s", got)
	}
	if got := names(filterListedGroups(listed, []string{"Stable"}, "classic")); got != "c" {
		t.Fatalf("stable classic: %s", got)
	}
	if got := names(filterListedGroups(listed, nil, "consumer")); got != "a" {
		t.Fatalf("consumer: %s", got)
	}
}

func offsetsOf(topic string, offsets map[int32]int64) kadm.ListedOffsets {
	l := kadm.ListedOffsets{topic: {}}
	for p, o := range offsets {
		l[topic][p] = kadm.ListedOffset{Topic: topic, Partition: p, Offset: o}
	}
	return l
}

func TestPlanReset(t *testing.T) {
	parts := kadm.TopicsSet{"t": {0: {}, 1: {}, 2: {}}}
	starts := offsetsOf("t", map[int32]int64{0: 2, 1: 0, 2: 5})
	ends := offsetsOf("t", map[int32]int64{0: 10, 1: 4, 2: 5})
	committed := make(kadm.Offsets)
	committed.AddOffset("t", 0, 7, -1)
	committed.AddOffset("t", 1, 1, -1)
	committed.AddOffset("t", 2, 5, -1)

	plan := func(target resetTarget, byTime kadm.ListedOffsets) string {
		t.Helper()
		rows, err := planReset("g", target, parts, committed, starts, ends, byTime)
		if err != nil {
			t.Fatalf("%+v: %v", target, err)
		}
		var s []string
		for _, r := range rows {
			s = append(s, offsetOrDash(r.old)+">"+offsetOrDash(r.new))
		}
		return strings.Join(s, " ")
	}
	cases := []struct {
		target resetTarget
		byTime kadm.ListedOffsets
		want   string
	}{
		{resetTarget{kind: resetEarliest}, nil, "7>2 1>0 5>5"},
		{resetTarget{kind: resetLatest}, nil, "7>10 1>4 5>5"},
		// Clamped into [log start, log end].
		{resetTarget{kind: resetToOffset, offset: 3}, nil, "7>3 1>3 5>5"},
		{resetTarget{kind: resetToOffset, offset: 0}, nil, "7>2 1>0 5>5"},
		{resetTarget{kind: resetToOffset, offset: 1 << 62}, nil, "7>10 1>4 5>5"},
		{resetTarget{kind: resetShiftBy, shift: -3}, nil, "7>4 1>0 5>5"},
		{resetTarget{kind: resetShiftBy, shift: 2}, nil, "7>9 1>3 5>5"},
		{resetTarget{kind: resetShiftBy, shift: -1 << 63}, nil, "7>2 1>0 5>5"},
		{resetTarget{kind: resetShiftBy, shift: 1<<63 - 1}, nil, "7>10 1>4 5>5"},
		// -1: no record at or after the time; the log end.
		{resetTarget{kind: resetToDatetime, millis: 1}, offsetsOf("t", map[int32]int64{0: 6, 1: -1, 2: 5}), "7>6 1>4 5>5"},
	}
	for _, tc := range cases {
		if got := plan(tc.target, tc.byTime); got != tc.want {
			t.Errorf("%+v: %s, want %s", tc.target, got, tc.want)
		}
	}

	delete(committed["t"], 1)
	if got := plan(resetTarget{kind: resetEarliest}, nil); got != "7>2 ->0 5>5" {
		t.Errorf("uncommitted partition: %s", got)
	}
	_, err := planReset("g", resetTarget{kind: resetShiftBy, shift: 1}, parts, committed, starts, ends, nil)
	if err == nil || err.Error() != "cannot shift the offset of topic t partition 1: group g has no committed offset there" {
		t.Errorf("shift without a commit: %v", err)
	}
	gone := kadm.ListedOffsets{"gone": {-1: {Topic: "gone", Partition: -1, Err: kerr.UnknownTopicOrPartition}}}
	_, err = planReset("g", resetTarget{kind: resetEarliest}, kadm.TopicsSet{"gone": {0: {}}}, committed, gone, gone, nil)
	if err == nil || err.Error() != "topic gone does not exist" {
		t.Errorf("deleted topic: %v", err)
	}
	bad := offsetsOf("t", map[int32]int64{0: 0, 1: 0, 2: 0})
	bad["t"][1] = kadm.ListedOffset{Topic: "t", Partition: 1, Err: kerr.NotLeaderForPartition}
	_, err = planReset("g", resetTarget{kind: resetEarliest}, parts, committed, bad, ends, nil)
	if err == nil || !strings.HasPrefix(err.Error(), "cannot list offsets of topic t partition 1: ") || !strings.HasSuffix(err.Error(), "(NOT_LEADER_FOR_PARTITION)") {
		t.Errorf("partition error: %v", err)
	}
}

func TestActiveMembersError(t *testing.T) {
	two := groupInfo{name: "g1", state: "Stable", members: make([]groupMember, 3)}
	if err := activeMembersError(two); err == nil || err.Error() != "group g1 has 3 active members; stop them before resetting offsets" {
		t.Fatalf("3 members: %v", err)
	}
	one := groupInfo{name: "g1", state: "Stable", members: make([]groupMember, 1)}
	if err := activeMembersError(one); err == nil || err.Error() != "group g1 has 1 active member; stop it before resetting offsets" {
		t.Fatalf("1 member: %v", err)
	}
	rebalancing := groupInfo{name: "g1", state: "PreparingRebalance"}
	if err := activeMembersError(rebalancing); err == nil || err.Error() != "group g1 is PreparingRebalance; wait until it is Empty before resetting offsets" {
		t.Fatalf("rebalancing: %v", err)
	}
	for _, state := range []string{"Empty", "Dead", ""} {
		if err := activeMembersError(groupInfo{name: "g1", state: state}); err != nil {
			t.Fatalf("%q: %v", state, err)
		}
	}
}

func TestGroupLagRows(t *testing.T) {
	g := groupInfo{
		name:       "g",
		subscribed: []string{"a", "missing"},
		members: []groupMember{
			{memberID: "m1", assigned: kadm.TopicsSet{"a": {0: {}}}},
			{memberID: "m2", assigned: kadm.TopicsSet{"a": {1: {}}}},
		},
	}
	commits := kadm.OffsetResponses{
		"a":    {0: {Offset: kadm.Offset{Topic: "a", Partition: 0, At: 4}}, 2: {Offset: kadm.Offset{Topic: "a", Partition: 2, At: 9}}},
		"gone": {0: {Offset: kadm.Offset{Topic: "gone", Partition: 0, At: 3}}},
	}
	starts := offsetsOf("a", map[int32]int64{0: 0, 1: 2, 2: 0})
	ends := offsetsOf("a", map[int32]int64{0: 10, 1: 5, 2: 8})
	ends["gone"] = map[int32]kadm.ListedOffset{-1: {Topic: "gone", Partition: -1, Err: kerr.UnknownTopicOrPartition}}
	ends["missing"] = map[int32]kadm.ListedOffset{-1: {Topic: "missing", Partition: -1, Err: kerr.UnknownTopicOrPartition}}

	rows := groupLagRows(g, commits, starts, ends)
	var b strings.Builder
	if err := writeLagTable(&b, rows); err != nil {
		t.Fatal(err)
	}
	// a/1 has no commit: it lags by its whole log (5 - 2). a/2 committed
	// past the end (the log was truncated): no lag.
	want := `TOPIC  PARTITION  COMMITTED-OFFSET  LOG-END-OFFSET  LAG  MEMBER-ID  ERROR
a      0          4                 10              6    m1         -
a      1          -                 5               3    m2         -
a      2          9                 8               0    -          -
gone   0          3                 -               -    -          UNKNOWN_TOPIC_OR_PARTITION
`
	if b.String() != want {
		t.Fatalf("lag table:\n%s\nwant:\n%s", b.String(), want)
	}
	if n := totalLag(rows); n != 9 {
		t.Fatalf("total lag = %d, want 9", n)
	}
	b.Reset()
	if err := writeLagTotals(&b, rows); err != nil {
		t.Fatal(err)
	}
	if want := "TOTAL-LAG  9\n  a        9\n  gone     0\n"; b.String() != want {
		t.Fatalf("totals:\n%q\nwant:\n%q", b.String(), want)
	}
}

func TestGroupTables(t *testing.T) {
	var b strings.Builder
	err := writeGroupList(&b, []kadm.ListedGroup{
		{Group: "orders-app", GroupType: "classic", State: "Stable", ProtocolType: "consumer", Coordinator: 1},
		{Group: "seeded", State: "Empty", Coordinator: 2},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `GROUP       TYPE     STATE   PROTOCOL-TYPE  COORDINATOR
orders-app  classic  Stable  consumer       1
seeded      classic  Empty   -              2
`
	if b.String() != want {
		t.Fatalf("list:\n%s\nwant:\n%s", b.String(), want)
	}

	b.Reset()
	if err := writeResetPlan(&b, []resetRow{{"orders", 0, 7, 0}, {"orders", 1, -1, 0}}); err != nil {
		t.Fatal(err)
	}
	want = `TOPIC   PARTITION  OLD-OFFSET  NEW-OFFSET
orders  0          7           0
orders  1          -           0
`
	if b.String() != want {
		t.Fatalf("reset plan:\n%s\nwant:\n%s", b.String(), want)
	}

	b.Reset()
	g := loadedGroup{
		groupInfo: groupInfo{
			name: "g1", groupType: "classic", state: "Stable", protocolType: "consumer", protocol: "range",
			coordinator: kadm.BrokerDetail{NodeID: 1, Host: "10.0.0.1", Port: 9092},
			members: []groupMember{
				{memberID: "m-1", clientID: "app", host: "/10.0.0.7", assigned: kadm.TopicsSet{"orders": {2: {}, 0: {}}, "audit": {0: {}}}},
				{memberID: "m-2", instanceID: "i-2", clientID: "app", host: "/10.0.0.8", assigned: kadm.TopicsSet{}},
			},
		},
		rows: []partitionLag{{topic: "orders", partition: 0, committed: 3, end: 5, lag: 2, owner: "m-1"}},
	}
	if err := writeGroupDescription(&b, g); err != nil {
		t.Fatal(err)
	}
	want = `GROUP          g1
COORDINATOR    1 (10.0.0.1:9092)
TYPE           classic
STATE          Stable
PROTOCOL-TYPE  consumer
PROTOCOL       range
MEMBERS        2
TOTAL-LAG      2

MEMBERS
MEMBER-ID  INSTANCE-ID  CLIENT-ID  HOST      ASSIGNED
m-1        -            app        10.0.0.7  audit[0] orders[0,2]
m-2        i-2          app        10.0.0.8  -

OFFSETS
TOPIC   PARTITION  COMMITTED-OFFSET  LOG-END-OFFSET  LAG  MEMBER-ID
orders  0          3                 5               2    m-1
`
	if b.String() != want {
		t.Fatalf("describe:\n%s\nwant:\n%s", b.String(), want)
	}

	b.Reset()
	err = writeGroupsLag(&b, []loadedGroup{
		{groupInfo: groupInfo{name: "a", state: "Empty"}, rows: []partitionLag{{lag: 4}, {lag: -1}, {lag: 1}}},
		{groupInfo: groupInfo{name: "b"}, err: errors.New("cannot fetch offsets of group b: boom")},
	})
	if err != nil {
		t.Fatal(err)
	}
	want = `GROUP  STATE  MEMBERS  TOTAL-LAG  ERROR
a      Empty  0        5          -
b      -      -        -          cannot fetch offsets of group b: boom
`
	if b.String() != want {
		t.Fatalf("all groups lag:\n%s\nwant:\n%s", b.String(), want)
	}
}
