package log

import (
	"errors"
	"fmt"
	"time"
)

// applyRetention enforces retention.ms and retention.bytes by deleting the
// oldest segments, never the active one, and advances the log start offset
// past them. It first removes the files of segments deleted at least
// file.delete.delay.ms ago: the broker's retention loop calling it
// periodically is what finally frees deleted segments (there is no
// background goroutine).
func (l *Log) applyRetention(now time.Time) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.writable(); err != nil {
		return 0, err
	}
	sweepErr := l.sweep(now)
	cfg := l.cfg.Load()
	segs := l.segments()
	n := 0 // deletable prefix, never the active segment
	if cfg.RetentionMs >= 0 {
		for n < len(segs)-1 && now.UnixMilli()-segs[n].largestTimestamp() > cfg.RetentionMs {
			n++
		}
	}
	if cfg.RetentionBytes >= 0 {
		diff := l.Size() - cfg.RetentionBytes
		for i := range segs[:len(segs)-1] {
			sz := segs[i].size.Load()
			if diff-sz < 0 {
				break
			}
			diff -= sz
			n = max(n, i+1)
		}
	}
	if n == 0 {
		return 0, sweepErr
	}
	err := l.deleteBelow(segs[n].base, now, "retention")
	return n, errors.Join(sweepErr, err)
}

// setLogStartOffset advances the log start offset (DeleteRecords), deletes
// the segments wholly below it and persists the checkpoint. Offsets above
// the log end offset give ErrOffsetOutOfRange; offsets at or below the
// current start are a no-op.
func (l *Log) setLogStartOffset(off int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.writable(); err != nil {
		return err
	}
	if off > l.leo.Load() {
		return fmt.Errorf("%w: %d beyond log end offset %d", ErrOffsetOutOfRange, off, l.leo.Load())
	}
	if off <= l.lso.Load() {
		return nil
	}
	return l.deleteBelow(off, l.clock.Now(), "log start offset")
}

// deleteBelow raises the log start offset to off (persisting it and
// trimming the epoch checkpoint) and deletes every segment whose successor
// starts at or below off. Call with mu held.
func (l *Log) deleteBelow(off int64, now time.Time, reason string) error {
	if off > l.lso.Load() {
		if err := writeOffsetCheckpoint(l.fsys, l.dir, logStartCheckpointFile, off); err != nil {
			return err
		}
		l.lso.Store(off) // before the segments go, so readers never miss one
		if l.epochs.truncateFromStart(off) {
			if err := l.epochs.persist(l.fsys, l.dir); err != nil {
				return err
			}
		}
	}
	segs := l.segments()
	n := 0
	for n < len(segs)-1 && segs[n+1].base <= off {
		n++
	}
	if n == 0 {
		return nil
	}
	l.setSegments(append([]*segment(nil), segs[n:]...))
	return l.retire(segs[:n], now, reason)
}

// retire renames removed segments to *.deleted and schedules their removal
// after file.delete.delay.ms, keeping their files open for in-flight reads.
func (l *Log) retire(segs []*segment, now time.Time, reason string) error {
	due := now.Add(time.Duration(l.cfg.Load().FileDeleteDelayMs) * time.Millisecond)
	var errs []error
	for _, s := range segs {
		l.lg.Info("deleting segment", "base", s.base, "reason", reason)
		s.deleted.Store(true)
		errs = append(errs, s.closeIndexFiles(), s.renameDeleted())
		l.pending = append(l.pending, pendingDelete{s, due})
	}
	errs = append(errs, l.sweep(now))
	return errors.Join(errs...)
}

// sweep closes and removes deleted segments whose delay has passed.
func (l *Log) sweep(now time.Time) error {
	var errs []error
	keep := l.pending[:0]
	for _, p := range l.pending {
		if now.Before(p.due) {
			keep = append(keep, p)
			continue
		}
		errs = append(errs, p.seg.removeDeleted())
	}
	clear(l.pending[len(keep):])
	l.pending = keep
	return errors.Join(errs...)
}

// PendingDeletes is the number of deleted segments whose files are kept
// for file.delete.delay.ms.
func (l *Log) PendingDeletes() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.pending)
}

