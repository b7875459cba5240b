package log

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/batch"
)

func timeMs(ms int64) time.Time { return time.UnixMilli(ms) }

var allCodecs = []batch.Codec{batch.CodecNone, batch.CodecGzip, batch.CodecSnappy, batch.CodecLZ4, batch.CodecZstd}

// fillLog appends rounds of overwrites of nkeys keys in batches of per
// records, cycling through codecs, with a few unkeyed records.
func fillLog(t testing.TB, l *Log, m *model, clock *fakeClock, nkeys, rounds, per int, codecs []batch.Codec) {
	t.Helper()
	ci := 0
	for round := range rounds {
		for i := 0; i < nkeys; i += per {
			var recs []batch.Record
			for j := i; j < min(i+per, nkeys); j++ {
				recs = append(recs, rec(fmt.Sprintf("key-%03d", j), value(j, round)))
			}
			if round == 1 && i == 0 {
				recs = append(recs, batch.Record{Value: []byte("no key")})
			}
			m.appendRecs(t, l, codecs[ci%len(codecs)], clock.Now().UnixMilli(), batch.BuildOptions{}, recs...)
			ci++
			clock.Advance(time.Millisecond)
		}
	}
}

func TestCleanLatestValuePerKey(t *testing.T) {
	for _, codecs := range append([][]batch.Codec{allCodecs}, func() (o [][]batch.Codec) {
		for _, c := range allCodecs {
			o = append(o, []batch.Codec{c})
		}
		return o
	}()...) {
		t.Run(fmt.Sprint(codecs), func(t *testing.T) {
			dir := t.TempDir()
			clock := newClock()
			cfg := compactConfig()
			cfg.SegmentBytes = 2048
			l := openLog(t, dir, cfg, nil, clock, false)
			defer func() { l.Close() }()
			m := newModel()
			fillLog(t, l, m, clock, 120, 6, 7, codecs)
			before := l.Segments()
			if before < 10 {
				t.Fatalf("only %d segments", before)
			}
			leo := l.LogEndOffset()
			active := l.active().base
			st := mustClean(t, l, clock.Now().UnixMilli(), leo)
			if st.EndOffset != active || st.FirstDirtyOffset != 0 || st.FirstUncleanableOffset != active {
				t.Fatalf("stats %+v, active segment at %d", st, active)
			}
			if st.RecordsRemoved == 0 || st.SegmentsCleaned == 0 || l.Segments() >= before {
				t.Fatalf("nothing cleaned: %+v, segments %d -> %d", st, before, l.Segments())
			}
			recs := checkLog(t, l, m, active)
			if l.LogEndOffset() != leo {
				t.Fatalf("LEO moved: %d -> %d", leo, l.LogEndOffset())
			}
			// Codecs are kept: every batch holding a record has a codec
			// that was used.
			used := map[batch.Codec]bool{}
			for _, c := range codecs {
				used[c] = true
			}
			for _, r := range recs {
				if !used[r.batch.Codec()] {
					t.Fatalf("batch %d has codec %v", r.batch.BaseOffset, r.batch.Codec())
				}
			}
			// A second pass with nothing new changes nothing.
			size := l.Size()
			st2 := mustClean(t, l, clock.Now().UnixMilli(), leo)
			if st2.RecordsRemoved != 0 || l.Size() != size || st2.FirstDirtyOffset != active {
				t.Fatalf("second pass: %+v, size %d -> %d", st2, size, l.Size())
			}
			// More overwrites, then a pass cleans just the new dirty part
			// on top of the cleaned one.
			fillLog(t, l, m, clock, 120, 2, 9, codecs)
			active = l.active().base
			st3 := mustClean(t, l, clock.Now().UnixMilli(), l.LogEndOffset())
			if st3.FirstDirtyOffset != st.EndOffset || st3.EndOffset != active {
				t.Fatalf("third pass %+v, active %d", st3, active)
			}
			checkLog(t, l, m, active)
			// Reopen, with and without recovery: same content.
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			for _, clean := range []bool{true, false} {
				l = openLog(t, dir, cfg, nil, clock, clean)
				checkLog(t, l, m, active)
				if l.firstDirty() != active {
					t.Fatalf("cleaner point after reopen %d, want %d", l.firstDirty(), active)
				}
				l.Close()
			}
			l = openLog(t, dir, cfg, nil, clock, true)
		})
	}
}

