package log

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/batch"
)

func TestConfigValidate(t *testing.T) {
	if err := testConfig().Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	c := testConfig()
	c.SegmentBytes = 1 << 40
	c.FlushMessages = 0
	c.RetentionMs = -2
	err := c.Validate()
	for _, name := range []string{"segment.bytes", "flush.messages", "retention.ms"} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Fatalf("Validate = %v, want mention of %s", err, name)
		}
	}
	if _, err := Open(t.Context(), t.TempDir(), Config{}, Options{}); err == nil {
		t.Fatal("Open accepted a zero config")
	}
}

func TestAppendRead(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, testConfig(), nil, newClock(), false)
	defer l.Close()
	var infos []AppendInfo
	var pos int64
	for i := range 50 {
		b := makeBatch(1+i%5, 100, 1000+int64(i))
		info := mustAppend(t, l, b, 0)
		if info.Position != pos {
			t.Fatalf("batch %d at position %d, want %d", i, info.Position, pos)
		}
		if i > 0 && info.BaseOffset != infos[i-1].LastOffset+1 {
			t.Fatalf("batch %d base %d after last %d", i, info.BaseOffset, infos[i-1].LastOffset)
		}
		h, _ := batch.ParseHeader(b)
		if h.BaseOffset != info.BaseOffset || h.PartitionLeaderEpoch != 0 {
			t.Fatalf("batch not patched in place: %+v", h)
		}
		if err := batch.CheckCRC(b); err != nil {
			t.Fatalf("patching broke the CRC: %v", err)
		}
		pos += int64(len(b))
		infos = append(infos, info)
	}
	leo := l.LogEndOffset()
	if leo != infos[len(infos)-1].LastOffset+1 {
		t.Fatalf("LEO %d", leo)
	}
	if l.Size() != pos {
		t.Fatalf("Size %d, want %d", l.Size(), pos)
	}
	all := readAllBatches(t, l)
	if len(all) != 50 {
		t.Fatalf("read %d batches", len(all))
	}

	// Offset in the middle of a batch returns that whole batch.
	mid := infos[10].BaseOffset + (infos[10].LastOffset-infos[10].BaseOffset)/2
	res, err := l.Read(mid, 1<<20, leo, false)
	if err != nil {
		t.Fatal(err)
	}
	hs := splitBatches(t, chunkBytes(t, res))
	if hs[0].BaseOffset != infos[10].BaseOffset || len(res.Chunks) != 1 || res.Chunks[0].Pos != infos[10].Position {
		t.Fatalf("read from %d starts at %d (pos %d)", mid, hs[0].BaseOffset, res.Chunks[0].Pos)
	}
	// maxOffset is exclusive: the batch starting at it is not returned.
	res, _ = l.Read(infos[10].BaseOffset, 1<<20, infos[13].BaseOffset, false)
	if hs := splitBatches(t, chunkBytes(t, res)); len(hs) != 3 || hs[2].BaseOffset != infos[12].BaseOffset {
		t.Fatalf("maxOffset: got %d batches", len(hs))
	}
	// maxBytes: only whole batches that fit.
	sz := infos[11].Position - infos[10].Position
	res, _ = l.Read(infos[10].BaseOffset, int32(sz+sz/2), leo, false)
	if res.Size != sz {
		t.Fatalf("maxBytes read %d bytes, want %d", res.Size, sz)
	}
	// A first batch larger than maxBytes: nothing, unless minOneBatch.
	res, _ = l.Read(infos[10].BaseOffset, 10, leo, false)
	if res.Size != 0 || len(res.Chunks) != 0 {
		t.Fatalf("read %d bytes with a too small maxBytes", res.Size)
	}
	res, _ = l.Read(infos[10].BaseOffset, 10, leo, true)
	if res.Size != sz {
		t.Fatalf("minOneBatch read %d bytes, want %d", res.Size, sz)
	}
	// At the end: empty; past it or below the start: out of range.
	if res, err := l.Read(leo, 100, leo, true); err != nil || res.Size != 0 {
		t.Fatalf("Read(LEO) = %+v, %v", res, err)
	}
	if _, err := l.Read(leo+1, 100, leo, true); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("Read(LEO+1) err = %v", err)
	}
	if _, err := l.Read(-1, 100, leo, true); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("Read(-1) err = %v", err)
	}
	// Not exactly one batch.
	b := makeBatch(2, 10, 5)
	if _, err := l.Append(b[:len(b)-1], 0); !errors.Is(err, ErrInvalidBatch) {
		t.Fatalf("truncated batch: %v", err)
	}
	if _, err := l.Append(append(b, b...), 0); !errors.Is(err, ErrInvalidBatch) {
		t.Fatalf("two batches: %v", err)
	}
}

