package log

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"

	"github.com/samsa-streaming/samsa/internal/fs"
)

// AbortedTxn is one entry of the aborted-transaction index, Kafka's
// .txnindex: a producer's transaction that was aborted, from its first
// offset to the offset of its ABORT marker.
type AbortedTxn struct {
	ProducerID       int64
	FirstOffset      int64
	LastOffset       int64 // the ABORT marker's offset
	LastStableOffset int64 // the partition's LSO when the marker was written
}

// txnEntrySize is Kafka's on-disk entry: version int16 (0), producer id,
// first offset, last offset, last stable offset.
const txnEntrySize = 2 + 8*4

// txnIndex keeps every segment's aborted transactions in memory, ordered by
// LastOffset; each entry is also in the .txnindex file of the segment that
// holds its marker. Aborts are rare, so the whole index stays small.
type txnIndex struct {
	mu      sync.RWMutex
	entries []AbortedTxn
}

func encodeTxnEntry(t AbortedTxn) []byte {
	b := make([]byte, 0, txnEntrySize)
	b = binary.BigEndian.AppendUint16(b, 0)
	b = binary.BigEndian.AppendUint64(b, uint64(t.ProducerID))
	b = binary.BigEndian.AppendUint64(b, uint64(t.FirstOffset))
	b = binary.BigEndian.AppendUint64(b, uint64(t.LastOffset))
	return binary.BigEndian.AppendUint64(b, uint64(t.LastStableOffset))
}

var errBadTxnIndex = errors.New("log: corrupt .txnindex entry")

func decodeTxnEntries(b []byte) ([]AbortedTxn, error) {
	var out []AbortedTxn
	for len(b) >= txnEntrySize {
		if v := binary.BigEndian.Uint16(b); v != 0 {
			return out, fmt.Errorf("%w: version %d", errBadTxnIndex, v)
		}
		out = append(out, AbortedTxn{
			ProducerID:       int64(binary.BigEndian.Uint64(b[2:])),
			FirstOffset:      int64(binary.BigEndian.Uint64(b[10:])),
			LastOffset:       int64(binary.BigEndian.Uint64(b[18:])),
			LastStableOffset: int64(binary.BigEndian.Uint64(b[26:])),
		})
		b = b[txnEntrySize:]
	}
	return out, nil // a torn trailing entry is dropped
}

// loadTxnIndexes reads every segment's .txnindex at open. Entries whose
// marker lies at or past the log end were torn away with the log tail and
// are dropped, and their files rewritten.
func (l *Log) loadTxnIndexes(leo int64) error {
	var all []AbortedTxn
	for _, s := range l.segs {
		b, err := readAll(l.fsys, s.path(txnIndexSuffix), 64<<20)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		ents, derr := decodeTxnEntries(b)
		if derr != nil {
			l.lg.Warn("truncating corrupt transaction index", "segment", s.base, "err", derr)
		}
		kept := ents[:0]
		for _, e := range ents {
			if e.LastOffset < leo && e.LastOffset >= s.base {
				kept = append(kept, e)
			}
		}
		if len(kept) != len(ents) || derr != nil || len(b)%txnEntrySize != 0 {
			if err := l.writeTxnIndexFile(s, kept); err != nil {
				return err
			}
		}
		all = append(all, kept...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].LastOffset < all[j].LastOffset })
	l.txns.entries = all
	return nil
}

func readAll(fsys fs.FS, path string, limit int64) ([]byte, error) {
	f, err := fsys.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%s: %d bytes is over the %d-byte limit", path, st.Size(), limit)
	}
	b := make([]byte, st.Size())
	n, err := f.ReadAt(b, 0)
	if n == len(b) {
		err = nil
	}
	return b[:n], err
}

