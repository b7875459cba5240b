package quota

import (
	"cmp"
	"maps"
	"net/netip"
	"net/url"
	"slices"
)

// Store is an immutable snapshot of the configured client quotas: for
// each entity, its values by key. Changes (Alter) return a new Store and
// leave the old one as it was, so readers never lock. A nil *Store is
// empty.
type Store struct {
	entities map[Entity]map[string]float64
	sorted   []Entity // deterministic order for Describe
	// byKey indexes user/client-id entities per key and resolution level.
	byKey  [numKeys]levelIndex
	ips    map[netip.Addr]float64 // connection_creation_rate by address
	ipDef  float64                // of ips/<default>, when hasDef
	hasDef bool
}

// NewStore builds a Store from quotas by entity, validating each entity
// and value as AlterClientQuotas does. Entities with no values are left
// out; quotas is copied.
func NewStore(quotas map[Entity]map[string]float64) (*Store, error) {
	m := make(map[Entity]map[string]float64, len(quotas))
	for e, vals := range quotas {
		if err := e.validate(); err != nil {
			return nil, err
		}
		for k, v := range vals {
			if err := e.validateValue(k, v); err != nil {
				return nil, err
			}
		}
		if len(vals) > 0 {
			m[e] = maps.Clone(vals)
		}
	}
	return build(m), nil
}

// build indexes m, which the Store then owns. Entities are indexed in
// Describe order, so that of two ip names for one address (10.0.0.1 and
// ::ffff:10.0.0.1) the later always wins.
func build(m map[Entity]map[string]float64) *Store {
	s := &Store{entities: m, ips: map[netip.Addr]float64{}}
	s.sorted = slices.SortedFunc(maps.Keys(m), compareEntities)
	for _, e := range s.sorted {
		vals := m[e]
		if e.IP.Kind != Absent {
			s.indexIP(e, vals)
			continue
		}
		for k, v := range vals {
			s.byKey[keyIndex(k)].add(e, v)
		}
	}
	return s
}

func (s *Store) indexIP(e Entity, vals map[string]float64) {
	v, ok := vals[ConnectionCreationRate]
	if !ok {
		return
	}
	if e.IP.Kind == Default {
		s.ipDef, s.hasDef = v, true
		return
	}
	if a, err := netip.ParseAddr(e.IP.Name); err == nil {
		s.ips[a.Unmap().WithZone("")] = v
	}
}

// level is a user/client-id entity's place in Kafka's resolution order:
//
//	1 /config/users/<user>/clients/<client-id>
//	2 /config/users/<user>/clients/<default>
//	3 /config/users/<user>
//	4 /config/users/<default>/clients/<client-id>
//	5 /config/users/<default>/clients/<default>
//	6 /config/users/<default>
//	7 /config/clients/<client-id>
//	8 /config/clients/<default>
func level(e Entity) int {
	base := 7
	switch e.User.Kind {
	case Named:
		base = 1
	case Default:
		base = 4
	}
	switch e.ClientID.Kind {
	case Named:
		return base
	case Default:
		return base + 1
	}
	return base + 2
}

func compareComponents(a, b Component) int {
	if c := cmp.Compare(a.Kind, b.Kind); c != 0 {
		return c
	}
	return cmp.Compare(a.Name, b.Name)
}

// compareEntities orders by user, then client-id, then ip; within a
// type absent < <default> < names in byte order.
func compareEntities(a, b Entity) int {
	if c := compareComponents(a.User, b.User); c != 0 {
		return c
	}
	if c := compareComponents(a.ClientID, b.ClientID); c != 0 {
		return c
	}
	return compareComponents(a.IP, b.IP)
}

// Len is the number of entities with quotas.
func (s *Store) Len() int {
	if s == nil {
		return 0
	}
	return len(s.entities)
}

// Quotas returns a copy of an entity's values (nil if it has none).
func (s *Store) Quotas(e Entity) map[string]float64 {
	if s == nil {
		return nil
	}
	return maps.Clone(s.entities[e])
}

// Entities returns a copy of every entity's values.
func (s *Store) Entities() map[Entity]map[string]float64 {
	out := map[Entity]map[string]float64{}
	if s == nil {
		return out
	}
	for e, v := range s.entities {
		out[e] = maps.Clone(v)
	}
	return out
}

