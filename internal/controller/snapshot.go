package controller

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/samsa-streaming/samsa/internal/fs"
)

// Snapshot files are named snapshot-<index, 20 digits>.snap and hold the
// file header (snapMagic) and one frameSnapshot frame: a proto
// raftpb.Snapshot whose Data holds metadata.EncodeImage of the image at
// Index (see snapDataEnvelope).
const (
	snapPrefix = "snapshot-"
	snapSuffix = ".snap"
)

// Snapshot data (raftpb.Snapshot.Data, in files and in MsgSnap) is
//
//	0xA5 length:u32be members[length] image
//
// where members is JSON {"learners":{"<node id>":"host:port",...}} (the
// controller listener of each raft learner, which the ConfState does not
// carry) and image is metadata.EncodeImage. Data that starts with any
// other byte is an image alone (snapshots written before learners
// existed; an encoded image starts with its version, 1).
const snapDataEnvelope = 0xA5

type snapMembers struct {
	Learners map[int32]string `json:"learners,omitempty"`
}

func encodeSnapshotData(image []byte, learners map[int32]string) ([]byte, error) {
	m, err := json.Marshal(snapMembers{Learners: learners})
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, 5+len(m)+len(image))
	out = append(out, snapDataEnvelope)
	out = binary.BigEndian.AppendUint32(out, uint32(len(m)))
	out = append(out, m...)
	return append(out, image...), nil
}

// decodeSnapshotData splits snapshot data into the encoded image and the
// learners' addresses (nil for data without the envelope).
func decodeSnapshotData(data []byte) (image []byte, learners map[int32]string, err error) {
	if len(data) == 0 || data[0] != snapDataEnvelope {
		return data, nil, nil
	}
	if len(data) < 5 {
		return nil, nil, fmt.Errorf("%w: snapshot data envelope is truncated", ErrCorrupt)
	}
	n := binary.BigEndian.Uint32(data[1:])
	if uint64(n) > uint64(len(data)-5) {
		return nil, nil, fmt.Errorf("%w: snapshot members of %d bytes overrun the data", ErrCorrupt, n)
	}
	var m snapMembers
	if err := json.Unmarshal(data[5:5+n], &m); err != nil {
		return nil, nil, fmt.Errorf("%w: snapshot members: %v", ErrCorrupt, err)
	}
	return data[5+n:], m.Learners, nil
}

func snapName(index uint64) string { return fmt.Sprintf("%s%020d%s", snapPrefix, index, snapSuffix) }

// snapFiles lists snapshot file names, oldest first.
func snapFiles(fsys fs.FS, dir string) ([]string, error) {
	ents, err := fsys.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("controller: list %s: %w", dir, err)
	}
	var names []string
	for _, e := range ents {
		n := e.Name()
		if strings.HasPrefix(n, snapPrefix) && strings.HasSuffix(n, snapSuffix) && len(n) == len(snapName(0)) {
			names = append(names, n)
		}
	}
	slices.Sort(names) // zero-padded: lexical order is index order
	return names, nil
}

func writeSnapshot(fsys fs.FS, dir string, snap *raftpb.Snapshot) error {
	buf, err := appendFrame(fileHeader(snapMagic), frameSnapshot, snap)
	if err != nil {
		return err
	}
	if err := fs.WriteFileAtomic(fsys, filepath.Join(dir, snapName(snap.GetMetadata().GetIndex())), buf); err != nil {
		return fmt.Errorf("controller: write snapshot: %w", err)
	}
	return nil
}

// loadLatestSnapshot returns the newest snapshot, or nil if there is none.
// A damaged newest snapshot is an error: the WAL has been compacted past
// any older one, so falling back would silently lose metadata.
func loadLatestSnapshot(fsys fs.FS, dir string) (*raftpb.Snapshot, error) {
	names, err := snapFiles(fsys, dir)
	if err != nil || len(names) == 0 {
		return nil, err
	}
	name := names[len(names)-1]
	data, err := fs.ReadFile(fsys, filepath.Join(dir, name))
	if err != nil {
		return nil, fmt.Errorf("controller: read snapshot: %w", err)
	}
	return decodeSnapshotFile(name, data)
}

// decodeSnapshotFile parses the content of the snapshot file name.
func decodeSnapshotFile(name string, data []byte) (*raftpb.Snapshot, error) {
	if len(data) < fileHeaderSize || !bytes.Equal(data[:fileHeaderSize], fileHeader(snapMagic)) {
		return nil, fmt.Errorf("%w: snapshot %s: bad header", ErrCorrupt, name)
	}
	typ, payload, size, ok := readFrame(data[fileHeaderSize:])
	if !ok || typ != frameSnapshot || fileHeaderSize+size != len(data) {
		return nil, fmt.Errorf("%w: snapshot %s: bad frame", ErrCorrupt, name)
	}
	snap := &raftpb.Snapshot{}
	if err := proto.Unmarshal(payload, snap); err != nil {
		return nil, fmt.Errorf("%w: snapshot %s: %v", ErrCorrupt, name, err)
	}
	if snapName(snap.GetMetadata().GetIndex()) != name {
		return nil, fmt.Errorf("%w: snapshot %s holds index %d", ErrCorrupt, name, snap.GetMetadata().GetIndex())
	}
	return snap, nil
}

// removeSnapshotsBefore deletes snapshot files older than index.
func removeSnapshotsBefore(fsys fs.FS, dir string, index uint64) error {
	names, err := snapFiles(fsys, dir)
	if err != nil {
		return err
	}
	keep := snapName(index)
	for _, n := range names {
		if n < keep {
			if err := fsys.Remove(filepath.Join(dir, n)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("controller: remove old snapshot: %w", err)
			}
		}
	}
	return nil
}

// removeTempFiles deletes the temporary files fs.WriteFileAtomic leaves
// behind when it is interrupted.
func removeTempFiles(fsys fs.FS, dir string) error {
	ents, err := fsys.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("controller: list %s: %w", dir, err)
	}
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), fs.TempSuffix) {
			continue
		}
		if err := fsys.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("controller: remove %s: %w", e.Name(), err)
		}
	}
	return nil
}
