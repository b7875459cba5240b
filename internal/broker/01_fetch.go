package broker

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/acl"
	"github.com/samsa-streaming/samsa/internal/log"
	"github.com/samsa-streaming/samsa/internal/metadata"
	"github.com/samsa-streaming/samsa/internal/partition"
	"github.com/samsa-streaming/samsa/internal/replication"
)

// Fetch, versions 4-18.
//
// Version notes:
//   - v4: IsolationLevel (read_committed stops at the LSO); record batch v2
//     only (v0-v3 went with Kafka 4.0); v5: LogStartOffset
//   - v7: fetch sessions (KIP-227); below v7 every fetch is a full one
//   - v9: CurrentLeaderEpoch (KIP-320): FENCED/UNKNOWN_LEADER_EPOCH
//   - v10: zstd (KIP-110); Kafka refuses zstd topics below v10, Samsa does not
//   - v11: Rack, PreferredReadReplica (KIP-392): always -1 here
//   - v12: flexible; CurrentLeader hint; a follower's LastFetchedEpoch may
//     get a DivergingEpoch (fetch_replica.go)
//   - v13: topic ids (KIP-516): UNKNOWN_TOPIC_ID; v14: tiered storage errors
//     (KIP-405), never sent here
//   - v15: ReplicaState replaces ReplicaID (KIP-903; replicaOf)
//   - v16: NodeEndpoints for the CurrentLeader hints (KIP-951)
//   - v17, v18: KRaft follower tags (KIP-853, KIP-1166), ignored
//
// ACLs: a consumer needs Read on each partition's topic
// (TOPIC_AUTHORIZATION_FAILED, checked before the topic's existence; an
// unknown v13 topic id is UNKNOWN_TOPIC_ID first). A follower (replica id
// >= 0) needs ClusterAction on the cluster; without it every partition
// answers TOPIC_AUTHORIZATION_FAILED and nothing is read or recorded, as
// Kafka. Without an authorizer both are allowed on any listener.
func init() { register(int16(kmsg.Fetch), 4, 18, (*Broker).handleFetch) }

// fetchWant is one partition a fetch asks for.
type fetchWant struct {
	key       sessionKey
	topicID   [16]byte
	offset    int64
	maxBytes  int32
	epoch     int32 // current leader epoch the client knows, or -1
	unknownID bool
	denied    bool // no Read on the topic
}

// fetchGot is what reading one partition produced.
type fetchGot struct {
	want   *fetchWant
	resp   kmsg.FetchResponseTopicPartition
	chunks []log.Chunk
	size   int64
	part   *partition.Partition
}

