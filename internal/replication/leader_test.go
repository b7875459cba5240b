package replication

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/samsa-streaming/samsa/internal/batch"
	"github.com/samsa-streaming/samsa/internal/config"
	"github.com/samsa-streaming/samsa/internal/fs"
	"github.com/samsa-streaming/samsa/internal/metadata"
	"github.com/samsa-streaming/samsa/internal/partition"
)

// leaderEnv is broker 0 leading topic "t" (2 partitions, replicas 0,1,2)
// at leader epoch 2. Partition 0's log: offsets 0-2 written in epoch 0,
// 3-4 in epoch 2 (log end 5); followers 1 and 2 fetched at 4, so the high
// watermark is 4. Partition 1 holds 3 records of epoch 0.
type leaderEnv struct {
	img *metadata.Image
	mgr *partition.Manager
	now time.Time
	id  metadata.Uuid
}

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

func newLeaderEnv(t *testing.T, topicConfigs, brokerConfigs map[string]string) *leaderEnv {
	t.Helper()
	e := &leaderEnv{img: metadata.NewImage(), now: time.UnixMilli(1_700_000_000_000), id: metadata.Uuid{1, 2, 3}}
	e.apply(t, metadata.SetClusterID{ID: "test"})
	for id := range int32(3) {
		e.apply(t, metadata.RegisterBroker{ID: id, Host: "h", Port: 9092, IncarnationID: metadata.Uuid{byte(id + 1)}})
	}
	e.apply(t, metadata.CreateTopic{Name: "t", ID: e.id, Configs: topicConfigs, Assignments: [][]int32{{0, 1, 2}, {0, 1, 2}}})
	if brokerConfigs != nil {
		e.apply(t, metadata.AlterBrokerConfig{BrokerID: 0, Set: brokerConfigs})
	}
	bc := config.Broker{}.Defaults()
	mgr, err := partition.NewManager(partition.ManagerOptions{
		DataDir: t.TempDir(), NodeID: 0, Broker: &bc, FS: fs.OS(), Logger: slog.New(slog.DiscardHandler), Clock: fixedClock{e.now},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mgr.Close() })
	e.mgr = mgr
	e.sync(t)
	e.append(t, 0, 3)
	e.append(t, 1, 3)
	e.apply(t, metadata.ChangePartition{TopicID: e.id, Partition: 0, Leader: 0, LeaderEpoch: 2})
	e.sync(t)
	e.append(t, 0, 2)
	p := e.part(t, 0)
	for _, f := range []int32{1, 2} {
		if _, err := p.FollowerFetch(f, 2, 4, e.now); err != nil {
			t.Fatal(err)
		}
	}
	if p.LogEndOffset() != 5 || p.HighWatermark() != 4 {
		t.Fatalf("setup: log end %d, high watermark %d", p.LogEndOffset(), p.HighWatermark())
	}
	return e
}

func (e *leaderEnv) apply(t *testing.T, r metadata.Record) {
	t.Helper()
	next, err := e.img.Apply(e.img.Offset+1, r)
	if err != nil {
		t.Fatalf("%T: %v", r, err)
	}
	e.img = next
}

func (e *leaderEnv) sync(t *testing.T) {
	t.Helper()
	if err := e.mgr.Sync(context.Background(), e.img, false); err != nil {
		t.Fatal(err)
	}
}

func (e *leaderEnv) part(t *testing.T, i int32) *partition.Partition {
	t.Helper()
	p, ok := e.mgr.Get("t", i)
	if !ok {
		t.Fatalf("partition %d not open", i)
	}
	return p
}

