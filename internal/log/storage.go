package log

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// ErrStorage marks an error of the file system under the log: a failed
// write (ENOSPC, EIO, a torn write), fsync, truncate, open, rename or read
// of one of its files, and every later mutation of a log that failed
// (ErrFailed). It is Kafka's KafkaStorageException: the partition layer
// takes the log directory offline on it and clients get
// KAFKA_STORAGE_ERROR. Errors of the log's own logic (ErrOffsetOutOfRange,
// ErrInvalidBatch, ErrClosed, a cancelled context) are never ErrStorage.
var ErrStorage = errors.New("log: storage error")

// isIOError reports whether err came from the file system: fs.FS returns
// *os.PathError (*os.LinkError for renames) or a bare errno, and a log
// that failed wraps the I/O error that failed it.
func isIOError(err error) bool {
	var pe *os.PathError
	var le *os.LinkError
	var en syscall.Errno
	return errors.As(err, &pe) || errors.As(err, &le) || errors.As(err, &en) ||
		errors.Is(err, io.ErrShortWrite) || errors.Is(err, ErrFailed)
}

// ioErr wraps err in ErrStorage, naming the operation and the log's
// directory, when it came from the file system; other errors (and nil)
// pass through. The log's exported methods return their errors through
// it, so every I/O call site below them is covered.
func (l *Log) ioErr(op string, err error) error {
	if err == nil || errors.Is(err, ErrStorage) || !isIOError(err) {
		return err
	}
	return fmt.Errorf("%w: %s %s: %w", ErrStorage, op, l.dir, err)
}

// Fail puts the log in the failed state if it is not already: every later
// mutation returns ErrFailed (wrapped in ErrStorage), and Close closes
// the files without flushing or checkpointing, since the directory under
// them is offline. The partition layer calls it for every log of a log
// directory that went offline.
func (l *Log) Fail(cause error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failed == nil { // not logged: the caller logged the directory's failure
		l.failed = fmt.Errorf("%w: %w: %s: %w", ErrStorage, ErrFailed, l.dir, cause)
	}
}

// Failed is the error that failed the log, or nil.
func (l *Log) Failed() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.failed
}
