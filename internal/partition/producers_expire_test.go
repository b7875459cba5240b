package partition

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/batch"
	"github.com/samsa-streaming/samsa/internal/fs"
)

const testExpiryMs = 60_000

func openExpiry(t *testing.T, dir string, clock Clock, clean bool, expiryMs int64) *Partition {
	t.Helper()
	p, err := Open(context.Background(), dir, "t", 0, testConfig(), Options{
		FS: fs.OS(), Logger: slog.New(slog.DiscardHandler), Clock: clock,
		CleanShutdown: clean, ProducerIDExpirationMs: expiryMs,
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func producerIDs(p *Partition) []int64 {
	var ids []int64
	for _, pi := range p.Producers() {
		ids = append(ids, pi.ProducerID)
	}
	return ids
}

func sameIDs(got []int64, want ...int64) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

// A producer id expires once its last batch timestamp is
// producer.id.expiration.ms old (Kafka compares with >=), not a
// millisecond earlier; a later batch of the forgotten id is accepted with
// any sequence number, as Kafka 4 accepts it (KIP-360).
func TestProducerExpiryBoundary(t *testing.T) {
	clock := &fakeClock{time.UnixMilli(1_700_000_000_000)}
	p := openTest(t, t.TempDir(), testConfig(), clock)
	defer p.Close()
	t0 := clock.t.UnixMilli()
	if _, err := p.Append(idemBatch(t, 7, 0, 0, 3, t0), -1); err != nil {
		t.Fatal(err)
	}
	clock.t = clock.t.Add(10 * time.Second)
	if _, err := p.Append(idemBatch(t, 8, 0, 0, 1, clock.t.UnixMilli()), -1); err != nil {
		t.Fatal(err)
	}
	if n := p.ExpireProducers(time.UnixMilli(t0+testExpiryMs-1), testExpiryMs); n != 0 {
		t.Fatalf("expired %d ids a millisecond early", n)
	}
	if n := p.ExpireProducers(time.UnixMilli(t0+testExpiryMs), testExpiryMs); n != 1 {
		t.Fatalf("expired %d ids at the boundary, want 1", n)
	}
	if ids := producerIDs(p); !sameIDs(ids, 8) {
		t.Fatalf("producers after expiry: %v, want [8]", ids)
	}
	// Producer 7 comes back with sequence 3: unknown to the partition, so
	// accepted, and its state starts again from that batch.
	r, err := p.Append(idemBatch(t, 7, 0, 3, 1, clock.t.UnixMilli()), -1)
	if err != nil || r.Duplicate {
		t.Fatalf("batch of an expired id: %+v %v", r, err)
	}
	if _, err := p.Append(idemBatch(t, 7, 0, 5, 1, clock.t.UnixMilli()), -1); err == nil {
		t.Fatal("a gap after the re-registered id's batch was accepted")
	}
	if ids := producerIDs(p); !sameIDs(ids, 7, 8) {
		t.Fatalf("producers: %v, want [7 8]", ids)
	}
}

// A producer with an ongoing transaction never expires, however old its
// last batch; once the transaction ends, the marker's time counts.
func TestProducerExpiryKeepsOpenTransactions(t *testing.T) {
	clock := &fakeClock{time.UnixMilli(1_700_000_000_000)}
	p := openTest(t, t.TempDir(), testConfig(), clock)
	defer p.Close()
	if _, err := p.Append(txnBatch(t, 1, 0, 0, 2, clock.t.UnixMilli()), -1); err != nil {
		t.Fatal(err)
	}
	clock.t = clock.t.Add(24 * time.Hour)
	if n := p.ExpireProducers(clock.t, testExpiryMs); n != 0 {
		t.Fatalf("expired %d ids with an open transaction", n)
	}
	if lso := p.LastStableOffset(); lso != 0 {
		t.Fatalf("LSO %d, want 0 (transaction open)", lso)
	}
	if _, err := p.AppendMarker(1, 0, true, 0); err != nil {
		t.Fatal(err)
	}
	if n := p.ExpireProducers(clock.t.Add(testExpiryMs*time.Millisecond-time.Millisecond), testExpiryMs); n != 0 {
		t.Fatal("expired before the marker's timestamp was old enough")
	}
	if n := p.ExpireProducers(clock.t.Add(testExpiryMs*time.Millisecond), testExpiryMs); n != 1 {
		t.Fatalf("expired %d after the commit, want 1", n)
	}
	if lso, hw := p.LastStableOffset(), p.HighWatermark(); lso != hw {
		t.Fatalf("LSO %d HW %d", lso, hw)
	}
}

// Kafka 4 keeps a producer's state when the log start offset passes its
// last batch (KAFKA-7190 removed the eviction: short-retention topics such
// as Streams repartition topics lost their producers' fencing and
// duplicate detection). The id still expires by time. An open transaction
// below the new log start holds the LSO at the log start, as Kafka caps
// the first unstable offset.
func TestProducerStateAfterLogStartMoves(t *testing.T) {
	clock := &fakeClock{time.UnixMilli(1_700_000_000_000)}
	p := openTest(t, t.TempDir(), testConfig(), clock)
	defer p.Close()
	ts := clock.t.UnixMilli()
	if _, err := p.Append(idemBatch(t, 7, 1, 0, 2, ts), -1); err != nil { // 0-1
		t.Fatal(err)
	}
	if _, err := p.Append(txnBatch(t, 9, 0, 0, 2, ts), -1); err != nil { // 2-3
		t.Fatal(err)
	}
	if _, err := p.Append(idemBatch(t, -1, -1, -1, 2, ts), -1); err != nil { // 4-5
		t.Fatal(err)
	}
	if start, err := p.DeleteRecords(3); err != nil || start != 3 {
		t.Fatalf("DeleteRecords: %d %v", start, err)
	}
	if lso := p.LastStableOffset(); lso != 3 {
		t.Fatalf("LSO %d with a transaction open below the log start 3, want 3", lso)
	}
	// Producer 7's only batch is gone from the log; its state is not: a
	// retry is still a duplicate, an older epoch still fenced.
	r, err := p.Append(idemBatch(t, 7, 1, 0, 2, ts), -1)
	if err != nil || !r.Duplicate || r.BaseOffset != 0 {
		t.Fatalf("retry after DeleteRecords: %+v %v", r, err)
	}
	if _, err := p.Append(idemBatch(t, 7, 0, 2, 1, ts), -1); err == nil {
		t.Fatal("an older epoch was accepted after DeleteRecords")
	}
	if n := p.ExpireProducers(clock.t.Add(testExpiryMs*time.Millisecond), testExpiryMs); n != 1 {
		t.Fatalf("expired %d, want 1 (7; 9 has an open transaction)", n)
	}
	if _, err := p.AppendMarker(9, 0, false, 0); err != nil {
		t.Fatal(err)
	}
	if lso, hw := p.LastStableOffset(), p.HighWatermark(); lso != hw {
		t.Fatalf("LSO %d HW %d after the abort", lso, hw)
	}
}

// An expired id stays forgotten across restarts: a clean close does not
// write it into producer-state.snapshot, ids that expired while the broker
// was down are dropped when the snapshot is loaded, and an unclean start
// (state rebuilt from the whole log) drops them too.
func TestProducerExpirySnapshot(t *testing.T) {
	clock := &fakeClock{time.UnixMilli(1_700_000_000_000)}
	dir := t.TempDir()
	p := openExpiry(t, dir, clock, true, testExpiryMs)
	if _, err := p.Append(idemBatch(t, 1, 0, 0, 1, clock.t.UnixMilli()), -1); err != nil {
		t.Fatal(err)
	}
	clock.t = clock.t.Add(40 * time.Second)
	if _, err := p.Append(idemBatch(t, 2, 0, 0, 1, clock.t.UnixMilli()), -1); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Append(txnBatch(t, 3, 0, 0, 1, clock.t.UnixMilli()), -1); err != nil {
		t.Fatal(err)
	}
	clock.t = clock.t.Add(30 * time.Second) // 1 is 70 s idle, 2 and 3 30 s
	if n := p.ExpireProducers(clock.t, testExpiryMs); n != 1 {
		t.Fatalf("expired %d, want 1", n)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	// A long expiry on reopen: only the snapshot's content decides.
	q := openExpiry(t, dir, clock, true, 10*testExpiryMs)
	if ids := producerIDs(q); !sameIDs(ids, 2, 3) {
		t.Fatalf("after a clean restart: %v, want [2 3]", ids)
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	// Down for a minute: 2 expired meanwhile, 3 keeps its transaction.
	clock.t = clock.t.Add(time.Minute)
	q = openExpiry(t, dir, clock, true, testExpiryMs)
	if ids := producerIDs(q); !sameIDs(ids, 3) {
		t.Fatalf("after a restart past the expiry: %v, want [3]", ids)
	}
	if lso := q.LastStableOffset(); lso != 2 {
		t.Fatalf("LSO %d, want 2 (3's transaction)", lso)
	}
	q.log.Close() // a crash: no snapshot of this run
	if err := os.Remove(filepath.Join(dir, DirName("t", 0), producerSnapshotFile)); err != nil {
		t.Fatal(err)
	}
	q = openExpiry(t, dir, clock, false, testExpiryMs)
	defer q.Close()
	if ids := producerIDs(q); !sameIDs(ids, 3) {
		t.Fatalf("after rebuilding from the log: %v, want [3]", ids)
	}
	if lso := q.LastStableOffset(); lso != 2 {
		t.Fatalf("LSO %d after the rebuild, want 2", lso)
	}
}

// The ordered index of open transactions gives the same first unstable
// offset as scanning every producer, through random begins, ends, epoch
// bumps, plain batches, truncations and expiry.
func TestOpenTxnIndexMatchesScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	s := newProducerState()
	scan := func() int64 {
		first := int64(-1)
		for _, e := range s.entries {
			if e.TxnFirstOffset >= 0 && (first < 0 || e.TxnFirstOffset < first) {
				first = e.TxnFirstOffset
			}
		}
		return first
	}
	var next int64
	epochs := map[int64]int16{}
	for i := 0; i < 20_000; i++ {
		pid := int64(rng.IntN(50))
		h := batch.Header{ProducerID: pid, ProducerEpoch: epochs[pid], BaseOffset: next, MaxTimestamp: int64(i), BaseSequence: -1}
		switch op := rng.IntN(20); {
		case op < 8:
			h.Attributes = batch.TransactionalBit
		case op < 13:
			h.Attributes = batch.ControlBit
		case op < 15:
			epochs[pid]++
			h.ProducerEpoch = epochs[pid]
		case op < 16:
			next -= int64(rng.IntN(20))
			next = max(next, 0)
			s.truncate(next)
			h.ProducerID = -1
		case op < 17:
			s.expire(int64(i), int64(rng.IntN(500)+1))
			h.ProducerID = -1
		}
		if h.ProducerID >= 0 {
			s.update(&h)
			next++
		}
		if got, want := s.firstOpenTxn(), scan(); got != want {
			t.Fatalf("step %d: index says %d, scan %d", i, got, want)
		}
		if len(s.open) > 2*s.openCount+65 {
			t.Fatalf("step %d: index holds %d refs for %d open transactions", i, len(s.open), s.openCount)
		}
	}
	// The snapshot round trip rebuilds the index.
	d, _, err := decodeProducerState(s.encode(next))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := d.firstOpenTxn(), scan(); got != want || d.openCount != s.openCount {
		t.Fatalf("decoded index: first %d (want %d), %d open (want %d)", got, want, d.openCount, s.openCount)
	}
}
