package log

// Log compaction (cleanup.policy=compact), as Kafka's LogCleaner does it.
//
// A pass has two halves. The map half reads the dirty section, from the
// cleaner point (cleaner-offset-checkpoint) up to the first uncleanable
// offset, and builds key -> latest offset (offsetMap). The rewrite half
// reads every segment below the map's end offset, old and dirty, and
// writes the records that survive into new segments, merging small
// neighbours (groupSegmentsBySize); each group is committed on its own:
//
//	<base>.log.cleaned (+ .index.cleaned, .timeindex.cleaned)  written, fsynced
//	renamed to *.swap, the .log last; directory fsynced        the commit point
//	segment list swapped, the originals renamed to *.deleted   under Log.mu
//	*.swap renamed to their final names; directory fsynced
//
// Open (recoverCleaning) deletes *.cleaned files and rolls every
// .log.swap forward. Everything from the rename to .swap to the final
// rename happens under the writer lock, after checking that the original
// segments are still in the list, unchanged: a truncation or retention
// that raced the pass makes the group (and the pass) stop instead, so a
// committed swap always replaces exactly the segments it was built from.
//
// What survives, per batch:
//   - control batches (transaction markers): always, as they are. Kafka
//     removes a marker once its transaction's data is gone; keeping them is
//     simple and safe and costs one small batch per transaction.
//   - a record at or past the map's end offset: always (not judged).
//   - a record without a key: never (compacted topics require keys).
//   - a record whose key has a later offset in the map: never.
//   - a tombstone (null value): until the batch's delete horizon passed.
//     The first pass that keeps a tombstone sets the batch's delete
//     horizon (attribute 0x40, base timestamp = now + delete.retention.ms,
//     record timestamp deltas rebased) as Kafka v2 does (KIP-534); a pass
//     after the horizon removes it.
//   - records of transactional batches count in the map only once their
//     commit marker is seen (before the log end offset); aborted ones never
//     hide an older committed value, but they are not removed unless
//     superseded (Kafka removes them).
//
// A batch that loses every record is dropped, unless it has a producer id
// and is that producer's last data batch in the log: then its header is
// kept as an empty batch (NumRecords 0, same base offset, last offset
// delta, producer id, epoch and base sequence, uncompressed) so the
// producer's sequence state survives, as Kafka's RETAIN_EMPTY does.
// A batch that loses some records is rebuilt with the same base offset,
// last offset delta, producer fields, timestamps, leader epoch and flags,
// its records re-encoded with its codec and its CRC recomputed; a batch
// that loses none (and needs no new delete horizon) is copied byte for
// byte. Offsets never move.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"time"

	"github.com/samsa-streaming/samsa/internal/batch"
	"github.com/samsa-streaming/samsa/internal/fs"
)

// ErrNotCompacted is returned by Clean for a log whose config does not
// have Compact set.
var ErrNotCompacted = errors.New("log: cleanup.policy does not include compact")

// errUncleanable marks a batch the cleaner cannot decode; the pass stops
// rather than guess what it holds (an *uncleanableError says where).
var errUncleanable = errors.New("log: batch cannot be compacted")

// uncleanableError is errUncleanable for the batch at offset.
type uncleanableError struct {
	offset int64
	err    error
}

func uncleanable(offset int64, err error) error { return &uncleanableError{offset, err} }

func (e *uncleanableError) Error() string {
	return fmt.Sprintf("%v: offset %d: %v", errUncleanable, e.offset, e.err)
}
func (e *uncleanableError) Unwrap() []error { return []error{errUncleanable, e.err} }

// errSegmentsChanged: a segment the pass works on was deleted, truncated or
// replaced meanwhile; the pass stops and the next one starts over.
var errSegmentsChanged = errors.New("log: segments changed during cleaning")

const (
	// cleanMaxDecompressed bounds the records section of one batch after
	// decompression.
	cleanMaxDecompressed = 64 << 20
	// cleanWriteBuf is how much cleaned output is buffered per write.
	cleanWriteBuf = 1 << 20
)

