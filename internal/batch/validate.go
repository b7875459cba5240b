package batch

// Record-level validation of a produced batch, as Kafka's LogValidator
// does it for a client's append.
//
// Validate checks the header and the CRC; CheckProduced the header rules
// that apply to producers only; ValidateRecords walks every record once,
// streaming through a compressed section (recordstream.go). Nothing is
// rewritten: the caller gets the records' largest timestamp and decides.
//
// Errors are of three kinds:
//   - structural (the section does not hold NumRecords well-formed records):
//     ErrRecord, ErrDecompress, ErrTooLarge, ErrCodec, returned at the first
//     problem, as Kafka throws from its record iterator;
//   - per record (offset delta, missing key on a compacted topic, timestamp):
//     every record is checked and the problems are returned together as
//     *RecordErrors, which Produce v8+ reports record by record;
//   - the caller's own check of each record (ValidateOptions.Check, the
//     broker's schema validation): the first record it refuses, as
//     *RecordCheckError.

import (
	"errors"
	"fmt"
	"strings"
)

// ErrProducerHeader reports header fields a producer may not send.
var ErrProducerHeader = errors.New("batch: invalid producer batch header")

// maxRecordErrors bounds the record errors kept for one batch; the count
// of all of them is kept.
const maxRecordErrors = 1000

// ValidateOptions are the topic's rules for its records.
type ValidateOptions struct {
	// Partition names the topic partition in messages ("orders-3").
	Partition string
	// Compacted requires a key on every record (cleanup.policy has compact).
	Compacted bool
	// LogAppendTime is message.timestamp.type=LogAppendTime: record
	// timestamps are not checked, but a producer may not flag its batch
	// LogAppendTime.
	LogAppendTime bool
	// Now, BeforeMaxMs and AfterMaxMs bound CreateTime record timestamps to
	// [Now-BeforeMaxMs, Now+AfterMaxMs] (message.timestamp.before.max.ms,
	// message.timestamp.after.max.ms); a timestamp of -1 is not checked.
	Now         int64
	BeforeMaxMs int64
	AfterMaxMs  int64
	// MaxDecompressed caps the bytes a compressed section may expand to
	// (ErrTooLarge beyond it).
	MaxDecompressed int64
	// Check, when set, is called with every record in order, decoded with
	// its headers (Samsa's schema validation hooks in here, so that a
	// compressed batch is decompressed once). r and what it points into
	// are valid only during the call: uncompressed records point into the
	// batch, compressed ones into the stream's window, and a record
	// larger than the window is copied out, within MaxDecompressed. Once
	// Check fails it is not called again; the rest of the batch is still
	// validated, and its failure is reported as *RecordCheckError unless
	// a structural error or *RecordErrors comes first. Without Check,
	// records are walked without decoding their headers.
	Check func(i int, r *Record) error
}

// RecordCheckError is the record ValidateOptions.Check refused.
type RecordCheckError struct {
	Index int // the record's index in the batch (its offset delta)
	Err   error
}

// Error names the record and Check's reason.
func (e *RecordCheckError) Error() string {
	return fmt.Sprintf("record %d of the batch: %v", e.Index, e.Err)
}

func (e *RecordCheckError) Unwrap() error { return e.Err }

// RecordsInfo is what validation learnt about the records.
type RecordsInfo struct {
	// MaxTimestamp is the largest record timestamp (-1 if none is larger).
	MaxTimestamp int64
	// Decompressed is the size of the records section after
	// decompression (its stored size when uncompressed).
	Decompressed int64
}

// RecordError is one invalid record: its index in the batch and why.
type RecordError struct {
	Index int
	Msg   string
}

// RecordErrors are the invalid records of a batch. Timestamp reports that
// at least one is a timestamp error, which makes the batch's error
// INVALID_TIMESTAMP rather than INVALID_RECORD, as in Kafka.
type RecordErrors struct {
	Timestamp bool
	Total     int           // all invalid records
	Errs      []RecordError // the first maxRecordErrors of them
}

