package acl

import (
	"errors"
	"slices"
	"testing"
)

func str(s string) *string { return &s }

// anyFilter selects every binding.
func anyFilter() Filter {
	return Filter{ResourceType: ResourceAny, PatternType: PatternAny, Operation: OpAny, Permission: PermAny}
}

func TestFilterMatch(t *testing.T) {
	orders, ordPre, anyTop := fixtures()
	bs := []Binding{
		allowAll(orders, alice, OpRead),                             // 0
		ace(orders, bob, ip1, OpWrite, PermDeny),                    // 1
		allowAll(ordPre, alice, OpWrite),                            // 2
		allowAll(anyTop, WildcardPrincipal, OpDescribe),             // 3
		allowAll(pre(ResourceTopic, "orders-x"), bob, OpRead),       // 4: longer than "orders"
		allowAll(lit(ResourceGroup, "orders"), alice, OpRead),       // 5
		allowAll(lit(ResourceCluster, ClusterName), alice, OpAlter), // 6
		allowAll(lit(ResourceTopic, "ord"), alice, OpRead),          // 7: literal "ord"
	}
	s := mustSet(t, Config{}, bs...)
	with := func(change func(*Filter)) Filter {
		f := anyFilter()
		change(&f)
		return f
	}
	for _, c := range []struct {
		name string
		f    Filter
		want []int
	}{
		{"everything", anyFilter(), []int{0, 1, 2, 3, 4, 5, 6, 7}},
		{"resource type", with(func(f *Filter) { f.ResourceType = ResourceTopic }), []int{0, 1, 2, 3, 4, 7}},
		{"name, any pattern: exact names only", with(func(f *Filter) { f.Name = str("orders") }), []int{0, 1, 5}},
		{"name *, any pattern: the wildcard ACL only", with(func(f *Filter) { f.Name = str("*") }), []int{3}},
		{"literal", with(func(f *Filter) { f.PatternType = PatternLiteral }), []int{0, 1, 3, 5, 6, 7}},
		{"literal name", with(func(f *Filter) { f.PatternType, f.Name = PatternLiteral, str("ord") }), []int{7}},
		{"prefixed", with(func(f *Filter) { f.PatternType = PatternPrefixed }), []int{2, 4}},
		{"prefixed name is exact", with(func(f *Filter) { f.PatternType, f.Name = PatternPrefixed, str("orders") }), nil},
		{"match: literal, wildcard and prefixes of the name", with(func(f *Filter) {
			f.ResourceType, f.PatternType, f.Name = ResourceTopic, PatternMatch, str("orders")
		}), []int{0, 1, 2, 3}},
		{"match longer name", with(func(f *Filter) {
			f.ResourceType, f.PatternType, f.Name = ResourceTopic, PatternMatch, str("orders-xyz")
		}), []int{2, 3, 4}},
		{"match without name: everything", with(func(f *Filter) { f.PatternType = PatternMatch }), []int{0, 1, 2, 3, 4, 5, 6, 7}},
		{"match any resource type", with(func(f *Filter) { f.PatternType, f.Name = PatternMatch, str("orders") }), []int{0, 1, 2, 3, 5}},
		{"principal exact, no wildcard", with(func(f *Filter) { f.Principal = str(alice) }), []int{0, 2, 5, 6, 7}},
		{"wildcard principal", with(func(f *Filter) { f.Principal = str(WildcardPrincipal) }), []int{3}},
		{"host exact", with(func(f *Filter) { f.Host = str(ip1) }), []int{1}},
		{"host *", with(func(f *Filter) { f.Host = str("*") }), []int{0, 2, 3, 4, 5, 6, 7}},
		{"operation exact, no implication", with(func(f *Filter) { f.Operation = OpDescribe }), []int{3}},
		{"permission", with(func(f *Filter) { f.Permission = PermDeny }), []int{1}},
		{"combined", with(func(f *Filter) {
			f.ResourceType, f.PatternType, f.Name, f.Principal, f.Operation = ResourceTopic, PatternMatch, str("orders"), str(alice), OpWrite
		}), []int{2}},
		{"unknown filter selects nothing", with(func(f *Filter) { f.Operation = OpUnknown }), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			var want []Binding
			for _, i := range c.want {
				want = append(want, bs[i])
			}
			slices.SortFunc(want, compareBindings)
			if got := s.Match(c.f); !slices.Equal(got, want) {
				t.Fatalf("Match = %v\nwant %v", got, want)
			}
		})
	}
}

func TestFilterValidate(t *testing.T) {
	if err := anyFilter().Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		f   Filter
		msg string
	}{
		{Filter{ResourceType: 0, PatternType: PatternAny, Operation: OpAny, Permission: PermAny}, "Unknown patternFilter."},
		{Filter{ResourceType: ResourceAny, PatternType: 9, Operation: OpAny, Permission: PermAny}, "Unknown patternFilter."},
		{Filter{ResourceType: ResourceAny, PatternType: PatternAny, Operation: 0, Permission: PermAny}, "Unknown entryFilter."},
		{Filter{ResourceType: ResourceAny, PatternType: PatternAny, Operation: OpAny, Permission: 4}, "Unknown entryFilter."},
	} {
		var ve *ValidationError
		if err := c.f.Validate(); !errors.Is(err, ErrInvalid) || !errors.As(err, &ve) || ve.Message != c.msg {
			t.Errorf("Validate(%+v) = %v; want %q", c.f, err, c.msg)
		}
	}
}
