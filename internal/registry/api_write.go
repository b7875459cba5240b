package registry

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-streaming/samsa/internal/registry/schema"
)

// schemaBody is the body of a registration, a lookup or a compatibility
// check. Fields clients add later are ignored.
type schemaBody struct {
	Schema     string             `json:"schema"`
	SchemaType string             `json:"schemaType"`
	References []schema.Reference `json:"references"`
	Metadata   json.RawMessage    `json:"metadata"`
	RuleSet    json.RawMessage    `json:"ruleSet"`
	// ID and Version are int32 as in Confluent's wire format and API: a
	// larger number is a 422 when the body is read, not an id no
	// serializer can write.
	ID      int32 `json:"id"`
	Version int32 `json:"version"`
}

// candidate is a parsed request schema.
type candidate struct {
	typ    schema.Type
	h      schema.Handler
	parsed schema.Schema
	text   string // the form stored: canonical, or normalized
	refs   []schema.Reference
}

// prepare parses a request's schema (st held for reading).
func (r *Registry) prepare(st *state, req *http.Request, subject string, b *schemaBody) (*candidate, error) {
	if len(b.Schema) > r.cfg.MaxSchemaBytes {
		return nil, apiErr(422, codeSchemaTooLarge, "Schema too large: %d bytes, at most %d", len(b.Schema), r.cfg.MaxSchemaBytes)
	}
	if b.Schema == "" {
		return nil, errInvalidSchema("the request has no schema")
	}
	typ := schema.Type(b.SchemaType)
	if typ == "" {
		typ = schema.Avro
	}
	h, err := r.handler(typ)
	if err != nil {
		return nil, err
	}
	deps, refs, err := st.resolveRefs(b.References)
	if err != nil {
		return nil, err
	}
	p, err := h.Parse(b.Schema, deps)
	if err != nil {
		return nil, errInvalidSchema("%v", err)
	}
	c := &candidate{typ: typ, h: h, parsed: p, text: p.Canonical(), refs: refs}
	if boolParam(req, "normalize") || st.normalize(subject) {
		c.text = p.Normalized()
	}
	return c, nil
}

// normalize says the subject's (or global) config asks for normalization.
func (st *state) normalize(subject string) bool {
	for _, scope := range []string{subject, ""} {
		if c, ok := st.configs[scope]; ok {
			if n, ok := c["normalize"].(bool); ok {
				return n
			}
		}
	}
	return false
}

// register is POST /subjects/{subject}/versions, on the leader.
func (r *Registry) register(req *http.Request) (any, error) {
	subject, err := subjectParam(req)
	if err != nil {
		return nil, err
	}
	var b schemaBody
	if err := r.readBody(req, &b); err != nil {
		return nil, err
	}
	r.st.mu.RLock()
	rec, id, err := r.planRegister(req, subject, &b)
	r.st.mu.RUnlock()
	if err != nil || rec == nil {
		return map[string]int{"id": id}, err
	}
	if err := r.store.write(req.Context(), rec); err != nil {
		return nil, err
	}
	return map[string]int{"id": id}, nil
}

