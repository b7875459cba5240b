package log

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/samsa-streaming/samsa/internal/fs"
)

// Kafka's index entry formats, big-endian:
//
//	.index      relative offset uint32 | file position uint32      (8 bytes)
//	.timeindex  timestamp int64        | relative offset uint32    (12 bytes)
//
// An offset index entry (rel, pos) names the last offset of the batch that
// starts at pos; a time index entry (ts, rel) says that ts is the largest
// timestamp of the batches up to the one whose last offset is rel.
const (
	offEntrySize  = 8
	timeEntrySize = 12
)

type offEntry struct{ rel, pos uint32 }

type timeEntry struct {
	ts  int64
	rel uint32
}

func (e offEntry) encode() []byte {
	var b [offEntrySize]byte
	binary.BigEndian.PutUint32(b[0:], e.rel)
	binary.BigEndian.PutUint32(b[4:], e.pos)
	return b[:]
}

func (e timeEntry) encode() []byte {
	var b [timeEntrySize]byte
	binary.BigEndian.PutUint64(b[0:], uint64(e.ts))
	binary.BigEndian.PutUint32(b[8:], e.rel)
	return b[:]
}

var errBadIndex = errors.New("corrupt index")

// readIndexFile reads a whole index file. A missing file is (nil, false, nil).
func readIndexFile(fsys fs.FS, path string, entrySize int) ([]byte, bool, error) {
	f, err := fsys.OpenFile(path, os.O_RDONLY, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, false, err
	}
	if st.Size()%int64(entrySize) != 0 || st.Size() > 1<<31 {
		return nil, true, fmt.Errorf("%s: %w: size %d is not a multiple of %d", path, errBadIndex, st.Size(), entrySize)
	}
	b := make([]byte, st.Size())
	n, err := f.ReadAt(b, 0)
	if n == len(b) {
		err = nil
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, true, err
	}
	if n != len(b) {
		return nil, true, fmt.Errorf("%s: %w: short read", path, errBadIndex)
	}
	return b, true, nil
}

// decodeOffIndex parses and sanity-checks an offset index against the size
// of its log: relative offsets and positions strictly increase and every
// position lies inside the log.
func decodeOffIndex(b []byte, logSize int64) ([]offEntry, error) {
	out := make([]offEntry, 0, len(b)/offEntrySize)
	for i := 0; i+offEntrySize <= len(b); i += offEntrySize {
		e := offEntry{binary.BigEndian.Uint32(b[i:]), binary.BigEndian.Uint32(b[i+4:])}
		if int64(e.pos) >= logSize {
			return nil, fmt.Errorf("%w: position %d beyond log size %d", errBadIndex, e.pos, logSize)
		}
		if n := len(out); n > 0 && (e.rel <= out[n-1].rel || e.pos <= out[n-1].pos) {
			return nil, fmt.Errorf("%w: entries not increasing at entry %d", errBadIndex, n)
		}
		out = append(out, e)
	}
	return out, nil
}

// decodeTimeIndex parses and sanity-checks a time index: timestamps strictly
// increase, offsets do not decrease.
func decodeTimeIndex(b []byte) ([]timeEntry, error) {
	out := make([]timeEntry, 0, len(b)/timeEntrySize)
	for i := 0; i+timeEntrySize <= len(b); i += timeEntrySize {
		e := timeEntry{int64(binary.BigEndian.Uint64(b[i:])), binary.BigEndian.Uint32(b[i+8:])}
		if e.ts < 0 {
			return nil, fmt.Errorf("%w: negative timestamp", errBadIndex)
		}
		if n := len(out); n > 0 && (e.ts <= out[n-1].ts || e.rel < out[n-1].rel) {
			return nil, fmt.Errorf("%w: entries not increasing at entry %d", errBadIndex, n)
		}
		out = append(out, e)
	}
	return out, nil
}

// offLookup returns the position of the last indexed batch whose last
// offset is <= target, or 0: scanning from there finds target's batch.
func offLookup(idx []offEntry, base, target int64) int64 {
	if target < base {
		return 0
	}
	rel := target - base
	i := sort.Search(len(idx), func(i int) bool { return int64(idx[i].rel) > rel })
	if i == 0 {
		return 0
	}
	return int64(idx[i-1].pos)
}

// offFloorByPos returns the largest indexed position p <= maxPos whose batch
// ends before endOffset: every batch before p is whole, below endOffset and
// fits in maxPos bytes. ok is false when there is none.
func offFloorByPos(idx []offEntry, base, maxPos, endOffset int64) (int64, bool) {
	i := sort.Search(len(idx), func(i int) bool {
		return int64(idx[i].pos) > maxPos || base+int64(idx[i].rel) >= endOffset
	})
	if i == 0 {
		return 0, false
	}
	return int64(idx[i-1].pos), true
}

// timeLookup returns the offset of the last time index entry whose
// timestamp is <= ts, or base: no batch before that offset's batch has a
// timestamp >= ts unless it is exactly the indexed one.
func timeLookup(idx []timeEntry, base, ts int64) int64 {
	i := sort.Search(len(idx), func(i int) bool { return idx[i].ts > ts })
	if i == 0 {
		return base
	}
	return base + int64(idx[i-1].rel)
}
