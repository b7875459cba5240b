package log

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/samsa-streaming/samsa/internal/batch"
	"github.com/samsa-streaming/samsa/internal/fs"
)

func TestEpochCheckpoint(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, testConfig(), nil, newClock(), false)
	for _, e := range []int32{0, 0, 1, 1, 3, 2 /* older: ignored */, 3} {
		mustAppend(t, l, makeBatch(5, 10, 1), e)
	}
	b, err := os.ReadFile(filepath.Join(dir, epochCheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	if want := "0\n3\n0 0\n1 10\n3 20\n"; string(b) != want {
		t.Fatalf("checkpoint %q, want %q", b, want)
	}
	if l.LatestEpoch() != 3 {
		t.Fatalf("LatestEpoch %d", l.LatestEpoch())
	}
	leo := l.LogEndOffset()
	for _, c := range []struct {
		req     int32
		epoch   int32
		endOff  int64
		comment string
	}{
		{3, 3, leo, "latest: log end offset"},
		{0, 0, 10, "start of the next epoch"},
		{1, 1, 20, ""},
		{2, 1, 20, "unknown epoch between known ones: floor epoch"},
		{4, -1, -1, "newer than all"},
		{-1, -1, -1, "undefined"},
	} {
		e, o := l.EndOffsetForEpoch(c.req)
		if e != c.epoch || o != c.endOff {
			t.Fatalf("EndOffsetForEpoch(%d) = (%d, %d), want (%d, %d) %s", c.req, e, o, c.epoch, c.endOff, c.comment)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	// Entries above the recovered LEO go on open.
	os.Truncate(segmentPath(dir, 0, logSuffix), l.segments()[0].size.Load()-10)
	l = openLog(t, dir, testConfig(), nil, newClock(), false)
	defer l.Close()
	if got := l.Epochs(); len(got) != 3 || got[2] != (EpochEntry{3, 20}) {
		t.Fatalf("epochs %v", got)
	}
	b, _ = os.ReadFile(filepath.Join(dir, epochCheckpointFile))
	if want := "0\n3\n0 0\n1 10\n3 20\n"; string(b) != want {
		t.Fatalf("checkpoint %q", b)
	}
	l.Truncate(20)
	if l.LatestEpoch() != 1 {
		t.Fatalf("truncate kept epoch %d", l.LatestEpoch())
	}
	if e, o := l.EndOffsetForEpoch(3); e != -1 || o != -1 {
		t.Fatalf("(%d,%d)", e, o)
	}
	// Empty cache: earlier epoch than any known.
	c := &epochCache{entries: []EpochEntry{{5, 100}, {7, 200}}}
	if e, o := c.endOffsetFor(4, 300); e != 4 || o != 100 {
		t.Fatalf("below first: (%d,%d)", e, o)
	}
	if !c.truncateFromStart(150) || c.entries[0] != (EpochEntry{5, 150}) || len(c.entries) != 2 {
		t.Fatalf("truncateFromStart: %v", c.entries)
	}
	// A malformed checkpoint fails the open rather than losing epochs.
	os.WriteFile(filepath.Join(dir, epochCheckpointFile), []byte("0\n2\n1 5\n"), 0o644)
	if _, err := Open(context.Background(), dir, testConfig(), Options{}); err == nil {
		t.Fatal("opened with a malformed epoch checkpoint")
	}
}

func TestOffsetForTimestamp(t *testing.T) {
	cfg := testConfig()
	cfg.SegmentBytes = 3000
	cfg.IndexIntervalBytes = 500
	l := openLog(t, t.TempDir(), cfg, nil, newClock(), false)
	defer l.Close()
	type rec struct{ off, ts int64 }
	var recs []rec
	rng := rand.New(rand.NewPCG(3, 4))
	ts := int64(1000)
	for i := range 200 {
		n := 1 + rng.IntN(4)
		base := ts
		if i%17 == 0 {
			base -= 300 // out of order timestamps happen
		}
		info := mustAppend(t, l, makeBatch(n, 60, base), 0)
		for j := range n {
			recs = append(recs, rec{info.BaseOffset + int64(j), base + int64(j)})
		}
		ts += int64(n) + int64(rng.IntN(20))
	}
	want := func(target int64) (int64, int64, bool) {
		// Kafka: the first batch whose max timestamp >= target, then the
		// first record in it with timestamp >= target.
		var bmax = map[int64]int64{}
		var order []int64
		var batchOf = map[int64]int64{}
		res, _ := l.Read(0, 1<<30, l.LogEndOffset(), true)
		for _, h := range splitBatches(t, chunkBytes(t, res)) {
			bmax[h.BaseOffset] = h.MaxTimestamp
			order = append(order, h.BaseOffset)
			for o := h.BaseOffset; o <= h.LastOffset(); o++ {
				batchOf[o] = h.BaseOffset
			}
		}
		for _, b := range order {
			if bmax[b] >= target {
				for _, r := range recs {
					if batchOf[r.off] == b && r.ts >= target {
						return r.off, r.ts, true
					}
				}
			}
		}
		return -1, -1, false
	}
	for target := int64(0); target < ts+10; target += 7 {
		o, ts2, ok := l.OffsetForTimestamp(target)
		wo, wts, wok := want(target)
		if o != wo || ts2 != wts || ok != wok {
			t.Fatalf("OffsetForTimestamp(%d) = (%d,%d,%v), want (%d,%d,%v)", target, o, ts2, ok, wo, wts, wok)
		}
	}
	// The log start offset bounds the answer.
	if err := l.SetLogStartOffset(recs[300].off); err != nil {
		t.Fatal(err)
	}
	if o, _, ok := l.OffsetForTimestamp(0); !ok || o != recs[300].off {
		t.Fatalf("after DeleteRecords: %d %v", o, ok)
	}
	off, mts := l.MaxTimestamp()
	var best rec
	for _, r := range recs {
		if r.ts > best.ts {
			best = r
		}
	}
	if off != best.off || mts != best.ts {
		t.Fatalf("MaxTimestamp (%d,%d), want (%d,%d)", off, mts, best.off, best.ts)
	}
}

func TestTimestampCompressedAndLogAppendTime(t *testing.T) {
	l := openLog(t, t.TempDir(), testConfig(), nil, newClock(), false)
	defer l.Close()
	mustAppend(t, l, makeBatch(3, 10, 100), 0)
	// A batch whose records do not decompress answers with its base offset
	// and max timestamp.
	mustAppend(t, l, makeBatchAttrs(3, 10, 200, int16(batch.CodecLZ4)), 0)
	lat := makeBatch(3, 10, 300)
	batch.SetLogAppendTime(lat, 400)
	mustAppend(t, l, lat, 0)
	if o, ts, ok := l.OffsetForTimestamp(201); !ok || o != 3 || ts != 202 {
		t.Fatalf("undecodable compressed batch: (%d,%d,%v)", o, ts, ok)
	}
	if o, ts, ok := l.OffsetForTimestamp(350); !ok || o != 6 || ts != 400 {
		t.Fatalf("log append time: (%d,%d,%v)", o, ts, ok)
	}
	if _, _, ok := l.OffsetForTimestamp(401); ok {
		t.Fatal("found a timestamp past the max")
	}
	if o, ts := l.MaxTimestamp(); o != 6 || ts != 400 {
		t.Fatalf("MaxTimestamp (%d,%d)", o, ts)
	}
	empty := openLog(t, t.TempDir(), testConfig(), nil, newClock(), false)
	defer empty.Close()
	if o, ts := empty.MaxTimestamp(); o != -1 || ts != -1 {
		t.Fatalf("empty MaxTimestamp (%d,%d)", o, ts)
	}
}

func TestConcurrentReadersDuringAppends(t *testing.T) {
	cfg := testConfig()
	cfg.SegmentBytes = 8000
	cfg.IndexIntervalBytes = 300
	cfg.RetentionBytes = 40000
	cfg.FileDeleteDelayMs = 0
	clock := newClock()
	l := openLog(t, t.TempDir(), cfg, nil, clock, false)
	defer l.Close()
	const total = 1500
	var done atomic.Bool
	var wg sync.WaitGroup
	errc := make(chan error, 16)
	for r := range 6 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(r), 9))
			for !done.Load() {
				leo := l.LogEndOffset()
				lso := l.LogStartOffset()
				if leo <= lso { // retention moved the start since leo was read
					continue
				}
				off := lso + rng.Int64N(leo-lso+1)
				res, err := l.Read(off, int32(100+rng.IntN(20000)), leo, true)
				if errors.Is(err, ErrOffsetOutOfRange) {
					continue // retention moved the start
				}
				if err != nil {
					errc <- err
					return
				}
				var prev int64 = -1
			chunks:
				for _, c := range res.Chunks {
					b := make([]byte, c.Len)
					if _, err := c.File.ReadAt(b, c.Pos); err != nil {
						break chunks // segment removed by retention (zero delay)
					}
					for len(b) > 0 {
						hh := must(batch.ParseHeader(b))
						h, err := batch.Validate(b[:min(int64(len(b)), hh.Size())])
						if err != nil {
							errc <- err
							return
						}
						if h.BaseOffset >= leo || prev >= 0 && h.BaseOffset != prev {
							errc <- fmt.Errorf("batch %d: LEO %d, expected %d", h.BaseOffset, leo, prev)
							return
						}
						prev = h.NextOffset()
						b = b[h.Size():]
					}
				}
				l.OffsetForTimestamp(rng.Int64N(total))
				l.MaxTimestamp()
				l.EndOffsetForEpoch(0)
				l.Size()
			}
		})
	}
	for i := range total {
		if _, err := l.Append(makeBatch(1+i%3, 80, int64(i)), int32(i/500)); err != nil {
			t.Fatal(err)
		}
		if i%100 == 0 {
			if _, err := l.ApplyRetention(clock.Now()); err != nil {
				t.Fatal(err)
			}
		}
	}
	done.Store(true)
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
}

