package controller

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"path/filepath"

	"google.golang.org/protobuf/proto"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/samsa-streaming/samsa/internal/fs"
)

// On-disk framing shared by the WAL and snapshot files:
//
//	file   = magic[8] version:u32be frame*
//	frame  = length:u32be crc:u32be type:u8 payload[length-1]
//
// crc is CRC-32C (Castagnoli) of type+payload. length counts type+payload
// and is bounded by maxFrameSize and by the bytes left in the file.
const (
	walMagic       = "SAMSAWAL"
	snapMagic      = "SAMSASNP"
	fileVersion    = 1
	fileHeaderSize = 8 + 4
	frameHeader    = 4 + 4
	maxFrameSize   = 256 << 20

	frameEntry     byte = 1 // payload: proto raftpb.Entry
	frameHardState byte = 2 // payload: proto raftpb.HardState
	frameSnapshot  byte = 3 // payload: proto raftpb.Snapshot (snapshot files only)

	walFile = "wal"
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// ErrCorrupt reports on-disk data that fails its checksum or structure
// somewhere other than a torn tail.
var ErrCorrupt = errors.New("controller: corrupt metadata log")

func fileHeader(magic string) []byte {
	return binary.BigEndian.AppendUint32([]byte(magic), fileVersion)
}

func appendFrame(buf []byte, typ byte, m proto.Message) ([]byte, error) {
	payload, err := proto.Marshal(m)
	if err != nil {
		return buf, err
	}
	if len(payload)+1 > maxFrameSize {
		return buf, fmt.Errorf("controller: frame of %d bytes exceeds %d", len(payload)+1, maxFrameSize)
	}
	start := len(buf)
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(payload)+1))
	buf = binary.BigEndian.AppendUint32(buf, 0)
	buf = append(buf, typ)
	buf = append(buf, payload...)
	binary.BigEndian.PutUint32(buf[start+4:], crc32.Checksum(buf[start+frameHeader:], crcTable))
	return buf, nil
}

// readFrame parses the frame at b[0:]. It returns the type, the payload and
// the frame's total size, or ok=false when b does not start with a whole,
// valid frame.
func readFrame(b []byte) (typ byte, payload []byte, size int, ok bool) {
	if len(b) < frameHeader+1 {
		return 0, nil, 0, false
	}
	n := binary.BigEndian.Uint32(b)
	if n == 0 || n > maxFrameSize || uint64(n) > uint64(len(b)-frameHeader) {
		return 0, nil, 0, false
	}
	body := b[frameHeader : frameHeader+int(n)]
	if crc32.Checksum(body, crcTable) != binary.BigEndian.Uint32(b[4:]) {
		return 0, nil, 0, false
	}
	return body[0], body[1:], frameHeader + int(n), true
}

// wal is the append-only log of raft entries and hard states. A later entry
// with index i supersedes every earlier entry with index >= i (raft's
// truncation rule), applied on replay. All its I/O goes through fsys.
type wal struct {
	fsys fs.FS
	dir  string
	f    fs.File // opened with O_APPEND: writes land at the end
	log  *slog.Logger
	buf  []byte
	// err is sticky: after a failed write or fsync the file's tail is
	// unknown (a torn frame, or dirty pages the kernel may have dropped),
	// so nothing more is appended to it; a rewrite or a reopen (which
	// truncates a torn tail) starts clean.
	err error
}

// walState is what replay recovered: entries with index > the snapshot
// index, contiguous, and the last hard state (nil if none).
type walState struct {
	entries   []*raftpb.Entry
	hardState *raftpb.HardState
}

// openWAL opens (creating if needed) dir/wal, replays it and truncates a
// torn tail. Entries at or below snapIndex are skipped.
func openWAL(fsys fs.FS, dir string, snapIndex uint64, log *slog.Logger) (*wal, walState, error) {
	path := filepath.Join(dir, walFile)
	var st walState
	data, err := fs.ReadFile(fsys, path)
	switch {
	case errors.Is(err, os.ErrNotExist) || (err == nil && len(data) < fileHeaderSize):
		if len(data) > 0 {
			log.Warn("metadata WAL header is torn; starting an empty WAL", "path", path, "bytes", len(data))
		}
		w := &wal{fsys: fsys, dir: dir, log: log}
		if err := w.rewrite(nil, nil); err != nil {
			return nil, st, err
		}
		return w, st, nil
	case err != nil:
		return nil, st, fmt.Errorf("controller: read WAL: %w", err)
	}
	if !bytes.Equal(data[:fileHeaderSize], fileHeader(walMagic)) {
		return nil, st, fmt.Errorf("%w: %s: bad header % x", ErrCorrupt, path, data[:fileHeaderSize])
	}
	good, err := replayWAL(data, snapIndex, &st)
	if err != nil {
		return nil, st, fmt.Errorf("%s: %w", path, err)
	}
	f, err := fsys.OpenFile(path, os.O_RDWR|os.O_APPEND, 0)
	if err != nil {
		return nil, st, fmt.Errorf("controller: open WAL: %w", err)
	}
	if good < len(data) {
		log.Warn("truncating torn metadata WAL tail", "path", path, "valid_bytes", good, "dropped_bytes", len(data)-good)
		if err := truncateSynced(f, int64(good)); err != nil {
			f.Close()
			return nil, st, err
		}
	}
	return &wal{fsys: fsys, dir: dir, f: f, log: log}, st, nil
}

