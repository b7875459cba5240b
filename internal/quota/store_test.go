package quota

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// level entities in Kafka's resolution order, for user alice and
// client-id app.
var levelEntities = []Entity{
	{User: Name("alice"), ClientID: Name("app")},
	{User: Name("alice"), ClientID: DefaultEntity()},
	{User: Name("alice")},
	{User: DefaultEntity(), ClientID: Name("app")},
	{User: DefaultEntity(), ClientID: DefaultEntity()},
	{User: DefaultEntity()},
	{ClientID: Name("app")},
	{ClientID: DefaultEntity()},
}

func mustStore(t *testing.T, m map[Entity]map[string]float64) *Store {
	t.Helper()
	s, err := NewStore(m)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestResolveOrder sets levels L..8 and checks that level L wins, with
// Kafka's sensor sharing for it.
func TestResolveOrder(t *testing.T) {
	wantKey := []string{
		"user=alice,client-id=app", "user=alice,client-id=app", "user=alice,client-id=",
		"user=alice,client-id=app", "user=alice,client-id=app", "user=alice,client-id=",
		"user=,client-id=app", "user=,client-id=app",
	}
	for l := range levelEntities {
		m := map[Entity]map[string]float64{}
		for i := l; i < len(levelEntities); i++ {
			m[levelEntities[i]] = map[string]float64{ProducerByteRate: float64(1000 * (i + 1))}
		}
		s := mustStore(t, m)
		limit, key, ok := s.Resolve("alice", "app", ProducerByteRate)
		if !ok || limit != float64(1000*(l+1)) || key != wantKey[l] {
			t.Errorf("levels %d..8: Resolve = %v %q %v, want %v %q", l+1, limit, key, ok, 1000*(l+1), wantKey[l])
		}
		if _, _, ok := s.Resolve("alice", "app", ConsumerByteRate); ok {
			t.Errorf("levels %d..8: consumer_byte_rate resolved with only producer quotas", l+1)
		}
	}
}

func TestResolveDefaultsAndSharing(t *testing.T) {
	s := mustStore(t, map[Entity]map[string]float64{
		{User: Name("alice")}:                              {ProducerByteRate: 100},
		{User: DefaultEntity()}:                            {ProducerByteRate: 200},
		{ClientID: Name("batch")}:                          {ConsumerByteRate: 300},
		{ClientID: DefaultEntity()}:                        {ConsumerByteRate: 400},
		{User: Name("bob"), ClientID: DefaultEntity()}:     {RequestPercentage: 50},
		{User: DefaultEntity(), ClientID: DefaultEntity()}: {ControllerMutationRate: 5},
		{User: Name("carol"), ClientID: Name("<default>")}: {ControllerMutationRate: 7},
	})
	cases := []struct {
		user, client, key string
		limit             float64
		sensor            string
		ok                bool
	}{
		{"alice", "a", ProducerByteRate, 100, "user=alice,client-id=", true},
		{"alice", "b", ProducerByteRate, 100, "user=alice,client-id=", true},
		{"dave", "a", ProducerByteRate, 200, "user=dave,client-id=", true},
		{"alice", "batch", ConsumerByteRate, 300, "user=,client-id=batch", true},
		{"dave", "batch", ConsumerByteRate, 300, "user=,client-id=batch", true},
		{"dave", "other", ConsumerByteRate, 400, "user=,client-id=other", true},
		{"bob", "x", RequestPercentage, 50, "user=bob,client-id=x", true},
		{"bob", "y", RequestPercentage, 50, "user=bob,client-id=y", true},
		{"alice", "x", RequestPercentage, 0, "", false},
		{"carol", "<default>", ControllerMutationRate, 7, "user=carol,client-id=%3Cdefault%3E", true},
		{"carol", "other", ControllerMutationRate, 5, "user=carol,client-id=other", true},
		// Kafka: an empty client-id never matches users/<user>/clients/<default>.
		{"bob", "", RequestPercentage, 0, "", false},
		{"alice", "", ProducerByteRate, 100, "user=alice,client-id=", true},
		{"", "", ProducerByteRate, 0, "", false},
		{"alice", "a", ConnectionCreationRate, 0, "", false},
		{"alice", "a", "bogus", 0, "", false},
	}
	for _, c := range cases {
		limit, sensor, ok := s.Resolve(c.user, c.client, c.key)
		if limit != c.limit || sensor != c.sensor || ok != c.ok {
			t.Errorf("Resolve(%q, %q, %s) = %v %q %v, want %v %q %v", c.user, c.client, c.key, limit, sensor, ok, c.limit, c.sensor, c.ok)
		}
	}
	var empty *Store
	if _, _, ok := empty.Resolve("a", "b", ProducerByteRate); ok {
		t.Error("nil store resolved a quota")
	}
}

func TestNewStoreValidates(t *testing.T) {
	bad := []map[Entity]map[string]float64{
		{{}: {ProducerByteRate: 1}},
		{{User: Name("")}: {ProducerByteRate: 1}},
		{{User: Name("a")}: {ProducerByteRate: 1.5}},
		{{User: Name("a")}: {ConnectionCreationRate: 1}},
		{{IP: Name("1.2.3.4")}: {ProducerByteRate: 1}},
		{{IP: Name("not-an-ip")}: {ConnectionCreationRate: 1}},
		{{User: Name("a"), IP: DefaultEntity()}: {ConnectionCreationRate: 1}},
	}
	for _, m := range bad {
		if _, err := NewStore(m); !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("NewStore(%v) = %v, want ErrInvalidRequest", m, err)
		}
	}
}

