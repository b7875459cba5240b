package log

import (
	"encoding/binary"
	"testing"

	"github.com/samsa-streaming/samsa/internal/batch"
)

// garbageGzipBatch is a well-framed batch with a valid CRC whose
// attributes say gzip and whose body is not gzip (issue #11's 90 bytes).
func garbageGzipBatch(t *testing.T, ts int64) []byte {
	t.Helper()
	b, err := batch.Build(batch.CodecNone, []batch.Record{rec("k", "v")}, batch.BuildOptions{BaseTimestamp: ts})
	if err != nil {
		t.Fatal(err)
	}
	b = append(b[:batch.HeaderSize:batch.HeaderSize], make([]byte, 90-batch.HeaderSize)...)
	for i := batch.HeaderSize; i < len(b); i++ {
		b[i] = byte(i * 7)
	}
	binary.BigEndian.PutUint32(b[8:12], uint32(len(b)-batch.LogOverhead))
	binary.BigEndian.PutUint16(b[21:23], uint16(batch.CodecGzip))
	batch.UpdateCRC(b)
	return b
}

// A log holding a batch the cleaner cannot decode is set aside with a
// report (Kafka marks the partition uncleanable); the cleaner goes on
// cleaning the other logs and does not retry the bad one while the batch
// is in it.
func TestCleanerSetsAsideLogWithBadBatch(t *testing.T) {
	clock := newClock()
	cfg := compactConfig()
	cfg.SegmentBytes = 1024
	now := clock.Now().UnixMilli()
	logs := map[string]*Log{}
	models := map[string]*model{}
	for _, name := range []string{"bad", "good"} {
		l := openLog(t, t.TempDir(), cfg, nil, clock, false)
		defer l.Close()
		m := newModel()
		for i := range 40 {
			m.appendRecs(t, l, batch.CodecNone, now, batch.BuildOptions{}, rec("k"+string(rune('a'+i%4)), value(i, 0)))
			if name == "bad" && i == 10 {
				mustAppend(t, l, garbageGzipBatch(t, now), 1)
			}
		}
		l.SetLastStableOffset(l.LogEndOffset())
		logs[name], models[name] = l, m
	}
	cl, err := NewCleaner(CleanerConfig{}.Defaults(), testLogger(t), clock)
	if err != nil {
		t.Fatal(err)
	}
	// The bad log is dirtier (one more batch), but order does not matter:
	// whichever goes first, two rounds clean the good one.
	cl.Add(logs["bad"])
	cl.Add(logs["good"])
	cleaned := 0
	for range 3 {
		if cl.cleanOnce(t.Context()) {
			cleaned++
		}
	}
	if cleaned != 1 {
		t.Fatalf("%d passes ran to their end, want 1 (the good log)", cleaned)
	}
	if n := cl.Uncleanable(); n != 1 {
		t.Fatalf("Uncleanable = %d, want 1 (reported once, not retried)", n)
	}
	good := logs["good"]
	checkLog(t, good, models["good"], good.active().base)
	if p := cl.pick(clock.Now()); p != nil {
		t.Fatalf("picked %s again", p.dir)
	}
	// The bad log is untouched: every batch still there.
	if got := len(readAllBatches(t, logs["bad"])); got != 41 {
		t.Fatalf("bad log has %d batches, want 41", got)
	}
}
