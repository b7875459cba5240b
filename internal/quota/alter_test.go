package quota

import (
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func userClient(user, client string) []kmsg.AlterClientQuotasRequestEntryEntity {
	u, c := TypeUser, TypeClientID
	return wireEntity(&u, &user, &c, &client)
}

// TestAlterSequence is Kafka's testAlterClientQuotasRequest.
func TestAlterSequence(t *testing.T) {
	e := userClient("user", "client-id")
	en, err := EntityFromWire(e)
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		ops  []string
		want map[string]float64
	}{
		{[]string{"producer_byte_rate=10000", "consumer_byte_rate=20000"}, map[string]float64{ProducerByteRate: 10000, ConsumerByteRate: 20000}},
		{[]string{"producer_byte_rate=15000"}, map[string]float64{ProducerByteRate: 15000, ConsumerByteRate: 20000}},
		{[]string{"-producer_byte_rate"}, map[string]float64{ConsumerByteRate: 20000}},
		{[]string{"-request_percentage"}, map[string]float64{ConsumerByteRate: 20000}},
		{[]string{"producer_byte_rate=5000"}, map[string]float64{ProducerByteRate: 5000, ConsumerByteRate: 20000}},
		{[]string{"producer_byte_rate=20000", "-consumer_byte_rate", "request_percentage=12.3"}, map[string]float64{ProducerByteRate: 20000, RequestPercentage: 12.3}},
		{[]string{"-producer_byte_rate", "-request_percentage"}, nil},
	}
	var s *Store
	for i, st := range steps {
		before := s.Entities()
		next, errs := s.Alter([]kmsg.AlterClientQuotasRequestEntry{alterEntry(e, st.ops...)})
		if errs[0] != nil {
			t.Fatalf("step %d: %v", i, errs[0])
		}
		if !maps.Equal(next.Quotas(en), st.want) {
			t.Fatalf("step %d: %v, want %v", i, next.Quotas(en), st.want)
		}
		if got := s.Entities(); len(got) != len(before) || !maps.Equal(got[en], before[en]) {
			t.Fatalf("step %d: Alter changed its receiver", i)
		}
		s = next
	}
	if s.Len() != 0 {
		t.Errorf("an entity with no values is still listed: %v", s.Entities())
	}
}

func TestAlterValidation(t *testing.T) {
	user, client, ip, empty, def := TypeUser, TypeClientID, TypeIP, "", ""
	name, addr := "alice", "10.1.2.3"
	cases := []struct {
		entity []kmsg.AlterClientQuotasRequestEntryEntity
		ops    []string
		msg    string
	}{
		{wireEntity(&empty, &name), []string{"request_percentage=12.34"}, "Unhandled client quota entity type: "},
		{wireEntity(), []string{"producer_byte_rate=10000"}, "Invalid empty client quota entity"},
		{wireEntity(&user, &name), []string{"bad=1"}, "Invalid configuration key bad"},
		{wireEntity(&user, &name), []string{"producer_byte_rate=10000.5"}, "producer_byte_rate cannot be a fractional value."},
		{wireEntity(&user, &name), []string{"producer_byte_rate=0"}, "Quota producer_byte_rate must be greater than 0"},
		{wireEntity(&user, &name), []string{"request_percentage=-1"}, "Quota request_percentage must be greater than 0"},
		{wireEntity(&user, &name), []string{"controller_mutation_rate=NaN"}, "Quota controller_mutation_rate must be a finite number"},
		{wireEntity(&user, &name), []string{"connection_creation_rate=5"}, "Invalid configuration key connection_creation_rate"},
		{wireEntity(&ip, &addr), []string{"producer_byte_rate=5"}, "Invalid configuration key producer_byte_rate"},
		{wireEntity(&ip, &addr), []string{"connection_creation_rate=3e9"}, "Proposed value for connection_creation_rate is too large for an INT."},
		{wireEntity(&ip, &name), []string{"connection_creation_rate=5"}, "alice is not a valid IP or resolvable host."},
		{wireEntity(&user, &name, &ip, &addr), []string{"connection_creation_rate=5"}, "Invalid quota entity combination, IP entity should not be combined with User or ClientId"},
		{wireEntity(&user, &name, &user, &addr), []string{"producer_byte_rate=5"}, "Invalid client quota entity, duplicate entity entry user"},
		{wireEntity(&client, &def), []string{"producer_byte_rate=5"}, "Empty client-id not supported"},
		{wireEntity(&user, &name), []string{"producer_byte_rate=5", "-producer_byte_rate"}, "Duplicate quota key producer_byte_rate not updating quota for this entity users/alice"},
	}
	for i, c := range cases {
		s, errs := (*Store)(nil).Alter([]kmsg.AlterClientQuotasRequestEntry{alterEntry(c.entity, c.ops...)})
		var qe *Error
		if !errors.As(errs[0], &qe) || qe.Err != ErrInvalidRequest || qe.Message != c.msg {
			t.Errorf("case %d: %v, want %q", i, errs[0], c.msg)
		}
		if s.Len() != 0 {
			t.Errorf("case %d: a refused entry was applied", i)
		}
	}
}