// append writes one batch of n records to partition i.
func (e *leaderEnv) append(t *testing.T, i int32, n int) {
	t.Helper()
	raw, err := batch.Build(batch.CodecNone, make([]batch.Record, n), batch.BuildOptions{BaseTimestamp: e.now.UnixMilli(), ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.part(t, i).Append(raw, 1); err != nil {
		t.Fatal(err)
	}
}

func (e *leaderEnv) leader() Leader { return Leader{Self: 0, Parts: e.mgr, Throttle: &Throttle{}} }

// fetchOne is a replica fetch of one partition of "t" by follower 1 at
// leader epoch 2, last fetched epoch -1.
func fetchOne(part int32, offset int64) ReplicaFetch {
	return ReplicaFetch{Replica: 1, Partitions: []ReplicaFetchPartition{{
		Topic: "t", Partition: part, CurrentLeaderEpoch: 2, FetchOffset: offset, LastFetchedEpoch: -1, MaxBytes: 1 << 20,
	}}}
}

// batchesIn counts the whole batches (and their last offset + 1) the
// chunks of r hold.
func batchesIn(t *testing.T, r ReplicaFetchResult) (n int, next int64) {
	t.Helper()
	var buf []byte
	for _, c := range r.Chunks {
		b := make([]byte, c.Len)
		if _, err := c.File.ReadAt(b, c.Pos); err != nil {
			t.Fatal(err)
		}
		buf = append(buf, b...)
	}
	if int64(len(buf)) != r.Size {
		t.Fatalf("chunks hold %d bytes, Size %d", len(buf), r.Size)
	}
	for len(buf) > 0 {
		h, err := batch.ParseHeader(buf)
		if err != nil {
			t.Fatal(err)
		}
		n, next = n+1, h.LastOffset()+1
		buf = buf[h.Size():]
	}
	return n, next
}

func TestLeaderReplicaFetch(t *testing.T) {
	type want struct {
		code           int16
		hw, lso, start int64
		divEpoch       int32
		divEnd         int64
		leader, lEpoch int32
		batches        int
		next           int64 // offset after the last batch returned
		replica        bool  // the result names the local replica
		topic          string
	}
	ok := func(hw int64, batches int, next int64) want {
		return want{hw: hw, lso: hw, start: 0, divEpoch: -1, divEnd: -1, leader: -1, lEpoch: -1, batches: batches, next: next, replica: true, topic: "t"}
	}
	refused := func(code int16) want {
		return want{code: code, hw: -1, lso: -1, start: -1, divEpoch: -1, divEnd: -1, leader: -1, lEpoch: -1, topic: "t"}
	}
	withTopic := func(w want, topic string) want { w.topic = topic; return w }
	for _, c := range []struct {
		name   string
		leader func(e *leaderEnv) Leader
		req    func(e *leaderEnv) ReplicaFetch
		want   want
	}{
		{name: "records up to the log end, past the high watermark",
			req: func(*leaderEnv) ReplicaFetch { return fetchOne(0, 0) }, want: ok(4, 2, 5)},
		{name: "caught up: no records, high watermark and LSO",
			req: func(*leaderEnv) ReplicaFetch { return fetchOne(0, 5) }, want: ok(4, 0, 0)},
		{name: "unknown topic by name",
			req:  func(*leaderEnv) ReplicaFetch { r := fetchOne(0, 0); r.Partitions[0].Topic = "nope"; return r },
			want: withTopic(refused(kerr.UnknownTopicOrPartition.Code), "nope")},
		{name: "unknown topic id",
			req: func(*leaderEnv) ReplicaFetch {
				r := fetchOne(0, 0)
				r.ByID, r.Partitions[0].Topic, r.Partitions[0].TopicID = true, "", metadata.Uuid{9}
				return r
			},
			want: withTopic(refused(kerr.UnknownTopicID.Code), "")},
		{name: "topic id resolved to its name",
			req: func(e *leaderEnv) ReplicaFetch {
				r := fetchOne(0, 0)
				r.ByID, r.Partitions[0].Topic, r.Partitions[0].TopicID = true, "", e.id
				return r
			},
			want: ok(4, 2, 5)},
		{name: "unknown partition",
			req: func(*leaderEnv) ReplicaFetch { return fetchOne(7, 0) }, want: refused(kerr.UnknownTopicOrPartition.Code)},
		{name: "not the leader: KIP-951 hint",
			leader: func(e *leaderEnv) Leader { l := e.leader(); l.Self = 1; return l },
			req:    func(*leaderEnv) ReplicaFetch { return fetchOne(0, 0) },
			want:   func() want { w := refused(kerr.NotLeaderForPartition.Code); w.leader, w.lEpoch = 0, 2; return w }()},
		{name: "not hosted here",
			leader: func(e *leaderEnv) Leader { l := e.leader(); l.Parts = noParts{}; return l },
			req:    func(*leaderEnv) ReplicaFetch { return fetchOne(0, 0) },
			want:   func() want { w := refused(kerr.NotLeaderForPartition.Code); w.leader, w.lEpoch = 0, 2; return w }()},
		{name: "fenced leader epoch",
			req:  func(*leaderEnv) ReplicaFetch { r := fetchOne(0, 0); r.Partitions[0].CurrentLeaderEpoch = 1; return r },
			want: want{code: kerr.FencedLeaderEpoch.Code, hw: 4, lso: -1, start: 0, divEpoch: -1, divEnd: -1, leader: -1, lEpoch: -1, replica: true, topic: "t"}},
		{name: "unknown (newer) leader epoch",
			req:  func(*leaderEnv) ReplicaFetch { r := fetchOne(0, 0); r.Partitions[0].CurrentLeaderEpoch = 3; return r },
			want: want{code: kerr.UnknownLeaderEpoch.Code, hw: 4, lso: -1, start: 0, divEpoch: -1, divEnd: -1, leader: -1, lEpoch: -1, replica: true, topic: "t"}},
		{name: "not a replica",
			req:  func(*leaderEnv) ReplicaFetch { r := fetchOne(0, 0); r.Replica = 7; return r },
			want: want{code: kerr.NotLeaderForPartition.Code, hw: 4, lso: -1, start: 0, divEpoch: -1, divEnd: -1, leader: -1, lEpoch: -1, replica: true, topic: "t"}},
		{name: "fetch offset past the log end",
			req:  func(*leaderEnv) ReplicaFetch { return fetchOne(0, 9) },
			want: want{code: kerr.OffsetOutOfRange.Code, hw: 4, lso: -1, start: 0, divEpoch: -1, divEnd: -1, leader: -1, lEpoch: -1, replica: true, topic: "t"}},
		{name: "diverging: an epoch this log never had",
			req: func(*leaderEnv) ReplicaFetch {
				r := fetchOne(0, 4)
				r.Partitions[0].LastFetchedEpoch = 1
				return r
			},
			want: want{hw: 4, lso: 4, start: 0, divEpoch: 0, divEnd: 3, leader: -1, lEpoch: -1, replica: true, topic: "t"}},
		{name: "diverging: the epoch ends earlier here",
			req: func(*leaderEnv) ReplicaFetch {
				r := fetchOne(0, 4)
				r.Partitions[0].LastFetchedEpoch = 0
				return r
			},
			want: want{hw: 4, lso: 4, start: 0, divEpoch: 0, divEnd: 3, leader: -1, lEpoch: -1, replica: true, topic: "t"}},
		{name: "not diverged: the epoch ends at the fetch offset",
			req: func(*leaderEnv) ReplicaFetch {
				r := fetchOne(0, 3)
				r.Partitions[0].LastFetchedEpoch = 0
				return r
			},
			want: ok(4, 1, 5)},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newLeaderEnv(t, nil, nil)
			l := e.leader()
			if c.leader != nil {
				l = c.leader(e)
			}
			res := l.ReplicaFetch(e.img, e.now, c.req(e))
			if len(res) != 1 {
				t.Fatalf("%d results", len(res))
			}
			r, w := res[0], c.want
			got := want{code: r.ErrorCode, hw: r.HighWatermark, lso: r.LastStableOffset, start: r.LogStartOffset,
				divEpoch: r.DivergingEpoch, divEnd: r.DivergingEndOffset, leader: r.Leader, lEpoch: r.LeaderEpoch,
				replica: r.Replica != nil, topic: r.Topic}
			got.batches, got.next = batchesIn(t, r)
			if got != w {
				t.Fatalf("got  %+v\nwant %+v", got, w)
			}
			if r.Partition != c.req(e).Partitions[0].Partition {
				t.Fatalf("partition %d", r.Partition)
			}
		})
	}
}

