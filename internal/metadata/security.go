package metadata

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
)

// Security state in the metadata log, as KRaft keeps it: SCRAM credentials
// (UserScramCredentialRecord), ACLs (AccessControlEntryRecord) and client
// quotas (ClientQuotaRecord). The controller validates requests before it
// proposes these; Apply checks what keeps the image consistent.

// Record types of the security state (see RecordType).
const (
	TypeUpsertScram RecordType = 13
	TypeRemoveScram RecordType = 14
	TypeCreateACL   RecordType = 15
	TypeRemoveACL   RecordType = 16
	TypeClientQuota RecordType = 17
)

// Errors of the security records.
var (
	ErrInvalidScram = errors.New("metadata: invalid SCRAM credential")
	ErrUnknownScram = errors.New("metadata: no such SCRAM credential")
	ErrInvalidACL   = errors.New("metadata: invalid ACL")
	ErrUnknownACL   = errors.New("metadata: no such ACL")
	ErrInvalidQuota = errors.New("metadata: invalid client quota")
)

// securityTypeNames names the security record types (RecordType.String).
var securityTypeNames = map[RecordType]string{
	TypeUpsertScram: "UpsertScram", TypeRemoveScram: "RemoveScram",
	TypeCreateACL: "CreateACL", TypeRemoveACL: "RemoveACL", TypeClientQuota: "ClientQuota",
}

// SCRAM mechanisms and Kafka's iteration bounds.
const (
	ScramSHA256        = "SCRAM-SHA-256"
	ScramSHA512        = "SCRAM-SHA-512"
	ScramMinIterations = 4096
	ScramMaxIterations = 16384
)

// ScramCredential is one user's credential for one mechanism: the salted
// form of RFC 5802, never the password.
type ScramCredential struct {
	Salt       []byte `json:"salt"`
	StoredKey  []byte `json:"stored_key"`
	ServerKey  []byte `json:"server_key"`
	Iterations int32  `json:"iterations"`
}

// UpsertScram sets a user's credential for a mechanism.
type UpsertScram struct {
	User      string `json:"user"`
	Mechanism string `json:"mechanism"`
	ScramCredential
}

// RemoveScram deletes a user's credential for a mechanism.
type RemoveScram struct {
	User      string `json:"user"`
	Mechanism string `json:"mechanism"`
}

// ACL is one access control entry; the numeric fields hold Kafka's wire
// values (resource type, pattern type, operation, permission).
type ACL struct {
	ID           Uuid   `json:"id"`
	ResourceType int8   `json:"resource_type"`
	ResourceName string `json:"resource_name"`
	PatternType  int8   `json:"pattern_type"`
	Principal    string `json:"principal"`
	Host         string `json:"host"`
	Operation    int8   `json:"operation"`
	Permission   int8   `json:"permission"`
}

// CreateACL adds an ACL.
type CreateACL struct{ ACL }

// RemoveACL deletes the ACL with that id.
type RemoveACL struct {
	ID Uuid `json:"id"`
}

// QuotaEntity is one component of a client-quota entity: its type
// ("user", "client-id" or "ip") and name (nil: the default entity).
type QuotaEntity struct {
	Type string  `json:"type"`
	Name *string `json:"name"`
}

// ClientQuota sets (or with Remove deletes) one quota value of an entity.
type ClientQuota struct {
	Entity []QuotaEntity `json:"entity"`
	Key    string        `json:"key"`
	Value  float64       `json:"value,omitempty"`
	Remove bool          `json:"remove,omitempty"`
}

// QuotaConfig is an entity's quotas in the image.
type QuotaConfig struct {
	Entity []QuotaEntity      `json:"entity"`
	Values map[string]float64 `json:"values"`
}

func (UpsertScram) Type() RecordType { return TypeUpsertScram }
func (RemoveScram) Type() RecordType { return TypeRemoveScram }
func (CreateACL) Type() RecordType   { return TypeCreateACL }
func (RemoveACL) Type() RecordType   { return TypeRemoveACL }
func (ClientQuota) Type() RecordType { return TypeClientQuota }

