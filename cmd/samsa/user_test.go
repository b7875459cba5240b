package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

func TestParseScramMechanism(t *testing.T) {
	for in, want := range map[string]kadm.ScramMechanism{"SCRAM-SHA-256": kadm.ScramSha256, "scram-sha-512": kadm.ScramSha512} {
		if got, err := parseScramMechanism(in); err != nil || got != want {
			t.Errorf("parseScramMechanism(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := parseScramMechanism("PLAIN"); err == nil || err.Error() != `invalid --mechanism "PLAIN": want SCRAM-SHA-256 or SCRAM-SHA-512` {
		t.Errorf("PLAIN: %v", err)
	}
}

func TestUserPassword(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "pw")
	writeFile(t, file, "from-file\r\nsecond line\n")
	empty := filepath.Join(dir, "empty")
	writeFile(t, empty, "\n")
	run := func(stdin string, args ...string) (string, error) {
		t.Helper()
		var password, passwordFile string
		cmd := &cobra.Command{Use: "x"}
		cmd.Flags().StringVar(&password, "password", "", "")
		cmd.Flags().StringVar(&passwordFile, "password-file", "", "")
		if err := cmd.ParseFlags(args); err != nil {
			t.Fatal(err)
		}
		cmd.SetIn(strings.NewReader(stdin))
		return userPassword(cmd, password, passwordFile)
	}
	for _, tc := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{"", []string{"--password", "p w"}, "p w"},
		{"from-stdin\nrest", []string{"--password", "-"}, "from-stdin"},
		{"no-newline", []string{"--password", "-"}, "no-newline"},
		{"", []string{"--password-file", file}, "from-file"},
	} {
		if got, err := run(tc.stdin, tc.args...); err != nil || got != tc.want {
			t.Errorf("%q: password = %q, %v; want %q", tc.args, got, err, tc.want)
		}
	}
	for _, tc := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{"", nil, "no password: give --password P, --password - (read from stdin) or --password-file FILE"},
		{"", []string{"--password", "x", "--password-file", file}, "give --password or --password-file, not both"},
		{"", []string{"--password", ""}, "the password from --password is empty"},
		{"\n", []string{"--password", "-"}, "the password from stdin is empty"},
		{"", []string{"--password-file", empty}, "the password from --password-file " + empty + " is empty"},
		{"", []string{"--password-file", filepath.Join(dir, "none")}, "cannot read --password-file: open " + filepath.Join(dir, "none") + ": no such file or directory"},
	} {
		if _, err := run(tc.stdin, tc.args...); err == nil || err.Error() != tc.want {
			t.Errorf("%q: error = %v, want %q", tc.args, err, tc.want)
		}
	}
}

func TestUserCommandErrorsBeforeDialing(t *testing.T) {
	t.Setenv(clientConfigEnv, "")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"user", "create", "alice", "--password", "x", "--iterations", "100"}, "invalid --iterations 100: must be 4096 to 16384"},
		{[]string{"user", "create", "alice", "--password", "x", "--mechanism", "MD5"}, `invalid --mechanism "MD5": want SCRAM-SHA-256 or SCRAM-SHA-512`},
		{[]string{"user", "create", "alice"}, "no password: give --password P, --password - (read from stdin) or --password-file FILE"},
		{[]string{"user", "delete", "alice", "--mechanism", "PLAIN"}, `invalid --mechanism "PLAIN": want SCRAM-SHA-256 or SCRAM-SHA-512`},
		{[]string{"user", "create"}, "accepts 1 arg(s), received 0"},
	} {
		runSamsa(ctx, append(tc.args, "-b", "127.0.0.1:1")...).wantErr(t, tc.want)
	}
}

func TestWriteSCRAMUsers(t *testing.T) {
	res := kadm.DescribedUserSCRAMs{
		"bob":   {User: "bob", CredInfos: []kadm.CredInfo{{Mechanism: kadm.ScramSha512, Iterations: 8192}}},
		"alice": {User: "alice", CredInfos: []kadm.CredInfo{{Mechanism: kadm.ScramSha256, Iterations: 4096}, {Mechanism: kadm.ScramSha512, Iterations: 8192}}},
		"carol": {User: "carol", Err: kerr.ResourceNotFound},
	}
	var out bytes.Buffer
	cmd := &cobra.Command{}
	cmd.SetOut(&out)
	err := writeSCRAMUsers(cmd, &clientFlags{}, res, []string{"alice", "bob", "carol", "dave"})
	want := "USER   MECHANISM      ITERATIONS\n" +
		"alice  SCRAM-SHA-256  4096\n" +
		"alice  SCRAM-SHA-512  8192\n" +
		"bob    SCRAM-SHA-512  8192\n"
	if out.String() != want {
		t.Fatalf("table:\n%s\nwant:\n%s", out.String(), want)
	}
	if err == nil || err.Error() != "user carol has no SCRAM credentials; user dave has no SCRAM credentials" {
		t.Fatalf("error = %v", err)
	}
}
