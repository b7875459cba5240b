package exporter

import (
	"context"
	"errors"
	"sync"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Time lag as a client: the timestamp of the record at a group's committed
// offset is learnt by fetching that offset once (a Fetch to the
// partition's leader for at most fetchBytes) and kept while some group is
// at that offset; a record's timestamp never changes, so the cache is exact
// and a scrape fetches only offsets newly committed since the last one, at
// most Config.MaxRecordFetches of them (the rest wait for the next
// scrape). The timestamp is the first record's of the batch holding the
// offset (the batch's log-append time on a LogAppendTime topic): batches
// are read whole, so the one returned starts at or before the offset.

// fetchBytes is the partition byte limit of a timestamp fetch; the first
// batch comes back whole even when larger.
const fetchBytes = 1 << 10

// offsetKey is one committed offset of one partition.
type offsetKey struct {
	topic     string
	partition int32
	offset    int64
}

// pendingTime is a group's partition whose time lag needs the timestamp at
// key.
type pendingTime struct {
	group string
	key   offsetKey
}

// learnTimes fetches the timestamps pending lacks, bounded by
// MaxRecordFetches, one request per leader at a time.
func (e *Exporter) learnTimes(ctx context.Context, pending []pendingTime, meta kadm.Metadata, failed func(string, error)) {
	byLeader := map[int32][]offsetKey{}
	seen := map[offsetKey]bool{}
	budget := e.cfg.MaxRecordFetches
	for _, p := range pending {
		if _, ok := e.times[p.key]; ok || seen[p.key] || budget <= 0 {
			continue
		}
		td, ok := meta.Topics[p.key.topic]
		if !ok {
			continue
		}
		pd, ok := td.Partitions[p.key.partition]
		if !ok || pd.Leader < 0 {
			continue
		}
		seen[p.key] = true
		budget--
		byLeader[pd.Leader] = append(byLeader[pd.Leader], p.key)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for leader, keys := range byLeader {
		wg.Go(func() {
			for _, k := range keys {
				ts, err := e.fetchTime(ctx, leader, meta.Topics[k.topic].ID, k)
				mu.Lock()
				if err != nil {
					failed("Fetch", err)
				} else {
					e.times[k] = ts
				}
				mu.Unlock()
				if ctx.Err() != nil {
					return
				}
			}
		})
	}
	wg.Wait()
}

var errNoBatch = errors.New("no record batch at the offset")

// fetchTime reads the batch holding k.offset from leader.
func (e *Exporter) fetchTime(ctx context.Context, leader int32, topicID [16]byte, k offsetKey) (int64, error) {
	req := kmsg.NewPtrFetchRequest()
	req.ReplicaID = -1
	req.MaxWaitMillis = 0
	req.MinBytes = 1
	req.MaxBytes = fetchBytes
	req.SessionEpoch = -1 // no fetch session
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic, rt.TopicID = k.topic, topicID // the version sent uses one of them
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.Partition = k.partition
	rp.FetchOffset = k.offset
	rp.PartitionMaxBytes = fetchBytes
	rp.CurrentLeaderEpoch = -1
	rp.LogStartOffset = -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, e.cfg.Client.Broker(int(leader)))
	if err != nil {
		return 0, err
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return 0, err
	}
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
				return 0, err
			}
			for b := p.RecordBatches; len(b) > 0; {
				var rb kmsg.RecordBatch
				if err := rb.ReadFrom(b); err != nil {
					break // a partial batch at the end
				}
				if rb.FirstOffset+int64(rb.LastOffsetDelta) >= k.offset && rb.Attributes&0x20 == 0 { // not a control batch
					if rb.Attributes&0x08 != 0 { // log-append time
						return rb.MaxTimestamp, nil
					}
					return rb.FirstTimestamp, nil
				}
				n := 12 + int(rb.Length)
				if n <= 12 || n > len(b) {
					break
				}
				b = b[n:]
			}
		}
	}
	return 0, errNoBatch
}
