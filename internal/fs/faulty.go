package fs

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
)

// Op is a set of file-system operations a Fault applies to.
type Op uint16

// Operations a Fault can match. Combine them with |.
const (
	OpWrite Op = 1 << iota
	OpSync
	OpTruncate
	OpRead
	OpOpen
	OpClose
	OpRemove
	OpRename
	OpMkdir
	OpReadDir
	OpStat
	OpSyncDir
	OpAny Op = 1<<iota - 1
)

var opNames = [...]string{"write", "sync", "truncate", "read", "open", "close", "remove", "rename", "mkdir", "readdir", "stat", "syncdir"}

func (o Op) String() string {
	var parts []string
	for i, n := range opNames {
		if o&(1<<i) != 0 {
			parts = append(parts, n)
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "|")
}

var (
	// ErrInjected is the error a Fault returns when it names none.
	ErrInjected = errors.New("fs: injected fault")
	// ErrCrashed is returned by every operation after a crashing fault fired.
	ErrCrashed = errors.New("fs: crashed")
	// ENOSPC is the out-of-space error, for Fault.Err.
	ENOSPC error = syscall.ENOSPC
)

// Fault describes an injected failure.
type Fault struct {
	// Ops selects the operations the fault applies to; it must not be 0.
	Ops Op
	// Path selects the paths: a path matches when it contains Path. The
	// empty string matches every path.
	Path string
	// Err is the error returned (wrapped in an *os.PathError, so errors.Is
	// finds it); nil means ErrInjected.
	Err error
	// Partial, for writes, is how many bytes of the write reach the inner
	// file before the error: a torn write. 0 writes nothing.
	Partial int
	// Crash makes the whole FS fail every later operation with ErrCrashed
	// once this fault fired (until Reset), simulating a process crash.
	Crash bool
	// Skip lets this many matching operations through before firing.
	Skip int
	// Times is how often the fault fires; 0 means once, negative forever.
	Times int
}

type rule struct {
	Fault
	left int // remaining firings; <0 forever
}

// Faulty is an FS that forwards to an inner FS and fails operations that
// match its injected faults.
type Faulty struct {
	inner FS

	mu      sync.Mutex
	rules   []*rule
	crashed bool
	fired   int
	synced  map[string]int64 // durable size per file written (powerloss.go)
}

// NewFaulty wraps inner.
func NewFaulty(inner FS) *Faulty { return &Faulty{inner: inner, synced: map[string]int64{}} }

// Inject adds a fault. Faults are checked in the order they were added; the
// first that matches an operation fires.
func (f *Faulty) Inject(ft Fault) {
	if ft.Ops == 0 {
		panic("fs: Fault.Ops is empty")
	}
	left := ft.Times
	if left == 0 {
		left = 1
	}
	f.mu.Lock()
	f.rules = append(f.rules, &rule{Fault: ft, left: left})
	f.mu.Unlock()
}

// FailNext makes the next operation in ops on a path containing path fail
// with err (nil: ErrInjected).
func (f *Faulty) FailNext(ops Op, path string, err error) {
	f.Inject(Fault{Ops: ops, Path: path, Err: err})
}

// TornWrite makes the next write on a path containing path write only its
// first n bytes and fail; with crash the FS then crashes.
func (f *Faulty) TornWrite(path string, n int, crash bool) {
	f.Inject(Fault{Ops: OpWrite, Path: path, Partial: n, Crash: crash})
}

// Crash makes every later operation fail with ErrCrashed.
func (f *Faulty) Crash() {
	f.mu.Lock()
	f.crashed = true
	f.mu.Unlock()
}

// Crashed reports whether the FS has crashed.
func (f *Faulty) Crashed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.crashed
}

// Reset removes every pending fault and clears the crashed state.
func (f *Faulty) Reset() {
	f.mu.Lock()
	f.rules, f.crashed = nil, false
	f.mu.Unlock()
}

// Fired is the number of faults that have fired so far.
func (f *Faulty) Fired() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fired
}

// check decides the fate of one operation. It returns the error to return
// (nil: go ahead) and, for a torn write, how many bytes to let through.
func (f *Faulty) check(op Op, path string) (partial int, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.crashed {
		return 0, &os.PathError{Op: op.String(), Path: path, Err: ErrCrashed}
	}
	for i, r := range f.rules {
		if r.Ops&op == 0 || !strings.Contains(path, r.Path) {
			continue
		}
		if r.Skip > 0 {
			r.Skip--
			continue
		}
		if r.left > 0 {
			r.left--
			if r.left == 0 {
				f.rules = append(f.rules[:i:i], f.rules[i+1:]...)
			}
		}
		f.fired++
		if r.Crash {
			f.crashed = true
		}
		e := r.Err
		if e == nil {
			e = ErrInjected
		}
		return r.Partial, &os.PathError{Op: op.String(), Path: path, Err: e}
	}
	return 0, nil
}

