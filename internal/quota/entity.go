package quota

import (
	"math"
	"net/netip"
	"strconv"
	"strings"
)

// Quota keys (Kafka's QuotaConfig names).
const (
	ProducerByteRate       = "producer_byte_rate"
	ConsumerByteRate       = "consumer_byte_rate"
	RequestPercentage      = "request_percentage"
	ControllerMutationRate = "controller_mutation_rate"
	ConnectionCreationRate = "connection_creation_rate"
)

// Entity types (Kafka's ClientQuotaEntity constants).
const (
	TypeUser     = "user"
	TypeClientID = "client-id"
	TypeIP       = "ip"
)

// DefaultName is how Kafka's tools and ZooKeeper paths spell the default
// entity; on the wire the default is a null name.
const DefaultName = "<default>"

// key indexes of keyDefs.
const (
	keyProducer = iota
	keyConsumer
	keyRequest
	keyMutation
	keyConnection
	numKeys
)

// keyDefs is Kafka's quota ConfigDef: the type decides what Alter accepts
// (LONG and INT values must be integral and fit; DOUBLE is free); ip keys
// belong to ip entities, the others to user and client-id entities.
var keyDefs = [numKeys]struct {
	name string
	max  float64 // 0: DOUBLE, no bound
	kind string  // Kafka's type, for messages
	ip   bool
}{
	keyProducer:   {ProducerByteRate, math.MaxInt64, "a LONG", false},
	keyConsumer:   {ConsumerByteRate, math.MaxInt64, "a LONG", false},
	keyRequest:    {RequestPercentage, 0, "", false},
	keyMutation:   {ControllerMutationRate, 0, "", false},
	keyConnection: {ConnectionCreationRate, math.MaxInt32, "an INT", true},
}

// keyIndex is the index of a quota key, or -1.
func keyIndex(name string) int {
	for i := range keyDefs {
		if keyDefs[i].name == name {
			return i
		}
	}
	return -1
}

// Kind says whether an entity component is absent, the default, or named.
type Kind uint8

// Component kinds.
const (
	Absent Kind = iota
	Default
	Named
)

// Component is one entity type's part of an entity: absent, the default
// (<default>, a null name on the wire) or a name.
type Component struct {
	Kind Kind
	Name string // when Named
}

// Name is the named component.
func Name(name string) Component { return Component{Kind: Named, Name: name} }

// DefaultEntity is the <default> component.
func DefaultEntity() Component { return Component{Kind: Default} }

// wire is the component's name as the wire carries it: nil for the
// default.
func (c Component) wire() *string {
	if c.Kind != Named {
		return nil
	}
	name := c.Name
	return &name
}

// Entity is a client quota entity: user, client-id or user and client-id,
// or ip alone. It is comparable and used as a map key.
type Entity struct {
	User     Component
	ClientID Component
	IP       Component
}

// String is the entity as a ZooKeeper-era config path without /config/:
// users/<user>/clients/<client-id>, clients/<default>, ips/10.0.0.1.
// Names are path-escaped, so a user named "<default>" is users/%3Cdefault%3E.
// ParseEntity reads it back.
func (e Entity) String() string {
	var b strings.Builder
	add := func(typ string, c Component) {
		if c.Kind == Absent {
			return
		}
		if b.Len() > 0 {
			b.WriteByte('/')
		}
		b.WriteString(typ)
		b.WriteByte('/')
		if c.Kind == Default {
			b.WriteString(DefaultName)
		} else {
			b.WriteString(escapeName(c.Name))
		}
	}
	add("users", e.User)
	add("clients", e.ClientID)
	add("ips", e.IP)
	return b.String()
}

// components lists the entity's present components in wire order.
func (e Entity) components() []struct {
	typ string
	c   Component
} {
	all := []struct {
		typ string
		c   Component
	}{{TypeUser, e.User}, {TypeClientID, e.ClientID}, {TypeIP, e.IP}}
	out := all[:0]
	for _, x := range all {
		if x.c.Kind != Absent {
			out = append(out, x)
		}
	}
	return out
}

