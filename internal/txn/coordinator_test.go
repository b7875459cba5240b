package txn

import (
	"context"
	"math"
	"regexp"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/samsa-streaming/samsa/internal/coordinator"
)

var bg = context.Background()

func TestRecordRoundTrip(t *testing.T) {
	m := &meta{id: "tx", pid: 5, prevPID: 4, nextPID: -1, epoch: 3, timeoutMs: 1000, state: Ongoing,
		parts: map[TopicPartition]struct{}{tp("b", 1): {}, tp("a", 2): {}, tp("a", 0): {}}, startMs: 10, updateMs: 20, tv: 2}
	r := m.record()
	id, ok, err := decodeKey(r.Key)
	if err != nil || !ok || id != "tx" {
		t.Fatalf("key: %q %v %v", id, ok, err)
	}
	got, err := decodeValue(id, r.Value)
	if err != nil {
		t.Fatal(err)
	}
	if got.pid != 5 || got.prevPID != 4 || got.nextPID != -1 || got.epoch != 3 || got.timeoutMs != 1000 ||
		got.state != Ongoing || got.startMs != 10 || got.updateMs != 20 || got.tv != 2 || len(got.parts) != 3 {
		t.Fatalf("round trip: %+v", got)
	}
	if ps := got.partitions(); ps[0] != tp("a", 0) || ps[1] != tp("a", 2) || ps[2] != tp("b", 1) {
		t.Fatalf("partitions %v", ps)
	}
	// Empty writes a null partition list, as Kafka does.
	m.state, m.parts = Empty, map[TopicPartition]struct{}{}
	if got, _ := decodeValue("tx", m.record().Value); got.state != Empty || len(got.parts) != 0 {
		t.Fatalf("empty: %+v", got)
	}
	if _, ok, _ := decodeKey([]byte{0, 1, 0, 0}); ok {
		t.Fatal("key version 1 should be skipped")
	}
	if _, err := decodeValue("tx", []byte{0, 9, 1}); err == nil {
		t.Fatal("value version 9 accepted")
	}
}

func TestPartitionForMatchesKafka(t *testing.T) {
	// Java: "my-txn".hashCode() == -1061187895; abs % 50 == 45.
	if h := coordinator.JavaHashCode("my-txn"); h != -1061187895 {
		t.Fatalf("hash %d", h)
	}
	if p := coordinator.PartitionFor("my-txn", 50); p != 45 {
		t.Fatalf("partition %d", p)
	}
}

func TestInitProducerID(t *testing.T) {
	e := newEnv(t)
	pid, epoch := e.init("a")
	if pid != 1000 || epoch != 0 {
		t.Fatalf("first init: %d/%d", pid, epoch)
	}
	pid2, epoch2 := e.init("a")
	if pid2 != pid || epoch2 != 1 {
		t.Fatalf("second init: %d/%d", pid2, epoch2)
	}
	if pid3, _ := e.init("b"); pid3 != 1001 {
		t.Fatalf("other id got pid %d", pid3)
	}
	wantState(t, e.get("a"), Empty)
	if recs := e.log.states(t, e.part("a"), "a"); len(recs) != 2 || recs[1].epoch != 1 {
		t.Fatalf("log: %d records", len(recs))
	}

	_, _, err := e.c.InitProducerID(bg, "a", int32(e.set.MaxTimeout.Milliseconds())+1, -1, -1)
	wantErr(t, "timeout above max", err, kerr.InvalidTransactionTimeout)
	_, _, err = e.c.InitProducerID(bg, "a", 0, -1, -1)
	wantErr(t, "zero timeout", err, kerr.InvalidTransactionTimeout)
	_, _, err = e.c.InitProducerID(bg, "", 1000, -1, -1)
	wantErr(t, "empty id", err, kerr.InvalidRequest)
	_, _, err = e.c.InitProducerID(bg, "a", 1000, 5, -1)
	wantErr(t, "half KIP-360 fields", err, kerr.InvalidRequest)
}