func must(h batch.Header, err error) batch.Header {
	if err != nil {
		return batch.Header{Length: 1 << 30}
	}
	return h
}

func TestDeleteAndClose(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "topic-0")
	l := openLog(t, dir, testConfig(), nil, newClock(), false)
	mustAppend(t, l, makeBatch(1, 10, 1), 0)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := l.Append(makeBatch(1, 10, 1), 0); !errors.Is(err, ErrClosed) {
		t.Fatalf("append after close: %v", err)
	}
	if _, err := l.Read(0, 10, 1, true); !errors.Is(err, ErrClosed) {
		t.Fatalf("read after close: %v", err)
	}
	for _, f := range []string{logStartCheckpointFile, recoveryCheckpointFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatalf("%s not written at close: %v", f, err)
		}
	}
	l = openLog(t, dir, testConfig(), fs.NewFaulty(fs.OS()), newClock(), true)
	if err := l.Delete(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("dir still there: %v", err)
	}
}

// FuzzRecover feeds arbitrary bytes as the only segment file, preceded by
// a few valid batches, and checks that Open never panics and keeps a valid
// prefix: every batch readable, offsets contiguous, appends continuing.
func FuzzRecover(f *testing.F) {
	valid := append(makeBatch(2, 20, 5), makeBatch(1, 3, 9)...)
	batch.SetBaseOffset(valid[len(valid)-len(makeBatch(1, 3, 9)):], 2)
	f.Add([]byte{}, false)
	f.Add(valid, false)
	f.Add(append(append([]byte{}, valid...), 0, 0, 0), true)
	f.Add(valid[:len(valid)-7], false)
	f.Add(make([]byte, 200), true)
	f.Fuzz(func(t *testing.T, data []byte, clean bool) {
		dir := t.TempDir()
		if err := os.WriteFile(segmentPath(dir, 0, logSuffix), data, 0o644); err != nil {
			t.Fatal(err)
		}
		l, err := Open(context.Background(), dir, testConfig(), Options{CleanShutdown: clean})
		if err != nil {
			return // an I/O error is acceptable; a panic is not
		}
		defer l.Close()
		leo := l.LogEndOffset()
		if l.Size() > int64(len(data)) {
			t.Fatalf("grew: %d > %d", l.Size(), len(data))
		}
		b := make([]byte, l.Size())
		if _, err := l.active().log.ReadAt(b, 0); err != nil && len(b) > 0 {
			t.Fatal(err)
		}
		if string(b) != string(data[:len(b)]) {
			t.Fatal("recovered bytes are not a prefix of the file")
		}
		var next int64
		if !clean {
			for len(b) > 0 {
				h, err := batch.ParseHeader(b)
				if err != nil || h.Size() > int64(len(b)) || batch.CheckCRC(b[:h.Size()]) != nil || h.Magic != 2 {
					t.Fatalf("invalid batch kept at %d: %v", len(data)-len(b), err)
				}
				if h.BaseOffset < next {
					t.Fatalf("offsets go backwards: %d < %d", h.BaseOffset, next)
				}
				next = h.NextOffset()
				b = b[h.Size():]
			}
			if leo != next {
				t.Fatalf("LEO %d, want %d", leo, next)
			}
		}
		info, err := l.Append(makeBatch(1, 1, 1), 0)
		if err != nil || info.BaseOffset != leo {
			t.Fatalf("append after recovery: %+v %v", info, err)
		}
	})
}

