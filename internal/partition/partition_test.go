package partition

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/batch"
	"github.com/samsa-streaming/samsa/internal/config"
	"github.com/samsa-streaming/samsa/internal/fs"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time { return c.t }

func testConfig() config.Topic {
	b := config.Broker{}.Defaults()
	return b.ResolveTopic(config.Dynamic{}, nil)
}

func openTest(t *testing.T, dir string, cfg config.Topic, clock Clock) *Partition {
	t.Helper()
	p, err := Open(context.Background(), dir, "t", 0, cfg, Options{FS: fs.OS(), Logger: slog.New(slog.DiscardHandler), Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func idemBatch(t *testing.T, pid int64, epoch int16, seq int32, n int, ts int64) []byte {
	t.Helper()
	recs := make([]batch.Record, n)
	for i := range recs {
		recs[i].Value = []byte{byte(i)}
	}
	b, err := batch.Build(batch.CodecNone, recs, batch.BuildOptions{BaseTimestamp: ts, ProducerID: pid, ProducerEpoch: epoch, BaseSequence: seq, Idempotent: true})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestIdempotentProducer(t *testing.T) {
	clock := &fakeClock{time.UnixMilli(1_700_000_000_000)}
	dir := t.TempDir()
	p := openTest(t, dir, testConfig(), clock)
	ts := clock.t.UnixMilli()

	r0, err := p.Append(idemBatch(t, 7, 0, 0, 3, ts), -1)
	if err != nil || r0.BaseOffset != 0 {
		t.Fatalf("first batch: %+v %v", r0, err)
	}
	r1, err := p.Append(idemBatch(t, 7, 0, 3, 2, ts), -1)
	if err != nil || r1.BaseOffset != 3 {
		t.Fatalf("second batch: %+v %v", r1, err)
	}
	// A retry of the first batch gets its original offset back.
	dup, err := p.Append(idemBatch(t, 7, 0, 0, 3, ts), -1)
	if err != nil || !dup.Duplicate || dup.BaseOffset != 0 {
		t.Fatalf("retried batch: %+v %v", dup, err)
	}
	// A gap is out of order.
	if _, err := p.Append(idemBatch(t, 7, 0, 9, 1, ts), -1); !errors.Is(err, ErrOutOfOrderSequence) {
		t.Fatalf("gap: %v", err)
	}
	// A new epoch must start at 0; then the old epoch is fenced.
	if _, err := p.Append(idemBatch(t, 7, 1, 5, 1, ts), -1); !errors.Is(err, ErrOutOfOrderSequence) {
		t.Fatalf("new epoch not at 0: %v", err)
	}
	if _, err := p.Append(idemBatch(t, 7, 1, 0, 1, ts), -1); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Append(idemBatch(t, 7, 0, 5, 1, ts), -1); !errors.Is(err, ErrInvalidEpoch) {
		t.Fatalf("stale epoch: %v", err)
	}
	if got := p.LogEndOffset(); got != 6 {
		t.Fatalf("LEO %d, want 6", got)
	}

	// Only the last five batches are remembered.
	for i := int32(1); i <= 6; i++ {
		if _, err := p.Append(idemBatch(t, 7, 1, i, 1, ts), -1); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.Append(idemBatch(t, 7, 1, 1, 1, ts), -1); !errors.Is(err, ErrOutOfOrderSequence) {
		t.Fatalf("sixth-oldest batch should be forgotten, got %v", err)
	}
	if r, err := p.Append(idemBatch(t, 7, 1, 6, 1, ts), -1); err != nil || !r.Duplicate {
		t.Fatalf("recent duplicate: %+v %v", r, err)
	}

	// The state survives a clean restart (snapshot) and an unclean one
	// (rebuilt from the log).
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	for _, clean := range []bool{true, false} {
		q, err := Open(context.Background(), dir, "t", 0, testConfig(), Options{FS: fs.OS(), Logger: slog.New(slog.DiscardHandler), Clock: clock, CleanShutdown: clean})
		if err != nil {
			t.Fatal(err)
		}
		if r, err := q.Append(idemBatch(t, 7, 1, 6, 1, ts), -1); err != nil || !r.Duplicate {
			t.Fatalf("clean=%v: duplicate after restart: %+v %v", clean, r, err)
		}
		if _, err := q.Append(idemBatch(t, 7, 1, 9, 1, ts), -1); !errors.Is(err, ErrOutOfOrderSequence) {
			t.Fatalf("clean=%v: gap after restart: %v", clean, err)
		}
		if clean {
			q.Close()
		} else {
			q.log.Close()
		}
	}
}

func TestAppendValidation(t *testing.T) {
	clock := &fakeClock{time.UnixMilli(1_700_000_000_000)}
	cfg := testConfig()
	cfg.MaxMessageBytes = 200
	p := openTest(t, t.TempDir(), cfg, clock)
	defer p.Close()
	ts := clock.t.UnixMilli()

	good := idemBatch(t, -1, -1, -1, 1, ts)
	bad := append([]byte(nil), good...)
	bad[len(bad)-1] ^= 1
	if _, err := p.Append(bad, 1); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("bad CRC: %v", err)
	}
	if _, err := p.Append(idemBatch(t, -1, -1, -1, 40, ts), 1); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("too large: %v", err)
	}
	if _, err := p.Append(idemBatch(t, -1, -1, -1, 1, ts+2*3600_000), 1); !errors.Is(err, ErrInvalidTimestamp) {
		t.Fatalf("future timestamp: %v", err)
	}
	if _, err := p.Append(good, 1); err != nil {
		t.Fatal(err)
	}

	cfg.MinInsyncReplicas = 2
	p.SetConfig(cfg)
	if _, err := p.Append(idemBatch(t, -1, -1, -1, 1, ts), -1); !errors.Is(err, ErrNotEnoughISR) {
		t.Fatalf("acks=all below min.insync.replicas: %v", err)
	}
	if _, err := p.Append(idemBatch(t, -1, -1, -1, 1, ts), 1); err != nil {
		t.Fatalf("acks=1 ignores min.insync.replicas: %v", err)
	}
}

func TestLogAppendTimeAndRecompression(t *testing.T) {
	clock := &fakeClock{time.UnixMilli(1_700_000_000_000)}
	cfg := testConfig()
	cfg.LogAppendTime = true
	cfg.CompressionType = "zstd"
	p := openTest(t, t.TempDir(), cfg, clock)
	defer p.Close()
	res, err := p.Append(idemBatch(t, -1, -1, -1, 5, 1), 1)
	if err != nil {
		t.Fatal(err)
	}
	if res.LogAppendTime != clock.t.UnixMilli() {
		t.Fatalf("log append time %d", res.LogAppendTime)
	}
	rr, err := p.Log().Read(0, 1<<20, p.HighWatermark(), true)
	if err != nil || len(rr.Chunks) == 0 {
		t.Fatal(err)
	}
	buf := make([]byte, rr.Chunks[0].Len)
	rr.Chunks[0].File.ReadAt(buf, rr.Chunks[0].Pos)
	h, err := batch.Validate(buf)
	if err != nil {
		t.Fatalf("stored batch invalid: %v", err)
	}
	if h.Codec() != batch.CodecZstd || !h.LogAppendTime() || h.MaxTimestamp != clock.t.UnixMilli() {
		t.Fatalf("stored header %+v", h)
	}
	recs, err := batch.Records(buf, 1<<20)
	if err != nil || len(recs) != 5 {
		t.Fatalf("records: %d %v", len(recs), err)
	}
}

// TestRecompressedSizeChecked checks that max.message.bytes applies again
// after recompression, as in Kafka: a batch that fits compressed but not
// once the topic's compression.type has rewritten it is refused with
// ErrTooLarge (MESSAGE_TOO_LARGE) and nothing is appended.
func TestRecompressedSizeChecked(t *testing.T) {
	clock := &fakeClock{time.UnixMilli(1_700_000_000_000)}
	cfg := testConfig()
	cfg.CompressionType = "uncompressed"
	cfg.MaxMessageBytes = 4096
	p := openTest(t, t.TempDir(), cfg, clock)
	defer p.Close()
	recs := []batch.Record{{Value: make([]byte, 64<<10)}} // zeros: compresses to little
	b, err := batch.Build(batch.CodecZstd, recs, batch.BuildOptions{BaseTimestamp: clock.t.UnixMilli(), ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1})
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 4096 {
		t.Fatalf("compressed batch of %d bytes does not fit the limit", len(b))
	}
	if _, err := p.Append(b, 1); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("append of a batch too large once recompressed: %v", err)
	}
	if p.Log().LogEndOffset() != 0 {
		t.Fatalf("log end %d after a refused batch", p.Log().LogEndOffset())
	}
}

func TestChangedWakesWaiters(t *testing.T) {
	clock := &fakeClock{time.UnixMilli(1_700_000_000_000)}
	p := openTest(t, t.TempDir(), testConfig(), clock)
	defer p.Close()
	ch := p.Changed()
	select {
	case <-ch:
		t.Fatal("closed before any append")
	default:
	}
	if _, err := p.Append(idemBatch(t, -1, -1, -1, 1, clock.t.UnixMilli()), 1); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ch:
	case <-time.After(time.Second):
		t.Fatal("append did not wake the waiter")
	}
	if p.HighWatermark() != 1 {
		t.Fatalf("HW %d", p.HighWatermark())
	}
}
