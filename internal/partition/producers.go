package partition

import (
	"container/heap"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"math"
	"sort"

	"github.com/samsa-streaming/samsa/internal/batch"
)

// Errors of the idempotent producer checks; errcode.Code maps
// them to OUT_OF_ORDER_SEQUENCE_NUMBER and INVALID_PRODUCER_EPOCH.
var (
	ErrOutOfOrderSequence = errors.New("partition: out of order sequence number")
	ErrInvalidEpoch       = errors.New("partition: producer epoch is older than the current one")
)

// maxCachedBatches is how many recent batches the broker remembers per
// producer, as Kafka does (max.in.flight.requests.per.connection ≤ 5).
const maxCachedBatches = 5

type batchMeta struct {
	FirstSeq, LastSeq       int32
	FirstOffset, LastOffset int64
	Timestamp               int64
}

type producerEntry struct {
	Epoch   int16
	Batches []batchMeta // oldest first, at most maxCachedBatches
	// TxnFirstOffset is the first offset of an ongoing transaction, or -1.
	TxnFirstOffset int64
	LastTimestamp  int64
}

// producerState is the per-partition idempotence table.
//
// open indexes the ongoing transactions by first offset, so that the first
// unstable offset (and with it the LSO) costs no scan of the producers, as
// Kafka's ongoingTxns map does. It is a min-heap with lazy deletion: a
// txnRef is live while its producer's entry still has TxnFirstOffset equal
// to ref.first; stale refs are dropped when they reach the top, or all at
// once when they outnumber the live ones. Every change of TxnFirstOffset
// goes through setTxn, which keeps openCount (producers with an ongoing
// transaction) exact.
type producerState struct {
	entries   map[int64]*producerEntry
	open      txnHeap
	openCount int
}

func newProducerState() *producerState {
	return &producerState{entries: make(map[int64]*producerEntry)}
}

// txnRef names an ongoing transaction: its first offset and producer.
type txnRef struct{ first, pid int64 }

// txnHeap is a min-heap of txnRefs by first offset (container/heap).
type txnHeap []txnRef

func (h txnHeap) Len() int           { return len(h) }
func (h txnHeap) Less(i, j int) bool { return h[i].first < h[j].first }
func (h txnHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *txnHeap) Push(x any)        { *h = append(*h, x.(txnRef)) }
func (h *txnHeap) Pop() any {
	old := *h
	r := old[len(old)-1]
	*h = old[:len(old)-1]
	return r
}

// live reports whether r still names an ongoing transaction.
func (s *producerState) live(r txnRef) bool {
	e, ok := s.entries[r.pid]
	return ok && e.TxnFirstOffset == r.first
}

// setTxn sets a producer's ongoing transaction's first offset (-1: none)
// and keeps the index in step. e must be s.entries[pid].
func (s *producerState) setTxn(pid int64, e *producerEntry, first int64) {
	if e.TxnFirstOffset == first {
		return
	}
	if e.TxnFirstOffset >= 0 {
		s.openCount--
	}
	e.TxnFirstOffset = first
	if first >= 0 {
		s.openCount++
		heap.Push(&s.open, txnRef{first: first, pid: pid})
	}
	if len(s.open) > 2*s.openCount+64 {
		s.compactOpen()
	}
}

// compactOpen drops the stale and duplicate refs; amortised over the
// setTxn calls that made them, it costs O(1) each.
func (s *producerState) compactOpen() {
	kept := s.open[:0]
	seen := make(map[txnRef]bool, s.openCount)
	for _, r := range s.open {
		if s.live(r) && !seen[r] {
			seen[r] = true
			kept = append(kept, r)
		}
	}
	clear(s.open[len(kept):])
	s.open = kept
	heap.Init(&s.open)
}

// put installs e as pid's entry, retiring the transaction of the entry it
// replaces.
func (s *producerState) put(pid int64, e *producerEntry) {
	if old, ok := s.entries[pid]; ok {
		s.setTxn(pid, old, -1)
	}
	first := e.TxnFirstOffset
	e.TxnFirstOffset = -1
	s.entries[pid] = e
	s.setTxn(pid, e, first)
}

// remove forgets pid.
func (s *producerState) remove(pid int64) {
	if e, ok := s.entries[pid]; ok {
		s.setTxn(pid, e, -1)
		delete(s.entries, pid)
	}
}