// OpenFile opens a file of the inner FS; the returned File checks faults on
// every operation.
func (f *Faulty) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	if _, err := f.check(OpOpen, name); err != nil {
		return nil, err
	}
	in, err := f.inner.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	f.noteOpen(name, flag, in)
	return &faultyFile{fs: f, name: name, inner: in}, nil
}

// Remove removes a file.
func (f *Faulty) Remove(name string) error {
	if _, err := f.check(OpRemove, name); err != nil {
		return err
	}
	if err := f.inner.Remove(name); err != nil {
		return err
	}
	f.noteRemove(name, false)
	return nil
}

// Rename renames a file; faults match either path.
func (f *Faulty) Rename(oldpath, newpath string) error {
	if _, err := f.check(OpRename, oldpath+"\x00"+newpath); err != nil {
		return err
	}
	if err := f.inner.Rename(oldpath, newpath); err != nil {
		return err
	}
	f.noteRename(oldpath, newpath)
	return nil
}

// MkdirAll creates a directory tree.
func (f *Faulty) MkdirAll(path string, perm os.FileMode) error {
	if _, err := f.check(OpMkdir, path); err != nil {
		return err
	}
	return f.inner.MkdirAll(path, perm)
}

// ReadDir lists a directory.
func (f *Faulty) ReadDir(name string) ([]os.DirEntry, error) {
	if _, err := f.check(OpReadDir, name); err != nil {
		return nil, err
	}
	return f.inner.ReadDir(name)
}

// Stat describes a file.
func (f *Faulty) Stat(name string) (os.FileInfo, error) {
	if _, err := f.check(OpStat, name); err != nil {
		return nil, err
	}
	return f.inner.Stat(name)
}

// SyncDir fsyncs a directory.
func (f *Faulty) SyncDir(dir string) error {
	if _, err := f.check(OpSyncDir, dir); err != nil {
		return err
	}
	return f.inner.SyncDir(dir)
}

// RemoveAll removes a tree; it matches OpRemove.
func (f *Faulty) RemoveAll(path string) error {
	if _, err := f.check(OpRemove, path); err != nil {
		return err
	}
	if err := f.inner.RemoveAll(path); err != nil {
		return err
	}
	f.noteRemove(path, true)
	return nil
}

type faultyFile struct {
	fs    *Faulty
	name  string
	inner File
}

func (ff *faultyFile) ReadAt(p []byte, off int64) (int, error) {
	if _, err := ff.fs.check(OpRead, ff.name); err != nil {
		return 0, err
	}
	return ff.inner.ReadAt(p, off)
}

func (ff *faultyFile) Write(p []byte) (int, error) {
	partial, err := ff.fs.check(OpWrite, ff.name)
	if err == nil {
		return ff.inner.Write(p)
	}
	var n int
	if partial > 0 { // only a firing fault tears; a crashed FS writes nothing
		n, _ = ff.inner.Write(p[:min(partial, len(p))])
	}
	return n, err
}

func (ff *faultyFile) Close() error {
	// The descriptor is released even when the close is failed, so that a
	// crashed FS does not leak descriptors.
	_, err := ff.fs.check(OpClose, ff.name)
	cerr := ff.inner.Close()
	if err != nil {
		return err
	}
	return cerr
}

func (ff *faultyFile) Sync() error {
	if _, err := ff.fs.check(OpSync, ff.name); err != nil {
		return err
	}
	if err := ff.inner.Sync(); err != nil {
		return err
	}
	ff.fs.noteSync(ff.name, ff.inner)
	return nil
}

func (ff *faultyFile) Truncate(size int64) error {
	if _, err := ff.fs.check(OpTruncate, ff.name); err != nil {
		return err
	}
	if err := ff.inner.Truncate(size); err != nil {
		return err
	}
	ff.fs.noteTruncate(ff.name, size)
	return nil
}

func (ff *faultyFile) Stat() (os.FileInfo, error) {
	if _, err := ff.fs.check(OpStat, ff.name); err != nil {
		return nil, err
	}
	return ff.inner.Stat()
}

func (ff *faultyFile) Fd() uintptr { return ff.inner.Fd() }

func (ff *faultyFile) String() string { return fmt.Sprintf("faulty(%s)", ff.name) }