// describeFixture is Kafka's ClientQuotasRequestTest.matchEntities.
func describeFixture(t *testing.T) *Store {
	def := DefaultEntity()
	m := map[Entity]map[string]float64{}
	add := func(u, c Component, v float64) {
		m[Entity{User: u, ClientID: c}] = map[string]float64{RequestPercentage: v}
	}
	add(Name("user-1"), Name("client-id-1"), 50.50)
	add(Name("user-2"), Name("client-id-1"), 51.51)
	add(Name("user-3"), Name("client-id-2"), 52.52)
	add(def, Name("client-id-1"), 53.53)
	add(Name("user-1"), def, 54.54)
	add(Name("user-3"), def, 55.55)
	add(Name("user-1"), Component{}, 56.56)
	add(Name("user-2"), Component{}, 57.57)
	add(Name("user-3"), Component{}, 58.58)
	add(def, Component{}, 59.59)
	add(Component{}, Name("client-id-2"), 60.60)
	return mustStore(t, m)
}

func comp(typ string, match int8, name *string) kmsg.DescribeClientQuotasRequestComponent {
	c := kmsg.NewDescribeClientQuotasRequestComponent()
	c.EntityType, c.MatchType, c.Match = typ, kmsg.QuotasMatchType(match), name
	return c
}

func ptr(s string) *string { return &s }

// TestDescribeMatchPartial is Kafka's testDescribeClientQuotasMatchPartial.
func TestDescribeMatchPartial(t *testing.T) {
	s := describeFixture(t)
	cases := []struct {
		comps  []kmsg.DescribeClientQuotasRequestComponent
		strict bool
		want   int
	}{
		{[]kmsg.DescribeClientQuotasRequestComponent{comp(TypeUser, MatchExact, ptr("user-1"))}, false, 3},
		{[]kmsg.DescribeClientQuotasRequestComponent{comp(TypeUser, MatchExact, ptr("unknown"))}, false, 0},
		{[]kmsg.DescribeClientQuotasRequestComponent{comp(TypeClientID, MatchExact, ptr("client-id-2"))}, false, 2},
		{[]kmsg.DescribeClientQuotasRequestComponent{comp(TypeUser, MatchDefault, nil)}, false, 2},
		{[]kmsg.DescribeClientQuotasRequestComponent{comp(TypeUser, MatchExact, ptr("user-2"))}, true, 1},
		{[]kmsg.DescribeClientQuotasRequestComponent{comp(TypeClientID, MatchExact, ptr("client-id-1"))}, true, 0},
		{[]kmsg.DescribeClientQuotasRequestComponent{comp(TypeUser, MatchSpecified, nil)}, true, 4},
		{[]kmsg.DescribeClientQuotasRequestComponent{comp(TypeUser, MatchSpecified, nil)}, false, 10},
		{[]kmsg.DescribeClientQuotasRequestComponent{comp(TypeClientID, MatchSpecified, nil)}, true, 1},
		{[]kmsg.DescribeClientQuotasRequestComponent{comp(TypeClientID, MatchSpecified, nil)}, false, 7},
		{nil, false, 11},
		{nil, true, 0},
		{[]kmsg.DescribeClientQuotasRequestComponent{comp(TypeUser, MatchDefault, nil), comp(TypeClientID, MatchDefault, nil)}, true, 0},
		{[]kmsg.DescribeClientQuotasRequestComponent{comp(TypeUser, MatchSpecified, nil), comp(TypeClientID, MatchDefault, nil)}, true, 2},
	}
	for i, c := range cases {
		got, err := s.Describe(c.comps, c.strict)
		if err != nil || len(got) != c.want {
			t.Errorf("case %d: %d entries (%v), want %d", i, len(got), err, c.want)
		}
	}
}

