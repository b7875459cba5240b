package metrics

import (
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Broker is what the broker's request path records: traffic by topic,
// request times by API, and the busy time of request handling. A nil
// *Broker turns recording off.
type Broker struct {
	Topics   TopicCounters
	Requests Requests
	// Handler is time spent in request handlers, not counting the waits of
	// long-polling fetches and acks=all produces; Network is time spent
	// reading request bodies and writing responses.
	Handler, Network Busy
}

// TopicsOrNil is b.Topics, or nil when b is.
func (b *Broker) TopicsOrNil() *TopicCounters {
	if b == nil {
		return nil
	}
	return &b.Topics
}

// maxAPIKey bounds the API keys with request metrics.
const maxAPIKey = 127

// Requests is the total time of requests by API (Kafka's RequestMetrics
// TotalTimeMs, request="Produce", …), Fetch split into FetchConsumer and
// FetchFollower as Kafka does.
type Requests struct {
	byKey         [maxAPIKey + 1]atomic.Pointer[Latency]
	fetchFollower Latency
}

// Observe records the total time of one request of API key; follower says
// a Fetch came from a replica.
func (r *Requests) Observe(key int16, follower bool, d time.Duration) {
	if r == nil || key < 0 || key > maxAPIKey {
		return
	}
	if follower && key == int16(kmsg.Fetch) {
		r.fetchFollower.Observe(d)
		return
	}
	r.For(key).Observe(d)
}

// For is API key's latency, created on first use.
func (r *Requests) For(key int16) *Latency {
	p := &r.byKey[key]
	if l := p.Load(); l != nil {
		return l
	}
	p.CompareAndSwap(nil, new(Latency))
	return p.Load()
}

// Each calls fn for every API with requests, by Kafka's request name.
func (r *Requests) Each(fn func(name string, l *Latency)) {
	for k := range r.byKey {
		l := r.byKey[k].Load()
		if l == nil {
			continue
		}
		name := kmsg.NameForKey(int16(k))
		if k == int(kmsg.Fetch) {
			name = "FetchConsumer"
		}
		fn(name, l)
	}
	fn("FetchFollower", &r.fetchFollower)
}
