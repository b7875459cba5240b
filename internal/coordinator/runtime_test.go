package coordinator

import (
	"errors"
	"slices"
	"testing"
)

func wantEvents(t *testing.T, s *fakeShards, want ...string) {
	t.Helper()
	got := s.took()
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("events %q, want %q", got, want)
	}
}

func TestOwnershipFollowsLeadership(t *testing.T) {
	e := newEnv(t)
	e.parts.host(OffsetsTopic, 0)
	e.parts.host(OffsetsTopic, 1)
	e.parts.host(OffsetsTopic, 2)

	// No topic: nothing to own.
	e.publish(image(1, OffsetsTopic))
	if n := e.shards.partitionCount(); n != 0 {
		t.Fatalf("partition count %d without the topic", n)
	}
	wantEvents(t, e.shards)

	// Gain: the partitions led here start loading, at their epochs.
	e.publish(image(2, OffsetsTopic, lead{self, 3}, lead{other, 1}, lead{self, 5}))
	if n := e.shards.partitionCount(); n != 3 {
		t.Fatalf("partition count %d", n)
	}
	wantEvents(t, e.shards, "begin 0@3", "begin 2@5")
	a, b := e.shards.next(t), e.shards.next(t)
	if a.p == 2 {
		a, b = b, a
	}
	if a.p != 0 || a.epoch != 3 || b.p != 2 || b.epoch != 5 {
		t.Fatalf("attempts %d@%d, %d@%d", a.p, a.epoch, b.p, b.epoch)
	}
	a.result <- nil
	b.result <- nil

	// The same leadership again changes nothing.
	e.publish(image(3, OffsetsTopic, lead{self, 3}, lead{other, 1}, lead{self, 5}))
	wantEvents(t, e.shards)
	e.shards.none(t)

	// Lose 2, gain 1.
	e.publish(image(4, OffsetsTopic, lead{self, 3}, lead{self, 2}, lead{other, 6}))
	wantEvents(t, e.shards, "unload 2", "begin 1@2")
	if a := e.shards.next(t); a.p != 1 || a.epoch != 2 {
		t.Fatalf("attempt %d@%d", a.p, a.epoch)
	} else {
		a.result <- nil
	}

	// The topic gone: everything is unloaded.
	e.publish(image(5, OffsetsTopic))
	wantEvents(t, e.shards, "unload 0", "unload 1")
	if n := e.shards.partitionCount(); n != 0 {
		t.Fatalf("partition count %d after the topic went", n)
	}
}

func TestEpochBumpReloads(t *testing.T) {
	e := newEnv(t)
	e.parts.host(OffsetsTopic, 0)
	e.publish(image(1, OffsetsTopic, lead{self, 3}))
	wantEvents(t, e.shards, "begin 0@3")
	first := e.shards.next(t)

	// A new epoch while the first load runs: it is cancelled, and the
	// shard begins again (replaced, not unloaded).
	e.publish(image(2, OffsetsTopic, lead{self, 4}))
	cancelled(t, first.ctx)
	wantEvents(t, e.shards, "begin 0@4")
	second := e.shards.next(t)
	if second.epoch != 4 {
		t.Fatalf("reload at epoch %d", second.epoch)
	}
	second.result <- nil

	// And once loaded, a new epoch loads it again.
	e.publish(image(3, OffsetsTopic, lead{self, 7}))
	wantEvents(t, e.shards, "begin 0@7")
	if a := e.shards.next(t); a.epoch != 7 {
		t.Fatalf("reload at epoch %d", a.epoch)
	} else {
		a.result <- nil
	}
}

func TestHostedOnly(t *testing.T) {
	e := newEnv(t)
	// Led here but not opened by the partition manager yet: not owned.
	e.publish(image(1, OffsetsTopic, lead{self, 1}))
	wantEvents(t, e.shards)
	e.parts.host(OffsetsTopic, 0)
	e.publish(image(2, OffsetsTopic, lead{self, 1}))
	wantEvents(t, e.shards, "begin 0@1")
	e.shards.next(t).result <- nil
	// The replica closed (deleted): unloaded.
	e.parts.drop(OffsetsTopic, 0)
	e.publish(image(3, OffsetsTopic, lead{self, 1}))
	wantEvents(t, e.shards, "unload 0")
}

