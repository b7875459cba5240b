package registry

import (
	"fmt"
	"strings"

	"github.com/samsa-streaming/samsa/internal/registry/schema"
)

// checkLevel checks candidate against the versions level covers among
// live (ascending) and returns one message per incompatibility, naming the
// version it breaks with; nil means compatible. st is held for reading.
func (r *Registry) checkLevel(st *state, level string, h schema.Handler, candidate schema.Schema, typ schema.Type, live []*version) ([]string, error) {
	if level == "NONE" || len(live) == 0 {
		return nil, nil
	}
	against := live[len(live)-1:]
	if strings.HasSuffix(level, "_TRANSITIVE") {
		against = live
	}
	base := strings.TrimSuffix(level, "_TRANSITIVE")
	var msgs []string
	for i := len(against) - 1; i >= 0; i-- {
		v := against[i]
		e := st.ids[v.id]
		if e.typ != typ {
			msgs = append(msgs, fmt.Sprintf("version %d: incompatible schema type: the new schema is %s, version %d is %s", v.version, typ, v.version, e.typ))
			continue
		}
		old, err := r.parsed(st, e)
		if err != nil {
			return nil, apiErr(500, codeStoreError, "version %d of %s: %v", v.version, v.subject, err)
		}
		msgs = append(msgs, explain(base, v.version, h, candidate, old)...)
	}
	return msgs, nil
}

// explain renders the incompatibilities between the new schema and an old
// version under base (BACKWARD, FORWARD or FULL), with old/new in place of
// reader/writer.
func explain(base string, ver int, h schema.Handler, newer, older schema.Schema) []string {
	var out []string
	if base == "BACKWARD" || base == "FULL" {
		for _, inc := range h.Check(newer, older) {
			out = append(out, render("BACKWARD", ver, inc, inc.Reader, inc.Writer))
		}
	}
	if base == "FORWARD" || base == "FULL" {
		for _, inc := range h.Check(older, newer) {
			out = append(out, render("FORWARD", ver, inc, inc.Writer, inc.Reader))
		}
	}
	return out
}

// render is one message: the direction, the version, the rule, the path,
// old and new, and the reason.
func render(dir string, ver int, inc schema.Incompatibility, newSide, oldSide string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "{direction: %s, version: %d, rule: %s, path: '%s'", dir, ver, inc.Rule, inc.Path)
	if oldSide != "" || newSide != "" {
		fmt.Fprintf(&b, ", old: '%s', new: '%s'", orDash(oldSide), orDash(newSide))
	}
	if inc.Detail != "" {
		fmt.Fprintf(&b, ", detail: '%s'", inc.Detail)
	}
	b.WriteString("}")
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
