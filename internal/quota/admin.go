package quota

import (
	"maps"
	"slices"
	"strconv"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// DescribeClientQuotas match types.
const (
	MatchExact     int8 = 0 // the entity type with exactly this name
	MatchDefault   int8 = 1 // the entity type's <default>
	MatchSpecified int8 = 2 // the entity type present, with any name or <default>
)

// filter is a parsed DescribeClientQuotas filter.
type filter struct {
	exact     map[string]*string // type → name (nil: default)
	specified map[string]bool
	strict    bool
}

// parseFilter validates components as Kafka's ClientQuotasImage.describe.
func parseFilter(components []kmsg.DescribeClientQuotasRequestComponent, strict bool) (filter, error) {
	f := filter{exact: map[string]*string{}, specified: map[string]bool{}, strict: strict}
	for _, c := range components {
		t := c.EntityType
		if t == "" {
			return f, invalid("Invalid empty entity type.")
		}
		if _, ok := f.exact[t]; ok || f.specified[t] {
			return f, invalid("Entity type " + t + " cannot appear more than once in the filter.")
		}
		if t != TypeUser && t != TypeClientID && t != TypeIP {
			return f, &Error{Err: ErrUnsupportedEntityType, Message: "Unsupported entity type " + t}
		}
		switch int8(c.MatchType) {
		case MatchExact:
			if c.Match == nil {
				return f, invalid("Request specified MATCH_TYPE_EXACT, but set match string to null.")
			}
			f.exact[t] = c.Match
		case MatchDefault:
			if c.Match != nil {
				return f, invalid("Request specified MATCH_TYPE_DEFAULT, but also specified a match string.")
			}
			f.exact[t] = nil
		case MatchSpecified:
			if c.Match != nil {
				return f, invalid("Request specified MATCH_TYPE_SPECIFIED, but also specified a match string.")
			}
			f.specified[t] = true
		default:
			return f, invalid("Unknown match type " + strconv.Itoa(int(c.MatchType)))
		}
	}
	_, ip := f.exact[TypeIP]
	_, user := f.exact[TypeUser]
	_, client := f.exact[TypeClientID]
	if (ip || f.specified[TypeIP]) && (user || client || f.specified[TypeUser] || f.specified[TypeClientID]) {
		return f, invalid("Invalid entity filter component combination. IP filter component should not be used with user or clientId filter component.")
	}
	return f, nil
}

// matches is ClientQuotasImage.matches.
func (f filter) matches(e Entity) bool {
	if f.strict && len(e.components()) != len(f.exact)+len(f.specified) {
		return false
	}
	for t, name := range f.exact {
		c, _ := e.component(t)
		switch {
		case c.Kind == Absent:
			return false
		case name == nil && c.Kind != Default:
			return false
		case name != nil && (c.Kind != Named || c.Name != *name):
			return false
		}
	}
	for t := range f.specified {
		if c, _ := e.component(t); c.Kind == Absent {
			return false
		}
	}
	return true
}

// Describe answers DescribeClientQuotas: the entities matching every
// component (Kafka's semantics: EXACT is that name, DEFAULT the
// <default> entity, SPECIFIED any entity having that type, <default>
// included; strict also requires the entity to have no other type).
// Entries come in a deterministic order: by user, then client-id, then
// ip, absent before <default> before names; within an entry, entity
// types in the order user, client-id, ip, and values by key. An invalid
// filter is an *Error wrapping ErrInvalidRequest or
// ErrUnsupportedEntityType, for the whole response.
func (s *Store) Describe(components []kmsg.DescribeClientQuotasRequestComponent, strict bool) ([]kmsg.DescribeClientQuotasResponseEntry, error) {
	f, err := parseFilter(components, strict)
	if err != nil {
		return nil, err
	}
	var out []kmsg.DescribeClientQuotasResponseEntry
	if s == nil {
		return out, nil
	}
	for _, e := range s.sorted {
		if !f.matches(e) {
			continue
		}
		entry := kmsg.NewDescribeClientQuotasResponseEntry()
		for _, c := range e.components() {
			ent := kmsg.NewDescribeClientQuotasResponseEntryEntity()
			ent.Type, ent.Name = c.typ, c.c.wire()
			entry.Entity = append(entry.Entity, ent)
		}
		vals := s.entities[e]
		for _, k := range slices.Sorted(maps.Keys(vals)) {
			v := kmsg.NewDescribeClientQuotasResponseEntryValue()
			v.Key, v.Value = k, vals[k]
			entry.Values = append(entry.Values, v)
		}
		out = append(out, entry)
	}
	return out, nil
}

// EntityFromWire reads an AlterClientQuotas entity, validating it as
// Kafka's ClientQuotaControlManager does.
func EntityFromWire(entity []kmsg.AlterClientQuotasRequestEntryEntity) (Entity, error) {
	var e Entity
	for _, c := range entity {
		if err := e.set(c.Type, c.Name); err != nil {
			return Entity{}, err
		}
	}
	if err := e.validate(); err != nil {
		return Entity{}, err
	}
	return e, nil
}

// Alter applies AlterClientQuotas entries and returns the new Store and
// one result per entry (nil: applied). Entries that fail leave the
// entity as it was; the others apply together (Kafka's atomic batch of
// records). Per entry, as Kafka: the entity must be valid; a key may
// appear once; removing a key not set is no error and is not validated;
// set values are validated (see validateValue). An entity given twice in
// one request is refused the second time (Kafka answers per distinct
// entity). The receiver is unchanged; for validate_only, drop the Store.
func (s *Store) Alter(entries []kmsg.AlterClientQuotasRequestEntry) (*Store, []error) {
	m := map[Entity]map[string]float64{}
	if s != nil {
		maps.Copy(m, s.entities)
	}
	results := make([]error, len(entries))
	seen := map[Entity]bool{}
	for i, entry := range entries {
		e, err := EntityFromWire(entry.Entity)
		if err == nil && seen[e] {
			err = invalid("Ignoring duplicate entity " + e.String())
		}
		if err != nil {
			results[i] = err
			continue
		}
		seen[e] = true
		vals, err := alterEntity(e, m[e], entry.Ops)
		if err != nil {
			results[i] = err
			continue
		}
		if len(vals) == 0 {
			delete(m, e)
		} else {
			m[e] = vals
		}
	}
	return build(m), results
}

// alterEntity applies ops to a copy of cur.
func alterEntity(e Entity, cur map[string]float64, ops []kmsg.AlterClientQuotasRequestEntryOp) (map[string]float64, error) {
	keys := map[string]bool{}
	for _, op := range ops {
		if keys[op.Key] {
			return nil, invalid("Duplicate quota key " + op.Key + " not updating quota for this entity " + e.String())
		}
		keys[op.Key] = true
	}
	vals := maps.Clone(cur)
	if vals == nil {
		vals = map[string]float64{}
	}
	for _, op := range ops {
		if op.Remove {
			delete(vals, op.Key)
			continue
		}
		if err := e.validateValue(op.Key, op.Value); err != nil {
			return nil, err
		}
		vals[op.Key] = op.Value
	}
	return vals, nil
}