func TestOlderImageIgnored(t *testing.T) {
	e := newEnv(t)
	e.parts.host(OffsetsTopic, 0)
	e.publish(image(5, OffsetsTopic, lead{self, 2}))
	wantEvents(t, e.shards, "begin 0@2")
	e.shards.next(t).result <- nil
	e.rt.Sync(image(4, OffsetsTopic, lead{other, 1}))
	wantEvents(t, e.shards)
}

func TestLossCancelsLoad(t *testing.T) {
	e := newEnv(t)
	e.parts.host(OffsetsTopic, 0)
	e.publish(image(1, OffsetsTopic, lead{self, 1}))
	a := e.shards.next(t)
	e.publish(image(2, OffsetsTopic, lead{other, 2}))
	cancelled(t, a.ctx)
	wantEvents(t, e.shards, "begin 0@1", "unload 0")
	e.shards.none(t) // not retried
}

func TestLoadRetriesWithBackoff(t *testing.T) {
	e := newEnv(t)
	e.parts.host(OffsetsTopic, 0)
	e.publish(image(1, OffsetsTopic, lead{self, 1}))
	fail := errors.New("not ready")
	for i, want := range []int{10, 20, 40, 40} {
		e.shards.next(t).result <- fail
		tm := e.clock.next(t)
		if got := int(tm.d.Milliseconds()); got != want {
			t.Fatalf("retry %d waits %d ms, want %d", i, got, want)
		}
		e.shards.none(t) // nothing before the timer fires
		tm.f()
	}
	e.shards.next(t).result <- nil
	wantEvents(t, e.shards, "begin 0@1")
}

func TestLossCancelsBackoff(t *testing.T) {
	e := newEnv(t)
	e.parts.host(OffsetsTopic, 0)
	e.publish(image(1, OffsetsTopic, lead{self, 1}))
	e.shards.next(t).result <- errors.New("not ready")
	tm := e.clock.next(t)
	e.publish(image(2, OffsetsTopic, lead{other, 2}))
	e.rt.Close() // waits for the loader: it must leave its backoff
	if !tm.stopped.Load() {
		t.Fatal("the backoff timer was not stopped")
	}
	e.shards.none(t)
}

func TestCloseCancelsWaitsAndUnloads(t *testing.T) {
	e := newEnv(t)
	e.parts.host(OffsetsTopic, 0)
	e.parts.host(OffsetsTopic, 1)
	e.publish(image(1, OffsetsTopic, lead{self, 1}, lead{self, 1}))
	a, b := e.shards.next(t), e.shards.next(t)
	a.result <- nil // one loaded, one loading
	e.rt.Close()
	cancelled(t, b.ctx)
	wantEvents(t, e.shards, "begin 0@1", "begin 1@1", "unload 0", "unload 1")
	// Sync after Close does nothing.
	e.publish(image(2, OffsetsTopic, lead{self, 2}, lead{self, 2}))
	wantEvents(t, e.shards)
	e.shards.none(t)
}

func TestRegisterTwice(t *testing.T) {
	e := newEnv(t)
	defer func() {
		if recover() == nil {
			t.Fatal("a second coordinator of the same topic was accepted")
		}
	}()
	e.rt.Register(OffsetsTopic, newFakeShards())
}

func TestTwoTopics(t *testing.T) {
	e := newEnv(t)
	txns := newFakeShards()
	e.rt.Register(TxnStateTopic, txns)
	e.parts.host(OffsetsTopic, 0)
	e.parts.host(TxnStateTopic, 0)
	img := image(1, OffsetsTopic, lead{self, 1})
	img.Topics[TxnStateTopic] = image(1, TxnStateTopic, lead{self, 9}).Topics[TxnStateTopic]
	e.publish(img)
	wantEvents(t, e.shards, "begin 0@1")
	wantEvents(t, txns, "begin 0@9")
	e.shards.next(t).result <- nil
	txns.next(t).result <- nil
}
