// Package log is Samsa's storage layer: one partition's log, laid out on
// disk exactly as Kafka lays it out, so Kafka's own tools
// (kafka-dump-log.sh) can read a Samsa data directory.
//
// # Layout
//
// A Log is one directory, <dataDir>/<topic>-<partition>/, holding:
//
//	00000000000000000000.log        record batches (magic v2), byte for byte
//	                                as produced, with the base offset and the
//	                                partition leader epoch written in
//	00000000000000000000.index      sparse offset index: (relative offset
//	                                uint32, position uint32) big-endian, one
//	                                entry each time more than
//	                                index.interval.bytes were appended; the
//	                                offset is the last offset of the batch
//	                                starting at the position
//	00000000000000000000.timeindex  (timestamp int64, relative offset uint32):
//	                                the largest batch timestamp so far and the
//	                                last offset of the first batch that had it
//	leader-epoch-checkpoint         "0\n<count>\n<epoch> <startOffset>\n..."
//	log-start-offset-checkpoint     "0\n1\n<offset>\n"
//	recovery-point-offset-checkpoint "0\n1\n<offset>\n": offsets below it are
//	                                fsynced
//
// Segment files are named by their base offset (%020d). Index files are not
// preallocated: they always hold exactly their entries. The index entries
// also live in memory; an inactive segment loads them on first lookup.
// Checkpoints are replaced atomically (write .tmp, fsync, rename, fsync the
// directory). Other files in the directory (the partition's own) are left
// alone.
//
// Timestamp lookups (OffsetForTimestamp, MaxTimestamp: ListOffsets) find
// the batch through the time index, then walk its records for the exact
// one, decompressing a compressed batch (at most 64 MiB), as Kafka does.
//
// # Appends, rolls, flushes
//
// Append assigns the base offset (the log end offset) and the leader epoch
// by patching bytes 0-7 and 12-15 of the batch, outside the CRC. It rolls
// first when Kafka would (segment.bytes, segment.ms measured between batch
// timestamps or on the wall clock for timestamp-less segments, full index,
// relative offset overflow), then writes the batch and its index entries
// and only then publishes the new log end offset. A write that fails is cut
// back (Truncate) so the files match what readers can see; if even that
// fails, or an fsync fails, the Log enters the failed state (ErrFailed):
// every later mutation returns it, reads continue, and reopening recovers.
// Every error the file system gives an exported method (a failed write,
// fsync, truncate, open, rename or read, and ErrFailed itself) is returned
// wrapped in ErrStorage, naming the operation and the directory
// (storage.go): Kafka's KafkaStorageException, on which the partition
// layer takes the log directory offline (Fail stops a healthy log of that
// directory the same way; Close then does not flush it).
//
// As in Kafka, nothing is fsynced per append by default: a roll fsyncs the
// finished segment (and any older unflushed one) in the background, as
// Kafka's scheduled flush does, and checkpoints the recovery point once that
// is durable, so appends to the new segment never wait for a segment's
// worth of dirty pages; Flush and Close fsync everything (Close first waits
// for background flushes). flush.messages and
// flush.ms make it stricter (fsync when that many messages or that much
// time is unflushed; MaybeFlush lets a periodic flusher apply flush.ms
// between appends). Those policy fsyncs move the in-memory recovery point
// only; the checkpoint file is written at roll, Flush and Close.
//
// # Recovery
//
// Open without CleanShutdown verifies (length bound by the bytes present,
// magic, CRC-32C, increasing offsets) every segment from the one holding
// the recovery point to the end, truncates at the first bad batch, deletes
// any later segment, and rewrites those segments' indexes. With
// CleanShutdown the files are trusted, but a missing or malformed index is
// rebuilt and the batches after the active segment's last index entry are
// still verified, which also cuts a torn tail. The epoch checkpoint then
// loses entries at or above the new log end offset. If the log end offset
// ends up below the log start offset, the log restarts empty at the start
// offset rather than reuse offsets.
//
// # Deletion
//
// Retention (ApplyRetention) and DeleteRecords (SetLogStartOffset) first
// persist the new log start offset, then drop whole segments, never the
// active one. A dropped segment's files are renamed to *.deleted and kept
// open, so fetches that already hold a Chunk can finish; they are closed
// and removed file.delete.delay.ms later by the sweep that every
// ApplyRetention call runs first (there is no background goroutine: the
// broker's retention loop drives it), or at Close. Open removes *.deleted
// leftovers. A reader racing the deletion gets ErrOffsetOutOfRange. The
// broker must not use a Chunk's Fd after the delay: the descriptor number
// may have been reused.
//
// # Compaction
//
// A log whose Config has Compact (cleanup.policy=compact, or
// compact,delete alongside retention) is compacted as Kafka's LogCleaner
// does it: Clean runs one pass, and a Cleaner runs passes in the
// background on the dirtiest registered logs, within an I/O budget. A pass
// maps key -> latest offset over the dirty section (from the
// cleaner-offset-checkpoint, "0\n1\n<firstDirtyOffset> <deleteHorizonMs>\n",
// to the last stable offset, the active segment and min.compaction.lag.ms),
// then rewrites every segment below that point keeping each key's latest
// record, merging small segments. Offsets never move: a cleaned batch keeps
// its base offset and last offset delta, so it may hold fewer records than
// its offset span (batch.ValidateStored accepts that; batch.Validate does
// not). Tombstones go delete.retention.ms after a pass first kept them,
// through the batch delete horizon (KIP-534). Cleaned segments are written
// as *.cleaned, committed by renaming them to *.swap and swapped in under
// the writer lock; Open deletes *.cleaned files and completes *.swap ones.
// A pass that meets a batch it cannot decode stops; the Cleaner then sets
// that log aside (a WARN naming the log, offset and reason, counted by
// Uncleanable), as Kafka marks such a partition uncleanable, until the
// batch has left the log, and goes on with the others. clean.go has the
// details.
//
// # Concurrency
//
// One writer at a time: Append, AppendFollower, Truncate, SetLogStartOffset,
// ApplyRetention, Flush, Close and Delete take the writer lock. A cleaning
// pass reads and writes without it and takes it only to swap a group of
// cleaned segments in and to write its checkpoint. Read,
// ScanBatches, OffsetForTimestamp, MaxTimestamp, EndOffsetForEpoch and the
// getters run concurrently with the writer and each other. The log end
// offset is an atomic stored after the bytes and index entries of a batch
// are written, and readers load it before looking at segments, so they
// never see a half-written batch. The segment list is copy-on-write under
// an RWMutex; per-segment index slices and timestamp stats are guarded by
// the segment's RWMutex and the segment size is an atomic. A Truncate
// racing a Read may hand the reader a chunk whose tail is being cut, as in
// Kafka; truncation only happens on followers.
package log
