package schemaavro

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/samsa-streaming/samsa/internal/registry/schema"
)

// Rules, in Avro Java's SchemaIncompatibilityType vocabulary.
const (
	ruleNameMismatch       = "NAME_MISMATCH"
	ruleFixedSize          = "FIXED_SIZE_MISMATCH"
	ruleMissingEnumSymbols = "MISSING_ENUM_SYMBOLS"
	ruleMissingDefault     = "READER_FIELD_MISSING_DEFAULT_VALUE"
	ruleTypeMismatch       = "TYPE_MISMATCH"
	ruleMissingUnionBranch = "MISSING_UNION_BRANCH"
)

// maxCheckDepth bounds the recursion of a check through named types.
const maxCheckDepth = 2048

// maxIssues bounds the incompatibilities kept per (reader, writer) pair,
// so that a type used in many places cannot multiply them without end.
const maxIssues = 100

// pair is a (reader, writer) pair of nodes, the memo key.
type pair struct{ r, w *node }

// result is the outcome for one pair: its incompatibilities with paths
// relative to the pair's place.
type result struct {
	done   bool // false while the pair is being checked (recursion)
	issues []schema.Incompatibility
}

// checker implements Avro's schema resolution rules the way Avro Java's
// SchemaCompatibility does, collecting every incompatibility.
type checker struct {
	memo map[pair]*result
}

func checkNodes(reader, writer *node) []schema.Incompatibility {
	c := &checker{memo: map[pair]*result{}}
	issues := c.check(reader, writer, 0)
	for i := range issues {
		if issues[i].Path == "" {
			issues[i].Path = "/"
		}
	}
	return issues
}

// check returns the incompatibilities of reading writer data with
// reader, paths relative to here ("" is here). A pair met again while it
// is being checked is assumed compatible, as in Avro Java.
func (c *checker) check(r, w *node, depth int) []schema.Incompatibility {
	k := pair{r, w}
	if res, ok := c.memo[k]; ok {
		return res.issues
	}
	if depth > maxCheckDepth {
		return []schema.Incompatibility{{Rule: ruleTypeMismatch, Reader: shortType(r), Writer: shortType(w),
			Detail: fmt.Sprintf("the schemas nest deeper than %d levels, too deep to check", maxCheckDepth)}}
	}
	res := &result{}
	c.memo[k] = res
	res.issues = c.compare(r, w, depth)
	if len(res.issues) > maxIssues {
		res.issues = res.issues[:maxIssues]
	}
	res.done = true
	return res.issues
}

func (c *checker) compare(r, w *node, depth int) []schema.Incompatibility {
	if r.kind == w.kind {
		switch r.kind {
		case kArray:
			return prefix("/items", c.check(r.items, w.items, depth+1))
		case kMap:
			return prefix("/values", c.check(r.items, w.items, depth+1))
		case kFixed:
			return append(checkName(r, w), checkSize(r, w)...)
		case kEnum:
			return append(checkName(r, w), checkSymbols(r, w)...)
		case kRecord:
			return append(checkName(r, w), c.checkFields(r, w, depth)...)
		case kUnion:
			return c.checkUnions(r, w, depth)
		}
		return nil
	}
	if w.kind == kUnion {
		// Every branch must be readable; located by the writer's branch
		// index, as Avro Java does since 1.12 (AVRO-3612).
		var out []schema.Incompatibility
		for i, b := range w.branches {
			out = append(out, prefix("/"+strconv.Itoa(i), c.check(r, b, depth+1))...)
		}
		return out
	}
	if r.kind == kUnion {
		for _, b := range r.branches {
			if len(c.check(b, w, depth+1)) == 0 {
				return nil
			}
		}
		return []schema.Incompatibility{{Rule: ruleMissingUnionBranch, Reader: shortType(r), Writer: shortType(w),
			Detail: fmt.Sprintf("no branch of the reader's union can read the writer's %s", shortType(w))}}
	}
	if promotes(w.kind, r.kind) {
		return nil
	}
	return []schema.Incompatibility{{Rule: ruleTypeMismatch, Reader: shortType(r), Writer: shortType(w),
		Detail: fmt.Sprintf("a reader of type %s cannot read a writer's %s", r.kind, w.kind)}}
}

// promotes reports whether Avro resolution reads writer data as reader.
func promotes(w, r kind) bool {
	switch r {
	case kLong:
		return w == kInt
	case kFloat:
		return w == kInt || w == kLong
	case kDouble:
		return w == kInt || w == kLong || w == kFloat
	case kBytes:
		return w == kString
	case kString:
		return w == kBytes
	}
	return false
}

