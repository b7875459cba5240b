package partition

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/batch"
	"github.com/samsa-streaming/samsa/internal/fs"
	"github.com/samsa-streaming/samsa/internal/protocol"
)

// TestRecompressionUnderBudget checks that a recompression reserves its
// buffers (twice the decompressed records section) from the broker's
// request budget: with the budget held by others the append waits, then
// fails with ErrMemoryBusy and appends nothing; once bytes are free it
// succeeds and gives them all back.
func TestRecompressionUnderBudget(t *testing.T) {
	clock := &fakeClock{time.UnixMilli(1_700_000_000_000)}
	cfg := testConfig()
	cfg.CompressionType = "uncompressed"
	budget, err := protocol.NewBudget(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	rb := new(RecompressBudget)
	rb.Set(budget, 50*time.Millisecond)
	p, err := Open(context.Background(), t.TempDir(), "t", 0, cfg, Options{
		FS: fs.OS(), Logger: slog.New(slog.DiscardHandler), Clock: clock, Recompress: rb,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	recs := []batch.Record{{Value: make([]byte, 200<<10)}} // 200 KiB of zeros
	b, err := batch.Build(batch.CodecZstd, recs, batch.BuildOptions{BaseTimestamp: clock.t.UnixMilli(), ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1})
	if err != nil {
		t.Fatal(err)
	}
	// Others hold all but 256 KiB: the ~400 KiB the recompression needs
	// is not there.
	if err := budget.Acquire(context.Background(), 768<<10); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Append(append([]byte(nil), b...), 1); !errors.Is(err, ErrMemoryBusy) {
		t.Fatalf("append with the budget held: %v", err)
	}
	if p.Log().LogEndOffset() != 0 {
		t.Fatalf("log end %d after a refused append", p.Log().LogEndOffset())
	}
	budget.Release(768 << 10)
	if _, err := p.Append(append([]byte(nil), b...), 1); err != nil {
		t.Fatalf("append with the budget free: %v", err)
	}
	// Every byte came back: the whole budget can be taken at once.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := budget.Acquire(ctx, 1<<20); err != nil {
		t.Fatalf("budget not fully released after the append: %v", err)
	}
	budget.Release(1 << 20)
}
