package quota

import (
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// Clock tells the time; tests inject a fake one.
type Clock interface{ Now() time.Time }

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

// nanosToPercent turns handling time into request_percentage units:
// Kafka's ClientRequestQuotaManager.NanosToPercentagePerSecond, 100/1e9,
// so that a rate of 100 is one thread busy all the time.
const nanosToPercent = 100.0 / 1e9

// Manager measures clients against the quotas of its Store and says how
// long to throttle them. All methods are safe for concurrent use; the
// produce and fetch paths take one shard lock each.
type Manager struct {
	cfg        Config
	clock      Clock
	epoch      time.Time
	client     window // quota.window.*
	controller window // controller.quota.window.*
	store      atomic.Pointer[Store]
	sensors    *table

	connMu   sync.Mutex
	connRate rate // broker-wide accepts, when max.connection.creation.rate is set
}

// NewManager returns a Manager with an empty Store. A nil clock is the
// wall clock.
func NewManager(cfg Config, clock Clock) (*Manager, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if clock == nil {
		clock = wallClock{}
	}
	m := &Manager{
		cfg: cfg, clock: clock, epoch: clock.Now(),
		client: cfg.clientWindow(), controller: cfg.controllerWindow(),
		sensors: newTable(cfg.MaxSensors),
	}
	m.store.Store(&Store{})
	return m, nil
}

// SetStore installs new quotas (nil: none). Sensors stay: a client keeps
// its measured usage and is held to the new limit from its next request.
func (m *Manager) SetStore(s *Store) {
	if s == nil {
		s = &Store{}
	}
	m.store.Store(s)
}

// Store is the installed quotas.
func (m *Manager) Store() *Store { return m.store.Load() }

// now is milliseconds since the Manager started, read through the
// clock's monotonic reading when it has one.
func (m *Manager) now() int64 { return m.clock.Now().Sub(m.epoch).Milliseconds() }

func ms(t int64) time.Duration { return time.Duration(t) * time.Millisecond }

// record records v on the sensor the client resolves to for quota key k
// and returns the throttle in ms; check false records only.
func (m *Manager) record(kind uint8, k int, user, clientID string, v float64, check bool, capMs int64) int64 {
	limit, u, c, ok := m.store.Load().resolve(user, clientID, k)
	if !ok {
		return 0
	}
	now := m.now()
	sh, s := m.sensors.get(sensorKey{kind: kind, user: u, client: c}, now)
	defer sh.mu.Unlock()
	if !check {
		s.rate.record(m.client, v, now)
		return 0
	}
	return s.rate.recordAndThrottle(m.client, v, limit, now, capMs)
}

// RecordProduce records a produce request of bytes (its size on the
// wire) and returns how long to throttle the client (0: not at all),
// as Kafka's produce quota (producer_byte_rate). The time is not capped.
func (m *Manager) RecordProduce(user, clientID string, bytes int) time.Duration {
	return ms(m.record(kindProduce, keyProducer, user, clientID, float64(bytes), true, 0))
}

// RecordFetch records a consumer fetch response of bytes and returns the
// throttle (consumer_byte_rate). When it is > 0 Kafka answers with an
// empty fetch response and calls UnrecordFetch with the same bytes.
// Follower fetches are not recorded.
func (m *Manager) RecordFetch(user, clientID string, bytes int) time.Duration {
	return ms(m.record(kindFetch, keyConsumer, user, clientID, float64(bytes), true, 0))
}

// UnrecordFetch takes back a RecordFetch whose response was not sent.
func (m *Manager) UnrecordFetch(user, clientID string, bytes int) {
	m.record(kindFetch, keyConsumer, user, clientID, -float64(bytes), false, 0)
}

// MaxFetchBytes is the most a fetch response may hold for the client,
// consumer_byte_rate × (quota.window.num - 1) × quota.window.size.seconds
// (Kafka's maxValueInQuotaWindow, which caps the fetch's max bytes); ok
// is false when no quota applies.
func (m *Manager) MaxFetchBytes(user, clientID string) (n int64, ok bool) {
	limit, _, _, ok := m.store.Load().resolve(user, clientID, keyConsumer)
	if !ok {
		return math.MaxInt64, false
	}
	v := limit * float64(m.client.samples-1) * float64(m.client.sizeMs) / 1000
	return int64(math.Min(v, math.MaxInt64)), true
}

// RecordRequestTime records the time a request held a handler thread and
// returns the throttle (request_percentage), capped at one window
// (quota.window.size.seconds), as Kafka's ClientRequestQuotaManager.
// Requests Kafka exempts (inter-broker, and produce with acks=0) are not
// recorded.
func (m *Manager) RecordRequestTime(user, clientID string, d time.Duration) time.Duration {
	return ms(m.record(kindRequest, keyRequest, user, clientID, float64(d.Nanoseconds())*nanosToPercent, true, m.client.sizeMs))
}

// RecordNetworkTime records network-thread time of a request after its
// response went out, without throttling (Kafka's recordNoThrottle); it
// counts against the client's next request.
func (m *Manager) RecordNetworkTime(user, clientID string, d time.Duration) {
	m.record(kindRequest, keyRequest, user, clientID, float64(d.Nanoseconds())*nanosToPercent, false, 0)
}

// mutation runs a controller-mutation bucket operation.
func (m *Manager) mutation(user, clientID string, partitions int, strict bool) (time.Duration, bool) {
	limit, u, c, ok := m.store.Load().resolve(user, clientID, keyMutation)
	if !ok {
		return 0, true
	}
	now := m.now()
	sh, s := m.sensors.get(sensorKey{kind: kindMutation, user: u, client: c}, now)
	defer sh.mu.Unlock()
	if strict {
		t, ok := s.bucket.strict(m.controller, limit, float64(partitions), now)
		return ms(t), ok
	}
	return ms(s.bucket.permissive(m.controller, limit, float64(partitions), now)), true
}

// CheckMutation is the strict controller mutation quota (KIP-599) for one
// topic of a CreateTopics, DeleteTopics or CreatePartitions request of a
// version StrictMutations accepts: partitions is the topic's partitions
// created or deleted. ok false means the topic fails with
// THROTTLING_QUOTA_EXCEEDED and the response carries the throttle; a
// topic is refused only while the bucket is already below zero, so one
// topic may take it far below.
func (m *Manager) CheckMutation(user, clientID string, partitions int) (throttle time.Duration, ok bool) {
	return m.mutation(user, clientID, partitions, true)
}

// RecordMutation is the permissive quota of older versions: the topic is
// always accepted and the returned throttle goes in the response.
func (m *Manager) RecordMutation(user, clientID string, partitions int) time.Duration {
	t, _ := m.mutation(user, clientID, partitions, false)
	return t
}

// Expire drops the sensors unused for SensorExpiry and returns how many.
// Sensors also expire lazily as new ones are created.
func (m *Manager) Expire() int { return m.sensors.expireAll(m.now()) }

// Sensors is the number of sensors held.
func (m *Manager) Sensors() int { return m.sensors.len() }
