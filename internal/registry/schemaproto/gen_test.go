package schemaproto

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// gen writes random .proto files from a small grammar, with few distinct
// names so that nested declarations shadow outer ones often.
type gen struct {
	r      *rand.Rand
	b      strings.Builder
	syntax string
	types  []string // declared message and enum names, full, with a leading dot
	num    int
}

var genNames = []string{"A", "B", "C", "Inner", "Item", "Kind"}

var genScalars = []string{"int32", "int64", "uint32", "uint64", "sint32", "sint64", "fixed32", "fixed64",
	"sfixed32", "sfixed64", "bool", "string", "bytes", "float", "double"}

func (g *gen) file() string {
	g.syntax = []string{"proto2", "proto3"}[g.r.IntN(2)]
	pkg := []string{"", "p", "a.b", "A"}[g.r.IntN(4)]
	fmt.Fprintf(&g.b, "syntax = %q;\n", g.syntax)
	if pkg != "" {
		fmt.Fprintf(&g.b, "package %s;\n", pkg)
	}
	g.b.WriteString("import \"google/protobuf/timestamp.proto\";\nimport \"google/protobuf/descriptor.proto\";\n")
	g.b.WriteString("extend google.protobuf.FieldOptions { " + g.label() + "string note = 50000; }\n")
	g.b.WriteString("extend google.protobuf.MessageOptions { " + g.label() + "int32 level = 50000; }\n")
	g.types = append(g.types, ".google.protobuf.Timestamp")
	// declare names first so fields may refer forward
	scope := pkg
	used := map[string]bool{}
	for i := 0; i < 1+g.r.IntN(3); i++ {
		name := genNames[g.r.IntN(len(genNames))]
		if used[name] {
			continue
		}
		used[name] = true
		g.message(join(scope, name), name, 0)
	}
	return g.b.String()
}

func (g *gen) label() string {
	if g.syntax == "proto2" {
		return "optional "
	}
	return ""
}

func (g *gen) message(full, name string, depth int) {
	saved := g.num
	defer func() { g.num = saved }()
	g.types = append(g.types, "."+full)
	fmt.Fprintf(&g.b, "message %s {\n", name)
	if g.r.IntN(4) == 0 {
		fmt.Fprintf(&g.b, "option (level) = %d;\n", g.r.IntN(100)-50)
	}
	// nested declarations, fields, groups and extend blocks, interleaved
	used := map[string]bool{}
	g.num = 0
	ext := 500
	for i := 0; i < g.r.IntN(9); i++ {
		switch k := g.r.IntN(6); {
		case k < 2 && depth < 3:
			n := genNames[g.r.IntN(len(genNames))]
			if used[n] {
				continue
			}
			used[n] = true
			if g.r.IntN(3) == 0 {
				g.enum(join(full, n), n)
			} else {
				g.message(join(full, n), n, depth+1)
			}
		case k == 2 && g.syntax == "proto2":
			n := fmt.Sprintf("Grp%d", i)
			g.num++
			fmt.Fprintf(&g.b, "optional group %s = %d { optional int32 x = 1; }\n", n, g.num)
		case k == 3 && g.syntax == "proto2":
			ext++
			fmt.Fprintf(&g.b, "extend .%s { optional group Ext%d = %d { optional string s = 1; } optional int32 e%d = %d; }\n", full, i, ext, i, ext+50)
		default:
			g.field(i)
		}
	}
	if g.syntax == "proto2" {
		g.b.WriteString("extensions 500 to 599;\n")
	}
	if g.r.IntN(3) == 0 {
		fmt.Fprintf(&g.b, "oneof choice_%d {\n", depth)
		for i := 0; i < 1+g.r.IntN(2); i++ {
			g.num++
			fmt.Fprintf(&g.b, "%s o%d = %d;\n", g.typ(), i, g.num+100)
		}
		g.b.WriteString("}\n")
	}
	if g.r.IntN(4) == 0 {
		g.b.WriteString("reserved 900 to 910, 1000;\nreserved \"old\";\n")
	}
	g.b.WriteString("}\n")
}

func (g *gen) enum(full, name string) {
	g.types = append(g.types, "."+full)
	fmt.Fprintf(&g.b, "enum %s {\n", name)
	for i := 0; i < 1+g.r.IntN(3); i++ {
		// values are scoped beside the enum: make them unique
		fmt.Fprintf(&g.b, "%s_V%d = %d;\n", strings.ToUpper(strings.ReplaceAll(full, ".", "_")), i, i)
	}
	g.b.WriteString("}\n")
}

func (g *gen) typ() string {
	if g.r.IntN(2) == 0 || len(g.types) == 0 {
		return genScalars[g.r.IntN(len(genScalars))]
	}
	t := g.types[g.r.IntN(len(g.types))]
	if g.r.IntN(2) == 0 {
		// a shorter spelling, which may or may not resolve
		if i := strings.LastIndexByte(t, '.'); i > 0 {
			return t[i+1:]
		}
	}
	return t
}

func (g *gen) field(i int) {
	g.num++
	opts := ""
	if g.r.IntN(4) == 0 {
		opts = fmt.Sprintf(" [(note) = \"n\\t%d\", deprecated = true]", i)
	}
	switch g.r.IntN(5) {
	case 0:
		fmt.Fprintf(&g.b, "repeated %s f%d = %d%s;\n", g.typ(), i, g.num, opts)
	case 1:
		fmt.Fprintf(&g.b, "map<string, %s> f%d = %d%s;\n", g.typ(), i, g.num, opts)
	default:
		fmt.Fprintf(&g.b, "%s%s f%d = %d%s;\n", g.label(), g.typ(), i, g.num, opts)
	}
}

// TestGeneratedSchemasRoundTrip parses random schemas and checks that each
// accepted one prints forms that parse back to the same descriptor.
func TestGeneratedSchemasRoundTrip(t *testing.T) {
	accepted := 0
	for seed := uint64(0); seed < 400; seed++ {
		g := &gen{r: rand.New(rand.NewPCG(seed, 7))}
		text := g.file()
		s, err := New().Parse(text, nil)
		if err != nil {
			continue
		}
		accepted++
		ps := s.(*Schema)
		again, err := New().Parse(ps.Canonical(), nil)
		if err != nil {
			t.Fatalf("seed %d: canonical does not parse: %v\n%s\nfrom\n%s", seed, err, ps.Canonical(), text)
		}
		assertSameDescriptor(t, ps, again.(*Schema))
		norm, err := New().Parse(ps.Normalized(), nil)
		if err != nil || norm.Normalized() != ps.Normalized() {
			t.Fatalf("seed %d: normalized is not a fixed point: %v\n%s", seed, err, ps.Normalized())
		}
		if inc := New().Check(norm, s); len(inc) != 0 {
			t.Fatalf("seed %d: normalized form incompatible with its source: %v", seed, inc)
		}
	}
	t.Logf("%d of 400 generated schemas parsed", accepted)
	if accepted < 100 {
		t.Fatalf("only %d of 400 generated schemas parsed; the generator needs fixing", accepted)
	}
}
