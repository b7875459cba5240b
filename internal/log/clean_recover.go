package log

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Compaction's files in the partition directory.
const (
	cleanedSuffix         = ".cleaned" // a cleaned segment being written
	swapSuffix            = ".swap"    // a cleaned segment committed to replace its originals
	cleanerCheckpointFile = "cleaner-offset-checkpoint"
)

// cleanState is a Log's compaction state.
type cleanState struct {
	// mu serialises cleaning passes of the log (Clean and the Cleaner).
	mu sync.Mutex
	// point is the cleaner point: offsets below it were deduplicated by an
	// earlier pass (Kafka's cleaner checkpoint). Clamped to the log start
	// offset when used.
	point atomic.Int64
	// horizon is the earliest delete horizon (Unix ms) of the tombstones the
	// last pass kept below its end offset; -1 when there are none or it is
	// unknown.
	horizon atomic.Int64
	// truncations counts Truncate calls, so that a pass racing one does
	// not advance the cleaner point past the truncation.
	truncations atomic.Int64
	// stable is the partition's last stable offset (SetLastStableOffset):
	// the background cleaner never deduplicates at or past it. 0 until set,
	// so nothing is cleaned before the partition says what is safe.
	stable atomic.Int64
	// retryAt (Unix ms) holds the background cleaner off a log whose last
	// pass failed.
	retryAt atomic.Int64
	// badBatch is 1 + the offset of a batch the background cleaner could
	// not decode (0: none): it leaves the log alone while that batch is
	// in it (Cleaner.pick).
	badBatch atomic.Int64
}