// checkUnions: every writer branch must be readable by some reader branch.
func (c *checker) checkUnions(r, w *node, depth int) []schema.Incompatibility {
	var out []schema.Incompatibility
	for i, wb := range w.branches {
		if len(c.check(r, wb, depth+1)) == 0 {
			continue
		}
		out = append(out, schema.Incompatibility{
			Path: "/" + strconv.Itoa(i), Rule: ruleMissingUnionBranch,
			Reader: shortType(r), Writer: shortType(wb),
			Detail: fmt.Sprintf("the writer's union branch %d (%s) is not readable by any branch of the reader's union", i, shortType(wb)),
		})
	}
	return out
}

// checkName: Avro Java compares the simple names; the reader's aliases
// may also name the writer's full name.
func checkName(r, w *node) []schema.Incompatibility {
	if r.name == w.name || slices.Contains(r.aliases, w.fullName()) {
		return nil
	}
	return []schema.Incompatibility{{Path: "/name", Rule: ruleNameMismatch, Reader: shortType(r), Writer: shortType(w),
		Detail: fmt.Sprintf("the reader's %s is named %s, the writer's %s, and no reader alias names %s",
			r.kind, r.fullName(), w.fullName(), w.fullName())}}
}

func checkSize(r, w *node) []schema.Incompatibility {
	if r.size == w.size {
		return nil
	}
	return []schema.Incompatibility{{Path: "/size", Rule: ruleFixedSize, Reader: shortType(r), Writer: shortType(w),
		Detail: fmt.Sprintf("the reader's fixed %s has %d bytes, the writer's %d", r.fullName(), r.size, w.size)}}
}

func checkSymbols(r, w *node) []schema.Incompatibility {
	var missing []string
	for _, s := range w.symbols {
		if !slices.Contains(r.symbols, s) {
			missing = append(missing, s)
		}
	}
	if len(missing) == 0 || r.enumDefault != nil {
		return nil
	}
	slices.Sort(missing) // Avro Java reports them as a sorted set
	return []schema.Incompatibility{{Path: "/symbols", Rule: ruleMissingEnumSymbols,
		Reader: "[" + strings.Join(r.symbols, ", ") + "]", Writer: "[" + strings.Join(missing, ", ") + "]",
		Detail: fmt.Sprintf("the reader's enum %s lacks the writer's symbols %s and has no default symbol",
			r.fullName(), strings.Join(missing, ", "))}}
}

// checkFields: every reader field is read from the writer field of the
// same name (or one of its aliases) or else takes its default.
func (c *checker) checkFields(r, w *node, depth int) []schema.Incompatibility {
	var out []schema.Incompatibility
	for i, rf := range r.fields {
		at := "/fields/" + strconv.Itoa(i)
		wf := writerField(w, rf)
		if wf != nil {
			out = append(out, prefix(at+"/type", c.check(rf.typ, wf.typ, depth+1))...)
			continue
		}
		if rf.def == nil {
			out = append(out, schema.Incompatibility{Path: at, Rule: ruleMissingDefault, Reader: shortType(rf.typ),
				Detail: fmt.Sprintf("reader field '%s' has no default and the writer has no such field", rf.name)})
		}
	}
	return out
}

func writerField(w *node, rf *field) *field {
	if f := w.field(rf.name); f != nil {
		return f
	}
	for _, a := range rf.aliases {
		if f := w.field(a); f != nil {
			return f
		}
	}
	return nil
}

// prefix returns issues with p put before each path, copying them: the
// memoised slices stay relative to their own pair.
func prefix(p string, issues []schema.Incompatibility) []schema.Incompatibility {
	if len(issues) == 0 {
		return nil
	}
	out := make([]schema.Incompatibility, len(issues))
	for i, is := range issues {
		is.Path = p + is.Path
		out[i] = is
	}
	return out
}

// shortType names a schema for messages: "int", "record com.x.Person",
// "array<int>", "[null, string]".
func shortType(n *node) string {
	return shortTypeDepth(n, 0)
}

func shortTypeDepth(n *node, depth int) string {
	if depth > 3 {
		return "..."
	}
	switch n.kind {
	case kRecord, kEnum, kFixed:
		return n.kind.String() + " " + n.fullName()
	case kArray:
		return "array<" + shortTypeDepth(n.items, depth+1) + ">"
	case kMap:
		return "map<" + shortTypeDepth(n.items, depth+1) + ">"
	case kUnion:
		parts := make([]string, len(n.branches))
		for i, b := range n.branches {
			parts[i] = shortTypeDepth(b, depth+1)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return n.kind.String()
}
