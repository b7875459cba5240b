package log

import (
	"errors"
	"io"
)

// OffsetForTimestamp answers ListOffsets for a timestamp: the first offset
// at or above the log start offset whose record timestamp is >= ts, found
// through the time index, and that record's timestamp. The batch's records
// are walked (a compressed batch decompressed) for the exact record, as
// Kafka's LogSegment.findOffsetByTimestamp does; only a batch whose
// records cannot be read answers its base offset (or the log start
// offset) and max timestamp. ok is false when no batch has a timestamp
// >= ts.
func (l *Log) OffsetForTimestamp(ts int64) (offset int64, timestamp int64, ok bool) {
	if l.closed.Load() {
		return -1, -1, false
	}
	leo := l.leo.Load()
	lso := l.lso.Load()
	for _, s := range l.segments() {
		s.mu.RLock()
		maxTs := s.maxTs
		s.mu.RUnlock()
		if maxTs < ts || s.base >= leo {
			continue
		}
		if err := s.ensureLoaded(); err != nil {
			l.lg.Warn("loading index", "segment", s.base, "err", err)
			continue
		}
		s.mu.RLock()
		start := offLookup(s.offIdx, s.base, timeLookup(s.timeIdx, s.base, ts))
		s.mu.RUnlock()
		sc := newScanner(s.log, start, s.size.Load())
		for {
			h, b, _, err := sc.next(true, false)
			if errors.Is(err, io.EOF) || err == nil && h.BaseOffset >= leo {
				break
			}
			if err != nil {
				l.lg.Warn("reading segment", "segment", s.base, "err", err)
				break
			}
			if h.MaxTimestamp < ts || h.LastOffset() < lso {
				continue
			}
			found := false
			werr := walkRecords(b, &h, func(o, rts int64) bool {
				if rts >= ts && o >= lso {
					offset, timestamp, found = o, rts, true
					return false
				}
				return true
			})
			if found {
				return offset, timestamp, true
			}
			if werr != nil {
				l.lg.Warn("reading records for a timestamp lookup", "segment", s.base, "err", werr)
				return max(h.BaseOffset, lso), h.MaxTimestamp, true
			}
		}
	}
	return -1, -1, false
}

// MaxTimestamp answers ListOffsets -3 (KIP-734): the offset and timestamp
// of the record with the largest timestamp (the first such; in a
// LogAppendTime batch its first record), found in its batch's records, a
// compressed batch decompressed, as Kafka's
// RecordBatch.offsetOfMaxTimestamp does. (-1, -1) for an empty log.
func (l *Log) MaxTimestamp() (offset, ts int64) {
	if l.closed.Load() {
		return -1, -1
	}
	var best *segment
	ts, shallow := int64(-1), int64(-1)
	for _, s := range l.segments() {
		s.mu.RLock()
		if s.maxTs > ts {
			best, ts, shallow = s, s.maxTs, s.offMax
		}
		s.mu.RUnlock()
	}
	if best == nil {
		return -1, -1
	}
	pos, _, ok, err := best.findBatch(shallow, best.size.Load())
	if err != nil || !ok {
		return shallow, ts
	}
	sc := newScanner(best.log, pos, best.size.Load())
	h, b, _, err := sc.next(true, false)
	if err != nil {
		return shallow, ts
	}
	offset = shallow
	if err := walkRecords(b, &h, func(o, rts int64) bool {
		if rts == ts {
			offset = o
			return false
		}
		return true
	}); err != nil {
		l.lg.Warn("reading records for the max timestamp", "segment", best.base, "err", err)
	}
	return offset, ts
}