func TestKIP360Recovery(t *testing.T) {
	e := newEnv(t)
	pid, _ := e.init("a")
	e.init("a") // epoch 1

	// Matching current epoch: bumped, same id.
	p, ep, err := e.c.InitProducerID(bg, "a", 1000, pid, 1)
	if err != nil || p != pid || ep != 2 {
		t.Fatalf("recover: %d/%d %v", p, ep, err)
	}
	// The same call retried (its response lost): same answer, no bump.
	p, ep, err = e.c.InitProducerID(bg, "a", 1000, pid, 1)
	if err != nil || p != pid || ep != 2 {
		t.Fatalf("retry: %d/%d %v", p, ep, err)
	}
	// An older epoch: fenced.
	_, _, err = e.c.InitProducerID(bg, "a", 1000, pid, 0)
	wantErr(t, "stale epoch", err, kerr.ProducerFenced)
	// Another producer id: fenced.
	_, _, err = e.c.InitProducerID(bg, "a", 1000, pid+77, 2)
	wantErr(t, "other producer id", err, kerr.ProducerFenced)
	// A new producer (no fields) fences the recovering one.
	e.init("a") // epoch 3, lastEpoch -1
	_, _, err = e.c.InitProducerID(bg, "a", 1000, pid, 2)
	wantErr(t, "after a new instance", err, kerr.ProducerFenced)

	// A KIP-360 init for an id this coordinator never saw gets a new id.
	p, ep, err = e.c.InitProducerID(bg, "fresh", 1000, 55, 3)
	if err != nil || p == 55 || ep != 0 {
		t.Fatalf("unknown id: %d/%d %v", p, ep, err)
	}
}

func TestEpochExhaustionRotatesProducerID(t *testing.T) {
	e := newEnv(t)
	pid, _ := e.init("a")
	exhaust := func() {
		m := e.get("a")
		m.epoch = math.MaxInt16 - 1
		e.put(m)
	}
	exhaust()
	p, ep := e.init("a")
	if p == pid || ep != 0 {
		t.Fatalf("exhausted epoch: got %d/%d", p, ep)
	}
	if got := e.get("a"); got.prevPID != pid {
		t.Fatalf("previous producer id %d, want %d", got.prevPID, pid)
	}

	// KIP-360: the producer itself asks with its exhausted epoch; a retry
	// of that call (response lost) gets the same new id.
	exhaust()
	old := e.get("a").pid
	p1, ep1, err := e.c.InitProducerID(bg, "a", 1000, old, math.MaxInt16-1)
	if err != nil || p1 == old || ep1 != 0 {
		t.Fatalf("rotation: %d/%d %v", p1, ep1, err)
	}
	p2, ep2, err := e.c.InitProducerID(bg, "a", 1000, old, math.MaxInt16-1)
	if err != nil || p2 != p1 || ep2 != 0 {
		t.Fatalf("retry of rotation: %d/%d %v (want %d/0)", p2, ep2, err, p1)
	}
}

