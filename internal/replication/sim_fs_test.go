package replication

import (
	"errors"
	"io"
	iofs "io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/samsa-streaming/samsa/internal/fs"
)

// simFS is the simulation's disk: an in-memory fs.FS that knows which bytes
// of each file were fsynced. Crash models a power loss: every file keeps
// its synced prefix plus, at random, part of the unsynced suffix (the
// writeback the OS may have done; a torn batch at the cut is what log
// recovery must handle), and every file handle opened before it fails with
// fs.ErrCrashed from then on.
//
// Simplifications, on the lenient side: directory operations (create,
// rename, remove, truncate) are durable at once, so SyncDir is a no-op and
// a truncation never comes back; an overwrite below the synced length
// makes the file durable only up to the overwrite.
type simFS struct {
	mu    sync.Mutex
	files map[string]*simNode
	dirs  map[string]bool
	gen   int // crash generation; handles of older generations are dead
}

type simNode struct {
	data    []byte
	durable int // length of the prefix that survives a crash
}

func newSimFS() *simFS {
	return &simFS{files: map[string]*simNode{}, dirs: map[string]bool{"/": true, ".": true}}
}

// Crash drops unsynced data (see simFS) and returns how many bytes were
// lost in all.
func (m *simFS) Crash(rng *rand.Rand) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gen++
	lost := 0
	next := make(map[string]*simNode, len(m.files))
	for _, name := range sortedKeys(m.files) {
		n := m.files[name]
		keep := n.durable
		if extra := len(n.data) - n.durable; extra > 0 && rng.IntN(2) == 0 {
			keep += rng.IntN(extra + 1)
		}
		lost += len(n.data) - keep
		next[name] = &simNode{data: slices.Clone(n.data[:keep]), durable: keep}
	}
	m.files = next
	return lost
}

// Unsynced is the number of bytes a crash could lose now.
func (m *simFS) Unsynced() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, f := range m.files {
		n += len(f.data) - f.durable
	}
	return n
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func pathErr(op, name string, err error) error { return &os.PathError{Op: op, Path: name, Err: err} }

func (m *simFS) OpenFile(name string, flag int, _ os.FileMode) (fs.File, error) {
	name = filepath.Clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.dirs[filepath.Dir(name)] {
		return nil, pathErr("open", name, os.ErrNotExist)
	}
	n, ok := m.files[name]
	switch {
	case !ok && flag&os.O_CREATE == 0:
		return nil, pathErr("open", name, os.ErrNotExist)
	case ok && flag&os.O_CREATE != 0 && flag&os.O_EXCL != 0:
		return nil, pathErr("open", name, os.ErrExist)
	case !ok:
		n = &simNode{}
		m.files[name] = n
	}
	if flag&os.O_TRUNC != 0 {
		n.data, n.durable = n.data[:0], 0
	}
	return &simFile{fs: m, node: n, name: name, gen: m.gen, flag: flag}, nil
}

func (m *simFS) Remove(name string) error {
	name = filepath.Clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.files[name]; ok {
		delete(m.files, name)
		return nil
	}
	if m.dirs[name] {
		for f := range m.files {
			if filepath.Dir(f) == name {
				return pathErr("remove", name, errors.New("directory not empty"))
			}
		}
		delete(m.dirs, name)
		return nil
	}
	return pathErr("remove", name, os.ErrNotExist)
}

func (m *simFS) Rename(oldpath, newpath string) error {
	oldpath, newpath = filepath.Clean(oldpath), filepath.Clean(newpath)
	m.mu.Lock()
	defer m.mu.Unlock()
	n, ok := m.files[oldpath]
	if !ok {
		return pathErr("rename", oldpath, os.ErrNotExist)
	}
	if !m.dirs[filepath.Dir(newpath)] {
		return pathErr("rename", newpath, os.ErrNotExist)
	}
	delete(m.files, oldpath)
	m.files[newpath] = n
	return nil
}

func (m *simFS) MkdirAll(path string, _ os.FileMode) error {
	path = filepath.Clean(path)
	m.mu.Lock()
	defer m.mu.Unlock()
	for p := path; !m.dirs[p]; p = filepath.Dir(p) {
		if _, ok := m.files[p]; ok {
			return pathErr("mkdir", p, errors.New("not a directory"))
		}
		m.dirs[p] = true
	}
	return nil
}

