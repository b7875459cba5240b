package controller

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"google.golang.org/protobuf/proto"

	"go.etcd.io/raft/v3/raftpb"
)

func walSeed(t testing.TB, frames ...proto.Message) []byte {
	buf := fileHeader(walMagic)
	var err error
	for _, m := range frames {
		typ := frameEntry
		if _, ok := m.(*raftpb.HardState); ok {
			typ = frameHardState
		}
		if buf, err = appendFrame(buf, typ, m); err != nil {
			t.Fatal(err)
		}
	}
	return buf
}

// FuzzReplayWAL feeds arbitrary bytes to the WAL decoder: it never panics;
// it either reports ErrCorrupt or returns a valid prefix whose entries are
// contiguous from the snapshot index; replaying that prefix gives the same
// state and consumes all of it; and a frame appended to the prefix (what
// the WAL does after truncating a torn tail) is read back.
func FuzzReplayWAL(f *testing.F) {
	hs := &raftpb.HardState{Term: new(uint64(2)), Vote: new(uint64(1)), Commit: new(uint64(1))}
	full := walSeed(f, ent(1, 1, "a"), ent(2, 1, "b"), hs, ent(2, 2, "B"))
	f.Add(full, uint64(0))
	f.Add(full, uint64(1))
	f.Add(full[:len(full)-3], uint64(0))
	f.Add(fileHeader(walMagic), uint64(0))
	f.Add(append(walSeed(f, ent(1, 1, "a")), 0xff, 0xff, 0xff, 0xff, 1, 2), uint64(0))
	mid := bytes.Clone(full)
	mid[fileHeaderSize+frameHeader+1] ^= 0x40
	f.Add(mid, uint64(0))
	f.Fuzz(func(t *testing.T, data []byte, snapIndex uint64) {
		if len(data) < fileHeaderSize {
			return
		}
		var st walState
		good, err := replayWAL(data, snapIndex, &st)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v is not ErrCorrupt", err)
			}
			return
		}
		if good < fileHeaderSize || good > len(data) {
			t.Fatalf("valid prefix %d of %d bytes", good, len(data))
		}
		for i, e := range st.entries {
			if e.GetIndex() != snapIndex+1+uint64(i) {
				t.Fatalf("entry %d has index %d after snapshot %d", i, e.GetIndex(), snapIndex)
			}
		}
		var again walState
		good2, err := replayWAL(data[:good], snapIndex, &again)
		if err != nil || good2 != good || len(again.entries) != len(st.entries) || !proto.Equal(again.hardState, st.hardState) {
			t.Fatalf("replaying the valid prefix: %d/%d bytes, %d/%d entries, %v", good2, good, len(again.entries), len(st.entries), err)
		}
		next := ent(snapIndex+uint64(len(st.entries))+1, 1, "next")
		ext, err := appendFrame(bytes.Clone(data[:good]), frameEntry, next)
		if err != nil {
			t.Fatal(err)
		}
		var after walState
		if n, err := replayWAL(ext, snapIndex, &after); err != nil || n != len(ext) || !proto.Equal(after.entries[len(after.entries)-1], next) {
			t.Fatalf("append after the valid prefix: %d/%d bytes, %v", n, len(ext), err)
		}
	})
}

// FuzzDecodeSnapshot feeds arbitrary bytes to the snapshot file and data
// decoders: they never panic, fail only with ErrCorrupt, and a snapshot
// they accept re-encodes to the same file.
func FuzzDecodeSnapshot(f *testing.F) {
	data, err := encodeSnapshotData([]byte{1, 2, 3}, map[int32]string{3: "h:1"})
	if err != nil {
		f.Fatal(err)
	}
	snap := &raftpb.Snapshot{Data: data, Metadata: &raftpb.SnapshotMetadata{
		Index: new(uint64(7)), Term: new(uint64(2)), ConfState: &raftpb.ConfState{Voters: []uint64{1}},
	}}
	file, err := appendFrame(fileHeader(snapMagic), frameSnapshot, snap)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(file)
	f.Add(file[:len(file)-1])
	f.Add(append(bytes.Clone(file), 0))
	f.Add(binary.BigEndian.AppendUint32([]byte(snapMagic), 2))
	f.Fuzz(func(t *testing.T, b []byte) {
		name := snapName(7)
		got, err := decodeSnapshotFile(name, b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v is not ErrCorrupt", err)
			}
		} else {
			re, err := appendFrame(fileHeader(snapMagic), frameSnapshot, got)
			if err != nil {
				t.Fatal(err)
			}
			if back, err := decodeSnapshotFile(name, re); err != nil || !proto.Equal(back, got) {
				t.Fatalf("re-encoded snapshot: %v", err)
			}
		}
		if _, _, err := decodeSnapshotData(b); err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("data error %v is not ErrCorrupt", err)
		}
	})
}
