package broker

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/samsa-streaming/samsa/internal/metadata"
)

// Replication throttling, leader side (Kafka's leader.replication.throttled.rate
// with a topic's leader.replication.throttled.replicas): bytes read for
// throttled replicas count against a per-broker rate; while the last second
// is over it, replica fetches get no data for those partitions, so a
// reassignment cannot starve clients. Unthrottled partitions are never held
// back.

type replicaThrottle struct {
	mu     sync.Mutex
	window time.Time
	used   int64
}

// throttledRate is this broker's leader.replication.throttled.rate, or 0.
func throttledRate(img *metadata.Image, self int32) int64 {
	for _, cfg := range []map[string]string{img.BrokerConfigs[self], img.BrokerConfigs[metadata.ClusterDefault]} {
		if v, ok := cfg["leader.replication.throttled.rate"]; ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err == nil && n > 0 {
				return n
			}
		}
	}
	return 0
}

// throttledReplica reports whether the topic's throttled-replicas list
// ("*" or "partition:broker,...") names partition part on broker id.
func throttledReplica(list string, part, id int32) bool {
	list = strings.TrimSpace(list)
	if list == "" {
		return false
	}
	if list == "*" {
		return true
	}
	want := strconv.Itoa(int(part)) + ":" + strconv.Itoa(int(id))
	for e := range strings.SplitSeq(list, ",") {
		if strings.TrimSpace(e) == want {
			return true
		}
	}
	return false
}

// allow reports whether a throttled replica may read now.
func (t *replicaThrottle) allow(now time.Time, rate int64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if now.Sub(t.window) >= time.Second {
		t.window, t.used = now, 0
	}
	return t.used < rate
}

// record counts n bytes sent to a throttled replica.
func (t *replicaThrottle) record(now time.Time, n int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if now.Sub(t.window) >= time.Second {
		t.window, t.used = now, 0
	}
	t.used += n
}
