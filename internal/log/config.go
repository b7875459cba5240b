package log

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/samsa-streaming/samsa/internal/fs"
)

// Config holds the topic-level settings the log enforces. Field comments
// give the Kafka topic config names.
type Config struct {
	SegmentBytes       int64 // segment.bytes
	SegmentMs          int64 // segment.ms
	RetentionMs        int64 // retention.ms (-1: unlimited)
	RetentionBytes     int64 // retention.bytes (-1: unlimited)
	IndexIntervalBytes int32 // index.interval.bytes
	SegmentIndexBytes  int32 // segment.index.bytes
	FlushMessages      int64 // flush.messages
	FlushMs            int64 // flush.ms
	FileDeleteDelayMs  int64 // file.delete.delay.ms

	// Compaction (cleanup.policy=compact or compact,delete); see clean.go.
	Compact                bool    // cleanup.policy includes compact
	DeleteRetentionMs      int64   // delete.retention.ms
	MinCleanableDirtyRatio float64 // min.cleanable.dirty.ratio
	MinCompactionLagMs     int64   // min.compaction.lag.ms
	MaxCompactionLagMs     int64   // max.compaction.lag.ms
}

// Defaults returns Kafka's defaults; the receiver is ignored.
func (Config) Defaults() Config {
	return Config{
		SegmentBytes:       1 << 30,
		SegmentMs:          7 * 24 * 60 * 60 * 1000,
		RetentionMs:        7 * 24 * 60 * 60 * 1000,
		RetentionBytes:     -1,
		IndexIntervalBytes: 4096,
		SegmentIndexBytes:  10 << 20,
		FlushMessages:      math.MaxInt64,
		FlushMs:            math.MaxInt64,
		FileDeleteDelayMs:  60000,

		DeleteRetentionMs:      24 * 60 * 60 * 1000,
		MinCleanableDirtyRatio: 0.5,
		MinCompactionLagMs:     0,
		MaxCompactionLagMs:     math.MaxInt64,
	}
}

// maxSegmentMs is segment.ms as the roll check applies it: Kafka rolls a
// compacted log's active segment after max.compaction.lag.ms too, so that
// the cleaner can reach its records in time.
func (c *Config) maxSegmentMs() int64 {
	if c.Compact {
		return min(c.SegmentMs, c.MaxCompactionLagMs)
	}
	return c.SegmentMs
}

// Validate checks the settings against Kafka's bounds. segment.bytes is
// also capped at 2 GiB - 1 because index positions are 32-bit.
func (c Config) Validate() error {
	var errs []error
	bad := func(name string, v any, want string) {
		errs = append(errs, fmt.Errorf("log config: %s = %v, want %s", name, v, want))
	}
	if c.SegmentBytes < 14 || c.SegmentBytes > math.MaxInt32 {
		bad("segment.bytes", c.SegmentBytes, "14..2147483647")
	}
	if c.SegmentMs < 1 {
		bad("segment.ms", c.SegmentMs, ">= 1")
	}
	if c.RetentionMs < -1 {
		bad("retention.ms", c.RetentionMs, ">= -1")
	}
	if c.RetentionBytes < -1 {
		bad("retention.bytes", c.RetentionBytes, ">= -1")
	}
	if c.IndexIntervalBytes < 0 {
		bad("index.interval.bytes", c.IndexIntervalBytes, ">= 0")
	}
	if c.SegmentIndexBytes < timeEntrySize {
		bad("segment.index.bytes", c.SegmentIndexBytes, fmt.Sprintf(">= %d", timeEntrySize))
	}
	if c.FlushMessages < 1 {
		bad("flush.messages", c.FlushMessages, ">= 1")
	}
	if c.FlushMs < 0 {
		bad("flush.ms", c.FlushMs, ">= 0")
	}
	if c.FileDeleteDelayMs < 0 {
		bad("file.delete.delay.ms", c.FileDeleteDelayMs, ">= 0")
	}
	if c.DeleteRetentionMs < 0 {
		bad("delete.retention.ms", c.DeleteRetentionMs, ">= 0")
	}
	if !(c.MinCleanableDirtyRatio >= 0 && c.MinCleanableDirtyRatio <= 1) { // also refuses NaN
		bad("min.cleanable.dirty.ratio", c.MinCleanableDirtyRatio, "0..1")
	}
	if c.MinCompactionLagMs < 0 {
		bad("min.compaction.lag.ms", c.MinCompactionLagMs, ">= 0")
	}
	if c.MaxCompactionLagMs < 1 {
		bad("max.compaction.lag.ms", c.MaxCompactionLagMs, ">= 1")
	}
	if c.MinCompactionLagMs > c.MaxCompactionLagMs {
		bad("min.compaction.lag.ms", c.MinCompactionLagMs, fmt.Sprintf("<= max.compaction.lag.ms (%d)", c.MaxCompactionLagMs))
	}
	return errors.Join(errs...)
}

// Clock tells the time; tests inject a fake one.
type Clock interface{ Now() time.Time }

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

// Options are the log's collaborators. Nil fields get defaults: fs.OS(),
// a discarding logger and the wall clock.
type Options struct {
	FS     fs.FS
	Logger *slog.Logger
	Clock  Clock
	// CleanShutdown says the log was closed cleanly, so recovery (the CRC
	// scan of unflushed segments) is skipped.
	CleanShutdown bool
}

func (o Options) withDefaults() Options {
	if o.FS == nil {
		o.FS = fs.OS()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = wallClock{}
	}
	return o
}
