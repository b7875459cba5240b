package controller

import (
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/fs"
	"github.com/samsa-streaming/samsa/internal/metadata"
)

// A WAL write that fails (a full disk) stops the controller on its own:
// Done closes and Err names the failure, so the node can stop the process.
func TestWALWriteFailureIsFatal(t *testing.T) {
	ff := fs.NewFaulty(fs.OS())
	cfg := testConfig(t, t.TempDir())
	cfg.FS = ff
	c := open(t, cfg)
	registerBrokers(t, c, 1)
	if c.Err() != nil {
		t.Fatalf("Err while running: %v", c.Err())
	}
	ff.Inject(fs.Fault{Ops: fs.OpWrite, Path: "wal", Err: fs.ENOSPC, Times: -1})
	_, err := c.Propose(testCtx(t), metadata.CreateTopic{Name: "t", ID: metadata.RandomUuid(), Assignments: [][]int32{{1}}})
	if err == nil {
		t.Fatal("a proposal succeeded with a full metadata log disk")
	}
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("Done did not close after the WAL write failed")
	}
	if err := c.Err(); !errors.Is(err, syscall.ENOSPC) || !errors.Is(err, ErrClosed) {
		t.Fatalf("Err: %v", err)
	}
	if err := c.Close(); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Close: %v", err)
	}
}

// A plain Close is not a failure.
func TestCloseIsNotAnError(t *testing.T) {
	c := open(t, testConfig(t, t.TempDir()))
	closeC(t, c)
	select {
	case <-c.Done():
	default:
		t.Fatal("Done open after Close")
	}
	if err := c.Err(); err != nil {
		t.Fatalf("Err after Close: %v", err)
	}
}