func TestCommitAndAbort(t *testing.T) {
	for _, commit := range []bool{true, false} {
		e := newEnv(t)
		pid, epoch := e.init("a")
		e.add("a", pid, epoch, tp("t", 0), tp("t", 1))
		e.add("a", pid, epoch, tp("u", 0))
		e.add("a", pid, epoch, tp("t", 0)) // already in: no record
		m := e.get("a")
		wantState(t, m, Ongoing)
		if len(m.parts) != 3 || m.startMs != e.clock.Now().UnixMilli() {
			t.Fatalf("ongoing: %+v", m)
		}
		rp, re, err := e.c.EndTxn(bg, "a", pid, epoch, commit, false)
		if err != nil || rp != pid || re != epoch {
			t.Fatalf("EndTxn: %d/%d %v", rp, re, err)
		}
		mk := e.markers.last(t)
		if mk.Commit != commit || mk.ProducerID != pid || mk.ProducerEpoch != epoch || mk.CoordinatorEpoch != 7 || len(mk.Partitions) != 3 {
			t.Fatalf("marker %+v", mk)
		}
		want, prep := CompleteAbort, PrepareAbort
		if commit {
			want, prep = CompleteCommit, PrepareCommit
		}
		wantState(t, e.get("a"), want)
		recs := e.log.states(t, e.part("a"), "a")
		// Empty, Ongoing, Ongoing, Prepare, Complete
		if len(recs) != 5 || recs[3].state != prep || recs[4].state != want || len(recs[4].parts) != 0 {
			t.Fatalf("log of %v: %d records", commit, len(recs))
		}
		// A retry of the same end succeeds; the other end is invalid.
		_, _, err = e.c.EndTxn(bg, "a", pid, epoch, commit, false)
		wantErr(t, "retried end", err, nil)
		_, _, err = e.c.EndTxn(bg, "a", pid, epoch, !commit, false)
		wantErr(t, "opposite end", err, kerr.InvalidTxnState)
		// A new transaction starts from Complete*.
		e.add("a", pid, epoch, tp("t", 2))
		wantState(t, e.get("a"), Ongoing)
	}
}

func TestEndTxnErrors(t *testing.T) {
	e := newEnv(t)
	_, _, err := e.c.EndTxn(bg, "nobody", 1, 0, true, false)
	wantErr(t, "unknown id", err, kerr.InvalidProducerIDMapping)
	pid, epoch := e.init("a")
	_, _, err = e.c.EndTxn(bg, "a", pid, epoch, true, false)
	wantErr(t, "commit of Empty", err, kerr.InvalidTxnState)
	_, _, err = e.c.EndTxn(bg, "a", pid, epoch, false, false)
	wantErr(t, "abort of Empty (v4)", err, kerr.InvalidTxnState)
	_, _, err = e.c.EndTxn(bg, "a", pid+1, epoch, true, false)
	wantErr(t, "wrong producer id", err, kerr.InvalidProducerIDMapping)
	_, _, err = e.c.EndTxn(bg, "a", pid, epoch+1, true, false)
	wantErr(t, "wrong epoch", err, kerr.ProducerFenced)
	err = e.c.AddPartitions(bg, "a", pid+1, epoch, []TopicPartition{tp("t", 0)}, 0)
	wantErr(t, "add with wrong producer id", err, kerr.InvalidProducerIDMapping)
	err = e.c.AddPartitions(bg, "nobody", pid, epoch, []TopicPartition{tp("t", 0)}, 0)
	wantErr(t, "add for unknown id", err, kerr.InvalidProducerIDMapping)
	err = e.c.AddPartitions(bg, "a", pid, epoch-1, []TopicPartition{tp("t", 0)}, 0)
	wantErr(t, "add with old epoch", err, kerr.ProducerFenced)
}