func TestCleanTombstonesAfterDeleteRetention(t *testing.T) {
	dir := t.TempDir()
	clock := newClock()
	cfg := compactConfig()
	cfg.DeleteRetentionMs = 60_000
	l := openLog(t, dir, cfg, nil, clock, false)
	defer l.Close()
	m := newModel()
	t0 := clock.Now().UnixMilli()
	for i := range 30 {
		m.appendRecs(t, l, batch.CodecLZ4, t0+int64(i), batch.BuildOptions{}, rec("a", value(i, 0)), rec("b", value(i, 1)), rec(fmt.Sprint("c", i), "x"))
	}
	m.appendRecs(t, l, batch.CodecLZ4, t0+100, batch.BuildOptions{}, tomb("a"), rec("keep", "1"))
	delOff := l.LogEndOffset() - 2
	for i := range 80 {
		m.appendRecs(t, l, batch.CodecNone, t0+200+int64(i), batch.BuildOptions{}, rec(fmt.Sprint("d", i), "y"))
	}
	if l.Segments() < 3 {
		t.Fatalf("%d segments", l.Segments())
	}
	active := l.active().base
	if delOff >= active {
		t.Fatal("tombstone in the active segment")
	}
	now := clock.Now().UnixMilli()
	mustClean(t, l, now, l.LogEndOffset())
	recs := checkLog(t, l, m, active)
	var found *readRec
	for i := range recs {
		if recs[i].key == "a" {
			if found != nil || !recs[i].null {
				t.Fatalf("key a: %+v", recs[i])
			}
			found = &recs[i]
		}
	}
	if found == nil || found.offset != delOff {
		t.Fatalf("tombstone not kept at %d: %+v", delOff, found)
	}
	h := found.batch
	if hz, ok := h.DeleteHorizon(); !ok || hz != now+cfg.DeleteRetentionMs {
		t.Fatalf("delete horizon %d %v, want %d (attributes %#x)", hz, ok, now+cfg.DeleteRetentionMs, h.Attributes)
	}
	if h.Codec() != batch.CodecLZ4 || h.MaxTimestamp != t0+101 || h.LastOffsetDelta != 1 {
		t.Fatalf("rebuilt header %+v", h)
	}
	if c := l.Cleanable(timeMs(now+cfg.DeleteRetentionMs-1), l.LogEndOffset()); c.HorizonPassed || c.Due {
		t.Fatalf("due before the horizon: %+v", c)
	}
	// Before the horizon the tombstone stays.
	clock.Advance(time.Duration(cfg.DeleteRetentionMs-1) * time.Millisecond)
	mustClean(t, l, clock.Now().UnixMilli(), l.LogEndOffset())
	if !hasKey(t, l, "a") {
		t.Fatal("tombstone removed before delete.retention.ms")
	}
	// After it, it goes, and the log becomes due for it.
	clock.Advance(time.Millisecond)
	if c := l.Cleanable(clock.Now(), l.LogEndOffset()); !c.HorizonPassed || !c.Due {
		t.Fatalf("not due after the horizon: %+v", c)
	}
	st := mustClean(t, l, clock.Now().UnixMilli(), l.LogEndOffset())
	if st.TombstonesRemoved != 1 || hasKey(t, l, "a") {
		t.Fatalf("tombstone still there: %+v", st)
	}
	checkLog(t, l, m, active)
	if c := l.Cleanable(clock.Now(), l.LogEndOffset()); c.HorizonPassed {
		t.Fatalf("horizon still pending: %+v", c)
	}
}

func hasKey(t testing.TB, l *Log, key string) bool {
	recs, _ := readLog(t, l)
	for _, r := range recs {
		if r.key == key {
			return true
		}
	}
	return false
}

