package partition

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/samsa-streaming/samsa/internal/batch"
	"github.com/samsa-streaming/samsa/internal/config"
	"github.com/samsa-streaming/samsa/internal/fs"
	"github.com/samsa-streaming/samsa/internal/log"
	"github.com/samsa-streaming/samsa/internal/metadata"
)

// Errors returned by Append; errcode.Code maps each to a Kafka
// error code.
var (
	ErrCorrupt          = errors.New("partition: corrupt record batch")
	ErrInvalidRecord    = errors.New("partition: invalid record batch")
	ErrTooLarge         = errors.New("partition: record batch larger than max.message.bytes")
	ErrInvalidTimestamp = errors.New("partition: timestamp out of the accepted range")
	// ErrUnsupportedCodec reports a batch flagged with a codec id Kafka
	// does not define.
	ErrUnsupportedCodec = errors.New("partition: unsupported compression type")
	ErrNotEnoughISR     = errors.New("partition: fewer in-sync replicas than min.insync.replicas")
	ErrClosed           = errors.New("partition: closed")
)

// maxDecompressed caps how far a batch may expand when the broker
// decompresses it: to validate its records (streamed, never held whole) and
// to recompress it to the topic's codec.
const maxDecompressed = 256 << 20

// Clock tells the time; tests inject a fake one.
type Clock interface{ Now() time.Time }

// Partition is one replica of a topic-partition on this broker.
type Partition struct {
	Topic   string
	Index   int32
	TopicID metadata.Uuid // zero when opened without one
	name    string        // "topic-index", for error messages
	dir     string
	lg      *slog.Logger
	clock   Clock
	fsys    fs.FS
	// recompressBudget bounds recompression buffers (recompress.go).
	recompressBudget *RecompressBudget

	mu        sync.Mutex // serialises appends and producer state
	log       *log.Log
	producers *producerState
	cfg       atomic.Pointer[config.Topic]
	closed    bool
	off       offlineState // partition_offline.go

	leaderEpoch atomic.Int32
	hw          atomic.Int64
	isrSize     atomic.Int32  // len(rep.state.ISR), for the lock-free min.insync.replicas check
	glance      atomic.Uint64 // leadership and replica counts for metrics (ReplicaStats)
	rep         replication   // guarded by mu (replica.go)

	waitMu  sync.Mutex
	changed chan struct{}

	samples timeSamples // (offset, timestamp) of appended batches (timesample.go)
}

// Options configure Open.
type Options struct {
	FS            fs.FS
	Logger        *slog.Logger
	Clock         Clock
	CleanShutdown bool
	// Self is this broker's id; State the image's view of the partition
	// (nil: a single replica, Self, leading at LeaderEpoch).
	Self  int32
	State *LeaderState
	// HighWatermark is the checkpointed high watermark (-1: the log end,
	// right for a single replica).
	HighWatermark int64
	LeaderEpoch   int32
	// ProducerIDExpirationMs is producer.id.expiration.ms: producer ids
	// idle that long are not loaded back (0: Kafka's default, one day).
	ProducerIDExpirationMs int64
	// TopicID is the topic's id. When set, the directory must hold it in
	// partition.metadata (one without the file is adopted and gets it
	// before the log opens); a directory of another id is refused with
	// ErrTopicIDMismatch.
	TopicID metadata.Uuid
	// OnStorageError is told when a storage error takes the partition
	// offline (partition_offline.go); it must not block or lock p.
	OnStorageError func(p *Partition, err error)
	// Recompress is the budget recompression reserves from (nil:
	// unbounded).
	Recompress *RecompressBudget
}

// DirName is a partition's directory name, as Kafka names it.
func DirName(topic string, index int32) string { return fmt.Sprintf("%s-%d", topic, index) }

// LogConfig translates resolved topic settings to the log's settings.
func LogConfig(t config.Topic) log.Config {
	c := log.Config{}.Defaults()
	c.SegmentBytes = t.SegmentBytes
	c.SegmentMs = t.SegmentMs
	c.RetentionMs = t.RetentionMs
	c.RetentionBytes = t.RetentionBytes
	if !t.CleanupDelete {
		// compact-only topics are not trimmed by time or size
		c.RetentionMs, c.RetentionBytes = -1, -1
	}
	c.IndexIntervalBytes = t.IndexIntervalBytes
	c.SegmentIndexBytes = t.SegmentIndexBytes
	c.FlushMessages = t.FlushMessages
	c.FlushMs = t.FlushMs
	c.FileDeleteDelayMs = t.FileDeleteDelayMs
	c.Compact = t.CleanupCompact
	c.DeleteRetentionMs = t.DeleteRetentionMs
	c.MinCleanableDirtyRatio = t.MinCleanableRatio
	c.MinCompactionLagMs = t.MinCompactionLagMs
	c.MaxCompactionLagMs = t.MaxCompactionLagMs
	return c
}