func TestKIP890Part2EpochBump(t *testing.T) {
	e := newEnv(t)
	pid, epoch := e.init("a")
	// Implicit add from a Produce v12+ request.
	if err := e.c.VerifyPartition(bg, "a", pid, epoch, "t", 0, true); err != nil {
		t.Fatal(err)
	}
	rp, re, err := e.c.EndTxn(bg, "a", pid, epoch, true, true)
	if err != nil || rp != pid || re != epoch+1 {
		t.Fatalf("EndTxn v5: %d/%d %v", rp, re, err)
	}
	if mk := e.markers.last(t); mk.ProducerEpoch != epoch+1 || mk.TransactionVersion != 2 {
		t.Fatalf("markers must carry the bumped epoch: %+v", mk)
	}
	wantState(t, e.get("a"), CompleteCommit)
	// Retry with the old epoch: the same answer.
	rp, re, err = e.c.EndTxn(bg, "a", pid, epoch, true, true)
	if err != nil || re != epoch+1 || rp != pid {
		t.Fatalf("retry: %d/%d %v", rp, re, err)
	}
	// Retry as abort: invalid.
	_, _, err = e.c.EndTxn(bg, "a", pid, epoch, false, true)
	wantErr(t, "retry with the other result", err, kerr.InvalidTxnState)
	// A late produce of the finished transaction at the old epoch.
	err = e.c.VerifyPartition(bg, "a", pid, epoch, "t", 1, true)
	wantErr(t, "late produce", err, kerr.InvalidProducerEpoch)
	// Commit of an empty transaction at the new epoch: invalid; abort:
	// bumps again (KIP-890 part 2 empty abort).
	_, _, err = e.c.EndTxn(bg, "a", pid, epoch+1, true, true)
	wantErr(t, "empty commit", err, kerr.InvalidTxnState)
	rp, re, err = e.c.EndTxn(bg, "a", pid, epoch+1, false, true)
	if err != nil || re != epoch+2 {
		t.Fatalf("empty abort: %d/%d %v", rp, re, err)
	}
	wantState(t, e.get("a"), CompleteAbort)
	// The next transaction, at the newest epoch.
	if err := e.c.VerifyPartition(bg, "a", pid, epoch+2, "t", 0, true); err != nil {
		t.Fatal(err)
	}
	// KIP-890 part 1: verification without add.
	if err := e.c.VerifyPartition(bg, "a", pid, epoch+2, "t", 0, false); err != nil {
		t.Fatalf("verify included partition: %v", err)
	}
	err = e.c.VerifyPartition(bg, "a", pid, epoch+2, "t", 9, false)
	wantErr(t, "verify other partition", err, kerr.InvalidTxnState)
	per, err := e.c.VerifyOnly("a", pid, epoch+2, []TopicPartition{tp("t", 0), tp("t", 9)})
	if err != nil || per[0] != nil || per[1] != kerr.TransactionAbortable {
		t.Fatalf("VerifyOnly: %v %v", per, err)
	}
}

func TestKIP890EpochOverflow(t *testing.T) {
	e := newEnv(t)
	pid, _ := e.init("a")
	m := e.get("a")
	m.epoch = math.MaxInt16 - 1
	e.put(m)
	if err := e.c.VerifyPartition(bg, "a", pid, m.epoch, "t", 0, true); err != nil {
		t.Fatal(err)
	}
	rp, re, err := e.c.EndTxn(bg, "a", pid, m.epoch, true, true)
	if err != nil || rp == pid || re != 0 {
		t.Fatalf("overflow: %d/%d %v", rp, re, err)
	}
	if mk := e.markers.last(t); mk.ProducerID != pid || mk.ProducerEpoch != math.MaxInt16 {
		t.Fatalf("markers: %+v", mk)
	}
	got := e.get("a")
	if got.pid != rp || got.epoch != 0 || got.prevPID != pid || got.nextPID != -1 {
		t.Fatalf("after overflow: %+v", got)
	}
	// The retried EndTxn of the old producer id is recognised.
	rp2, re2, err := e.c.EndTxn(bg, "a", pid, math.MaxInt16-1, true, true)
	if err != nil || rp2 != rp || re2 != 0 {
		t.Fatalf("retry after overflow: %d/%d %v", rp2, re2, err)
	}
}

