package partition

import (
	"fmt"
	"sync"

	"github.com/samsa-streaming/samsa/internal/batch"
)

// The time samples answer "how old is the record at offset o?" for the
// consumer-lag metrics (samsa_consumergroup_lag_seconds) from memory: each
// appended batch (leader or follower) offers (base offset, base
// timestamp), and the partition keeps at most maxTimeSamples of them,
// spaced at least gap offsets apart. When the table fills, every other
// entry is dropped and the gap doubles, so the samples always span the
// partition's history since it was opened with bounded memory (16 bytes
// per entry) and one short lock per append. A lookup answers the
// timestamp of the newest sample at or below the offset: exact when the
// offset is a sampled batch's start, otherwise at most one gap older (the
// lag is overstated by at most the time those gap offsets took to arrive).

const maxTimeSamples = 256

type timeSample struct{ offset, ts int64 }

type timeSamples struct {
	mu      sync.Mutex
	entries []timeSample // ascending offsets
	gap     int64
}

// add records a batch appended at base with timestamp ts (the batch's
// base timestamp, or the append time on a LogAppendTime topic).
func (s *timeSamples) add(base, ts int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gap == 0 {
		s.gap = 1
	}
	n := len(s.entries)
	if n > 0 && base <= s.entries[n-1].offset {
		// a follower truncated and appends again: forget what went
		s.truncateLocked(base)
		n = len(s.entries)
	}
	if n > 0 && base-s.entries[n-1].offset < s.gap {
		return
	}
	if n == maxTimeSamples {
		kept := s.entries[:0]
		for i := 0; i < n; i += 2 {
			kept = append(kept, s.entries[i])
		}
		s.entries = kept
		s.gap *= 2
	}
	s.entries = append(s.entries, timeSample{base, ts})
}

// truncate forgets the samples at and after off.
func (s *timeSamples) truncate(off int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.truncateLocked(off)
}

func (s *timeSamples) truncateLocked(off int64) {
	i := len(s.entries)
	for i > 0 && s.entries[i-1].offset >= off {
		i--
	}
	s.entries = s.entries[:i]
}

// at returns the timestamp of the newest sample at or below off; false when
// off precedes every sample.
func (s *timeSamples) at(off int64) (int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.entries) == 0 {
		return 0, false
	}
	lo, hi := 0, len(s.entries) // first entry with offset > off
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s.entries[m].offset <= off {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == 0 {
		return 0, false
	}
	return s.entries[lo-1].ts, true
}

// sampleBatches offers every batch in batches (whole batches, as a follower
// appends them).
func (s *timeSamples) sampleBatches(batches []byte) {
	for b := batches; len(b) > 0; {
		h, err := batch.ParseHeader(b)
		if err != nil || h.Size() > int64(len(b)) {
			return
		}
		b = b[h.Size():]
		if !h.IsControl() {
			s.add(h.BaseOffset, batchTime(&h))
		}
	}
}

// batchTime is the batch's first record's time: its base timestamp, or
// its max timestamp when it carries log-append time.
func batchTime(h *batch.Header) int64 {
	if h.LogAppendTime() {
		return h.MaxTimestamp
	}
	return h.BaseTimestamp
}

// RecordTime is the timestamp (unix ms) of the record at offset off as the
// partition's time samples know it: the first record of the newest
// sampled batch at or below off (so never newer than off's record by more
// than one sampling gap). false when off precedes the samples (appended
// before the partition was opened): ReadRecordTime reads it.
func (p *Partition) RecordTime(off int64) (int64, bool) { return p.samples.at(off) }

// ReadRecordTime reads from the log the header of the batch holding off and
// returns its first record's timestamp (its log-append time on a
// LogAppendTime topic): one small read, for callers that cache it.
func (p *Partition) ReadRecordTime(off int64) (int64, error) {
	res, err := p.log.Read(off, batch.HeaderSize, p.HighWatermark(), true)
	if err != nil {
		return 0, err
	}
	var hb [batch.HeaderSize]byte
	for _, c := range res.Chunks {
		for pos := c.Pos; pos+batch.HeaderSize <= c.Pos+c.Len; {
			if _, err := c.File.ReadAt(hb[:], pos); err != nil {
				return 0, err
			}
			h, err := batch.ParseHeader(hb[:])
			if err != nil {
				return 0, err
			}
			if h.LastOffset() >= off && !h.IsControl() {
				return batchTime(&h), nil
			}
			if h.Size() < batch.HeaderSize {
				break
			}
			pos += h.Size()
		}
	}
	return 0, fmt.Errorf("partition %s: no record batch holds offset %d", p.name, off)
}