// CleanStats describes one cleaning pass.
type CleanStats struct {
	FirstDirtyOffset       int64 // the cleaner point the pass started from
	FirstUncleanableOffset int64 // the bound: nothing at or past it was deduplicated
	EndOffset              int64 // the new cleaner point
	MapEntries             int   // keys in the offset map

	SegmentsCleaned int // original segments replaced
	SegmentsWritten int // cleaned segments that replaced them

	BytesRead, BytesWritten int64

	BatchesRead, BatchesRemoved, EmptyBatchesRetained int64
	RecordsRead, RecordsRetained, RecordsRemoved      int64 // in the rewritten segments
	TombstonesRemoved                                 int64 // of RecordsRemoved

	// Aborted: a concurrent truncation, retention or close changed the
	// segments, so the pass stopped early (groups committed before stay
	// committed) without moving the cleaner point.
	Aborted bool
}

// Cleanable is how much a compacted log needs cleaning (Kafka's
// LogToClean).
type Cleanable struct {
	FirstDirtyOffset       int64
	FirstUncleanableOffset int64
	CleanBytes             int64 // segments below the first dirty offset
	CleanableBytes         int64 // segments in [first dirty, first uncleanable)
	DirtyRatio             float64
	// MaxLagExceeded: a dirty segment's first batch is older than
	// max.compaction.lag.ms.
	MaxLagExceeded bool
	// HorizonPassed: a tombstone kept by the last pass has passed its
	// delete horizon.
	HorizonPassed bool
	// Due: the background cleaner would clean the log now.
	Due bool
}

// SetLastStableOffset tells the log the partition's last stable offset:
// the minimum of the high watermark and the first offset of the earliest
// open transaction. The background Cleaner never deduplicates at or past
// it; until it is set, the Cleaner cleans nothing.
func (l *Log) SetLastStableOffset(off int64) { l.cleaning.stable.Store(off) }

// Clean runs one cleaning pass now, whatever the dirty ratio, deduplicating
// up to firstUnstable (the last stable offset: min(high watermark, first
// open transaction offset)) and, as always, the active segment's base and
// min.compaction.lag.ms. now is the time for the lag and delete horizon
// decisions. It is not throttled.
//
// firstUnstable must not exceed the high watermark: as in Kafka, a record
// that superseded older ones and is then truncated away (a follower
// truncating below what it compacted) takes its key with it.
func (l *Log) Clean(now time.Time, firstUnstable int64) (CleanStats, error) {
	return l.clean(context.Background(), now, firstUnstable, nil, int(CleanerConfig{}.Defaults().DedupeBufferSize/mapEntryBytes))
}

// Cleanable reports how dirty the log is; see the Cleanable type.
func (l *Log) Cleanable(now time.Time, firstUnstable int64) Cleanable {
	return l.cleanable(l.segments(), l.cfg.Load(), now, firstUnstable)
}

// firstDirty is the cleaner point, clamped to the log as Kafka clamps it.
func (l *Log) firstDirty() int64 {
	lso, leo := l.lso.Load(), l.leo.Load()
	p := l.cleaning.point.Load()
	if p < lso || p > leo {
		return lso
	}
	return p
}

// firstUncleanable is Kafka's firstUncleanableDirtyOffset: the minimum of
// the last stable offset, the active segment's base and the base of the
// first dirty segment with a record newer than min.compaction.lag.ms.
func firstUncleanable(segs []*segment, cfg *Config, firstDirty int64, now time.Time, stable int64) int64 {
	bound := max(min(stable, segs[len(segs)-1].base), 0)
	if cfg.MinCompactionLagMs > 0 {
		horizon := now.UnixMilli() - cfg.MinCompactionLagMs
		for _, s := range segs[floorSegment(segs, firstDirty) : len(segs)-1] {
			if s.base >= bound {
				break
			}
			if s.largestTimestamp() > horizon {
				bound = s.base
				break
			}
		}
	}
	return bound
}

