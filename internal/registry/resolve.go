package registry

import (
	"fmt"
	"slices"

	"github.com/samsa-streaming/samsa/internal/registry/schema"
)

// maxRefDepth bounds how deep references may nest.
const maxRefDepth = 32

// handler returns the Handler of typ, or a 42201.
func (r *Registry) handler(typ schema.Type) (schema.Handler, error) {
	if typ == "" {
		typ = schema.Avro
	}
	h, ok := r.handlers[typ]
	if !ok {
		return nil, errInvalidSchema("unknown schemaType %q (known: %s)", typ, r.typeNames())
	}
	return h, nil
}

func (r *Registry) typeNames() []string {
	var out []string
	for t := range r.handlers {
		out = append(out, string(t))
	}
	slices.Sort(out)
	return out
}

// resolveRefs resolves refs against st (held for reading) into the
// post-order closure a Handler takes. A missing subject or version, a cycle
// or too deep a chain is a 42201. Version -1 means the latest live one; the
// returned refs have it replaced by the number.
func (st *state) resolveRefs(refs []schema.Reference) ([]schema.Dep, []schema.Reference, error) {
	var deps []schema.Dep
	seen := map[string]bool{}
	var walk func(refs []schema.Reference, path []string) ([]schema.Reference, error)
	walk = func(refs []schema.Reference, path []string) ([]schema.Reference, error) {
		if len(path) > maxRefDepth {
			return nil, errInvalidSchema("references nest deeper than %d levels", maxRefDepth)
		}
		out := make([]schema.Reference, 0, len(refs))
		for _, ref := range refs {
			if ref.Name == "" || ref.Subject == "" {
				return nil, errInvalidSchema("a reference needs a name and a subject: %+v", ref)
			}
			v, err := st.refVersion(ref)
			if err != nil {
				return nil, err
			}
			ref.Version = v.version
			out = append(out, ref)
			node := ref.Subject + "\x00" + itoa(v.version)
			if slices.Contains(path, node) {
				return nil, errInvalidSchema("reference cycle: %s version %d refers back to itself", ref.Subject, v.version)
			}
			e := st.ids[v.id]
			if e == nil {
				return nil, errInvalidSchema("reference %q: schema id %d of %s version %d is missing", ref.Name, v.id, ref.Subject, v.version)
			}
			if _, err := walk(e.refs, append(path, node)); err != nil {
				return nil, err
			}
			key := ref.Name + "\x00" + node
			if !seen[key] {
				seen[key] = true
				deps = append(deps, schema.Dep{Name: ref.Name, Schema: e.text})
			}
		}
		return out, nil
	}
	resolved, err := walk(refs, nil)
	return deps, resolved, err
}

func (st *state) refVersion(ref schema.Reference) (*version, error) {
	s := st.subjects[ref.Subject]
	if s == nil {
		return nil, errInvalidSchema("reference %q: subject %q not found", ref.Name, ref.Subject)
	}
	if ref.Version == -1 {
		live := s.live()
		if len(live) == 0 {
			return nil, errInvalidSchema("reference %q: subject %q has no live version", ref.Name, ref.Subject)
		}
		return live[len(live)-1], nil
	}
	v := s.find(ref.Version)
	if v == nil {
		return nil, errInvalidSchema("reference %q: version %d of subject %q not found", ref.Name, ref.Version, ref.Subject)
	}
	return v, nil
}

// parsed returns e parsed (once) with its references; st is held for
// reading.
func (r *Registry) parsed(st *state, e *entry) (schema.Schema, error) {
	e.once.Do(func() {
		h, err := r.handler(e.typ)
		if err != nil {
			e.err = err
			return
		}
		deps, _, err := st.resolveRefs(e.refs)
		if err != nil {
			e.err = err
			return
		}
		e.parsed, e.err = h.Parse(e.text, deps)
		if e.err != nil {
			e.err = fmt.Errorf("stored schema %d does not parse: %w", e.id, e.err)
		}
	})
	return e.parsed, e.err
}
