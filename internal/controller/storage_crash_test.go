package controller

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/samsa-streaming/samsa/internal/fs"
)

// storageModel tracks what a storage workload has made durable (the
// operation returned nil) and what it had in flight when it stopped.
type storageModel struct {
	log     []*raftpb.Entry // durable log from index 1, as raft sees it
	hs      *raftpb.HardState
	snaps   []uint64 // snapshot indexes whose write returned nil
	pending struct {
		from    uint64          // first index of the in-flight append (0: none)
		entries []*raftpb.Entry // the in-flight append
		hs      *raftpb.HardState
		snap    uint64 // in-flight snapshot index (0: none)
	}
}

func (m *storageModel) lastSnap() uint64 {
	if len(m.snaps) == 0 {
		return 0
	}
	return m.snaps[len(m.snaps)-1]
}

// snapData is the snapshot payload at index: the data of entries 1..index,
// which the workload only snapshots once committed (stable).
func snapData(log []*raftpb.Entry, index uint64) []byte {
	var b strings.Builder
	for _, e := range log[:index] {
		b.Write(e.GetData())
		b.WriteByte(',')
	}
	return []byte(b.String())
}

func entData(index, term uint64) string { return fmt.Sprintf("e%d.t%d", index, term) }

// runStorageWorkload drives the WAL and snapshot files the way the
// controller's loop does: open (temp-file cleanup, newest snapshot, WAL
// replay), then appends of entries plus hard state, one raft log
// truncation (a new term overwriting uncommitted entries), and every few
// entries a snapshot at the commit index with a WAL rewrite and removal of
// older snapshots. It stops at the first error and returns it.
func runStorageWorkload(fsys fs.FS, dir string, m *storageModel) (err error) {
	if err := removeTempFiles(fsys, dir); err != nil {
		return err
	}
	if _, err := loadLatestSnapshot(fsys, dir); err != nil {
		return err
	}
	w, _, err := openWAL(fsys, dir, 0, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer func() {
		if cerr := w.close(); err == nil {
			err = cerr
		}
	}()
	term := uint64(1)
	for i := uint64(1); i <= 14; i++ {
		from, entries := i, []*raftpb.Entry{ent(i, term, entData(i, term))}
		if i == 8 { // a new leader overwrites the uncommitted 6 and 7
			term = 2
			from, entries = 6, []*raftpb.Entry{ent(6, term, entData(6, term)), ent(7, term, entData(7, term)), ent(8, term, entData(8, term))}
		}
		commit := uint64(0)
		if i > 3 {
			commit = i - 3
		}
		hs := &raftpb.HardState{Term: new(term), Vote: new(uint64(1)), Commit: new(commit)}
		if err := modelAppend(w, m, from, entries, hs); err != nil {
			return err
		}
		if i%4 == 0 {
			if err := modelSnapshot(fsys, dir, w, m, commit); err != nil {
				return err
			}
		}
	}
	return nil
}

func modelAppend(w *wal, m *storageModel, from uint64, entries []*raftpb.Entry, hs *raftpb.HardState) error {
	m.pending.from, m.pending.entries, m.pending.hs = from, entries, hs
	if err := w.append(entries, hs); err != nil {
		return err
	}
	m.log = append(m.log[:from-1], entries...)
	m.hs = hs
	m.pending.from, m.pending.entries, m.pending.hs = 0, nil, nil
	return nil
}

func modelSnapshot(fsys fs.FS, dir string, w *wal, m *storageModel, index uint64) error {
	m.pending.snap = index
	snap := &raftpb.Snapshot{
		Data: snapData(m.log, index),
		Metadata: &raftpb.SnapshotMetadata{
			Index:     new(index),
			Term:      new(m.log[index-1].GetTerm()),
			ConfState: &raftpb.ConfState{Voters: []uint64{1}},
		},
	}
	if err := writeSnapshot(fsys, dir, snap); err != nil {
		return err
	}
	m.snaps = append(m.snaps, index)
	m.pending.snap = 0
	if err := w.rewrite(m.log[index:], m.hs); err != nil {
		return err
	}
	return removeSnapshotsBefore(fsys, dir, index)
}

// checkRecovered reopens dir with a healthy FS as the controller's Open
// does and checks the recovered state against the model.
func checkRecovered(t *testing.T, dir string, m *storageModel, what string) {
	t.Helper()
	osfs := fs.OS()
	if err := removeTempFiles(osfs, dir); err != nil {
		t.Fatalf("%s: removeTempFiles: %v", what, err)
	}
	snap, err := loadLatestSnapshot(osfs, dir)
	if err != nil {
		t.Fatalf("%s: a crash left an unreadable snapshot: %v", what, err)
	}
	s := snap.GetMetadata().GetIndex()
	if snap != nil {
		if s < m.lastSnap() || (s != m.lastSnap() && s != m.pending.snap) {
			t.Fatalf("%s: recovered snapshot %d; durable %v, in flight %d", what, s, m.snaps, m.pending.snap)
		}
		if want := snapData(m.log, s); string(snap.GetData()) != string(want) {
			t.Fatalf("%s: snapshot %d holds %q, want %q", what, s, snap.GetData(), want)
		}
	} else if len(m.snaps) > 0 {
		t.Fatalf("%s: durable snapshots %v are gone", what, m.snaps)
	}
	w, st, err := openWAL(osfs, dir, s, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("%s: reopen after the crash: %v", what, err)
	}
	last := s + uint64(len(st.entries))
	checkRecoveredLog(t, m, st.entries, s, what)
	checkRecoveredHardState(t, m, st.hardState, last, what)
	if tmps := dirFilesWith(t, dir, fs.TempSuffix); len(tmps) > 0 {
		t.Fatalf("%s: temporary files left: %v", what, tmps)
	}
	// The repaired WAL takes appends that survive another reopen (a torn
	// tail left in place would turn them into mid-file corruption).
	next := ent(last+1, 9, "after")
	if err := w.append([]*raftpb.Entry{next}, nil); err != nil {
		t.Fatalf("%s: append after recovery: %v", what, err)
	}
	if err := w.close(); err != nil {
		t.Fatal(err)
	}
	_, st2, err := openWAL(osfs, dir, s, slog.New(slog.DiscardHandler))
	if err != nil || len(st2.entries) != len(st.entries)+1 || string(st2.entries[len(st.entries)].GetData()) != "after" {
		t.Fatalf("%s: second reopen: %d entries, %v", what, len(st2.entries), err)
	}
}

// checkRecoveredLog: entries (s, last] match the durable log, or the durable
// log with a prefix of the in-flight append applied (an unsynced write that
// reached the file; if it overwrote entries, raft had superseded them).
func checkRecoveredLog(t *testing.T, m *storageModel, entries []*raftpb.Entry, s uint64, what string) {
	t.Helper()
	durable := m.log
	var attempted []*raftpb.Entry
	if p := m.pending; p.from > 0 {
		attempted = append(append([]*raftpb.Entry{}, m.log[:p.from-1]...), p.entries...)
	}
	matches := func(cand []*raftpb.Entry, min uint64) bool {
		last := s + uint64(len(entries))
		if last > uint64(len(cand)) || last < min {
			return false
		}
		for i, e := range entries {
			if !proto.Equal(e, cand[s+uint64(i)]) {
				return false
			}
		}
		return true
	}
	if matches(durable, uint64(len(durable))) {
		return
	}
	if attempted != nil && matches(attempted, m.pending.from) {
		return
	}
	var got []string
	for _, e := range entries {
		got = append(got, fmt.Sprintf("%d:%s", e.GetIndex(), e.GetData()))
	}
	t.Fatalf("%s: recovered entries after snapshot %d: %v; durable log has %d entries, in flight from %d: %d entries", what, s, got, len(durable), m.pending.from, len(m.pending.entries))
}

func checkRecoveredHardState(t *testing.T, m *storageModel, hs *raftpb.HardState, last uint64, what string) {
	t.Helper()
	switch {
	case hs == nil && m.hs == nil:
		return
	case hs == nil:
		t.Fatalf("%s: durable hard state %v lost", what, m.hs)
	case !proto.Equal(hs, m.hs) && !proto.Equal(hs, m.pending.hs):
		t.Fatalf("%s: hard state %v; durable %v, in flight %v", what, hs, m.hs, m.pending.hs)
	case hs.GetCommit() > last:
		t.Fatalf("%s: hard state commit %d is ahead of the log (last %d)", what, hs.GetCommit(), last)
	}
}

func dirFilesWith(t *testing.T, dir, suffix string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), suffix) {
			out = append(out, e.Name())
		}
	}
	return out
}