// A compressed batch is decompressed for the exact record, as Kafka's
// LogSegment.findOffsetByTimestamp and RecordBatch.offsetOfMaxTimestamp
// do: 100 records in one batch of each codec, with increasing timestamps
// except the max in the middle.
func TestTimestampExactRecordInCompressedBatch(t *testing.T) {
	for _, codec := range []batch.Codec{batch.CodecGzip, batch.CodecSnappy, batch.CodecLZ4, batch.CodecZstd} {
		l := openLog(t, t.TempDir(), testConfig(), nil, newClock(), false)
		mustAppend(t, l, makeBatch(7, 10, 100), 0) // offsets 0-6, timestamps 100-106
		recs := make([]batch.Record, 100)
		for i := range recs {
			recs[i] = batch.Record{TimestampDelta: int64(10 * i), Value: []byte(fmt.Sprint("v", i))}
		}
		recs[60].TimestampDelta = 5000 // the max, not the last record
		b, err := batch.Build(codec, recs, batch.BuildOptions{BaseTimestamp: 1000})
		if err != nil {
			t.Fatal(err)
		}
		mustAppend(t, l, b, 0) // offsets 7-106
		for _, c := range []struct{ target, off, ts int64 }{
			{1000 + 500, 7 + 50, 1500}, // the 51st record's timestamp
			{1000 + 495, 7 + 50, 1500}, // between two records
			{1000, 7, 1000},
			{1000 + 600, 7 + 60, 6000}, // the max record comes first in offset order
			{1000 + 610, 7 + 60, 6000},
			{1000 + 595, 7 + 60, 6000},
			{1000 + 590, 7 + 59, 1590},
			{1000 + 1991, 7 + 60, 6000}, // only the max record is at or after it
		} {
			if o, ts, ok := l.OffsetForTimestamp(c.target); !ok || o != c.off || ts != c.ts {
				t.Errorf("%v: OffsetForTimestamp(%d) = (%d,%d,%v), want (%d,%d)", codec, c.target, o, ts, ok, c.off, c.ts)
			}
		}
		if o, ts := l.MaxTimestamp(); o != 7+60 || ts != 6000 {
			t.Errorf("%v: MaxTimestamp = (%d,%d), want (67,6000)", codec, o, ts)
		}
		l.Close()
	}
}