// A fetch at the log end by the follower that was behind moves the high
// watermark; the response carries the new one.
func TestLeaderReplicaFetchMovesHighWatermark(t *testing.T) {
	e := newLeaderEnv(t, nil, nil)
	l := e.leader()
	if r := l.ReplicaFetch(e.img, e.now, fetchOne(0, 5))[0]; r.HighWatermark != 4 || r.ErrorCode != 0 {
		t.Fatalf("follower 1 at the log end: %+v", r)
	}
	req := fetchOne(0, 5)
	req.Replica = 2
	r := l.ReplicaFetch(e.img, e.now, req)[0]
	if r.HighWatermark != 5 || r.LastStableOffset != 5 || e.part(t, 0).HighWatermark() != 5 {
		t.Fatalf("both followers at the log end: HW %d LSO %d", r.HighWatermark, r.LastStableOffset)
	}
}

// The response's MaxBytes: the first batch goes whatever its size
// (KIP-74), the next partition gets nothing once the budget is spent.
func TestLeaderReplicaFetchBudget(t *testing.T) {
	e := newLeaderEnv(t, nil, nil)
	req := fetchOne(0, 0)
	req.MaxBytes = 1
	req.Partitions = append(req.Partitions, ReplicaFetchPartition{Topic: "t", Partition: 1, CurrentLeaderEpoch: 0, FetchOffset: 0, LastFetchedEpoch: -1, MaxBytes: 1 << 20})
	res := e.leader().ReplicaFetch(e.img, e.now, req)
	if len(res) != 2 || res[0].Partition != 0 || res[1].Partition != 1 {
		t.Fatalf("results %+v", res)
	}
	if n, _ := batchesIn(t, res[0]); n != 1 || res[0].ErrorCode != 0 {
		t.Fatalf("first partition: %d batches, err %d", n, res[0].ErrorCode)
	}
	if res[1].Size != 0 || res[1].ErrorCode != 0 || res[1].HighWatermark < 0 {
		t.Fatalf("second partition over the budget: %+v", res[1])
	}
}

