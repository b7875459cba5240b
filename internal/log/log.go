package log

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/samsa-streaming/samsa/internal/batch"
	"github.com/samsa-streaming/samsa/internal/fs"
)

// Errors returned by the log.
var (
	// ErrOffsetOutOfRange: the offset is below the log start offset or
	// above the log end offset (Kafka's OFFSET_OUT_OF_RANGE).
	ErrOffsetOutOfRange = errors.New("log: offset out of range")
	// ErrClosed: the log was closed.
	ErrClosed = errors.New("log: closed")
	// ErrFailed wraps the I/O error that left the log in an unknown state
	// (a failed fsync, or a failed write that could not be rolled back).
	// Every later mutation returns it; reopening the log recovers.
	ErrFailed = errors.New("log: failed after an I/O error")
	// ErrInvalidBatch: Append or AppendFollower got bytes that are not
	// whole v2 batches, or follower batches out of offset order.
	ErrInvalidBatch = errors.New("log: invalid record batch")
)

// Log is one partition's log directory. See the package documentation for
// the layout and the concurrency rules.
type Log struct {
	dir   string
	fsys  fs.FS
	lg    *slog.Logger
	clock Clock
	cfg   atomic.Pointer[Config]

	// mu is the writer lock: it serialises Append, AppendFollower,
	// Truncate, SetLogStartOffset, ApplyRetention, Flush, Close and Delete.
	mu sync.Mutex

	// segMu guards segs. The slice is copy-on-write: writers install a new
	// slice, so readers may keep using a snapshot after unlocking.
	segMu sync.RWMutex
	segs  []*segment

	leo    atomic.Int64 // published after the batch is written
	lso    atomic.Int64
	closed atomic.Bool

	epochs *epochCache

	// Writer state, under mu.
	failed        error
	recoveryPoint int64 // offsets below it are fsynced
	lastFlush     time.Time
	pending       []pendingDelete
	// cleaning is the compaction state (clean.go).
	cleaning cleanState
	// txns is the aborted-transaction index (txnindex.go).
	txns txnIndex
	// flushWG tracks background fsyncs of rolled segments (flushRolled).
	flushWG sync.WaitGroup
}

type pendingDelete struct {
	seg *segment
	due time.Time
}

// AppendInfo describes appended batches.
type AppendInfo struct {
	BaseOffset, LastOffset int64
	MaxTimestamp           int64
	Position               int64 // file position of the (first) batch in its segment
}

// ReadResult is the outcome of Read: whole batches, as file ranges.
type ReadResult struct {
	Chunks []Chunk
	Size   int64
}

// Chunk is a contiguous byte range of one segment file. File stays open
// for at least file.delete.delay.ms after the segment is deleted.
type Chunk struct {
	File fs.File
	Pos  int64
	Len  int64
}

// Open opens (creating if needed) the log in dir, recovering it unless
// opts.CleanShutdown.
func Open(ctx context.Context, dir string, cfg Config, opts Options) (*Log, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	l := &Log{dir: dir, fsys: opts.FS, lg: opts.Logger.With("log", filepath.Base(dir)), clock: opts.Clock}
	l.cfg.Store(&cfg)
	l.lastFlush = l.clock.Now()
	if err := l.load(ctx, opts.CleanShutdown); err != nil {
		for _, s := range l.segs {
			s.closeFiles()
		}
		return nil, fmt.Errorf("open log %s: %w", dir, err)
	}
	return l, nil
}

