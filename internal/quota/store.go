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
	// byKey indexes user/client-id entities per key; levels has bit L-1
	// set when some entity of resolution level L has the key, so Resolve
	// looks only where something is.
	byKey  [numKeys]map[Entity]float64
	levels [numKeys]uint8
	ips    map[netip.Addr]float64 // connection_creation_rate by address
	ipDef  float64                // of ips/<default>, when hasIPDef
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

// build indexes m, which the Store then owns.
func build(m map[Entity]map[string]float64) *Store {
	s := &Store{entities: m, ips: map[netip.Addr]float64{}}
	for e, vals := range m {
		s.sorted = append(s.sorted, e)
		if e.IP.Kind != Absent {
			s.indexIP(e, vals)
			continue
		}
		lvl := level(e)
		for k, v := range vals {
			i := keyIndex(k)
			if s.byKey[i] == nil {
				s.byKey[i] = map[Entity]float64{}
			}
			s.byKey[i][e] = v
			s.levels[i] |= 1 << (lvl - 1)
		}
	}
	slices.SortFunc(s.sorted, compareEntities)
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

// has reports whether key k is set on the entity of level lvl built from
// user and client.
func (s *Store) has(k, lvl int, user, client string) (float64, bool) {
	if s.levels[k]&(1<<(lvl-1)) == 0 {
		return 0, false
	}
	var e Entity
	switch lvl {
	case 1, 2, 3:
		e.User = Name(user)
	case 4, 5, 6:
		e.User = DefaultEntity()
	}
	switch lvl {
	case 1, 4, 7:
		e.ClientID = Name(client)
	case 2, 5, 8:
		e.ClientID = DefaultEntity()
	}
	v, ok := s.byKey[k][e]
	return v, ok
}

// resolve is Kafka's DefaultQuotaCallback in its two steps:
// quotaMetricTags walks levels 1 to 6 to name the sensor (userTag,
// clientTag), then quotaLimit looks the value up from those tags. For
// non-empty names this is the first level that has the key; an empty
// user or client-id takes Kafka's path exactly (an empty client-id never
// matches users/<user>/clients/<default>, for one).
func (s *Store) resolve(user, client string, k int) (limit float64, u, c string, ok bool) {
	if s == nil || s.levels[k] == 0 {
		return 0, "", "", false
	}
	u, c = s.tags(user, client, k)
	limit, ok = s.limit(u, c, k)
	return limit, u, c, ok
}

// tags is quotaMetricTags.
func (s *Store) tags(user, client string, k int) (string, string) {
	for lvl := 1; lvl <= 6; lvl++ {
		if _, ok := s.has(k, lvl, user, client); ok {
			if lvl == 3 || lvl == 6 {
				return user, ""
			}
			return user, client
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
