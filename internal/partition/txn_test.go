package partition

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/batch"
	"github.com/samsa-streaming/samsa/internal/fs"
)

func txnBatch(t *testing.T, pid int64, epoch int16, seq int32, n int, ts int64) []byte {
	t.Helper()
	recs := make([]batch.Record, n)
	for i := range recs {
		recs[i].Value = []byte{byte(i)}
	}
	b, err := batch.Build(batch.CodecNone, recs, batch.BuildOptions{BaseTimestamp: ts, ProducerID: pid, ProducerEpoch: epoch, BaseSequence: seq, Transactional: true})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestTransactionsLSOAndAbortIndex(t *testing.T) {
	clock := &fakeClock{time.UnixMilli(1_700_000_000_000)}
	dir := t.TempDir()
	p := openTest(t, dir, testConfig(), clock)
	ts := clock.t.UnixMilli()

	// Plain record at 0, then producer 1 opens a transaction at 1.
	if _, err := p.Append(idemBatch(t, -1, -1, -1, 1, ts), 1); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Append(txnBatch(t, 1, 0, 0, 2, ts), -1); err != nil { // offsets 1-2
		t.Fatal(err)
	}
	if lso := p.LastStableOffset(); lso != 1 {
		t.Fatalf("LSO with an open transaction at 1: %d", lso)
	}
	if first, ok := p.OngoingTxn(1); !ok || first != 1 {
		t.Fatalf("OngoingTxn: %d %v", first, ok)
	}
	// Producer 2 opens another at 3.
	if _, err := p.Append(txnBatch(t, 2, 0, 0, 1, ts), -1); err != nil { // 3
		t.Fatal(err)
	}
	// Producer 1 aborts: marker at 4; LSO moves to producer 2's start.
	off, err := p.AppendMarker(1, 0, false, 0)
	if err != nil || off != 4 {
		t.Fatalf("abort marker at %d: %v", off, err)
	}
	if lso := p.LastStableOffset(); lso != 3 {
		t.Fatalf("LSO after the abort: %d, want 3", lso)
	}
	if ab := p.AbortedTxns(0, 10); len(ab) != 1 || ab[0].ProducerID != 1 || ab[0].FirstOffset != 1 || ab[0].LastOffset != 4 {
		t.Fatalf("aborted index: %+v", ab)
	}
	if ab := p.AbortedTxns(5, 10); len(ab) != 0 {
		t.Fatalf("a fetch after the marker needs no aborted list: %+v", ab)
	}
	// Producer 2 commits: marker at 5; nothing open, LSO = HW.
	if off, err := p.AppendMarker(2, 0, true, 0); err != nil || off != 5 {
		t.Fatalf("commit marker at %d: %v", off, err)
	}
	if lso, hw := p.LastStableOffset(), p.HighWatermark(); lso != hw || hw != 6 {
		t.Fatalf("LSO %d HW %d after commit", lso, hw)
	}
	if len(p.AbortedTxns(0, 10)) != 1 {
		t.Fatal("a commit must not enter the aborted index")
	}
	// A stale marker epoch is refused.
	if _, err := p.AppendMarker(2, -1, true, 0); err == nil {
		t.Fatal("marker with an older epoch accepted")
	}

	// Open a transaction, then restart both cleanly and uncleanly: the open
	// transaction and the aborted index survive.
	if _, err := p.Append(txnBatch(t, 3, 0, 0, 1, ts), -1); err != nil { // 6
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	for _, clean := range []bool{true, false} {
		q, err := Open(context.Background(), dir, "t", 0, testConfig(), Options{FS: fs.OS(), Logger: slog.New(slog.DiscardHandler), Clock: clock, CleanShutdown: clean})
		if err != nil {
			t.Fatal(err)
		}
		if lso := q.LastStableOffset(); lso != 6 {
			t.Fatalf("clean=%v: LSO after restart %d, want 6", clean, lso)
		}
		if ab := q.AbortedTxns(0, 10); len(ab) != 1 || ab[0].LastOffset != 4 {
			t.Fatalf("clean=%v: aborted index after restart: %+v", clean, ab)
		}
		if clean {
			q.Close()
		} else {
			q.log.Close()
		}
	}
}
