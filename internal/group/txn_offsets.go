package group

import (
	"context"
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Transactional offsets (KIP-98, KIP-447).
//
// TxnOffsetCommit appends its offset records as one transactional batch of
// the producer to the group's __consumer_offsets partition and keeps them
// pending, per producer id, in the shard. The transaction coordinator ends
// the transaction by appending a COMMIT or ABORT marker to the partition and
// then calling CompleteTransaction, which makes the producer's pending
// offsets the groups' committed offsets or drops them. A replay does the
// same from the log: records of transactional batches are pending until
// their producer's marker, and still pending at the end of the log.
//
// As in Kafka, a pending offset replaces the committed one at commit only
// if its record is later in the log, so a plain OffsetCommit written after
// the transactional one wins. OffsetFetch with RequireStable answers
// UNSTABLE_OFFSET_COMMIT for a partition with pending offsets, and offsets
// with pending transactional commits do not expire.

// pendingTxn is one producer's uncommitted offsets in a shard.
type pendingTxn struct {
	epoch   int16
	offsets map[string]map[topicPartition]committed // by group
}

// txnCompletion is a CompleteTransaction call deferred while loading.
type txnCompletion struct {
	producerID int64
	commit     bool
}

func addPendingOffset(pending map[int64]*pendingTxn, pid int64, epoch int16, groupID string, tp topicPartition, c committed) {
	p := pending[pid]
	if p == nil {
		p = &pendingTxn{offsets: make(map[string]map[topicPartition]committed)}
		pending[pid] = p
	}
	p.epoch = epoch
	m := p.offsets[groupID]
	if m == nil {
		m = make(map[topicPartition]committed)
		p.offsets[groupID] = m
	}
	m[tp] = c
}

// dropPendingOffset forgets every producer's pending offset of the group's
// partition (the offset was tombstoned).
func dropPendingOffset(pending map[int64]*pendingTxn, groupID string, tp topicPartition) {
	for pid, p := range pending {
		if m := p.offsets[groupID]; m != nil {
			delete(m, tp)
			if len(m) == 0 {
				delete(p.offsets, groupID)
			}
		}
		if len(p.offsets) == 0 {
			delete(pending, pid)
		}
	}
}

// applyMarker ends a producer's transaction during a replay.
func (st *loadState) applyMarker(pid int64, commit bool) {
	p := st.pending[pid]
	delete(st.pending, pid)
	if p == nil || !commit {
		return
	}
	for groupID, offs := range p.offsets {
		m := st.offsets[groupID]
		if m == nil {
			m = make(map[topicPartition]committed)
			st.offsets[groupID] = m
		}
		for tp, c := range offs {
			if old, ok := m[tp]; !ok || c.recordOffset > old.recordOffset {
				m[tp] = c
			}
		}
	}
}

// hasPending reports whether some producer has a pending offset for the
// group's partition; s.mu is held.
func (s *shard) hasPending(groupID string, tp topicPartition) bool {
	for _, p := range s.pending {
		if _, ok := p.offsets[groupID][tp]; ok {
			return true
		}
	}
	return false
}

// complete ends a producer's transaction in the shard; s.mu is held.
func (s *shard) complete(pid int64, commit bool) {
	p := s.pending[pid]
	delete(s.pending, pid)
	if p == nil || !commit {
		return
	}
	for groupID, offs := range p.offsets {
		g := s.groups[groupID]
		if g == nil {
			g = newGroup(s, groupID, TypeClassic) // a simple group
			s.groups[groupID] = g
		}
		for tp, c := range offs {
			if old, ok := g.offsets[tp]; !ok || c.recordOffset > old.recordOffset {
				g.offsets[tp] = c
			}
		}
	}
}

// applyCompleted applies the completions that arrived during the load;
// s.mu is held.
func (s *shard) applyCompleted() {
	for _, tc := range s.completed {
		s.complete(tc.producerID, tc.commit)
	}
	s.completed = nil
}

// CompleteTransaction makes the producer's pending transactional offsets in
// that offsets partition visible (commit) or drops them (abort). The
// transaction coordinator calls it after appending the marker to the
// partition. A partition this coordinator does not lead is ignored (its
// leader replays the marker); one still loading applies it after the load.
func (c *Coordinator) CompleteTransaction(offsetsPartition int32, producerID int64, epoch int16, commit bool) {
	c.mu.Lock()
	s, ok := c.shards[offsetsPartition]
	c.mu.Unlock()
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch s.state {
	case shardLoading:
		s.completed = append(s.completed, txnCompletion{producerID, commit})
	case shardActive:
		s.complete(producerID, commit)
	}
	c.lg.Debug("transactional offsets completed", "partition", offsetsPartition, "producer_id", producerID, "epoch", epoch, "commit", commit)
}

// TxnOffsetCommit handles TxnOffsetCommit v0-v5: the offsets are written as
// a transactional batch of the producer and stay pending until the
// transaction ends. The broker checks (KIP-890) that the transaction
// includes the group's offsets partition before calling it.
func (c *Coordinator) TxnOffsetCommit(ctx context.Context, req *kmsg.TxnOffsetCommitRequest) *kmsg.TxnOffsetCommitResponse {
	resp := req.ResponseKind().(*kmsg.TxnOffsetCommitResponse)
	for _, rt := range req.Topics {
		st := kmsg.NewTxnOffsetCommitResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewTxnOffsetCommitResponseTopicPartition()
			sp.Partition = rp.Partition
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	setAll := func(code int16) *kmsg.TxnOffsetCommitResponse {
		for i := range resp.Topics {
			for j := range resp.Topics[i].Partitions {
				if resp.Topics[i].Partitions[j].ErrorCode == 0 {
					resp.Topics[i].Partitions[j].ErrorCode = code
				}
			}
		}
		return resp
	}
	if req.Group == "" {
		return setAll(kerr.InvalidGroupID.Code)
	}
	s, code := c.lockShard(req.Group)
	if code != 0 {
		return setAll(code)
	}
	defer s.mu.Unlock()

	generation, memberID, instanceID := int32(-1), "", (*string)(nil)
	if req.Version >= 3 {
		generation, memberID, instanceID = req.Generation, req.MemberID, req.InstanceID
	}
	if code := s.validateTxnOffsetCommit(req.Group, generation, memberID, instanceID, req.Version); code != 0 {
		return setAll(code)
	}

	now := s.now().UnixMilli()
	type todo struct {
		tp topicPartition
		c  committed
	}
	var todos []todo
	var recs []Record
	for i, rt := range req.Topics {
		for j, rp := range rt.Partitions {
			ec := &resp.Topics[i].Partitions[j].ErrorCode
			md := ""
			if rp.Metadata != nil {
				md = *rp.Metadata
			}
			switch {
			case !c.cfg.Topics.PartitionExists(rt.Topic, rp.Partition):
				*ec = kerr.UnknownTopicOrPartition.Code
				continue
			case len(md) > c.cfg.Settings.OffsetMetadataMaxBytes:
				*ec = kerr.OffsetMetadataTooLarge.Code
				continue
			}
			epoch := int32(-1)
			if req.Version >= 2 {
				epoch = rp.LeaderEpoch
			}
			t := todo{tp: topicPartition{rt.Topic, rp.Partition}, c: committed{offset: rp.Offset, leaderEpoch: epoch, metadata: md, commitTime: now}}
			todos = append(todos, t)
			recs = append(recs, offsetRecord(req.Group, t.tp, t.c))
		}
	}
	if len(recs) == 0 {
		return resp
	}
	wctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	base, err := c.log.AppendTxn(wctx, s.partition, req.ProducerID, req.ProducerEpoch, recs)
	if err != nil {
		code := writeCode(err)
		if errors.Is(err, ErrProducerFenced) {
			code = kerr.InvalidProducerEpoch.Code
		}
		c.lg.Debug("transactional offset commit failed", "group", req.Group, "producer_id", req.ProducerID, "err", err)
		return setAll(code)
	}
	for i, t := range todos {
		t.c.recordOffset = base + int64(i)
		addPendingOffset(s.pending, req.ProducerID, req.ProducerEpoch, req.Group, t.tp, t.c)
	}
	return resp
}

// validateTxnOffsetCommit is Kafka's validateTransactionalOffsetCommit: a
// commit to a group that does not exist is accepted only without a
// generation (a simple group, created when the transaction commits), and
// member fields are checked only when given. Below v6 (KIP-1319)
// STALE_MEMBER_EPOCH and GROUP_ID_NOT_FOUND become ILLEGAL_GENERATION.
func (s *shard) validateTxnOffsetCommit(groupID string, generation int32, memberID string, instanceID *string, version int16) int16 {
	code := s.txnOffsetCommitError(groupID, generation, memberID, instanceID, version)
	if version < 6 && (code == kerr.StaleMemberEpoch.Code || code == kerr.GroupIDNotFound.Code) {
		return kerr.IllegalGeneration.Code
	}
	return code
}

func (s *shard) txnOffsetCommitError(groupID string, generation int32, memberID string, instanceID *string, version int16) int16 {
	g := s.groups[groupID]
	if g == nil {
		if generation >= 0 {
			return kerr.GroupIDNotFound.Code
		}
		return 0
	}
	if g.typ == TypeConsumer {
		if generation < 0 && memberID == "" && instanceID == nil {
			return 0 // the member fields are optional in TxnOffsetCommit
		}
		return g.consumer.offsetCommitError(memberID, generation, true, version)
	}
	cg := g.classic
	if cg.state == stateDead {
		return kerr.CoordinatorNotAvailable.Code
	}
	if generation < 0 && cg.state == stateEmpty {
		return 0
	}
	if generation >= 0 || memberID != "" || instanceID != nil {
		if code := cg.validateMember(memberID, instanceID); code != 0 {
			return code
		}
		if generation != cg.generation {
			return kerr.IllegalGeneration.Code
		}
	}
	// Unlike OffsetCommit, a transactional commit without member fields
	// is accepted from a non-empty group (v0-v2 have none), and one during
	// CompletingRebalance is not refused.
	return 0
}