func TestCleanMinCompactionLag(t *testing.T) {
	dir := t.TempDir()
	clock := newClock()
	cfg := compactConfig()
	cfg.MinCompactionLagMs = 10_000
	l := openLog(t, dir, cfg, nil, clock, false)
	defer l.Close()
	m := newModel()
	t0 := clock.Now().UnixMilli()
	// Old records, then records 5 s old, then the active segment.
	for i := range 40 {
		m.appendRecs(t, l, batch.CodecNone, t0-60_000+int64(i), batch.BuildOptions{}, rec("k", value(i, 0)), rec(fmt.Sprint("o", i%5), "x"))
	}
	forceRoll(t, l)
	recent := l.LogEndOffset()
	for i := range 40 {
		m.appendRecs(t, l, batch.CodecNone, t0-5_000+int64(i), batch.BuildOptions{}, rec("k", value(i, 1)), rec(fmt.Sprint("r", i%5), "x"))
	}
	st := mustClean(t, l, t0, l.LogEndOffset())
	if st.FirstUncleanableOffset != recent {
		t.Fatalf("first uncleanable %d, want %d (first segment within the lag)", st.FirstUncleanableOffset, recent)
	}
	recs := checkLog(t, l, m, recent)
	n := 0
	for _, r := range recs {
		if r.key == "k" && r.offset >= recent {
			n++
		}
	}
	if n != 40 {
		t.Fatalf("%d records of key k within the lag survive, want 40", n)
	}
	// 10 s later the recent segments are cleanable too.
	st = mustClean(t, l, t0+10_000, l.LogEndOffset())
	if st.FirstUncleanableOffset != l.active().base {
		t.Fatalf("first uncleanable %d, want the active segment %d", st.FirstUncleanableOffset, l.active().base)
	}
	checkLog(t, l, m, l.active().base)
}

func TestCleanDirtyRatioAndMaxLag(t *testing.T) {
	clock := newClock()
	cfg := compactConfig()
	cfg.MinCleanableDirtyRatio = 0.5
	l := openLog(t, t.TempDir(), cfg, nil, clock, false)
	defer l.Close()
	m := newModel()
	now := clock.Now().UnixMilli()
	for i := range 200 {
		m.appendRecs(t, l, batch.CodecNone, now, batch.BuildOptions{}, rec(fmt.Sprint("k", i), value(i, 0)))
	}
	stable := l.LogEndOffset()
	c := l.Cleanable(clock.Now(), stable)
	if c.CleanBytes != 0 || c.CleanableBytes == 0 || c.DirtyRatio != 1 || !c.Due {
		t.Fatalf("fresh log: %+v", c)
	}
	// The stable offset bounds the cleanable part.
	if c0 := l.Cleanable(clock.Now(), 0); c0.CleanableBytes != 0 || c0.Due || c0.FirstUncleanableOffset != 0 {
		t.Fatalf("stable offset 0: %+v", c0)
	}
	mustClean(t, l, now, stable)
	c = l.Cleanable(clock.Now(), l.LogEndOffset())
	if c.CleanableBytes != 0 || c.Due {
		t.Fatalf("after cleaning: %+v", c)
	}
	// A little new dirt: below the ratio, not due.
	first := l.active().base
	for i := range 40 {
		m.appendRecs(t, l, batch.CodecNone, now, batch.BuildOptions{}, rec(fmt.Sprint("k", i), value(i, 1)))
	}
	forceRoll(t, l)
	c = l.Cleanable(clock.Now(), l.LogEndOffset())
	if c.FirstDirtyOffset != first || c.CleanableBytes == 0 || c.DirtyRatio >= 0.5 || c.Due || c.MaxLagExceeded {
		t.Fatalf("a little dirt: %+v", c)
	}
	// Lower the threshold below the ratio: due.
	cfg2 := cfg
	cfg2.MinCleanableDirtyRatio = c.DirtyRatio
	l.SetConfig(cfg2)
	if c2 := l.Cleanable(clock.Now(), l.LogEndOffset()); !c2.Due {
		t.Fatalf("ratio %v >= threshold %v but not due", c2.DirtyRatio, cfg2.MinCleanableDirtyRatio)
	}
	// max.compaction.lag.ms makes it due whatever the ratio once the
	// dirty records are old enough.
	cfg3 := cfg
	cfg3.MinCleanableDirtyRatio = 1
	cfg3.MaxCompactionLagMs = 60_000
	l.SetConfig(cfg3)
	if c3 := l.Cleanable(timeMs(now+59_000), l.LogEndOffset()); c3.Due || c3.MaxLagExceeded {
		t.Fatalf("due before max.compaction.lag.ms: %+v", c3)
	}
	c3 := l.Cleanable(timeMs(now+61_000), l.LogEndOffset())
	if !c3.Due || !c3.MaxLagExceeded {
		t.Fatalf("not due after max.compaction.lag.ms: %+v", c3)
	}
	// The background cleaner picks it.
	cl, err := NewCleaner(CleanerConfig{}.Defaults(), testLogger(t), &fakeClock{t: timeMs(now + 61_000)})
	if err != nil {
		t.Fatal(err)
	}
	l.SetLastStableOffset(l.LogEndOffset())
	cl.Add(l)
	if !cl.cleanOnce(t.Context()) {
		t.Fatal("cleaner did not clean an overdue log")
	}
	if l.firstDirty() != l.active().base {
		t.Fatalf("cleaner point %d, want %d", l.firstDirty(), l.active().base)
	}
	checkLog(t, l, m, l.active().base)
	if cl.cleanOnce(t.Context()) {
		t.Fatal("cleaned a clean log")
	}
}

