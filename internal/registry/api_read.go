package registry

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/samsa-streaming/samsa/internal/registry/schema"
)

// subjectVersion is a subject version as the API answers it.
type subjectVersion struct {
	Subject    string             `json:"subject"`
	Version    int                `json:"version"`
	ID         int                `json:"id"`
	GUID       string             `json:"guid,omitempty"`
	SchemaType string             `json:"schemaType,omitempty"`
	References []schema.Reference `json:"references,omitempty"`
	Metadata   json.RawMessage    `json:"metadata,omitempty"`
	RuleSet    json.RawMessage    `json:"ruleSet,omitempty"`
	Schema     string             `json:"schema"`
	Deleted    bool               `json:"deleted,omitempty"`
}

// schemaByID is GET /schemas/ids/{id}'s answer.
type schemaByID struct {
	Schema     string             `json:"schema"`
	SchemaType string             `json:"schemaType,omitempty"`
	References []schema.Reference `json:"references,omitempty"`
	GUID       string             `json:"guid,omitempty"`
}

// apiType is the schemaType the API shows: omitted for AVRO, as Confluent.
func apiType(t schema.Type) string {
	if t == schema.Avro {
		return ""
	}
	return string(t)
}

// guidOf is a schema's GUID: derived from its identity, so that every
// instance computes the same one.
func guidOf(e *entry) string {
	sum := sha256.Sum256([]byte(schemaIdentity(e.typ, e.text, e.refs)))
	sum[6] = sum[6]&0x0f | 0x50 // version 5 style
	sum[8] = sum[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16])
}

// view renders v with its schema (st held for reading).
func (st *state) view(v *version, text string) subjectVersion {
	e := st.ids[v.id]
	return subjectVersion{Subject: v.subject, Version: v.version, ID: v.id, GUID: guidOf(e), SchemaType: apiType(e.typ),
		References: e.refs, Metadata: v.metadata, RuleSet: v.ruleSet, Schema: text, Deleted: v.deleted}
}

// formatted renders e's text in format (st held for reading).
func (r *Registry) formatted(st *state, e *entry, format string) (string, error) {
	if format == "" {
		return e.text, nil
	}
	p, err := r.parsed(st, e)
	if err != nil {
		return "", errInvalidSchema("%v", err)
	}
	out, err := p.Format(format)
	if err != nil {
		return "", apiErr(400, codeBadRequest, "format %q: %v", format, err)
	}
	return out, nil
}

func (r *Registry) getTypes(*http.Request) (any, error) {
	return r.typeNames(), nil
}

func (r *Registry) getClusterID(*http.Request) (any, error) {
	return map[string]any{"scope": map[string]any{"path": []string{}, "clusters": map[string]string{
		"kafka-cluster": r.store.clusterID(), "schema-registry-cluster": r.cfg.GroupID}}}, nil
}

// knownID is the {id} of req once it names a schema this instance knows
// (entryByID).
func (r *Registry) knownID(req *http.Request) (int, error) {
	id, err := idParam(req)
	if err != nil {
		return 0, err
	}
	return id, r.entryByID(req, id)
}

// entryByID finds id, first catching up with the store once if it is not
// known yet (a schema registered through another instance a moment ago).
func (r *Registry) entryByID(req *http.Request, id int) error {
	r.st.mu.RLock()
	_, ok := r.st.ids[id]
	r.st.mu.RUnlock()
	if ok {
		return nil
	}
	if err := r.store.catchUp(req.Context()); err != nil {
		return err
	}
	r.st.mu.RLock()
	_, ok = r.st.ids[id]
	r.st.mu.RUnlock()
	if !ok {
		return apiErr(404, codeSchemaNotFound, "Schema %d not found", id)
	}
	return nil
}

func (r *Registry) getSchemaByID(req *http.Request) (any, error) {
	id, err := r.knownID(req)
	if err != nil {
		return nil, err
	}
	format := req.URL.Query().Get("format")
	r.st.mu.RLock()
	defer r.st.mu.RUnlock()
	e := r.st.ids[id]
	if e == nil {
		return nil, apiErr(404, codeSchemaNotFound, "Schema %d not found", id)
	}
	if format == "" {
		return rawAnswer(e.byIDAnswer()), nil
	}
	text, err := r.formatted(r.st, e, format)
	if err != nil {
		return nil, err
	}
	return schemaByID{Schema: text, SchemaType: apiType(e.typ), References: e.refs}, nil
}

// byIDAnswer is the encoded default answer for e, built once.
func (e *entry) byIDAnswer() []byte {
	e.answerOnce.Do(func() {
		e.answer, _ = json.Marshal(schemaByID{Schema: e.text, SchemaType: apiType(e.typ), References: e.refs, GUID: guidOf(e)})
	})
	return e.answer
}

func (r *Registry) getRawSchemaByID(req *http.Request) (any, error) {
	id, err := r.knownID(req)
	if err != nil {
		return nil, err
	}
	r.st.mu.RLock()
	defer r.st.mu.RUnlock()
	e := r.st.ids[id]
	if e == nil {
		return nil, apiErr(404, codeSchemaNotFound, "Schema %d not found", id)
	}
	text, err := r.formatted(r.st, e, req.URL.Query().Get("format"))
	if err != nil {
		return nil, err
	}
	return rawAnswer(text), nil
}