// TestStorageCrashAtEachStep runs the storage workload once per file-system
// operation k and crashes the FS at operation k (every later operation
// fails, like a dead process); in the torn modes the k-th write also
// leaves only its first bytes in the file; in the power-loss modes every
// file then loses what was not fsynced. Each time, the directory is
// reopened with a healthy FS and checked: no durable entry, hard state or
// snapshot is lost or changed, only in-flight writes may appear, the
// commit index is never ahead of the log, no temporary file is left, and
// the repaired WAL keeps working.
func TestStorageCrashAtEachStep(t *testing.T) {
	modes := []struct {
		name      string
		ops       fs.Op
		partial   int
		powerLoss bool
	}{
		{"crash", fs.OpAny, 0, false},
		{"power-loss", fs.OpAny, 0, true},
		{"torn-1", fs.OpWrite, 1, false},
		{"torn-header", fs.OpWrite, frameHeader + 1, false},
		{"torn-40", fs.OpWrite, 40, false},
		{"torn-40-power-loss", fs.OpWrite, 40, true},
	}
	for _, mode := range modes {
		steps := 0
		for k := 0; ; k++ {
			dir := t.TempDir()
			ff := fs.NewFaulty(fs.OS())
			ff.Inject(fs.Fault{Ops: mode.ops, Skip: k, Partial: mode.partial, Crash: true})
			m := &storageModel{}
			err := runStorageWorkload(ff, dir, m)
			if mode.powerLoss {
				if lerr := ff.LoseUnsynced(); lerr != nil {
					t.Fatal(lerr)
				}
			}
			if ff.Fired() == 0 {
				if err != nil {
					t.Fatalf("%s: workload without a fault: %v", mode.name, err)
				}
				checkRecovered(t, dir, m, mode.name+" no fault")
				steps = k
				break
			}
			if err == nil {
				t.Fatalf("%s step %d: a fault fired and the workload succeeded", mode.name, k)
			}
			if !errors.Is(err, fs.ErrInjected) && !errors.Is(err, fs.ErrCrashed) {
				t.Fatalf("%s step %d: unexpected error %v", mode.name, k, err)
			}
			checkRecovered(t, dir, m, fmt.Sprintf("%s step %d (%v)", mode.name, k, err))
		}
		if steps < 20 {
			t.Fatalf("%s: only %d operations", mode.name, steps)
		}
		t.Logf("%s: crashed at each of %d operations", mode.name, steps)
	}
}