func (l *Log) load(ctx context.Context, clean bool) error {
	if err := l.fsys.MkdirAll(l.dir, 0o755); err != nil {
		return err
	}
	// An interrupted compaction: drop .cleaned files, complete .swap ones.
	if err := l.recoverCleaning(); err != nil {
		return err
	}
	ents, err := l.fsys.ReadDir(l.dir)
	if err != nil {
		return err
	}
	// Kafka's cleanup of leftovers, then the segment list.
	var bases []int64
	have := map[string]bool{}
	for _, e := range ents {
		name := e.Name()
		have[name] = true
		switch {
		case strings.HasSuffix(name, deletedSuffix),
			strings.HasSuffix(name, checkpointTmpSuffix) && isOurCheckpoint(strings.TrimSuffix(name, checkpointTmpSuffix)):
			if err := l.fsys.Remove(filepath.Join(l.dir, name)); err != nil {
				return err
			}
		case strings.HasSuffix(name, logSuffix):
			if base, ok := parseBase(name, logSuffix); ok {
				bases = append(bases, base)
			}
		}
	}
	for _, e := range ents { // orphaned indexes
		name := e.Name()
		for _, suf := range []string{indexSuffix, timeIndexSuffix} {
			if base, ok := parseBase(name, suf); ok && !have[fmt.Sprintf("%020d%s", base, logSuffix)] {
				if err := l.fsys.Remove(filepath.Join(l.dir, name)); err != nil {
					return err
				}
			}
		}
	}
	sort.Slice(bases, func(i, j int) bool { return bases[i] < bases[j] })

	lso, _, err := readOffsetCheckpoint(l.fsys, l.dir, logStartCheckpointFile)
	if err != nil {
		l.lg.Warn("ignoring log start offset checkpoint", "err", err)
		lso = 0
	}
	rp, ok, err := readOffsetCheckpoint(l.fsys, l.dir, recoveryCheckpointFile)
	if err != nil || !ok {
		if err != nil {
			l.lg.Warn("ignoring recovery point checkpoint", "err", err)
		}
		rp = 0
	}
	if l.epochs, err = loadEpochCache(l.fsys, l.dir); err != nil {
		return err
	}

	now := l.clock.Now()
	cfg := l.cfg.Load()
	interval := int64(cfg.IndexIntervalBytes)
	warn := func(msg string, args ...any) { l.lg.Warn(msg, args...) }
	for _, b := range bases {
		s, err := openSegment(l.fsys, l.dir, b, now)
		if err != nil {
			return err
		}
		l.segs = append(l.segs, s)
	}

	// Recovery: without a clean shutdown, every segment from the one
	// holding the recovery point on is verified batch by batch.
	first := len(l.segs) - 1 // the active segment is always checked
	if !clean {
		for first > 0 && l.segs[first].base > rp {
			first--
		}
	}
	for i := 0; i < len(l.segs); i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		s := l.segs[i]
		var cut int64
		switch {
		case i < first:
			err = s.loadInactive(interval, warn)
		case clean:
			cut, err = s.loadActive(interval, warn)
		default:
			cut, err = s.recover(interval)
		}
		if err != nil {
			return fmt.Errorf("segment %d: %w", s.base, err)
		}
		if cut > 0 {
			l.lg.Warn("truncated corrupt or torn log tail", "segment", s.base, "bytes", cut, "next_offset", s.next)
			if i < len(l.segs)-1 { // Kafka drops everything after a bad batch
				for _, d := range l.segs[i+1:] {
					d.closeFiles()
					for _, suf := range segmentSuffixes {
						if err := l.fsys.Remove(d.path(suf)); err != nil && !errors.Is(err, os.ErrNotExist) {
							return err
						}
					}
				}
				l.segs = l.segs[:i+1]
			}
		}
		if i < len(l.segs)-1 && i >= first {
			if err := s.closeIndexFiles(); err != nil {
				return err
			}
		}
	}

	if len(l.segs) == 0 {
		s, err := newSegment(l.fsys, l.dir, lso, now)
		if err != nil {
			return err
		}
		l.segs = []*segment{s}
	}
	active := l.segs[len(l.segs)-1]
	if err := active.activate(); err != nil {
		return err
	}
	leo := active.next
	lso = max(lso, l.segs[0].base)
	if lso > leo {
		// The tail below the log start offset was lost: start empty there
		// rather than reuse offsets consumers may have seen.
		l.lg.Warn("log end offset below log start offset; starting empty", "log_end_offset", leo, "log_start_offset", lso)
		for _, s := range l.segs {
			s.closeFiles()
			for _, suf := range segmentSuffixes {
				if err := l.fsys.Remove(s.path(suf)); err != nil && !errors.Is(err, os.ErrNotExist) {
					return err
				}
			}
		}
		s, err := newSegment(l.fsys, l.dir, lso, now)
		l.segs = nil
		if err != nil {
			return err
		}
		l.segs = []*segment{s}
		leo = lso
	}
	l.leo.Store(leo)
	l.lso.Store(lso)
	if clean {
		l.recoveryPoint = leo
	} else {
		l.recoveryPoint = min(rp, leo)
	}
	ch1 := l.epochs.truncateFromEnd(leo)
	ch2 := l.epochs.truncateFromStart(lso)
	if ch1 || ch2 {
		if err := l.epochs.persist(l.fsys, l.dir); err != nil {
			return err
		}
	}
	if err := l.loadTxnIndexes(leo); err != nil {
		return err
	}
	l.lg.Debug("opened log", "segments", len(l.segs), "log_start_offset", lso, "log_end_offset", leo, "clean", clean)
	return nil
}

