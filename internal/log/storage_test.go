package log

import (
	"errors"
	"strings"
	"syscall"
	"testing"

	"github.com/samsa-streaming/samsa/internal/fs"
)

// Every file-system failure under an exported method comes back as
// ErrStorage naming the directory; the log's own errors never do.
func TestStorageErrorsAreMarked(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig()
	cfg.FlushMessages = 1 // every append fsyncs
	ff := fs.NewFaulty(fs.OS())
	l := openLog(t, dir, cfg, ff, newClock(), false)
	defer l.Close()
	mustAppend(t, l, makeBatch(1, 10, 1), 0)

	ff.FailNext(fs.OpWrite, ".log", fs.ENOSPC) // rolled back: the log stays usable
	_, err := l.Append(makeBatch(1, 10, 2), 0)
	if !errors.Is(err, ErrStorage) || !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("ENOSPC append: %v", err)
	}
	if errors.Is(err, ErrFailed) {
		t.Fatalf("a rolled-back write failed the log: %v", err)
	}
	if _, err := l.Read(-1, 100, 10, true); !errors.Is(err, ErrOffsetOutOfRange) || errors.Is(err, ErrStorage) {
		t.Fatalf("out of range read: %v", err)
	}
	if _, err := l.Append([]byte("junk"), 0); errors.Is(err, ErrStorage) {
		t.Fatalf("invalid batch marked as storage error: %v", err)
	}

	ff.FailNext(fs.OpSync, ".log", syscall.EIO) // a failed fsync fails the log
	if _, err := l.Append(makeBatch(1, 10, 3), 0); !errors.Is(err, ErrStorage) || !errors.Is(err, ErrFailed) {
		t.Fatalf("fsync failure: %v", err)
	}
	for name, err := range map[string]error{
		"append":   func() error { _, err := l.Append(makeBatch(1, 10, 4), 0); return err }(),
		"truncate": l.Truncate(0),
		"flush":    l.Flush(),
	} {
		if !errors.Is(err, ErrStorage) {
			t.Fatalf("%s on a failed log: %v", name, err)
		}
	}
}

// Fail stops a healthy log: mutations refused as ErrStorage, and Close
// does not flush.
func TestFailStopsLog(t *testing.T) {
	ff := fs.NewFaulty(fs.OS())
	l := openLog(t, t.TempDir(), testConfig(), ff, newClock(), false)
	mustAppend(t, l, makeBatch(1, 10, 1), 0)
	l.Fail(errors.New("the log directory went offline"))
	if _, err := l.Append(makeBatch(1, 10, 2), 0); !errors.Is(err, ErrStorage) {
		t.Fatalf("append after Fail: %v", err)
	}
	if l.Failed() == nil {
		t.Fatal("Failed() is nil")
	}
	ff.Inject(fs.Fault{Ops: fs.OpSync, Times: -1}) // a flush would fail Close
	if err := l.Close(); err != nil {
		t.Fatalf("Close of a failed log flushed: %v", err)
	}
}