// check decides what to do with an idempotent batch before it is appended.
// dup is non-nil when the batch repeats one of the cached batches, in which
// case the caller returns its original offsets without appending.
func (s *producerState) check(h *batch.Header) (dup *batchMeta, err error) {
	e, ok := s.entries[h.ProducerID]
	if !ok {
		// Unknown producer: accept any sequence (KIP-360); its state may
		// have expired or been truncated away.
		return nil, nil
	}
	if h.ProducerEpoch < e.Epoch {
		return nil, ErrInvalidEpoch
	}
	if h.ProducerEpoch > e.Epoch {
		if h.BaseSequence != 0 {
			return nil, ErrOutOfOrderSequence
		}
		return nil, nil
	}
	for i := range e.Batches {
		b := &e.Batches[i]
		if b.FirstSeq == h.BaseSequence && b.LastSeq == h.LastSequence() {
			return b, nil
		}
	}
	if len(e.Batches) == 0 {
		return nil, nil
	}
	last := e.Batches[len(e.Batches)-1].LastSeq
	if !inSequence(last, h.BaseSequence) {
		return nil, ErrOutOfOrderSequence
	}
	return nil, nil
}

func inSequence(last, next int32) bool {
	if last == math.MaxInt32 {
		return next == 0
	}
	return next == last+1
}

// update records an appended batch (from Append, or from the log at start).
// For a control batch (a transaction marker) it returns the first offset of
// the transaction the marker ends, or -1.
func (s *producerState) update(h *batch.Header) (endedTxnFirst int64) {
	endedTxnFirst = -1
	if !h.HasProducerID() {
		return
	}
	e, ok := s.entries[h.ProducerID]
	if h.IsControl() && ok {
		endedTxnFirst = e.TxnFirstOffset
	}
	if !ok || h.ProducerEpoch > e.Epoch {
		e = &producerEntry{Epoch: h.ProducerEpoch, TxnFirstOffset: -1}
		s.put(h.ProducerID, e)
	}
	if h.IsControl() {
		s.setTxn(h.ProducerID, e, -1)
		e.LastTimestamp = h.MaxTimestamp
		return
	}
	if h.IsTransactional() && e.TxnFirstOffset < 0 {
		s.setTxn(h.ProducerID, e, h.BaseOffset)
	}
	if h.BaseSequence >= 0 {
		// One allocation per producer: the cache fills up to
		// maxCachedBatches, then slides in place.
		if n := len(e.Batches); n >= maxCachedBatches {
			copy(e.Batches, e.Batches[n-maxCachedBatches+1:])
			e.Batches = e.Batches[:maxCachedBatches-1]
		} else if cap(e.Batches) < maxCachedBatches {
			e.Batches = append(make([]batchMeta, 0, maxCachedBatches), e.Batches...)
		}
		e.Batches = append(e.Batches, batchMeta{
			FirstSeq: h.BaseSequence, LastSeq: h.LastSequence(),
			FirstOffset: h.BaseOffset, LastOffset: h.LastOffset(),
			Timestamp: h.MaxTimestamp,
		})
	}
	e.LastTimestamp = h.MaxTimestamp
	return
}

// firstOpenTxn is the first offset of the earliest open transaction, or -1.
// It drops the stale refs on top of the index: amortised O(log n).
func (s *producerState) firstOpenTxn() int64 {
	for len(s.open) > 0 {
		if r := s.open[0]; s.live(r) {
			return r.first
		}
		heap.Pop(&s.open)
	}
	return -1
}

// expire forgets the producers without an ongoing transaction whose last
// batch timestamp is expirationMs or more before nowMs, as Kafka's
// ProducerStateManager.removeExpiredProducers does
// (producer.id.expiration.ms). It returns how many it forgot.
func (s *producerState) expire(nowMs, expirationMs int64) int {
	n := 0
	for pid, e := range s.entries {
		if e.TxnFirstOffset < 0 && nowMs-e.LastTimestamp >= expirationMs {
			delete(s.entries, pid)
			n++
		}
	}
	return n
}

