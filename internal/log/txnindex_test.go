package log

import (
	"testing"

	"github.com/samsa-streaming/samsa/internal/batch"
	"github.com/samsa-streaming/samsa/internal/fs"
)

func TestTxnIndexSurvivesRestartTruncateAndCleaning(t *testing.T) {
	dir := t.TempDir()
	clock := newClock()
	cfg := compactConfig()
	l := openLog(t, dir, cfg, fs.OS(), clock, false)
	m := newModel()
	ts := clock.Now().UnixMilli()

	// An aborted transaction: records at 0-1, ABORT marker at 2.
	m.appendRecs(t, l, batch.CodecNone, ts, batch.BuildOptions{ProducerID: 9, ProducerEpoch: 0, BaseSequence: 0, Transactional: true}, rec("a", "aborted"), rec("b", "aborted"))
	info := mustAppend(t, l, batch.BuildControlBatch(9, 0, false, 0, ts), 0)
	if err := l.AppendAbortedTxn(AbortedTxn{ProducerID: 9, FirstOffset: 0, LastOffset: info.BaseOffset, LastStableOffset: 0}); err != nil {
		t.Fatal(err)
	}
	// Plenty of later, unrelated keys so the first segments become cleanable.
	for i := 0; i < 200; i++ {
		m.appendRecs(t, l, batch.CodecNone, ts, batch.BuildOptions{}, rec(value(i%20, 0), value(i, 1)))
	}
	check := func(l *Log, when string) {
		t.Helper()
		ab := l.AbortedTxns(0, l.LogEndOffset())
		if len(ab) != 1 || ab[0].ProducerID != 9 || ab[0].FirstOffset != 0 || ab[0].LastOffset != 2 {
			t.Fatalf("%s: aborted index %+v", when, ab)
		}
	}
	check(l, "after append")
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = openLog(t, dir, cfg, fs.OS(), clock, true)
	check(l, "after reopen")

	st := mustClean(t, l, clock.Now().UnixMilli(), l.LogEndOffset())
	if st.SegmentsCleaned == 0 || st.SegmentsWritten >= st.SegmentsCleaned {
		t.Fatalf("cleaning rewrote nothing: %+v", st)
	}
	if files := dirFiles(t, dir, ".txnindex"); len(files) != 1 {
		t.Fatalf("txnindex files after cleaning: %v", files)
	}
	check(l, "after cleaning")
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = openLog(t, dir, cfg, fs.OS(), clock, false)
	check(l, "after cleaning and an unclean reopen")

	if err := l.Truncate(2); err != nil {
		t.Fatal(err)
	}
	if ab := l.AbortedTxns(0, 100); len(ab) != 0 {
		t.Fatalf("truncating away the marker keeps its entry: %+v", ab)
	}
	l.Close()
	l = openLog(t, dir, cfg, fs.OS(), clock, false)
	defer l.Close()
	if ab := l.AbortedTxns(0, 100); len(ab) != 0 {
		t.Fatalf("entry back after reopen: %+v", ab)
	}
}