func isOurCheckpoint(name string) bool {
	return name == epochCheckpointFile || name == logStartCheckpointFile || name == recoveryCheckpointFile
}

// parseBase parses "%020d<suffix>".
func parseBase(name, suffix string) (int64, bool) {
	digits, ok := strings.CutSuffix(name, suffix)
	if !ok || len(digits) != 20 {
		return 0, false
	}
	v, err := strconv.ParseInt(digits, 10, 64)
	return v, err == nil && v >= 0
}

func (l *Log) segments() []*segment {
	l.segMu.RLock()
	defer l.segMu.RUnlock()
	return l.segs
}

func (l *Log) setSegments(s []*segment) {
	l.segMu.Lock()
	l.segs = s
	l.segMu.Unlock()
}

func (l *Log) active() *segment {
	s := l.segments()
	return s[len(s)-1]
}

// floorSegment is the index of the last segment with base <= off, or 0.
func floorSegment(segs []*segment, off int64) int {
	i := sort.Search(len(segs), func(i int) bool { return segs[i].base > off })
	return max(i-1, 0)
}

// writable checks the writer may proceed. Call with mu held.
func (l *Log) writable() error {
	if l.closed.Load() {
		return ErrClosed
	}
	return l.failed
}

// fail records an error that leaves the log in an unknown state.
func (l *Log) fail(err error) error {
	if l.failed == nil {
		l.failed = fmt.Errorf("%w: %w: %s: %w", ErrStorage, ErrFailed, l.dir, err)
		l.lg.Error("log failed", "dir", l.dir, "err", err)
	}
	return l.failed
}