func (m *simFS) ReadDir(name string) ([]os.DirEntry, error) {
	name = filepath.Clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.dirs[name] {
		return nil, pathErr("readdir", name, os.ErrNotExist)
	}
	var out []os.DirEntry
	for _, f := range sortedKeys(m.files) {
		if filepath.Dir(f) == name {
			out = append(out, simInfo{name: filepath.Base(f), size: int64(len(m.files[f].data))})
		}
	}
	for _, d := range sortedKeys(m.dirs) {
		if d != name && filepath.Dir(d) == name {
			out = append(out, simInfo{name: filepath.Base(d), dir: true})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out, nil
}

func (m *simFS) Stat(name string) (os.FileInfo, error) {
	name = filepath.Clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if n, ok := m.files[name]; ok {
		return simInfo{name: filepath.Base(name), size: int64(len(n.data))}, nil
	}
	if m.dirs[name] {
		return simInfo{name: filepath.Base(name), dir: true}, nil
	}
	return nil, pathErr("stat", name, os.ErrNotExist)
}

func (m *simFS) SyncDir(string) error { return nil }

func (m *simFS) RemoveAll(path string) error {
	path = filepath.Clean(path)
	m.mu.Lock()
	defer m.mu.Unlock()
	under := func(p string) bool { return p == path || strings.HasPrefix(p, path+string(filepath.Separator)) }
	for f := range m.files {
		if under(f) {
			delete(m.files, f)
		}
	}
	for d := range m.dirs {
		if under(d) {
			delete(m.dirs, d)
		}
	}
	return nil
}

type simFile struct {
	fs   *simFS
	node *simNode
	name string
	gen  int
	flag int
	pos  int64
}

// live checks the handle survived no crash. Call with fs.mu held.
func (f *simFile) live(op string) error {
	if f.gen != f.fs.gen {
		return pathErr(op, f.name, fs.ErrCrashed)
	}
	return nil
}

func (f *simFile) ReadAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.live("read"); err != nil {
		return 0, err
	}
	if off >= int64(len(f.node.data)) {
		return 0, io.EOF
	}
	n := copy(p, f.node.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (f *simFile) Write(p []byte) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.live("write"); err != nil {
		return 0, err
	}
	n := f.node
	if f.flag&os.O_APPEND != 0 {
		f.pos = int64(len(n.data))
	}
	end := int(f.pos) + len(p)
	if end > len(n.data) {
		n.data = append(n.data, make([]byte, end-len(n.data))...)
	}
	copy(n.data[f.pos:], p)
	n.durable = min(n.durable, int(f.pos))
	f.pos = int64(end)
	return len(p), nil
}

func (f *simFile) Close() error { return nil }

func (f *simFile) Sync() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.live("sync"); err != nil {
		return err
	}
	f.node.durable = len(f.node.data)
	return nil
}

func (f *simFile) Truncate(size int64) error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.live("truncate"); err != nil {
		return err
	}
	n := f.node
	if int(size) <= len(n.data) {
		n.data = n.data[:size]
	} else {
		n.data = append(n.data, make([]byte, int(size)-len(n.data))...)
	}
	n.durable = min(n.durable, int(size))
	return nil
}

func (f *simFile) Stat() (os.FileInfo, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.live("stat"); err != nil {
		return nil, err
	}
	return simInfo{name: filepath.Base(f.name), size: int64(len(f.node.data))}, nil
}

func (f *simFile) Fd() uintptr { return ^uintptr(0) }

// simInfo is both the os.FileInfo and the os.DirEntry of simFS.
type simInfo struct {
	name string
	size int64
	dir  bool
}

func (i simInfo) Name() string { return i.name }
func (i simInfo) Size() int64  { return i.size }
func (i simInfo) Mode() os.FileMode {
	if i.dir {
		return os.ModeDir | 0o755
	}
	return 0o644
}
func (i simInfo) ModTime() time.Time         { return time.Time{} }
func (i simInfo) IsDir() bool                { return i.dir }
func (i simInfo) Sys() any                   { return nil }
func (i simInfo) Type() os.FileMode          { return i.Mode().Type() }
func (i simInfo) Info() (os.FileInfo, error) { return i, nil }

var _ iofs.DirEntry = simInfo{}