// recoverCleaning runs at Open before the segments are listed. As Kafka's
// LogLoader does, it deletes *.cleaned files (a pass that had not
// committed) and completes every <base>.log.swap: the segment files with
// base offsets in [base, the swap's next offset) are the ones it replaces;
// they are removed and the .swap files renamed into place. Index .swap
// files without their .log.swap are a commit that did not happen and are
// removed. It then loads the cleaner checkpoint.
func (l *Log) recoverCleaning() error {
	ents, err := l.fsys.ReadDir(l.dir)
	if err != nil {
		return err
	}
	var swaps []int64
	changed := false
	for _, e := range ents {
		name := e.Name()
		switch {
		case strings.HasSuffix(name, cleanedSuffix), name == cleanerCheckpointFile+checkpointTmpSuffix:
			if err := l.fsys.Remove(filepath.Join(l.dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
			changed = true
		case strings.HasSuffix(name, logSuffix+swapSuffix):
			if base, ok := parseBase(strings.TrimSuffix(name, swapSuffix), logSuffix); ok {
				swaps = append(swaps, base)
			}
		}
	}
	sort.Slice(swaps, func(i, j int) bool { return swaps[i] < swaps[j] })
	for _, base := range swaps {
		if err := l.completeSwap(base); err != nil {
			return fmt.Errorf("completing swap of segment %d: %w", base, err)
		}
		changed = true
	}
	if len(swaps) > 0 || changed {
		ents, err = l.fsys.ReadDir(l.dir)
		if err != nil {
			return err
		}
	}
	for _, e := range ents { // index .swap files whose log never got one
		name := e.Name()
		if strings.HasSuffix(name, indexSuffix+swapSuffix) || strings.HasSuffix(name, timeIndexSuffix+swapSuffix) {
			if err := l.fsys.Remove(filepath.Join(l.dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
			changed = true
		}
	}
	if changed {
		if err := l.fsys.SyncDir(l.dir); err != nil {
			return err
		}
	}
	l.cleaning.horizon.Store(-1)
	point, horizon, ok, err := readCleanerCheckpoint(l)
	if err != nil {
		l.lg.Warn("ignoring cleaner checkpoint; the next pass starts at the log start", "err", err)
	} else if ok {
		l.cleaning.point.Store(point)
		l.cleaning.horizon.Store(horizon)
	}
	if len(swaps) > 0 {
		l.lg.Info("completed interrupted compaction swaps", "segments", swaps)
	}
	return nil
}

// completeSwap rolls one committed swap forward. It is idempotent, so a
// crash while it runs is recovered by running it again.
func (l *Log) completeSwap(base int64) error {
	swap := segmentPath(l.dir, base, logSuffix) + swapSuffix
	f, err := l.fsys.OpenFile(swap, os.O_RDWR, 0o644)
	if err != nil {
		return err
	}
	s := &segment{base: base, dir: l.dir, fsys: l.fsys, log: f, maxTs: -1, offMax: -1, next: base}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	r, err := s.rebuildWith(st.Size(), true, defaultInterval)
	if err == nil && r.validEnd < st.Size() {
		// Written and fsynced before the rename, so this means damage:
		// keep the valid prefix (Kafka recovers the swap segment) and let
		// the indexes be rebuilt.
		l.lg.Warn("truncating damaged swap segment", "segment", base, "err", r.tornErr)
		err = f.Truncate(r.validEnd)
		for _, suf := range []string{indexSuffix, timeIndexSuffix} {
			if rerr := l.fsys.Remove(segmentPath(l.dir, base, suf) + swapSuffix); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
				err = errors.Join(err, rerr)
			}
		}
	}
	if err = errors.Join(err, f.Close()); err != nil {
		return err
	}
	end := max(r.next, base+1) // the base itself is always replaced
	ents, err := l.fsys.ReadDir(l.dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		name := e.Name()
		for _, suf := range []string{logSuffix, indexSuffix, timeIndexSuffix} {
			if b, ok := parseBase(name, suf); ok && b >= base && b < end {
				if err := l.fsys.Remove(filepath.Join(l.dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
					return err
				}
			}
		}
	}
	for _, suf := range []string{indexSuffix, timeIndexSuffix, logSuffix} { // the log last
		p := segmentPath(l.dir, base, suf)
		if err := l.fsys.Rename(p+swapSuffix, p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

// readCleanerCheckpoint reads "0\n1\n<firstDirtyOffset> [<deleteHorizonMs>]\n".
func readCleanerCheckpoint(l *Log) (point, horizon int64, ok bool, err error) {
	ents, ok, err := readCheckpoint(l.fsys, l.dir, cleanerCheckpointFile)
	if err != nil || !ok {
		return 0, -1, false, err
	}
	if len(ents) != 1 || len(ents[0]) < 1 || len(ents[0]) > 2 {
		return 0, -1, false, fmt.Errorf("%s: %w: want one line", cleanerCheckpointFile, errBadCheckpoint)
	}
	point, err = strconv.ParseInt(ents[0][0], 10, 64)
	if err != nil || point < 0 {
		return 0, -1, false, fmt.Errorf("%s: %w: offset %q", cleanerCheckpointFile, errBadCheckpoint, ents[0][0])
	}
	horizon = -1
	if len(ents[0]) == 2 {
		horizon, err = strconv.ParseInt(ents[0][1], 10, 64)
		if err != nil || horizon < -1 {
			return 0, -1, false, fmt.Errorf("%s: %w: delete horizon %q", cleanerCheckpointFile, errBadCheckpoint, ents[0][1])
		}
	}
	return point, horizon, true, nil
}

func writeCleanerCheckpoint(l *Log, point, horizon int64) error {
	return writeCheckpoint(l.fsys, l.dir, cleanerCheckpointFile, []string{fmt.Sprintf("%d %d", point, horizon)})
}

// cleanerTruncated moves the cleaner point back to a truncation point:
// batches appended there later are dirty. Call with mu held.
func (l *Log) cleanerTruncated(off int64) {
	l.cleaning.truncations.Add(1)
	if l.cleaning.point.Load() <= off {
		return
	}
	l.cleaning.point.Store(off)
	if err := writeCleanerCheckpoint(l, off, l.cleaning.horizon.Load()); err != nil {
		// A stale point would make batches appended after the truncation
		// count as deduplicated after a restart, and a tombstone among
		// them could then be dropped before an older value of its key.
		// Without a checkpoint the next pass starts at the log start,
		// which is always safe.
		rerr := l.fsys.Remove(filepath.Join(l.dir, cleanerCheckpointFile))
		if rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			l.lg.Error("cleaner checkpoint is stale after truncation", "err", errors.Join(err, rerr))
		}
	}
}