// Append appends one batch as the leader: it assigns base offset =
// LogEndOffset and writes leaderEpoch into the batch (patching b in place,
// outside the CRC-covered range), rolls the segment when needed, writes the
// batch and its index entries, publishes the new log end offset and applies
// the flush policy. b must be exactly one batch the caller validated.
func (l *Log) Append(b []byte, leaderEpoch int32) (AppendInfo, error) {
	h, err := batch.ParseHeader(b)
	if err != nil || h.Size() != int64(len(b)) || h.LastOffsetDelta < 0 {
		return AppendInfo{}, fmt.Errorf("%w: not exactly one batch", ErrInvalidBatch)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.writable(); err != nil {
		return AppendInfo{}, err
	}
	base := l.leo.Load()
	batch.SetBaseOffset(b, base)
	batch.SetPartitionLeaderEpoch(b, leaderEpoch)
	h.BaseOffset, h.PartitionLeaderEpoch = base, leaderEpoch
	now := l.clock.Now()
	info, err := l.appendBatch(b, &h, now)
	if err != nil {
		return info, l.ioErr("append", err)
	}
	return info, l.ioErr("flush", l.maybeFlush(now))
}

// AppendFollower appends batches whose offsets are already assigned (a
// follower's fetch, or a copy of another log): one or more concatenated
// whole v2 batches, CRC-checked, with base offsets >= LogEndOffset and
// increasing. Each batch keeps its partition leader epoch, which updates
// the epoch checkpoint when it is newer. On error the batches before the
// failing one stay appended.
func (l *Log) AppendFollower(batches []byte) (AppendInfo, error) {
	info := AppendInfo{BaseOffset: -1, LastOffset: -1, MaxTimestamp: -1, Position: -1}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.writable(); err != nil {
		return info, err
	}
	// Check everything first so a bad batch appends nothing.
	next := l.leo.Load()
	for p := batches; len(p) > 0; {
		h, err := batch.ParseHeader(p)
		if err == nil && (h.Length < batch.HeaderSize-batch.LogOverhead || h.Size() > int64(len(p))) {
			err = batch.ErrLength
		}
		if err == nil && h.Magic != 2 {
			err = batch.ErrMagic
		}
		if err == nil {
			err = batch.CheckCRC(p[:h.Size()])
		}
		if err == nil && (h.BaseOffset < next || h.LastOffsetDelta < 0) {
			err = fmt.Errorf("base offset %d below expected %d", h.BaseOffset, next)
		}
		if err != nil {
			return info, fmt.Errorf("%w: %w", ErrInvalidBatch, err)
		}
		next = h.NextOffset()
		p = p[h.Size():]
	}
	now := l.clock.Now()
	for p := batches; len(p) > 0; {
		h, _ := batch.ParseHeader(p)
		one, err := l.appendBatch(p[:h.Size()], &h, now)
		if err != nil {
			return info, l.ioErr("append", err)
		}
		if info.BaseOffset < 0 {
			info.BaseOffset, info.Position = one.BaseOffset, one.Position
		}
		info.LastOffset = one.LastOffset
		info.MaxTimestamp = max(info.MaxTimestamp, one.MaxTimestamp)
		p = p[h.Size():]
	}
	return info, l.ioErr("flush", l.maybeFlush(now))
}

// appendBatch writes one batch whose header fields are final. Call with mu
// held. A failed write is rolled back; if the rollback fails too, the log
// fails.
func (l *Log) appendBatch(b []byte, h *batch.Header, now time.Time) (AppendInfo, error) {
	cfg := l.cfg.Load()
	s := l.active()
	if s.shouldRoll(cfg, h, now) {
		var err error
		if s, err = l.roll(h.BaseOffset, now); err != nil {
			return AppendInfo{}, err
		}
	}
	if l.epochs.assign(h.PartitionLeaderEpoch, h.BaseOffset) {
		if err := l.epochs.persist(l.fsys, l.dir); err != nil {
			return AppendInfo{}, err
		}
	}
	pos := s.size.Load()
	p := s.plan(h, pos, int64(cfg.IndexIntervalBytes))
	_, err := s.log.Write(b)
	if err == nil {
		err = s.writeIndexEntries(p)
	}
	if err != nil {
		// Cut the files back to what readers and the indexes know.
		rerr := errors.Join(s.log.Truncate(pos), s.trimIndexFiles())
		if rerr != nil || errors.Is(err, fs.ErrCrashed) {
			return AppendInfo{}, l.fail(errors.Join(err, rerr))
		}
		return AppendInfo{}, err
	}
	s.apply(p, h, pos)
	l.leo.Store(h.NextOffset())
	return AppendInfo{BaseOffset: h.BaseOffset, LastOffset: h.LastOffset(), MaxTimestamp: h.MaxTimestamp, Position: pos}, nil
}

// roll makes a new active segment at base: the old one gets its final time
// index entry, is fsynced (with any older unflushed segment) and its index
// files are closed; the recovery point moves to base.
func (l *Log) roll(base int64, now time.Time) (*segment, error) {
	old := l.active()
	ns, err := newSegment(l.fsys, l.dir, base, now)
	if err != nil {
		return nil, err
	}
	if err := old.finalTimeEntry(); err != nil {
		ns.closeFiles()
		return nil, err
	}
	if err := l.fsys.SyncDir(l.dir); err != nil { // the new segment's files exist
		ns.closeFiles()
		return nil, l.fail(err)
	}
	if err := old.closeIndexFiles(); err != nil {
		l.lg.Warn("closing index files", "segment", old.base, "err", err)
	}
	segs := l.segments()
	unsynced := append([]*segment(nil), segs[floorSegment(segs, l.recoveryPoint):]...)
	next := make([]*segment, len(segs), len(segs)+1)
	copy(next, segs)
	l.setSegments(append(next, ns))
	l.lastFlush = now
	l.flushRolled(unsynced, l.leo.Load())
	l.lg.Debug("rolled segment", "base", base)
	return ns, nil
}

// flushRolled fsyncs the segments a roll left behind in the background, as
// Kafka's scheduled "flush-log" task does, so that an append never waits
// for a segment's worth of dirty pages to reach the disk. The recovery
// point moves to upTo once they are durable; until then recovery after a
// crash simply scans more. Close and Delete wait for it. Call with mu held.
func (l *Log) flushRolled(segs []*segment, upTo int64) {
	l.flushWG.Add(1)
	go func() { // owned by the Log: Close and Delete wait on flushWG
		defer l.flushWG.Done()
		var err error
		for _, s := range segs {
			if s.deleted.Load() || s.logClosed.Load() {
				continue // retention or compaction took it: nothing to keep
			}
			if serr := s.log.Sync(); serr != nil && !s.deleted.Load() && !s.logClosed.Load() {
				err = serr
				break
			}
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.closed.Load() {
			return
		}
		if err != nil {
			l.fail(err)
			return
		}
		if upTo > l.recoveryPoint {
			l.recoveryPoint = upTo
			if err := writeOffsetCheckpoint(l.fsys, l.dir, recoveryCheckpointFile, upTo); err != nil {
				l.lg.Warn("writing recovery point", "err", err)
			}
		}
	}()
}

// syncFrom fsyncs every segment holding offsets >= from. Call with mu held.
func (l *Log) syncFrom(from int64) error {
	segs := l.segments()
	for _, s := range segs[floorSegment(segs, from):] {
		if err := s.sync(); err != nil {
			return err
		}
	}
	return nil
}

// maybeFlush applies flush.messages and flush.ms. Call with mu held.
func (l *Log) maybeFlush(now time.Time) error {
	cfg := l.cfg.Load()
	leo := l.leo.Load()
	if leo-l.recoveryPoint >= cfg.FlushMessages || now.Sub(l.lastFlush).Milliseconds() >= cfg.FlushMs {
		if err := l.syncFrom(l.recoveryPoint); err != nil {
			return l.fail(err)
		}
		l.recoveryPoint, l.lastFlush = leo, now
	}
	return nil
}

// MaybeFlush applies flush.ms when no append arrives to do it: a periodic
// flusher may call it (Kafka's log flusher).
func (l *Log) MaybeFlush(now time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.writable(); err != nil {
		return err
	}
	if l.recoveryPoint == l.leo.Load() {
		return nil
	}
	return l.ioErr("flush", l.maybeFlush(now))
}

// Flush fsyncs every unflushed segment and index and checkpoints the
// recovery point.
func (l *Log) Flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.writable(); err != nil {
		return err
	}
	return l.ioErr("flush", l.flushLocked())
}

func (l *Log) flushLocked() error {
	leo := l.leo.Load()
	if err := l.syncFrom(l.recoveryPoint); err != nil {
		return l.fail(err)
	}
	l.recoveryPoint, l.lastFlush = leo, l.clock.Now()
	return writeOffsetCheckpoint(l.fsys, l.dir, recoveryCheckpointFile, leo)
}

// Read returns whole batches starting with the one holding offset, ending
// before maxOffset (exclusive; the high watermark) and within maxBytes,
// except that with minOneBatch the first batch is returned whatever its
// size (KIP-74). It may span segments. offset == LogEndOffset gives an empty
// result; offsets outside [LogStartOffset, LogEndOffset] give
// ErrOffsetOutOfRange.
func (l *Log) Read(offset int64, maxBytes int32, maxOffset int64, minOneBatch bool) (ReadResult, error) {
	var res ReadResult
	if l.closed.Load() {
		return res, ErrClosed
	}
	leo := l.leo.Load() // before the segments: their sizes cover leo
	lso := l.lso.Load()
	if offset < lso || offset > leo {
		return res, fmt.Errorf("%w: %d not in [%d, %d]", ErrOffsetOutOfRange, offset, lso, leo)
	}
	end := min(maxOffset, leo)
	budget := int64(max(maxBytes, 0))
	segs := l.segments()
	var buf [batch.HeaderSize]byte
	for i := floorSegment(segs, offset); i < len(segs) && offset < end; i++ {
		s := segs[i]
		size := s.size.Load()
		pos, h, ok, err := s.findBatch(offset, size)
		if err != nil {
			return res, l.ioErr("read", s.readErr(err))
		}
		if !ok {
			continue
		}
		start := pos
		// Every indexed batch start below jump begins a stretch of whole
		// batches that are below end and fit the budget.
		s.mu.RLock()
		jump, _ := offFloorByPos(s.offIdx, s.base, start+budget-res.Size, end)
		s.mu.RUnlock()
		for {
			if h.BaseOffset >= end {
				break
			}
			if res.Size+(pos-start)+h.Size() > budget && !(minOneBatch && res.Size == 0 && pos == start) {
				end = -1 // budget exhausted: stop everything
				break
			}
			pos += h.Size()
			offset = h.NextOffset()
			if jump > pos {
				pos = jump
			}
			if pos >= size {
				break
			}
			if h, err = s.readHeader(pos, size, buf[:]); err != nil {
				return res, l.ioErr("read", s.readErr(err))
			}
		}
		if pos > start {
			res.Chunks = append(res.Chunks, Chunk{File: s.log, Pos: start, Len: pos - start})
			res.Size += pos - start
		}
	}
	return res, nil
}

// ScanBatches calls fn for every batch holding offsets >= from, up to the
// log end offset, in order. b aliases a buffer valid only during the call.
// An error from fn stops the scan and is returned.
func (l *Log) ScanBatches(from int64, fn func(h batch.Header, b []byte) error) error {
	if l.closed.Load() {
		return ErrClosed
	}
	leo := l.leo.Load()
	from = max(from, l.lso.Load())
	segs := l.segments()
	for i := floorSegment(segs, from); i < len(segs); i++ {
		s := segs[i]
		size := s.size.Load()
		pos, _, ok, err := s.findBatch(from, size)
		if err != nil {
			return l.ioErr("read", s.readErr(err))
		}
		if !ok {
			continue
		}
		sc := newScanner(s.log, pos, size)
		for {
			h, b, _, err := sc.next(true, false)
			if err == io.EOF {
				break
			}
			if err != nil {
				return l.ioErr("read", s.readErr(err))
			}
			if h.BaseOffset >= leo {
				return nil
			}
			if err := fn(h, b); err != nil {
				return err
			}
		}
	}
	return nil
}

// readErr turns the error of a read that raced with the segment's
// deletion into ErrOffsetOutOfRange, which is what the reader would have
// got a moment later.
func (s *segment) readErr(err error) error {
	if s.deleted.Load() {
		return fmt.Errorf("%w: segment %d deleted during the read (%v)", ErrOffsetOutOfRange, s.base, err)
	}
	return err
}

// LogStartOffset is the first offset readable.
func (l *Log) LogStartOffset() int64 { return l.lso.Load() }

// LogEndOffset is the offset the next appended record gets.
func (l *Log) LogEndOffset() int64 { return l.leo.Load() }

// RecoveryPoint is the offset below which the log is known fsynced.
func (l *Log) RecoveryPoint() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.recoveryPoint
}

