package metadata

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

func sampleRecords() []Record {
	id := Uuid{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	return []Record{
		SetClusterID{ID: "MkU3OEVBNTcwNTJENDM2Qg"},
		RegisterBroker{ID: 1, Host: "localhost", Port: 9092, Rack: "r1", IncarnationID: id},
		CreateTopic{Name: "orders", ID: id, Configs: map[string]string{"retention.ms": "1000"}, Assignments: [][]int32{{1, 2}, {2, 1}}},
		DeleteTopic{ID: id},
		CreatePartitions{TopicID: id, Assignments: [][]int32{{1}}},
		AlterTopicConfig{TopicID: id, Set: map[string]string{"a": "b"}, Delete: []string{"c"}},
		AlterBrokerConfig{BrokerID: ClusterDefault, Set: map[string]string{"a": "b"}, Delete: []string{"c"}},
		AllocateProducerIDs{BrokerID: 1, Count: 1000},
		ChangePartition{TopicID: id, Partition: 3, Leader: 2, LeaderEpoch: 7, ISR: []int32{2}, Replicas: []int32{2, 1}},
		ChangePartition{TopicID: id, Partition: 3, Leader: NoLeader, LeaderEpoch: 8, ISR: []int32{}},
		FenceBroker{ID: 2, IncarnationID: id},
		UnfenceBroker{ID: 2, IncarnationID: id},
	}
}

func TestRecordRoundTrip(t *testing.T) {
	seen := map[RecordType]bool{}
	for _, r := range sampleRecords() {
		b, err := EncodeRecord(r)
		if err != nil {
			t.Fatalf("encode %v: %v", r.Type(), err)
		}
		if RecordType(b[0]) != r.Type() || b[1] != recordVersion {
			t.Fatalf("%v: header % x", r.Type(), b[:2])
		}
		got, err := DecodeRecord(b)
		if err != nil {
			t.Fatalf("decode %v: %v (%s)", r.Type(), err, b)
		}
		if !reflect.DeepEqual(got, r) {
			t.Fatalf("%v round trip:\n got %#v\nwant %#v", r.Type(), got, r)
		}
		seen[r.Type()] = true
	}
	for typ := TypeSetClusterID; typ <= TypeUnfenceBroker; typ++ {
		if !seen[typ] {
			t.Errorf("no sample for %v", typ)
		}
	}
	// Pointers encode like values.
	a, _ := EncodeRecord(&DeleteTopic{ID: Uuid{1}})
	b, _ := EncodeRecord(DeleteTopic{ID: Uuid{1}})
	if !bytes.Equal(a, b) {
		t.Fatalf("pointer and value encodings differ: %s vs %s", a, b)
	}
}

// ChangePartition distinguishes "keep" (nil) from "set to empty" ([]).
func TestChangePartitionNilVersusEmpty(t *testing.T) {
	b, _ := EncodeRecord(ChangePartition{Leader: NoLeader, ISR: []int32{}})
	r, err := DecodeRecord(b)
	if err != nil {
		t.Fatal(err)
	}
	cp := r.(ChangePartition)
	if cp.ISR == nil || len(cp.ISR) != 0 || cp.Replicas != nil {
		t.Fatalf("got ISR %#v replicas %#v", cp.ISR, cp.Replicas)
	}
}

type fakeRecord struct{}

func (fakeRecord) Type() RecordType { return TypeCreateTopic }

func TestEncodeRecordErrors(t *testing.T) {
	if _, err := EncodeRecord(fakeRecord{}); !errors.Is(err, ErrUnknownRecordType) {
		t.Fatalf("got %v", err)
	}
	var nilRec *CreateTopic
	if _, err := EncodeRecord(nilRec); !errors.Is(err, ErrUnknownRecordType) {
		t.Fatalf("got %v", err)
	}
}

func TestDecodeRecordErrors(t *testing.T) {
	good, _ := EncodeRecord(DeleteTopic{ID: Uuid{1}})
	cases := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrMalformed},
		{"one byte", []byte{3}, ErrMalformed},
		{"no body", []byte{3, 0}, ErrMalformed},
		{"unknown type", append([]byte{200, 0}, good[2:]...), ErrUnknownRecordType},
		{"type zero", append([]byte{0, 0}, good[2:]...), ErrUnknownRecordType},
		{"newer version", append([]byte{good[0], 1}, good[2:]...), ErrUnsupportedVersion},
		{"null", []byte{4, 0, 'n', 'u', 'l', 'l'}, ErrMalformed},
		{"array", []byte{4, 0, '[', ']'}, ErrMalformed},
		{"truncated", good[:len(good)-1], ErrMalformed},
		{"trailing", append(append([]byte{}, good...), '{', '}'), ErrMalformed},
		{"unknown field", []byte(string(good[:2]) + `{"id":"AQAAAAAAAAAAAAAAAAAAAA","x":1}`), ErrMalformed},
		{"bad uuid", []byte(string(good[:2]) + `{"id":"nope"}`), ErrMalformed},
		{"wrong type", []byte{8, 0, '{', '"', 'c', 'o', 'u', 'n', 't', '"', ':', '"', 'x', '"', '}'}, ErrMalformed},
	}
	for _, c := range cases {
		r, err := DecodeRecord(c.in)
		if !errors.Is(err, c.want) || r != nil {
			t.Errorf("%s: got %v, %v; want %v", c.name, r, err, c.want)
		}
	}
}

