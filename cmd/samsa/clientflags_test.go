package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// cliResult is what one in-process run of the client commands produced.
type cliResult struct {
	stdout, stderr string
	err            error
}

// runCLI executes the client commands in-process, as `samsa args...`, with
// stdin as standard input.
func runCLI(t *testing.T, stdin string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return runCLIContext(ctx, stdin, args...)
}

func runCLIContext(ctx context.Context, stdin string, args ...string) cliResult {
	root := &cobra.Command{Use: "samsa", SilenceErrors: true, SilenceUsage: true}
	root.AddCommand(newTopicCmd(), newProduceCmd(), newConsumeCmd(), newClusterCmd())
	var stdout, stderr bytes.Buffer
	root.SetArgs(args)
	root.SetIn(strings.NewReader(stdin))
	root.SetOut(&stdout)
	root.SetErr(&stderr)
	err := root.ExecuteContext(ctx)
	return cliResult{stdout: stdout.String(), stderr: stderr.String(), err: err}
}

// wantErr checks that a run failed with exactly msg.
func (r cliResult) wantErr(t *testing.T, msg string) {
	t.Helper()
	if r.err == nil {
		t.Fatalf("want error %q, got success; stdout:\n%s", msg, r.stdout)
	}
	if r.err.Error() != msg {
		t.Fatalf("error = %q, want %q", r.err.Error(), msg)
	}
}