// planRegister decides a registration (st held for reading): the record
// to write, or none when the schema is already registered.
func (r *Registry) planRegister(req *http.Request, subject string, b *schemaBody) (*kgo.Record, int, error) {
	st := r.st
	mode := st.mode(subject)
	if mode == modeReadOnly || mode == modeReadOnlyOverride {
		return nil, 0, errNotPermitted("Subject %s is in read-only mode", subject)
	}
	importing := mode == modeImport
	if b.ID > 0 && !importing {
		return nil, 0, errNotPermitted("Subject %s is not in import mode: a schema id can be given only in IMPORT mode", subject)
	}
	if importing && b.ID <= 0 {
		return nil, 0, errNotPermitted("Subject %s is in import mode: the registration must give the schema id", subject)
	}
	if importing && b.Version < 0 {
		return nil, 0, apiErr(422, codeInvalidVersion, "The specified version '%d' is not a valid version id. Allowed values are between [1, 2^31-1]", b.Version)
	}
	c, err := r.prepare(st, req, subject, b)
	if err != nil {
		return nil, 0, err
	}
	key := schemaIdentity(c.typ, c.text, c.refs)
	existing, known := st.byText[key]
	live := []*version{}
	if s := st.subjects[subject]; s != nil {
		live = s.live()
	}
	if known {
		for _, v := range live {
			if v.id != existing {
				continue
			}
			if importing && int(b.ID) != existing {
				// As Confluent's IdDoesNotMatchException: one schema, one
				// id per subject.
				return nil, 0, apiErr(422, codeIDMismatch, "Schema already registered with id %d instead of input id %d", existing, b.ID)
			}
			return nil, existing, nil // already registered
		}
	}
	id := existing
	if importing {
		if e := st.ids[int(b.ID)]; e != nil && schemaIdentity(e.typ, e.text, e.refs) != key {
			return nil, 0, apiErr(422, codeIDMismatch, "Error while registering schema: the id %d is already used by a different schema", b.ID)
		}
		id = int(b.ID)
	} else {
		msgs, err := r.checkLevel(st, st.compatibility(subject), c.h, c.parsed, c.typ, live)
		if err != nil {
			return nil, 0, err
		}
		if len(msgs) > 0 {
			return nil, 0, &incompatibleError{msgs: msgs, level: st.compatibility(subject)}
		}
		if !known {
			id = st.maxID + 1
		}
	}
	ver := st.nextVersion(subject)
	if importing && b.Version > 0 {
		if s := st.subjects[subject]; s != nil {
			if v := s.find(int(b.Version)); v != nil && v.id != id {
				return nil, 0, apiErr(422, codeIDMismatch, "Error while registering schema: version %d of %s already holds schema id %d", b.Version, subject, v.id)
			}
		}
		ver = int(b.Version)
	}
	val := schemaValue{Subject: subject, Version: ver, ID: id, Schema: c.text, SchemaType: string(c.typ),
		References: c.refs, Metadata: b.Metadata, RuleSet: b.RuleSet}
	vb, err := json.Marshal(val)
	if err != nil {
		return nil, 0, errStore("encoding: %v", err)
	}
	return &kgo.Record{Key: schemaKey(subject, ver).encode(), Value: vb}, id, nil
}

// incompatibleError is a 409 whose message lists every breaking change.
type incompatibleError struct {
	level string
	msgs  []string
}

func (e *incompatibleError) Error() string {
	b, _ := json.Marshal(e.msgs)
	return "Schema being registered is incompatible with an earlier schema for subject under compatibility level " + e.level + "; details: " + string(b)
}

// deleteSubject is DELETE /subjects/{subject}[?permanent=true].
func (r *Registry) deleteSubject(req *http.Request) (any, error) {
	subject, err := subjectParam(req)
	if err != nil {
		return nil, err
	}
	permanent := boolParam(req, "permanent")
	r.st.mu.RLock()
	recs, deleted, err := r.planDeleteSubject(subject, permanent)
	r.st.mu.RUnlock()
	if err != nil {
		return nil, err
	}
	if err := r.store.write(req.Context(), recs...); err != nil {
		return nil, err
	}
	return deleted, nil
}

func (r *Registry) planDeleteSubject(subject string, permanent bool) ([]*kgo.Record, []int, error) {
	st := r.st
	s := st.subjects[subject]
	if s == nil {
		return nil, nil, errSubjectNotFound(subject)
	}
	if m := st.mode(subject); m == modeReadOnly || m == modeReadOnlyOverride {
		return nil, nil, errNotPermitted("Subject %s is in read-only mode", subject)
	}
	live := s.live()
	if permanent && len(live) > 0 {
		return nil, nil, apiErr(404, codeSubjectNotSoftDeleted, "Subject '%s' was not deleted first before being permanently deleted", subject)
	}
	if !permanent && len(live) == 0 {
		return nil, nil, apiErr(404, codeSubjectSoftDeleted, "Subject '%s' was soft deleted. Set permanent=true to delete permanently", subject)
	}
	targets := live
	if permanent {
		targets = s.versions
	}
	var recs []*kgo.Record
	deleted := []int{}
	for _, v := range targets {
		if ids := st.referencedBy(subject, v.version); len(ids) > 0 {
			return nil, nil, apiErr(422, codeReferenceExists, "One or more references exist to the schema {subject=%s,version=%d}: ids %v", subject, v.version, ids)
		}
		rec, err := st.deleteRecord(v, permanent)
		if err != nil {
			return nil, nil, err
		}
		recs = append(recs, rec)
		deleted = append(deleted, v.version)
	}
	return recs, deleted, nil
}