// truncate drops every batch with offsets >= off (a follower truncating to
// its leader). A batch straddling off is dropped whole, so the new log end
// offset can be below off. off at or above the log end offset is a no-op;
// off at or below the first segment's base empties the log and restarts it
// at off.
func (l *Log) truncate(off int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.writable(); err != nil {
		return err
	}
	if off < 0 {
		return fmt.Errorf("%w: truncate to %d", ErrOffsetOutOfRange, off)
	}
	if off >= l.leo.Load() {
		// An epoch entry at the log end without records (a leader that
		// appended nothing) conflicts with the leader's log: drop it.
		if l.epochs.truncateFromEnd(l.leo.Load()) {
			return l.epochs.persist(l.fsys, l.dir)
		}
		return nil
	}
	l.cleanerTruncated(off)
	if err := l.truncateTxnIndex(off); err != nil {
		return l.fail(err)
	}
	now := l.clock.Now()
	segs := l.segments()
	if off <= segs[0].base {
		return l.truncateFully(off, now)
	}
	i := floorSegment(segs, off)
	keep, drop := append([]*segment(nil), segs[:i+1]...), segs[i+1:]
	s := keep[i]
	// Readers see nothing at or past off from now on.
	l.leo.Store(off)
	if len(drop) > 0 {
		if err := s.ensureLoaded(); err != nil {
			return l.fail(err)
		}
		if err := s.activate(); err != nil {
			return l.fail(err)
		}
		l.setSegments(keep)
		if err := l.retire(drop, now, "truncation"); err != nil {
			l.lg.Warn("retiring truncated segments", "err", err)
		}
	}
	next, err := s.truncateTo(off)
	if err != nil {
		return l.fail(err)
	}
	l.leo.Store(next)
	l.recoveryPoint = min(l.recoveryPoint, next)
	if next < l.lso.Load() {
		l.lso.Store(next)
		if err := writeOffsetCheckpoint(l.fsys, l.dir, logStartCheckpointFile, next); err != nil {
			return err
		}
	}
	if l.epochs.truncateFromEnd(next) {
		if err := l.epochs.persist(l.fsys, l.dir); err != nil {
			return err
		}
	}
	return nil
}

// resetStart empties the log and restarts it at off (a follower whose
// leader no longer has the records it would fetch next).
func (l *Log) resetStart(off int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.writable(); err != nil {
		return err
	}
	if off < 0 {
		return fmt.Errorf("%w: reset to %d", ErrOffsetOutOfRange, off)
	}
	l.cleanerTruncated(0)
	if err := l.truncateTxnIndex(0); err != nil {
		return l.fail(err)
	}
	return l.truncateFully(off, l.clock.Now())
}

// truncateFully replaces every segment by an empty one at off (Kafka's
// truncateFullyAndStartAt), clearing the epoch checkpoint. The old
// segments are renamed away first, so the new files never overwrite bytes
// an in-flight read may still be sending.
func (l *Log) truncateFully(off int64, now time.Time) error {
	if err := writeOffsetCheckpoint(l.fsys, l.dir, logStartCheckpointFile, off); err != nil {
		return err
	}
	l.leo.Store(off)
	l.lso.Store(off)
	rerr := l.retire(l.segments(), now, "truncation")
	ns, err := newSegment(l.fsys, l.dir, off, now)
	if err != nil {
		return l.fail(errors.Join(rerr, err))
	}
	l.setSegments([]*segment{ns})
	l.recoveryPoint = off
	l.epochs.mu.Lock()
	changed := len(l.epochs.entries) > 0
	l.epochs.entries = nil
	l.epochs.mu.Unlock()
	if changed {
		if err := l.epochs.persist(l.fsys, l.dir); err != nil {
			return errors.Join(rerr, err)
		}
	}
	return rerr
}

// ApplyRetention is applyRetention with file-system errors marked
// ErrStorage.
func (l *Log) ApplyRetention(now time.Time) (int, error) {
	n, err := l.applyRetention(now)
	return n, l.ioErr("retention", err)
}

// SetLogStartOffset is setLogStartOffset with file-system errors marked
// ErrStorage.
func (l *Log) SetLogStartOffset(off int64) error {
	return l.ioErr("set log start offset", l.setLogStartOffset(off))
}

// Truncate is truncate with file-system errors marked ErrStorage.
func (l *Log) Truncate(off int64) error { return l.ioErr("truncate", l.truncate(off)) }

// ResetStart is resetStart with file-system errors marked ErrStorage.
func (l *Log) ResetStart(off int64) error { return l.ioErr("reset", l.resetStart(off)) }