func TestFencingZombie(t *testing.T) {
	e := newEnv(t)
	pid, epoch := e.init("a")
	e.add("a", pid, epoch, tp("t", 0), tp("t", 1))

	// A second instance: the ongoing transaction is aborted with a bumped
	// epoch, and the caller retries.
	_, _, err := e.c.InitProducerID(bg, "a", 60000, -1, -1)
	wantErr(t, "init while ongoing", err, kerr.ConcurrentTransactions)
	mk := e.markers.last(t)
	if mk.Commit || mk.ProducerEpoch != epoch+1 || len(mk.Partitions) != 2 {
		t.Fatalf("fence markers: %+v", mk)
	}
	wantState(t, e.get("a"), CompleteAbort)
	p2, e2 := e.init("a")
	if p2 != pid || e2 != epoch+2 {
		t.Fatalf("new instance: %d/%d", p2, e2)
	}

	// The zombie is fenced everywhere.
	err = e.c.AddPartitions(bg, "a", pid, epoch, []TopicPartition{tp("t", 2)}, 0)
	wantErr(t, "zombie add", err, kerr.ProducerFenced)
	err = e.c.VerifyPartition(bg, "a", pid, epoch, "t", 0, true)
	wantErr(t, "zombie produce", err, kerr.InvalidProducerEpoch)
	_, _, err = e.c.EndTxn(bg, "a", pid, epoch, true, false)
	wantErr(t, "zombie commit", err, kerr.ProducerFenced)
	_, _, err = e.c.EndTxn(bg, "a", pid, epoch, true, true)
	wantErr(t, "zombie commit v5", err, kerr.ProducerFenced)
}

func TestConcurrentTransactionsWhileMarkersPending(t *testing.T) {
	e := newEnv(t)
	pid, epoch := e.init("a")
	e.add("a", pid, epoch, tp("t", 0), tp("t", 1))
	e.markers.setFailing(tp("t", 1), errMarkerRetry)

	// The Prepare record is durable, so EndTxn succeeds.
	if _, _, err := e.c.EndTxn(bg, "a", pid, epoch, true, false); err != nil {
		t.Fatal(err)
	}
	m := e.get("a")
	wantState(t, m, PrepareCommit)
	if len(m.parts) != 1 {
		t.Fatalf("partitions still to mark: %v", m.partitions())
	}
	err := e.c.AddPartitions(bg, "a", pid, epoch, []TopicPartition{tp("t", 0)}, 0)
	wantErr(t, "add while PrepareCommit", err, kerr.ConcurrentTransactions)
	_, _, err = e.c.EndTxn(bg, "a", pid, epoch, true, false)
	wantErr(t, "commit again", err, kerr.ConcurrentTransactions)
	_, _, err = e.c.EndTxn(bg, "a", pid, epoch, false, false)
	wantErr(t, "abort", err, kerr.InvalidTxnState)
	_, _, err = e.c.InitProducerID(bg, "a", 1000, -1, -1)
	wantErr(t, "init", err, kerr.ConcurrentTransactions)
	d, err := e.c.Describe("a")
	if err != nil || d.State != PrepareCommit {
		t.Fatalf("describe: %+v %v", d, err)
	}

	// The retry timer finishes the job once the partition accepts.
	calls := e.markers.count()
	e.clock.Advance(e.set.MarkerRetryInterval)
	if e.markers.count() != calls+1 {
		t.Fatalf("retry wrote %d marker requests", e.markers.count()-calls)
	}
	wantState(t, e.get("a"), PrepareCommit)
	e.markers.setFailing(tp("t", 1), nil)
	e.clock.Advance(e.set.MarkerRetryInterval)
	if mk := e.markers.last(t); len(mk.Partitions) != 1 || mk.Partitions[0] != tp("t", 1) {
		t.Fatalf("only the missing partition is retried: %+v", mk)
	}
	wantState(t, e.get("a"), CompleteCommit)
}

func TestDeletedPartitionIsDropped(t *testing.T) {
	e := newEnv(t)
	pid, epoch := e.init("a")
	e.add("a", pid, epoch, tp("gone", 0), tp("t", 0))
	e.markers.setFailing(tp("gone", 0), ErrPartitionGone)
	if _, _, err := e.c.EndTxn(bg, "a", pid, epoch, false, false); err != nil {
		t.Fatal(err)
	}
	wantState(t, e.get("a"), CompleteAbort)
}

