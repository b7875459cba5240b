package txn

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// errNoMarkers is returned while no marker writer is attached.
var errNoMarkers = errors.New("txn: no marker writer attached")

// finish writes the markers of id's Prepare* transaction and then its
// Complete* record. It holds no shard lock while markers are written. A
// failure leaves the transaction in its Prepare state; the marker retry
// timer (or the next load) tries again.
func (c *Coordinator) finish(ctx context.Context, s *shard, id string) error {
	markers, _ := c.deps()
	s.mu.Lock()
	if s.state != shardActive {
		s.mu.Unlock()
		return kerr.NotCoordinator
	}
	m := s.txns[id]
	if m == nil || (m.state != PrepareCommit && m.state != PrepareAbort) || m.finishing {
		s.mu.Unlock()
		return nil
	}
	if markers == nil {
		s.mu.Unlock()
		return errNoMarkers
	}
	m.finishing = true
	mk := Marker{ProducerID: m.pid, ProducerEpoch: m.epoch, Commit: m.state == PrepareCommit,
		CoordinatorEpoch: s.coordEpoch, TransactionVersion: int8(m.tv), Partitions: m.partitions()}
	s.mu.Unlock()

	var errs []error
	if len(mk.Partitions) > 0 {
		errs = markers.WriteMarkers(ctx, mk)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	m.finishing = false
	if s.state != shardActive || s.txns[id] != m {
		return kerr.NotCoordinator
	}
	var failed error
	for i, tp := range mk.Partitions {
		err := errors.New("no result from the marker writer")
		if i < len(errs) {
			err = errs[i]
		}
		switch {
		case err == nil:
			delete(m.parts, tp)
		case errors.Is(err, ErrPartitionGone):
			c.lg.Info("dropping a deleted partition from a transaction", "transactional_id", id, "topic", tp.Topic, "partition", tp.Partition)
			delete(m.parts, tp)
		case failed == nil:
			failed = fmt.Errorf("marker for %s-%d: %w", tp.Topic, tp.Partition, err)
		}
	}
	if failed != nil {
		return failed
	}
	return s.persist(ctx, s.complete(m))
}

// complete is the Complete* state after m's markers are written.
func (s *shard) complete(m *meta) *meta {
	n := m.clone()
	n.state = CompleteAbort
	if m.state == PrepareCommit {
		n.state = CompleteCommit
	}
	n.parts = map[TopicPartition]struct{}{}
	n.updateMs = s.c.nowMs()
	if m.tv >= 2 {
		n.lastEpoch = m.epoch
		if m.nextPID != noProducerID {
			// The epoch overflowed: continue with the new producer id.
			n.prevPID, n.pid, n.epoch, n.nextPID = m.pid, m.nextPID, 0, noProducerID
		}
	}
	return n
}

// CompletePending writes the markers of every transaction left in a Prepare
// state (a failed marker write, or a load). The retry timer calls it.
func (c *Coordinator) CompletePending(ctx context.Context) {
	for _, s := range c.allShards() {
		var ids []string
		s.mu.Lock()
		if s.state == shardActive {
			for id, m := range s.txns {
				if (m.state == PrepareCommit || m.state == PrepareAbort) && !m.finishing {
					ids = append(ids, id)
				}
			}
		}
		s.mu.Unlock()
		for _, id := range ids {
			if err := c.finish(ctx, s, id); err != nil {
				c.lg.Debug("transaction markers still pending", "transactional_id", id, "err", err)
			}
		}
	}
}

// AbortTimedOut aborts every ongoing transaction older than its timeout,
// bumping the producer's epoch so that the producer is fenced (Kafka's
// abortTimedOutTransactions). The abort timer calls it.
func (c *Coordinator) AbortTimedOut(ctx context.Context) {
	now := c.nowMs()
	_, ids := c.deps()
	for _, s := range c.allShards() {
		var aborted []string
		s.mu.Lock()
		if s.state == shardActive {
			for id, m := range s.txns {
				if m.state != Ongoing || m.finishing || m.startMs+int64(m.timeoutMs) >= now {
					continue
				}
				if _, err := s.prepareEnd(ctx, ids, m, false, 0, true, false); err != nil {
					c.lg.Warn("cannot abort a timed-out transaction", "transactional_id", id, "err", err)
					continue
				}
				c.lg.Info("aborting a transaction past its timeout", "transactional_id", id, "producer_id", m.pid,
					"producer_epoch", m.epoch, "timeout", time.Duration(m.timeoutMs)*time.Millisecond)
				aborted = append(aborted, id)
			}
		}
		s.mu.Unlock()
		for _, id := range aborted {
			if err := c.finish(ctx, s, id); err != nil {
				c.lg.Info("markers of a timed-out transaction not written yet", "transactional_id", id, "err", err)
			}
		}
	}
}

// ExpireIDs removes transactional ids without a transaction that have not
// been used for transactional.id.expiration.ms, writing a tombstone for
// each (Kafka's removeExpiredTransactionalIds). The expiry timer calls it.
func (c *Coordinator) ExpireIDs(ctx context.Context) {
	cutoff := c.nowMs() - c.cfg.Settings.IDExpiration.Milliseconds()
	for _, s := range c.allShards() {
		s.mu.Lock()
		if s.state != shardActive {
			s.mu.Unlock()
			continue
		}
		var ids []string
		var recs []Record
		for id, m := range s.txns {
			switch m.state {
			case Empty, CompleteCommit, CompleteAbort:
				if m.updateMs <= cutoff && !m.finishing {
					ids = append(ids, id)
					recs = append(recs, tombstone(id))
				}
			}
		}
		if len(recs) > 0 {
			if err := s.write(ctx, recs); err != nil {
				c.lg.Warn("cannot expire transactional ids", "partition", s.partition, "err", err)
			} else {
				for _, id := range ids {
					delete(s.txns, id)
				}
				c.lg.Info("expired idle transactional ids", "partition", s.partition, "count", len(ids))
			}
		}
		s.mu.Unlock()
	}
}
