package log

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func segFiles(t *testing.T, dir, suffix string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), suffix) {
			out = append(out, e.Name())
		}
	}
	return out
}

func TestRetentionByTime(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig()
	cfg.SegmentBytes = 2000
	cfg.RetentionMs = 10_000
	cfg.FileDeleteDelayMs = 5_000
	clock := newClock()
	now := clock.Now().UnixMilli()
	l := openLog(t, dir, cfg, nil, clock, false)
	defer l.Close()
	// Ten segments, segment k holding timestamps around now-100s+k*10s.
	for i := range 40 {
		mustAppend(t, l, makeBatch(2, 300, now-100_000+int64(i/4)*10_000), 0)
	}
	segs := l.segments()
	if len(segs) < 10 {
		t.Fatalf("%d segments", len(segs))
	}
	// Keep an in-flight read of the oldest segment.
	inflight, err := l.Read(0, 1<<20, l.LogEndOffset(), true)
	if err != nil {
		t.Fatal(err)
	}
	var wantDel int
	for _, s := range segs[:len(segs)-1] {
		if now-s.largestTimestamp() > cfg.RetentionMs {
			wantDel++
		}
	}
	n, err := l.ApplyRetention(clock.Now())
	if err != nil || n != wantDel || n == 0 {
		t.Fatalf("ApplyRetention = %d, %v; want %d", n, err, wantDel)
	}
	if l.LogStartOffset() != segs[n].base {
		t.Fatalf("LSO %d, want %d", l.LogStartOffset(), segs[n].base)
	}
	if _, err := l.Read(0, 100, l.LogEndOffset(), true); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("read below LSO: %v", err)
	}
	if got := segFiles(t, dir, ".log.deleted"); len(got) != n {
		t.Fatalf(".deleted files %v", got)
	}
	// The in-flight read still works until the delay passes.
	splitBatches(t, chunkBytes(t, inflight))
	nocfg := cfg
	nocfg.RetentionMs = -1 // sweep only
	l.SetConfig(nocfg)
	clock.Advance(4 * time.Second)
	if _, err := l.ApplyRetention(clock.Now()); err != nil {
		t.Fatal(err)
	}
	if l.PendingDeletes() != n {
		t.Fatal("deleted before file.delete.delay.ms")
	}
	clock.Advance(2 * time.Second)
	if _, err := l.ApplyRetention(clock.Now()); err != nil {
		t.Fatal(err)
	}
	if l.PendingDeletes() != 0 || len(segFiles(t, dir, ".deleted")) != 0 {
		t.Fatalf("still pending: %d, files %v", l.PendingDeletes(), segFiles(t, dir, ".deleted"))
	}
	// Everything expired: all but the active segment go.
	l.SetConfig(cfg)
	clock.Advance(time.Hour)
	if _, err := l.ApplyRetention(clock.Now()); err != nil {
		t.Fatal(err)
	}
	if l.Segments() != 1 {
		t.Fatalf("%d segments; only the active one should stay", l.Segments())
	}
	readAllBatches(t, l)
	// retention.ms = -1 keeps everything.
	cfg.RetentionMs = -1
	l.SetConfig(cfg)
	for i := range 20 {
		mustAppend(t, l, makeBatch(2, 300, int64(i)), 0)
	}
	if n, _ := l.ApplyRetention(clock.Now().Add(1000 * time.Hour)); n != 0 {
		t.Fatalf("deleted %d with unlimited retention", n)
	}
}

func TestRetentionByBytes(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig()
	cfg.SegmentBytes = 3000
	cfg.RetentionMs = -1
	cfg.FileDeleteDelayMs = 0
	clock := newClock()
	l := openLog(t, dir, cfg, nil, clock, false)
	for i := range 60 {
		mustAppend(t, l, makeBatch(1, 400, int64(i)), 0)
	}
	before := l.Size()
	cfg.RetentionBytes = before / 2
	l.SetConfig(cfg)
	n, err := l.ApplyRetention(clock.Now())
	if err != nil || n == 0 {
		t.Fatalf("ApplyRetention = %d, %v", n, err)
	}
	if l.Size() < cfg.RetentionBytes {
		t.Fatalf("deleted too much: %d < %d", l.Size(), cfg.RetentionBytes)
	}
	first := l.segments()[0]
	if l.Size()-first.size.Load() >= cfg.RetentionBytes {
		t.Fatalf("could have deleted one more segment: size %d", l.Size())
	}
	if len(segFiles(t, dir, ".deleted")) != 0 {
		t.Fatal("zero delay left files behind")
	}
	cfg.RetentionBytes = 0
	l.SetConfig(cfg)
	if _, err := l.ApplyRetention(clock.Now()); err != nil {
		t.Fatal(err)
	}
	if l.Segments() != 1 {
		t.Fatal("active segment must stay")
	}
	lso := l.LogStartOffset()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = openLog(t, dir, cfg, nil, clock, false)
	defer l.Close()
	if l.LogStartOffset() != lso {
		t.Fatalf("LSO after reopen %d, want %d", l.LogStartOffset(), lso)
	}
}

