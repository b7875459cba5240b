package quota

import (
	"errors"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func FuzzParseEntity(f *testing.F) {
	for _, s := range []string{"users/alice", "users/<default>/clients/app", "clients/%3Cdefault%3E",
		"ips/::1", "ips/<default>", "users/a%2Fb", "users/", "users/%zz", "clients/x/users/y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseEntity(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidRequest) {
				t.Fatalf("ParseEntity(%q): %v is not ErrInvalidRequest", s, err)
			}
			return
		}
		if err := e.validate(); err != nil {
			t.Fatalf("ParseEntity(%q) = %v, which does not validate: %v", s, e, err)
		}
		back, err := ParseEntity(e.String())
		if err != nil || back != e {
			t.Fatalf("%q → %v → %q → %v, %v", s, e, e.String(), back, err)
		}
		// The same entity through the wire form.
		var wire []kmsg.AlterClientQuotasRequestEntryEntity
		for _, c := range e.components() {
			w := kmsg.NewAlterClientQuotasRequestEntryEntity()
			w.Type, w.Name = c.typ, c.c.wire()
			wire = append(wire, w)
		}
		if got, err := EntityFromWire(wire); err != nil || got != e {
			t.Fatalf("wire round trip of %v: %v, %v", e, got, err)
		}
	})
}

func FuzzParseQuotas(f *testing.F) {
	for _, s := range []string{"producer_byte_rate=1024,consumer_byte_rate=2048", "request_percentage = 12.5",
		"controller_mutation_rate=1e3", "connection_creation_rate=0x10", "a=b", ",", "producer_byte_rate=-0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseQuotas(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidRequest) {
				t.Fatalf("ParseQuotas(%q): %v is not ErrInvalidRequest", s, err)
			}
			return
		}
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if keyIndex(k) < 0 || math.IsNaN(m[k]) || math.IsInf(m[k], 0) {
				t.Fatalf("ParseQuotas(%q) = %v", s, m)
			}
			parts = append(parts, k+"="+strconv.FormatFloat(m[k], 'g', -1, 64))
		}
		back, err := ParseQuotas(strings.Join(parts, ","))
		if err != nil || !maps.Equal(back, m) {
			t.Fatalf("round trip of %v: %v, %v", m, back, err)
		}
	})
}

// FuzzAlter drives Alter with entries decoded from the input and checks
// that the Store only ever holds what NewStore accepts, that Describe
// lists it all in order, and that Resolve agrees with the entities.
func FuzzAlter(f *testing.F) {
	f.Add([]byte{0, 1, 0, 0, 2, 1, 3, 9, 1, 4, 0, 0, 1, 5})
	f.Add([]byte{2, 2, 1, 4, 7, 0, 6, 3, 3, 0, 200, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		var s *Store
		for len(data) >= 4 {
			var entry kmsg.AlterClientQuotasRequestEntry
			entry, data = decodeEntry(data)
			next, errs := s.Alter([]kmsg.AlterClientQuotasRequestEntry{entry})
			if errs[0] != nil && !errors.Is(errs[0], ErrInvalidRequest) {
				t.Fatalf("Alter: %v", errs[0])
			}
			if errs[0] != nil && next.Len() != s.Len() {
				t.Fatalf("a refused entry changed the store")
			}
			s = next
		}
		checkStore(t, s)
	})
}

var fuzzNames = []string{"", "a", "b", "<default>", "10.0.0.1", "::1", "x/y"}

var fuzzTypes = []string{TypeUser, TypeClientID, TypeIP, "", "group"}

var fuzzKeys = []string{ProducerByteRate, ConsumerByteRate, RequestPercentage, ControllerMutationRate, ConnectionCreationRate, "bogus"}

var fuzzValues = []float64{1, 1024, 12.5, 0, -1, math.NaN(), 3e9, math.MaxInt64 * 2.0}

// decodeEntry reads: entity count, (type, name) bytes each (name byte
// 0xff is the default), op count, (key, value or remove) bytes each.
func decodeEntry(b []byte) (kmsg.AlterClientQuotasRequestEntry, []byte) {
	next := func() int {
		if len(b) == 0 {
			return 0
		}
		v := int(b[0])
		b = b[1:]
		return v
	}
	e := kmsg.NewAlterClientQuotasRequestEntry()
	for range next() % 4 {
		w := kmsg.NewAlterClientQuotasRequestEntryEntity()
		w.Type = fuzzTypes[next()%len(fuzzTypes)]
		if n := next(); n != 0xff {
			name := fuzzNames[n%len(fuzzNames)]
			w.Name = &name
		}
		e.Entity = append(e.Entity, w)
	}
	for range next() % 4 {
		op := kmsg.NewAlterClientQuotasRequestEntryOp()
		op.Key = fuzzKeys[next()%len(fuzzKeys)]
		if v := next(); v == 0xff {
			op.Remove = true
		} else {
			op.Value = fuzzValues[v%len(fuzzValues)]
		}
		e.Ops = append(e.Ops, op)
	}
	return e, b
}

func checkStore(t *testing.T, s *Store) {
	t.Helper()
	all := s.Entities()
	if _, err := NewStore(all); err != nil {
		t.Fatalf("store holds what NewStore refuses: %v", err)
	}
	described, err := s.Describe(nil, false)
	if err != nil || len(described) != len(all) {
		t.Fatalf("Describe listed %d of %d (%v)", len(described), len(all), err)
	}
	if s == nil {
		return
	}
	for i := 1; i < len(s.sorted); i++ {
		if compareEntities(s.sorted[i-1], s.sorted[i]) >= 0 {
			t.Fatalf("Describe order: %v before %v", s.sorted[i-1], s.sorted[i])
		}
	}
	for e, vals := range all {
		if e.User.Kind == Named && e.ClientID.Kind == Named {
			for k, v := range vals {
				if got, _, ok := s.Resolve(e.User.Name, e.ClientID.Name, k); k != ConnectionCreationRate && (!ok || got != v) {
					t.Fatalf("Resolve(%s, %s) = %v %v, want the entity's own %v", e.User.Name, e.ClientID.Name, got, ok, v)
				}
			}
		}
	}
}