func TestCleanMaxCompactionLagRollsActiveSegment(t *testing.T) {
	clock := newClock()
	cfg := compactConfig()
	cfg.SegmentBytes = 1 << 20
	cfg.MaxCompactionLagMs = 1000
	l := openLog(t, t.TempDir(), cfg, nil, clock, false)
	defer l.Close()
	now := clock.Now().UnixMilli()
	mustAppend(t, l, makeBatch(1, 10, now), 0)
	mustAppend(t, l, makeBatch(1, 10, now+500), 0)
	if l.Segments() != 1 {
		t.Fatal("rolled early")
	}
	mustAppend(t, l, makeBatch(1, 10, now+1001), 0)
	if l.Segments() != 2 {
		t.Fatal("compacted log did not roll after max.compaction.lag.ms")
	}
}

func TestCleanMergesSegments(t *testing.T) {
	clock := newClock()
	cfg := compactConfig()
	cfg.SegmentBytes = 2048
	l := openLog(t, t.TempDir(), cfg, nil, clock, false)
	defer l.Close()
	m := newModel()
	fillLog(t, l, m, clock, 10, 40, 2, []batch.Codec{batch.CodecNone})
	before := l.Segments()
	st := mustClean(t, l, clock.Now().UnixMilli(), l.LogEndOffset())
	after := l.Segments()
	if after > before/4 || st.SegmentsWritten >= st.SegmentsCleaned {
		t.Fatalf("segments %d -> %d (%+v)", before, after, st)
	}
	for _, s := range l.segments() {
		if s.size.Load() > cfg.SegmentBytes {
			t.Fatalf("segment %d has %d bytes > segment.bytes", s.base, s.size.Load())
		}
	}
	checkLog(t, l, m, l.active().base)
	// The merged segments' index files are right: a reopen that trusts
	// them reads the same.
	dir := l.Dir()
	l.Close()
	l = openLog(t, dir, cfg, nil, clock, true)
	checkLog(t, l, m, l.active().base)
	for _, s := range l.segments()[:l.Segments()-1] {
		r, err := s.rebuildWith(s.size.Load(), true, int64(cfg.IndexIntervalBytes))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.ensureLoaded(); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(r.off) != fmt.Sprint(s.offIdx) {
			t.Fatalf("segment %d offset index %v, rebuilt %v", s.base, s.offIdx, r.off)
		}
		if r.validEnd != s.size.Load() {
			t.Fatalf("segment %d: valid prefix %d of %d", s.base, r.validEnd, s.size.Load())
		}
	}
}

