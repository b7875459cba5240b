package node

import (
	"context"
	"sync"
	"time"

	"github.com/samsa-streaming/samsa/internal/broker"
	"github.com/samsa-streaming/samsa/internal/metadata"
)

// The partitions a coordinated group committed on but this broker does not
// host: their high watermark and log start are asked of their leaders at
// scrape time, one ListOffsets pair per leader broker (in parallel, within
// remoteLagTimeout; on failure the last answer is used), and the timestamp
// at a committed offset is fetched once (one batch from the leader) and
// kept while a group stays at that offset, at most remoteTimeFetches new
// ones per scrape. So a scrape costs O(brokers) requests plus the offsets
// committed since the last one, never a read per group.

const (
	remoteLagTimeout  = 3 * time.Second
	remoteTimeFetches = 200
)

type tpKey struct {
	topic     string
	partition int32
}

type tpOffset struct {
	tpKey
	offset int64
}

// remoteLag is the lag collector's view of partitions hosted elsewhere.
type remoteLag struct {
	peers *broker.PeerOffsets
	image func() *metadata.Image
	self  int32

	mu      sync.Mutex // one refresh at a time; guards the maps
	offsets map[tpKey]broker.PeerPartitionOffsets
	times   map[tpOffset]int64
}

func newRemoteLag(peers *broker.PeerOffsets, image func() *metadata.Image, self int32) *remoteLag {
	return &remoteLag{peers: peers, image: image, self: self, offsets: map[tpKey]broker.PeerPartitionOffsets{}, times: map[tpOffset]int64{}}
}

// refresh learns the offsets of need's partitions (each with the offsets
// committed on it) and the timestamps at those committed offsets.
func (r *remoteLag) refresh(need map[tpKey][]int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), remoteLagTimeout)
	defer cancel()
	img := r.image()
	leaderOf := func(k tpKey) (int32, [16]byte, bool) {
		t, ok := img.Topics[k.topic]
		if !ok {
			return -1, [16]byte{}, false
		}
		i := int(k.partition) // partitions are kept in index order
		if i < 0 || i >= len(t.Partitions) || t.Partitions[i].Index != k.partition {
			return -1, [16]byte{}, false
		}
		p := t.Partitions[i]
		return p.Leader, t.ID, p.Leader >= 0 && p.Leader != r.self
	}
	byLeader := map[int32]map[string][]int32{}
	for k := range need {
		if l, _, ok := leaderOf(k); ok {
			if byLeader[l] == nil {
				byLeader[l] = map[string][]int32{}
			}
			byLeader[l][k.topic] = append(byLeader[l][k.topic], k.partition)
		}
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for l, parts := range byLeader {
		wg.Go(func() {
			got, err := r.peers.ListOffsets(ctx, l, parts)
			if err != nil {
				return // the last answer stands
			}
			mu.Lock()
			defer mu.Unlock()
			for t, ps := range got {
				for p, o := range ps {
					r.offsets[tpKey{t, p}] = o
				}
			}
		})
	}
	wg.Wait()
	for k := range r.offsets {
		if _, ok := need[k]; !ok {
			delete(r.offsets, k)
		}
	}

	// Timestamps at the committed offsets not caught up.
	used := map[tpOffset]bool{}
	budget := remoteTimeFetches
	type fetch struct {
		key    tpOffset
		leader int32
		id     [16]byte
	}
	var todo []fetch
	for k, offs := range need {
		o, ok := r.offsets[k]
		if !ok {
			continue
		}
		for _, off := range offs {
			if off >= o.HighWatermark {
				continue
			}
			key := tpOffset{k, max(off, o.LogStart)}
			if used[key] {
				continue
			}
			used[key] = true
			if _, ok := r.times[key]; ok || budget == 0 {
				continue
			}
			if l, id, ok := leaderOf(k); ok {
				budget--
				todo = append(todo, fetch{key, l, id})
			}
		}
	}
	sem := make(chan struct{}, 8)
	for _, f := range todo {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			ts, err := r.peers.RecordTime(ctx, f.leader, f.key.topic, f.id, f.key.partition, f.key.offset)
			if err != nil {
				return
			}
			mu.Lock()
			r.times[f.key] = ts
			mu.Unlock()
		})
	}
	wg.Wait()
	for k := range r.times {
		if !used[k] {
			delete(r.times, k)
		}
	}
}

// lookup returns the last known offsets of k.
func (r *remoteLag) lookup(k tpKey) (broker.PeerPartitionOffsets, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	o, ok := r.offsets[k]
	return o, ok
}

// recordTime returns the timestamp at offset off of k, if fetched.
func (r *remoteLag) recordTime(k tpKey, off int64) (int64, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ts, ok := r.times[tpOffset{k, off}]
	return ts, ok
}
