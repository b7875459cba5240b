package group

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (e *env) txnCommit(version int16, pid int64, epoch int16, group, member string, gen int32, topic string, part int32, off int64) int16 {
	r := kmsg.NewPtrTxnOffsetCommitRequest()
	r.Version = version
	r.TransactionalID = "tx"
	r.Group, r.ProducerID, r.ProducerEpoch = group, pid, epoch
	r.Generation, r.MemberID = gen, member
	p := kmsg.NewTxnOffsetCommitRequestTopicPartition()
	p.Partition, p.Offset, p.Metadata = part, off, kmsg.StringPtr("txn")
	r.Topics = []kmsg.TxnOffsetCommitRequestTopic{{Topic: topic, Partitions: []kmsg.TxnOffsetCommitRequestTopicPartition{p}}}
	return e.c.TxnOffsetCommit(context.Background(), r).Topics[0].Partitions[0].ErrorCode
}

// fetchStable is OffsetFetch v8 with RequireStable: offset and error code.
func (e *env) fetchStable(group, topic string, part int32) (int64, int16) {
	e.t.Helper()
	r := kmsg.NewPtrOffsetFetchRequest()
	r.Version = 8
	r.RequireStable = true
	r.Groups = []kmsg.OffsetFetchRequestGroup{{Group: group, Topics: []kmsg.OffsetFetchRequestGroupTopic{{Topic: topic, Partitions: []int32{part}}}}}
	g := e.c.OffsetFetch(context.Background(), r).Groups[0]
	if g.ErrorCode != 0 {
		e.t.Fatalf("fetch offsets: error %d", g.ErrorCode)
	}
	p := g.Topics[0].Partitions[0]
	return p.Offset, p.ErrorCode
}

// end writes the marker and completes the transaction, as the transaction
// coordinator's marker path does.
func (e *env) end(pid int64, epoch int16, commit bool) {
	e.log.appendMarker(0, pid, epoch, commit)
	e.c.CompleteTransaction(0, pid, epoch, commit)
}

func TestTxnOffsetCommitPendingUntilMarker(t *testing.T) {
	e := newEnv(t, testSettings())
	if code := e.txnCommit(3, 7, 0, "g", "", -1, "t", 0, 10); code != 0 {
		t.Fatalf("txn commit: %d", code)
	}
	if off := e.fetched("g", "t", 0); off != -1 {
		t.Fatalf("pending offset visible: %d", off)
	}
	if off, code := e.fetchStable("g", "t", 0); code != kerr.UnstableOffsetCommit.Code || off != -1 {
		t.Fatalf("require stable: offset %d code %d, want UNSTABLE_OFFSET_COMMIT", off, code)
	}
	// Other partitions of the group are stable.
	if _, code := e.fetchStable("g", "t", 1); code != 0 {
		t.Fatalf("stable partition: %d", code)
	}
	e.end(7, 1, true) // KIP-890: the marker carries the bumped epoch
	if off, code := e.fetchStable("g", "t", 0); code != 0 || off != 10 {
		t.Fatalf("after commit: offset %d code %d", off, code)
	}

	// An aborted transaction leaves the committed offset alone.
	if code := e.txnCommit(3, 7, 1, "g", "", -1, "t", 0, 20); code != 0 {
		t.Fatalf("txn commit: %d", code)
	}
	e.end(7, 2, false)
	if off, code := e.fetchStable("g", "t", 0); code != 0 || off != 10 {
		t.Fatalf("after abort: offset %d code %d", off, code)
	}
	// The records are a transactional batch of the producer.
	ents := e.log.parts[0]
	if ents[0].pid != 7 || ents[0].epoch != 0 || ents[1].marker != true || !ents[1].commit {
		t.Fatalf("log: %+v", ents)
	}
}