func TestCleanMergeRespectsIndexSize(t *testing.T) {
	clock := newClock()
	cfg := compactConfig()
	cfg.SegmentBytes = 1 << 20
	cfg.SegmentIndexBytes = 4 * offEntrySize // at most 4 index entries per segment
	cfg.IndexIntervalBytes = 0               // an entry per batch after the first
	l := openLog(t, t.TempDir(), cfg, nil, clock, false)
	defer l.Close()
	m := newModel()
	for i := range 40 {
		m.appendRecs(t, l, batch.CodecNone, clock.Now().UnixMilli(), batch.BuildOptions{}, rec(fmt.Sprint("k", i), "v"))
	}
	before := l.Segments()
	mustClean(t, l, clock.Now().UnixMilli(), l.LogEndOffset())
	for _, s := range l.segments() {
		if err := s.ensureLoaded(); err != nil {
			t.Fatal(err)
		}
		if int64(len(s.offIdx))*offEntrySize > int64(cfg.SegmentIndexBytes) {
			t.Fatalf("segment %d: %d index entries", s.base, len(s.offIdx))
		}
	}
	if l.Segments() != before {
		t.Fatalf("segments %d -> %d: nothing was removable, so nothing should merge past the index limit", before, l.Segments())
	}
	checkLog(t, l, m, l.active().base)
}

func TestCleanKeepsTransactionMarkers(t *testing.T) {
	clock := newClock()
	cfg := compactConfig()
	l := openLog(t, t.TempDir(), cfg, nil, clock, false)
	defer l.Close()
	m := newModel()
	now := clock.Now().UnixMilli()
	txn := func(pid int64, recs ...batch.Record) {
		m.appendRecs(t, l, batch.CodecZstd, now, batch.BuildOptions{ProducerID: pid, ProducerEpoch: 3, Transactional: true}, recs...)
	}
	marker := func(pid int64, commit bool) {
		mustAppend(t, l, batch.BuildControlBatch(pid, 3, commit, 0, now), 1)
	}
	m.appendRecs(t, l, batch.CodecNone, now, batch.BuildOptions{}, rec("a", "plain-1"), rec("b", "plain-1"))
	txn(7, rec("a", "committed"))
	txn(8, rec("b", "aborted"))
	marker(7, true)
	marker(8, false)
	m.appendRecs(t, l, batch.CodecNone, now, batch.BuildOptions{}, rec("c", "plain-c"))
	txn(9, rec("c", "open-then-committed"))
	for i := range 60 {
		m.appendRecs(t, l, batch.CodecNone, now, batch.BuildOptions{}, rec(fmt.Sprint("f", i%3), value(i, 0)))
	}
	forceRoll(t, l)
	marker(9, true) // past the bound: found by the tail scan
	m.appendRecs(t, l, batch.CodecNone, now, batch.BuildOptions{}, rec("z", "tail"))
	_, before := readLog(t, l)
	var markers []batch.Header
	for _, h := range before {
		if h.IsControl() {
			markers = append(markers, h)
		}
	}
	mustClean(t, l, now, l.LogEndOffset())
	recs, after := readLog(t, l)
	var kept []batch.Header
	for _, h := range after {
		if h.IsControl() {
			kept = append(kept, h)
		}
	}
	if fmt.Sprint(kept) != fmt.Sprint(markers) {
		t.Fatalf("markers before %v, after %v", markers, kept)
	}
	vals := map[string][]string{}
	for _, r := range recs {
		vals[r.key] = append(vals[r.key], r.value)
	}
	// a: the committed transactional value superseded the plain one.
	// b: the aborted value must not supersede the committed plain one.
	if fmt.Sprint(vals["a"]) != "[committed]" || fmt.Sprint(vals["b"]) != "[plain-1 aborted]" || fmt.Sprint(vals["c"]) != "[open-then-committed]" {
		t.Fatalf("a %v, b %v, c %v", vals["a"], vals["b"], vals["c"])
	}
	for _, r := range recs {
		if r.batch.HasProducerID() && (r.batch.ProducerEpoch != 3 || !r.batch.IsTransactional()) {
			t.Fatalf("producer fields lost: %+v", r.batch)
		}
	}
}

