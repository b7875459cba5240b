package coordinator

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/samsa-streaming/samsa/internal/partition"
)

// readAll is a load's replay of partition p.
func readAll(t *testing.T, e *env, topic string, p int32) ([]Replayed, error) {
	t.Helper()
	var out []Replayed
	err := e.rt.leaders(topic).read(p)(context.Background(), func(r Replayed) error {
		out = append(out, r)
		return nil
	})
	return out, err
}

func TestWriterAppendsAndLoaderReads(t *testing.T) {
	e := newEnv(t)
	rep := e.parts.host(OffsetsTopic, 1)
	e.images.img.Store(image(1, OffsetsTopic, lead{other, 1}, lead{self, 1}))
	w := e.rt.Writer(OffsetsTopic)
	ctx := context.Background()

	off, err := w.Append(ctx, 1, []Record{{Key: []byte("k1"), Value: []byte("v1")}, {Key: []byte("k2")}})
	if err != nil || off != 0 {
		t.Fatalf("append: %d %v", off, err)
	}
	// A transactional batch continues the producer's sequence.
	rep.producers = []partition.ProducerInfo{{ProducerID: 9, ProducerEpoch: 2, LastSequence: 4}, {ProducerID: 8, ProducerEpoch: 1, LastSequence: 7}}
	off, err = w.AppendTxn(ctx, 1, 9, 2, []Record{{Key: []byte("t"), Value: []byte("tv")}})
	if err != nil || off != 2 {
		t.Fatalf("append txn: %d %v", off, err)
	}
	rep.marker(t, 9, 2, true)
	if want := []int64{1, 2}; fmt.Sprint(rep.waited) != fmt.Sprint(want) {
		t.Fatalf("waited for %v, want %v (acks=all up to each batch's last offset)", rep.waited, want)
	}

	got, err := readAll(t, e, OffsetsTopic, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"0 k1=v1 pid -1/-1 marker false",
		"1 k2=<nil> pid -1/-1 marker false",
		"2 t=tv pid 9/2 marker false",
		"3 = pid 9/2 marker true commit true",
	}
	if len(got) != len(want) {
		t.Fatalf("read %d records, want %d: %+v", len(got), len(want), got)
	}
	for i, r := range got {
		v := "<nil>"
		if r.Value != nil {
			v = string(r.Value)
		}
		if r.Marker {
			v = ""
		}
		s := fmt.Sprintf("%d %s=%s pid %d/%d marker %v", r.Offset, r.Key, v, r.ProducerID, r.ProducerEpoch, r.Marker)
		if r.Marker {
			s += fmt.Sprintf(" commit %v", r.Commit)
		}
		if s != want[i] {
			t.Errorf("record %d: %q, want %q", i, s, want[i])
		}
	}
	// The sequence the transactional batch carried.
	if h := headerOf(t, rep, 1); h.BaseSequence != 5 || !h.IsTransactional() || h.ProducerID != 9 {
		t.Fatalf("transactional batch header %+v", h)
	}
}

func TestWriterNotLeader(t *testing.T) {
	e := newEnv(t)
	e.parts.host(OffsetsTopic, 0)
	w := e.rt.Writer(OffsetsTopic)
	ctx := context.Background()
	recs := []Record{{Key: []byte("k")}}
	for name, img := range map[string]func(){
		"no topic":     func() { e.images.img.Store(image(1, OffsetsTopic)) },
		"other leader": func() { e.images.img.Store(image(1, OffsetsTopic, lead{other, 1})) },
		"not hosted": func() {
			e.images.img.Store(image(1, OffsetsTopic, lead{self, 1}))
			e.parts.drop(OffsetsTopic, 0)
		},
	} {
		img()
		if _, err := w.Append(ctx, 0, recs); !errors.Is(err, ErrNotLeader) {
			t.Errorf("%s: append: %v, want ErrNotLeader", name, err)
		}
		if _, err := readAll(t, e, OffsetsTopic, 0); !errors.Is(err, ErrNotLeader) {
			t.Errorf("%s: read: %v, want ErrNotLeader", name, err)
		}
	}
	e.images.img.Store(image(1, OffsetsTopic, lead{self, 1}))
	if _, err := w.Append(ctx, -1, recs); !errors.Is(err, ErrNotLeader) {
		t.Errorf("partition -1: %v", err)
	}
	if _, err := w.Append(ctx, 5, recs); !errors.Is(err, ErrNotLeader) {
		t.Errorf("partition 5 of 1: %v", err)
	}
}

