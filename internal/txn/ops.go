package txn

import (
	"context"
	"math"
	"regexp"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// InitProducerID initialises (or re-initialises) a transactional producer:
// a new producer id the first time, then the same id with the epoch bumped,
// fencing older instances. An ongoing transaction of the old epoch is
// aborted first and the caller told to retry (CONCURRENT_TRANSACTIONS).
// expPID/expEpoch are the KIP-360 fields (-1/-1: none): a producer
// recovering after an error keeps its id when they match the current (or,
// for a retried call, the previous) epoch.
func (c *Coordinator) InitProducerID(ctx context.Context, id string, timeoutMs int32, expPID int64, expEpoch int16) (int64, int16, error) {
	switch {
	case id == "":
		return noProducerID, noProducerEpoch, kerr.InvalidRequest
	case timeoutMs <= 0 || time.Duration(timeoutMs)*time.Millisecond > c.cfg.Settings.MaxTimeout:
		return noProducerID, noProducerEpoch, kerr.InvalidTransactionTimeout
	}
	hasExp := expPID != noProducerID || expEpoch != noProducerEpoch
	if hasExp && (expPID < 0 || expEpoch < 0) {
		return noProducerID, noProducerEpoch, kerr.InvalidRequest
	}
	_, ids := c.deps()
	if ids == nil {
		return noProducerID, noProducerEpoch, kerr.CoordinatorNotAvailable
	}
	s, err := c.lockShard(id)
	if err != nil {
		return noProducerID, noProducerEpoch, err
	}
	pid, epoch, fenced, err := s.initLocked(ctx, ids, id, timeoutMs, hasExp, expPID, expEpoch)
	s.mu.Unlock()
	if err != nil {
		return noProducerID, noProducerEpoch, err
	}
	if fenced {
		if err := c.finish(ctx, s, id); err != nil {
			c.lg.Info("aborting the fenced transaction is not complete yet", "transactional_id", id, "err", err)
		}
		return noProducerID, noProducerEpoch, kerr.ConcurrentTransactions
	}
	return pid, epoch, nil
}

func (s *shard) initLocked(ctx context.Context, ids ProducerIDs, id string, timeoutMs int32, hasExp bool, expPID int64, expEpoch int16) (int64, int16, bool, error) {
	now := s.c.nowMs()
	m := s.txns[id]
	if m == nil {
		pid, err := ids.NextProducerID(ctx)
		if err != nil {
			s.c.lg.Warn("cannot allocate a producer id", "err", err)
			return 0, 0, false, kerr.CoordinatorNotAvailable
		}
		// Installed only once its record is written.
		m = &meta{id: id, pid: pid, prevPID: noProducerID, nextPID: noProducerID, epoch: noProducerEpoch,
			lastEpoch: noProducerEpoch, timeoutMs: timeoutMs, state: Empty, parts: map[TopicPartition]struct{}{},
			startMs: -1, updateMs: now}
	}
	if hasExp && m.epoch != noProducerEpoch && expPID != m.pid && !(expPID == m.prevPID && epochExhausted(expEpoch)) {
		return 0, 0, false, kerr.ProducerFenced
	}
	switch m.state {
	case PrepareCommit, PrepareAbort:
		return 0, 0, false, kerr.ConcurrentTransactions
	case Ongoing:
		// Abort the old epoch's transaction, fencing it; the caller
		// retries and then gets the epoch bumped once more.
		if _, err := s.prepareEnd(ctx, ids, m, false, 0, true, false); err != nil {
			return 0, 0, false, err
		}
		return 0, 0, true, nil
	case Empty, CompleteCommit, CompleteAbort:
	default:
		return 0, 0, false, kerr.ConcurrentTransactions
	}
	n := m.clone()
	n.state, n.timeoutMs, n.startMs, n.updateMs, n.tv = Empty, timeoutMs, -1, now, 0
	n.parts = map[TopicPartition]struct{}{}
	n.prevPID, n.nextPID = m.pid, noProducerID
	if epochExhausted(m.epoch) && (!hasExp || expEpoch == m.epoch) {
		pid, err := ids.NextProducerID(ctx)
		if err != nil {
			s.c.lg.Warn("cannot allocate a producer id", "err", err)
			return 0, 0, false, kerr.CoordinatorNotAvailable
		}
		n.pid, n.epoch, n.lastEpoch = pid, 0, noProducerEpoch
		if hasExp {
			n.lastEpoch = m.epoch
		}
	} else {
		switch {
		case !hasExp:
			n.epoch, n.lastEpoch = m.epoch+1, noProducerEpoch
		case m.epoch == noProducerEpoch || expEpoch == m.epoch:
			n.epoch, n.lastEpoch = m.epoch+1, m.epoch
		case expEpoch == m.lastEpoch:
			// A retry of a call that succeeded: same answer.
			n.epoch, n.lastEpoch = m.epoch, m.lastEpoch
		default:
			return 0, 0, false, kerr.ProducerFenced
		}
	}
	if err := s.persist(ctx, n); err != nil {
		return 0, 0, false, err
	}
	return n.pid, n.epoch, false, nil
}

// checkProducer is the common check of AddPartitions, verification and
// EndTxn's first steps; s.mu is held.
func checkProducer(m *meta, pid int64, epoch int16) error {
	switch {
	case m == nil || m.pid != pid:
		return kerr.InvalidProducerIDMapping
	case m.epoch != epoch:
		return kerr.ProducerFenced
	case m.state == PrepareCommit || m.state == PrepareAbort:
		return kerr.ConcurrentTransactions
	}
	return nil
}

// AddPartitions adds partitions to the producer's transaction, starting it
// if none is ongoing. tv is the client's transaction version: 0 for
// AddPartitionsToTxn, 2 for the implicit add of a Produce v12+ request.
func (c *Coordinator) AddPartitions(ctx context.Context, id string, pid int64, epoch int16, tps []TopicPartition, tv int16) error {
	if id == "" {
		return kerr.InvalidRequest
	}
	s, err := c.lockShard(id)
	if err != nil {
		return err
	}
	defer s.mu.Unlock()
	m := s.txns[id]
	if err := checkProducer(m, pid, epoch); err != nil {
		return err
	}
	if m.state == Ongoing && m.hasPartitions(tps) {
		return nil
	}
	if m.state != Ongoing && m.state != Empty && m.state != CompleteCommit && m.state != CompleteAbort {
		return kerr.ConcurrentTransactions
	}
	now := c.nowMs()
	n := m.clone()
	if m.state != Ongoing {
		n.startMs = now
	}
	n.state, n.updateMs, n.tv = Ongoing, now, tv
	for _, tp := range tps {
		n.parts[tp] = struct{}{}
	}
	return s.persist(ctx, n)
}

// VerifyOnly answers AddPartitionsToTxn's VerifyOnly (KIP-890 part 1): for
// each partition nil if it is in the producer's ongoing transaction, else
// TRANSACTION_ABORTABLE. A non-nil err applies to every partition.
func (c *Coordinator) VerifyOnly(id string, pid int64, epoch int16, tps []TopicPartition) ([]error, error) {
	if id == "" {
		return nil, kerr.InvalidRequest
	}
	s, err := c.lockShard(id)
	if err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	m := s.txns[id]
	if err := checkProducer(m, pid, epoch); err != nil {
		return nil, err
	}
	out := make([]error, len(tps))
	for i, tp := range tps {
		if _, ok := m.parts[tp]; !ok || m.state != Ongoing {
			out[i] = kerr.TransactionAbortable
		}
	}
	return out, nil
}

// VerifyPartition is the produce path's check (the broker's txnVerifier):
// with add=false, that the partition is in the producer's ongoing
// transaction (KIP-890 part 1); with add=true (Produce v12+ under
// transaction.version 2), it adds the partition itself (part 2). Errors are
// the ones a produce response carries: a stale epoch is
// INVALID_PRODUCER_EPOCH, a partition outside the transaction
// INVALID_TXN_STATE.
func (c *Coordinator) VerifyPartition(ctx context.Context, id string, pid int64, epoch int16, topic string, partition int32, add bool) error {
	tps := []TopicPartition{{topic, partition}}
	if add {
		return produceErr(c.AddPartitions(ctx, id, pid, epoch, tps, 2))
	}
	per, err := c.VerifyOnly(id, pid, epoch, tps)
	if err != nil {
		return produceErr(err)
	}
	return produceErr(per[0])
}

func produceErr(err error) error {
	switch err {
	case kerr.ProducerFenced:
		return kerr.InvalidProducerEpoch
	case kerr.TransactionAbortable:
		return kerr.InvalidTxnState
	}
	return err
}

// EndTxn commits or aborts the producer's transaction: the Prepare record is
// written, then the markers, then the Complete record. It returns the
// producer id and epoch the producer continues with: under tv2 (EndTxn v5+,
// KIP-890 part 2) the epoch is bumped by every EndTxn, and a new producer id
// replaces an exhausted epoch.
func (c *Coordinator) EndTxn(ctx context.Context, id string, pid int64, epoch int16, commit, tv2 bool) (int64, int16, error) {
	if id == "" {
		return noProducerID, noProducerEpoch, kerr.InvalidRequest
	}
	_, ids := c.deps()
	s, err := c.lockShard(id)
	if err != nil {
		return noProducerID, noProducerEpoch, err
	}
	n, rpid, repoch, err := s.endLocked(ctx, ids, id, pid, epoch, commit, tv2)
	s.mu.Unlock()
	if err != nil {
		return noProducerID, noProducerEpoch, err
	}
	if n == nil {
		return rpid, repoch, nil // a retry of an EndTxn that succeeded
	}
	if err := c.finish(ctx, s, id); err != nil {
		// The Prepare record is durable: the transaction will complete
		// (retried in the background, or after a reload), so the
		// producer is told it succeeded, as Kafka does.
		c.lg.Info("transaction markers not written yet; retrying in the background", "transactional_id", id, "err", err)
	}
	if n.nextPID != noProducerID {
		return n.nextPID, 0, nil
	}
	return n.pid, n.epoch, nil
}

func (s *shard) endLocked(ctx context.Context, ids ProducerIDs, id string, pid int64, epoch int16, commit, tv2 bool) (*meta, int64, int16, error) {
	m := s.txns[id]
	if m == nil {
		return nil, 0, 0, kerr.InvalidProducerIDMapping
	}
	isV2 := m.tv >= 2
	retryOnOverflow := isV2 && m.prevPID == pid && epoch == math.MaxInt16-1 && m.epoch == 0
	retryOnBump := isV2 && int32(m.epoch) == int32(epoch)+1
	var validEpoch bool
	if isV2 {
		switch m.state {
		case PrepareCommit, PrepareAbort:
			validEpoch = retryOnBump
		case CompleteCommit, CompleteAbort:
			validEpoch = retryOnBump || retryOnOverflow || epoch == m.epoch
		default:
			validEpoch = epoch == m.epoch
		}
	} else {
		validEpoch = epoch == m.epoch
	}
	isRetry := retryOnBump || retryOnOverflow
	var tv int16
	if tv2 {
		tv = 2
	}
	switch {
	case m.pid != pid && !retryOnOverflow:
		return nil, 0, 0, kerr.InvalidProducerIDMapping
	case !validEpoch:
		return nil, 0, 0, kerr.ProducerFenced
	}
	switch m.state {
	case Ongoing:
		n, err := s.prepareEnd(ctx, ids, m, commit, tv, false, false)
		return n, 0, 0, err
	case CompleteCommit, CompleteAbort:
		done := m.state == CompleteCommit
		switch {
		case commit == done && (isRetry || !tv2 || !isV2):
			return nil, m.pid, m.epoch, nil
		case !commit && tv2 && !isRetry:
			// KIP-890 part 2: aborting a transaction that added
			// nothing still bumps the epoch.
			n, err := s.prepareEnd(ctx, ids, m, false, tv, false, true)
			return n, 0, 0, err
		}
		return nil, 0, 0, kerr.InvalidTxnState
	case PrepareCommit, PrepareAbort:
		if commit == (m.state == PrepareCommit) {
			return nil, 0, 0, kerr.ConcurrentTransactions
		}
		return nil, 0, 0, kerr.InvalidTxnState
	case Empty:
		if !commit && tv2 {
			n, err := s.prepareEnd(ctx, ids, m, false, tv, false, true)
			return n, 0, 0, err
		}
		return nil, 0, 0, kerr.InvalidTxnState
	}
	return nil, 0, 0, kerr.ConcurrentTransactions
}

// prepareEnd writes the PrepareCommit or PrepareAbort record of m's
// transaction; s.mu is held. fence (InitProducerId of a new instance, or a
// timeout) bumps the epoch once so the old producer is fenced; tv 2 bumps it
// as KIP-890 part 2 does at the end of every transaction, moving to a new
// producer id (at completion) once the epoch is exhausted. empty is the
// TV2 abort of a transaction that added no partition.
func (s *shard) prepareEnd(ctx context.Context, ids ProducerIDs, m *meta, commit bool, tv int16, fence, empty bool) (*meta, error) {
	now := s.c.nowMs()
	n := m.clone()
	n.state, n.updateMs, n.tv = PrepareAbort, now, tv
	if commit {
		n.state = PrepareCommit
	}
	switch {
	case fence:
		if n.epoch < math.MaxInt16 {
			n.epoch++
		}
		n.lastEpoch, n.tv = noProducerEpoch, 0
	case tv >= 2:
		if epochExhausted(m.epoch) {
			if ids == nil {
				return nil, kerr.CoordinatorNotAvailable
			}
			pid, err := ids.NextProducerID(ctx)
			if err != nil {
				s.c.lg.Warn("cannot allocate a producer id", "err", err)
				return nil, kerr.CoordinatorNotAvailable
			}
			n.nextPID = pid
		}
		if m.epoch < math.MaxInt16 {
			n.epoch, n.lastEpoch = m.epoch+1, m.epoch
		}
	}
	if empty {
		n.startMs = now
		n.parts = map[TopicPartition]struct{}{}
	}
	if err := s.persist(ctx, n); err != nil {
		return nil, err
	}
	return n, nil
}

// Description is one transactional id as DescribeTransactions reports it.
type Description struct {
	State         State
	ProducerID    int64
	ProducerEpoch int16
	TimeoutMs     int32
	StartMs       int64
	Partitions    []TopicPartition
}

// Describe reports a transactional id; TRANSACTIONAL_ID_NOT_FOUND if this
// coordinator has none by that name.
func (c *Coordinator) Describe(id string) (Description, error) {
	if id == "" {
		return Description{}, kerr.InvalidRequest
	}
	s, err := c.lockShard(id)
	if err != nil {
		return Description{}, err
	}
	defer s.mu.Unlock()
	m := s.txns[id]
	if m == nil || m.state == Dead {
		return Description{}, kerr.TransactionalIDNotFound
	}
	return Description{State: m.state, ProducerID: m.pid, ProducerEpoch: m.epoch, TimeoutMs: m.timeoutMs,
		StartMs: m.startMs, Partitions: m.partitions()}, nil
}

// Listing is one transactional id as ListTransactions reports it.
type Listing struct {
	TransactionalID string
	ProducerID      int64
	State           State
}

// ListFilter selects transactions for List; zero values select all.
type ListFilter struct {
	States      []string
	ProducerIDs []int64
	// MinDurationMs (ListTransactions v1 DurationFilter): when >= 0, only
	// transactions running longer than this.
	MinDurationMs int64
	// IDPattern (v2): only ids it matches.
	IDPattern *regexp.Regexp
}

// List reports the transactional ids of every partition this coordinator
// leads, and the state filters it does not know.
func (c *Coordinator) List(f ListFilter) ([]Listing, []string, error) {
	states := map[State]bool{}
	var unknown []string
	for _, name := range f.States {
		if st, ok := ParseState(name); ok {
			states[st] = true
		} else {
			unknown = append(unknown, name)
		}
	}
	pids := map[int64]bool{}
	for _, p := range f.ProducerIDs {
		pids[p] = true
	}
	now := c.nowMs()
	var out []Listing
	for _, s := range c.allShards() {
		s.mu.Lock()
		if s.state == shardLoading {
			s.mu.Unlock()
			return nil, unknown, kerr.CoordinatorLoadInProgress
		}
		for _, m := range s.txns {
			switch {
			case m.state == Dead,
				len(f.ProducerIDs) > 0 && !pids[m.pid],
				len(f.States) > 0 && !states[m.state],
				f.MinDurationMs >= 0 && now-m.startMs <= f.MinDurationMs,
				f.IDPattern != nil && !f.IDPattern.MatchString(m.id):
				continue
			}
			out = append(out, Listing{TransactionalID: m.id, ProducerID: m.pid, State: m.state})
		}
		s.mu.Unlock()
	}
	sort.Slice(out, func(i, j int) bool { return out[i].TransactionalID < out[j].TransactionalID })
	return out, unknown, nil
}
