package coordinator

import (
	"context"
	"encoding/binary"
	"testing"

	"github.com/samsa-streaming/samsa/internal/batch"
)

// garbageGzipBatch is the 90-byte batch of issue #11: a well-framed batch
// with a valid CRC whose attributes say gzip and whose body is not gzip.
func garbageGzipBatch(t *testing.T) []byte {
	t.Helper()
	b, err := batch.Build(batch.CodecNone, []batch.Record{{Value: []byte("x")}}, batch.BuildOptions{})
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
	if err := batch.CheckCRC(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// A batch the load cannot decode is skipped and reported; the records
// before and after it load, so the shard becomes active.
func TestLoadSkipsUndecodableBatch(t *testing.T) {
	e := newEnv(t)
	rep := e.parts.host(OffsetsTopic, 0)
	e.images.img.Store(image(1, OffsetsTopic, lead{self, 1}))
	w := e.rt.Writer(OffsetsTopic)
	ctx := context.Background()
	if _, err := w.Append(ctx, 0, []Record{{Key: []byte("before"), Value: []byte("1")}}); err != nil {
		t.Fatal(err)
	}
	rep.mu.Lock()
	_, err := rep.appendLocked(garbageGzipBatch(t))
	rep.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Append(ctx, 0, []Record{{Key: []byte("after"), Value: []byte("2")}}); err != nil {
		t.Fatal(err)
	}

	got, err := readAll(t, e, OffsetsTopic, 0)
	if err != nil {
		t.Fatalf("load failed on a bad batch: %v", err)
	}
	if len(got) != 2 || string(got[0].Key) != "before" || got[0].Offset != 0 || string(got[1].Key) != "after" || got[1].Offset != 2 {
		t.Fatalf("replayed %+v, want before@0 and after@2", got)
	}
	if n := e.rt.SkippedBatches(); n != 1 {
		t.Fatalf("SkippedBatches = %d, want 1", n)
	}

	// Through the runtime: the load succeeds at once, no retry.
	e.publish(image(2, OffsetsTopic, lead{self, 1}))
	a := e.shards.next(t)
	var n int
	if err := a.read(a.ctx, func(Replayed) error { n++; return nil }); err != nil || n != 2 {
		t.Fatalf("runtime load: %d records, %v", n, err)
	}
	a.result <- nil
	e.shards.none(t)
}