func TestTimedOutTransactionIsAborted(t *testing.T) {
	e := newEnv(t)
	pid, epoch, err := e.c.InitProducerID(bg, "a", 3000, -1, -1)
	if err != nil {
		t.Fatal(err)
	}
	e.add("a", pid, epoch, tp("t", 0))
	e.clock.Advance(2 * time.Second)
	e.c.AbortTimedOut(bg)
	wantState(t, e.get("a"), Ongoing)

	// The abort timer (every 10 s) finds it past its 3 s timeout.
	e.clock.Advance(e.set.AbortInterval)
	m := e.get("a")
	wantState(t, m, CompleteAbort)
	if m.epoch != epoch+1 {
		t.Fatalf("epoch %d, want %d (fenced)", m.epoch, epoch+1)
	}
	if mk := e.markers.last(t); mk.Commit || mk.ProducerEpoch != epoch+1 {
		t.Fatalf("markers %+v", mk)
	}
	// The producer that hung is fenced.
	_, _, err = e.c.EndTxn(bg, "a", pid, epoch, true, false)
	wantErr(t, "late commit", err, kerr.ProducerFenced)
	_, _, err = e.c.EndTxn(bg, "a", pid, epoch, true, true)
	wantErr(t, "late commit v5", err, kerr.ProducerFenced)
	err = e.c.VerifyPartition(bg, "a", pid, epoch, "t", 0, true)
	wantErr(t, "late produce", err, kerr.InvalidProducerEpoch)
	// A restarted producer continues.
	if _, ep := e.init("a"); ep != epoch+2 {
		t.Fatalf("re-init epoch %d", ep)
	}
}

func TestExpireIdleIDs(t *testing.T) {
	e := newEnv(t)
	e.set.IDExpiration = time.Hour
	e.set.RemoveExpiredInterval = 10 * time.Minute
	e.start()
	e.init("idle")
	pid, epoch := e.init("busy")
	e.clock.Advance(50 * time.Minute)
	e.add("busy", pid, epoch, tp("t", 0)) // ongoing: never expires
	e.clock.Advance(20 * time.Minute)
	if _, err := e.c.Describe("idle"); err != kerr.TransactionalIDNotFound {
		t.Fatalf("idle id still there: %v", err)
	}
	if recs := e.log.states(t, e.part("idle"), "idle"); recs[len(recs)-1] != nil {
		t.Fatal("no tombstone written")
	}
	if _, err := e.c.Describe("busy"); err != nil {
		t.Fatalf("busy id: %v", err)
	}
	// An expired id starts over with a new producer id.
	if p, ep := e.init("idle"); p == 1000 || ep != 0 {
		t.Fatalf("after expiry: %d/%d", p, ep)
	}
	// And a reload does not bring it back.
	e.start()
	if d, err := e.c.Describe("idle"); err != nil || d.ProducerEpoch != 0 {
		t.Fatalf("after reload: %+v %v", d, err)
	}
}