// TestAlterPartial checks that good entries apply when others fail, and
// that an entity repeated in one request is refused the second time.
func TestAlterPartial(t *testing.T) {
	user, ip := TypeUser, TypeIP
	alice, bob := "alice", "bob"
	entries := []kmsg.AlterClientQuotasRequestEntry{
		alterEntry(wireEntity(&user, &alice), "producer_byte_rate=1024"),
		alterEntry(wireEntity(&user, &bob), "producer_byte_rate=1.5"),
		alterEntry(wireEntity(&user, &alice), "consumer_byte_rate=1024"),
		alterEntry(wireEntity(&ip, nil), "connection_creation_rate=10"),
	}
	s, errs := (*Store)(nil).Alter(entries)
	if errs[0] != nil || errs[1] == nil || errs[2] == nil || errs[3] != nil {
		t.Fatalf("results %v", errs)
	}
	if !strings.Contains(errs[2].Error(), "duplicate entity") {
		t.Errorf("repeated entity: %v", errs[2])
	}
	want := map[Entity]map[string]float64{
		{User: Name("alice")}: {ProducerByteRate: 1024},
		{IP: DefaultEntity()}: {ConnectionCreationRate: 10},
	}
	got := s.Entities()
	if len(got) != len(want) {
		t.Fatalf("store %v", got)
	}
	for e, v := range want {
		if !maps.Equal(got[e], v) {
			t.Errorf("%s = %v, want %v", e, got[e], v)
		}
	}
}

func TestParseEntity(t *testing.T) {
	cases := map[string]Entity{
		"users/alice":                  {User: Name("alice")},
		"users/<default>":              {User: DefaultEntity()},
		"users/alice/clients/app":      {User: Name("alice"), ClientID: Name("app")},
		"users/<default>/clients/app":  {User: DefaultEntity(), ClientID: Name("app")},
		"clients/<default>":            {ClientID: DefaultEntity()},
		"clients/a%2Fb":                {ClientID: Name("a/b")},
		"users/%3Cdefault%3E":          {User: Name("<default>")},
		"ips/10.0.0.1":                 {IP: Name("10.0.0.1")},
		"ips/<default>":                {IP: DefaultEntity()},
		"users/CN=x%2COU=y":            {User: Name("CN=x,OU=y")},
		"users/with%20space%25percent": {User: Name("with space%percent")},
	}
	for s, want := range cases {
		got, err := ParseEntity(s)
		if err != nil || got != want {
			t.Errorf("ParseEntity(%q) = %v, %v; want %v", s, got, err, want)
		}
		if got.String() != s {
			t.Errorf("%q.String() = %q", s, got.String())
		}
	}
	for _, s := range []string{"", "users", "users/", "clients/a/users/b", "users/a/ips/1.2.3.4", "groups/a",
		"users/a/clients/b/users/c", "ips/host.example", "users/%zz", "users/%4", "clients/a/clients/b"} {
		if _, err := ParseEntity(s); !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("ParseEntity(%q) = %v, want ErrInvalidRequest", s, err)
		}
	}
}

func TestParseQuotas(t *testing.T) {
	got, err := ParseQuotas("producer_byte_rate=1024, consumer_byte_rate=2048,request_percentage=12.5")
	want := map[string]float64{ProducerByteRate: 1024, ConsumerByteRate: 2048, RequestPercentage: 12.5}
	if err != nil || !maps.Equal(got, want) {
		t.Errorf("ParseQuotas = %v, %v", got, err)
	}
	if got, err := ParseQuotas(" "); err != nil || len(got) != 0 {
		t.Errorf("empty: %v %v", got, err)
	}
	for _, s := range []string{"producer_byte_rate", "x=1", "producer_byte_rate=1,producer_byte_rate=2",
		"producer_byte_rate=abc", "producer_byte_rate=NaN", "producer_byte_rate=Inf", "=1", "producer_byte_rate=1,"} {
		if _, err := ParseQuotas(s); !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("ParseQuotas(%q) = %v, want ErrInvalidRequest", s, err)
		}
	}
}
