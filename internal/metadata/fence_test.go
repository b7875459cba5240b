package metadata

import "testing"

func TestFenceAndUnfenceBroker(t *testing.T) {
	b := newBuilder(t)
	inc := b.im.Brokers[2].IncarnationID
	before := b.im
	img := b.ok(FenceBroker{ID: 2, IncarnationID: inc})
	if !img.Brokers[2].Fenced || img.Brokers[1].Fenced {
		t.Fatalf("after fence: %+v %+v", img.Brokers[1], img.Brokers[2])
	}
	if before.Brokers[2].Fenced {
		t.Fatal("fencing modified the parent image")
	}
	b.ok(FenceBroker{ID: 2, IncarnationID: inc}) // no-op
	b.fails(FenceBroker{ID: 2, IncarnationID: RandomUuid()}, ErrStaleBroker)
	b.fails(UnfenceBroker{ID: 9, IncarnationID: inc}, ErrStaleBroker)
	if img := b.ok(UnfenceBroker{ID: 2, IncarnationID: inc}); img.Brokers[2].Fenced {
		t.Fatal("still fenced after unfence")
	}

	// A fenced broker that re-registers (a new incarnation) is unfenced,
	// and a fence of its old incarnation is stale.
	b.ok(FenceBroker{ID: 3, IncarnationID: b.im.Brokers[3].IncarnationID})
	old := b.im.Brokers[3].IncarnationID
	img = b.ok(RegisterBroker{ID: 3, Host: "h", Port: 1, IncarnationID: RandomUuid()})
	if img.Brokers[3].Fenced {
		t.Fatal("re-registered broker is fenced")
	}
	b.fails(FenceBroker{ID: 3, IncarnationID: old}, ErrStaleBroker)

	// The flag survives the image codec.
	b.ok(FenceBroker{ID: 1, IncarnationID: b.im.Brokers[1].IncarnationID})
	got, err := DecodeImage(mustEncode(t, b.im))
	if err != nil {
		t.Fatal(err)
	}
	if !got.Brokers[1].Fenced || got.Brokers[2].Fenced {
		t.Fatalf("decoded brokers: %+v %+v", got.Brokers[1], got.Brokers[2])
	}
}