func TestReloadInEveryState(t *testing.T) {
	e := newEnv(t)
	// empty: Empty; ongoing: Ongoing; committed/aborted: Complete*;
	// pc/pa: stuck in Prepare* (markers failing) when the coordinator
	// "restarts".
	e.init("empty")
	pid, ep := e.init("ongoing")
	e.add("ongoing", pid, ep, tp("t", 0))
	for _, id := range []string{"committed", "aborted"} {
		p, ep := e.init(id)
		e.add(id, p, ep, tp("t", 1))
		if _, _, err := e.c.EndTxn(bg, id, p, ep, id == "committed", false); err != nil {
			t.Fatal(err)
		}
	}
	e.markers.setFailing(tp("t", 5), errMarkerRetry)
	for _, id := range []string{"pc", "pa"} {
		p, ep := e.init(id)
		e.add(id, p, ep, tp("t", 5), tp("t", 6))
		if _, _, err := e.c.EndTxn(bg, id, p, ep, id == "pc", true); err != nil {
			t.Fatal(err)
		}
		wantState(t, e.get(id), map[string]State{"pc": PrepareCommit, "pa": PrepareAbort}[id])
	}
	fenceID := "fence"
	p, fep := e.init(fenceID)
	e.add(fenceID, p, fep, tp("t", 5))
	if _, _, err := e.c.InitProducerID(bg, fenceID, 1000, -1, -1); err != kerr.ConcurrentTransactions {
		t.Fatal(err)
	}
	before := map[string]*meta{}
	for _, id := range []string{"empty", "ongoing", "committed", "aborted", "pc", "pa", fenceID} {
		before[id] = e.get(id)
	}

	// Restart while the markers still fail: Prepare* stay, the rest is
	// as it was.
	e.start()
	for id, b := range before {
		got := e.get(id)
		if got.state != b.state || got.pid != b.pid || got.epoch != b.epoch || got.timeoutMs != b.timeoutMs || got.startMs != b.startMs {
			t.Fatalf("%s after reload: %+v, before %+v", id, got, b)
		}
	}
	// The reload rewrote the markers of every Prepare* transaction to all
	// of its partitions (the log lists them all again).
	if got := e.get("pc"); len(got.parts) != 1 {
		t.Fatalf("pc partitions after reload: %v", got.partitions())
	}

	// Restart once the partition accepts markers: everything completes.
	e.markers.setFailing(tp("t", 5), nil)
	e.start()
	wantState(t, e.get("pc"), CompleteCommit)
	wantState(t, e.get("pa"), CompleteAbort)
	wantState(t, e.get(fenceID), CompleteAbort)
	wantState(t, e.get("ongoing"), Ongoing)
	if got := e.get("pc"); got.epoch != before["pc"].epoch {
		t.Fatalf("pc epoch %d, want %d", got.epoch, before["pc"].epoch)
	}
	// The fenced producer's successor proceeds.
	if _, ep := e.init(fenceID); ep != fep+2 {
		t.Fatalf("fence successor epoch %d", ep)
	}
	// Ongoing transactions survive a restart and still end normally.
	if _, _, err := e.c.EndTxn(bg, "ongoing", pid, ep, true, false); err != nil {
		t.Fatal(err)
	}
	wantState(t, e.get("ongoing"), CompleteCommit)
}

func TestNotCoordinatorAndLoading(t *testing.T) {
	e := newEnv(t)
	c, err := New(Config{Settings: e.set, Log: e.log, Clock: e.clock, Markers: e.markers, IDs: e.ids, Logger: e.c.lg})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, _, err = c.InitProducerID(bg, "a", 1000, -1, -1)
	wantErr(t, "no topic", err, kerr.CoordinatorNotAvailable)
	c.SetPartitionCount(4)
	_, _, err = c.InitProducerID(bg, "a", 1000, -1, -1)
	wantErr(t, "not led", err, kerr.NotCoordinator)

	e.log.mu.Lock()
	e.log.block = make(chan struct{})
	e.log.mu.Unlock()
	p := coordinator.PartitionFor("a", 4)
	load := c.BeginLoad(p, 1)
	loaded := make(chan error, 1)
	go func() { loaded <- load(bg, e.log.reader(p)) }() // waited below
	_, _, err = c.InitProducerID(bg, "a", 1000, -1, -1)
	wantErr(t, "loading", err, kerr.CoordinatorLoadInProgress)
	_, _, err = c.List(ListFilter{MinDurationMs: -1})
	wantErr(t, "list while loading", err, kerr.CoordinatorLoadInProgress)
	close(e.log.block)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, _, err = c.InitProducerID(bg, "a", 1000, -1, -1); err != kerr.CoordinatorLoadInProgress || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if err != nil {
		t.Fatalf("after load: %v", err)
	}
	if err := <-loaded; err != nil {
		t.Fatalf("load: %v", err)
	}
	c.Unload(p)
	_, _, err = c.InitProducerID(bg, "a", 1000, -1, -1)
	wantErr(t, "unloaded", err, kerr.NotCoordinator)

	// A log that lost leadership answers NOT_COORDINATOR.
	e.log.mu.Lock()
	e.log.fail = ErrNotLeader
	e.log.mu.Unlock()
	_, _, err = e.c.InitProducerID(bg, "b", 1000, -1, -1)
	wantErr(t, "append without leadership", err, kerr.NotCoordinator)
}

