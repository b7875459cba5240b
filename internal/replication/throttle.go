package replication

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/samsa-streaming/samsa/internal/metadata"
)

// Follower-side replication throttling (Kafka's
// follower.replication.throttled.rate with a topic's
// follower.replication.throttled.replicas, set by a reassignment's
// --throttle): bytes fetched for throttled replicas count against a
// per-broker rate; over it, those partitions sit out fetches until the next
// second. Unthrottled partitions are never held back.

// Throttle meters bytes per second; the zero value is ready. The leader
// side (the broker's replica-fetch handler) uses one too.
type Throttle struct {
	mu     sync.Mutex
	window time.Time
	used   int64
}

// Allow reports whether more bytes may go out this second.
func (t *Throttle) Allow(now time.Time, rate int64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if now.Sub(t.window) >= time.Second {
		t.window, t.used = now, 0
	}
	return t.used < rate
}

// Record counts n bytes sent.
func (t *Throttle) Record(now time.Time, n int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if now.Sub(t.window) >= time.Second {
		t.window, t.used = now, 0
	}
	t.used += n
}

// ThrottleRate is this broker's dynamic setting name
// (leader.replication.throttled.rate or follower.replication.throttled.rate)
// as bytes/s, or 0 when unset.
func ThrottleRate(img *metadata.Image, self int32, name string) int64 {
	for _, cfg := range []map[string]string{img.BrokerConfigs[self], img.BrokerConfigs[metadata.ClusterDefault]} {
		if v, ok := cfg[name]; ok {
			if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil && n > 0 {
				return n
			}
		}
	}
	return 0
}

// ThrottledReplica reports whether a throttled-replicas list ("*" or
// "partition:broker,...") names partition part on broker id.
func ThrottledReplica(list string, part, id int32) bool {
	list = strings.TrimSpace(list)
	switch list {
	case "":
		return false
	case "*":
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
