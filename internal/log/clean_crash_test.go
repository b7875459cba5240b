package log

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/batch"
	"github.com/samsa-streaming/samsa/internal/fs"
)

// buildCrashSource writes a log that a pass will clean, merge and drop
// expired tombstones from: a first pass left tombstones with a delete
// horizon, then more overwrites and deletes were appended.
func buildCrashSource(t *testing.T, dir string, cfg Config, clock *fakeClock) *model {
	l := openLog(t, dir, cfg, nil, clock, false)
	m := newModel()
	fillLog(t, l, m, clock, 30, 4, 3, []batch.Codec{batch.CodecNone, batch.CodecZstd})
	now := clock.Now().UnixMilli()
	m.appendRecs(t, l, batch.CodecNone, now, batch.BuildOptions{}, rec("gone-1", "x"), rec("gone-2", "y"))
	m.appendRecs(t, l, batch.CodecNone, now, batch.BuildOptions{}, tomb("key-003"), tomb("gone-1"), tomb("gone-2"))
	m.appendRecs(t, l, batch.CodecNone, now, batch.BuildOptions{ProducerID: 5, Idempotent: true}, rec("key-005", "idem"))
	fillLog(t, l, m, clock, 30, 1, 4, []batch.Codec{batch.CodecGzip})
	forceRoll(t, l)
	mustClean(t, l, now, l.LogEndOffset())
	clock.Advance(time.Duration(cfg.DeleteRetentionMs+1) * time.Millisecond)
	fillLog(t, l, m, clock, 30, 2, 2, []batch.Codec{batch.CodecLZ4})
	for i := range 24 { // every batch loses its "hot" record: many groups change
		m.appendRecs(t, l, batch.CodecNone, clock.Now().UnixMilli(), batch.BuildOptions{}, rec(fmt.Sprint("cold-", i), value(i, 9)+"-padding-padding"), rec("hot", fmt.Sprint(i)))
	}
	m.appendRecs(t, l, batch.CodecNone, clock.Now().UnixMilli(), batch.BuildOptions{}, rec("key-004", "back"), tomb("key-007"))
	fillLog(t, l, m, clock, 10, 1, 5, []batch.Codec{batch.CodecNone})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestCleanCrashAtEachStep fails (crash = true: the FS then refuses
// everything, like a dead process) every file-system operation of a
// pass in turn, then reopens the directory with a healthy FS and checks
// that the log reads consistently with the same latest value per key, and
// that the next pass completes.
func TestCleanCrashAtEachStep(t *testing.T) {
	cfg := compactConfig()
	cfg.SegmentBytes = 1400
	cfg.DeleteRetentionMs = 1000
	clock := newClock()
	src := t.TempDir()
	m := buildCrashSource(t, src, cfg, clock)
	ops := fs.OpAny &^ (fs.OpRead | fs.OpStat)
	modes := []bool{true, false}
	if testing.Short() {
		modes = modes[:1]
	}
	for _, crash := range modes {
		steps, groups := 0, 0
		for k := 0; ; k++ {
			dir := t.TempDir()
			copyDir(t, src, dir)
			ff := fs.NewFaulty(fs.OS())
			l := openLog(t, dir, cfg, ff, clock, true)
			segsBefore := l.Segments()
			ff.Inject(fs.Fault{Ops: ops, Skip: k, Crash: crash})
			st, err := l.Clean(clock.Now(), l.LogEndOffset())
			fired := ff.Fired() > 0
			if !fired {
				if err != nil || st.Aborted || st.SegmentsCleaned == 0 || st.TombstonesRemoved == 0 {
					t.Fatalf("crash=%v: clean pass without a fault: %+v, %v", crash, st, err)
				}
				if st.SegmentsWritten < 2 {
					t.Fatalf("the pass wrote %d groups; the test wants several: %+v", st.SegmentsWritten, st)
				}
				l.Close()
				steps, groups = k, st.SegmentsWritten
				break
			}
			if err == nil && st.Aborted {
				t.Fatalf("crash=%v step %d: pass aborted without an error", crash, k)
			}
			if !crash && !errors.Is(err, ErrFailed) {
				// The log stayed usable: it still reads consistently,
				// and appends work.
				checkLog(t, l, m, 0)
				if _, aerr := l.Append(makeBatch(1, 1, clock.Now().UnixMilli()), 1); aerr != nil {
					t.Fatalf("step %d: append after a failed pass (%v): %v", k, err, aerr)
				}
				l.Truncate(l.LogEndOffset() - 1)
			}
			l.Close()
			// Restart: recovery with a healthy FS.
			l2 := openLog(t, dir, cfg, nil, clock, false)
			if left := dirFiles(t, dir, cleanedSuffix, swapSuffix); len(left) > 0 {
				t.Fatalf("crash=%v step %d (%v): left %v", crash, k, err, left)
			}
			checkLog(t, l2, m, 0)
			if crash && l2.Segments() > segsBefore {
				t.Fatalf("step %d: %d segments, had %d", k, l2.Segments(), segsBefore)
			}
			st2 := mustClean(t, l2, clock.Now().UnixMilli(), l2.LogEndOffset())
			checkLog(t, l2, m, st2.EndOffset)
			if hasKey(t, l2, "gone-1") || hasKey(t, l2, "gone-2") {
				t.Fatalf("step %d: expired tombstone survived a complete pass", k)
			}
			if err := l2.Close(); err != nil {
				t.Fatal(err)
			}
		}
		if steps < 20 {
			t.Fatalf("crash=%v: only %d file-system operations in a pass", crash, steps)
		}
		t.Logf("crash=%v: failed each of %d operations of a %d-group pass", crash, steps, groups)
	}
}

// TestCleanRecoverSwapStates builds the on-disk states between the commit
// point and the end of a swap by hand and checks Open completes them.
func TestCleanRecoverSwapStates(t *testing.T) {
	cfg := compactConfig()
	cfg.SegmentBytes = 1400
	cfg.DeleteRetentionMs = 1000
	clock := newClock()
	src := t.TempDir()
	m := buildCrashSource(t, src, cfg, clock)
	// A pass whose swap renames all fail after the commit: capture the
	// committed state (.swap present, originals present).
	for _, stop := range []string{"before-retire", "after-retire", "half-final"} {
		t.Run(stop, func(t *testing.T) {
			dir := t.TempDir()
			copyDir(t, src, dir)
			ff := fs.NewFaulty(fs.OS())
			l := openLog(t, dir, cfg, ff, clock, true)
			switch stop {
			case "before-retire": // the first rename to .deleted crashes
				ff.Inject(fs.Fault{Ops: fs.OpRename, Path: deletedSuffix, Crash: true})
			case "after-retire": // the first final rename crashes
				ff.Inject(fs.Fault{Ops: fs.OpRename, Path: swapSuffix + "\x00", Crash: true})
			case "half-final": // the .log final rename crashes, indexes done
				ff.Inject(fs.Fault{Ops: fs.OpRename, Path: logSuffix + swapSuffix + "\x00", Crash: true})
			}
			_, err := l.Clean(clock.Now(), l.LogEndOffset())
			if !errors.Is(err, ErrFailed) {
				t.Fatalf("Clean: %v", err)
			}
			if swaps := dirFiles(t, dir, logSuffix+swapSuffix); len(swaps) != 1 {
				t.Fatalf("swap files %v", swaps)
			}
			l.Close()
			l2 := openLog(t, dir, cfg, nil, clock, false)
			defer l2.Close()
			if left := dirFiles(t, dir, cleanedSuffix, swapSuffix, deletedSuffix); len(left) > 0 {
				t.Fatalf("left %v", left)
			}
			checkLog(t, l2, m, 0)
			// The first group was swapped in: its records are unique.
			first := l2.segments()[1].base
			checkLog(t, l2, m, first)
		})
	}
}

// TestCleanConcurrentWithAppendsAndReads runs the background Cleaner while
// a producer appends overwrites and a consumer reads the whole log over
// and over. Run with -race.
func TestCleanConcurrentWithAppendsAndReads(t *testing.T) {
	cfg := compactConfig()
	cfg.SegmentBytes = 3000
	cfg.MinCleanableDirtyRatio = 0.1
	clock := newClock()
	l := openLog(t, t.TempDir(), cfg, nil, clock, false)
	defer l.Close()
	ccfg := CleanerConfig{}.Defaults()
	ccfg.BackoffMs = 1
	cl, err := NewCleaner(ccfg, nil, clock)
	if err != nil {
		t.Fatal(err)
	}
	cl.Add(l)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := cl.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()

	m := newModel()
	var mu sync.Mutex // guards m between the producer and the final check
	var done atomic.Bool
	var reads atomic.Int64
	readErr := make(chan error, 1)
	wg.Add(1)
	go func() { // the consumer
		defer wg.Done()
		for !done.Load() {
			if err := readConsistent(l); err != nil {
				readErr <- err
				return
			}
			reads.Add(1)
		}
	}()
	for round := range 60 {
		for i := 0; i < 30; i += 3 {
			mu.Lock()
			m.appendRecs(t, l, batch.CodecSnappy, clock.Now().UnixMilli(), batch.BuildOptions{},
				rec(fmt.Sprint("k", i), value(i, round)), rec(fmt.Sprint("k", i+1), value(i+1, round)), rec(fmt.Sprint("k", i+2), value(i+2, round)))
			mu.Unlock()
			l.SetLastStableOffset(l.LogEndOffset())
		}
		if round%10 == 0 {
			time.Sleep(5 * time.Millisecond) // let the cleaner catch up now and then
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for l.cleaning.point.Load() < l.active().base && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	done.Store(true)
	cancel()
	wg.Wait()
	select {
	case err := <-readErr:
		t.Fatal(err)
	default:
	}
	if l.cleaning.point.Load() == 0 {
		t.Fatal("the cleaner never cleaned")
	}
	if reads.Load() == 0 {
		t.Fatal("no reads")
	}
	checkLog(t, l, m, l.cleaning.point.Load())
	t.Logf("%d full reads during cleaning; cleaner point %d of %d", reads.Load(), l.cleaning.point.Load(), l.LogEndOffset())
}

// readConsistent reads the whole log and checks batch validity and offset
// order, returning an error instead of failing (it runs on a goroutine).
func readConsistent(l *Log) error {
	off, leo := l.LogStartOffset(), l.LogEndOffset()
	last := int64(-1)
	for off < leo {
		res, err := l.Read(off, 64<<10, leo, true)
		if err != nil {
			return fmt.Errorf("Read(%d): %w", off, err)
		}
		for _, c := range res.Chunks {
			b := make([]byte, c.Len)
			if _, err := c.File.ReadAt(b, c.Pos); err != nil {
				return err
			}
			for len(b) > 0 {
				h, err := batch.ParseHeader(b)
				if err != nil || h.Size() > int64(len(b)) {
					return fmt.Errorf("bad batch near %d: %v", off, err)
				}
				if _, err := batch.ValidateStored(b[:h.Size()]); err != nil {
					return fmt.Errorf("batch %d: %w", h.BaseOffset, err)
				}
				if _, err := batch.Records(b[:h.Size()], 1<<20); err != nil {
					return fmt.Errorf("batch %d records: %w", h.BaseOffset, err)
				}
				if h.BaseOffset <= last {
					return fmt.Errorf("batch %d after offset %d", h.BaseOffset, last)
				}
				last = h.LastOffset()
				off = h.NextOffset()
				b = b[h.Size():]
			}
		}
		if res.Size == 0 {
			return fmt.Errorf("empty read at %d below %d", off, leo)
		}
	}
	return nil
}

func TestCleanerRemoveAndStop(t *testing.T) {
	cfg := compactConfig()
	clock := newClock()
	l := openLog(t, t.TempDir(), cfg, nil, clock, false)
	defer l.Close()
	m := newModel()
	fillLog(t, l, m, clock, 200, 10, 10, []batch.Codec{batch.CodecGzip})
	l.SetLastStableOffset(l.LogEndOffset())
	ccfg := CleanerConfig{}.Defaults()
	ccfg.IOMaxBytesPerSecond = 20 << 10 // slow: a pass takes seconds
	cl, err := NewCleaner(ccfg, nil, clock)
	if err != nil {
		t.Fatal(err)
	}
	cl.Add(l)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stopped := make(chan error)
	go func() { stopped <- cl.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		cl.mu.Lock()
		busy := cl.current == l
		cl.mu.Unlock()
		if busy {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the cleaner never started on the log")
		}
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	cl.Remove(l) // cancels the pass and waits for it
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Remove took %v", d)
	}
	cl.mu.Lock()
	if cl.current != nil {
		t.Fatal("still cleaning after Remove")
	}
	cl.mu.Unlock()
	if left := dirFiles(t, l.Dir(), cleanedSuffix, swapSuffix); len(left) > 0 {
		t.Fatalf("cancelled pass left %v", left)
	}
	checkLog(t, l, m, 0)
	cancel()
	select {
	case err := <-stopped:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop")
	}
}

func TestCleanerThrottle(t *testing.T) {
	th := &throttle{rate: 1 << 20} // 1 MiB/s
	start := time.Now()
	for range 64 {
		if err := th.wait(context.Background(), 8<<10); err != nil {
			t.Fatal(err)
		}
	}
	// 512 KiB at 1 MiB/s: about half a second.
	if d := time.Since(start); d < 400*time.Millisecond || d > 3*time.Second {
		t.Fatalf("512 KiB took %v at 1 MiB/s", d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := th.wait(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("wait on a cancelled context: %v", err)
	}
}

func TestCleanConcurrentTruncationAbortsPass(t *testing.T) {
	// A truncation after the map was built, even one that leaves the
	// pass's segments alone, stops the pass before its next swap: the
	// truncated records may be what made older ones look superseded.
	cfg := compactConfig()
	clock := newClock()
	dir := t.TempDir()
	l := openLog(t, dir, cfg, nil, clock, false)
	defer l.Close()
	m := newModel()
	fillLog(t, l, m, clock, 40, 8, 4, []batch.Codec{batch.CodecNone})
	segs := l.segments()
	p := &cleanPass{l: l, ctx: context.Background(), cfg: l.cfg.Load(), now: clock.Now().UnixMilli(), leo: l.LogEndOffset(),
		m: newOffsetMap(1 << 20), nextHorizon: -1, truncations: l.cleaning.truncations.Load()}
	if err := p.buildMap(segs, 0, segs[len(segs)-1].base); err != nil {
		t.Fatal(err)
	}
	if err := l.Truncate(l.LogEndOffset() - 1); err != nil {
		t.Fatal(err)
	}
	if err := p.cleanSegments(segs, len(segs)-1); !errors.Is(err, errSegmentsChanged) {
		t.Fatalf("cleanSegments after a truncation: %v", err)
	}
	if left := dirFiles(t, dir, cleanedSuffix, swapSuffix); len(left) > 0 {
		t.Fatalf("left %v", left)
	}
	checkLog(t, l, m, 0)
}

func TestCleanConcurrentRetentionAbortsPass(t *testing.T) {
	// A pass whose segments disappear (DeleteRecords) between reading and
	// swapping stops without damage and without moving the cleaner point.
	cfg := compactConfig()
	clock := newClock()
	dir := t.TempDir()
	l := openLog(t, dir, cfg, nil, clock, false)
	defer l.Close()
	m := newModel()
	fillLog(t, l, m, clock, 40, 8, 4, []batch.Codec{batch.CodecNone})
	segs := l.segments()
	// Simulate the race: the pass read segs, then the log start moved.
	p := &cleanPass{l: l, ctx: context.Background(), cfg: l.cfg.Load(), now: clock.Now().UnixMilli(), leo: l.LogEndOffset(),
		m: newOffsetMap(1 << 20), nextHorizon: -1, truncations: l.cleaning.truncations.Load()}
	if err := p.buildMap(segs, 0, segs[len(segs)-1].base); err != nil {
		t.Fatal(err)
	}
	if err := l.SetLogStartOffset(segs[1].base); err != nil {
		t.Fatal(err)
	}
	err := p.cleanSegments(segs, len(segs)-1)
	if !errors.Is(err, errSegmentsChanged) {
		t.Fatalf("cleanSegments after the segments changed: %v", err)
	}
	if left := dirFiles(t, dir, cleanedSuffix, swapSuffix); len(left) > 0 {
		t.Fatalf("left %v", left)
	}
	recs, _ := readLog(t, l)
	if len(recs) == 0 || recs[0].offset < segs[1].base {
		t.Fatalf("log start not respected: %+v", recs[:1])
	}
	for _, r := range recs {
		if m.byOffset[r.offset] != r.appended {
			t.Fatalf("offset %d changed", r.offset)
		}
	}
}
