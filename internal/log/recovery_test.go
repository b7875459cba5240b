package log

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/samsa-streaming/samsa/internal/batch"
	"github.com/samsa-streaming/samsa/internal/fs"
)

func TestRecoverTornWrite(t *testing.T) {
	for _, torn := range []int{0, 5, batch.HeaderSize + 3, 300} {
		dir := t.TempDir()
		cfg := testConfig()
		cfg.IndexIntervalBytes = 200
		ff := fs.NewFaulty(fs.OS())
		clock := newClock()
		l := openLog(t, dir, cfg, ff, clock, false)
		for i := range 20 {
			mustAppend(t, l, makeBatch(3, 100, int64(i)), 1)
		}
		if err := l.Flush(); err != nil {
			t.Fatal(err)
		}
		for i := range 5 { // unflushed, but written: a process crash keeps them
			mustAppend(t, l, makeBatch(2, 100, int64(100+i)), 1)
		}
		leo := l.LogEndOffset()
		ff.TornWrite(".log", torn, true)
		if _, err := l.Append(makeBatch(4, 100, 200), 2); err == nil {
			t.Fatal("torn append succeeded")
		}
		if l.LogEndOffset() != leo {
			t.Fatalf("LEO moved to %d after a failed append", l.LogEndOffset())
		}
		if _, err := l.Append(makeBatch(1, 1, 1), 2); !errors.Is(err, ErrFailed) {
			t.Fatalf("append on a crashed log: %v", err)
		}
		st, _ := os.Stat(segmentPath(dir, 0, logSuffix))
		// "Restart": reopen the directory with a healthy FS, no clean shutdown.
		l2 := openLog(t, dir, cfg, nil, clock, false)
		if l2.LogEndOffset() != leo {
			t.Fatalf("torn %d: recovered LEO %d, want %d", torn, l2.LogEndOffset(), leo)
		}
		if st2, _ := os.Stat(segmentPath(dir, 0, logSuffix)); torn > 0 && st2.Size() != st.Size()-int64(torn) {
			t.Fatalf("torn %d: file %d bytes, was %d", torn, st2.Size(), st.Size())
		}
		if l2.LatestEpoch() != 1 {
			t.Fatalf("epoch entry for the lost batch survived: %v", l2.Epochs())
		}
		info := mustAppend(t, l2, makeBatch(2, 100, 300), 2)
		if info.BaseOffset != leo {
			t.Fatalf("next offset %d, want %d (no gap, no reuse)", info.BaseOffset, leo)
		}
		if n := len(readAllBatches(t, l2)); n != 26 {
			t.Fatalf("%d batches after recovery", n)
		}
		l.Close()
		if err := l2.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRecoverGarbageTail(t *testing.T) {
	for _, clean := range []bool{false, true} {
		dir := t.TempDir()
		cfg := testConfig()
		cfg.IndexIntervalBytes = 0
		cfg.SegmentBytes = 3000
		l := openLog(t, dir, cfg, nil, newClock(), false)
		for i := range 30 {
			mustAppend(t, l, makeBatch(2, 200, int64(i)), 0)
		}
		leo := l.LogEndOffset()
		active := l.active().base
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		garbage := make([]byte, 777)
		for i := range garbage {
			garbage[i] = byte(rng.Uint32())
		}
		f, err := os.OpenFile(segmentPath(dir, active, logSuffix), os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.Write(garbage)
		f.Close()
		l = openLog(t, dir, cfg, nil, newClock(), clean)
		if l.LogEndOffset() != leo {
			t.Fatalf("clean=%v: LEO %d, want %d", clean, l.LogEndOffset(), leo)
		}
		if info := mustAppend(t, l, makeBatch(1, 10, 99), 0); info.BaseOffset != leo {
			t.Fatalf("append at %d", info.BaseOffset)
		}
		if n := len(readAllBatches(t, l)); n != 31 {
			t.Fatalf("%d batches", n)
		}
		l.Close()
	}
}

func TestRecoverCorruptMiddle(t *testing.T) {
	// A flipped byte inside an unflushed segment cuts the log there and
	// drops the later segments, as Kafka does.
	dir := t.TempDir()
	cfg := testConfig()
	cfg.SegmentBytes = 3000
	l := openLog(t, dir, cfg, nil, newClock(), false)
	var infos []AppendInfo
	for i := range 30 {
		infos = append(infos, mustAppend(t, l, makeBatch(2, 200, int64(i)), 0))
	}
	segs := l.segments()
	l.Close()
	// Clean close set the recovery point to LEO; force a full recovery.
	os.Remove(filepath.Join(dir, recoveryCheckpointFile))
	victim := infos[0]
	for _, in := range infos {
		if in.BaseOffset >= segs[1].base {
			victim = in
			break
		}
	}
	victim = infos[indexOf(infos, victim)+1]
	f, _ := os.OpenFile(segmentPath(dir, segs[1].base, logSuffix), os.O_RDWR, 0)
	f.WriteAt([]byte{0xff}, victim.Position+batch.HeaderSize+5)
	f.Close()
	l = openLog(t, dir, cfg, nil, newClock(), false)
	defer l.Close()
	if l.LogEndOffset() != victim.BaseOffset || l.Segments() != 2 {
		t.Fatalf("LEO %d (want %d), %d segments", l.LogEndOffset(), victim.BaseOffset, l.Segments())
	}
	if _, err := os.Stat(segmentPath(dir, segs[2].base, logSuffix)); !os.IsNotExist(err) {
		t.Fatalf("later segment kept: %v", err)
	}
	readAllBatches(t, l)
}

func indexOf(infos []AppendInfo, x AppendInfo) int {
	for i, in := range infos {
		if in == x {
			return i
		}
	}
	return -1
}

func TestCleanOpenRebuildsMissingIndex(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig()
	cfg.SegmentBytes = 3000
	cfg.IndexIntervalBytes = 100
	l := openLog(t, dir, cfg, nil, newClock(), false)
	var infos []AppendInfo
	for i := range 40 {
		infos = append(infos, mustAppend(t, l, makeBatch(2, 200, int64(i)), 0))
	}
	segs := l.segments()
	l.Close()
	os.Remove(segmentPath(dir, segs[0].base, indexSuffix))
	os.Remove(segmentPath(dir, segs[1].base, timeIndexSuffix))
	os.Truncate(segmentPath(dir, segs[len(segs)-1].base, indexSuffix), 3) // short, not a multiple
	os.WriteFile(segmentPath(dir, 999999, indexSuffix), []byte("orphan"), 0o644)
	l = openLog(t, dir, cfg, nil, newClock(), true)
	defer l.Close()
	for _, s := range segs {
		for _, suf := range []string{indexSuffix, timeIndexSuffix} {
			if _, err := os.Stat(segmentPath(dir, s.base, suf)); err != nil {
				t.Fatalf("index not rebuilt: %v", err)
			}
		}
	}
	if _, err := os.Stat(segmentPath(dir, 999999, indexSuffix)); !os.IsNotExist(err) {
		t.Fatal("orphan index kept")
	}
	for _, in := range infos {
		res, err := l.Read(in.LastOffset, 1, l.LogEndOffset(), true)
		if err != nil || len(res.Chunks) != 1 || res.Chunks[0].Pos != in.Position {
			t.Fatalf("lookup %d: %+v %v", in.LastOffset, res.Chunks, err)
		}
	}
	if off, ts := l.MaxTimestamp(); ts != infos[39].MaxTimestamp || off != infos[39].LastOffset {
		t.Fatalf("MaxTimestamp (%d,%d)", off, ts)
	}
}

func TestFailedWriteENOSPC(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig()
	cfg.IndexIntervalBytes = 0 // an index entry per batch
	ff := fs.NewFaulty(fs.OS())
	l := openLog(t, dir, cfg, ff, newClock(), false)
	defer l.Close()
	for i := range 5 {
		mustAppend(t, l, makeBatch(2, 100, int64(i)), 0)
	}
	leo, size := l.LogEndOffset(), l.Size()
	ts := int64(0)
	for _, fault := range []fs.Fault{
		{Ops: fs.OpWrite, Path: ".log", Err: fs.ENOSPC},
		{Ops: fs.OpWrite, Path: ".log", Err: fs.ENOSPC, Partial: 70}, // torn, no crash
		{Ops: fs.OpWrite, Path: ".index", Err: fs.ENOSPC},            // after the log write
		{Ops: fs.OpWrite, Path: ".timeindex", Err: fs.ENOSPC, Partial: 4},
	} {
		ff.Inject(fault)
		ts += 1000 // grows, so the time index gets an entry too
		_, err := l.Append(makeBatch(3, 100, ts), 0)
		if !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("%+v: err %v, want ENOSPC", fault, err)
		}
		if l.LogEndOffset() != leo || l.Size() != size {
			t.Fatalf("%+v: LEO %d size %d, want %d %d", fault, l.LogEndOffset(), l.Size(), leo, size)
		}
		st, _ := os.Stat(segmentPath(dir, 0, logSuffix))
		if st.Size() != size {
			t.Fatalf("%+v: file not rolled back: %d", fault, st.Size())
		}
		// Still usable.
		info := mustAppend(t, l, makeBatch(1, 10, 60), 0)
		if info.BaseOffset != leo {
			t.Fatalf("append after ENOSPC at %d, want %d", info.BaseOffset, leo)
		}
		leo, size = l.LogEndOffset(), l.Size()
	}
	if n := len(readAllBatches(t, l)); n != 9 {
		t.Fatalf("%d batches", n)
	}
	// A failed rollback (truncate) fails the log.
	ff.FailNext(fs.OpWrite, ".log", fs.ENOSPC)
	ff.FailNext(fs.OpTruncate, ".log", syscall.EIO)
	if _, err := l.Append(makeBatch(1, 10, 1), 0); !errors.Is(err, ErrFailed) {
		t.Fatalf("unrecoverable write: %v", err)
	}
	if err := l.SetLogStartOffset(1); !errors.Is(err, ErrFailed) {
		t.Fatalf("mutation on a failed log: %v", err)
	}
	if _, err := l.Read(0, 100, leo, true); err != nil {
		t.Fatalf("reads still work on a failed log: %v", err)
	}
}

func TestFsyncFailureFailsLog(t *testing.T) {
	cfg := testConfig()
	cfg.FlushMessages = 2
	ff := fs.NewFaulty(fs.OS())
	l := openLog(t, t.TempDir(), cfg, ff, newClock(), false)
	defer l.Close()
	mustAppend(t, l, makeBatch(1, 10, 1), 0)
	if rp := l.RecoveryPoint(); rp != 0 {
		t.Fatalf("flushed early: %d", rp)
	}
	mustAppend(t, l, makeBatch(1, 10, 1), 0)
	if rp := l.RecoveryPoint(); rp != 2 {
		t.Fatalf("flush.messages=2 did not flush: rp %d", rp)
	}
	mustAppend(t, l, makeBatch(1, 10, 1), 0)
	ff.FailNext(fs.OpSync, ".log", syscall.EIO)
	if _, err := l.Append(makeBatch(1, 10, 1), 0); !errors.Is(err, ErrFailed) || !errors.Is(err, syscall.EIO) {
		t.Fatalf("fsync failure: %v", err)
	}
	if _, err := l.Append(makeBatch(1, 10, 1), 0); !errors.Is(err, ErrFailed) {
		t.Fatalf("append after fsync failure: %v", err)
	}
}

func TestFlushMs(t *testing.T) {
	cfg := testConfig()
	cfg.FlushMs = 1000
	clock := newClock()
	l := openLog(t, t.TempDir(), cfg, nil, clock, false)
	defer l.Close()
	mustAppend(t, l, makeBatch(1, 10, 1), 0)
	if l.RecoveryPoint() != 0 {
		t.Fatal("flushed before flush.ms")
	}
	clock.Advance(1001 * 1e6)
	if err := l.MaybeFlush(clock.Now()); err != nil {
		t.Fatal(err)
	}
	if l.RecoveryPoint() != 1 {
		t.Fatal("MaybeFlush did not flush after flush.ms")
	}
}

func TestAppendFollower(t *testing.T) {
	leader := openLog(t, t.TempDir(), testConfig(), nil, newClock(), false)
	defer leader.Close()
	for i := range 10 {
		mustAppend(t, leader, makeBatch(2, 50, int64(i)), int32(i/4))
	}
	res, _ := leader.Read(0, 1<<20, leader.LogEndOffset(), true)
	data := chunkBytes(t, res)
	f := openLog(t, t.TempDir(), testConfig(), nil, newClock(), false)
	defer f.Close()
	info, err := f.AppendFollower(data)
	if err != nil {
		t.Fatal(err)
	}
	if info.BaseOffset != 0 || info.LastOffset != 19 || f.LogEndOffset() != 20 {
		t.Fatalf("info %+v LEO %d", info, f.LogEndOffset())
	}
	if got, want := f.Epochs(), leader.Epochs(); len(got) != 3 || len(want) != 3 || got[2] != want[2] {
		t.Fatalf("epochs %v, leader %v", got, want)
	}
	res2, _ := f.Read(0, 1<<20, f.LogEndOffset(), true)
	if string(chunkBytes(t, res2)) != string(data) {
		t.Fatal("follower bytes differ from leader's")
	}
	// Below the LEO, or corrupt: rejected, nothing appended.
	if _, err := f.AppendFollower(data); !errors.Is(err, ErrInvalidBatch) {
		t.Fatalf("replay: %v", err)
	}
	bad := append([]byte(nil), data...)
	bad[len(bad)-1] ^= 1
	if err := f.Truncate(10); err != nil {
		t.Fatal(err)
	}
	if _, err := f.AppendFollower(bad); !errors.Is(err, ErrInvalidBatch) {
		t.Fatalf("corrupt: %v", err)
	}
	// A gap (compaction) is fine.
	gap := makeBatch(1, 5, 7)
	batch.SetBaseOffset(gap, 100)
	if _, err := f.AppendFollower(gap); err != nil || f.LogEndOffset() != 101 {
		t.Fatalf("gap: %v, LEO %d", err, f.LogEndOffset())
	}
}