func TestCleanRetainsLastBatchOfProducer(t *testing.T) {
	clock := newClock()
	cfg := compactConfig()
	l := openLog(t, t.TempDir(), cfg, nil, clock, false)
	defer l.Close()
	m := newModel()
	now := clock.Now().UnixMilli()
	idem := batch.BuildOptions{ProducerID: 42, ProducerEpoch: 5, BaseSequence: 17, Idempotent: true, PartitionLeaderEpoch: 1}
	// Producer 42's only batch: both records get superseded.
	info := m.appendRecs(t, l, batch.CodecGzip, now, idem, rec("x", "1"), rec("y", "1"), rec("w", "1"))
	// An older batch of producer 43, superseded too, followed by a later
	// batch of 43: that one is not the last.
	old43 := m.appendRecs(t, l, batch.CodecNone, now, batch.BuildOptions{ProducerID: 43, Idempotent: true}, rec("p", "1"))
	m.appendRecs(t, l, batch.CodecNone, now, batch.BuildOptions{}, rec("x", "2"), rec("y", "2"), rec("w", "2"), rec("p", "2"))
	m.appendRecs(t, l, batch.CodecNone, now, batch.BuildOptions{ProducerID: 43, Idempotent: true, BaseSequence: 1}, rec("q", "1"))
	forceRoll(t, l)
	m.appendRecs(t, l, batch.CodecNone, now, batch.BuildOptions{}, rec("tail", "1"))
	st := mustClean(t, l, now, l.LogEndOffset())
	if st.EmptyBatchesRetained != 1 || st.BatchesRemoved != 1 {
		t.Fatalf("stats %+v", st)
	}
	_, hs := readLog(t, l)
	var empty *batch.Header
	for i, h := range hs {
		if h.BaseOffset == old43.BaseOffset {
			t.Fatalf("producer 43's superseded, not-last batch kept: %+v", h)
		}
		if h.ProducerID == 42 {
			empty = &hs[i]
		}
	}
	if empty == nil {
		t.Fatal("producer 42's last batch dropped")
	}
	if empty.NumRecords != 0 || empty.BaseOffset != info.BaseOffset || empty.LastOffsetDelta != 2 ||
		empty.ProducerEpoch != 5 || empty.BaseSequence != 17 || empty.PartitionLeaderEpoch != 1 || empty.Codec() != batch.CodecNone {
		t.Fatalf("empty batch %+v", *empty)
	}
	if empty.LastSequence() != 19 {
		t.Fatalf("last sequence %d", empty.LastSequence())
	}
	// It survives a pass as it is, and the log reopens with it.
	mustClean(t, l, now, l.LogEndOffset())
	if _, hs2 := readLog(t, l); fmt.Sprint(hs2) != fmt.Sprint(hs) {
		t.Fatalf("second pass changed batches:\n%v\n%v", hs, hs2)
	}
	// Once producer 42 writes again, the empty batch is not its last.
	m.appendRecs(t, l, batch.CodecNone, now, idem, rec("n", "1"))
	forceRoll(t, l)
	mustClean(t, l, now, l.LogEndOffset())
	_, hs = readLog(t, l)
	for _, h := range hs {
		if h.BaseOffset == info.BaseOffset {
			t.Fatalf("empty batch kept after a later batch of its producer: %+v", h)
		}
	}
	checkLog(t, l, m, l.active().base)
}

