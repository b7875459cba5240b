package partition

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/samsa-streaming/samsa/internal/batch"
	"github.com/samsa-streaming/samsa/internal/config"
)

// ErrMemoryBusy: a recompression could not reserve its bytes from the
// broker's request budget (queued.max.request.bytes) in time. The batch is
// not appended; the producer retries (REQUEST_TIMED_OUT).
var ErrMemoryBusy = errors.New("partition: request memory budget busy; recompression not started")

// MemoryBudget is the broker-wide byte budget request bodies take
// (protocol.Budget). Acquire of more than its size takes all of it.
type MemoryBudget interface {
	Acquire(ctx context.Context, n int64) error
	Release(n int64)
}

// RecompressBudget is shared by a manager's partitions: the budget a
// recompression reserves its buffers from, set once the broker has made
// it (nil: unbounded, queued.max.request.bytes=-1).
type RecompressBudget struct {
	b atomic.Pointer[budgetRef]
	// Wait bounds how long a recompression waits for bytes.
	wait atomic.Int64
}

type budgetRef struct{ MemoryBudget }

// defaultRecompressWait is how long an append waits for budget bytes: a
// request holding its own frame bytes must not wait forever behind others
// that do the same.
const defaultRecompressWait = 10 * time.Second

// Set installs the budget and how long an append waits for it (0: the
// default, 10 s).
func (r *RecompressBudget) Set(b MemoryBudget, wait time.Duration) {
	if wait <= 0 {
		wait = defaultRecompressWait
	}
	r.wait.Store(int64(wait))
	if b == nil {
		r.b.Store(nil)
		return
	}
	r.b.Store(&budgetRef{b})
}

// reserve takes n bytes, or fails with ErrMemoryBusy after the wait. The
// returned func gives them back.
func (r *RecompressBudget) reserve(n int64) (func(), error) {
	if r == nil {
		return func() {}, nil
	}
	ref := r.b.Load()
	if ref == nil {
		return func() {}, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(r.wait.Load()))
	defer cancel()
	if err := ref.Acquire(ctx, n); err != nil {
		return nil, fmt.Errorf("%w (%d bytes)", ErrMemoryBusy, n)
	}
	return func() { ref.Release(n) }, nil
}

// recompress rewrites records with the topic's codec when it names one the
// producer did not use, under the recompression budget: the decompressed
// records section and the new batch (at most its size again) are reserved
// before they are allocated. decompressed is the size validation measured.
func (p *Partition) recompress(records []byte, h batch.Header, decompressed int64, cfg *config.Topic) ([]byte, batch.Header, error) {
	want, ok := targetCodec(cfg.CompressionType)
	if !ok || want == h.Codec() {
		return records, h, nil
	}
	release, err := p.recompressBudget.reserve(2*decompressed + batch.HeaderSize)
	if err != nil {
		return nil, h, err
	}
	defer release()
	rb, err := batch.Recompress(records, want, maxDecompressed)
	if err != nil {
		return nil, h, fmt.Errorf("%w: %v", ErrInvalidRecord, err)
	}
	// Kafka checks the size again after recompression (UnifiedLog's
	// re-validation): MESSAGE_TOO_LARGE.
	if int64(len(rb)) > int64(cfg.MaxMessageBytes)+batch.LogOverhead && cfg.MaxMessageBytes >= 0 {
		return nil, h, fmt.Errorf("%w: %d bytes after recompression to %s", ErrTooLarge, len(rb), cfg.CompressionType)
	}
	if h, err = batch.ParseHeader(rb); err != nil {
		return nil, h, fmt.Errorf("%w: %v", ErrInvalidRecord, err)
	}
	return rb, h, nil
}