// leader.replication.throttled.rate with the topic's
// leader.replication.throttled.replicas: over the rate, throttled
// partitions get no records (and no error) until the next second.
func TestLeaderReplicaFetchThrottled(t *testing.T) {
	e := newLeaderEnv(t, map[string]string{"leader.replication.throttled.replicas": "0:0"}, map[string]string{"leader.replication.throttled.rate": "10"})
	l := e.leader()
	if r := l.ReplicaFetch(e.img, e.now, fetchOne(0, 0))[0]; r.Size == 0 || r.ErrorCode != 0 {
		t.Fatalf("first fetch under the rate: %+v", r)
	}
	r := l.ReplicaFetch(e.img, e.now.Add(500*time.Millisecond), fetchOne(0, 0))[0]
	if r.Size != 0 || r.ErrorCode != 0 || r.HighWatermark != 4 {
		t.Fatalf("over the rate: %+v", r)
	}
	p1 := fetchOne(1, 0)
	p1.Partitions[0].CurrentLeaderEpoch = 0
	if r := l.ReplicaFetch(e.img, e.now, p1)[0]; r.Size == 0 || r.ErrorCode != 0 {
		t.Fatalf("partition 1 is not throttled: %+v", r)
	}
	if r := l.ReplicaFetch(e.img, e.now.Add(time.Second), fetchOne(0, 0))[0]; r.Size == 0 {
		t.Fatalf("next second: %+v", r)
	}
	if r := (Leader{Self: 0, Parts: e.mgr}).ReplicaFetch(e.img, e.now, fetchOne(0, 0))[0]; r.Size == 0 {
		t.Fatalf("no Throttle: %+v", r)
	}
}