func TestCleanReadAndTimestampLookup(t *testing.T) {
	clock := newClock()
	cfg := compactConfig()
	l := openLog(t, t.TempDir(), cfg, nil, clock, false)
	defer l.Close()
	m := newModel()
	t0 := int64(1_000_000)
	for i := range 100 {
		m.appendRecs(t, l, batch.CodecNone, t0+int64(10*i), batch.BuildOptions{}, rec(fmt.Sprint("k", i%10), value(i, 0)), rec(fmt.Sprint("u", i), "x"))
	}
	forceRoll(t, l)
	mustClean(t, l, clock.Now().UnixMilli(), l.LogEndOffset())
	recs := checkLog(t, l, m, l.LogEndOffset())
	// Every retained record is found by its timestamp; a timestamp of a
	// removed record finds the next retained one.
	for i, r := range recs {
		off, ts, ok := l.OffsetForTimestamp(r.ts)
		if !ok || off != r.offset || ts != r.ts {
			t.Fatalf("OffsetForTimestamp(%d) = %d %d %v, want %d", r.ts, off, ts, ok, r.offset)
		}
		if i > 0 && recs[i-1].ts+1 < r.ts {
			if off, _, _ := l.OffsetForTimestamp(recs[i-1].ts + 1); off != r.offset {
				t.Fatalf("OffsetForTimestamp(%d) = %d, want %d", recs[i-1].ts+1, off, r.offset)
			}
		}
	}
	// Reads from an offset in a gap start at the next batch holding it.
	_, hs := readLog(t, l)
	for o := l.LogStartOffset(); o < l.LogEndOffset(); o++ {
		res, err := l.Read(o, 1, l.LogEndOffset(), true)
		if err != nil {
			t.Fatal(err)
		}
		h, err := batch.ValidateStored(chunkBytes(t, res))
		want := hs[0]
		for _, w := range hs {
			if w.LastOffset() >= o {
				want = w
				break
			}
		}
		if err != nil || h.BaseOffset != want.BaseOffset {
			t.Fatalf("Read(%d): batch %+v, %v; want the one at %d", o, h, err, want.BaseOffset)
		}
	}
	if off, ts := l.MaxTimestamp(); off != recs[len(recs)-1].offset || ts != recs[len(recs)-1].ts {
		t.Fatalf("MaxTimestamp %d %d, last record %+v", off, ts, recs[len(recs)-1])
	}
}

func TestCleanOffsetMapCapCleansIncrementally(t *testing.T) {
	clock := newClock()
	cfg := compactConfig()
	l := openLog(t, t.TempDir(), cfg, nil, clock, false)
	defer l.Close()
	m := newModel()
	fillLog(t, l, m, clock, 300, 3, 10, []batch.Codec{batch.CodecSnappy})
	active := l.active().base
	var passes int
	for l.firstDirty() < active {
		st, err := l.clean(t.Context(), clock.Now(), l.LogEndOffset(), nil, 100)
		if err != nil || st.Aborted {
			t.Fatal(err, st)
		}
		if st.MapEntries > 100 || st.EndOffset <= st.FirstDirtyOffset {
			t.Fatalf("pass %d: %+v", passes, st)
		}
		checkLog(t, l, m, 0)
		if passes++; passes > 50 {
			t.Fatal("no progress")
		}
	}
	if passes < 3 {
		t.Fatalf("%d passes with a 100-key map over 300 keys", passes)
	}
	// After the last pass everything below the active segment is unique.
	mustClean(t, l, clock.Now().UnixMilli(), l.LogEndOffset())
	checkLog(t, l, m, active)
}

func TestCleanTruncationMovesCleanerPoint(t *testing.T) {
	clock := newClock()
	cfg := compactConfig()
	dir := t.TempDir()
	l := openLog(t, dir, cfg, nil, clock, false)
	defer func() { l.Close() }()
	m := newModel()
	fillLog(t, l, m, clock, 50, 4, 5, []batch.Codec{batch.CodecNone})
	st := mustClean(t, l, clock.Now().UnixMilli(), l.LogEndOffset())
	cut := st.EndOffset - 20
	if err := l.Truncate(cut); err != nil {
		t.Fatal(err)
	}
	if l.cleaning.point.Load() > cut {
		t.Fatalf("cleaner point %d after truncating to %d", l.cleaning.point.Load(), cut)
	}
	l.Close()
	l = openLog(t, dir, cfg, nil, clock, false)
	if p := l.cleaning.point.Load(); p > cut {
		t.Fatalf("checkpointed cleaner point %d after truncating to %d", p, cut)
	}
}