func TestSeedsPrecedence(t *testing.T) {
	cases := []struct {
		name string
		env  string
		args []string
		want []string
	}{
		{name: "default", want: []string{defaultBrokers}},
		{name: "env", env: "10.1.1.1:9092, 10.1.1.2:9093", want: []string{"10.1.1.1:9092", "10.1.1.2:9093"}},
		{name: "flag wins over env", env: "10.1.1.1:9092", args: []string{"-b", "h1:1,h2:2"}, want: []string{"h1:1", "h2:2"}},
		{name: "repeated flag", args: []string{"--brokers", "h1:1", "--brokers", "[::1]:9092"}, want: []string{"h1:1", "[::1]:9092"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(brokersEnv, tc.env)
			cf := &clientFlags{}
			cmd := &cobra.Command{Use: "x"}
			cf.register(cmd)
			if err := cmd.ParseFlags(tc.args); err != nil {
				t.Fatal(err)
			}
			got, err := cf.seeds(cmd)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Fatalf("seeds = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSeedsRejectsBadAddresses(t *testing.T) {
	t.Setenv(brokersEnv, "")
	for _, tc := range []struct {
		arg, want string
	}{
		{"localhost", `invalid broker "localhost" in --brokers: want host:port`},
		{":9092", `invalid broker ":9092" in --brokers: want host:port`},
		{",", "no brokers given in --brokers"},
	} {
		cf := &clientFlags{}
		cmd := &cobra.Command{Use: "x"}
		cf.register(cmd)
		if err := cmd.ParseFlags([]string{"-b", tc.arg}); err != nil {
			t.Fatal(err)
		}
		_, err := cf.seeds(cmd)
		if err == nil || err.Error() != tc.want {
			t.Fatalf("seeds(%q) error = %v, want %q", tc.arg, err, tc.want)
		}
	}
	t.Setenv(brokersEnv, "nohostport")
	cf := &clientFlags{}
	cmd := &cobra.Command{Use: "x"}
	cf.register(cmd)
	if _, err := cf.seeds(cmd); err == nil || err.Error() != `invalid broker "nohostport" in $SAMSA_BROKERS: want host:port` {
		t.Fatalf("env error = %v", err)
	}
}

func TestExplainErr(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}}
	cases := []struct {
		err  error
		want string
	}{
		{kerr.UnknownTopicOrPartition, "this server does not host this topic-partition (UNKNOWN_TOPIC_OR_PARTITION)"},
		{fmt.Errorf("wrapped: %w", kerr.PolicyViolation), "request parameters do not satisfy the configured policy (POLICY_VIOLATION)"},
		{refused, "cannot reach a broker at h:1: connection refused"},
		{fmt.Errorf("unable to dial: %w", refused), "cannot reach a broker at h:1: connection refused"},
		{context.DeadlineExceeded, "timed out after 3s waiting for the cluster at h:1 (see --timeout)"},
		{kgo.ErrRecordTimeout, "timed out after 3s waiting for the cluster at h:1 (see --timeout)"},
		{errors.New("two\nlines"), "two lines"},
		{errors.New("broker is too old; the broker has already indicated it will not know how to handle the request"), "the broker does not support a request this command needs"},
	}
	for _, tc := range cases {
		if got := explainErr(tc.err, "h:1", 3*time.Second); got != tc.want {
			t.Errorf("explainErr(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

func TestKerrTextPrefersBrokerMessage(t *testing.T) {
	got := kerrText(kerr.InvalidReplicationFactor, "Replication factor: 3 larger than available brokers: 1.\n")
	want := "Replication factor: 3 larger than available brokers: 1. (INVALID_REPLICATION_FACTOR)"
	if got != want {
		t.Fatalf("kerrText = %q, want %q", got, want)
	}
}

func TestTopicIDString(t *testing.T) {
	if got := topicIDString(kadm.TopicID{}); got != "-" {
		t.Fatalf("zero id = %q", got)
	}
	id := kadm.TopicID{0xfb, 0xff, 0x01, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14}
	// Kafka's Uuid.toString: URL-safe base64 without padding, 22 chars.
	if got := topicIDString(id); got != "-_8BAgMEBQYHCAkKCwwNDg" {
		t.Fatalf("id = %q", got)
	}
}

func TestBadFlagValuesGiveOneLine(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"topic", "create", "x", "-p", "abc"}, `invalid value "abc" for --partitions: want an integer`},
		{[]string{"topic", "create", "x", "-p", "0"}, "invalid --partitions 0: must be at least 1 (or -1 for the broker default)"},
		{[]string{"topic", "create", "x", "-r", "-3"}, "invalid --replication-factor -3: must be at least 1 (or -1 for the broker default)"},
		{[]string{"topic", "create", "x", "-c", "novalue"}, `invalid --config "novalue": want key=value`},
		{[]string{"topic", "create", "x", "-c", "a=1", "-c", "a=2"}, "config a given twice in --config"},
		{[]string{"topic", "list", "--timeout", "soon"}, `invalid value "soon" for --timeout: want a duration such as 500ms, 10s or 1m`},
		{[]string{"topic", "list", "--timeout", "0s"}, "invalid --timeout 0s: must be positive"},
		{[]string{"topic", "alter-config", "x"}, "nothing to alter: give --set key=value or --delete key"},
		{[]string{"topic", "alter-config", "x", "--set", "a=1", "--delete", "a"}, "config a given twice"},
		{[]string{"produce", "t", "--acks", "2"}, `invalid --acks "2": want all, 1 or 0`},
		{[]string{"produce", "t", "--compression", "brotli"}, `invalid --compression "brotli": want none, gzip, snappy, lz4 or zstd`},
		{[]string{"produce", "t", "-H", "noequals"}, `invalid --header "noequals": want key=value`},
		{[]string{"produce", "t", "-p", "-2"}, "invalid --partition -2: must be 0 or more (or -1 for the default partitioner)"},
		{[]string{"produce", "t", "-k", `\q`}, `invalid --key-separator "\\q": unknown escape \q (want \n, \t, \r or \\)`},
		{[]string{"consume", "t", "--from", "yesterday"}, `invalid --from "yesterday": want beginning, end, an offset (0 or more) or @TIMESTAMP`},
		{[]string{"consume", "t", "--format", "%q"}, `invalid --format "%q": unknown verb %q (want %k %v %h %o %p %t %T or %%)`},
		{[]string{"consume", "t", "-p", "1,x"}, `invalid --partitions "1,x": want comma-separated partition numbers (0 or more)`},
		{[]string{"consume", "t", "-p", "-1"}, `invalid --partitions "-1": want comma-separated partition numbers (0 or more)`},
		{[]string{"produce", "t", "-p", "x"}, `invalid value "x" for --partition: want an integer`},
		{[]string{"consume", "t", "-n", "-1"}, "invalid --num -1: must be 0 (no limit) or more"},
		{[]string{"consume", "t", "--group", "g", "-p", "0"}, "--partitions cannot be used with --group: the group assigns partitions"},
		{[]string{"cluster", "info", "-b", "nohost"}, `invalid broker "nohost" in --brokers: want host:port`},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := runCLI(t, "", tc.args...)
			r.wantErr(t, tc.want)
			if strings.Contains(r.err.Error(), "\n") {
				t.Fatalf("error spans lines: %q", r.err)
			}
		})
	}
}

func TestUnreachableBrokerIsOneLine(t *testing.T) {
	// A port nothing listens on: bind one, note it, close it.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()

	for _, args := range [][]string{
		{"topic", "list"},
		{"cluster", "info"},
		{"consume", "t"},
		{"produce", "t"},
	} {
		r := runCLI(t, "", append(args, "-b", addr, "--timeout", "3s")...)
		if r.err == nil {
			t.Fatalf("%v: want an error", args)
		}
		msg := r.err.Error()
		if strings.Contains(msg, "\n") || !strings.Contains(msg, addr) {
			t.Fatalf("%v: error %q should be one line naming %s", args, msg, addr)
		}
		if !strings.Contains(msg, "connection refused") && !strings.Contains(msg, "timed out") {
			t.Fatalf("%v: error %q names no cause", args, msg)
		}
	}
}