// Open opens (creating if needed) the partition directory under dataDir.
func Open(ctx context.Context, dataDir, topic string, index int32, cfg config.Topic, opts Options) (*Partition, error) {
	p := &Partition{
		Topic: topic, Index: index,
		name:    DirName(topic, index),
		dir:     filepath.Join(dataDir, DirName(topic, index)),
		lg:      opts.Logger.With("topic", topic, "partition", index),
		clock:   opts.Clock,
		fsys:    opts.FS,
		changed: make(chan struct{}),
	}
	p.cfg.Store(&cfg)
	if !opts.TopicID.IsZero() {
		if err := claimDir(opts.FS, p.dir, opts.TopicID); err != nil {
			return nil, err
		}
		p.TopicID = opts.TopicID
	}
	p.off.hook = opts.OnStorageError
	p.recompressBudget = opts.Recompress
	l, err := log.Open(ctx, p.dir, LogConfig(cfg), log.Options{FS: opts.FS, Logger: p.lg, Clock: opts.Clock, CleanShutdown: opts.CleanShutdown})
	if err != nil {
		return nil, fmt.Errorf("open log %s: %w", p.dir, err)
	}
	p.log = l
	p.leaderEpoch.Store(max(opts.LeaderEpoch, 0))
	hw := l.LogEndOffset()
	if opts.HighWatermark >= 0 && opts.HighWatermark < hw && opts.State != nil && len(opts.State.Replicas) > 1 {
		hw = opts.HighWatermark
	} else if opts.HighWatermark < 0 && opts.State != nil && len(opts.State.Replicas) > 1 {
		// No checkpoint: nothing is known committed (Kafka starts at 0).
		hw = l.LogStartOffset()
	}
	p.hw.Store(hw)
	if err := p.loadProducers(); err != nil {
		l.Close()
		return nil, err
	}
	p.expireProducersLocked(opts.Clock.Now(), opts.ProducerIDExpirationMs)
	p.hw.Store(hw)
	p.publishLSO()
	st := LeaderState{Leader: opts.Self, LeaderEpoch: max(opts.LeaderEpoch, 0), Replicas: []int32{opts.Self}, ISR: []int32{opts.Self}}
	if opts.State != nil {
		st = *opts.State
	}
	p.SetState(opts.Self, st, opts.Clock.Now())
	return p, nil
}

const producerSnapshotFile = "producer-state.snapshot"