func (l *Log) cleanable(segs []*segment, cfg *Config, now time.Time, stable int64) Cleanable {
	c := Cleanable{FirstDirtyOffset: l.firstDirty()}
	c.FirstUncleanableOffset = firstUncleanable(segs, cfg, c.FirstDirtyOffset, now, stable)
	for i, s := range segs {
		next := int64(math.MaxInt64)
		if i+1 < len(segs) {
			next = segs[i+1].base
		}
		size := s.size.Load()
		if s.base < c.FirstDirtyOffset {
			c.CleanBytes += size
		}
		if c.FirstDirtyOffset < c.FirstUncleanableOffset && s.base < c.FirstUncleanableOffset && next > c.FirstDirtyOffset {
			c.CleanableBytes += size
		}
	}
	if total := c.CleanBytes + c.CleanableBytes; total > 0 {
		c.DirtyRatio = float64(c.CleanableBytes) / float64(total)
	}
	// max.compaction.lag.ms: the first batch timestamps of the dirty
	// inactive segments (Kafka's maxCompactionDelay).
	cleanUntil := now.UnixMilli() - cfg.MaxCompactionLagMs
	var buf [batch.HeaderSize]byte
	for _, s := range segs[floorSegment(segs, c.FirstDirtyOffset) : len(segs)-1] {
		if cleanUntil <= 0 { // the default, unlimited lag
			break
		}
		size := s.size.Load()
		if size == 0 {
			continue
		}
		if h, err := s.readHeader(0, size, buf[:]); err == nil && h.MaxTimestamp > 0 && h.MaxTimestamp < cleanUntil {
			c.MaxLagExceeded = true
			break
		}
	}
	if h := l.cleaning.horizon.Load(); h >= 0 && now.UnixMilli() >= h {
		c.HorizonPassed = true
	}
	c.Due = cfg.Compact && (c.CleanableBytes > 0 && (c.DirtyRatio >= cfg.MinCleanableDirtyRatio || c.MaxLagExceeded) || c.HorizonPassed)
	return c
}

// cleanPass is the state of one pass.
type cleanPass struct {
	l     *Log
	ctx   context.Context
	cfg   *Config
	th    *throttle
	now   int64 // Unix ms
	leo   int64
	m     *offsetMap
	end   int64 // records below it are judged against the map
	stats CleanStats

	truncations int64           // Log.cleaning.truncations when the pass began
	nextHorizon int64           // earliest delete horizon of tombstones kept below end, -1
	lastData    map[int64]int64 // producer id -> last offset of its last data batch; lazy

	seg  segCounts // counts for the segment being filtered
	keep []cleanRecord
	raw  []byte
	out  []byte
}

// segCounts are the record counts of one segment's filtering, added to the
// stats once the segment stays in its group.
type segCounts struct {
	batches, batchesRemoved, emptyRetained int64
	records, retained, removed, tombstones int64
}

