package quota

import (
	"hash/maphash"
	"sync"
)

// Sensor kinds: one rate or bucket per kind and resolved entity.
const (
	kindProduce uint8 = iota
	kindFetch
	kindRequest
	kindMutation
	kindConnection
)

// sensorKey names a sensor: Kafka's (quota type, user tag, client-id
// tag); a connection-rate sensor has the address as user.
type sensorKey struct {
	kind         uint8
	user, client string
}

// sensor is one measured entity. It sits in its shard's map and in the
// shard's LRU ring (most recent after the ring's head).
type sensor struct {
	key        sensorKey
	rate       rate
	bucket     bucket
	used       int64 // ms of the last recording
	prev, next *sensor
}

// shard is a lock, its sensors and their LRU ring.
type shard struct {
	mu   sync.Mutex
	m    map[sensorKey]*sensor
	ring sensor // sentinel: ring.next is the most recent, ring.prev the least
	max  int
}

// table is the sensors, sharded by key hash so that concurrent requests
// of different clients seldom share a lock. A table of fewer than
// 16×1024 sensors has one shard, so that its LRU order is exact; a
// larger one has 16, each holding a sixteenth, and evicts its own least
// recently used.
type table struct {
	seed   maphash.Seed
	shards []shard
}

func newTable(maxSensors int) *table {
	n := 1
	if maxSensors >= 16*1024 {
		n = 16
	}
	t := &table{seed: maphash.MakeSeed(), shards: make([]shard, n)}
	for i := range t.shards {
		sh := &t.shards[i]
		sh.m = map[sensorKey]*sensor{}
		sh.ring.next, sh.ring.prev = &sh.ring, &sh.ring
		sh.max = (maxSensors + n - 1) / n
	}
	return t
}

// get returns the sensor of k, created if need be, with its shard locked;
// the caller unlocks. It marks the sensor used at now and, when it
// creates one, first drops expired sensors and, if the shard is full,
// its least recently used.
func (t *table) get(k sensorKey, now int64) (*shard, *sensor) {
	sh := &t.shards[0]
	if len(t.shards) > 1 {
		sh = &t.shards[maphash.Comparable(t.seed, k)%uint64(len(t.shards))]
	}
	sh.mu.Lock()
	s := sh.m[k]
	if s == nil {
		sh.expire(now, 2)
		if len(sh.m) >= sh.max {
			sh.remove(sh.ring.prev)
		}
		s = &sensor{key: k}
		sh.m[k] = s
	} else {
		s.prev.next, s.next.prev = s.next, s.prev
	}
	s.used = now
	s.next, s.prev = sh.ring.next, &sh.ring
	sh.ring.next.prev = s
	sh.ring.next = s
	return sh, s
}

func (sh *shard) remove(s *sensor) {
	s.prev.next, s.next.prev = s.next, s.prev
	delete(sh.m, s.key)
}

// expire drops up to limit (all if limit < 0) sensors unused for
// SensorExpiry, least recent first, and returns how many.
func (sh *shard) expire(now int64, limit int) int {
	n := 0
	for s := sh.ring.prev; s != &sh.ring && n != limit; s = sh.ring.prev {
		if now-s.used < SensorExpiry.Milliseconds() {
			break
		}
		sh.remove(s)
		n++
	}
	return n
}

// expireAll drops every expired sensor.
func (t *table) expireAll(now int64) int {
	n := 0
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		n += sh.expire(now, -1)
		sh.mu.Unlock()
	}
	return n
}

// len counts the sensors.
func (t *table) len() int {
	n := 0
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}

// peek reports whether k has a sensor, without touching it.
func (t *table) peek(k sensorKey) bool {
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		_, ok := sh.m[k]
		sh.mu.Unlock()
		if ok {
			return true
		}
	}
	return false
}