// component is the entity's component of an entity type.
func (e Entity) component(typ string) (Component, bool) {
	switch typ {
	case TypeUser:
		return e.User, true
	case TypeClientID:
		return e.ClientID, true
	case TypeIP:
		return e.IP, true
	}
	return Component{}, false
}

// set sets one component of the entity from a wire pair, refusing what
// Kafka's ClientQuotaControlManager.validateEntity refuses.
func (e *Entity) set(typ string, name *string) error {
	c := Component{Kind: Default}
	if name != nil {
		if *name == "" {
			return invalid("Empty " + typ + " not supported")
		}
		c = Name(*name)
	}
	var dst *Component
	switch typ {
	case TypeUser:
		dst = &e.User
	case TypeClientID:
		dst = &e.ClientID
	case TypeIP:
		dst = &e.IP
	default:
		return invalid("Unhandled client quota entity type: " + typ)
	}
	if dst.Kind != Absent {
		return invalid("Invalid client quota entity, duplicate entity entry " + typ)
	}
	*dst = c
	return nil
}

// validate checks the combination of entity types and the ip name:
// user, client-id, user and client-id, or ip alone; an ip is a literal
// address (Kafka also resolves host names; Samsa does no DNS here).
func (e Entity) validate() error {
	hasUser, hasClient, hasIP := e.User.Kind != Absent, e.ClientID.Kind != Absent, e.IP.Kind != Absent
	switch {
	case !hasUser && !hasClient && !hasIP:
		return invalid("Invalid empty client quota entity")
	case hasIP && (hasUser || hasClient):
		return invalid("Invalid quota entity combination, IP entity should not be combined with User or ClientId")
	case hasIP && e.IP.Kind == Named:
		if _, err := netip.ParseAddr(e.IP.Name); err != nil {
			return invalid(e.IP.Name + " is not a valid IP or resolvable host.")
		}
	}
	for _, c := range []Component{e.User, e.ClientID, e.IP} {
		if c.Kind == Named && c.Name == "" {
			return invalid("Empty entity name not supported")
		}
		if c.Kind > Named {
			return invalid("Invalid entity component kind")
		}
	}
	return nil
}

// validateValue checks a quota value for an entity, as Kafka's
// ClientQuotaControlManager.validateQuotaKeyValue: the key must belong to
// the entity's kind, the value be > 0, and LONG and INT keys integral and
// in range. Samsa also refuses NaN and infinities.
func (e Entity) validateValue(key string, v float64) error {
	k := keyIndex(key)
	if k < 0 || keyDefs[k].ip != (e.IP.Kind != Absent) {
		return invalid("Invalid configuration key " + key)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return invalid("Quota " + key + " must be a finite number")
	}
	if v <= 0 {
		return invalid("Quota " + key + " must be greater than 0")
	}
	d := keyDefs[k]
	if d.max == 0 {
		return nil
	}
	if v > d.max {
		return invalid("Proposed value for " + key + " is too large for " + d.kind + ".")
	}
	if math.Abs(math.Mod(v, 1)) > 1e-6 {
		return invalid(key + " cannot be a fractional value.")
	}
	return nil
}

// escapeName escapes '/', '%' and '<' (so no name reads as <default>)
// and anything outside printable ASCII.
func escapeName(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == '/' || c == '%' || c == '<' || c == '>' || c == ',' {
			b.WriteByte('%')
			b.WriteString(strings.ToUpper(strconv.FormatUint(uint64(c)|0x100, 16)[1:]))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// unescapeName undoes escapeName; ok is false for a malformed escape.
func unescapeName(s string) (string, bool) {
	if !strings.Contains(s, "%") {
		return s, true
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", false
		}
		n, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
		if err != nil {
			return "", false
		}
		b.WriteByte(byte(n))
		i += 2
	}
	return b.String(), true
}