// loadProducers rebuilds the idempotence table: the snapshot written at the
// last clean close, then every batch after it.
func (p *Partition) loadProducers() error {
	p.producers = newProducerState()
	from := p.log.LogStartOffset()
	path := filepath.Join(p.dir, producerSnapshotFile)
	if b, err := readFile(p.fsys, path); err == nil {
		s, upTo, derr := decodeProducerState(b)
		if derr == nil && upTo <= p.log.LogEndOffset() && upTo >= from {
			p.producers, from = s, upTo
		} else if derr != nil {
			p.lg.Warn("ignoring producer state snapshot", "err", derr)
		}
	}
	// Scanning only the tail is enough for the last five batches of each
	// producer in nearly all cases; a full scan happens only without a
	// snapshot.
	err := p.log.ScanBatches(from, func(h batch.Header, b []byte) error {
		first := p.producers.update(&h)
		if first >= 0 && h.IsControl() {
			if commit, cerr := batch.ControlType(b); cerr == nil && !commit && !p.log.HasAbortedTxn(h.ProducerID, h.BaseOffset) {
				// The marker made it to the log but its index entry did
				// not (a crash between the two): rebuild it.
				return p.log.AppendAbortedTxn(log.AbortedTxn{ProducerID: h.ProducerID, FirstOffset: first, LastOffset: h.BaseOffset, LastStableOffset: first})
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	p.publishLSO()
	return nil
}

// publishLSO tells the log the last stable offset, which bounds compaction.
// Callers hold p.mu or own the partition exclusively.
func (p *Partition) publishLSO() {
	p.log.SetLastStableOffset(p.lastStableLocked())
}

func readFile(fsys fs.FS, path string) ([]byte, error) {
	f, err := fsys.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > 64<<20 {
		return nil, fmt.Errorf("%s: too large", path)
	}
	b := make([]byte, st.Size())
	n, err := f.ReadAt(b, 0)
	if n == len(b) {
		err = nil
	}
	return b[:n], err
}

func (p *Partition) writeProducerSnapshot() error {
	return fs.WriteFileAtomic(p.fsys, filepath.Join(p.dir, producerSnapshotFile), p.producers.encode(p.log.LogEndOffset()))
}

// Config returns the partition's effective topic settings.
func (p *Partition) Config() config.Topic { return *p.cfg.Load() }

// SetConfig applies changed topic settings.
func (p *Partition) SetConfig(cfg config.Topic) {
	p.cfg.Store(&cfg)
	p.log.SetConfig(LogConfig(cfg))
}

// LeaderEpoch is the partition's current leader epoch.
func (p *Partition) LeaderEpoch() int32 { return p.leaderEpoch.Load() }

// HighWatermark is the offset below which records are committed.
func (p *Partition) HighWatermark() int64 { return p.hw.Load() }

// LogEndOffset is the offset the next record gets.
func (p *Partition) LogEndOffset() int64 { return p.log.LogEndOffset() }

// LogStartOffset is the first offset still in the log.
func (p *Partition) LogStartOffset() int64 { return p.log.LogStartOffset() }

// LastStableOffset is the offset below which no transaction is open. Without
// transactions it is the high watermark.
func (p *Partition) LastStableOffset() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lastStableLocked()
}

// OngoingTxn reports the first offset of the producer's open transaction in
// this partition.
func (p *Partition) OngoingTxn(producerID int64) (firstOffset int64, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e, found := p.producers.entries[producerID]; found && e.TxnFirstOffset >= 0 {
		return e.TxnFirstOffset, true
	}
	return -1, false
}

// AbortedTxns lists the aborted transactions a read_committed fetch of
// [from, upTo) must skip.
func (p *Partition) AbortedTxns(from, upTo int64) []log.AbortedTxn {
	return p.log.AbortedTxns(from, upTo)
}

// AppendMarker writes a transaction marker (a COMMIT or ABORT control
// batch) for the producer and ends its open transaction here. An abort
// also goes into the aborted-transaction index, so read_committed fetches
// skip the transaction's records. A marker older than the producer's epoch
// is refused with ErrInvalidEpoch.
func (p *Partition) AppendMarker(producerID int64, epoch int16, commit bool, coordinatorEpoch int32) (int64, error) {
	now := p.clock.Now().UnixMilli()
	b := batch.BuildControlBatch(producerID, epoch, commit, coordinatorEpoch, now)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return -1, ErrClosed
	}
	if err := p.Offline(); err != nil {
		return -1, err
	}
	if e, ok := p.producers.entries[producerID]; ok && epoch < e.Epoch {
		return -1, fmt.Errorf("%w: marker epoch %d is older than the producer's %d", ErrInvalidEpoch, epoch, e.Epoch)
	}
	if !p.rep.leader {
		return -1, ErrNotLeader
	}
	lsoBefore := p.hw.Load()
	if first := p.producers.firstOpenTxn(); first >= 0 && first < lsoBefore {
		lsoBefore = first
	}
	info, err := p.log.Append(b, p.rep.state.LeaderEpoch)
	if err != nil {
		return -1, p.IOFailed("append marker", err)
	}
	h, err := batch.ParseHeader(b)
	if err != nil {
		return -1, err
	}
	h.BaseOffset = info.BaseOffset
	first := p.producers.update(&h)
	if !commit && first >= 0 {
		if err := p.log.AppendAbortedTxn(log.AbortedTxn{ProducerID: producerID, FirstOffset: first, LastOffset: info.BaseOffset, LastStableOffset: lsoBefore}); err != nil {
			return -1, p.IOFailed("append marker", err)
		}
	}
	p.publishLSO()
	p.advanceHWLocked()
	p.notify()
	return info.BaseOffset, nil
}

// Log exposes the partition's log for reads.
func (p *Partition) Log() *log.Log { return p.log }

// Changed returns a channel closed at the next append or high watermark
// move. Fetch long-polls select on it.
func (p *Partition) Changed() <-chan struct{} {
	p.waitMu.Lock()
	defer p.waitMu.Unlock()
	return p.changed
}

func (p *Partition) notify() {
	p.waitMu.Lock()
	close(p.changed)
	p.changed = make(chan struct{})
	p.waitMu.Unlock()
}

// AppendResult describes an accepted batch.
type AppendResult struct {
	BaseOffset     int64
	LastOffset     int64
	LeaderEpoch    int32 // the leader epoch the batch was appended under
	LogAppendTime  int64 // -1 unless the topic uses LogAppendTime
	LogStartOffset int64
	Duplicate      bool
}

// Append validates one record batch from a producer and appends it. records
// holds the batch bytes as received; it may be modified in place (offset and
// epoch fields). acks is the producer's acks setting.
func (p *Partition) Append(records []byte, acks int16) (AppendResult, error) {
	return p.AppendChecked(records, acks, nil)
}

// RecordCheck is a caller's check of each record of a produced batch
// (batch.ValidateOptions.Check): the broker's schema validation.
type RecordCheck func(i int, r *batch.Record) error

// AppendChecked is Append with check (when not nil) applied to every
// record during validation, in the same pass over the records (a
// compressed batch is decompressed once), before the batch is written: a
// refused record fails the append with ErrInvalidRecord wrapping
// *batch.RecordCheckError, and nothing is appended.
func (p *Partition) AppendChecked(records []byte, acks int16, check RecordCheck) (AppendResult, error) {
	res := AppendResult{BaseOffset: -1, LogAppendTime: -1}
	cfg := p.cfg.Load()
	if acks == -1 && p.isrSize.Load() < cfg.MinInsyncReplicas {
		return res, ErrNotEnoughISR
	}
	if int64(len(records)) > int64(cfg.MaxMessageBytes)+batch.LogOverhead && cfg.MaxMessageBytes >= 0 {
		return res, fmt.Errorf("%w: the record batch size in the append to %s is %d bytes which exceeds the maximum configured value of %d",
			ErrTooLarge, p.name, len(records), cfg.MaxMessageBytes)
	}
	now := p.clock.Now().UnixMilli()
	h, vinfo, err := p.validate(records, cfg, now, check)
	if err != nil {
		return res, err
	}
	if records, h, err = p.recompress(records, h, vinfo.Decompressed, cfg); err != nil {
		return res, err
	}
	if cfg.LogAppendTime {
		batch.SetLogAppendTime(records, now)
		h.MaxTimestamp = now // the producer state's last timestamp, as Kafka's
		res.LogAppendTime = now
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return res, ErrClosed
	}
	if err := p.Offline(); err != nil {
		return res, err
	}
	if !p.rep.leader {
		return res, ErrNotLeader
	}
	res.LeaderEpoch = p.rep.state.LeaderEpoch
	if h.HasProducerID() {
		dup, err := p.producers.check(&h)
		if err != nil {
			return res, err
		}
		if dup != nil {
			res.BaseOffset, res.LastOffset, res.Duplicate = dup.FirstOffset, dup.LastOffset, true
			res.LogStartOffset = p.log.LogStartOffset()
			return res, nil
		}
	}
	info, err := p.log.Append(records, p.rep.state.LeaderEpoch)
	if err != nil {
		return res, p.IOFailed("append", err)
	}
	h.BaseOffset = info.BaseOffset
	p.producers.update(&h)
	if !h.IsControl() {
		ts := h.BaseTimestamp
		if cfg.LogAppendTime {
			ts = now
		}
		p.samples.add(info.BaseOffset, ts)
	}
	// The batch is committed once every ISR member has it: at once when
	// the ISR is this broker alone, else as followers fetch.
	p.publishLSO()
	p.advanceHWLocked()
	p.notify()
	res.BaseOffset, res.LastOffset = info.BaseOffset, info.LastOffset
	res.LogStartOffset = p.log.LogStartOffset()
	return res, nil
}

// validate checks a producer's batch as Kafka's log layer and LogValidator
// do, reading every record, and returns its header. The only rewrite is
// Kafka's: on a CreateTime topic a batch whose max timestamp is not its
// records' largest (or that claims log-append time) gets the right one.
func (p *Partition) validate(records []byte, cfg *config.Topic, now int64, check RecordCheck) (batch.Header, batch.RecordsInfo, error) {
	var info batch.RecordsInfo
	h, err := batch.Validate(records)
	switch {
	case errors.Is(err, batch.ErrCodec):
		return h, info, fmt.Errorf("%w: %w", ErrUnsupportedCodec, err)
	case errors.Is(err, batch.ErrCRC) || errors.Is(err, batch.ErrShort) || errors.Is(err, batch.ErrLength):
		return h, info, fmt.Errorf("%w: %w in topic partition %s", ErrCorrupt, err, p.name)
	case err != nil:
		return h, info, fmt.Errorf("%w: %w in topic partition %s", ErrInvalidRecord, err, p.name)
	}
	if err := batch.CheckProduced(&h, p.name); err != nil {
		return h, info, fmt.Errorf("%w: %w", ErrInvalidRecord, err)
	}
	info, err = batch.ValidateRecords(&h, records, batch.ValidateOptions{
		Partition:       p.name,
		Compacted:       cfg.CleanupCompact,
		LogAppendTime:   cfg.LogAppendTime,
		Now:             now,
		BeforeMaxMs:     cfg.TimestampBeforeMaxMs,
		AfterMaxMs:      cfg.TimestampAfterMaxMs,
		MaxDecompressed: maxDecompressed,
		Check:           check,
	})
	if err != nil {
		return h, info, recordsErr(err, p.name)
	}
	if !cfg.LogAppendTime && (h.LogAppendTime() || info.MaxTimestamp != h.MaxTimestamp) {
		batch.SetCreateTime(records, info.MaxTimestamp)
		h.Attributes &^= batch.TimestampTypeBit
		h.MaxTimestamp = info.MaxTimestamp
	}
	return h, info, nil
}

// recordsErr maps ValidateRecords' errors to the partition's.
func recordsErr(err error, name string) error {
	var re *batch.RecordErrors
	switch {
	case errors.As(err, &re) && re.Timestamp:
		return fmt.Errorf("%w: %w", ErrInvalidTimestamp, err)
	case errors.As(err, &re), errors.Is(err, batch.ErrRecord), errors.As(err, new(*batch.RecordCheckError)):
		return fmt.Errorf("%w: %w", ErrInvalidRecord, err)
	case errors.Is(err, batch.ErrTooLarge):
		return fmt.Errorf("%w: records decompress to more than %d bytes in topic partition %s", ErrTooLarge, maxDecompressed, name)
	case errors.Is(err, batch.ErrCodec):
		return fmt.Errorf("%w: %w", ErrUnsupportedCodec, err)
	}
	return fmt.Errorf("%w: %w in topic partition %s", ErrCorrupt, err, name)
}

func targetCodec(compressionType string) (batch.Codec, bool) {
	switch compressionType {
	case "uncompressed":
		return batch.CodecNone, true
	case "gzip":
		return batch.CodecGzip, true
	case "snappy":
		return batch.CodecSnappy, true
	case "lz4":
		return batch.CodecLZ4, true
	case "zstd":
		return batch.CodecZstd, true
	}
	return 0, false
}

// DeleteRecords advances the log start offset (DeleteRecords API). offset -1
// means the high watermark.
func (p *Partition) DeleteRecords(offset int64) (int64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.Offline(); err != nil {
		return -1, err
	}
	hw := p.hw.Load()
	if offset == -1 {
		offset = hw
	}
	if offset < 0 || offset > hw {
		return -1, log.ErrOffsetOutOfRange
	}
	if offset > p.log.LogStartOffset() {
		if err := p.log.SetLogStartOffset(offset); err != nil {
			return -1, p.IOFailed("delete records", err)
		}
	}
	p.notify()
	return p.log.LogStartOffset(), nil
}

// ApplyRetention enforces retention.ms and retention.bytes.
func (p *Partition) ApplyRetention(now time.Time) error {
	if err := p.Offline(); err != nil {
		return err
	}
	_, err := p.log.ApplyRetention(now)
	return p.IOFailed("retention", err)
}

// Flush forces the log to disk.
func (p *Partition) Flush() error {
	if err := p.Offline(); err != nil {
		return err
	}
	return p.IOFailed("flush", p.log.Flush())
}

// MaybeFlush applies flush.ms (log.MaybeFlush); it is where a background
// fsync that failed the log is noticed when no append comes.
func (p *Partition) MaybeFlush(now time.Time) error {
	if err := p.Offline(); err != nil {
		return err
	}
	return p.IOFailed("flush", p.log.MaybeFlush(now))
}

// Close flushes the log, writes the producer-state snapshot and closes.
func (p *Partition) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	if p.Offline() != nil {
		return p.closeOffline()
	}
	p.closed = true
	serr := p.writeProducerSnapshot()
	cerr := p.log.Close()
	return errors.Join(serr, cerr)
}

// Delete closes the partition and removes its directory.
func (p *Partition) Delete() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	return p.log.Delete()
}