// Error is Kafka's summary message for the batch.
func (e *RecordErrors) Error() string {
	if e.Timestamp {
		return "One or more records have been rejected due to invalid timestamp"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "One or more records have been rejected due to %d record errors in total, and only showing the first three errors at most: [", e.Total)
	for i, re := range e.Errs[:min(3, len(e.Errs))] {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "RecordError(batchIndex=%d, message='%s')", re.Index, re.Msg)
	}
	b.WriteString("]")
	return b.String()
}

// CheckProduced applies the header rules Kafka has for a batch from a
// client (UnifiedLog.analyzeAndValidateRecords and LogValidator
// .validateBatch): base offset 0, a positive record count matching the
// offset range, no control batch, a sequence number when the batch has a
// producer id, and a producer id when it is transactional. h must come
// from Validate.
func CheckProduced(h *Header, partition string) error {
	switch {
	case h.BaseOffset != 0:
		return fmt.Errorf("%w: the baseOffset of the record batch in the append to %s should be 0, but it is %d", ErrProducerHeader, partition, h.BaseOffset)
	case h.LastOffsetDelta < 0:
		return fmt.Errorf("%w: batch has an invalid offset range: [0, %d] in topic partition %s", ErrProducerHeader, h.LastOffsetDelta, partition)
	case h.NumRecords <= 0:
		return fmt.Errorf("%w: invalid reported count for record batch: %d in topic partition %s", ErrProducerHeader, h.NumRecords, partition)
	case int64(h.LastOffsetDelta)+1 != int64(h.NumRecords):
		return fmt.Errorf("%w: inconsistent batch offset range [0, %d] and count of records %d in topic partition %s", ErrProducerHeader, h.LastOffsetDelta, h.NumRecords, partition)
	case h.IsControl():
		return fmt.Errorf("%w: clients are not allowed to write control records in topic partition %s", ErrProducerHeader, partition)
	case h.HasProducerID() && h.BaseSequence < 0:
		return fmt.Errorf("%w: invalid sequence number %d in record batch with producerId %d in topic partition %s", ErrProducerHeader, h.BaseSequence, h.ProducerID, partition)
	case h.IsTransactional() && !h.HasProducerID():
		return fmt.Errorf("%w: transactional record batch without a producer id in topic partition %s", ErrProducerHeader, partition)
	}
	return nil
}

// ValidateRecords walks the records of batch b, whose header h came from
// Validate: exactly h.NumRecords well-formed records that use up the
// (decompressed) section, offset deltas 0, 1, 2, ..., keys on a compacted
// topic, timestamps within the topic's bounds. A compressed section is
// streamed, at most opts.MaxDecompressed bytes of it; an uncompressed one is
// walked in place without allocating.
func ValidateRecords(h *Header, b []byte, opts ValidateOptions) (RecordsInfo, error) {
	s := getStream()
	defer s.release()
	return s.validate(h, b, &opts)
}