// usages lists the subject versions that use id (st held for reading).
func (st *state) usages(id int, deleted bool) []*version {
	var out []*version
	for _, s := range st.subjects {
		for _, v := range s.versions {
			if v.id == id && (deleted || !v.deleted) {
				out = append(out, v)
			}
		}
	}
	slices.SortFunc(out, func(a, b *version) int {
		if c := strings.Compare(a.subject, b.subject); c != 0 {
			return c
		}
		return a.version - b.version
	})
	return out
}

func (r *Registry) getSubjectsByID(req *http.Request) (any, error) {
	id, err := r.knownID(req)
	if err != nil {
		return nil, err
	}
	r.st.mu.RLock()
	defer r.st.mu.RUnlock()
	out := []string{}
	for _, v := range r.st.usages(id, boolParam(req, "deleted")) {
		if !slices.Contains(out, v.subject) {
			out = append(out, v.subject)
		}
	}
	return out, nil
}

func (r *Registry) getVersionsByID(req *http.Request) (any, error) {
	id, err := r.knownID(req)
	if err != nil {
		return nil, err
	}
	type sv struct {
		Subject string `json:"subject"`
		Version int    `json:"version"`
	}
	r.st.mu.RLock()
	defer r.st.mu.RUnlock()
	out := []sv{}
	for _, v := range r.st.usages(id, boolParam(req, "deleted")) {
		out = append(out, sv{v.subject, v.version})
	}
	return out, nil
}

func (r *Registry) getSchemaByGUID(req *http.Request) (any, error) {
	guid := req.PathValue("guid")
	r.st.mu.RLock()
	defer r.st.mu.RUnlock()
	if id, ok := r.st.byGUID[guid]; ok {
		e := r.st.ids[id]
		{
			if strings.HasSuffix(req.URL.Path, "/ids") {
				return []map[string]any{{"context": ".", "id": e.id}}, nil
			}
			return schemaByID{Schema: e.text, SchemaType: apiType(e.typ), References: e.refs, GUID: guid}, nil
		}
	}
	return nil, apiErr(404, codeSchemaNotFound, "Schema with guid %s not found", guid)
}

// page applies ?offset= and ?limit= to a list.
func page[T any](req *http.Request, list []T) []T {
	q := req.URL.Query()
	if off, err := strconv.Atoi(q.Get("offset")); err == nil && off > 0 {
		list = list[min(off, len(list)):]
	}
	if lim, err := strconv.Atoi(q.Get("limit")); err == nil && lim > 0 && lim < len(list) {
		list = list[:lim]
	}
	return list
}

func (r *Registry) getSubjects(req *http.Request) (any, error) {
	prefix := req.URL.Query().Get("subjectPrefix")
	deleted, deletedOnly := boolParam(req, "deleted"), boolParam(req, "deletedOnly")
	r.st.mu.RLock()
	out := []string{}
	for name, s := range r.st.subjects {
		if !strings.HasPrefix(name, prefix) {
			continue
		}
		live := len(s.live()) > 0
		switch {
		case deletedOnly && len(s.live()) < len(s.versions):
		case !deletedOnly && (live || deleted):
		default:
			continue
		}
		out = append(out, name)
	}
	r.st.mu.RUnlock()
	slices.Sort(out)
	return page(req, out), nil
}

