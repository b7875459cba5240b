package share

import "sort"

// State returns what __share_group_state keeps of the partition: SPSO and
// the in-flight records as runs of equal state and delivery count.
// Acquired records are kept as AVAILABLE with their delivery count
// (acquisition locks do not survive a restart, as in Kafka).
func (p *Partition) State() (start int64, batches []StateBatch) {
	for i := range p.recs {
		r := &p.recs[i]
		st := r.state
		if st == Acquired {
			st = Available
		}
		off := p.start + int64(i)
		if k := len(batches) - 1; k >= 0 && batches[k].LastOffset == off-1 && batches[k].State == st && batches[k].DeliveryCount == r.deliveries {
			batches[k].LastOffset = off
			continue
		}
		batches = append(batches, StateBatch{FirstOffset: off, LastOffset: off, State: st, DeliveryCount: r.deliveries})
	}
	return p.start, batches
}

// RestorePartition rebuilds a share partition from its persisted state:
// offsets between the batches are available and never delivered; batches
// below start, or past MaxRecordLocks records in flight, are dropped.
func RestorePartition(cfg PartitionConfig, start int64, batches []StateBatch) *Partition {
	p := NewPartition(cfg, start)
	for _, b := range batches {
		for off := max(b.FirstOffset, p.start); off <= b.LastOffset; off++ {
			if off-p.start >= int64(cfg.MaxRecordLocks) {
				p.advance()
				return p
			}
			for p.End() < off {
				p.recs = append(p.recs, record{state: Available})
			}
			st := b.State
			if st == Acquired || (st != Acknowledged && st != Archived) {
				st = Available
			}
			if off < p.End() {
				p.recs[off-p.start] = record{state: st, deliveries: b.DeliveryCount}
				continue
			}
			p.recs = append(p.recs, record{state: st, deliveries: b.DeliveryCount})
		}
	}
	p.advance()
	return p
}

// MergeBatches overlays update on base (both sorted, non-overlapping):
// offsets update covers take its state; nothing below start is kept. It
// works on ranges, so a record naming a huge range costs no memory.
func MergeBatches(base, update []StateBatch, start int64) []StateBatch {
	var out []StateBatch
	clip := func(b StateBatch) {
		if b.LastOffset < start || b.FirstOffset > b.LastOffset {
			return
		}
		b.FirstOffset = max(b.FirstOffset, start)
		out = append(out, b)
	}
	for _, b := range base {
		for _, u := range update {
			if u.LastOffset < b.FirstOffset || u.FirstOffset > b.LastOffset {
				continue
			}
			if u.FirstOffset > b.FirstOffset {
				left := b
				left.LastOffset = u.FirstOffset - 1
				clip(left)
			}
			b.FirstOffset = u.LastOffset + 1
			if b.FirstOffset > b.LastOffset {
				break
			}
		}
		clip(b)
	}
	for _, u := range update {
		clip(u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].FirstOffset < out[j].FirstOffset })
	return out
}