// Resolve finds the quota on key that applies to a client (user is the
// principal's name), as Kafka's ClientQuotaManager with the default
// callback. sensorKey names the sensor the client's usage is measured
// by: clients resolving to the same key share one rate (all client-ids
// of a user whose quota comes from /config/users/<user>; the user is no
// part of it when the quota comes from /config/clients/...). ok is false
// when no quota applies (Kafka: unlimited).
func (s *Store) Resolve(user, clientID, key string) (limit float64, sensorKey string, ok bool) {
	k := keyIndex(key)
	if k < 0 || k == keyConnection {
		return 0, "", false
	}
	limit, u, c, ok := s.resolve(user, clientID, k)
	if !ok {
		return 0, "", false
	}
	return limit, "user=" + url.QueryEscape(u) + ",client-id=" + url.QueryEscape(c), true
}

// has returns key k's value on the entity of level lvl built from user
// and client, if set.
func (s *Store) has(k, lvl int, user, client string) (float64, bool) {
	return s.byKey[k].get(lvl, user, client)
}

// resolve is Kafka's DefaultQuotaCallback in its two steps:
// quotaMetricTags walks levels 1 to 6 to name the sensor (userTag,
// clientTag), then quotaLimit looks the value up from those tags. For
// non-empty names this is the first level that has the key; an empty
// user or client-id takes Kafka's path exactly (an empty client-id never
// matches users/<user>/clients/<default>, for one).
func (s *Store) resolve(user, client string, k int) (limit float64, u, c string, ok bool) {
	if s == nil || s.byKey[k].mask == 0 {
		return 0, "", "", false
	}
	if user != "" && client != "" {
		// Both steps agree here: the limit is the first level that has
		// the key.
		for lvl := 1; lvl <= 8; lvl++ {
			if v, ok := s.has(k, lvl, user, client); ok {
				u, c = tagsOf(lvl, user, client)
				return v, u, c, true
			}
		}
		return 0, "", "", false
	}
	u, c = s.tags(user, client, k)
	limit, ok = s.limit(u, c, k)
	return limit, u, c, ok
}

// tagsOf is the sensor's (user, client-id) tags for a level.
func tagsOf(lvl int, user, client string) (string, string) {
	switch lvl {
	case 3, 6:
		return user, ""
	case 7, 8:
		return "", client
	}
	return user, client
}

// tags is quotaMetricTags.
func (s *Store) tags(user, client string, k int) (string, string) {
	for lvl := 1; lvl <= 6; lvl++ {
		if _, ok := s.has(k, lvl, user, client); ok {
			return tagsOf(lvl, user, client)
		}
	}
	return "", client
}

// limit is quotaLimit: which levels apply depends on which tags are set.
func (s *Store) limit(u, c string, k int) (float64, bool) {
	var order []int
	switch {
	case u != "" && c != "":
		order = []int{1, 2, 4, 5}
	case u != "":
		order = []int{3, 6}
	case c != "":
		order = []int{7, 8}
	}
	for _, lvl := range order {
		if v, ok := s.has(k, lvl, u, c); ok {
			return v, true
		}
	}
	return 0, false
}

// ipRate is the connection_creation_rate for an address: its own, else
// ips/<default>'s.
func (s *Store) ipRate(ip netip.Addr) (float64, bool) {
	if s == nil {
		return 0, false
	}
	if v, ok := s.ips[ip.Unmap().WithZone("")]; ok {
		return v, true
	}
	return s.ipDef, s.hasDef
}

// levelIndex holds one key's values on user/client-id entities by
// resolution level, so that a lookup hashes at most the names it needs;
// mask has bit L-1 set when level L has an entity.
type levelIndex struct {
	mask  uint8
	pair  map[[2]string]float64 // level 1, by (user, client-id)
	names [9]map[string]float64 // levels 2 and 3 by user, 4 and 7 by client-id
	fixed [9]float64            // levels 5, 6 and 8
}

func (x *levelIndex) add(e Entity, v float64) {
	lvl := level(e)
	x.mask |= 1 << (lvl - 1)
	switch lvl {
	case 1:
		if x.pair == nil {
			x.pair = map[[2]string]float64{}
		}
		x.pair[[2]string{e.User.Name, e.ClientID.Name}] = v
	case 2, 3, 4, 7:
		if x.names[lvl] == nil {
			x.names[lvl] = map[string]float64{}
		}
		name := e.User.Name
		if lvl >= 4 {
			name = e.ClientID.Name
		}
		x.names[lvl][name] = v
	default:
		x.fixed[lvl] = v
	}
}

func (x *levelIndex) get(lvl int, user, client string) (float64, bool) {
	if x.mask&(1<<(lvl-1)) == 0 {
		return 0, false
	}
	switch lvl {
	case 1:
		v, ok := x.pair[[2]string{user, client}]
		return v, ok
	case 2, 3:
		v, ok := x.names[lvl][user]
		return v, ok
	case 4, 7:
		v, ok := x.names[lvl][client]
		return v, ok
	}
	return x.fixed[lvl], true
}