func (l *Log) clean(ctx context.Context, now time.Time, stable int64, th *throttle, mapLimit int) (CleanStats, error) {
	l.cleaning.mu.Lock()
	defer l.cleaning.mu.Unlock()
	if l.closed.Load() {
		return CleanStats{}, ErrClosed
	}
	cfg := l.cfg.Load()
	if !cfg.Compact {
		return CleanStats{}, ErrNotCompacted
	}
	truncations := l.cleaning.truncations.Load()
	leo := l.leo.Load() // before the segments, which then cover it
	segs := l.segments()
	p := &cleanPass{l: l, ctx: ctx, cfg: cfg, th: th, now: now.UnixMilli(), leo: leo, m: newOffsetMap(mapLimit), nextHorizon: -1, truncations: truncations}
	firstDirty := l.firstDirty()
	bound := firstUncleanable(segs, cfg, firstDirty, now, stable)
	p.stats.FirstDirtyOffset, p.stats.FirstUncleanableOffset = firstDirty, bound

	err := p.buildMap(segs, firstDirty, bound)
	if err == nil {
		p.stats.EndOffset, p.stats.MapEntries = p.end, len(p.m.m)
		n := 0 // the segments to rewrite: every one with offsets below end
		for n < len(segs)-1 && segs[n].base < p.end {
			n++
		}
		err = p.cleanSegments(segs, n)
	}
	if errors.Is(err, errSegmentsChanged) {
		l.lg.Debug("cleaning stopped: segments changed", "err", err)
		p.stats.Aborted, err = true, nil
	}
	if err != nil || p.stats.Aborted {
		return p.stats, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.writable(); err != nil {
		return p.stats, err
	}
	if l.cleaning.truncations.Load() != p.truncations {
		p.stats.Aborted = true
		return p.stats, nil
	}
	if err := writeCleanerCheckpoint(l, p.end, p.nextHorizon); err != nil {
		return p.stats, fmt.Errorf("writing cleaner checkpoint: %w", err)
	}
	l.cleaning.point.Store(p.end)
	l.cleaning.horizon.Store(p.nextHorizon)
	return p.stats, nil
}

// readErr turns the error of a read racing the segment's deletion into
// errSegmentsChanged.
func (p *cleanPass) readErr(s *segment, err error) error {
	if s.deleted.Load() || p.l.closed.Load() {
		return fmt.Errorf("%w: segment %d: %v", errSegmentsChanged, s.base, err)
	}
	return fmt.Errorf("segment %d: %w", s.base, err)
}

// scan calls fn for every batch with offsets >= from and below the pass's
// log end offset, in order, until fn returns false. With body, b is the
// whole batch, checked with batch.ValidateStored; it aliases a buffer.
func (p *cleanPass) scan(segs []*segment, from int64, body bool, fn func(h *batch.Header, b []byte) (bool, error)) error {
	for i := floorSegment(segs, from); i < len(segs); i++ {
		s := segs[i]
		size := s.size.Load()
		pos := int64(0)
		if s.base < from {
			var ok bool
			var err error
			if pos, _, ok, err = s.findBatch(from, size); err != nil {
				return p.readErr(s, err)
			} else if !ok {
				continue
			}
		}
		sc := newScanner(s.log, pos, size)
		for {
			h, b, _, err := sc.next(body, false)
			if err == nil && body {
				_, err = batch.ValidateStored(b)
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return p.readErr(s, err)
			}
			if h.BaseOffset >= p.leo {
				return nil
			}
			if h.LastOffset() < from {
				continue
			}
			if err := p.account(h.Size(), 0); err != nil {
				return err
			}
			if more, err := fn(&h, b); err != nil || !more {
				return err
			}
		}
	}
	return nil
}

// account counts I/O and applies the throttle; it also notices
// cancellation.
func (p *cleanPass) account(read, written int64) error {
	p.stats.BytesRead += read
	p.stats.BytesWritten += written
	if p.th != nil {
		return p.th.wait(p.ctx, read+written)
	}
	return p.ctx.Err()
}

type pendingKey struct {
	h   [2]uint64
	off int64
}

// buildMap fills the offset map from the dirty section [firstDirty, bound)
// and sets p.end: the map covers [firstDirty, end). It stops early, at a
// batch boundary, when the map is full.
func (p *cleanPass) buildMap(segs []*segment, firstDirty, bound int64) error {
	p.end = firstDirty
	if bound <= firstDirty {
		return nil
	}
	pending := map[int64][]pendingKey{} // transactional keys by producer, until the marker
	npending := 0
	resolve := func(h *batch.Header, b []byte) {
		keys, ok := pending[h.ProducerID]
		if !ok {
			return
		}
		commit, err := batch.ControlType(b)
		if err != nil {
			return // not a transaction marker
		}
		if commit {
			for _, k := range keys {
				p.m.put(k.h, k.off)
			}
		}
		npending -= len(keys)
		delete(pending, h.ProducerID)
	}
	var keys []pendingKey
	stopped := false
	err := p.scan(segs, firstDirty, true, func(h *batch.Header, b []byte) (bool, error) {
		if h.NextOffset() > bound {
			p.end, stopped = max(min(bound, h.BaseOffset), p.end), true
			return false, nil
		}
		switch {
		case h.IsControl():
			resolve(h, b)
		case h.NumRecords > 0:
			data, err := batch.Decompress(h.Codec(), b[batch.HeaderSize:], cleanMaxDecompressed)
			if err != nil {
				return false, uncleanable(h.BaseOffset, err)
			}
			keys = keys[:0]
			n := 0
			for q := data; len(q) > 0; n++ {
				r, rest, err := parseCleanRecord(q)
				if err != nil {
					return false, uncleanable(h.BaseOffset, err)
				}
				q = rest
				if off := h.BaseOffset + int64(r.offDelta); r.hasKey && off >= firstDirty {
					keys = append(keys, pendingKey{p.m.hash(r.key), off})
				}
			}
			if n != int(h.NumRecords) {
				return false, uncleanable(h.BaseOffset, fmt.Errorf("%d records, header says %d", n, h.NumRecords))
			}
			if used := len(p.m.m) + npending; used > 0 && used+len(keys) > p.m.limit {
				p.end, stopped = h.BaseOffset, true // full: the rest waits for the next pass
				return false, nil
			}
			if h.IsTransactional() {
				pending[h.ProducerID] = append(pending[h.ProducerID], keys...)
				npending += len(keys)
			} else {
				for _, k := range keys {
					p.m.put(k.h, k.off)
				}
			}
		}
		p.end = h.NextOffset()
		return true, nil
	})
	if err != nil {
		return err
	}
	if !stopped {
		p.end = bound // nothing else below the bound
	}
	if len(pending) > 0 {
		// Markers of transactions mapped so far may come after the end.
		err = p.scan(segs, p.end, true, func(h *batch.Header, b []byte) (bool, error) {
			if h.IsControl() {
				resolve(h, b)
			}
			return len(pending) > 0, nil
		})
	}
	return err // still pending: open or unknown, so never mapped
}

// cleanSegments rewrites segs[:n] in groups and swaps each group in.
func (p *cleanPass) cleanSegments(segs []*segment, n int) error {
	cfg := p.cfg
	for i := 0; i < n; {
		if err := p.ctx.Err(); err != nil {
			return err
		}
		g, err := p.newGroup(segs[i].base)
		if err != nil {
			return err
		}
		first := i
		var sizes []int64
		for i < n {
			s := segs[i]
			// Kafka's groupSegmentsBySize: the group's relative offsets
			// must fit 32 bits, its cleaned size segment.bytes and its
			// indexes segment.index.bytes.
			if i > first && segs[i+1].base-1-g.seg.base > math.MaxInt32 {
				break
			}
			mk := g.mark()
			p.seg = segCounts{}
			size := s.size.Load()
			if err := p.filterSegment(s, size, g); err != nil {
				g.discard()
				return err
			}
			if i > first && (g.seg.size.Load() > cfg.SegmentBytes ||
				int64(len(g.seg.offIdx))*offEntrySize > int64(cfg.SegmentIndexBytes) ||
				int64(len(g.seg.timeIdx))*timeEntrySize > int64(cfg.SegmentIndexBytes)) {
				if err := g.rollback(mk); err != nil {
					g.discard()
					return err
				}
				break
			}
			p.addCounts()
			sizes = append(sizes, size)
			i++
		}
		old := segs[first:i]
		if len(old) == 1 && !g.changed {
			g.discard() // nothing to change: keep the original
			continue
		}
		if err := g.finish(); err != nil {
			g.discard()
			return err
		}
		if err := p.l.swapCleaned(old, sizes, g); err != nil {
			return err
		}
		p.stats.SegmentsCleaned += len(old)
		p.stats.SegmentsWritten++
	}
	return nil
}

func (p *cleanPass) addCounts() {
	c := &p.seg
	p.stats.BatchesRead += c.batches
	p.stats.BatchesRemoved += c.batchesRemoved
	p.stats.EmptyBatchesRetained += c.emptyRetained
	p.stats.RecordsRead += c.records
	p.stats.RecordsRetained += c.retained
	p.stats.RecordsRemoved += c.removed
	p.stats.TombstonesRemoved += c.tombstones
}

// filterSegment writes what survives of segment s (its first size bytes)
// to g.
func (p *cleanPass) filterSegment(s *segment, size int64, g *groupWriter) error {
	sc := newScanner(s.log, 0, size)
	for {
		h, b, pos, err := sc.next(true, false)
		if err == nil {
			_, err = batch.ValidateStored(b)
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return p.readErr(s, fmt.Errorf("position %d: %w", pos, err))
		}
		if err := p.account(h.Size(), 0); err != nil {
			return err
		}
		if err := p.filterBatch(&h, b, g); err != nil {
			return err
		}
	}
}

// retain decides one record's fate.
func (p *cleanPass) retain(r *cleanRecord, off int64, hasHorizon bool, horizon int64) (keep, expiredTombstone bool) {
	if off >= p.end {
		return true, false
	}
	if !r.hasKey {
		return false, false
	}
	if latest, ok := p.m.get(r.key); ok && off < latest {
		return false, false
	}
	if !r.hasValue && hasHorizon && p.now >= horizon {
		return false, true
	}
	return true, false
}

func (p *cleanPass) filterBatch(h *batch.Header, b []byte, g *groupWriter) error {
	c := &p.seg
	c.batches++
	c.records += int64(h.NumRecords)
	if h.IsControl() {
		c.retained += int64(h.NumRecords)
		return g.write(h, b) // transaction markers are all kept
	}
	if h.NumRecords == 0 { // an empty batch kept for its producer
		return p.writeEmpty(h, b, g)
	}
	data, err := batch.Decompress(h.Codec(), b[batch.HeaderSize:], cleanMaxDecompressed)
	if err != nil {
		return uncleanable(h.BaseOffset, err)
	}
	horizon, hasHorizon := h.DeleteHorizon()
	p.keep = p.keep[:0]
	tombstones, judgedTombstones := false, false
	n := 0
	for q := data; len(q) > 0; n++ {
		r, rest, err := parseCleanRecord(q)
		if err != nil {
			return uncleanable(h.BaseOffset, err)
		}
		q = rest
		off := h.BaseOffset + int64(r.offDelta)
		keep, expired := p.retain(&r, off, hasHorizon, horizon)
		if !keep {
			c.removed++
			if expired {
				c.tombstones++
			}
			continue
		}
		p.keep = append(p.keep, r)
		if !r.hasValue {
			tombstones = true
			judgedTombstones = judgedTombstones || off < p.end
		}
	}
	if n != int(h.NumRecords) {
		return uncleanable(h.BaseOffset, fmt.Errorf("%d records, header says %d", n, h.NumRecords))
	}
	c.retained += int64(len(p.keep))
	newHorizon := horizon
	if tombstones && !hasHorizon {
		newHorizon = p.now + min(p.cfg.DeleteRetentionMs, math.MaxInt64-p.now)
	}
	if judgedTombstones && (p.nextHorizon < 0 || newHorizon < p.nextHorizon) {
		p.nextHorizon = newHorizon
	}
	if len(p.keep) == n && (!tombstones || hasHorizon) {
		return g.write(h, b) // unchanged: copied byte for byte
	}
	g.changed = true
	if len(p.keep) == 0 {
		return p.writeEmpty(h, nil, g)
	}
	nh := *h
	nh.NumRecords = int32(len(p.keep))
	if tombstones && !hasHorizon {
		nh.Attributes |= batch.DeleteHorizonBit
		nh.BaseTimestamp = newHorizon
	}
	shift := h.BaseTimestamp - nh.BaseTimestamp
	raw := p.raw[:0]
	for i := range p.keep {
		r := &p.keep[i]
		if shift == 0 {
			raw = append(raw, r.raw...)
		} else {
			raw = appendRebased(raw, r, r.tsDelta+shift)
		}
	}
	out, err := batch.Compress(h.Codec(), appendBatchHeader(p.out[:0], &nh), raw)
	if err != nil {
		return fmt.Errorf("recompressing batch at offset %d: %w", h.BaseOffset, err)
	}
	finishBatch(out)
	p.raw, p.out = raw, out
	nh, _ = batch.ParseHeader(out)
	return g.write(&nh, out)
}

// writeEmpty keeps the header of a batch left without records when it is
// its producer's last data batch (orig, when not nil, is such a batch
// already), and drops it otherwise.
func (p *cleanPass) writeEmpty(h *batch.Header, orig []byte, g *groupWriter) error {
	last := false
	if h.HasProducerID() {
		var err error
		if last, err = p.isLastOfProducer(h); err != nil {
			return err
		}
	}
	if !last {
		p.seg.batchesRemoved++
		g.changed = true
		return nil
	}
	p.seg.emptyRetained++
	if orig != nil {
		return g.write(h, orig)
	}
	eh := *h
	eh.Attributes &^= batch.CompressionMask // nothing to compress
	eh.NumRecords = 0
	out := appendBatchHeader(p.out[:0], &eh)
	finishBatch(out)
	p.out = out
	eh, _ = batch.ParseHeader(out)
	return g.write(&eh, out)
}

// isLastOfProducer reports whether no later data batch of h's producer is
// in the log. The table is built on first use from the current segment
// list: groups already swapped in hold only earlier offsets, and the
// later ones are still the originals.
func (p *cleanPass) isLastOfProducer(h *batch.Header) (bool, error) {
	if p.lastData == nil {
		p.lastData = map[int64]int64{}
		segs := p.l.segments()
		err := p.scan(segs, segs[0].base, false, func(h *batch.Header, _ []byte) (bool, error) {
			if !h.IsControl() && h.HasProducerID() {
				p.lastData[h.ProducerID] = max(p.lastData[h.ProducerID], h.LastOffset())
			}
			return true, nil
		})
		if err != nil {
			p.lastData = nil
			return false, err
		}
	}
	return p.lastData[h.ProducerID] <= h.LastOffset(), nil
}

// groupWriter writes one cleaned segment, <base>.log.cleaned, and builds
// its indexes in memory as appends would.
type groupWriter struct {
	p        *cleanPass
	seg      *segment
	interval int64
	buf      []byte
	flushed  int64 // bytes in the file
	changed  bool  // differs from a copy of its single original
}

func (p *cleanPass) newGroup(base int64) (*groupWriter, error) {
	l := p.l
	f, err := l.fsys.OpenFile(segmentPath(l.dir, base, logSuffix)+cleanedSuffix, os.O_CREATE|os.O_TRUNC|os.O_RDWR|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	s := &segment{base: base, dir: l.dir, fsys: l.fsys, log: f, loaded: true, maxTs: -1, offMax: -1, rollTs: -1, next: base, created: l.clock.Now()}
	return &groupWriter{p: p, seg: s, interval: int64(p.cfg.IndexIntervalBytes)}, nil
}

// write appends one batch; h describes b.
func (g *groupWriter) write(h *batch.Header, b []byte) error {
	s := g.seg
	pos := s.size.Load()
	if pos+int64(len(b)) > math.MaxInt32 {
		return fmt.Errorf("cleaned segment %d would exceed 2 GiB", s.base)
	}
	pl := s.plan(h, pos, g.interval)
	g.buf = append(g.buf, b...)
	s.apply(pl, h, pos)
	if len(g.buf) >= cleanWriteBuf {
		return g.flush()
	}
	return nil
}

func (g *groupWriter) flush() error {
	if len(g.buf) == 0 {
		return nil
	}
	n, err := g.seg.log.Write(g.buf)
	g.flushed += int64(n)
	g.buf = g.buf[:0]
	if err != nil {
		return err
	}
	return g.p.account(0, int64(n))
}

// groupMark is a group's state before a segment, to take the segment out
// again when it does not fit.
type groupMark struct {
	size, maxTs, offMax, since, next, rollTs int64
	nOff, nTime                              int
	changed                                  bool
}

func (g *groupWriter) mark() groupMark {
	s := g.seg
	return groupMark{size: s.size.Load(), maxTs: s.maxTs, offMax: s.offMax, since: s.sinceIndex, next: s.next,
		rollTs: s.rollTs, nOff: len(s.offIdx), nTime: len(s.timeIdx), changed: g.changed}
}

func (g *groupWriter) rollback(m groupMark) error {
	s := g.seg
	if m.size < g.flushed {
		if err := s.log.Truncate(m.size); err != nil {
			return err
		}
		g.flushed, g.buf = m.size, g.buf[:0]
	} else {
		g.buf = g.buf[:m.size-g.flushed]
	}
	s.offIdx, s.timeIdx = s.offIdx[:m.nOff], s.timeIdx[:m.nTime]
	s.maxTs, s.offMax, s.sinceIndex, s.next, s.rollTs = m.maxTs, m.offMax, m.since, m.next, m.rollTs
	s.size.Store(m.size)
	g.changed = m.changed
	return nil
}

// finish writes the buffered bytes and the index files and fsyncs them.
func (g *groupWriter) finish() error {
	if err := g.flush(); err != nil {
		return err
	}
	s := g.seg
	if n := len(s.timeIdx); s.maxTs >= 0 && (n == 0 || s.timeIdx[n-1].ts < s.maxTs) {
		s.timeIdx = append(s.timeIdx, timeEntry{s.maxTs, uint32(s.offMax - s.base)}) // finalTimeEntry
	}
	for _, f := range []struct {
		suffix string
		data   []byte
	}{{indexSuffix, encodeOff(s.offIdx)}, {timeIndexSuffix, encodeTime(s.timeIdx)}} {
		if err := writeSynced(s.fsys, s.path(f.suffix)+cleanedSuffix, f.data); err != nil {
			return err
		}
	}
	return s.log.Sync()
}

func writeSynced(fsys fs.FS, path string, data []byte) error {
	f, err := fsys.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, werr := f.Write(data)
	if werr == nil {
		werr = f.Sync()
	}
	return errors.Join(werr, f.Close())
}

// discard closes and removes the group's files. Failures only leave
// *.cleaned files, which Open removes.
func (g *groupWriter) discard() {
	s := g.seg
	errs := []error{s.closeFiles()}
	for _, suf := range []string{logSuffix, indexSuffix, timeIndexSuffix} {
		if err := s.fsys.Remove(s.path(suf) + cleanedSuffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		g.p.l.lg.Warn("removing cleaned segment files", "segment", s.base, "err", err)
	}
}

// swapCleaned commits a finished group in place of old (whose sizes were
// sizes when read). See the file comment for the steps. It returns
// errSegmentsChanged, having discarded the group, when old are no longer
// the same segments of the list. A failure after the commit point leaves
// the log failed; reopening completes the swap.
func (l *Log) swapCleaned(old []*segment, sizes []int64, g *groupWriter) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.writable(); err != nil {
		g.discard()
		if errors.Is(err, ErrClosed) {
			return fmt.Errorf("%w: %w", errSegmentsChanged, err)
		}
		return err
	}
	cur := l.segments()
	idx := -1
	for i, s := range cur {
		if s == old[0] {
			idx = i
			break
		}
	}
	// A truncation since the map was built may have removed the records
	// that made others look superseded: no group is swapped after one.
	same := l.cleaning.truncations.Load() == g.p.truncations
	same = same && idx >= 0 && idx+len(old) < len(cur) // never the active segment
	for k := 0; same && k < len(old); k++ {
		s := old[k]
		same = cur[idx+k] == s && !s.deleted.Load() && s.size.Load() == sizes[k]
	}
	if !same {
		g.discard()
		return fmt.Errorf("%w: group at %d", errSegmentsChanged, old[0].base)
	}
	ns := g.seg
	rename := func(suf, from, to string) error {
		p := segmentPath(l.dir, ns.base, suf)
		return l.fsys.Rename(p+from, p+to)
	}
	// The commit point: the .log.swap, durable.
	var err error
	for _, suf := range []string{indexSuffix, timeIndexSuffix, logSuffix} {
		if err = rename(suf, cleanedSuffix, swapSuffix); err != nil {
			break
		}
	}
	if err == nil {
		err = l.fsys.SyncDir(l.dir)
	}
	if err != nil {
		// Not committed: take the .swap back, or a restart would roll it
		// forward over segments that may have changed by then.
		errs := []error{ns.closeFiles()}
		for _, suf := range []string{logSuffix, indexSuffix, timeIndexSuffix} {
			for _, x := range []string{swapSuffix, cleanedSuffix} {
				if rerr := l.fsys.Remove(ns.path(suf) + x); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
					errs = append(errs, rerr)
				}
			}
		}
		if rerr := errors.Join(errs...); rerr != nil || errors.Is(err, fs.ErrCrashed) {
			return l.fail(errors.Join(err, rerr))
		}
		return err
	}
	next := make([]*segment, 0, len(cur)-len(old)+1)
	next = append(next, cur[:idx]...)
	next = append(next, ns)
	next = append(next, cur[idx+len(old):]...)
	l.setSegments(next)
	now := l.clock.Now()
	due := now.Add(time.Duration(l.cfg.Load().FileDeleteDelayMs) * time.Millisecond)
	var errs []error
	for _, s := range old {
		s.deleted.Store(true)
		errs = append(errs, s.closeIndexFiles(), s.renameDeleted())
		l.pending = append(l.pending, pendingDelete{s, due})
	}
	if err := errors.Join(errs...); err != nil {
		return l.fail(err)
	}
	for _, suf := range []string{indexSuffix, timeIndexSuffix, logSuffix} {
		if err := rename(suf, swapSuffix, ""); err != nil {
			return l.fail(err)
		}
	}
	if err := l.fsys.SyncDir(l.dir); err != nil {
		return l.fail(err)
	}
	// The originals' .txnindex files went with them; the cleaner keeps
	// every transaction marker, so their entries still hold: give them to
	// the new segment, or read_committed readers would see aborted records
	// again after a restart.
	end := int64(math.MaxInt64)
	if k := idx + 1; k < len(next) {
		end = next[k].base
	}
	if err := l.writeTxnIndexFile(ns, l.abortedBetween(ns.base, end)); err != nil {
		return l.fail(err)
	}
	if err := l.sweep(now); err != nil {
		l.lg.Warn("removing deleted segments", "err", err)
	}
	l.lg.Info("compacted segments", "base", ns.base, "replaced", len(old), "bytes", ns.size.Load())
	return nil
}
