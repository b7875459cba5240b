package log

import (
	"context"
	"encoding/binary"
	"hash/crc32"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/batch"
	"github.com/samsa-streaming/samsa/internal/fs"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// makeBatch builds a valid uncompressed v2 batch of n records with
// valueSize-byte values; record i has timestamp ts+i (ts < 0: no
// timestamps). Base offset and epoch are left 0 for the log to set.
func makeBatch(n, valueSize int, ts int64) []byte {
	return makeBatchAttrs(n, valueSize, ts, 0)
}

func makeBatchAttrs(n, valueSize int, ts int64, attrs int16) []byte {
	var recs []byte
	for i := range n {
		r := kmsg.Record{OffsetDelta: int32(i), Value: make([]byte, valueSize)}
		if ts >= 0 {
			r.TimestampDelta64 = int64(i)
		}
		for j := range r.Value {
			r.Value[j] = byte(i + j)
		}
		body := r.AppendTo(nil) // Length 0 encodes as one byte
		r.Length = int32(len(body) - 1)
		recs = r.AppendTo(recs)
	}
	maxTs := ts
	if ts >= 0 {
		maxTs = ts + int64(n-1)
	}
	rb := kmsg.RecordBatch{
		PartitionLeaderEpoch: -1,
		Magic:                2,
		Attributes:           attrs,
		LastOffsetDelta:      int32(n - 1),
		FirstTimestamp:       ts,
		MaxTimestamp:         maxTs,
		ProducerID:           -1,
		ProducerEpoch:        -1,
		FirstSequence:        -1,
		NumRecords:           int32(n),
		Records:              recs,
	}
	b := rb.AppendTo(nil)
	binary.BigEndian.PutUint32(b[8:], uint32(len(b)-12))
	binary.BigEndian.PutUint32(b[17:], crc32.Checksum(b[21:], castagnoli))
	return b
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.UnixMilli(1_700_000_000_000)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func testConfig() Config { return Config{}.Defaults() }

func openLog(t testing.TB, dir string, cfg Config, fsys fs.FS, clock Clock, clean bool) *Log {
	t.Helper()
	if fsys == nil {
		fsys = fs.OS()
	}
	l, err := Open(context.Background(), dir, cfg, Options{FS: fsys, Clock: clock, CleanShutdown: clean})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return l
}

func mustAppend(t testing.TB, l *Log, b []byte, epoch int32) AppendInfo {
	t.Helper()
	info, err := l.Append(b, epoch)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	return info
}

// chunkBytes reads a ReadResult's bytes.
func chunkBytes(t testing.TB, res ReadResult) []byte {
	t.Helper()
	out := make([]byte, 0, res.Size)
	var total int64
	for _, c := range res.Chunks {
		b := make([]byte, c.Len)
		if _, err := c.File.ReadAt(b, c.Pos); err != nil {
			t.Fatalf("ReadAt chunk %+v: %v", c, err)
		}
		out = append(out, b...)
		total += c.Len
	}
	if total != res.Size {
		t.Fatalf("chunks sum to %d, Size %d", total, res.Size)
	}
	return out
}

// splitBatches validates and splits concatenated batches.
func splitBatches(t testing.TB, b []byte) []batch.Header {
	t.Helper()
	var hs []batch.Header
	for len(b) > 0 {
		h, err := batch.ParseHeader(b)
		if err != nil || h.Size() > int64(len(b)) {
			t.Fatalf("bad batch in read result: %v (size %d of %d)", err, h.Size(), len(b))
		}
		if _, err := batch.Validate(b[:h.Size()]); err != nil {
			t.Fatalf("batch at offset %d: %v", h.BaseOffset, err)
		}
		hs = append(hs, h)
		b = b[h.Size():]
	}
	return hs
}

// readAllBatches reads the whole log through Read and checks that offsets
// are contiguous from the log start offset's batch to the end.
func readAllBatches(t testing.TB, l *Log) []batch.Header {
	t.Helper()
	var all []batch.Header
	off := l.LogStartOffset()
	for off < l.LogEndOffset() {
		res, err := l.Read(off, 1<<20, l.LogEndOffset(), true)
		if err != nil {
			t.Fatalf("Read(%d): %v", off, err)
		}
		hs := splitBatches(t, chunkBytes(t, res))
		if len(hs) == 0 {
			t.Fatalf("Read(%d) returned nothing below LEO %d", off, l.LogEndOffset())
		}
		for _, h := range hs {
			if len(all) > 0 && h.BaseOffset != all[len(all)-1].NextOffset() {
				t.Fatalf("gap or overlap: batch %d after %d", h.BaseOffset, all[len(all)-1].NextOffset())
			}
			all = append(all, h)
		}
		off = hs[len(hs)-1].NextOffset()
	}
	return all
}