func TestLeaderReplicaFetchResponse(t *testing.T) {
	r := ReplicaFetchResult{Partition: 3, ErrorCode: 6, HighWatermark: 1, LastStableOffset: 2, LogStartOffset: 3,
		DivergingEpoch: 4, DivergingEndOffset: 5, Leader: 6, LeaderEpoch: 7}
	rp := r.Response()
	if rp.Partition != 3 || rp.ErrorCode != 6 || rp.HighWatermark != 1 || rp.LastStableOffset != 2 || rp.LogStartOffset != 3 ||
		rp.DivergingEpoch.Epoch != 4 || rp.DivergingEpoch.EndOffset != 5 || rp.CurrentLeader.LeaderID != 6 || rp.CurrentLeader.LeaderEpoch != 7 ||
		rp.PreferredReadReplica != -1 || rp.SnapshotID.Epoch != -1 || rp.RecordBatches != nil {
		t.Fatalf("%+v", rp)
	}
}

func TestLeaderOffsetForLeaderEpoch(t *testing.T) {
	for _, c := range []struct {
		name               string
		self               int32
		topic              string
		part, current, ask int32
		replica            int32
		wantEpoch          int32
		wantEnd            int64
		wantCode           int16
	}{
		{"unknown topic", 0, "nope", 0, 2, 2, 1, -1, -1, kerr.UnknownTopicOrPartition.Code},
		{"unknown partition", 0, "t", 7, 2, 2, 1, -1, -1, kerr.UnknownTopicOrPartition.Code},
		{"not the leader", 1, "t", 0, 2, 2, 1, -1, -1, kerr.NotLeaderForPartition.Code},
		{"fenced epoch", 0, "t", 0, 1, 0, 1, -1, -1, kerr.FencedLeaderEpoch.Code},
		{"unknown epoch", 0, "t", 0, 3, 0, 1, -1, -1, kerr.UnknownLeaderEpoch.Code},
		{"unchecked epoch", 0, "t", 0, -1, 0, 1, 0, 3, 0},
		{"an older epoch ends where the next begins", 0, "t", 0, 2, 0, 1, 0, 3, 0},
		{"an epoch this log never had: the one before", 0, "t", 0, 2, 1, 1, 0, 3, 0},
		{"the latest epoch ends at the log end for a replica", 0, "t", 0, 2, 2, 1, 2, 5, 0},
		{"a consumer never sees past the high watermark", 0, "t", 0, 2, 2, -1, 2, 4, 0},
		{"a consumer below the high watermark", 0, "t", 0, 2, 0, -1, 0, 3, 0},
		{"an epoch before the log", 0, "t", 1, 0, -1, 1, -1, -1, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newLeaderEnv(t, nil, nil)
			l := e.leader()
			l.Self = c.self
			epoch, end, code := l.OffsetForLeaderEpoch(e.img, c.topic, c.part, c.current, c.ask, c.replica)
			if epoch != c.wantEpoch || end != c.wantEnd || code != c.wantCode {
				t.Fatalf("got (%d, %d, %d), want (%d, %d, %d)", epoch, end, code, c.wantEpoch, c.wantEnd, c.wantCode)
			}
		})
	}
}

func TestCheckLeaderEpoch(t *testing.T) {
	for _, c := range []struct {
		client, ours int32
		want         int16
	}{
		{-1, 5, 0}, {5, 5, 0}, {4, 5, kerr.FencedLeaderEpoch.Code}, {6, 5, kerr.UnknownLeaderEpoch.Code},
	} {
		if got := CheckLeaderEpoch(c.client, c.ours); got != c.want {
			t.Errorf("CheckLeaderEpoch(%d, %d) = %d, want %d", c.client, c.ours, got, c.want)
		}
	}
}

// noParts hosts nothing.
type noParts struct{}

func (noParts) Get(string, int32) (*partition.Partition, bool) { return nil, false }
