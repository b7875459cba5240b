package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"github.com/twmb/franz-go/pkg/kadm"
)

func parseAbort(t *testing.T, args ...string) error {
	t.Helper()
	var o abortOptions
	fs := pflag.NewFlagSet("abort", pflag.ContinueOnError)
	fs.StringVar(&o.topic, "topic", "", "")
	fs.Int32Var(&o.partition, "partition", 0, "")
	fs.Int64Var(&o.startOffset, "start-offset", -1, "")
	fs.Int64Var(&o.producerID, "producer-id", -1, "")
	fs.Int16Var(&o.producerEpoch, "producer-epoch", -1, "")
	fs.Int32Var(&o.coordinatorEpoch, "coordinator-epoch", 0, "")
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parse %q: %v", args, err)
	}
	return validateAbort(&o, func(name string) bool { return fs.Changed(name) })
}

func TestTxnAbortFlagValidation(t *testing.T) {
	bad := []struct {
		args []string
		want string
	}{
		{[]string{"--partition", "0", "--start-offset", "3"}, "no partition given: --topic and --partition are required"},
		{[]string{"--topic", "t", "--start-offset", "3"}, "no partition given: --partition is required"},
		{[]string{"--topic", "t", "--partition", "-1", "--start-offset", "3"}, "invalid --partition -1: must be 0 or more"},
		{[]string{"--topic", "t", "--partition", "0"}, "no transaction given: give --start-offset N, or --producer-id and --producer-epoch"},
		{[]string{"--topic", "t", "--partition", "0", "--start-offset", "-2"}, "invalid --start-offset -2: must be 0 or more"},
		{[]string{"--topic", "t", "--partition", "0", "--start-offset", "1", "--producer-id", "4"}, "--start-offset cannot be used with --producer-id, --producer-epoch or --coordinator-epoch"},
		{[]string{"--topic", "t", "--partition", "0", "--producer-id", "4"}, "--producer-id and --producer-epoch are both required to abort by producer"},
		{[]string{"--topic", "t", "--partition", "0", "--producer-id", "4", "--producer-epoch", "1", "--coordinator-epoch", "-3"}, "invalid --coordinator-epoch -3: must be 0 or more"},
	}
	for _, c := range bad {
		err := parseAbort(t, c.args...)
		if err == nil || err.Error() != c.want {
			t.Errorf("%q: got %v, want %q", c.args, err, c.want)
		}
	}
	for _, args := range [][]string{
		{"--topic", "t", "--partition", "2", "--start-offset", "0"},
		{"--topic", "t", "--partition", "0", "--producer-id", "4", "--producer-epoch", "0"},
	} {
		if err := parseAbort(t, args...); err != nil {
			t.Errorf("%q: %v", args, err)
		}
	}
}

func TestTxnListAndDescribeOutput(t *testing.T) {
	now := time.UnixMilli(1_700_000_010_000)
	rows := []txnRow{
		{id: "a", coordinator: 1, producerID: 7, epoch: 3, state: "Ongoing", timeoutMs: 60000, startMs: 1_700_000_000_000,
			partitions: kadm.TopicsSet{"t": {1: {}, 0: {}}, "__consumer_offsets": {2: {}}}},
		{id: "b", coordinator: 1, producerID: 8, epoch: -1, state: "CompleteCommit", startMs: -1},
	}
	var out bytes.Buffer
	if err := writeTxnList(&out, rows, now); err != nil {
		t.Fatal(err)
	}
	want := "TRANSACTIONAL-ID  PRODUCER-ID  EPOCH  STATE           COORDINATOR  DURATION\n" +
		"a                 7            3      Ongoing         1            10s\n" +
		"b                 8            -      CompleteCommit  1            -\n"
	if out.String() != want {
		t.Errorf("list:\n%s\nwant:\n%s", out.String(), want)
	}
	out.Reset()
	if err := writeTxnDescribe(&out, rows[:1], now); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "TRANSACTIONAL-ID  COORDINATOR  PRODUCER-ID") ||
		!strings.Contains(lines[1], "2023-11-14T22:13:20Z") || !strings.HasSuffix(lines[1], "10s       __consumer_offsets-2,t-0,t-1") {
		t.Errorf("describe:\n%s", out.String())
	}
}
