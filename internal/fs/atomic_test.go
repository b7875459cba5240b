package fs

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "f")
	if _, err := ReadFile(OS(), name); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	for _, want := range []string{"", "hello"} {
		if err := os.WriteFile(name, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := ReadFile(OS(), name)
		if err != nil || string(got) != want {
			t.Fatalf("ReadFile = %q, %v; want %q", got, err, want)
		}
	}
	ff := NewFaulty(OS())
	ff.FailNext(OpRead, "", nil)
	if _, err := ReadFile(ff, name); !errors.Is(err, ErrInjected) {
		t.Fatalf("read fault: %v", err)
	}
}

// TestWriteFileAtomicCrashAtEachStep crashes WriteFileAtomic at each of its
// operations in turn (and tears its write): the file then holds the old
// content or the new one, never a mix, and a nil return means every step
// including the directory fsync happened.
func TestWriteFileAtomicCrashAtEachStep(t *testing.T) {
	const old, next = "old content", "new content, longer"
	for _, partial := range []int{0, 4} {
		for k := 0; ; k++ {
			dir := t.TempDir()
			name := filepath.Join(dir, "f")
			if err := WriteFileAtomic(OS(), name, []byte(old)); err != nil {
				t.Fatal(err)
			}
			ff := NewFaulty(OS())
			ff.Inject(Fault{Ops: OpAny, Skip: k, Partial: partial, Crash: true})
			err := WriteFileAtomic(ff, name, []byte(next))
			got := string(readAll(t, name))
			if ff.Fired() == 0 {
				if err != nil || got != next {
					t.Fatalf("no fault: %q, %v", got, err)
				}
				if k < 6 { // open, write, sync, close, rename, syncdir
					t.Fatalf("only %d operations", k)
				}
				break
			}
			if err == nil {
				t.Fatalf("step %d: the fault fired but WriteFileAtomic returned nil", k)
			}
			if !errors.Is(err, ErrCrashed) && !errors.Is(err, ErrInjected) {
				t.Fatalf("step %d: error %v", k, err)
			}
			if got != old && got != next {
				t.Fatalf("step %d (partial %d): file holds %q", k, partial, got)
			}
		}
	}
}

func TestWriteFileAtomicRemovesTempOnFailure(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "f")
	ff := NewFaulty(OS())
	ff.FailNext(OpWrite, "", ENOSPC)
	if err := WriteFileAtomic(ff, name, []byte("x")); !errors.Is(err, ENOSPC) {
		t.Fatalf("WriteFileAtomic: %v", err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil || len(ents) != 0 {
		t.Fatalf("left %v, %v", ents, err)
	}
}
