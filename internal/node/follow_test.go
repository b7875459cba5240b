package node

import (
	"slices"
	"sync"
	"testing"

	"github.com/samsa-streaming/samsa/internal/metadata"
)

// fakeImages is an imageSource whose publications the test controls.
type fakeImages struct {
	mu   sync.Mutex
	img  *metadata.Image
	subs []func(old, new *metadata.Image)
	// onSubscribe runs once a subscriber is registered, before
	// Subscribe returns.
	onSubscribe func()
	// stale, when set, is what the next Image call returns instead of
	// the current image (a read that raced with a publication).
	stale *metadata.Image
}

func (f *fakeImages) Image() *metadata.Image {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s := f.stale; s != nil {
		f.stale = nil
		return s
	}
	return f.img
}

func (f *fakeImages) Subscribe(fn func(old, new *metadata.Image)) {
	f.mu.Lock()
	f.subs = append(f.subs, fn)
	f.mu.Unlock()
	if f.onSubscribe != nil {
		f.onSubscribe()
	}
}

// publish makes img current and runs the subscribers, as the controller's
// loop does.
func (f *fakeImages) publish(img *metadata.Image) {
	f.mu.Lock()
	old := f.img
	f.img = img
	subs := slices.Clone(f.subs)
	f.mu.Unlock()
	for _, fn := range subs {
		fn(old, img)
	}
}

// record collects the offsets apply sees.
type record struct {
	mu   sync.Mutex
	offs []int64
}

func (r *record) apply(img *metadata.Image) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.offs = append(r.offs, img.Offset)
}

func (r *record) got() []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.offs)
}

func img(off int64) *metadata.Image { return &metadata.Image{Offset: off} }

// An image published between the start-up pass (at offset 3) and the
// subscription reaches apply (the race fixed in 21c9dd8: an election in
// that window was lost and the partition answered NOT_LEADER forever).
func TestFollowImagesCatchesUpAfterStartupPass(t *testing.T) {
	src := &fakeImages{img: img(3)}
	src.publish(img(5)) // nobody subscribed yet
	var r record
	stop := followImages(src, 3, r.apply)
	if got := r.got(); !slices.Equal(got, []int64{5}) {
		t.Fatalf("applied %v, want [5]", got)
	}
	src.publish(img(6))
	if got := r.got(); !slices.Equal(got, []int64{5, 6}) {
		t.Fatalf("applied %v, want [5 6]", got)
	}
	stop()
	src.publish(img(7))
	if got := r.got(); !slices.Equal(got, []int64{5, 6}) {
		t.Fatalf("applied %v after stop, want [5 6]", got)
	}
}

// An image published while subscribing is applied once, whether the
// subscription or the catch-up sees it first.
func TestFollowImagesPublishedDuringSubscribe(t *testing.T) {
	src := &fakeImages{img: img(3)}
	src.onSubscribe = func() { src.publish(img(4)) }
	var r record
	followImages(src, 3, r.apply)
	if got := r.got(); !slices.Equal(got, []int64{4}) {
		t.Fatalf("applied %v, want [4]", got)
	}
}

// An older image never follows a newer one: the catch-up read an image
// that the subscription has already overtaken.
func TestFollowImagesNeverGoesBack(t *testing.T) {
	src := &fakeImages{img: img(3)}
	src.onSubscribe = func() {
		src.publish(img(5))
		src.mu.Lock()
		src.stale = img(4)
		src.mu.Unlock()
	}
	var r record
	followImages(src, 3, r.apply)
	src.publish(img(5)) // a repeat of the same offset is not applied again
	if got := r.got(); !slices.Equal(got, []int64{5}) {
		t.Fatalf("applied %v, want [5]", got)
	}
	// Nothing at or before the start-up pass is applied.
	src2 := &fakeImages{img: img(3)}
	var r2 record
	followImages(src2, 3, r2.apply)
	src2.publish(img(2))
	if got := r2.got(); len(got) != 0 {
		t.Fatalf("applied %v, want nothing", got)
	}
}

// Concurrent publications arrive in increasing order.
func TestFollowImagesConcurrentInOrder(t *testing.T) {
	src := &fakeImages{img: img(0)}
	var r record
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := int64(1); i <= 200; i++ {
			src.publish(img(i))
		}
	})
	followImages(src, 0, r.apply)
	wg.Wait()
	got := r.got()
	if !slices.IsSorted(got) || len(got) == 0 || got[len(got)-1] != 200 {
		t.Fatalf("applied %v: want increasing, ending at 200", got)
	}
	for i := 1; i < len(got); i++ {
		if got[i] == got[i-1] {
			t.Fatalf("offset %d applied twice", got[i])
		}
	}
}