func truncateSynced(f fs.File, size int64) error {
	if err := f.Truncate(size); err != nil {
		return fmt.Errorf("controller: truncate WAL: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("controller: sync WAL: %w", err)
	}
	return nil
}

// replayWAL decodes the frames of data into st and returns the length of
// the valid prefix. An invalid frame followed by a valid one is corruption,
// not a torn tail, and is an error.
func replayWAL(data []byte, snapIndex uint64, st *walState) (int, error) {
	off := fileHeaderSize
	for off < len(data) {
		typ, payload, size, ok := readFrame(data[off:])
		if !ok {
			if validFrameAfter(data, off) {
				return 0, fmt.Errorf("%w: bad frame at byte %d followed by valid data", ErrCorrupt, off)
			}
			return off, nil
		}
		switch typ {
		case frameEntry:
			e := &raftpb.Entry{}
			if err := proto.Unmarshal(payload, e); err != nil {
				return 0, fmt.Errorf("%w: entry at byte %d: %v", ErrCorrupt, off, err)
			}
			if err := appendReplayed(st, e, snapIndex); err != nil {
				return 0, fmt.Errorf("%w: entry at byte %d: %v", ErrCorrupt, off, err)
			}
		case frameHardState:
			hs := &raftpb.HardState{}
			if err := proto.Unmarshal(payload, hs); err != nil {
				return 0, fmt.Errorf("%w: hard state at byte %d: %v", ErrCorrupt, off, err)
			}
			st.hardState = hs
		default:
			return 0, fmt.Errorf("%w: unknown frame type %d at byte %d", ErrCorrupt, typ, off)
		}
		off += size
	}
	return off, nil
}

// validFrameAfter reports whether a whole valid frame starts right after the
// (invalid) frame at off, judging its extent by its length field.
func validFrameAfter(data []byte, off int) bool {
	if len(data)-off < frameHeader {
		return false
	}
	n := binary.BigEndian.Uint32(data[off:])
	if n == 0 || n > maxFrameSize || uint64(n) > uint64(len(data)-off-frameHeader) {
		return false
	}
	_, _, _, ok := readFrame(data[off+frameHeader+int(n):])
	return ok
}

func appendReplayed(st *walState, e *raftpb.Entry, snapIndex uint64) error {
	idx := e.GetIndex()
	if idx <= snapIndex {
		return nil
	}
	if len(st.entries) == 0 {
		if idx != snapIndex+1 {
			return fmt.Errorf("first entry after snapshot %d has index %d", snapIndex, idx)
		}
		st.entries = append(st.entries, e)
		return nil
	}
	first := st.entries[0].GetIndex()
	last := st.entries[len(st.entries)-1].GetIndex()
	if idx > last+1 || idx < first {
		return fmt.Errorf("entry %d does not follow the log [%d, %d]", idx, first, last)
	}
	st.entries = append(st.entries[:idx-first], e)
	return nil
}

// append writes entries then hs (if non-nil) with one write and fsyncs.
// A nil return means they are durable.
func (w *wal) append(entries []*raftpb.Entry, hs *raftpb.HardState) error {
	if w.err != nil {
		return w.err
	}
	w.buf = w.buf[:0]
	var err error
	for _, e := range entries {
		if w.buf, err = appendFrame(w.buf, frameEntry, e); err != nil {
			return err
		}
	}
	if hs != nil {
		if w.buf, err = appendFrame(w.buf, frameHardState, hs); err != nil {
			return err
		}
	}
	if len(w.buf) == 0 {
		return nil
	}
	if _, err := w.f.Write(w.buf); err != nil {
		w.err = fmt.Errorf("controller: write WAL: %w", err)
		return w.err
	}
	if err := w.f.Sync(); err != nil {
		w.err = fmt.Errorf("controller: sync WAL: %w", err)
		return w.err
	}
	return nil
}

// rewrite atomically replaces the WAL with one holding entries and hs.
func (w *wal) rewrite(entries []*raftpb.Entry, hs *raftpb.HardState) error {
	buf := fileHeader(walMagic)
	var err error
	for _, e := range entries {
		if buf, err = appendFrame(buf, frameEntry, e); err != nil {
			return err
		}
	}
	if hs != nil {
		if buf, err = appendFrame(buf, frameHardState, hs); err != nil {
			return err
		}
	}
	path := filepath.Join(w.dir, walFile)
	if err := fs.WriteFileAtomic(w.fsys, path, buf); err != nil {
		// Whether the old file or the new one is in place is unknown.
		w.err = fmt.Errorf("controller: rewrite WAL: %w", err)
		return w.err
	}
	// The old descriptor refers to the replaced file: writes to it would
	// be lost, so it is closed whether or not the reopen succeeds.
	if w.f != nil {
		w.f.Close()
		w.f = nil
	}
	f, err := w.fsys.OpenFile(path, os.O_RDWR|os.O_APPEND, 0)
	if err != nil {
		w.err = fmt.Errorf("controller: reopen WAL: %w", err)
		return w.err
	}
	w.f, w.err = f, nil
	return nil
}

func (w *wal) close() error {
	if w.f == nil {
		return nil
	}
	err := w.err
	if err == nil {
		err = w.f.Sync()
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	w.f = nil
	return err
}
