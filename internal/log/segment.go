package log

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/samsa-streaming/samsa/internal/batch"
	"github.com/samsa-streaming/samsa/internal/fs"
)

// File name suffixes, as Kafka names them.
const (
	logSuffix       = ".log"
	indexSuffix     = ".index"
	timeIndexSuffix = ".timeindex"
	txnIndexSuffix  = ".txnindex"
	deletedSuffix   = ".deleted"
)

// segmentSuffixes are the files of one segment that go when it goes.
var segmentSuffixes = []string{logSuffix, indexSuffix, timeIndexSuffix, txnIndexSuffix}

func segmentPath(dir string, base int64, suffix string) string {
	return filepath.Join(dir, fmt.Sprintf("%020d%s", base, suffix))
}

// segment is one .log file with its .index and .timeindex.
//
// The Log's writer lock (Log.mu) serialises every mutation. Readers use
// size (published after the bytes it covers are written) and take mu.RLock
// for the index and timestamp fields, which the writer changes under
// mu.Lock.
type segment struct {
	base int64
	dir  string
	fsys fs.FS
	log  fs.File // O_APPEND; never reassigned, closed once (logClosed)

	size      atomic.Int64 // bytes of whole, published batches
	logClosed atomic.Bool
	deleted   atomic.Bool // removed from the log; reads of it are out of range

	mu      sync.RWMutex
	loaded  bool // offIdx and timeIdx hold the index files' entries
	offIdx  []offEntry
	timeIdx []timeEntry
	maxTs   int64 // largest batch max timestamp, -1 if none
	offMax  int64 // last offset of the first batch with maxTs, -1 if none

	// Writer-only state (Log.mu), meaningful for the active segment.
	idxFile, timeFile fs.File // open only while the segment is active
	sinceIndex        int64   // bytes appended since the last index entry
	rollTs            int64   // max timestamp of the first batch, -1 if none
	created           time.Time
	next              int64 // offset after the last batch
}

func (s *segment) path(suffix string) string { return segmentPath(s.dir, s.base, suffix) }

// newSegment creates an empty active segment at base, replacing any
// leftover files of that name.
func newSegment(fsys fs.FS, dir string, base int64, now time.Time) (*segment, error) {
	s := &segment{base: base, dir: dir, fsys: fsys, loaded: true, maxTs: -1, offMax: -1, rollTs: -1, created: now, next: base}
	const flags = os.O_CREATE | os.O_TRUNC | os.O_RDWR | os.O_APPEND
	var err error
	if s.log, err = fsys.OpenFile(s.path(logSuffix), flags, 0o644); err != nil {
		return nil, err
	}
	if s.idxFile, err = fsys.OpenFile(s.path(indexSuffix), flags, 0o644); err == nil {
		s.timeFile, err = fsys.OpenFile(s.path(timeIndexSuffix), flags, 0o644)
	}
	if err != nil {
		s.closeFiles()
		for _, suf := range []string{logSuffix, indexSuffix, timeIndexSuffix} {
			_ = fsys.Remove(s.path(suf))
		}
		return nil, err
	}
	return s, nil
}