func TestWriterErrors(t *testing.T) {
	e := newEnv(t)
	rep := e.parts.host(OffsetsTopic, 0)
	e.images.img.Store(image(1, OffsetsTopic, lead{self, 1}))
	w := e.rt.Writer(OffsetsTopic)
	recs := []Record{{Key: []byte("k"), Value: []byte("v")}}
	other := errors.New("NOT_ENOUGH_REPLICAS_AFTER_APPEND")
	for _, c := range []struct {
		name               string
		appendErr, waitErr error
		want               error
		notLeader          bool
	}{
		{name: "append: leadership lost", appendErr: partition.ErrNotLeader, want: partition.ErrNotLeader, notLeader: true},
		{name: "append: closed", appendErr: partition.ErrClosed, want: partition.ErrClosed, notLeader: true},
		{name: "wait: leadership lost", waitErr: partition.ErrNotLeader, want: partition.ErrNotLeader, notLeader: true},
		{name: "wait: ISR", waitErr: other, want: other},
		{name: "wait: timeout", waitErr: context.DeadlineExceeded, want: context.DeadlineExceeded},
		{name: "fenced", appendErr: partition.ErrInvalidEpoch, want: ErrProducerFenced},
	} {
		rep.appendErr, rep.waitErr = c.appendErr, c.waitErr
		off, err := w.AppendTxn(context.Background(), 0, 3, 1, recs)
		if off != -1 || !errors.Is(err, c.want) || errors.Is(err, ErrNotLeader) != c.notLeader {
			t.Errorf("%s: %d %v", c.name, off, err)
		}
	}
	rep.appendErr, rep.waitErr = nil, nil
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	end := rep.LogEndOffset()
	if _, err := w.Append(ctx, 0, recs); !errors.Is(err, context.Canceled) || rep.LogEndOffset() != end {
		t.Fatalf("cancelled append: %v, log end %d → %d", err, end, rep.LogEndOffset())
	}
}

func TestReadStopsAtTheLogEndItBeganWith(t *testing.T) {
	e := newEnv(t)
	e.parts.host(OffsetsTopic, 0)
	e.images.img.Store(image(1, OffsetsTopic, lead{self, 1}))
	w := e.rt.Writer(OffsetsTopic)
	ctx := context.Background()
	for i := range 3 {
		if _, err := w.Append(ctx, 0, []Record{{Key: fmt.Appendf(nil, "k%d", i)}}); err != nil {
			t.Fatal(err)
		}
	}
	var keys []string
	err := e.rt.leaders(OffsetsTopic).read(0)(ctx, func(r Replayed) error {
		keys = append(keys, string(r.Key))
		if len(keys) == 1 {
			// Written during the load: the next load's.
			if _, err := w.Append(ctx, 0, []Record{{Key: []byte("late")}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil || fmt.Sprint(keys) != "[k0 k1 k2]" {
		t.Fatalf("read %v, %v", keys, err)
	}
	// An error of the replay stops the read and is returned.
	stop := errors.New("stop")
	if err := e.rt.leaders(OffsetsTopic).read(0)(ctx, func(Replayed) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("replay error: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := e.rt.leaders(OffsetsTopic).read(0)(cctx, func(Replayed) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled read: %v", err)
	}
}

// The loader reads through the runtime's read: a partition the current
// image does not show led here yet is retried until it does.
func TestLoaderWaitsForLeadership(t *testing.T) {
	e := newEnv(t)
	e.parts.host(OffsetsTopic, 0)
	e.images.img.Store(image(1, OffsetsTopic, lead{self, 1}))
	if _, err := e.rt.Writer(OffsetsTopic).Append(context.Background(), 0, []Record{{Key: []byte("k")}}); err != nil {
		t.Fatal(err)
	}
	// The runtime syncs an image in which this broker leads, while the
	// current image (the writer's and reader's) lags behind.
	e.images.img.Store(image(1, OffsetsTopic, lead{other, 1}))
	e.rt.Sync(image(2, OffsetsTopic, lead{self, 2}))
	a := e.shards.next(t)
	err := a.read(a.ctx, func(Replayed) error { return nil })
	if !errors.Is(err, ErrNotLeader) {
		t.Fatalf("read before the image: %v", err)
	}
	a.result <- err
	tm := e.clock.next(t)
	e.images.img.Store(image(2, OffsetsTopic, lead{self, 2}))
	tm.f()
	a = e.shards.next(t)
	n := 0
	if err := a.read(a.ctx, func(Replayed) error { n++; return nil }); err != nil || n != 1 {
		t.Fatalf("read after the image: %d records, %v", n, err)
	}
	a.result <- nil
}