// deleteRecord is the record that soft-deletes v (its value with deleted
// set) or removes it (a tombstone).
func (st *state) deleteRecord(v *version, permanent bool) (*kgo.Record, error) {
	key := schemaKey(v.subject, v.version).encode()
	if permanent {
		return &kgo.Record{Key: key}, nil
	}
	e := st.ids[v.id]
	val := schemaValue{Subject: v.subject, Version: v.version, ID: v.id, Schema: e.text, SchemaType: string(e.typ),
		References: e.refs, Metadata: v.metadata, RuleSet: v.ruleSet, Deleted: true}
	vb, err := json.Marshal(val)
	if err != nil {
		return nil, errStore("encoding: %v", err)
	}
	return &kgo.Record{Key: key, Value: vb}, nil
}

// deleteVersion is DELETE /subjects/{subject}/versions/{version}.
func (r *Registry) deleteVersion(req *http.Request) (any, error) {
	subject, err := subjectParam(req)
	if err != nil {
		return nil, err
	}
	ver, err := versionParam(req)
	if err != nil {
		return nil, err
	}
	permanent := boolParam(req, "permanent")
	r.st.mu.RLock()
	rec, n, err := r.planDeleteVersion(subject, ver, permanent)
	r.st.mu.RUnlock()
	if err != nil {
		return nil, err
	}
	if err := r.store.write(req.Context(), rec); err != nil {
		return nil, err
	}
	return n, nil
}

func (r *Registry) planDeleteVersion(subject string, ver int, permanent bool) (*kgo.Record, int, error) {
	st := r.st
	s := st.subjects[subject]
	if s == nil {
		return nil, 0, errSubjectNotFound(subject)
	}
	if m := st.mode(subject); m == modeReadOnly || m == modeReadOnlyOverride {
		return nil, 0, errNotPermitted("Subject %s is in read-only mode", subject)
	}
	var v *version
	if ver == -1 {
		vs := s.live()
		if permanent {
			vs = s.versions
		}
		if len(vs) == 0 {
			return nil, 0, errSubjectNotFound(subject)
		}
		v = vs[len(vs)-1]
	} else if v = s.find(ver); v == nil {
		return nil, 0, errVersionNotFound(subject, itoa(ver))
	}
	switch {
	case permanent && !v.deleted:
		return nil, 0, apiErr(404, codeVersionNotSoftDeleted, "Subject '%s' Version %d was not deleted first before being permanently deleted", subject, v.version)
	case !permanent && v.deleted:
		return nil, 0, apiErr(404, codeVersionSoftDeleted, "Subject '%s' Version %d was soft deleted. Set permanent=true to delete permanently", subject, v.version)
	}
	if ids := st.referencedBy(subject, v.version); len(ids) > 0 {
		return nil, 0, apiErr(422, codeReferenceExists, "One or more references exist to the schema {subject=%s,version=%d}: ids %v", subject, v.version, ids)
	}
	rec, err := st.deleteRecord(v, permanent)
	return rec, v.version, err
}

// putConfig is PUT /config[/{subject}]: {"compatibility": LEVEL, ...}.
func (r *Registry) putConfig(req *http.Request) (any, error) {
	subject := req.PathValue("subject")
	var body map[string]any
	if err := r.readBody(req, &body); err != nil {
		return nil, err
	}
	given := map[string]any{}
	for k, v := range body {
		if k != "compatibility" && k != "compatibilityLevel" {
			given[k] = v
		}
	}
	level, _ := body["compatibility"].(string)
	if level == "" {
		level, _ = body["compatibilityLevel"].(string)
	}
	if level != "" {
		if !slices.Contains(compatibilityLevels, level) {
			return nil, apiErr(422, codeInvalidCompatibility, "Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive")
		}
		given["compatibilityLevel"] = level
	} else if len(given) == 0 {
		return nil, apiErr(422, codeInvalidCompatibility, "Invalid compatibility level: the body names none")
	}
	// Fields the request leaves out keep their stored values ({"normalize":
	// true} alone does not drop the level).
	stored := map[string]any{}
	r.st.mu.RLock()
	for k, v := range r.st.configs[subject] {
		stored[k] = v
	}
	r.st.mu.RUnlock()
	for k, v := range given {
		stored[k] = v
	}
	if err := r.writeScoped(req.Context(), keyConfig, subject, stored); err != nil {
		return nil, err
	}
	echo := map[string]any{}
	for k, v := range given {
		echo[k] = v
	}
	delete(echo, "compatibilityLevel")
	if level != "" {
		echo["compatibility"] = level
	}
	return echo, nil
}