// LatestEpoch is the newest leader epoch in the epoch checkpoint, or -1.
func (l *Log) LatestEpoch() int32 { return l.epochs.latestEpoch() }

// Epochs returns a copy of the leader epoch checkpoint entries.
func (l *Log) Epochs() []EpochEntry { return l.epochs.snapshot() }

// EndOffsetForEpoch answers OffsetForLeaderEpoch (KIP-101) as Kafka's
// LeaderEpochFileCache.endOffsetFor: the largest known epoch <= epoch and
// the start offset of the epoch after it (the log end offset for the
// latest epoch); (-1, -1) if epoch is unknown and newer than all.
func (l *Log) EndOffsetForEpoch(epoch int32) (leaderEpoch int32, endOffset int64) {
	return l.epochs.endOffsetFor(epoch, l.leo.Load())
}

// Size is the total bytes of the segment files.
func (l *Log) Size() int64 {
	var n int64
	for _, s := range l.segments() {
		n += s.size.Load()
	}
	return n
}

// Segments is the number of segments.
func (l *Log) Segments() int { return len(l.segments()) }

// Dir is the partition directory.
func (l *Log) Dir() string { return l.dir }

// Config returns the current settings.
func (l *Log) Config() Config { return *l.cfg.Load() }

// SetConfig applies changed topic settings; they take effect from the next
// append or retention pass. An invalid config is ignored with an error log.
func (l *Log) SetConfig(cfg Config) {
	if err := cfg.Validate(); err != nil {
		l.lg.Error("ignoring invalid log config", "err", err)
		return
	}
	l.cfg.Store(&cfg)
}

