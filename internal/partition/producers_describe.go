package partition

import "sort"

// ProducerInfo is one idempotent or transactional producer this partition
// has state for, as DescribeProducers reports it.
type ProducerInfo struct {
	ProducerID    int64
	ProducerEpoch int16
	// LastSequence is the last sequence number appended, or -1 when no
	// batch of this epoch is cached (e.g. only a transaction marker).
	LastSequence  int32
	LastTimestamp int64
	// CurrentTxnStartOffset is the first offset of the producer's ongoing
	// transaction, or -1.
	CurrentTxnStartOffset int64
}

// Producers returns the producers with state in this partition, ordered by
// producer id.
func (p *Partition) Producers() []ProducerInfo {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.producers == nil {
		return nil
	}
	out := make([]ProducerInfo, 0, len(p.producers.entries))
	for pid, e := range p.producers.entries {
		info := ProducerInfo{
			ProducerID:            pid,
			ProducerEpoch:         e.Epoch,
			LastSequence:          -1,
			LastTimestamp:         e.LastTimestamp,
			CurrentTxnStartOffset: e.TxnFirstOffset,
		}
		if n := len(e.Batches); n > 0 {
			info.LastSequence = e.Batches[n-1].LastSeq
		}
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ProducerID < out[j].ProducerID })
	return out
}