// deleteConfig is DELETE /config[/{subject}]: answers the level removed.
func (r *Registry) deleteConfig(req *http.Request) (any, error) {
	subject := req.PathValue("subject")
	r.st.mu.RLock()
	prev, ok := r.st.configs[subject]
	_, known := r.st.subjects[subject]
	r.st.mu.RUnlock()
	if subject != "" && !ok && !known {
		return nil, errSubjectNotFound(subject)
	}
	if !ok {
		prev = map[string]any{"compatibilityLevel": defaultCompatibility}
	}
	if err := r.writeScoped(req.Context(), keyConfig, subject, nil); err != nil {
		return nil, err
	}
	return prev, nil
}

// putMode is PUT /mode[/{subject}][?force=true]: {"mode": MODE}.
func (r *Registry) putMode(req *http.Request) (any, error) {
	subject := req.PathValue("subject")
	var body struct {
		Mode string `json:"mode"`
	}
	if err := r.readBody(req, &body); err != nil {
		return nil, err
	}
	if !slices.Contains(modes, body.Mode) {
		return nil, apiErr(422, codeInvalidMode, "Invalid mode %q. Valid values are READWRITE, READONLY, READONLY_OVERRIDE and IMPORT", body.Mode)
	}
	if body.Mode == modeImport && !boolParam(req, "force") {
		r.st.mu.RLock()
		nonEmpty := false
		for name, s := range r.st.subjects {
			if (subject == "" || name == subject) && len(s.versions) > 0 {
				nonEmpty = true
			}
		}
		r.st.mu.RUnlock()
		if nonEmpty {
			return nil, errNotPermitted("Cannot import since found existing subjects; use force=true to switch to IMPORT mode anyway")
		}
	}
	if err := r.writeScoped(req.Context(), keyMode, subject, map[string]any{"mode": body.Mode}); err != nil {
		return nil, err
	}
	return map[string]string{"mode": body.Mode}, nil
}

// deleteMode is DELETE /mode[/{subject}]: answers the mode removed.
func (r *Registry) deleteMode(req *http.Request) (any, error) {
	subject := req.PathValue("subject")
	r.st.mu.RLock()
	prev, ok := r.st.modes[subject]
	_, known := r.st.subjects[subject]
	r.st.mu.RUnlock()
	if subject != "" && !ok && !known {
		return nil, errSubjectNotFound(subject)
	}
	if !ok {
		prev = modeReadWrite
	}
	if err := r.writeScoped(req.Context(), keyMode, subject, nil); err != nil {
		return nil, err
	}
	return map[string]string{"mode": prev}, nil
}

// writeScoped writes a CONFIG or MODE record (nil value: a tombstone).
func (r *Registry) writeScoped(ctx context.Context, keyType, subject string, v map[string]any) error {
	rec := &kgo.Record{Key: scopedKey(keyType, subject).encode()}
	if v != nil {
		b, err := json.Marshal(v)
		if err != nil {
			return errStore("encoding: %v", err)
		}
		rec.Value = b
	}
	return r.store.write(ctx, rec)
}

// deleteContext is DELETE /contexts/{context}: only the default context
// exists, and it cannot be deleted.
func (r *Registry) deleteContext(req *http.Request) (any, error) {
	c := req.PathValue("context")
	if c == "." || c == "" {
		return nil, errNotPermitted("The default context cannot be deleted")
	}
	return nil, apiErr(404, codeNotFound, "Context '%s' not found", c)
}