func TestTxnOffsetCommitReload(t *testing.T) {
	e := newEnv(t, testSettings())
	e.commit(9, "g", "", -1, "t", 3, 1, "")
	must := func(code int16) {
		t.Helper()
		if code != 0 {
			t.Fatalf("txn commit: %d", code)
		}
	}
	must(e.txnCommit(3, 1, 0, "g", "", -1, "t", 0, 100)) // committed
	must(e.txnCommit(3, 2, 0, "g", "", -1, "t", 1, 200)) // aborted
	must(e.txnCommit(3, 3, 0, "g", "", -1, "t", 2, 300)) // still open
	must(e.txnCommit(3, 4, 0, "g", "", -1, "t", 3, 400)) // committed, but older than…
	e.commit(9, "g", "", -1, "t", 3, 5, "")              // …this plain commit
	e.end(1, 0, true)
	e.end(2, 0, false)
	e.end(4, 0, true)
	check := func(when string) {
		t.Helper()
		for _, c := range []struct {
			p    int32
			off  int64
			code int16
		}{{0, 100, 0}, {1, -1, 0}, {2, -1, kerr.UnstableOffsetCommit.Code}, {3, 5, 0}} {
			if off, code := e.fetchStable("g", "t", c.p); off != c.off || code != c.code {
				t.Fatalf("%s: partition %d: offset %d code %d, want %d %d", when, c.p, off, code, c.off, c.code)
			}
		}
	}
	check("live")
	e.c.Close()
	e.start()
	check("reloaded")
	// The open transaction commits after the reload.
	e.end(3, 0, true)
	if off, code := e.fetchStable("g", "t", 2); off != 300 || code != 0 {
		t.Fatalf("after reload and commit: %d %d", off, code)
	}
}

func TestTxnOffsetCommitCompletedWhileLoading(t *testing.T) {
	e := newEnv(t, testSettings())
	if code := e.txnCommit(3, 9, 0, "simple", "", -1, "u", 0, 42); code != 0 {
		t.Fatal(code)
	}
	e.c.Close()
	c, err := New(e.c.cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	c.SetPartitionCount(1)
	load := c.BeginLoad(0, 1)
	// The marker lands after the replay's end and the completion arrives
	// while the shard is loading.
	c.CompleteTransaction(0, 9, 0, true)
	if err := load(context.Background(), e.log.reader(0)); err != nil {
		t.Fatal(err)
	}
	e.c = c
	if off, code := e.fetchStable("simple", "u", 0); off != 42 || code != 0 {
		t.Fatalf("offset %d code %d", off, code)
	}
}

func TestTxnOffsetCommitValidation(t *testing.T) {
	e := newEnv(t, testSettings())
	id := e.stableOne("g")
	cases := []struct {
		name    string
		version int16
		member  string
		gen     int32
		topic   string
		want    int16
	}{
		{"v0 without member fields", 0, "", -1, "t", 0},
		{"v3 without member fields", 3, "", -1, "t", 0},
		{"v3 member", 3, id, 1, "t", 0},
		{"v3 old generation", 3, id, 0, "t", kerr.IllegalGeneration.Code},
		{"v3 unknown member", 3, "nobody", 1, "t", kerr.UnknownMemberID.Code},
		{"unknown topic", 3, "", -1, "nope", kerr.UnknownTopicOrPartition.Code},
	}
	for _, c := range cases {
		if got := e.txnCommit(c.version, 5, 0, "g", c.member, c.gen, c.topic, 0, 1); got != c.want {
			t.Errorf("%s: code %d, want %d", c.name, got, c.want)
		}
	}
	// A generation for a group that does not exist: GROUP_ID_NOT_FOUND,
	// which TxnOffsetCommit below v6 answers as ILLEGAL_GENERATION.
	if got := e.txnCommit(5, 5, 0, "missing", "m", 3, "t", 0, 1); got != kerr.IllegalGeneration.Code {
		t.Errorf("missing group: %d", got)
	}
	e.log.fail = ErrProducerFenced
	if got := e.txnCommit(3, 5, 0, "g", "", -1, "t", 0, 1); got != kerr.InvalidProducerEpoch.Code {
		t.Errorf("fenced append: %d", got)
	}
	e.log.fail = ErrNotLeader
	if got := e.txnCommit(3, 5, 0, "g", "", -1, "t", 0, 1); got != kerr.NotCoordinator.Code {
		t.Errorf("not leader: %d", got)
	}
}