func (r *Registry) getSchemas(req *http.Request) (any, error) {
	q := req.URL.Query()
	prefix := q.Get("subjectPrefix")
	deleted, latestOnly := boolParam(req, "deleted"), boolParam(req, "latestOnly")
	r.st.mu.RLock()
	defer r.st.mu.RUnlock()
	var names []string
	for name := range r.st.subjects {
		if strings.HasPrefix(name, prefix) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	out := []subjectVersion{}
	for _, name := range names {
		vs := r.st.subjects[name].versions
		if !deleted {
			vs = r.st.subjects[name].live()
		}
		if latestOnly && len(vs) > 0 {
			vs = vs[len(vs)-1:]
		}
		for _, v := range vs {
			out = append(out, r.st.view(v, r.st.ids[v.id].text))
		}
	}
	return page(req, out), nil
}

// subjectVersions returns the versions of subject a read may see: live
// ones, or all with deleted. An unknown subject, or one whose versions are
// all soft-deleted when deleted is false, is a 40401.
func (st *state) subjectVersions(subject string, deleted bool) ([]*version, error) {
	s := st.subjects[subject]
	if s == nil {
		return nil, errSubjectNotFound(subject)
	}
	vs := s.versions
	if !deleted {
		vs = s.live()
	}
	if len(vs) == 0 {
		return nil, errSubjectNotFound(subject)
	}
	return vs, nil
}

func (r *Registry) getVersions(req *http.Request) (any, error) {
	subject, err := subjectParam(req)
	if err != nil {
		return nil, err
	}
	deletedOnly := boolParam(req, "deletedOnly")
	r.st.mu.RLock()
	defer r.st.mu.RUnlock()
	vs, err := r.st.subjectVersions(subject, boolParam(req, "deleted") || deletedOnly)
	if err != nil {
		return nil, err
	}
	out := []int{}
	for _, v := range vs {
		if !deletedOnly || v.deleted {
			out = append(out, v.version)
		}
	}
	return page(req, out), nil
}

// findVersion resolves {version} of subject for reads (st held for
// reading): latest is the newest live version (or newest at all with
// deleted).
func (st *state) findVersion(subject string, ver int, deleted bool) (*version, error) {
	s := st.subjects[subject]
	if s == nil {
		return nil, errSubjectNotFound(subject)
	}
	if ver == -1 {
		vs, err := st.subjectVersions(subject, deleted)
		if err != nil {
			return nil, err
		}
		return vs[len(vs)-1], nil
	}
	v := s.find(ver)
	if v == nil || (v.deleted && !deleted) {
		return nil, errVersionNotFound(subject, itoa(ver))
	}
	return v, nil
}

func (r *Registry) versionFor(req *http.Request) (*version, error) {
	subject, err := subjectParam(req)
	if err != nil {
		return nil, err
	}
	ver, err := versionParam(req)
	if err != nil {
		return nil, err
	}
	return r.st.findVersion(subject, ver, boolParam(req, "deleted"))
}

func (r *Registry) getVersion(req *http.Request) (any, error) {
	r.st.mu.RLock()
	defer r.st.mu.RUnlock()
	v, err := r.versionFor(req)
	if err != nil {
		return nil, err
	}
	text, err := r.formatted(r.st, r.st.ids[v.id], req.URL.Query().Get("format"))
	if err != nil {
		return nil, err
	}
	return r.st.view(v, text), nil
}

func (r *Registry) getRawVersion(req *http.Request) (any, error) {
	r.st.mu.RLock()
	defer r.st.mu.RUnlock()
	v, err := r.versionFor(req)
	if err != nil {
		return nil, err
	}
	text, err := r.formatted(r.st, r.st.ids[v.id], req.URL.Query().Get("format"))
	if err != nil {
		return nil, err
	}
	return rawAnswer(text), nil
}

func (r *Registry) getReferencedBy(req *http.Request) (any, error) {
	r.st.mu.RLock()
	defer r.st.mu.RUnlock()
	v, err := r.versionFor(req)
	if err != nil {
		return nil, err
	}
	out := r.st.referencedBy(v.subject, v.version)
	if out == nil {
		out = []int{}
	}
	return out, nil
}

// getByMetadata answers the latest version of the subject whose
// metadata.properties hold every key=value pair asked for.
func (r *Registry) getByMetadata(req *http.Request) (any, error) {
	subject, err := subjectParam(req)
	if err != nil {
		return nil, err
	}
	q := req.URL.Query()
	keys, values := q["key"], q["value"]
	if len(keys) != len(values) {
		return nil, apiErr(400, codeBadRequest, "key and value parameters must come in pairs (%d keys, %d values)", len(keys), len(values))
	}
	r.st.mu.RLock()
	defer r.st.mu.RUnlock()
	vs, err := r.st.subjectVersions(subject, boolParam(req, "deleted"))
	if err != nil {
		return nil, err
	}
	for i := len(vs) - 1; i >= 0; i-- {
		var md struct {
			Properties map[string]string `json:"properties"`
		}
		if len(vs[i].metadata) > 0 {
			_ = json.Unmarshal(vs[i].metadata, &md)
		}
		match := true
		for j, k := range keys {
			if md.Properties[k] != values[j] {
				match = false
				break
			}
		}
		if match {
			return r.st.view(vs[i], r.st.ids[vs[i].id].text), nil
		}
	}
	return nil, apiErr(404, codeSubjectNotFound, "No version of subject '%s' has metadata matching %v=%v", subject, keys, values)
}

func (r *Registry) getConfig(req *http.Request) (any, error) {
	subject := req.PathValue("subject")
	r.st.mu.RLock()
	defer r.st.mu.RUnlock()
	if c, ok := r.st.configs[subject]; ok {
		return c, nil
	}
	if subject != "" && !boolParam(req, "defaultToGlobal") {
		return nil, apiErr(404, codeSubjectConfigNotFound, "Subject '%s' does not have subject-level compatibility configured", subject)
	}
	if c, ok := r.st.configs[""]; ok {
		return c, nil
	}
	return map[string]any{"compatibilityLevel": defaultCompatibility}, nil
}

func (r *Registry) getMode(req *http.Request) (any, error) {
	subject := req.PathValue("subject")
	r.st.mu.RLock()
	defer r.st.mu.RUnlock()
	if m, ok := r.st.modes[subject]; ok {
		return map[string]string{"mode": m}, nil
	}
	if subject != "" && !boolParam(req, "defaultToGlobal") {
		return nil, apiErr(404, codeSubjectModeNotFound, "Subject '%s' does not have subject-level mode configured", subject)
	}
	return map[string]string{"mode": r.st.mode("")}, nil
}