// truncate forgets batches at or above off (log truncation).
func (s *producerState) truncate(off int64) {
	for pid, e := range s.entries {
		kept := e.Batches[:0]
		for _, b := range e.Batches {
			if b.LastOffset < off {
				kept = append(kept, b)
			}
		}
		e.Batches = kept
		if e.TxnFirstOffset >= off {
			s.setTxn(pid, e, -1)
		}
		if len(e.Batches) == 0 && e.TxnFirstOffset < 0 {
			delete(s.entries, pid)
		}
	}
}

// Snapshot format (little state, rewritten whole): magic "SPS1", the log
// offset the snapshot covers up to (exclusive), the entry count, then per
// producer: id, epoch, txn first offset, last timestamp, batch count and the
// batches; a trailing CRC-32C over everything before it.
var snapshotMagic = [4]byte{'S', 'P', 'S', '1'}

func (s *producerState) encode(upTo int64) []byte {
	pids := make([]int64, 0, len(s.entries))
	for pid := range s.entries {
		pids = append(pids, pid)
	}
	sort.Slice(pids, func(i, j int) bool { return pids[i] < pids[j] })
	b := append([]byte{}, snapshotMagic[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(upTo))
	b = binary.BigEndian.AppendUint32(b, uint32(len(pids)))
	for _, pid := range pids {
		e := s.entries[pid]
		b = binary.BigEndian.AppendUint64(b, uint64(pid))
		b = binary.BigEndian.AppendUint16(b, uint16(e.Epoch))
		b = binary.BigEndian.AppendUint64(b, uint64(e.TxnFirstOffset))
		b = binary.BigEndian.AppendUint64(b, uint64(e.LastTimestamp))
		b = append(b, byte(len(e.Batches)))
		for _, m := range e.Batches {
			b = binary.BigEndian.AppendUint32(b, uint32(m.FirstSeq))
			b = binary.BigEndian.AppendUint32(b, uint32(m.LastSeq))
			b = binary.BigEndian.AppendUint64(b, uint64(m.FirstOffset))
			b = binary.BigEndian.AppendUint64(b, uint64(m.LastOffset))
			b = binary.BigEndian.AppendUint64(b, uint64(m.Timestamp))
		}
	}
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)))
}

var errBadSnapshot = errors.New("partition: producer snapshot is corrupt")

func decodeProducerState(b []byte) (*producerState, int64, error) {
	if len(b) < 20 || [4]byte(b[:4]) != snapshotMagic {
		return nil, 0, errBadSnapshot
	}
	body, sum := b[:len(b)-4], binary.BigEndian.Uint32(b[len(b)-4:])
	if crc32.Checksum(body, crc32.MakeTable(crc32.Castagnoli)) != sum {
		return nil, 0, errBadSnapshot
	}
	r := snapReader{b: body[4:]}
	upTo := int64(r.u64())
	n := r.u32()
	s := newProducerState()
	for i := uint32(0); i < n && r.err == nil; i++ {
		pid := int64(r.u64())
		e := &producerEntry{Epoch: int16(r.u16()), TxnFirstOffset: int64(r.u64()), LastTimestamp: int64(r.u64())}
		nb := int(r.u8())
		if nb > maxCachedBatches {
			return nil, 0, errBadSnapshot
		}
		for j := 0; j < nb; j++ {
			e.Batches = append(e.Batches, batchMeta{
				FirstSeq: int32(r.u32()), LastSeq: int32(r.u32()),
				FirstOffset: int64(r.u64()), LastOffset: int64(r.u64()), Timestamp: int64(r.u64()),
			})
		}
		s.put(pid, e)
	}
	if r.err != nil {
		return nil, 0, errBadSnapshot
	}
	return s, upTo, nil
}

type snapReader struct {
	b   []byte
	err error
}

func (r *snapReader) take(n int) []byte {
	if r.err != nil || len(r.b) < n {
		r.err = io.ErrUnexpectedEOF
		return make([]byte, n)
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}
func (r *snapReader) u8() uint8   { return r.take(1)[0] }
func (r *snapReader) u16() uint16 { return binary.BigEndian.Uint16(r.take(2)) }
func (r *snapReader) u32() uint32 { return binary.BigEndian.Uint32(r.take(4)) }
func (r *snapReader) u64() uint64 { return binary.BigEndian.Uint64(r.take(8)) }