func TestCleanNotCompacted(t *testing.T) {
	l := openLog(t, t.TempDir(), testConfig(), nil, newClock(), false)
	defer l.Close()
	if _, err := l.Clean(time.Now(), 0); !errors.Is(err, ErrNotCompacted) {
		t.Fatalf("Clean on a delete-policy log: %v", err)
	}
	if c := l.Cleanable(time.Now(), math.MaxInt64); c.Due {
		t.Fatalf("delete-policy log due: %+v", c)
	}
}

func TestCleanConfigValidate(t *testing.T) {
	good := compactConfig()
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mut := range map[string]func(*Config){
		"delete.retention.ms":       func(c *Config) { c.DeleteRetentionMs = -1 },
		"min.cleanable.dirty.ratio": func(c *Config) { c.MinCleanableDirtyRatio = 1.5 },
		"nan ratio":                 func(c *Config) { c.MinCleanableDirtyRatio = math.NaN() },
		"min.compaction.lag.ms":     func(c *Config) { c.MinCompactionLagMs = -1 },
		"max.compaction.lag.ms":     func(c *Config) { c.MaxCompactionLagMs = 0 },
		"min > max lag":             func(c *Config) { c.MinCompactionLagMs, c.MaxCompactionLagMs = 10, 5 },
	} {
		c := good
		mut(&c)
		if c.Validate() == nil {
			t.Errorf("%s: invalid config accepted", name)
		}
	}
	d := Config{}.Defaults()
	if d.DeleteRetentionMs != 86400000 || d.MinCleanableDirtyRatio != 0.5 || d.MinCompactionLagMs != 0 || d.MaxCompactionLagMs != math.MaxInt64 || d.Compact {
		t.Fatalf("defaults %+v", d)
	}
	if err := (CleanerConfig{}).Defaults().Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []CleanerConfig{{0, 1, 1 << 20}, {1, -1, 1 << 20}, {1, 1, 10}} {
		if c.Validate() == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	if cd := (CleanerConfig{}).Defaults(); cd.BackoffMs != 15000 || cd.DedupeBufferSize != 128<<20 {
		t.Fatalf("cleaner defaults %+v", cd)
	}
}

func TestCleanCheckpointFile(t *testing.T) {
	clock := newClock()
	cfg := compactConfig()
	dir := t.TempDir()
	l := openLog(t, dir, cfg, nil, clock, false)
	m := newModel()
	fillLog(t, l, m, clock, 30, 5, 5, []batch.Codec{batch.CodecNone})
	st := mustClean(t, l, clock.Now().UnixMilli(), l.LogEndOffset())
	l.Close()
	b, err := os.ReadFile(filepath.Join(dir, cleanerCheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("0\n1\n%d -1\n", st.EndOffset); string(b) != want {
		t.Fatalf("checkpoint %q, want %q", b, want)
	}
	// A malformed checkpoint is ignored: the next pass starts at the log
	// start, which is always correct.
	if err := os.WriteFile(filepath.Join(dir, cleanerCheckpointFile), []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	l = openLog(t, dir, cfg, nil, clock, true)
	defer l.Close()
	if l.firstDirty() != 0 {
		t.Fatalf("first dirty %d with a bad checkpoint", l.firstDirty())
	}
	mustClean(t, l, clock.Now().UnixMilli(), l.LogEndOffset())
	checkLog(t, l, m, l.active().base)
}

// forceRoll rolls the active segment, which must not be empty.
func forceRoll(t testing.TB, l *Log) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.active().size.Load() == 0 {
		return
	}
	if _, err := l.roll(l.LogEndOffset(), l.clock.Now()); err != nil {
		t.Fatal(err)
	}
}