func FuzzDecodeRecord(f *testing.F) {
	for _, r := range sampleRecords() {
		b, err := EncodeRecord(r)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte{3, 0, '{', '}'})
	f.Add([]byte{9, 0, '{', '"', 'i', 's', 'r', '"', ':', 'n', 'u', 'l', 'l', '}'})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeRecord(b)
		if err != nil {
			if r != nil {
				t.Fatalf("record %#v with error %v", r, err)
			}
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnknownRecordType) && !errors.Is(err, ErrUnsupportedVersion) {
				t.Fatalf("error without sentinel: %v", err)
			}
			return
		}
		// Whatever decodes re-encodes to a stable form, and applying it
		// to a populated image never panics.
		enc, err := EncodeRecord(r)
		if err != nil {
			t.Fatalf("re-encode %#v: %v", r, err)
		}
		r2, err := DecodeRecord(enc)
		if err != nil {
			t.Fatalf("decode re-encoded %s: %v", enc, err)
		}
		enc2, _ := EncodeRecord(r2)
		if !bytes.Equal(enc, enc2) {
			t.Fatalf("unstable encoding: %s vs %s", enc, enc2)
		}
		im := fuzzImage()
		next, _ := im.Apply(im.Offset+1, r)
		if next == nil || next.Offset != im.Offset+1 {
			t.Fatalf("Apply returned %v", next)
		}
	})
}

func fuzzImage() *Image {
	id := Uuid{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	im := NewImage()
	for i, r := range []Record{
		SetClusterID{ID: "c"},
		RegisterBroker{ID: 1, Host: "h", Port: 1},
		RegisterBroker{ID: 2, Host: "h", Port: 2},
		CreateTopic{Name: "orders", ID: id, Assignments: [][]int32{{1, 2}, {2, 1}}},
	} {
		var err error
		if im, err = im.Apply(int64(i+1), r); err != nil {
			panic(err)
		}
	}
	return im
}

// An empty list in ChangePartition clears; nil keeps. Both must survive the
// encoding.
func TestChangePartitionEmptyListsRoundTrip(t *testing.T) {
	in := ChangePartition{Partition: 1, Leader: 2, ISR: []int32{2}, ELR: []int32{}, AddingReplicas: []int32{}, RemovingReplicas: nil}
	b, err := EncodeRecord(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := DecodeRecord(b)
	if err != nil {
		t.Fatal(err)
	}
	cp := out.(ChangePartition)
	if cp.ELR == nil || len(cp.ELR) != 0 || cp.AddingReplicas == nil || cp.RemovingReplicas != nil {
		t.Fatalf("round trip lost empty-vs-nil: %+v", cp)
	}
}
