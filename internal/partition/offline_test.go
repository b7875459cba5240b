package partition

import (
	"context"
	"errors"
	"log/slog"
	"syscall"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/config"
	"github.com/samsa-streaming/samsa/internal/fs"
	"github.com/samsa-streaming/samsa/internal/log"
	"github.com/samsa-streaming/samsa/internal/metadata"
)

// offlineManager is a Manager over a Faulty FS hosting topics a (two
// partitions) and b (one), all led by broker 1.
func offlineManager(t *testing.T) (*Manager, *fs.Faulty) {
	t.Helper()
	bc := config.Broker{}.Defaults()
	ff := fs.NewFaulty(fs.OS())
	m, err := NewManager(ManagerOptions{DataDir: t.TempDir(), NodeID: 1, Broker: &bc, FS: ff,
		Logger: slog.New(slog.DiscardHandler), Clock: &fakeClock{time.UnixMilli(1_700_000_000_000)}})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Sync(context.Background(), offlineImage(t, "a", "b"), true); err != nil {
		t.Fatal(err)
	}
	return m, ff
}

// offlineImage is an image where broker 1 leads every partition of topics
// (topic a has two partitions, the others one).
func offlineImage(t *testing.T, topics ...string) *metadata.Image {
	t.Helper()
	recs := []metadata.Record{
		metadata.SetClusterID{ID: "offline-test"},
		metadata.RegisterBroker{ID: 1, Host: "h", Port: 1, IncarnationID: metadata.RandomUuid()},
	}
	for _, name := range topics {
		as := [][]int32{{1}}
		if name == "a" {
			as = append(as, []int32{1})
		}
		recs = append(recs, metadata.CreateTopic{Name: name, ID: metadata.RandomUuid(), Assignments: as})
	}
	img := metadata.NewImage()
	for i, r := range recs {
		var err error
		if img, err = img.Apply(int64(i+1), r); err != nil {
			t.Fatal(err)
		}
	}
	return img
}

// An ENOSPC on one partition's append is a storage error: that partition
// and every other one of the log directory go offline, refuse appends,
// replica appends and truncation with ErrOffline, and Close reports the
// failure without flushing.
func TestENOSPCTakesLogDirOffline(t *testing.T) {
	m, ff := offlineManager(t)
	a0, _ := m.Get("a", 0)
	b0, _ := m.Get("b", 0)
	ts := a0.clock.Now().UnixMilli()
	if _, err := a0.Append(idemBatch(t, 7, 0, 0, 1, ts), 1); err != nil {
		t.Fatal(err)
	}
	select {
	case <-m.LogDirFailed():
		t.Fatal("offline before any failure")
	default:
	}

	ff.FailNext(fs.OpWrite, "a-0", fs.ENOSPC)
	_, err := a0.Append(idemBatch(t, 7, 0, 1, 1, ts), 1)
	if !errors.Is(err, log.ErrStorage) || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("ENOSPC append: %v", err)
	}
	select {
	case <-m.LogDirFailed():
	default:
		t.Fatal("the log directory did not go offline")
	}
	if m.LogDirOffline() == nil {
		t.Fatal("LogDirOffline is nil")
	}
	for _, p := range m.All() {
		if !errors.Is(p.Offline(), ErrOffline) {
			t.Fatalf("%s-%d online: %v", p.Topic, p.Index, p.Offline())
		}
	}
	// Nothing more is written, although the disk has room again.
	if _, err := a0.Append(idemBatch(t, 7, 0, 1, 1, ts), 1); !errors.Is(err, ErrOffline) {
		t.Fatalf("append after the failure: %v", err)
	}
	if _, err := b0.Append(idemBatch(t, 8, 0, 0, 1, ts), 1); !errors.Is(err, ErrOffline) {
		t.Fatalf("append to another partition of the dir: %v", err)
	}
	if _, err := b0.AppendMarker(8, 0, true, 0); !errors.Is(err, ErrOffline) {
		t.Fatalf("marker: %v", err)
	}
	if err := b0.TruncateTo(0); !errors.Is(err, ErrOffline) {
		t.Fatalf("truncate: %v", err)
	}
	if _, err := b0.DeleteRecords(-1); !errors.Is(err, ErrOffline) {
		t.Fatalf("delete records: %v", err)
	}
	if _, err := b0.Log().Append(idemBatch(t, 9, 0, 0, 1, ts), 1); !errors.Is(err, log.ErrStorage) {
		t.Fatalf("the logs themselves refuse appends: %v", err)
	}
	ff.Inject(fs.Fault{Ops: fs.OpSync, Times: -1}) // a flush at Close would fail
	if err := m.Close(); err == nil || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Close of an offline dir: %v", err)
	}
}

// A failed fsync (a background flush, noticed by the flusher) takes the
// log directory offline too, so the partition does not stay leader of a
// log whose tail is unknown.
func TestFsyncFailureTakesLogDirOffline(t *testing.T) {
	m, ff := offlineManager(t)
	a1, _ := m.Get("a", 1)
	ts := a1.clock.Now().UnixMilli()
	if _, err := a1.Append(idemBatch(t, 7, 0, 0, 1, ts), 1); err != nil {
		t.Fatal(err)
	}
	ff.FailNext(fs.OpSync, "a-1", syscall.EIO)
	if err := a1.Flush(); !errors.Is(err, log.ErrStorage) {
		t.Fatalf("flush: %v", err)
	}
	if m.LogDirOffline() == nil || a1.Offline() == nil {
		t.Fatal("an fsync failure left the log directory online")
	}
	// A partition opened after the failure (a new image) is offline too.
	_ = m.Sync(context.Background(), offlineImage(t, "a", "c"), false)
	if c0, ok := m.Get("c", 0); !ok || c0.Offline() == nil {
		t.Fatalf("a partition opened after the failure is not offline (hosted %v)", ok)
	}
	_ = m.Close()
}