// validate is ValidateRecords on stream s.
func (s *recordStream) validate(h *Header, b []byte, o *ValidateOptions) (RecordsInfo, error) {
	info := RecordsInfo{MaxTimestamp: -1}
	if h.NumRecords < 0 || len(b) < HeaderSize {
		return info, fmt.Errorf("%w: invalid record count %d", ErrRecord, h.NumRecords)
	}
	if err := s.open(h.Codec(), b[HeaderSize:], o.MaxDecompressed); err != nil {
		return info, err
	}
	var errs *RecordErrors
	var checkErr *RecordCheckError
	var m recordMeta
	var rec *Record // reused for Check
	if o.Check != nil {
		rec = new(Record)
	}
	for i := range int(h.NumRecords) {
		var full *Record
		if rec != nil && checkErr == nil {
			full = rec
		}
		if err := s.next(&m, full); err != nil {
			if errors.Is(err, ErrRecord) {
				return info, fmt.Errorf("%w (record %d in topic partition %s)", err, i, o.Partition)
			}
			return info, err
		}
		ts := h.BaseTimestamp + m.timestampDelta
		if h.LogAppendTime() {
			ts = h.MaxTimestamp
		}
		info.MaxTimestamp = max(info.MaxTimestamp, ts)
		if p := checkRecord(h, &m, i, ts, o); p != recordOK {
			if errs == nil {
				errs = new(RecordErrors)
			}
			errs.Total++
			errs.Timestamp = errs.Timestamp || p >= recordTimestamp
			if len(errs.Errs) < maxRecordErrors {
				// Messages only for the errors kept: a batch of
				// millions of keyless records costs no garbage.
				errs.Errs = append(errs.Errs, RecordError{Index: i, Msg: p.message(h, &m, i, ts, o)})
			}
		}
		if full != nil {
			if err := o.Check(i, full); err != nil {
				checkErr = &RecordCheckError{Index: i, Err: err}
			}
		}
	}
	end := s.atEnd()
	if s.err != nil {
		return info, s.err
	}
	if !end {
		return info, fmt.Errorf("%w: incorrect declared batch size, records still remaining in file (topic partition %s)", ErrRecord, o.Partition)
	}
	info.Decompressed = s.total
	if s.codec == CodecNone {
		info.Decompressed = int64(len(b) - HeaderSize)
	}
	if errs != nil {
		return info, errs
	}
	if checkErr != nil {
		return info, checkErr
	}
	return info, nil
}

// recordProblem is what is wrong with one record; the timestamp problems
// sort last.
type recordProblem uint8

const (
	recordOK recordProblem = iota
	recordOffsetDelta
	recordNoKey
	recordTimestamp // out of range
	recordLogAppendTime
)

// checkRecord applies the per-record rules, one problem per record: the
// offset delta first, then the key, then the timestamp (as Kafka orders
// key and timestamp).
func checkRecord(h *Header, m *recordMeta, i int, ts int64, o *ValidateOptions) recordProblem {
	switch {
	case int64(m.offsetDelta) != int64(i):
		return recordOffsetDelta
	case o.Compacted && m.keyLen < 0:
		return recordNoKey
	case !o.LogAppendTime && ts != -1:
		if diff := o.Now - ts; diff > o.BeforeMaxMs || -diff > o.AfterMaxMs {
			return recordTimestamp
		}
	case h.LogAppendTime():
		return recordLogAppendTime
	}
	return recordOK
}

// message is Kafka's record error message for the problem.
func (p recordProblem) message(h *Header, m *recordMeta, i int, ts int64, o *ValidateOptions) string {
	switch p {
	case recordOffsetDelta:
		return fmt.Sprintf("Inner record at index %d has offset delta %d: the offset deltas of a record batch must be 0, 1, 2, ... in topic partition %s", i, m.offsetDelta, o.Partition)
	case recordNoKey:
		return "Compacted topic cannot accept message without key in topic partition " + o.Partition
	case recordTimestamp:
		return fmt.Sprintf("Timestamp %d of message with offset %d is out of range. The timestamp should be within [%d, %d]",
			ts, m.offsetDelta, o.Now-o.BeforeMaxMs, satAdd(o.Now, o.AfterMaxMs))
	case recordLogAppendTime:
		return fmt.Sprintf("Invalid timestamp type in message DefaultRecord(offset=%d, timestamp=%d, key=%d bytes, value=%d bytes). Producer should not set timestamp type to LogAppendTime.",
			m.offsetDelta, ts, max(m.keyLen, 0), max(m.valueLen, 0))
	}
	return ""
}

// satAdd is a+b for b ≥ 0, saturating at MaxInt64.
func satAdd(a, b int64) int64 {
	if s := a + b; s >= a {
		return s
	}
	return 1<<63 - 1
}