func (b *Broker) handleFetch(ctx context.Context, c *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.FetchRequest)
	resp := req.ResponseKind().(*kmsg.FetchResponse)
	az := c.authz()
	if id := replicaOf(req); id >= 0 {
		if !az.cluster(acl.OpClusterAction) {
			denied, chunks := replicaFetchDenied(req, resp)
			return nil, c.writeFetchFrame(r.hdr.CorrelationID, denied, chunks)
		}
		return b.handleReplicaFetch(ctx, c, r, id)
	}
	img := b.image()
	readCommitted := req.IsolationLevel == 1

	// Work out the partitions to read: the request's, or the session's.
	var sess *fetchSession
	incremental := false
	switch {
	case req.Version < 7 || (req.SessionID == 0 && req.SessionEpoch == -1):
	case req.SessionEpoch == -1:
		b.sessions.remove(req.SessionID)
	case req.SessionEpoch == 0:
		if req.SessionID != 0 {
			b.sessions.remove(req.SessionID)
		}
		sess = b.sessions.create()
	default:
		var kerrv *kerr.Error
		sess, kerrv = b.sessions.get(req.SessionID, req.SessionEpoch)
		if kerrv != nil {
			resp.ErrorCode = kerrv.Code
			return resp, nil
		}
		incremental = true
	}

	var wants []*fetchWant
	resolve := func(name string, id [16]byte) (string, bool) {
		if req.Version >= 13 {
			t, ok := img.TopicsByID[metadata.Uuid(id)]
			if !ok {
				return "", false
			}
			return t.Name, true
		}
		return name, true
	}
	if sess != nil {
		sess.mu.Lock()
		defer sess.mu.Unlock()
	}
	for _, rt := range req.Topics {
		name, known := resolve(rt.Topic, rt.TopicID)
		for _, rp := range rt.Partitions {
			w := &fetchWant{key: sessionKey{name, rp.Partition}, topicID: rt.TopicID, offset: rp.FetchOffset, maxBytes: rp.PartitionMaxBytes, epoch: rp.CurrentLeaderEpoch, unknownID: !known}
			if !known {
				w.key.topic = "\x00" + string(rt.TopicID[:])
			}
			if sess != nil {
				sess.upsert(w.key, w.topicID, w.offset, w.maxBytes)
			} else {
				wants = append(wants, w)
			}
		}
	}
	if sess != nil {
		for _, ft := range req.ForgottenTopics {
			name, _ := resolve(ft.Topic, ft.TopicID)
			for _, p := range ft.Partitions {
				sess.forget(sessionKey{name, p})
			}
		}
		for _, k := range sess.order {
			sp := sess.parts[k]
			wants = append(wants, &fetchWant{key: k, topicID: sp.topicID, offset: sp.offset, maxBytes: sp.maxBytes, epoch: -1, unknownID: len(k.topic) > 0 && k.topic[0] == 0})
		}
		// Leader epochs the client sent this round still apply.
		for _, rt := range req.Topics {
			name, _ := resolve(rt.Topic, rt.TopicID)
			for _, rp := range rt.Partitions {
				for _, w := range wants {
					if w.key == (sessionKey{name, rp.Partition}) {
						w.epoch = rp.CurrentLeaderEpoch
					}
				}
			}
		}
	}

	// Read on each topic, decided once for the whole long poll.
	for _, w := range wants {
		w.denied = !w.unknownID && !az.topic(acl.OpRead, w.key.topic)
	}
	got := longPoll(ctx, req, &c.waited, func() []*fetchGot {
		img = b.image()
		return b.readFetch(img, req, wants, readCommitted)
	})
	b.countFetch(got)

	// Assemble the response in request order, partitions grouped by topic.
	out := fetchAssembly{resp: resp, img: img}
	for _, g := range got {
		if incremental {
			sp := sess.parts[g.want.key]
			changed := g.size > 0 || g.resp.ErrorCode != 0 || sp == nil || !sp.sent ||
				sp.lastHW != g.resp.HighWatermark || sp.lastLSO != g.resp.LastStableOffset || sp.lastStart != g.resp.LogStartOffset
			if !changed {
				continue
			}
		}
		if sess != nil {
			if sp := sess.parts[g.want.key]; sp != nil {
				sp.sent, sp.lastHW, sp.lastLSO, sp.lastStart = true, g.resp.HighWatermark, g.resp.LastStableOffset, g.resp.LogStartOffset
			}
		}
		out.add(g)
	}
	if sess != nil {
		resp.SessionID = sess.id
		sess.epoch++
		if sess.epoch <= 0 {
			sess.epoch = 1
		}
	}
	addFetchEndpoints(img, resp, c.l.Name)
	if err := c.writeFetch(r.hdr.CorrelationID, resp, out.ordered()); err != nil {
		return nil, err
	}
	return nil, nil
}

