package log

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// CleanerConfig holds the broker-level cleaner settings; field comments
// give Kafka's names.
type CleanerConfig struct {
	// IOMaxBytesPerSecond caps the cleaner's reads plus writes
	// (log.cleaner.io.max.bytes.per.second). Kafka's default is unlimited;
	// Samsa's leaves room for produce and fetch traffic on one disk.
	IOMaxBytesPerSecond int64
	// BackoffMs is the sleep when no log needs cleaning, and the hold-off
	// of a log whose pass failed (log.cleaner.backoff.ms).
	BackoffMs int64
	// DedupeBufferSize bounds the offset map's memory
	// (log.cleaner.dedupe.buffer.size); a dirty section with more keys is
	// cleaned over several passes.
	DedupeBufferSize int64
}

// Defaults returns the defaults; the receiver is ignored.
func (CleanerConfig) Defaults() CleanerConfig {
	return CleanerConfig{
		IOMaxBytesPerSecond: 256 << 20,
		BackoffMs:           15000,
		DedupeBufferSize:    128 << 20,
	}
}

// Validate checks the settings.
func (c CleanerConfig) Validate() error {
	var errs []error
	if c.IOMaxBytesPerSecond < 1 {
		errs = append(errs, fmt.Errorf("cleaner config: log.cleaner.io.max.bytes.per.second = %d, want >= 1", c.IOMaxBytesPerSecond))
	}
	if c.BackoffMs < 0 {
		errs = append(errs, fmt.Errorf("cleaner config: log.cleaner.backoff.ms = %d, want >= 0", c.BackoffMs))
	}
	if c.DedupeBufferSize < 1024 {
		errs = append(errs, fmt.Errorf("cleaner config: log.cleaner.dedupe.buffer.size = %d, want >= 1024", c.DedupeBufferSize))
	}
	return errors.Join(errs...)
}

// Cleaner compacts the logs registered with it, one at a time, in the
// background (Kafka's LogCleaner with one thread): each round it picks the
// log whose Cleanable is Due with the highest dirty ratio and runs a pass
// on it, deduplicating up to the last stable offset the partition set with
// SetLastStableOffset. Reads and writes share one bytes/second budget.
//
// The broker owns it: Run blocks until its context is cancelled. Remove a
// log before closing or deleting it; Remove waits for a pass on that log
// to stop.
type Cleaner struct {
	cfg   CleanerConfig
	lg    *slog.Logger
	clock Clock
	th    *throttle // used only by Run's goroutine

	mu      sync.Mutex
	cond    *sync.Cond // signalled when current changes
	logs    map[*Log]struct{}
	current *Log
	cancel  context.CancelFunc
	wake    chan struct{}

	uncleanable atomic.Int64 // Uncleanable
}

// NewCleaner returns a Cleaner; nil lg and clock get a discarding logger
// and the wall clock. The clock decides compaction lags and delete
// horizons; the throttle and the backoff sleep on the wall clock.
func NewCleaner(cfg CleanerConfig, lg *slog.Logger, clock Clock) (*Cleaner, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	if clock == nil {
		clock = wallClock{}
	}
	c := &Cleaner{cfg: cfg, lg: lg.With("component", "log-cleaner"), clock: clock,
		th: &throttle{rate: float64(cfg.IOMaxBytesPerSecond)}, logs: map[*Log]struct{}{}, wake: make(chan struct{}, 1)}
	c.cond = sync.NewCond(&c.mu)
	return c, nil
}

// Add registers a log. Logs without Compact in their config are skipped
// until a SetConfig turns it on.
func (c *Cleaner) Add(l *Log) {
	c.mu.Lock()
	c.logs[l] = struct{}{}
	c.mu.Unlock()
	c.Wake()
}

// Remove unregisters a log, cancelling and waiting for a pass on it.
func (c *Cleaner) Remove(l *Log) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.logs, l)
	for c.current == l {
		c.cancel()
		c.cond.Wait()
	}
}

// Wake makes a sleeping Run look for work now.
func (c *Cleaner) Wake() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// Run cleans until ctx is cancelled, then returns nil once the pass in
// progress has stopped (its output is discarded; groups it already
// swapped in stay). Call it from one goroutine only.
func (c *Cleaner) Run(ctx context.Context) error {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		cleaned := c.cleanOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if cleaned {
			continue
		}
		timer.Reset(time.Duration(c.cfg.BackoffMs) * time.Millisecond)
		select {
		case <-ctx.Done():
			return nil
		case <-c.wake:
			timer.Stop() // Go 1.23+ timers: no stale value to drain
		case <-timer.C:
		}
	}
}

