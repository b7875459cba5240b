package cli_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// cliResult is what one run of the samsa binary produced. main prints a
// failing command's error as a last "samsa: ..." on stderr and exits 1;
// that message is err and is not part of stderr.
type cliResult struct {
	stdout, stderr string
	err            error
}

// runCLI runs `samsa args...` with stdin as standard input; it is
// interrupted after two minutes.
func runCLI(t testing.TB, stdin string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return runCLIContext(ctx, clustertest.Binary(t), stdin, args...)
}

// sigintGrace is how long a run gets to exit after SIGINT before SIGKILL.
const sigintGrace = 10 * time.Second

// runCLIContext runs the binary bin with args and stdin. When ctx ends
// first, the process gets SIGINT (as from Ctrl-C; main cancels its command's
// context on it) and, sigintGrace later, SIGKILL. It may run on any
// goroutine.
func runCLIContext(ctx context.Context, bin, stdin string, args ...string) cliResult {
	cmd := exec.Command(bin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		return cliResult{err: err}
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }() // owned by this run; ends when the process exits
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case err = <-done:
		case <-time.After(sigintGrace):
			_ = cmd.Process.Kill()
			err = fmt.Errorf("still running %v after SIGINT; killed: %v", sigintGrace, <-done)
		}
	}
	return newCLIResult(stdout.String(), stderr.String(), err)
}

func newCLIResult(stdout, stderr string, err error) cliResult {
	r := cliResult{stdout: stdout, stderr: stderr}
	if err == nil {
		return r
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 1 {
		// main's "samsa: <error>\n" is the last thing on stderr; the
		// error may span lines (tests check that it does not).
		const prefix = "samsa: "
		if i := strings.LastIndex("\n"+stderr, "\n"+prefix); i >= 0 {
			r.stderr = stderr[:i]
			r.err = errors.New(strings.TrimSuffix(stderr[i+len(prefix):], "\n"))
			return r
		}
	}
	r.err = fmt.Errorf("samsa exited without an error message: %w", err)
	return r
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

// eventually retries fn until it returns "" or the deadline passes.
func eventually(t *testing.T, what string, fn func() string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		msg := fn()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s", what, msg)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