func TestSetLogStartOffset(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig()
	cfg.SegmentBytes = 2500
	clock := newClock()
	l := openLog(t, dir, cfg, nil, clock, false)
	var infos []AppendInfo
	for i := range 30 {
		infos = append(infos, mustAppend(t, l, makeBatch(3, 300, int64(i)), int32(i/10)))
	}
	segs := l.segments()
	// Mid-batch inside the third segment.
	target := segs[2].base + 4
	if err := l.SetLogStartOffset(target); err != nil {
		t.Fatal(err)
	}
	if l.LogStartOffset() != target || l.Segments() != len(segs)-2 {
		t.Fatalf("LSO %d, %d segments", l.LogStartOffset(), l.Segments())
	}
	if _, err := l.Read(target-1, 100, l.LogEndOffset(), true); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("read below LSO: %v", err)
	}
	res, err := l.Read(target, 1<<20, l.LogEndOffset(), true)
	if err != nil {
		t.Fatal(err)
	}
	if hs := splitBatches(t, chunkBytes(t, res)); hs[0].BaseOffset > target || hs[0].LastOffset() < target {
		t.Fatalf("first batch %d..%d does not hold %d", hs[0].BaseOffset, hs[0].LastOffset(), target)
	}
	// No-op backwards, error past the end.
	if err := l.SetLogStartOffset(1); err != nil || l.LogStartOffset() != target {
		t.Fatalf("backwards: %v, LSO %d", err, l.LogStartOffset())
	}
	if err := l.SetLogStartOffset(l.LogEndOffset() + 1); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("past LEO: %v", err)
	}
	// The epoch checkpoint starts at the new LSO.
	if e := l.Epochs(); e[0].StartOffset != target {
		t.Fatalf("epochs %v", e)
	}
	b, _ := os.ReadFile(filepath.Join(dir, logStartCheckpointFile))
	if want := "0\n1\n" + strconv.FormatInt(target, 10) + "\n"; string(b) != want {
		t.Fatalf("checkpoint %q, want %q", b, want)
	}
	// Survives an unclean reopen (the checkpoint is written at once).
	l2 := openLog(t, dir, cfg, nil, clock, false)
	if l2.LogStartOffset() != target {
		t.Fatalf("reopened LSO %d", l2.LogStartOffset())
	}
	l2.Close()
	// Up to the end: every segment but the active one goes.
	if err := l.SetLogStartOffset(l.LogEndOffset()); err != nil {
		t.Fatal(err)
	}
	if l.Segments() != 1 || l.LogStartOffset() != l.LogEndOffset() {
		t.Fatalf("%d segments, LSO %d LEO %d", l.Segments(), l.LogStartOffset(), l.LogEndOffset())
	}
	if res, err := l.Read(l.LogEndOffset(), 100, l.LogEndOffset(), true); err != nil || res.Size != 0 {
		t.Fatalf("read at LSO=LEO: %v %v", res, err)
	}
	next := mustAppend(t, l, makeBatch(1, 10, 1), 3)
	if next.BaseOffset != infos[len(infos)-1].LastOffset+1 {
		t.Fatalf("offset reuse: %d", next.BaseOffset)
	}
	l.Close()
}

func TestTruncate(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig()
	cfg.SegmentBytes = 2000
	cfg.IndexIntervalBytes = 0
	clock := newClock()
	l := openLog(t, dir, cfg, nil, clock, false)
	var infos []AppendInfo
	for i := range 30 {
		infos = append(infos, mustAppend(t, l, makeBatch(2, 300, 1000+int64(i)), int32(i/10)))
	}
	// Within the active segment, at a batch boundary.
	target := infos[28].BaseOffset
	if err := l.Truncate(target); err != nil {
		t.Fatal(err)
	}
	if l.LogEndOffset() != target {
		t.Fatalf("LEO %d, want %d", l.LogEndOffset(), target)
	}
	// Across segments, mid-batch: the straddling batch goes whole.
	target = infos[12].BaseOffset + 1
	if err := l.Truncate(target); err != nil {
		t.Fatal(err)
	}
	if l.LogEndOffset() != infos[12].BaseOffset {
		t.Fatalf("LEO %d, want %d", l.LogEndOffset(), infos[12].BaseOffset)
	}
	if got := l.Epochs(); len(got) != 2 || got[1] != (EpochEntry{1, infos[10].BaseOffset}) {
		t.Fatalf("epochs after truncate %v", got)
	}
	if off, ts := l.MaxTimestamp(); off != infos[11].LastOffset || ts != infos[11].MaxTimestamp {
		t.Fatalf("MaxTimestamp (%d, %d) after truncate, want (%d, %d)", off, ts, infos[11].LastOffset, infos[11].MaxTimestamp)
	}
	// Appends continue, and the truncated segment is now active.
	info := mustAppend(t, l, makeBatch(2, 300, 5000), 2)
	if info.BaseOffset != infos[12].BaseOffset {
		t.Fatalf("append after truncate at %d", info.BaseOffset)
	}
	hs := readAllBatches(t, l)
	if len(hs) != 13 {
		t.Fatalf("%d batches", len(hs))
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = openLog(t, dir, cfg, nil, clock, false)
	if len(readAllBatches(t, l)) != 13 {
		t.Fatal("reopen lost batches")
	}
	// Below the first segment: start over at that offset.
	if err := l.Truncate(0); err != nil {
		t.Fatal(err)
	}
	if l.LogEndOffset() != 0 || l.LogStartOffset() != 0 || l.Segments() != 1 || l.LatestEpoch() != -1 {
		t.Fatalf("LEO %d LSO %d segs %d epoch %d", l.LogEndOffset(), l.LogStartOffset(), l.Segments(), l.LatestEpoch())
	}
	mustAppend(t, l, makeBatch(1, 10, 1), 4)
	if len(readAllBatches(t, l)) != 1 {
		t.Fatal("bad log after full truncation")
	}
	l.Close()
}
