package fs

import (
	"fmt"
	"os"
	"path/filepath"
)

// TempSuffix is appended to a path to name the temporary file
// WriteFileAtomic writes before renaming it over the path. A crash can leave
// one behind; owners of a directory delete them when they open it.
const TempSuffix = ".tmp"

// WriteFileAtomic replaces path with data so that a crash leaves either the
// old file or the new one, and a nil return means the new one is durable:
// it writes path+TempSuffix, fsyncs it, renames it over path and fsyncs the
// directory. On failure before the rename it removes the temporary file
// (best effort). It is the one atomic-replace routine of the storage
// packages.
func WriteFileAtomic(fsys FS, path string, data []byte) error {
	tmp := path + TempSuffix
	if err := writeSynced(fsys, tmp, data); err != nil {
		fsys.Remove(tmp) // best effort; a crashed FS leaves it for Open
		return fmt.Errorf("fs: write %s: %w", tmp, err)
	}
	if err := fsys.Rename(tmp, path); err != nil {
		return fmt.Errorf("fs: replace %s: %w", path, err)
	}
	if err := fsys.SyncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("fs: sync directory of %s: %w", path, err)
	}
	return nil
}

// writeSynced creates (or truncates) name, writes data and fsyncs it.
func writeSynced(fsys FS, name string, data []byte) error {
	f, err := fsys.OpenFile(name, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