// pick returns the log most in need of cleaning, or nil.
func (c *Cleaner) pick(now time.Time) *Log {
	c.mu.Lock()
	logs := make([]*Log, 0, len(c.logs))
	for l := range c.logs {
		logs = append(logs, l)
	}
	c.mu.Unlock()
	var best *Log
	bestRatio := -1.0
	for _, l := range logs {
		if l.closed.Load() || !l.cfg.Load().Compact || l.cleaning.retryAt.Load() > now.UnixMilli() || holdsBadBatch(l) {
			continue
		}
		info := l.Cleanable(now, l.cleaning.stable.Load())
		ratio := info.DirtyRatio
		if info.MaxLagExceeded || info.HorizonPassed {
			ratio += 1 // overdue logs first
		}
		if info.Due && ratio > bestRatio {
			best, bestRatio = l, ratio
		}
	}
	return best
}

// holdsBadBatch reports whether l still holds the batch its last pass
// could not decode; once retention, DeleteRecords or a truncation removed
// it, the log is cleaned again.
func holdsBadBatch(l *Log) bool {
	bad := l.cleaning.badBatch.Load() - 1
	if bad < 0 {
		return false
	}
	if bad >= l.lso.Load() && bad < l.leo.Load() {
		return true
	}
	l.cleaning.badBatch.Store(0)
	return false
}

// Uncleanable is how many times a pass found a batch it could not decode
// and set its log aside (Kafka's uncleanable partitions), since the
// cleaner started.
func (c *Cleaner) Uncleanable() int64 { return c.uncleanable.Load() }

// cleanOnce runs at most one pass and reports whether one ran to its end.
func (c *Cleaner) cleanOnce(ctx context.Context) bool {
	now := c.clock.Now()
	l := c.pick(now)
	if l == nil {
		return false
	}
	c.mu.Lock()
	if _, ok := c.logs[l]; !ok {
		c.mu.Unlock()
		return false
	}
	cctx, cancel := context.WithCancel(ctx)
	c.current, c.cancel = l, cancel
	c.mu.Unlock()

	start := time.Now()
	stats, err := l.clean(cctx, now, l.cleaning.stable.Load(), c.th, int(c.cfg.DedupeBufferSize/mapEntryBytes))
	cancelled := cctx.Err() != nil // Stop or Remove
	cancel()
	c.mu.Lock()
	c.current, c.cancel = nil, nil
	c.cond.Broadcast()
	c.mu.Unlock()

	var bad *uncleanableError
	switch {
	case cancelled || errors.Is(err, ErrClosed):
		return false
	case errors.As(err, &bad):
		// Kafka's LogCleaner marks the partition uncleanable; so does
		// this, until the batch leaves the log. The other logs go on.
		l.cleaning.badBatch.Store(bad.offset + 1)
		c.uncleanable.Add(1)
		c.lg.Warn("not cleaning log: it holds a batch the cleaner cannot decode", "log", l.dir, "offset", bad.offset, "err", bad.err)
		return false
	case err != nil:
		l.cleaning.retryAt.Store(now.UnixMilli() + c.cfg.BackoffMs)
		c.lg.Error("cleaning failed", "log", l.dir, "err", err)
		return false
	case stats.Aborted:
		c.lg.Debug("cleaning stopped by a concurrent change", "log", l.dir)
		return false
	}
	c.lg.Info("cleaned log", "log", l.dir, "first_dirty", stats.FirstDirtyOffset, "end", stats.EndOffset,
		"segments", stats.SegmentsCleaned, "into", stats.SegmentsWritten, "read", stats.BytesRead,
		"written", stats.BytesWritten, "records_removed", stats.RecordsRemoved, "took", time.Since(start))
	return true
}

// throttle holds an average rate of bytes per second over one-second
// windows (Kafka's Throttler).
type throttle struct {
	rate  float64
	start time.Time
	bytes int64
}

func (t *throttle) wait(ctx context.Context, n int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	now := time.Now()
	if t.start.IsZero() || now.Sub(t.start) > time.Second {
		t.start, t.bytes = now, 0
	}
	t.bytes += n
	want := time.Duration(float64(t.bytes) / t.rate * float64(time.Second))
	if d := want - now.Sub(t.start); d > time.Millisecond {
		tm := time.NewTimer(d)
		defer tm.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tm.C:
		}
	}
	return nil
}