// openSegment opens an existing segment's log file; indexes load later.
func openSegment(fsys fs.FS, dir string, base int64, now time.Time) (*segment, error) {
	s := &segment{base: base, dir: dir, fsys: fsys, maxTs: -1, offMax: -1, rollTs: -1, created: now, next: base}
	f, err := fsys.OpenFile(s.path(logSuffix), os.O_RDWR|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	s.log = f
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	s.size.Store(st.Size())
	return s, nil
}

func (s *segment) closeFiles() error {
	var errs []error
	if s.logClosed.CompareAndSwap(false, true) {
		errs = append(errs, s.log.Close())
	}
	errs = append(errs, s.closeIndexFiles())
	return errors.Join(errs...)
}

// closeIndexFiles closes the index files, which only the active segment
// keeps open.
func (s *segment) closeIndexFiles() error {
	var errs []error
	for _, f := range []*fs.File{&s.idxFile, &s.timeFile} {
		if *f != nil {
			errs = append(errs, (*f).Close())
			*f = nil
		}
	}
	return errors.Join(errs...)
}

// activate opens the index files for appending, trimmed to the in-memory
// entries. The indexes must be loaded.
func (s *segment) activate() error {
	if s.idxFile != nil {
		return nil
	}
	const flags = os.O_CREATE | os.O_RDWR | os.O_APPEND
	var err error
	if s.idxFile, err = s.fsys.OpenFile(s.path(indexSuffix), flags, 0o644); err != nil {
		return err
	}
	if s.timeFile, err = s.fsys.OpenFile(s.path(timeIndexSuffix), flags, 0o644); err != nil {
		s.closeIndexFiles()
		return err
	}
	return s.trimIndexFiles()
}

// trimIndexFiles truncates the open index files to the in-memory entries.
func (s *segment) trimIndexFiles() error {
	s.mu.RLock()
	no, nt := len(s.offIdx), len(s.timeIdx)
	s.mu.RUnlock()
	return errors.Join(s.idxFile.Truncate(int64(no)*offEntrySize), s.timeFile.Truncate(int64(nt)*timeEntrySize))
}

// finalTimeEntry appends the time index entry for the segment's largest
// timestamp if the index does not end with it, as Kafka does when a segment
// becomes inactive or is closed.
func (s *segment) finalTimeEntry() error {
	if s.timeFile == nil || s.maxTs < 0 {
		return nil
	}
	s.mu.RLock()
	n := len(s.timeIdx)
	skip := n > 0 && s.timeIdx[n-1].ts >= s.maxTs
	s.mu.RUnlock()
	if skip {
		return nil
	}
	e := timeEntry{s.maxTs, uint32(s.offMax - s.base)}
	if _, err := s.timeFile.Write(e.encode()); err != nil {
		_ = s.timeFile.Truncate(int64(n) * timeEntrySize)
		return err
	}
	s.mu.Lock()
	s.timeIdx = append(s.timeIdx, e)
	s.mu.Unlock()
	return nil
}

// sync fsyncs the log and any open index files.
func (s *segment) sync() error {
	if err := s.log.Sync(); err != nil {
		return err
	}
	for _, f := range []fs.File{s.idxFile, s.timeFile} {
		if f != nil {
			if err := f.Sync(); err != nil {
				return err
			}
		}
	}
	return nil
}

// indexPlan is the effect of one batch on the segment's indexes and stats,
// computed before the write and applied after it succeeds.
type indexPlan struct {
	maxTs, offMax, since int64
	off                  offEntry
	hasOff               bool
	te                   timeEntry
	hasTime              bool
}

// plan mirrors Kafka's LogSegment.append: an index entry for a batch is
// added when more than index.interval.bytes were appended since the last
// one, and the time index gets the largest timestamp so far at the same
// moment when it grew.
func (s *segment) plan(h *batch.Header, pos int64, interval int64) indexPlan {
	p := indexPlan{maxTs: s.maxTs, offMax: s.offMax, since: s.sinceIndex}
	if h.MaxTimestamp > p.maxTs {
		p.maxTs, p.offMax = h.MaxTimestamp, h.LastOffset()
	}
	if p.since > interval {
		p.off, p.hasOff = offEntry{uint32(h.LastOffset() - s.base), uint32(pos)}, true
		n := len(s.timeIdx)
		if p.maxTs >= 0 && (n == 0 || p.maxTs > s.timeIdx[n-1].ts) {
			p.te, p.hasTime = timeEntry{p.maxTs, uint32(p.offMax - s.base)}, true
		}
		p.since = 0
	}
	p.since += h.Size()
	return p
}

// apply commits a plan and the batch: indexes, stats, then the size that
// makes the batch visible to readers.
func (s *segment) apply(p indexPlan, h *batch.Header, pos int64) {
	s.mu.Lock()
	if p.hasOff {
		s.offIdx = append(s.offIdx, p.off)
	}
	if p.hasTime {
		s.timeIdx = append(s.timeIdx, p.te)
	}
	s.maxTs, s.offMax = p.maxTs, p.offMax
	s.size.Store(pos + h.Size())
	s.mu.Unlock()
	s.sinceIndex = p.since
	s.next = h.NextOffset()
	if pos == 0 {
		s.rollTs = h.MaxTimestamp
	}
}

// writeIndexEntries appends a plan's entries to the index files.
func (s *segment) writeIndexEntries(p indexPlan) error {
	if p.hasOff {
		if _, err := s.idxFile.Write(p.off.encode()); err != nil {
			return err
		}
	}
	if p.hasTime {
		if _, err := s.timeFile.Write(p.te.encode()); err != nil {
			return err
		}
	}
	return nil
}

// indexFull reports whether either index reached segment.index.bytes.
func (s *segment) indexFull(maxBytes int32) bool {
	return int64(len(s.offIdx)+1)*offEntrySize > int64(maxBytes) ||
		int64(len(s.timeIdx)+1)*timeEntrySize > int64(maxBytes)
}

// shouldRoll is Kafka's LogSegment.shouldRoll for an incoming batch.
func (s *segment) shouldRoll(cfg *Config, h *batch.Header, now time.Time) bool {
	size := s.size.Load()
	if size == 0 {
		// Only a follower batch too far ahead for 32-bit relative offsets
		// makes an empty segment roll.
		return h.LastOffset()-s.base > math.MaxInt32 && h.BaseOffset > s.base
	}
	if h.LastOffset()-s.base > math.MaxInt32 {
		return true
	}
	if size > cfg.SegmentBytes-h.Size() || s.indexFull(cfg.SegmentIndexBytes) {
		return true
	}
	var waited int64
	if s.rollTs >= 0 {
		waited = h.MaxTimestamp - s.rollTs
	} else {
		waited = now.Sub(s.created).Milliseconds()
	}
	return waited > cfg.maxSegmentMs()
}

// errTorn marks the end of the valid prefix of a log file.
var errTorn = errors.New("torn or corrupt batch")

// scanner reads batches of a segment sequentially through a buffer.
type scanner struct {
	f        fs.File
	pos, end int64
	buf      []byte
	bufPos   int64 // file position of buf[0]
}

const scanBuf = 256 << 10

func newScanner(f fs.File, from, end int64) *scanner {
	return &scanner{f: f, pos: from, end: end}
}

// fill makes buf hold [sc.pos, sc.pos+n). n is bounded by the bytes present.
func (sc *scanner) fill(n int64) ([]byte, error) {
	if sc.pos >= sc.bufPos && sc.pos+n <= sc.bufPos+int64(len(sc.buf)) {
		off := sc.pos - sc.bufPos
		return sc.buf[off : off+n], nil
	}
	want := min(max(n, scanBuf), sc.end-sc.pos)
	if int64(cap(sc.buf)) < want {
		sc.buf = make([]byte, want)
	}
	sc.buf = sc.buf[:want]
	m, err := sc.f.ReadAt(sc.buf, sc.pos)
	sc.buf, sc.bufPos = sc.buf[:m], sc.pos
	if int64(m) < n {
		if err == nil || errors.Is(err, io.EOF) {
			err = fmt.Errorf("%w: short read at %d", errTorn, sc.pos)
		}
		return nil, err
	}
	return sc.buf[:n], nil
}

// next returns the batch at the scanner's position and advances. With body
// it returns the whole batch (aliasing the buffer until the next call) and,
// with verify, checks magic and CRC. io.EOF means the end was reached
// exactly; errTorn means the rest is not a whole batch.
func (sc *scanner) next(body, verify bool) (batch.Header, []byte, int64, error) {
	pos := sc.pos
	if pos >= sc.end {
		return batch.Header{}, nil, pos, io.EOF
	}
	if sc.end-pos < batch.HeaderSize {
		return batch.Header{}, nil, pos, fmt.Errorf("%w: %d trailing bytes at %d", errTorn, sc.end-pos, pos)
	}
	hb, err := sc.fill(batch.HeaderSize)
	if err != nil {
		return batch.Header{}, nil, pos, err
	}
	h, err := batch.ParseHeader(hb)
	if err != nil {
		return h, nil, pos, fmt.Errorf("%w: %v", errTorn, err)
	}
	if h.Length < batch.HeaderSize-batch.LogOverhead || h.Size() > sc.end-pos {
		return h, nil, pos, fmt.Errorf("%w: length %d at %d with %d bytes left", errTorn, h.Length, pos, sc.end-pos)
	}
	if verify && (h.Magic != 2 || h.LastOffsetDelta < 0) {
		return h, nil, pos, fmt.Errorf("%w: magic %d, last offset delta %d at %d", errTorn, h.Magic, h.LastOffsetDelta, pos)
	}
	var b []byte
	if body || verify {
		if b, err = sc.fill(h.Size()); err != nil {
			return h, nil, pos, err
		}
		if verify {
			if err := batch.CheckCRC(b); err != nil {
				return h, nil, pos, fmt.Errorf("%w: %v at %d", errTorn, err, pos)
			}
		}
	}
	sc.pos = pos + h.Size()
	return h, b, pos, nil
}

// readHeader reads the batch header at pos, bounded by end.
func (s *segment) readHeader(pos, end int64, buf []byte) (batch.Header, error) {
	if end-pos < batch.HeaderSize {
		return batch.Header{}, fmt.Errorf("%w: header at %d past %d", errTorn, pos, end)
	}
	if _, err := s.log.ReadAt(buf[:batch.HeaderSize], pos); err != nil {
		return batch.Header{}, err
	}
	h, err := batch.ParseHeader(buf)
	if err == nil && (h.Length < batch.HeaderSize-batch.LogOverhead || h.Size() > end-pos) {
		err = fmt.Errorf("%w: length %d at %d", errTorn, h.Length, pos)
	}
	return h, err
}

// findBatch returns the position and header of the first batch whose last
// offset is >= offset, reading no further than end. ok is false if there is
// none before end.
func (s *segment) findBatch(offset, end int64) (pos int64, h batch.Header, ok bool, err error) {
	if err := s.ensureLoaded(); err != nil {
		return 0, h, false, err
	}
	s.mu.RLock()
	pos = offLookup(s.offIdx, s.base, offset)
	s.mu.RUnlock()
	var buf [batch.HeaderSize]byte
	for pos < end {
		if h, err = s.readHeader(pos, end, buf[:]); err != nil {
			return 0, h, false, err
		}
		if h.LastOffset() >= offset {
			return pos, h, true, nil
		}
		pos += h.Size()
	}
	return 0, h, false, nil
}

// ensureLoaded reads the index files of an inactive segment on first use. A
// corrupt index is rebuilt in memory from the log (and left on disk as is,
// since another goroutine may be renaming the files for deletion).
func (s *segment) ensureLoaded() error {
	s.mu.RLock()
	loaded := s.loaded
	s.mu.RUnlock()
	if loaded {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.loaded {
		return nil
	}
	off, time, err := s.readIndexes(s.size.Load())
	if err != nil {
		st, serr := s.rebuildEntries(s.size.Load(), false)
		if serr != nil {
			return serr
		}
		off, time = st.off, st.time
	}
	s.offIdx, s.timeIdx, s.loaded = off, time, true
	return nil
}

// readIndexes reads and checks both index files.
func (s *segment) readIndexes(logSize int64) ([]offEntry, []timeEntry, error) {
	ob, ok1, err := readIndexFile(s.fsys, s.path(indexSuffix), offEntrySize)
	if err != nil {
		return nil, nil, err
	}
	tb, ok2, err := readIndexFile(s.fsys, s.path(timeIndexSuffix), timeEntrySize)
	if err != nil {
		return nil, nil, err
	}
	if (!ok1 || !ok2) && logSize > 0 {
		return nil, nil, fmt.Errorf("%w: index file missing", errBadIndex)
	}
	off, err := decodeOffIndex(ob, logSize)
	if err != nil {
		return nil, nil, err
	}
	tim, err := decodeTimeIndex(tb)
	if err != nil {
		return nil, nil, err
	}
	return off, tim, nil
}

// rebuilt is the state recomputed by scanning a segment's log.
type rebuilt struct {
	off      []offEntry
	time     []timeEntry
	maxTs    int64
	offMax   int64
	since    int64
	rollTs   int64
	next     int64
	validEnd int64 // end of the valid prefix
	tornErr  error // why the scan stopped before the end, if it did
}

// rebuildEntries scans the log from the start and recomputes the indexes as
// appends would have built them with the given interval. With verify it
// checks magic, CRC and offset order, stopping at the first bad batch. It
// does not touch s.
func (s *segment) rebuildEntries(end int64, verify bool) (rebuilt, error) {
	return s.rebuildWith(end, verify, defaultInterval)
}

const defaultInterval = 4096

func (s *segment) rebuildWith(end int64, verify bool, interval int64) (rebuilt, error) {
	tmp := &segment{base: s.base, maxTs: -1, offMax: -1, next: s.base}
	r := rebuilt{rollTs: -1}
	sc := newScanner(s.log, 0, end)
	for {
		h, _, pos, err := sc.next(false, verify)
		if err == nil && verify && (h.BaseOffset < tmp.next || h.LastOffset()-s.base > math.MaxInt32) {
			err = fmt.Errorf("%w: offset %d out of order (expected >= %d) at %d", errTorn, h.BaseOffset, tmp.next, pos)
		}
		if err == io.EOF {
			r.validEnd = pos
			break
		}
		if errors.Is(err, errTorn) {
			r.validEnd, r.tornErr = pos, err
			break
		}
		if err != nil {
			return r, err
		}
		p := tmp.plan(&h, pos, interval)
		if p.hasOff {
			tmp.offIdx = append(tmp.offIdx, p.off)
		}
		if p.hasTime {
			tmp.timeIdx = append(tmp.timeIdx, p.te)
		}
		tmp.maxTs, tmp.offMax, tmp.sinceIndex, tmp.next = p.maxTs, p.offMax, p.since, h.NextOffset()
		if pos == 0 {
			r.rollTs = h.MaxTimestamp
		}
	}
	r.off, r.time, r.maxTs, r.offMax, r.since, r.next = tmp.offIdx, tmp.timeIdx, tmp.maxTs, tmp.offMax, tmp.sinceIndex, tmp.next
	return r, nil
}

// writeIndexFiles replaces both index files with the in-memory entries.
func (s *segment) writeIndexFiles() error {
	for _, f := range []struct {
		suffix string
		data   []byte
	}{
		{indexSuffix, encodeOff(s.offIdx)},
		{timeIndexSuffix, encodeTime(s.timeIdx)},
	} {
		file, err := s.fsys.OpenFile(s.path(f.suffix), os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		_, werr := file.Write(f.data)
		if err := errors.Join(werr, file.Close()); err != nil {
			return err
		}
	}
	return nil
}

func encodeOff(es []offEntry) []byte {
	b := make([]byte, 0, len(es)*offEntrySize)
	for _, e := range es {
		b = append(b, e.encode()...)
	}
	return b
}

func encodeTime(es []timeEntry) []byte {
	b := make([]byte, 0, len(es)*timeEntrySize)
	for _, e := range es {
		b = append(b, e.encode()...)
	}
	return b
}

// recover rebuilds the segment from its log (Kafka's LogSegment.recover):
// verifies every batch, truncates the file at the first bad one, rewrites
// both index files and sets the writer state. It returns the bytes
// truncated. Only called while no reader can see the segment.
func (s *segment) recover(interval int64) (int64, error) {
	size := s.size.Load()
	r, err := s.rebuildWith(size, true, interval)
	if err != nil {
		return 0, err
	}
	if r.validEnd < size {
		if err := s.log.Truncate(r.validEnd); err != nil {
			return 0, err
		}
	}
	s.install(r)
	return size - r.validEnd, s.writeIndexFiles()
}

// install sets indexes and writer state from a rebuild.
func (s *segment) install(r rebuilt) {
	s.mu.Lock()
	s.offIdx, s.timeIdx, s.loaded = r.off, r.time, true
	s.maxTs, s.offMax = r.maxTs, r.offMax
	s.size.Store(r.validEnd)
	s.mu.Unlock()
	s.sinceIndex, s.rollTs, s.next = r.since, r.rollTs, r.next
}

// loadInactive reads the tail of the time index for the segment's largest
// timestamp (retention and ListOffsets need it without loading the whole
// index). A missing or malformed index is rebuilt from the log and
// rewritten.
func (s *segment) loadInactive(interval int64, lg func(msg string, args ...any)) error {
	size := s.size.Load()
	ob, ok1, err1 := readIndexFile(s.fsys, s.path(indexSuffix), offEntrySize)
	tb, ok2, err2 := readIndexFile(s.fsys, s.path(timeIndexSuffix), timeEntrySize)
	var tim []timeEntry
	var err error
	if err = errors.Join(err1, err2); err == nil && (ok1 && ok2 || size == 0) {
		if _, err = decodeOffIndex(ob, size); err == nil {
			tim, err = decodeTimeIndex(tb)
		}
	} else if err == nil {
		err = fmt.Errorf("%w: index file missing", errBadIndex)
	}
	if err != nil {
		lg("rebuilding index", "segment", s.base, "err", err)
		r, rerr := s.rebuildWith(size, false, interval)
		if rerr != nil {
			return rerr
		}
		r.validEnd = size // trusted: a clean segment is not truncated here
		s.install(r)
		return s.writeIndexFiles()
	}
	if n := len(tim); n > 0 {
		s.maxTs, s.offMax = tim[n-1].ts, s.base+int64(tim[n-1].rel)
	}
	return nil
}

// loadActive loads the last segment of a cleanly closed log: both indexes,
// then a verified scan of the batches after the last index entry to restore
// the writer state and cut any torn tail. It returns the bytes truncated.
func (s *segment) loadActive(interval int64, lg func(msg string, args ...any)) (int64, error) {
	off, tim, err := s.readIndexes(s.size.Load())
	if err != nil {
		lg("rebuilding index", "segment", s.base, "err", err)
		return s.recover(interval)
	}
	s.mu.Lock()
	s.offIdx, s.timeIdx, s.loaded = off, tim, true
	s.mu.Unlock()
	return s.restoreTail(interval, true, lg)
}

// truncateTo drops every batch at or after offset: the log file, index
// entries and stats. The segment must be loaded and active (index files
// open). It returns the new next offset.
func (s *segment) truncateTo(offset int64) (int64, error) {
	size := s.size.Load()
	pos, _, ok, err := s.findBatch(offset, size)
	if err != nil {
		return 0, err
	}
	if ok {
		if err := s.log.Truncate(pos); err != nil {
			return 0, err
		}
		s.mu.Lock()
		n := len(s.offIdx)
		for n > 0 && int64(s.offIdx[n-1].pos) >= pos {
			n--
		}
		s.offIdx = s.offIdx[:n]
		m := len(s.timeIdx)
		for m > 0 && s.base+int64(s.timeIdx[m-1].rel) >= offset {
			m--
		}
		s.timeIdx = s.timeIdx[:m]
		s.size.Store(pos)
		s.mu.Unlock()
		if err := s.trimIndexFiles(); err != nil {
			return 0, err
		}
	}
	// Rescan the kept part after its last surviving index entry.
	if _, err := s.restoreTail(0, false, nil); err != nil {
		return 0, err
	}
	return s.next, nil
}

// restoreTail recomputes the writer state (next offset, bytes since the
// last index entry, largest timestamp, roll timestamp) from the in-memory
// indexes and a scan of the batches after the last offset index entry.
// With verify the scan checks CRCs and cuts the file at the first bad batch.
// It returns the bytes truncated.
func (s *segment) restoreTail(interval int64, verify bool, lg func(msg string, args ...any)) (int64, error) {
	size := s.size.Load()
	s.mu.RLock()
	off, tim := s.offIdx, s.timeIdx
	s.mu.RUnlock()
	start := int64(0)
	if n := len(off); n > 0 {
		start = int64(off[n-1].pos)
	}
	maxTs, offMax := int64(-1), int64(-1)
	if n := len(tim); n > 0 {
		maxTs, offMax = tim[n-1].ts, s.base+int64(tim[n-1].rel)
	}
	next, end := s.base, start
	sc := newScanner(s.log, start, size)
	for {
		h, _, pos, err := sc.next(false, verify)
		if err == io.EOF {
			break
		}
		if errors.Is(err, errTorn) && verify {
			if start > 0 && pos == start {
				// The indexed batch itself is bad: distrust the index.
				lg("rebuilding index", "segment", s.base, "err", err)
				return s.recover(interval)
			}
			lg("truncating torn tail", "segment", s.base, "position", pos, "err", err)
			break
		}
		if err != nil {
			return 0, err
		}
		if h.MaxTimestamp > maxTs {
			maxTs, offMax = h.MaxTimestamp, h.LastOffset()
		}
		next, end = h.NextOffset(), pos+h.Size()
	}
	if end < size {
		if err := s.log.Truncate(end); err != nil {
			return 0, err
		}
	}
	rollTs := int64(-1)
	if end > 0 {
		var buf [batch.HeaderSize]byte
		h, err := s.readHeader(0, end, buf[:])
		if err != nil {
			return 0, err
		}
		rollTs = h.MaxTimestamp
	}
	s.install(rebuilt{off: off, time: tim, maxTs: maxTs, offMax: offMax, since: end - start, rollTs: rollTs, next: next, validEnd: end})
	return size - end, nil
}

// largestTimestamp is the segment's age for retention.ms: its largest batch
// timestamp, or the file's modification time when it has none (Kafka).
func (s *segment) largestTimestamp() int64 {
	s.mu.RLock()
	ts := s.maxTs
	s.mu.RUnlock()
	if ts > 0 {
		return ts
	}
	if st, err := s.log.Stat(); err == nil {
		return st.ModTime().UnixMilli()
	}
	return 0
}

// renameDeleted renames the segment's files to *.deleted; the log file
// stays open for in-flight reads.
func (s *segment) renameDeleted() error {
	var errs []error
	for _, suf := range segmentSuffixes {
		p := s.path(suf)
		if err := s.fsys.Rename(p, p+deletedSuffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// removeDeleted closes the segment and removes its *.deleted files.
func (s *segment) removeDeleted() error {
	errs := []error{s.closeFiles()}
	for _, suf := range segmentSuffixes {
		if err := s.fsys.Remove(s.path(suf) + deletedSuffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