// replicaFetchDenied answers a follower fetch without ClusterAction:
// TOPIC_AUTHORIZATION_FAILED on every partition it names, topics echoed as
// sent, and no records (Kafka's KafkaApis.handleFetchRequest).
func replicaFetchDenied(req *kmsg.FetchRequest, resp *kmsg.FetchResponse) (*kmsg.FetchResponse, [][]log.Chunk) {
	var chunks [][]log.Chunk
	for _, rt := range req.Topics {
		st := kmsg.NewFetchResponseTopic()
		st.Topic, st.TopicID = rt.Topic, rt.TopicID
		for _, rp := range rt.Partitions {
			sp := kmsg.NewFetchResponseTopicPartition()
			sp.Partition, sp.ErrorCode = rp.Partition, kerr.TopicAuthorizationFailed.Code
			sp.HighWatermark, sp.LastStableOffset, sp.LogStartOffset = -1, -1, -1
			sp.PreferredReadReplica = -1
			st.Partitions = append(st.Partitions, sp)
			chunks = append(chunks, nil)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, chunks
}

// fetchAssembly builds a Fetch response's topics in request order,
// partitions grouped by topic, with each partition's file chunks alongside.
type fetchAssembly struct {
	resp     *kmsg.FetchResponse
	img      *metadata.Image
	chunks   [][][]log.Chunk // parallel to resp.Topics[i].Partitions
	topicIdx map[string]int
}

func (a *fetchAssembly) add(g *fetchGot) {
	if a.topicIdx == nil {
		a.topicIdx = map[string]int{}
	}
	ti, ok := a.topicIdx[g.want.key.topic]
	if !ok {
		t := kmsg.NewFetchResponseTopic()
		t.TopicID = g.want.topicID
		if !g.want.unknownID {
			t.Topic = g.want.key.topic
			if mt, ok := a.img.Topics[t.Topic]; ok {
				t.TopicID = mt.ID
			}
		}
		a.resp.Topics = append(a.resp.Topics, t)
		a.chunks = append(a.chunks, nil)
		ti = len(a.resp.Topics) - 1
		a.topicIdx[g.want.key.topic] = ti
	}
	a.resp.Topics[ti].Partitions = append(a.resp.Topics[ti].Partitions, g.resp)
	a.chunks[ti] = append(a.chunks[ti], g.chunks)
}

// ordered is every partition's chunks in response order.
func (a *fetchAssembly) ordered() [][]log.Chunk {
	var out [][]log.Chunk
	for _, tc := range a.chunks {
		out = append(out, tc...)
	}
	return out
}

// longPoll reads until the answer holds MinBytes, an error, or MaxWait
// passes, waiting on the partitions' Changed channels in between.
//
// The time spent waiting is added to waited.
func longPoll(ctx context.Context, req *kmsg.FetchRequest, waited *time.Duration, read func() []*fetchGot) []*fetchGot {
	deadline := time.Now().Add(time.Duration(req.MaxWaitMillis) * time.Millisecond)
	for {
		got := read()
		total, errs := int64(0), false
		for _, g := range got {
			total += g.size
			errs = errs || g.resp.ErrorCode != 0
		}
		if total >= int64(req.MinBytes) || errs || req.MaxWaitMillis <= 0 {
			return got
		}
		wait := time.Until(deadline)
		if wait <= 0 || ctx.Err() != nil {
			return got
		}
		began := time.Now()
		more := waitForData(ctx, got, wait)
		*waited += time.Since(began)
		if !more {
			return got
		}
	}
}

// waitForData blocks until one of the partitions changes, the wait ends or
// ctx is done. It reports whether reading again is worthwhile.
func waitForData(ctx context.Context, got []*fetchGot, wait time.Duration) bool {
	t := time.NewTimer(wait)
	defer t.Stop()
	if len(got) == 1 && got[0].part != nil {
		select {
		case <-got[0].part.Changed():
			return true
		case <-t.C:
			return false
		case <-ctx.Done():
			return false
		}
	}
	woke := make(chan struct{}, 1)
	stop := make(chan struct{})
	defer close(stop)
	for _, g := range got {
		if g.part == nil {
			continue
		}
		ch := g.part.Changed()
		go func() {
			select {
			case <-ch:
				select {
				case woke <- struct{}{}:
				default:
				}
			case <-stop:
			}
		}()
	}
	select {
	case <-woke:
		return true
	case <-t.C:
		return false
	case <-ctx.Done():
		return false
	}
}

// readFetch reads every wanted partition once, honouring the request's
// total MaxBytes and the KIP-74 rule that the first batch of the response is
// returned even when it is larger than the limits.
func (b *Broker) readFetch(img *metadata.Image, req *kmsg.FetchRequest, wants []*fetchWant, readCommitted bool) []*fetchGot {
	remaining := int64(req.MaxBytes)
	if req.MaxBytes <= 0 {
		remaining = 1 << 62
	}
	minOne := true
	out := make([]*fetchGot, 0, len(wants))
	for _, w := range wants {
		g := &fetchGot{want: w, resp: kmsg.NewFetchResponseTopicPartition()}
		g.resp.Partition = w.key.part
		g.resp.HighWatermark, g.resp.LastStableOffset, g.resp.LogStartOffset = -1, -1, -1
		g.resp.PreferredReadReplica = -1
		out = append(out, g)
		if w.unknownID {
			g.resp.ErrorCode = kerr.UnknownTopicID.Code
			continue
		}
		if w.denied {
			g.resp.ErrorCode = kerr.TopicAuthorizationFailed.Code
			continue
		}
		t, ok := img.Topics[w.key.topic]
		if !ok {
			if req.Version >= 13 {
				g.resp.ErrorCode = kerr.UnknownTopicID.Code
			} else {
				g.resp.ErrorCode = kerr.UnknownTopicOrPartition.Code
			}
			continue
		}
		mp, ok := partitionOf(t, w.key.part)
		if !ok {
			g.resp.ErrorCode = kerr.UnknownTopicOrPartition.Code
			continue
		}
		p, ok := b.parts.Get(t.Name, w.key.part)
		if ok && p.Offline() != nil {
			g.resp.ErrorCode = kerr.KafkaStorageError.Code
			continue
		}
		if !ok || mp.Leader != b.cfg.NodeID {
			g.resp.ErrorCode = kerr.NotLeaderForPartition.Code
			b.leaderHint(img, mp, &g.resp)
			continue
		}
		g.part = p
		if code := replication.CheckLeaderEpoch(w.epoch, p.LeaderEpoch()); code != 0 {
			g.resp.ErrorCode = code
			continue
		}
		hw := p.HighWatermark()
		lso := p.LastStableOffset()
		start := p.LogStartOffset()
		g.resp.HighWatermark, g.resp.LastStableOffset, g.resp.LogStartOffset = hw, lso, start
		upTo := hw
		if readCommitted {
			upTo = lso
			g.resp.AbortedTransactions = []kmsg.FetchResponseTopicPartitionAbortedTransaction{}
			for _, a := range p.AbortedTxns(w.offset, upTo) {
				at := kmsg.NewFetchResponseTopicPartitionAbortedTransaction()
				at.ProducerID, at.FirstOffset = a.ProducerID, a.FirstOffset
				g.resp.AbortedTransactions = append(g.resp.AbortedTransactions, at)
			}
		}
		if w.offset < start || w.offset > p.LogEndOffset() {
			g.resp.ErrorCode = kerr.OffsetOutOfRange.Code
			continue
		}
		if w.offset >= upTo || remaining <= 0 && !minOne {
			continue
		}
		limit := min(int64(w.maxBytes), remaining)
		if limit < 0 {
			limit = 0
		}
		res, err := p.Log().Read(w.offset, int32(min(limit, 1<<31-1)), upTo, minOne)
		if err != nil {
			if errors.Is(err, log.ErrOffsetOutOfRange) {
				g.resp.ErrorCode = kerr.OffsetOutOfRange.Code
			} else {
				g.resp.ErrorCode = kerr.KafkaStorageError.Code
				if p.IOFailed("read", err); p.Offline() == nil { // else logged at ERROR
					b.lg.Warn("fetch read failed", "topic", t.Name, "partition", w.key.part, "err", err)
				}
			}
			continue
		}
		g.chunks, g.size = res.Chunks, res.Size
		if g.size > 0 {
			minOne = false
			remaining -= g.size
		}
	}
	return out
}

// addFetchEndpoints adds KIP-951's NodeEndpoints (v16+) for every leader
// named in a CurrentLeader hint.
func addFetchEndpoints(img *metadata.Image, resp *kmsg.FetchResponse, listener string) {
	if resp.Version < 16 {
		return
	}
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			id := p.CurrentLeader.LeaderID
			if p.ErrorCode == 0 || id < 0 {
				continue
			}
			host, port, ok := brokerEndpoint(img, id, listener)
			if !ok || slices.ContainsFunc(resp.Brokers, func(e kmsg.FetchResponseBroker) bool { return e.NodeID == id }) {
				continue
			}
			e := kmsg.NewFetchResponseBroker()
			e.NodeID, e.Host, e.Port, e.Rack = id, host, port, brokerRack(img, id)
			resp.Brokers = append(resp.Brokers, e)
		}
	}
}

// leaderHint fills KIP-951's CurrentLeader for NOT_LEADER_OR_FOLLOWER.
func (b *Broker) leaderHint(img *metadata.Image, mp *metadata.Partition, resp *kmsg.FetchResponseTopicPartition) {
	resp.CurrentLeader.LeaderID = mp.Leader
	resp.CurrentLeader.LeaderEpoch = mp.LeaderEpoch
}
