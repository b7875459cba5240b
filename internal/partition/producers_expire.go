package partition

import "time"

// defaultProducerIDExpirationMs is Kafka's producer.id.expiration.ms default.
const defaultProducerIDExpirationMs = 86_400_000

// ExpireProducers forgets the idempotent producers of this partition that
// have no ongoing transaction and whose last batch timestamp is
// expirationMs (producer.id.expiration.ms; 0: Kafka's default) or more
// before now, as Kafka's periodic producer-expiration check does. A later
// batch from a forgotten id is accepted with any sequence number, as Kafka
// 4 accepts it (KIP-360). It returns how many ids it forgot.
func (p *Partition) ExpireProducers(now time.Time, expirationMs int64) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return 0
	}
	return p.expireProducersLocked(now, expirationMs)
}

func (p *Partition) expireProducersLocked(now time.Time, expirationMs int64) int {
	if expirationMs <= 0 {
		expirationMs = defaultProducerIDExpirationMs
	}
	n := p.producers.expire(now.UnixMilli(), expirationMs)
	if n > 0 {
		p.lg.Debug("expired producer ids", "count", n, "left", len(p.producers.entries))
	}
	return n
}

// lastStableLocked is the LSO: the first offset of the earliest ongoing
// transaction, capped at the high watermark and, as Kafka caps the first
// unstable offset, raised to the log start offset when DeleteRecords or
// retention moved the start past it. Callers hold p.mu or own the
// partition exclusively.
func (p *Partition) lastStableLocked() int64 {
	lso := p.hw.Load()
	if first := p.producers.firstOpenTxn(); first >= 0 && first < lso {
		lso = max(first, min(p.log.LogStartOffset(), lso))
	}
	return lso
}