// QuotaEntityKey is the canonical key of an entity: its components sorted
// by type, so that {user, client-id} and {client-id, user} are one entity.
func QuotaEntityKey(e []QuotaEntity) string {
	parts := make([]string, 0, len(e))
	for _, c := range e {
		name := "\x00default"
		if c.Name != nil {
			name = *c.Name
		}
		b, _ := json.Marshal([2]string{c.Type, name})
		parts = append(parts, string(b))
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

func checkQuotaEntity(e []QuotaEntity) error {
	if len(e) == 0 || len(e) > 2 {
		return fmt.Errorf("%w: entity of %d components", ErrInvalidQuota, len(e))
	}
	seen := map[string]bool{}
	for _, c := range e {
		switch c.Type {
		case "user", "client-id", "ip":
		default:
			return fmt.Errorf("%w: entity type %q", ErrInvalidQuota, c.Type)
		}
		if seen[c.Type] {
			return fmt.Errorf("%w: entity type %q twice", ErrInvalidQuota, c.Type)
		}
		seen[c.Type] = true
	}
	if seen["ip"] && len(e) > 1 {
		return fmt.Errorf("%w: an ip entity stands alone", ErrInvalidQuota)
	}
	return nil
}

func (d *draft) upsertScram(r UpsertScram) error {
	switch {
	case r.User == "":
		return fmt.Errorf("%w: empty user name", ErrInvalidScram)
	case r.Mechanism != ScramSHA256 && r.Mechanism != ScramSHA512:
		return fmt.Errorf("%w: mechanism %q", ErrInvalidScram, r.Mechanism)
	case r.Iterations < ScramMinIterations || r.Iterations > ScramMaxIterations:
		return fmt.Errorf("%w: %d iterations (%d to %d)", ErrInvalidScram, r.Iterations, ScramMinIterations, ScramMaxIterations)
	case len(r.Salt) == 0 || len(r.StoredKey) == 0 || len(r.ServerKey) == 0:
		return fmt.Errorf("%w: empty salt or key", ErrInvalidScram)
	}
	next := maps.Clone(d.next.Scram)
	if next == nil {
		next = map[string]map[string]ScramCredential{}
	}
	m := maps.Clone(next[r.User])
	if m == nil {
		m = map[string]ScramCredential{}
	}
	m[r.Mechanism] = r.ScramCredential
	next[r.User] = m
	d.next.Scram = next
	return nil
}

func (d *draft) removeScram(r RemoveScram) error {
	if _, ok := d.next.Scram[r.User][r.Mechanism]; !ok {
		return fmt.Errorf("%w: %s for %q", ErrUnknownScram, r.Mechanism, r.User)
	}
	next := maps.Clone(d.next.Scram)
	m := maps.Clone(next[r.User])
	delete(m, r.Mechanism)
	if len(m) == 0 {
		delete(next, r.User)
	} else {
		next[r.User] = m
	}
	d.next.Scram = next
	return nil
}

func (d *draft) createACL(r CreateACL) error {
	a := r.ACL
	switch {
	case a.ID.IsZero():
		return fmt.Errorf("%w: no id", ErrInvalidACL)
	case a.ResourceType < 2 || a.ResourceType > 7 || a.PatternType < 3 || a.PatternType > 4:
		return fmt.Errorf("%w: resource type %d, pattern type %d", ErrInvalidACL, a.ResourceType, a.PatternType)
	case a.Operation < 2 || a.Operation > 14 || a.Permission < 2 || a.Permission > 3:
		return fmt.Errorf("%w: operation %d, permission %d", ErrInvalidACL, a.Operation, a.Permission)
	case a.Principal == "" || a.Host == "":
		return fmt.Errorf("%w: empty principal or host", ErrInvalidACL)
	}
	if _, dup := d.next.ACLs[a.ID]; dup {
		return fmt.Errorf("%w: id %s in use", ErrInvalidACL, a.ID)
	}
	next := maps.Clone(d.next.ACLs)
	if next == nil {
		next = map[Uuid]ACL{}
	}
	next[a.ID] = a
	d.next.ACLs = next
	return nil
}

func (d *draft) removeACL(r RemoveACL) error {
	if _, ok := d.next.ACLs[r.ID]; !ok {
		return fmt.Errorf("%w: %s", ErrUnknownACL, r.ID)
	}
	next := maps.Clone(d.next.ACLs)
	delete(next, r.ID)
	d.next.ACLs = next
	return nil
}

func (d *draft) clientQuota(r ClientQuota) error {
	if err := checkQuotaEntity(r.Entity); err != nil {
		return err
	}
	if r.Key == "" || !r.Remove && (math.IsNaN(r.Value) || math.IsInf(r.Value, 0) || r.Value <= 0) {
		return fmt.Errorf("%w: %q = %v", ErrInvalidQuota, r.Key, r.Value)
	}
	key := QuotaEntityKey(r.Entity)
	next := maps.Clone(d.next.Quotas)
	if next == nil {
		next = map[string]QuotaConfig{}
	}
	qc := QuotaConfig{Entity: slices.Clone(r.Entity), Values: maps.Clone(next[key].Values)}
	if qc.Values == nil {
		qc.Values = map[string]float64{}
	}
	if r.Remove {
		delete(qc.Values, r.Key)
	} else {
		qc.Values[r.Key] = r.Value
	}
	if len(qc.Values) == 0 {
		delete(next, key)
	} else {
		next[key] = qc
	}
	d.next.Quotas = next
	return nil
}

// checkDecodedSecurity validates the security state of a decoded image.
func checkDecodedSecurity(im *Image) error {
	for user, m := range im.Scram {
		for mech, c := range m {
			d := &draft{next: &Image{}}
			if err := d.upsertScram(UpsertScram{User: user, Mechanism: mech, ScramCredential: c}); err != nil {
				return err
			}
		}
	}
	for id, a := range im.ACLs {
		if id != a.ID {
			return fmt.Errorf("%w: ACL keyed %s has id %s", ErrInvalidACL, id, a.ID)
		}
		d := &draft{next: &Image{}}
		if err := d.createACL(CreateACL{a}); err != nil {
			return err
		}
	}
	for key, q := range im.Quotas {
		if err := checkQuotaEntity(q.Entity); err != nil {
			return err
		}
		if QuotaEntityKey(q.Entity) != key || len(q.Values) == 0 {
			return fmt.Errorf("%w: entity key %q", ErrInvalidQuota, key)
		}
	}
	return nil
}