func TestDescribeAndList(t *testing.T) {
	e := newEnv(t)
	pa, ea := e.init("app-1")
	e.add("app-1", pa, ea, tp("t", 1), tp("t", 0), tp("s", 3))
	e.init("app-2")
	pc, ec := e.init("other")
	e.add("other", pc, ec, tp("t", 0))
	if _, _, err := e.c.EndTxn(bg, "other", pc, ec, true, false); err != nil {
		t.Fatal(err)
	}
	d, err := e.c.Describe("app-1")
	if err != nil || d.State != Ongoing || d.ProducerID != pa || d.TimeoutMs != 60000 || len(d.Partitions) != 3 || d.Partitions[0] != tp("s", 3) {
		t.Fatalf("describe: %+v %v", d, err)
	}
	_, err = e.c.Describe("missing")
	wantErr(t, "missing", err, kerr.TransactionalIDNotFound)

	list := func(f ListFilter) []string {
		t.Helper()
		ls, _, err := e.c.List(f)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, l := range ls {
			ids = append(ids, l.TransactionalID+":"+l.State.String())
		}
		return ids
	}
	eq := func(got []string, want ...string) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("got %v, want %v", got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("got %v, want %v", got, want)
			}
		}
	}
	eq(list(ListFilter{MinDurationMs: -1}), "app-1:Ongoing", "app-2:Empty", "other:CompleteCommit")
	eq(list(ListFilter{States: []string{"Ongoing", "CompleteCommit"}, MinDurationMs: -1}), "app-1:Ongoing", "other:CompleteCommit")
	eq(list(ListFilter{ProducerIDs: []int64{pc}, MinDurationMs: -1}), "other:CompleteCommit")
	eq(list(ListFilter{IDPattern: regexp.MustCompile(`^(?:app-.*)$`), MinDurationMs: -1}), "app-1:Ongoing", "app-2:Empty")
	_, unknown, _ := e.c.List(ListFilter{States: []string{"Bogus"}, MinDurationMs: -1})
	if len(unknown) != 1 || unknown[0] != "Bogus" {
		t.Fatalf("unknown filters %v", unknown)
	}
	e.clock.Advance(5 * time.Second)
	// Running longer than 4 s: the ongoing one (and Empty, whose start is -1, as in Kafka).
	eq(list(ListFilter{States: []string{"Ongoing"}, MinDurationMs: 4000}), "app-1:Ongoing")
	eq(list(ListFilter{States: []string{"Ongoing"}, MinDurationMs: 6000}))
}

func TestCloseStopsTimers(t *testing.T) {
	e := newEnv(t)
	e.c.Close()
	e.clock.Advance(24 * time.Hour) // no callback may run after Close
	if n := e.markers.count(); n != 0 {
		t.Fatalf("%d marker calls after Close", n)
	}
}

// A new leader epoch of a partition loads it again: the transactions come
// back from the log and markers carry the new coordinator epoch.
func TestReloadAtNewEpoch(t *testing.T) {
	e := newEnv(t)
	pid, epoch := e.init("a")
	e.add("a", pid, epoch, tp("t", 0))
	p := e.part("a")
	load := e.c.BeginLoad(p, 9)
	if _, _, err := e.c.EndTxn(bg, "a", pid, epoch, true, false); err != kerr.CoordinatorLoadInProgress {
		t.Fatalf("while reloading: %v", err)
	}
	if err := load(bg, e.log.reader(p)); err != nil {
		t.Fatal(err)
	}
	wantState(t, e.get("a"), Ongoing)
	if _, _, err := e.c.EndTxn(bg, "a", pid, epoch, true, false); err != nil {
		t.Fatal(err)
	}
	if m := e.markers.last(t); m.CoordinatorEpoch != 9 {
		t.Fatalf("marker %+v, want coordinator epoch 9", m)
	}
}
