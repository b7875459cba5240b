package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/samsa-streaming/samsa/internal/loadgen"
)

// runBenchArgs parses args with a bench subcommand whose run only resolves
// and validates, and returns the flags and the error. The settings' own
// checks are tested in internal/loadgen.
func runBenchArgs(t *testing.T, w loadgen.Workload, args ...string) (*benchFlags, error) {
	t.Helper()
	cf := &clientFlags{timeout: defaultTimeout}
	f := &benchFlags{cfg: loadgen.Defaults(w)}
	cmd := &cobra.Command{Use: string(w), SilenceErrors: true, SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f.resolve(cmd.Flags(), cf)
			return f.cfg.Validate()
		}}
	f.register(cmd.Flags())
	cmd.SetFlagErrorFunc(flagError)
	cmd.SetArgs(args)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	return f, cmd.Execute()
}

func TestBenchFlags(t *testing.T) {
	for _, tc := range []struct {
		w    loadgen.Workload
		args []string
		want string // "" = valid
	}{
		{loadgen.Consume, []string{"--from-start", "--consumers", "3", "--group", "g"}, ""},
		{loadgen.EndToEnd, []string{"--rate", "1000", "--record-size", "8"}, ""},
		{loadgen.Produce, []string{"--acks", "2"}, `invalid --acks "2": want all, 1 or 0`},
		{loadgen.Produce, []string{"--duration", "soon"}, `invalid value "soon" for --duration: want a duration such as 500ms, 10s or 1m`},
		// Flags belong to the workloads that use them.
		{loadgen.Produce, []string{"--from-start"}, "unknown flag: --from-start"},
		{loadgen.Consume, []string{"--rate", "10"}, "unknown flag: --rate"},
		{loadgen.Consume, []string{"--record-size", "10"}, "unknown flag: --record-size"},
		{loadgen.EndToEnd, []string{"--from-start"}, "unknown flag: --from-start"},
	} {
		t.Run(string(tc.w)+" "+strings.Join(tc.args, " "), func(t *testing.T) {
			_, err := runBenchArgs(t, tc.w, tc.args...)
			if got := ""; err != nil {
				got = err.Error()
				if got != tc.want {
					t.Fatalf("error = %q, want %q", got, tc.want)
				}
			} else if tc.want != "" {
				t.Fatalf("want error %q, got none", tc.want)
			}
		})
	}
}

func TestBenchFlagsResolve(t *testing.T) {
	f, err := runBenchArgs(t, loadgen.Produce)
	if err != nil || f.cfg.Duration != 10*time.Second || f.cfg.CheckPartitions || f.cfg.Timeout != defaultTimeout {
		t.Fatalf("defaults: %+v, %v", f.cfg, err)
	}
	// --count alone lifts the time limit; with --duration both apply.
	if f, _ = runBenchArgs(t, loadgen.Produce, "--count", "100"); f.cfg.Duration != 0 || f.cfg.Count != 100 {
		t.Fatalf("--count alone: duration %s count %d", f.cfg.Duration, f.cfg.Count)
	}
	if f, _ = runBenchArgs(t, loadgen.Produce, "--count", "100", "--duration", "3s"); f.cfg.Duration != 3*time.Second {
		t.Fatalf("--count with --duration: duration %s", f.cfg.Duration)
	}
	if f, _ = runBenchArgs(t, loadgen.Produce, "--recreate", "--partitions", "2"); !f.cfg.Create || !f.cfg.CheckPartitions {
		t.Fatal("--recreate does not imply --create, or --partitions is not checked")
	}
}
