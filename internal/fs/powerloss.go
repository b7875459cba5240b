package fs

import (
	"errors"
	"os"
	"strings"
)

// noteOpen records the durable size of a file just opened with flag.
func (f *Faulty) noteOpen(name string, flag int, in File) {
	if flag&(os.O_WRONLY|os.O_RDWR) == 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if flag&os.O_TRUNC != 0 {
		f.synced[name] = 0
		return
	}
	if _, ok := f.synced[name]; ok {
		return
	}
	if st, err := in.Stat(); err == nil {
		f.synced[name] = st.Size()
	}
}

// noteSync records that name's current size is durable.
func (f *Faulty) noteSync(name string, in File) {
	st, err := in.Stat()
	if err != nil {
		return
	}
	f.mu.Lock()
	f.synced[name] = st.Size()
	f.mu.Unlock()
}

// noteTruncate lowers name's durable size to size.
func (f *Faulty) noteTruncate(name string, size int64) {
	f.mu.Lock()
	if n, ok := f.synced[name]; ok && size < n {
		f.synced[name] = size
	}
	f.mu.Unlock()
}

func (f *Faulty) noteRename(oldpath, newpath string) {
	f.mu.Lock()
	if n, ok := f.synced[oldpath]; ok {
		f.synced[newpath] = n
	} else {
		delete(f.synced, newpath)
	}
	delete(f.synced, oldpath)
	f.mu.Unlock()
}

// noteRemove forgets path and, for RemoveAll, everything under it.
func (f *Faulty) noteRemove(path string, tree bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for name := range f.synced {
		if name == path || tree && strings.HasPrefix(name, path+string(os.PathSeparator)) {
			delete(f.synced, name)
		}
	}
}

// LoseUnsynced models a power loss: every file written through f is cut
// back to the bytes it had when last fsynced (or opened), in the inner FS.
// Call it after a crash and before reopening; it works whether or not f
// has crashed.
func (f *Faulty) LoseUnsynced() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	var errs []error
	for name, n := range f.synced {
		st, err := f.inner.Stat(name)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if st.Size() <= n {
			continue
		}
		in, err := f.inner.OpenFile(name, os.O_WRONLY, 0)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		errs = append(errs, in.Truncate(n), in.Close())
	}
	return errors.Join(errs...)
}