// TestWALAppendENOSPC: a full disk fails the append with an error naming
// ENOSPC (no panic), later appends fail too (the tail is unknown), and a
// reopen keeps every durable entry and drops the torn one.
func TestWALAppendENOSPC(t *testing.T) {
	dir := t.TempDir()
	ff := fs.NewFaulty(fs.OS())
	w, _, err := openWAL(ff, dir, 0, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.append([]*raftpb.Entry{ent(1, 1, "a"), ent(2, 1, "b")}, nil); err != nil {
		t.Fatal(err)
	}
	ff.Inject(fs.Fault{Ops: fs.OpWrite, Path: walFile, Err: fs.ENOSPC, Partial: 10})
	if err := w.append([]*raftpb.Entry{ent(3, 1, "c")}, nil); !errors.Is(err, fs.ENOSPC) {
		t.Fatalf("append on a full disk: %v", err)
	}
	if err := w.append([]*raftpb.Entry{ent(3, 1, "c")}, nil); !errors.Is(err, fs.ENOSPC) {
		t.Fatalf("append after a failed append: %v", err)
	}
	if err := w.close(); !errors.Is(err, fs.ENOSPC) {
		t.Fatalf("close after a failed append: %v", err)
	}
	w, st, err := openWAL(fs.OS(), dir, 0, slog.New(slog.DiscardHandler))
	if err != nil || len(st.entries) != 2 {
		t.Fatalf("reopen: %d entries, %v", len(st.entries), err)
	}
	if err := w.append([]*raftpb.Entry{ent(3, 1, "c")}, nil); err != nil {
		t.Fatal(err)
	}
	w.close()
	if fi, err := os.Stat(filepath.Join(dir, walFile)); err != nil || fi.Size() == 0 {
		t.Fatal(err)
	}
}

// TestWALFsyncFailureIsSticky: after a failed fsync nothing more is
// appended to the file (its pages may be gone), until a rewrite.
func TestWALFsyncFailureIsSticky(t *testing.T) {
	dir := t.TempDir()
	ff := fs.NewFaulty(fs.OS())
	w, _, err := openWAL(ff, dir, 0, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ff.FailNext(fs.OpSync, walFile, nil)
	if err := w.append([]*raftpb.Entry{ent(1, 1, "a")}, nil); !errors.Is(err, fs.ErrInjected) {
		t.Fatalf("append with a failing fsync: %v", err)
	}
	if err := w.append([]*raftpb.Entry{ent(1, 1, "a")}, nil); !errors.Is(err, fs.ErrInjected) {
		t.Fatalf("append after a failed fsync: %v", err)
	}
	if err := w.rewrite([]*raftpb.Entry{ent(1, 1, "a")}, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.append([]*raftpb.Entry{ent(2, 1, "b")}, nil); err != nil {
		t.Fatalf("append after a rewrite: %v", err)
	}
	w.close()
	if _, st, err := openWAL(fs.OS(), dir, 0, slog.New(slog.DiscardHandler)); err != nil || len(st.entries) != 2 {
		t.Fatalf("reopen: %d entries, %v", len(st.entries), err)
	}
}