// TestDescribeMatchExact is Kafka's testDescribeClientQuotasMatchExact.
func TestDescribeMatchExact(t *testing.T) {
	s := describeFixture(t)
	for e, vals := range s.Entities() {
		var comps []kmsg.DescribeClientQuotasRequestComponent
		for _, c := range e.components() {
			if c.c.Kind == Default {
				comps = append(comps, comp(c.typ, MatchDefault, nil))
			} else {
				comps = append(comps, comp(c.typ, MatchExact, ptr(c.c.Name)))
			}
		}
		got, err := s.Describe(comps, true)
		if err != nil || len(got) != 1 || len(got[0].Values) != 1 || got[0].Values[0].Value != vals[RequestPercentage] {
			t.Errorf("%s: %+v %v", e, got, err)
		}
	}
	for _, e := range []string{"users/user-1/clients/client-id-2", "users/user-2/clients/<default>", "users/user-4", "clients/client-id-1"} {
		en, err := ParseEntity(e)
		if err != nil {
			t.Fatal(err)
		}
		var comps []kmsg.DescribeClientQuotasRequestComponent
		for _, c := range en.components() {
			comps = append(comps, comp(c.typ, map[Kind]int8{Default: MatchDefault, Named: MatchExact}[c.c.Kind], c.c.wire()))
		}
		if got, err := s.Describe(comps, true); err != nil || len(got) != 0 {
			t.Errorf("%s matched %d (%v)", e, len(got), err)
		}
	}
}

func TestDescribeOrderAndShape(t *testing.T) {
	s := describeFixture(t)
	got, err := s.Describe(nil, false)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, e := range got {
		var parts []string
		for _, en := range e.Entity {
			name := "<default>"
			if en.Name != nil {
				name = *en.Name
			}
			parts = append(parts, en.Type+"="+name)
		}
		lines = append(lines, strings.Join(parts, ","))
	}
	want := "client-id=client-id-2 | user=<default> | user=<default>,client-id=client-id-1 | " +
		"user=user-1 | user=user-1,client-id=<default> | user=user-1,client-id=client-id-1 | " +
		"user=user-2 | user=user-2,client-id=client-id-1 | user=user-3 | user=user-3,client-id=<default> | " +
		"user=user-3,client-id=client-id-2"
	if g := strings.Join(lines, " | "); g != want {
		t.Errorf("order:\n got %s\nwant %s", g, want)
	}
}

func TestDescribeFilterErrors(t *testing.T) {
	s := describeFixture(t)
	cases := []struct {
		comps []kmsg.DescribeClientQuotasRequestComponent
		want  error
	}{
		{[]kmsg.DescribeClientQuotasRequestComponent{comp("", MatchExact, ptr("x"))}, ErrInvalidRequest},
		{[]kmsg.DescribeClientQuotasRequestComponent{comp("group", MatchExact, ptr("x"))}, ErrUnsupportedEntityType},
		{[]kmsg.DescribeClientQuotasRequestComponent{comp(TypeUser, MatchExact, nil)}, ErrInvalidRequest},
		{[]kmsg.DescribeClientQuotasRequestComponent{comp(TypeUser, MatchDefault, ptr("x"))}, ErrInvalidRequest},
		{[]kmsg.DescribeClientQuotasRequestComponent{comp(TypeUser, MatchSpecified, ptr("x"))}, ErrInvalidRequest},
		{[]kmsg.DescribeClientQuotasRequestComponent{comp(TypeUser, 3, nil)}, ErrInvalidRequest},
		{[]kmsg.DescribeClientQuotasRequestComponent{comp(TypeUser, MatchSpecified, nil), comp(TypeUser, MatchDefault, nil)}, ErrInvalidRequest},
		{[]kmsg.DescribeClientQuotasRequestComponent{comp(TypeIP, MatchSpecified, nil), comp(TypeClientID, MatchDefault, nil)}, ErrInvalidRequest},
	}
	for i, c := range cases {
		_, err := s.Describe(c.comps, false)
		var qe *Error
		if !errors.Is(err, c.want) || !errors.As(err, &qe) || qe.Message == "" {
			t.Errorf("case %d: %v, want %v", i, err, c.want)
		}
	}
}

// alterEntry builds an AlterClientQuotas entry; ops are "key=value" or
// "-key" (remove).
func alterEntry(entity []kmsg.AlterClientQuotasRequestEntryEntity, ops ...string) kmsg.AlterClientQuotasRequestEntry {
	e := kmsg.NewAlterClientQuotasRequestEntry()
	e.Entity = entity
	for _, o := range ops {
		op := kmsg.NewAlterClientQuotasRequestEntryOp()
		if strings.HasPrefix(o, "-") {
			op.Key, op.Remove = o[1:], true
		} else {
			k, v, _ := strings.Cut(o, "=")
			op.Key = k
			fmt.Sscan(v, &op.Value)
		}
		e.Ops = append(e.Ops, op)
	}
	return e
}

func wireEntity(pairs ...*string) []kmsg.AlterClientQuotasRequestEntryEntity {
	var out []kmsg.AlterClientQuotasRequestEntryEntity
	for i := 0; i < len(pairs); i += 2 {
		e := kmsg.NewAlterClientQuotasRequestEntryEntity()
		e.Type, e.Name = *pairs[i], pairs[i+1]
		out = append(out, e)
	}
	return out
}
