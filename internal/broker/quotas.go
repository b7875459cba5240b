package broker

import (
	"context"
	"net/netip"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/log"
	"github.com/samsa-streaming/samsa/internal/metadata"
	"github.com/samsa-streaming/samsa/internal/quota"
)

// Client quotas (internal/quota): the quotas in the metadata image
// (ClientQuota records, altered through AlterClientQuotas) measured per
// request. A throttled response carries throttle_time_ms and the
// connection reads nothing more until the throttle has passed (Kafka's
// muted channel).

// quotas holds the manager and which image quota map its store was built
// from.
type quotas struct {
	m *quota.Manager

	mu   sync.Mutex
	from uintptr
	set  bool
}

// quotaManager returns the manager with the store of the image's quotas.
func (b *Broker) quotaManager() *quota.Manager {
	q := b.quotas
	if q == nil {
		return nil // a broker assembled without New (tests)
	}
	img := b.image()
	id := reflect.ValueOf(img.Quotas).Pointer()
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.set && q.from == id {
		return q.m
	}
	s, err := quota.NewStore(storeQuotas(img))
	if err != nil {
		b.lg.Error("client quotas in the metadata image do not build; keeping the previous ones", "err", err)
	} else {
		q.m.SetStore(s)
	}
	q.from, q.set = id, true
	return q.m
}

// storeQuotas converts the image's quotas to internal/quota's entities.
func storeQuotas(img *metadata.Image) map[quota.Entity]map[string]float64 {
	out := make(map[quota.Entity]map[string]float64, len(img.Quotas))
	for _, qc := range img.Quotas {
		out[entityOf(qc.Entity)] = qc.Values
	}
	return out
}

func entityOf(es []metadata.QuotaEntity) quota.Entity {
	var e quota.Entity
	for _, c := range es {
		comp := quota.DefaultEntity()
		if c.Name != nil {
			comp = quota.Name(*c.Name)
		}
		switch c.Type {
		case quota.TypeUser:
			e.User = comp
		case quota.TypeClientID:
			e.ClientID = comp
		case quota.TypeIP:
			e.IP = comp
		}
	}
	return e
}

// quotaUser is the user entity of the connection's principal (its name,
// as Kafka's quota callback takes the sanitized principal name).
func (c *conn) quotaUser() string {
	_, name, _ := strings.Cut(c.principal, ":")
	return name
}

// throttle raises the connection's pending mute to d and returns the
// throttle_time_ms to answer.
func (c *conn) throttle(d time.Duration) int32 {
	if d > c.mute {
		c.mute = d
	}
	return quota.ThrottleTimeMs(c.mute)
}

// recordRequest measures one request handled in took: its bytes against
// producer_byte_rate (Produce) and its time against request_percentage,
// setting the response's throttle. Follower fetches and the inter-broker
// listener are exempt, as Kafka exempts ClusterAction requests.
func (c *conn) recordRequest(r *request, frameLen int, took time.Duration, resp kmsg.Response) {
	m := c.b.quotaManager()
	if c.l.InterBroker || m == nil {
		return
	}
	user, client := c.quotaUser(), r.hdr.ClientID
	var d time.Duration
	if r.hdr.Key == int16(kmsg.Produce) {
		d = m.RecordProduce(user, client, frameLen)
	}
	d = max(d, m.RecordRequestTime(user, client, took))
	if d <= 0 && c.mute <= 0 {
		return
	}
	ms := c.throttle(d)
	if tr, ok := resp.(throttledResponse); ok {
		if cur, _ := tr.Throttle(); cur < ms {
			tr.SetThrottle(ms)
		}
	}
}

// throttledResponse is a kmsg response with a throttle_time_ms field.
type throttledResponse interface {
	Throttle() (int32, bool)
	SetThrottle(int32)
}

// waitMute holds the connection's next read until its throttle has passed
// (or the broker stops).
func (c *conn) waitMute(ctx context.Context) {
	d := c.mute
	c.mute = 0
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// recordFetch measures a consumer's fetch response (its record bytes)
// against consumer_byte_rate and sets its throttle.
func (c *conn) recordFetch(resp *kmsg.FetchResponse, chunks [][]log.Chunk) {
	m := c.b.quotaManager()
	if c.l.InterBroker || m == nil {
		return
	}
	var n int
	for _, cs := range chunks {
		for _, ch := range cs {
			n += int(ch.Len)
		}
	}
	if d := m.RecordFetch(c.quotaUser(), c.clientID, n); d > 0 {
		resp.ThrottleMillis = max(resp.ThrottleMillis, c.throttle(d))
	}
}

// admitRate applies the connection creation rates: the acceptor waits what
// max.connection.creation.rate asks; a connection from an address over its
// connection_creation_rate quota is refused (closed at once; Kafka delays
// the close by the throttle).
func (b *Broker) admitRate(ctx context.Context, ip string) bool {
	m := b.quotaManager()
	if m == nil {
		return true
	}
	if d := m.ConnectionDelay(); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return true
	}
	if _, ok := m.AdmitConnection(addr); !ok {
		b.connMu.Lock()
		b.logRefusalLocked(ip, "connection_creation_rate")
		b.connMu.Unlock()
		return false
	}
	return true
}

// errMutationQuota fails one topic of a CreateTopics, DeleteTopics or
// CreatePartitions over the client's controller_mutation_rate.
var errMutationQuota = newTopicError(kerr.ThrottlingQuotaExceeded, "The throttling quota has been exceeded.")

// mutationAllowed applies controller_mutation_rate (KIP-599) to one topic
// of a CreateTopics, DeleteTopics or CreatePartitions creating or deleting
// partitions: the strict versions refuse the topic while the client's
// bucket is below zero, older ones only throttle. The throttle goes into
// the response (recordRequest) and mutes the connection.
func (c *conn) mutationAllowed(r *request, partitions int) bool {
	m := c.b.quotaManager()
	if m == nil || c.l.InterBroker || partitions <= 0 {
		return true
	}
	user := c.quotaUser()
	if quota.StrictMutations(r.hdr.Key, r.hdr.Version) {
		d, ok := m.CheckMutation(user, r.hdr.ClientID, partitions)
		c.throttle(d)
		return ok
	}
	c.throttle(m.RecordMutation(user, r.hdr.ClientID, partitions))
	return true
}