func TestIndexLookupsAcrossManyBatches(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig()
	cfg.IndexIntervalBytes = 1000
	l := openLog(t, dir, cfg, nil, newClock(), false)
	var infos []AppendInfo
	for i := range 2000 {
		infos = append(infos, mustAppend(t, l, makeBatch(1+i%7, 40+i%200, int64(i*10)), 0))
	}
	leo := l.LogEndOffset()
	check := func(l *Log) {
		t.Helper()
		for i, info := range infos {
			for _, off := range []int64{info.BaseOffset, info.LastOffset} {
				res, err := l.Read(off, 1, leo, true)
				if err != nil {
					t.Fatal(err)
				}
				if len(res.Chunks) != 1 || res.Chunks[0].Pos != info.Position {
					t.Fatalf("batch %d: offset %d read at %+v, want position %d", i, off, res.Chunks, info.Position)
				}
			}
		}
	}
	check(l)
	s := l.active()
	if n := len(s.offIdx); n < 100 {
		t.Fatalf("only %d index entries", n)
	}
	// Entries are spaced by more than the interval, as Kafka spaces them.
	for i := 1; i < len(s.offIdx); i++ {
		if d := s.offIdx[i].pos - s.offIdx[i-1].pos; d <= 1000 {
			t.Fatalf("entries %d and %d only %d bytes apart", i-1, i, d)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	// The files hold exactly the entries, in Kafka's format.
	ib, err := os.ReadFile(segmentPath(dir, 0, indexSuffix))
	if err != nil {
		t.Fatal(err)
	}
	if len(ib) != len(s.offIdx)*offEntrySize {
		t.Fatalf(".index is %d bytes for %d entries", len(ib), len(s.offIdx))
	}
	ents, err := decodeOffIndex(ib, l.Size())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		// Every entry names the last offset of the batch at its position.
		found := false
		for _, info := range infos {
			if info.Position == int64(e.pos) {
				found = info.LastOffset == int64(e.rel)
			}
		}
		if !found {
			t.Fatalf("entry %+v does not match a batch", e)
		}
	}
	tb, _ := os.ReadFile(segmentPath(dir, 0, timeIndexSuffix))
	tents, err := decodeTimeIndex(tb)
	if err != nil || len(tents) == 0 {
		t.Fatalf("time index: %d entries, %v", len(tents), err)
	}
	if last := tents[len(tents)-1]; last.ts != infos[len(infos)-1].MaxTimestamp || int64(last.rel) != infos[len(infos)-1].LastOffset {
		t.Fatalf("last time entry %+v, want the max timestamp (final entry at close)", last)
	}
	for _, clean := range []bool{true, false} {
		l2 := openLog(t, dir, cfg, nil, newClock(), clean)
		check(l2)
		if l2.LogEndOffset() != leo {
			t.Fatalf("reopened LEO %d, want %d", l2.LogEndOffset(), leo)
		}
		l2.Close()
	}
}

func TestReadJumpsAndSpansSegments(t *testing.T) {
	cfg := testConfig()
	cfg.SegmentBytes = 20000
	cfg.IndexIntervalBytes = 0
	l := openLog(t, t.TempDir(), cfg, nil, newClock(), false)
	defer l.Close()
	for i := range 300 {
		mustAppend(t, l, makeBatch(3, 200, int64(i)), 0)
	}
	if l.Segments() < 5 {
		t.Fatalf("%d segments", l.Segments())
	}
	res, err := l.Read(0, 1<<30, l.LogEndOffset(), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Chunks) != l.Segments() {
		t.Fatalf("%d chunks for %d segments", len(res.Chunks), l.Segments())
	}
	if res.Size != l.Size() {
		t.Fatalf("read %d of %d bytes", res.Size, l.Size())
	}
	hs := splitBatches(t, chunkBytes(t, res))
	if len(hs) != 300 {
		t.Fatalf("%d batches", len(hs))
	}
	// Every budget returns the longest whole-batch prefix that fits.
	sizes := make([]int64, len(hs))
	for i, h := range hs {
		sizes[i] = h.Size()
	}
	for _, budget := range []int64{1, 500, 5000, 19999, 20000, 45678, 100000} {
		var want int64
		for _, s := range sizes {
			if want+s > budget {
				break
			}
			want += s
		}
		res, err := l.Read(0, int32(budget), l.LogEndOffset(), false)
		if err != nil || res.Size != want {
			t.Fatalf("budget %d: read %d, want %d (%v)", budget, res.Size, want, err)
		}
	}
}

func TestRollBySize(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig()
	cfg.SegmentBytes = 4096
	l := openLog(t, dir, cfg, nil, newClock(), false)
	var bases []int64
	for i := range 40 {
		info := mustAppend(t, l, makeBatch(2, 300, int64(i)), 0)
		if info.Position == 0 {
			bases = append(bases, info.BaseOffset)
		}
	}
	if len(bases) != l.Segments() || len(bases) < 5 {
		t.Fatalf("bases %v, %d segments", bases, l.Segments())
	}
	for _, b := range bases {
		st, err := os.Stat(segmentPath(dir, b, logSuffix))
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() > cfg.SegmentBytes {
			t.Fatalf("segment %d is %d bytes", b, st.Size())
		}
	}
	l.flushWG.Wait() // rolls fsync in the background
	if rp := l.RecoveryPoint(); rp != bases[len(bases)-1] {
		t.Fatalf("recovery point %d after rolls, want %d", rp, bases[len(bases)-1])
	}
	readAllBatches(t, l)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	names := fmt.Sprintf("%020d.log", bases[1])
	if _, err := os.Stat(filepath.Join(dir, names)); err != nil {
		t.Fatalf("Kafka file name: %v", err)
	}
	l = openLog(t, dir, cfg, nil, newClock(), true)
	defer l.Close()
	if l.Segments() != len(bases) {
		t.Fatalf("reopened %d segments", l.Segments())
	}
	if len(readAllBatches(t, l)) != 40 {
		t.Fatal("lost batches")
	}
}

func TestRollByTime(t *testing.T) {
	cfg := testConfig()
	cfg.SegmentMs = 1000
	clock := newClock()
	l := openLog(t, t.TempDir(), cfg, nil, clock, false)
	defer l.Close()
	// With timestamps, the roll compares the incoming batch's max timestamp
	// with the segment's first batch's (Kafka).
	mustAppend(t, l, makeBatch(1, 10, 10_000), 0)
	mustAppend(t, l, makeBatch(1, 10, 10_900), 0)
	if l.Segments() != 1 {
		t.Fatal("rolled too early")
	}
	info := mustAppend(t, l, makeBatch(1, 10, 11_001), 0)
	if l.Segments() != 2 || info.Position != 0 {
		t.Fatalf("no roll: %d segments", l.Segments())
	}
	// Without timestamps, the wall clock since the segment was created.
	l2 := openLog(t, t.TempDir(), cfg, nil, clock, false)
	defer l2.Close()
	mustAppend(t, l2, makeBatch(1, 10, -1), 0)
	clock.Advance(500 * time.Millisecond)
	mustAppend(t, l2, makeBatch(1, 10, -1), 0)
	if l2.Segments() != 1 {
		t.Fatal("rolled before segment.ms")
	}
	clock.Advance(501 * time.Millisecond)
	mustAppend(t, l2, makeBatch(1, 10, -1), 0)
	if l2.Segments() != 2 {
		t.Fatal("no roll after segment.ms of wall time")
	}
	// SetConfig takes effect on the next append.
	cfg.SegmentMs = 1 << 40
	l2.SetConfig(cfg)
	clock.Advance(time.Hour)
	mustAppend(t, l2, makeBatch(1, 10, -1), 0)
	mustAppend(t, l2, makeBatch(1, 10, -1), 0)
	if l2.Segments() != 2 {
		t.Fatal("rolled despite the new segment.ms")
	}
}