// Close writes the final time index entry, fsyncs everything, checkpoints
// the recovery point and log start offset and closes every file. Segments
// waiting for deletion are removed now. Reads fail after Close.
func (l *Log) Close() error {
	l.flushWG.Wait() // no roll can start: the caller stopped appending
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed.Load() {
		return nil
	}
	var errs []error
	if l.failed == nil {
		errs = append(errs,
			l.active().finalTimeEntry(),
			l.flushLocked(),
			writeOffsetCheckpoint(l.fsys, l.dir, logStartCheckpointFile, l.lso.Load()))
	}
	l.closed.Store(true)
	errs = append(errs, l.closeAll())
	return errors.Join(errs...)
}

func (l *Log) closeAll() error {
	var errs []error
	for _, s := range l.segments() {
		errs = append(errs, s.closeFiles())
	}
	for _, p := range l.pending {
		errs = append(errs, p.seg.removeDeleted())
	}
	l.pending = nil
	return errors.Join(errs...)
}

// Delete closes the log without flushing and removes its directory.
func (l *Log) Delete() error {
	l.flushWG.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	var cerr error
	if !l.closed.Load() {
		l.closed.Store(true)
		cerr = l.closeAll()
	}
	if err := l.fsys.RemoveAll(l.dir); err != nil {
		return err
	}
	if cerr != nil {
		l.lg.Warn("closing deleted log", "err", cerr)
	}
	return nil
}

// AssignEpoch records that leader epoch epoch starts at start (a new
// leader, Kafka's maybeAssignEpochStartOffset).
func (l *Log) AssignEpoch(epoch int32, start int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.epochs.assign(epoch, start) {
		return l.ioErr("leader epoch checkpoint", l.epochs.persist(l.fsys, l.dir))
	}
	return nil
}
