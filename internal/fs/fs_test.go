package fs

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func readAll(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestOSRoundTrip(t *testing.T) {
	dir := t.TempDir()
	fsys := OS()
	if err := fsys.MkdirAll(filepath.Join(dir, "a", "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(dir, "a", "b", "f")
	f, err := fsys.OpenFile(name, os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := f.(*os.File); !ok {
		t.Fatalf("OS file is %T, want *os.File", f)
	}
	if f.Fd() == 0 || f.Fd() == ^uintptr(0) {
		t.Fatalf("bad fd %d", f.Fd())
	}
	if _, err := f.Write([]byte("hello world")); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(5); err != nil {
		t.Fatal(err)
	}
	// O_APPEND: the next write lands at the new end, not at the old offset.
	if _, err := f.Write([]byte("!")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 6)
	if _, err := f.ReadAt(buf, 0); err != nil || string(buf) != "hello!" {
		t.Fatalf("ReadAt = %q, %v", buf, err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	st, err := f.Stat()
	if err != nil || st.Size() != 6 {
		t.Fatalf("Stat size %v %v", st, err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := fsys.SyncDir(filepath.Dir(name)); err != nil {
		t.Fatal(err)
	}
	if err := fsys.Rename(name, name+".x"); err != nil {
		t.Fatal(err)
	}
	ents, err := fsys.ReadDir(filepath.Dir(name))
	if err != nil || len(ents) != 1 || ents[0].Name() != "f.x" {
		t.Fatalf("ReadDir = %v, %v", ents, err)
	}
	if _, err := fsys.OpenFile(name, os.O_RDONLY, 0); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("open missing: %v", err)
	}
	if err := fsys.Remove(name + ".x"); err != nil {
		t.Fatal(err)
	}
	if err := fsys.RemoveAll(filepath.Join(dir, "a")); err != nil {
		t.Fatal(err)
	}
	if _, err := fsys.Stat(filepath.Join(dir, "a")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("stat after RemoveAll: %v", err)
	}
}

func TestFaultyENOSPCOnMatchingPathOnly(t *testing.T) {
	dir := t.TempDir()
	ff := NewFaulty(OS())
	a, err := ff.OpenFile(filepath.Join(dir, "x.log"), os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := ff.OpenFile(filepath.Join(dir, "x.index"), os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ff.FailNext(OpWrite, ".log", ENOSPC)
	if _, err := b.Write([]byte("idx")); err != nil {
		t.Fatalf("non-matching path failed: %v", err)
	}
	n, err := a.Write([]byte("data"))
	if !errors.Is(err, syscall.ENOSPC) || n != 0 {
		t.Fatalf("Write = %d, %v; want 0, ENOSPC", n, err)
	}
	var pe *os.PathError
	if !errors.As(err, &pe) || pe.Path != filepath.Join(dir, "x.log") {
		t.Fatalf("error %v is not a PathError naming the file", err)
	}
	// One-shot: the next write goes through.
	if _, err := a.Write([]byte("data")); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, filepath.Join(dir, "x.log")); string(got) != "data" {
		t.Fatalf("file = %q", got)
	}
	if ff.Fired() != 1 {
		t.Fatalf("Fired = %d", ff.Fired())
	}
}

func TestFaultySyncSkipTimes(t *testing.T) {
	dir := t.TempDir()
	ff := NewFaulty(OS())
	f, err := ff.OpenFile(filepath.Join(dir, "f"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	eio := syscall.EIO
	ff.Inject(Fault{Ops: OpSync | OpTruncate, Err: eio, Skip: 1, Times: 2})
	if err := f.Sync(); err != nil {
		t.Fatalf("skipped sync failed: %v", err)
	}
	if err := f.Sync(); !errors.Is(err, eio) {
		t.Fatalf("sync 2: %v", err)
	}
	if err := f.Truncate(0); !errors.Is(err, eio) {
		t.Fatalf("truncate: %v", err)
	}
	if err := f.Sync(); err != nil {
		t.Fatalf("fault should be used up: %v", err)
	}
	ff.Inject(Fault{Ops: OpSyncDir, Times: -1})
	for range 3 {
		if err := ff.SyncDir(dir); !errors.Is(err, ErrInjected) {
			t.Fatalf("SyncDir: %v", err)
		}
	}
	ff.Reset()
	if err := ff.SyncDir(dir); err != nil {
		t.Fatal(err)
	}
}

func TestFaultyTornWriteAndCrash(t *testing.T) {
	dir := t.TempDir()
	ff := NewFaulty(OS())
	name := filepath.Join(dir, "seg.log")
	f, err := ff.OpenFile(name, os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("AAAA")); err != nil {
		t.Fatal(err)
	}
	ff.TornWrite("seg.log", 3, true)
	n, err := f.Write([]byte("BBBBBB"))
	if n != 3 || !errors.Is(err, ErrInjected) {
		t.Fatalf("torn Write = %d, %v", n, err)
	}
	if !ff.Crashed() {
		t.Fatal("not crashed")
	}
	// Everything fails after the crash, and nothing more reaches the disk.
	if _, err := f.Write([]byte("CC")); !errors.Is(err, ErrCrashed) {
		t.Fatalf("write after crash: %v", err)
	}
	if err := f.Truncate(4); !errors.Is(err, ErrCrashed) {
		t.Fatalf("truncate after crash: %v", err)
	}
	if _, err := ff.OpenFile(name, os.O_RDONLY, 0); !errors.Is(err, ErrCrashed) {
		t.Fatalf("open after crash: %v", err)
	}
	if err := ff.Rename(name, name+"2"); !errors.Is(err, ErrCrashed) {
		t.Fatalf("rename after crash: %v", err)
	}
	if err := f.Close(); !errors.Is(err, ErrCrashed) {
		t.Fatalf("close after crash: %v", err)
	}
	if got := readAll(t, name); !bytes.Equal(got, []byte("AAAABBB")) {
		t.Fatalf("on disk %q, want AAAABBB", got)
	}
	ff.Reset()
	if _, err := ff.Stat(name); err != nil {
		t.Fatalf("after Reset: %v", err)
	}
}

func TestFaultyTornWriteWithoutCrash(t *testing.T) {
	dir := t.TempDir()
	ff := NewFaulty(OS())
	name := filepath.Join(dir, "f")
	f, err := ff.OpenFile(name, os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ff.Inject(Fault{Ops: OpWrite, Partial: 100, Err: ENOSPC})
	n, err := f.Write([]byte("xyz"))
	if n != 3 || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Write = %d, %v", n, err) // partial larger than p is capped
	}
	if ff.Crashed() {
		t.Fatal("crashed without Crash")
	}
	if _, err := f.Write([]byte("!")); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, name); string(got) != "xyz!" {
		t.Fatalf("on disk %q", got)
	}
}

func TestFaultyOpenRemoveRenameFaults(t *testing.T) {
	dir := t.TempDir()
	ff := NewFaulty(OS())
	name := filepath.Join(dir, "a.index")
	ff.FailNext(OpOpen, "a.index", nil)
	if _, err := ff.OpenFile(name, os.O_CREATE|os.O_RDWR, 0o644); !errors.Is(err, ErrInjected) {
		t.Fatalf("open: %v", err)
	}
	f, err := ff.OpenFile(name, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	ff.FailNext(OpRename, ".deleted", nil) // matches the new name
	if err := ff.Rename(name, name+".deleted"); !errors.Is(err, ErrInjected) {
		t.Fatalf("rename: %v", err)
	}
	ff.FailNext(OpRemove, "", nil)
	if err := ff.Remove(name); !errors.Is(err, ErrInjected) {
		t.Fatalf("remove: %v", err)
	}
	if err := ff.Remove(name); err != nil {
		t.Fatal(err)
	}
	if got := (OpWrite | OpSync).String(); got != "write|sync" {
		t.Fatalf("Op.String = %q", got)
	}
}

func TestFaultyLoseUnsynced(t *testing.T) {
	dir := t.TempDir()
	ff := NewFaulty(OS())
	name := filepath.Join(dir, "wal")
	if err := os.WriteFile(name, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := ff.OpenFile(name, os.O_RDWR|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("+synced"))
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("+lost"))
	// A temporary file renamed after its fsync keeps its content; one
	// renamed without an fsync loses it.
	if err := WriteFileAtomic(ff, filepath.Join(dir, "good"), []byte("durable")); err != nil {
		t.Fatal(err)
	}
	g, err := ff.OpenFile(filepath.Join(dir, "bad.tmp"), os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	g.Write([]byte("never synced"))
	g.Close()
	if err := ff.Rename(filepath.Join(dir, "bad.tmp"), filepath.Join(dir, "bad")); err != nil {
		t.Fatal(err)
	}
	// Read-only opens and removed files are not touched.
	ro, err := ff.OpenFile(filepath.Join(dir, "good"), os.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	ro.Close()
	ff.Crash()
	f.Close()
	if err := ff.LoseUnsynced(); err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]string{"wal": "old+synced", "good": "durable", "bad": ""} {
		if got := string(readAll(t, filepath.Join(dir, file))); got != want {
			t.Errorf("%s = %q after a power loss, want %q", file, got, want)
		}
	}
	// Truncation lowers the durable size.
	ff.Reset()
	h, err := ff.OpenFile(name, os.O_RDWR|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if err := h.Truncate(3); err != nil {
		t.Fatal(err)
	}
	h.Write([]byte("!"))
	if err := ff.LoseUnsynced(); err != nil {
		t.Fatal(err)
	}
	if got := string(readAll(t, name)); got != "old" {
		t.Fatalf("after truncate and an unsynced write: %q", got)
	}
}
