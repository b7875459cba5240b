package share

import (
	"errors"
	"reflect"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
)

// apply appends recs to the "log" and folds them into s.
func apply(t *testing.T, s *StateStore, log *[]Rec, recs []Rec, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		*log = append(*log, r)
		if err := s.Apply(r); err != nil {
			t.Fatal(err)
		}
	}
}

// The store's state after initialise, writes (updates, then a snapshot
// every third) and a replay of its own log is the same; fenced epochs are
// refused; delete tombstones both keys.
func TestStateStoreWriteReplay(t *testing.T) {
	s := NewStateStore(3)
	var log []Rec
	k := PartKey{Group: "g", TP: TP{Topic: [16]byte{7}, Partition: 2}}
	recs, err := s.Initialize(k, 0, 100, 1)
	apply(t, s, &log, recs, err)
	writes := [][]StateBatch{
		{{100, 104, Acknowledged, 1}, {105, 109, Available, 1}},
		{{105, 106, Archived, 3}},
		{{107, 109, Acknowledged, 2}},
		{{110, 119, Available, 1}},
	}
	starts := []int64{-1, 105, 107, -1}
	for i, w := range writes {
		recs, err := s.Write(k, 0, 1, starts[i], w, -1, int64(i+2))
		apply(t, s, &log, recs, err)
	}
	got, _ := s.Get(k)
	want := []StateBatch{{110, 119, Available, 1}}
	if got.StartOffset != 107 || !reflect.DeepEqual(got.Batches[len(got.Batches)-1:], want) {
		t.Fatalf("state %+v", got)
	}
	kinds := 0
	for _, r := range log {
		if typ, _, _ := ParseKey(r.Key); typ == RecordSnapshot {
			kinds++
		}
	}
	if kinds != 2 { // the initialise and the third write's
		t.Fatalf("%d snapshots in %d records", kinds, len(log))
	}
	replayed := NewStateStore(3)
	for _, r := range log {
		if err := replayed.Apply(r); err != nil {
			t.Fatal(err)
		}
	}
	if again, _ := replayed.Get(k); !reflect.DeepEqual(again.Batches, got.Batches) || again.StartOffset != got.StartOffset {
		t.Fatalf("replayed %+v\nwant %+v", again, got)
	}
	if _, err := s.Write(k, 0, 0, -1, nil, -1, 9); !errors.Is(err, kerr.FencedLeaderEpoch) {
		t.Fatalf("old leader epoch: %v", err)
	}
	recs, err = s.Initialize(k, 1, 200, 10)
	apply(t, s, &log, recs, err)
	if _, err := s.Write(k, 0, 1, -1, nil, -1, 11); !errors.Is(err, kerr.FencedStateEpoch) {
		t.Fatalf("old state epoch: %v", err)
	}
	apply(t, s, &log, s.Delete(k), nil)
	if _, ok := s.Get(k); ok {
		t.Fatal("state survived its tombstones")
	}
}
