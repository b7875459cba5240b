package controller

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/samsa-streaming/samsa/internal/fs"
)

func ent(index, term uint64, data string) *raftpb.Entry {
	return &raftpb.Entry{Index: new(index), Term: new(term), Type: raftpb.EntryNormal.Enum(), Data: []byte(data)}
}

func TestWALReplayAppliesRaftTruncation(t *testing.T) {
	dir := t.TempDir()
	log := slog.New(slog.DiscardHandler)
	w, _, err := openWAL(fs.OS(), dir, 0, log)
	if err != nil {
		t.Fatal(err)
	}
	hs := &raftpb.HardState{Term: new(uint64(2)), Vote: new(uint64(1)), Commit: new(uint64(2))}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.append([]*raftpb.Entry{ent(1, 1, "a"), ent(2, 1, "b"), ent(3, 1, "c")}, nil))
	// A new leader overwrote index 3 onward.
	must(w.append([]*raftpb.Entry{ent(3, 2, "C"), ent(4, 2, "d")}, hs))
	must(w.close())

	_, st, err := openWAL(fs.OS(), dir, 0, log)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range st.entries {
		got = append(got, string(e.GetData()))
	}
	if want := "a b C d"; joinSpace(got) != want {
		t.Fatalf("entries %q, want %q", got, want)
	}
	if st.hardState.GetCommit() != 2 || st.hardState.GetTerm() != 2 {
		t.Fatalf("hard state %v", st.hardState)
	}
	// Entries at or below a snapshot index are skipped.
	_, st, err = openWAL(fs.OS(), dir, 2, log)
	if err != nil || len(st.entries) != 2 || st.entries[0].GetIndex() != 3 {
		t.Fatalf("after snapshot 2: %v %v", st.entries, err)
	}
	// A snapshot beyond the whole WAL (installed from a leader) skips it all.
	if _, _, err := openWAL(fs.OS(), dir, 7, log); err != nil {
		t.Fatalf("snapshot beyond the WAL: %v", err) // all entries skipped: fine
	}
}

func joinSpace(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out
}

func TestWALGapIsCorrupt(t *testing.T) {
	dir := t.TempDir()
	log := slog.New(slog.DiscardHandler)
	w, _, err := openWAL(fs.OS(), dir, 0, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.append([]*raftpb.Entry{ent(1, 1, "a"), ent(3, 1, "c")}, nil); err != nil {
		t.Fatal(err)
	}
	w.close()
	if _, _, err := openWAL(fs.OS(), dir, 0, log); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("got %v", err)
	}
}

func TestWALTornHeaderAndGarbageTail(t *testing.T) {
	dir := t.TempDir()
	log := slog.New(slog.DiscardHandler)
	path := filepath.Join(dir, walFile)
	if err := os.WriteFile(path, []byte("SAMS"), 0o644); err != nil {
		t.Fatal(err)
	}
	w, st, err := openWAL(fs.OS(), dir, 0, log)
	if err != nil || len(st.entries) != 0 {
		t.Fatalf("torn header: %v %v", st.entries, err)
	}
	if err := w.append([]*raftpb.Entry{ent(1, 1, "a")}, nil); err != nil {
		t.Fatal(err)
	}
	w.close()
	// Garbage with a huge length field at the tail is a torn write.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.Write([]byte{0xff, 0xff, 0xff, 0xff, 1, 2, 3})
	f.Close()
	_, st, err = openWAL(fs.OS(), dir, 0, log)
	if err != nil || len(st.entries) != 1 {
		t.Fatalf("garbage tail: %v %v", st.entries, err)
	}
	if _, err := os.ReadFile(path); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	if fi.Size() != int64(fileHeaderSize+len(mustFrame(t, ent(1, 1, "a")))) {
		t.Fatalf("tail not truncated: %d bytes", fi.Size())
	}
}

func mustFrame(t *testing.T, e *raftpb.Entry) []byte {
	b, err := appendFrame(nil, frameEntry, e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCorruptSnapshotIsAnError(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	cfg.SnapshotEvery = 3
	c := open(t, cfg)
	registerBrokers(t, c, 1, 2, 3, 4)
	closeC(t, c)
	names, _ := snapFiles(fs.OS(), dir)
	if len(names) != 1 {
		t.Fatalf("snapshots %v", names)
	}
	p := filepath.Join(dir, names[0])
	data, _ := os.ReadFile(p)
	data[len(data)-2] ^= 0x55
	os.WriteFile(p, data, 0o644)
	if _, err := Open(testCtx(t), cfg); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open with a corrupt snapshot: %v", err)
	}
}

// Open gives up when ctx ends before a leader is known (here: the other
// voter never starts), and leaves nothing running.
func TestOpenHonorsContext(t *testing.T) {
	net := newMemNet(t)
	cfg := testConfig(t, t.TempDir())
	cfg.Voters = map[int32]string{1: "mem:1", 2: "mem:2"}
	cfg.Transport = net.transport(1)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := Open(ctx, cfg); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Open without quorum: %v", err)
	}
}