func (l *Log) writeTxnIndexFile(s *segment, ents []AbortedTxn) error {
	var b []byte
	for _, e := range ents {
		b = append(b, encodeTxnEntry(e)...)
	}
	if len(b) == 0 {
		if err := l.fsys.Remove(s.path(txnIndexSuffix)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}
	return fs.WriteFileAtomic(l.fsys, s.path(txnIndexSuffix), b)
}

// appendAbortedTxn records an aborted transaction whose ABORT marker is at
// t.LastOffset, already appended. The entry goes to the .txnindex of the
// segment holding the marker.
func (l *Log) appendAbortedTxn(t AbortedTxn) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.writable(); err != nil {
		return err
	}
	segs := l.segments()
	s := segs[floorSegment(segs, t.LastOffset)]
	f, err := l.fsys.OpenFile(s.path(txnIndexSuffix), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	_, werr := f.Write(encodeTxnEntry(t))
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		return err
	}
	l.txns.mu.Lock()
	defer l.txns.mu.Unlock()
	start := l.lso.Load()
	kept := l.txns.entries[:0]
	for _, e := range l.txns.entries {
		if e.LastOffset >= start { // forget transactions retention removed
			kept = append(kept, e)
		}
	}
	l.txns.entries = append(kept, t)
	sort.Slice(l.txns.entries, func(i, j int) bool { return l.txns.entries[i].LastOffset < l.txns.entries[j].LastOffset })
	return nil
}

// AbortedTxns returns the aborted transactions a read of [from, upTo) must
// know about: those whose marker is at or after from and whose first offset
// is before upTo, in marker order.
func (l *Log) AbortedTxns(from, upTo int64) []AbortedTxn {
	l.txns.mu.RLock()
	defer l.txns.mu.RUnlock()
	i := sort.Search(len(l.txns.entries), func(i int) bool { return l.txns.entries[i].LastOffset >= from })
	var out []AbortedTxn
	for _, e := range l.txns.entries[i:] {
		if e.FirstOffset < upTo {
			out = append(out, e)
		}
	}
	return out
}

// HasAbortedTxn reports whether the index already holds the producer's
// abort whose marker is at lastOffset (log recovery rebuilds entries).
func (l *Log) HasAbortedTxn(producerID, lastOffset int64) bool {
	l.txns.mu.RLock()
	defer l.txns.mu.RUnlock()
	i := sort.Search(len(l.txns.entries), func(i int) bool { return l.txns.entries[i].LastOffset >= lastOffset })
	for ; i < len(l.txns.entries) && l.txns.entries[i].LastOffset == lastOffset; i++ {
		if l.txns.entries[i].ProducerID == producerID {
			return true
		}
	}
	return false
}

// truncateTxnIndex drops entries whose marker is at or past off. Called
// under l.mu by Truncate.
func (l *Log) truncateTxnIndex(off int64) error {
	l.txns.mu.Lock()
	defer l.txns.mu.Unlock()
	i := sort.Search(len(l.txns.entries), func(i int) bool { return l.txns.entries[i].LastOffset >= off })
	if i == len(l.txns.entries) {
		return nil
	}
	dropped := l.txns.entries[i:]
	l.txns.entries = l.txns.entries[:i]
	segs := l.segments()
	done := map[*segment]bool{}
	for _, d := range dropped {
		seg := segs[floorSegment(segs, d.LastOffset)]
		if done[seg] {
			continue
		}
		done[seg] = true
		var keep []AbortedTxn
		for _, e := range l.txns.entries {
			if e.LastOffset >= seg.base {
				keep = append(keep, e)
			}
		}
		if err := l.writeTxnIndexFile(seg, keep); err != nil {
			return err
		}
	}
	return nil
}

// abortedBetween returns the entries whose marker lies in [from, to).
func (l *Log) abortedBetween(from, to int64) []AbortedTxn {
	l.txns.mu.RLock()
	defer l.txns.mu.RUnlock()
	var out []AbortedTxn
	for _, e := range l.txns.entries {
		if e.LastOffset >= from && e.LastOffset < to {
			out = append(out, e)
		}
	}
	return out
}

// AppendAbortedTxn is appendAbortedTxn with file-system errors marked
// ErrStorage.
func (l *Log) AppendAbortedTxn(t AbortedTxn) error {
	return l.ioErr("txn index append", l.appendAbortedTxn(t))
}
