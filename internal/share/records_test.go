package share

import (
	"bytes"
	"encoding/hex"
	"reflect"
	"testing"
	"time"
)

func TestRecordRoundTrip(t *testing.T) {
	k := PartKey{Group: "g", TP: TP{Topic: [16]byte{1, 2, 3}, Partition: 7}}
	for _, typ := range []int16{RecordSnapshot, RecordUpdate} {
		kb := AppendKey(nil, typ, k)
		gt, gk, err := ParseKey(kb)
		if err != nil || gt != typ || gk != k {
			t.Fatalf("key %d: %v %v %v", typ, gt, gk, err)
		}
		v := StateValue{SnapshotEpoch: 3, LeaderEpoch: 2, StartOffset: 100, DeliveryCompleteCount: -1,
			Batches: []StateBatch{{100, 104, Acknowledged, 1}, {105, 105, Available, 2}}}
		if typ == RecordSnapshot {
			v.StateEpoch, v.CreateTimestamp, v.WriteTimestamp = 1, 1000, 2000
		}
		for _, dcc := range []int32{-1, 5} {
			v.DeliveryCompleteCount = dcc
			got, err := ParseValue(typ, AppendValue(nil, typ, &v))
			if err != nil || !reflect.DeepEqual(got, v) {
				t.Fatalf("value %d: %+v %v, want %+v", typ, got, err, v)
			}
		}
	}
	// The snapshot key's bytes, as Kafka lays them out: type 0, group "g",
	// topic id, partition 7.
	want, _ := hex.DecodeString("0000" + "000167" + "01020300000000000000000000000000" + "00000007")
	if got := AppendKey(nil, RecordSnapshot, k); !bytes.Equal(got, want) {
		t.Fatalf("key bytes %x, want %x", got, want)
	}
}

func TestParseRefusesMalformed(t *testing.T) {
	v := AppendValue(nil, RecordUpdate, &StateValue{DeliveryCompleteCount: -1, Batches: []StateBatch{{0, 1, Archived, 1}}})
	for i := 0; i < len(v); i++ {
		if _, err := ParseValue(RecordUpdate, v[:i]); err == nil {
			t.Fatalf("truncated value of %d bytes accepted", i)
		}
	}
	if _, err := ParseValue(RecordUpdate, append([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 0xff, 0xff, 0xff, 0xff, 0x0f)); err == nil {
		t.Fatal("absurd batch count accepted")
	}
	if _, _, err := ParseKey([]byte{0, 9, 0, 0}); err == nil {
		t.Fatal("unknown record type accepted")
	}
}

func TestStateRestore(t *testing.T) {
	p := NewPartition(testCfg(), 0)
	p.Acquire("a", one(0, 9), 500, t0)
	if err := p.Acknowledge("a", []AckBatch{{First: 0, Last: 0, Types: []AckType{AckRelease}}, {First: 2, Last: 3, Types: []AckType{AckAccept}}, {First: 4, Last: 4, Types: []AckType{AckReject}}}, false, t0); err != nil {
		t.Fatal(err)
	}
	start, batches := p.State()
	q := RestorePartition(testCfg(), start, batches)
	if q.Start() != p.Start() || q.End() != p.End() {
		t.Fatalf("restored [%d,%d), want [%d,%d)", q.Start(), q.End(), p.Start(), p.End())
	}
	for off := p.Start(); off < p.End(); off++ {
		st, d, _, _ := p.Record(off)
		if st == Acquired {
			st = Available
		}
		if qs, qd, qm, _ := q.Record(off); qs != st || qd != d || qm != "" {
			t.Fatalf("offset %d restored %v/%d/%q, want %v/%d", off, qs, qd, qm, st, d)
		}
	}
	// Restored records are available again: acquired with their count + 1.
	got := q.Acquire("b", one(0, 9), 500, t0.Add(time.Second))
	if len(got) == 0 || got[0] != (AcquiredRange{First: 0, Last: 1, Deliveries: 2}) {
		t.Fatalf("after restore %+v", got)
	}
}

func TestMergeBatches(t *testing.T) {
	base := []StateBatch{{10, 19, Available, 1}, {20, 29, Acknowledged, 1}}
	up := []StateBatch{{12, 13, Acknowledged, 1}, {25, 34, Archived, 2}}
	got := MergeBatches(base, up, 11)
	want := []StateBatch{{11, 11, Available, 1}, {12, 13, Acknowledged, 1}, {14, 19, Available, 1}, {20, 24, Acknowledged, 1}, {25, 34, Archived, 2}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("merged %+v\nwant %+v", got, want)
	}
	if got := MergeBatches(nil, []StateBatch{{0, 1 << 62, Archived, 1}}, 5); len(got) != 1 || got[0].FirstOffset != 5 {
		t.Fatalf("huge range %+v", got)
	}
}

// FuzzParseRecord: the decoders never panic, never allocate past the
// bytes given, and what they accept re-encodes to the same bytes (when
// no unknown tags were skipped).
func FuzzParseRecord(f *testing.F) {
	k := PartKey{Group: "grp", TP: TP{Topic: [16]byte{9}, Partition: 1}}
	f.Add(AppendKey(nil, RecordSnapshot, k), AppendValue(nil, RecordSnapshot, &StateValue{StateEpoch: 1, DeliveryCompleteCount: 3, Batches: []StateBatch{{1, 2, Archived, 1}}}))
	f.Add(AppendKey(nil, RecordUpdate, k), AppendValue(nil, RecordUpdate, &StateValue{DeliveryCompleteCount: -1}))
	f.Fuzz(func(t *testing.T, key, value []byte) {
		typ, pk, err := ParseKey(key)
		if err != nil {
			return
		}
		if got := AppendKey(nil, typ, pk); !bytes.Equal(got, key) {
			t.Fatalf("key re-encodes to %x, was %x", got, key)
		}
		v, err := ParseValue(typ, value)
		if err != nil {
			return
		}
		if len(v.Batches) > len(value) {
			t.Fatalf("%d batches from %d bytes", len(v.Batches), len(value))
		}
		again, err := ParseValue(typ, AppendValue(nil, typ, &v))
		if err != nil || !reflect.DeepEqual(again, v) {
			t.Fatalf("re-encoded value parses to %+v, %v; was %+v", again, err, v)
		}
	})
}
