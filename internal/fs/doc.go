// Package fs is the narrow file-system interface the storage layer writes
// through, so that tests can inject faults where the real system would see
// them.
//
// OS returns the real implementation: every File it opens is an *os.File, so
// Fd is a real descriptor the broker may hand to sendfile(2) together with an
// explicit offset (ReadAt-style reads never move a shared file position).
//
// Faulty wraps another FS and fails chosen operations on chosen paths, in the
// spirit of pebble's vfs/errorfs: the next write or sync on a path can return
// an error (ENOSPC, EIO, anything), a write can be torn (only its first N
// bytes reach the inner file before the error), and a fault can "crash" the
// file system, after which every operation fails with ErrCrashed until Reset.
// A crash does not discard unsynced data: the bytes already written stay in
// the inner files, which is what a process crash leaves. LoseUnsynced then
// models a power loss (powerloss.go): Faulty remembers, for every file
// opened for writing through it, how many bytes are known durable (its size
// when opened, 0 with O_TRUNC, or at its last successful Sync; lowered by
// Truncate, carried by Rename, forgotten by Remove), and cuts each file
// back to that. Only file contents are modelled: directory entries are
// assumed durable once created, renamed or removed.
//
// WriteFileAtomic is the one atomic-replace routine of the storage packages
// (checkpoints, the controller's snapshots and WAL rewrites, producer-state
// snapshots): it writes path+TempSuffix, fsyncs it, renames it over path and
// fsyncs the directory, so a crash leaves the old file or the new one and a
// nil return means the new one is durable. ReadFile reads a whole file
// through an FS.
//
// Concurrency: OS is stateless. Faulty and the files it opens are safe for
// concurrent use; its rules are guarded by one mutex.
package fs
