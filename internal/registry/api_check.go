package registry

import (
	"net/http"
	"strings"
)

// lookup is POST /subjects/{subject}: is this schema registered under the
// subject? 40401 for an unknown subject, 40403 for a schema not under it.
func (r *Registry) lookup(req *http.Request) (any, error) {
	subject, err := subjectParam(req)
	if err != nil {
		return nil, err
	}
	var b schemaBody
	if err := r.readBody(req, &b); err != nil {
		return nil, err
	}
	deleted := boolParam(req, "deleted")
	r.st.mu.RLock()
	defer r.st.mu.RUnlock()
	vs, err := r.st.subjectVersions(subject, deleted)
	if err != nil {
		return nil, err
	}
	c, err := r.prepare(r.st, req, subject, &b)
	if err != nil {
		return nil, err
	}
	id, ok := r.st.byText[schemaIdentity(c.typ, c.text, c.refs)]
	if !ok && !boolParam(req, "normalize") {
		// Also match a version registered with ?normalize=true.
		id, ok = r.st.byText[schemaIdentity(c.typ, c.parsed.Normalized(), c.refs)]
	}
	if ok {
		for i := len(vs) - 1; i >= 0; i-- {
			if vs[i].id == id {
				return r.st.view(vs[i], r.st.ids[id].text), nil
			}
		}
	}
	return nil, errSchemaNotFound("the schema is not registered under subject '" + subject + "'")
}

// checkOne is POST /compatibility/subjects/{subject}/versions/{version}:
// the schema against that one version, under the subject's level (its
// direction; transitivity does not apply to a single version).
func (r *Registry) checkOne(req *http.Request) (any, error) {
	subject, err := subjectParam(req)
	if err != nil {
		return nil, err
	}
	ver, err := versionParam(req)
	if err != nil {
		return nil, err
	}
	var b schemaBody
	if err := r.readBody(req, &b); err != nil {
		return nil, err
	}
	r.st.mu.RLock()
	defer r.st.mu.RUnlock()
	var against []*version
	if s := r.st.subjects[subject]; s != nil || ver != -1 {
		v, err := r.st.findVersion(subject, ver, false)
		if err != nil {
			return nil, err
		}
		against = []*version{v}
	}
	return r.compatAnswer(req, subject, &b, against, false)
}

// checkAll is POST /compatibility/subjects/{subject}/versions: the schema
// against every version the subject's level covers.
func (r *Registry) checkAll(req *http.Request) (any, error) {
	subject, err := subjectParam(req)
	if err != nil {
		return nil, err
	}
	var b schemaBody
	if err := r.readBody(req, &b); err != nil {
		return nil, err
	}
	r.st.mu.RLock()
	defer r.st.mu.RUnlock()
	var live []*version
	if s := r.st.subjects[subject]; s != nil {
		live = s.live()
	}
	return r.compatAnswer(req, subject, &b, live, true)
}

type compatResult struct {
	IsCompatible bool     `json:"is_compatible"`
	Messages     []string `json:"messages"`
}

// compatAnswer checks b against versions (st held for reading). With
// transitive false every given version is checked under the level's
// direction; with true the level decides which of them count.
func (r *Registry) compatAnswer(req *http.Request, subject string, b *schemaBody, versions []*version, transitive bool) (any, error) {
	c, err := r.prepare(r.st, req, subject, b)
	if err != nil {
		return nil, err
	}
	level := r.st.compatibility(subject)
	if !transitive && level != "NONE" && !strings.HasSuffix(level, "_TRANSITIVE") {
		level += "_TRANSITIVE" // check each given version
	}
	msgs, err := r.checkLevel(r.st, level, c.h, c.parsed, c.typ, versions)
	if err != nil {
		return nil, err
	}
	res := compatResult{IsCompatible: len(msgs) == 0, Messages: []string{}}
	if !res.IsCompatible && boolParam(req, "verbose") {
		res.Messages = msgs
	}
	return res, nil
}
