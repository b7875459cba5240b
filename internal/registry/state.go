package registry

import (
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/samsa-streaming/samsa/internal/registry/schema"
)

// entry is one schema by id: its type, stored text and references. The
// same id serves every subject version that registered the same schema.
type entry struct {
	id   int
	typ  schema.Type
	text string
	refs []schema.Reference

	once   sync.Once
	parsed schema.Schema
	err    error

	answerOnce sync.Once
	answer     []byte // GET /schemas/ids/{id}'s default answer
}

// version is one version of a subject.
type version struct {
	subject  string
	version  int
	id       int
	deleted  bool
	metadata json.RawMessage
	ruleSet  json.RawMessage
}

// subjectState is a subject's versions, ascending, soft-deleted included.
type subjectState struct {
	versions []*version
}

// live returns the versions not soft-deleted.
func (s *subjectState) live() []*version {
	var out []*version
	for _, v := range s.versions {
		if !v.deleted {
			out = append(out, v)
		}
	}
	return out
}

func (s *subjectState) find(v int) *version {
	for _, x := range s.versions {
		if x.version == v {
			return x
		}
	}
	return nil
}

// state is the registry's model of _schemas: a deterministic fold of its
// records (apply). Readers hold mu for reading; apply holds it for writing.
type state struct {
	mu       sync.RWMutex
	subjects map[string]*subjectState
	ids      map[int]*entry
	byText   map[string]int // identity → id
	byGUID   map[string]int // GUID (guidOf) → id
	maxID    int
	configs  map[string]map[string]any // "" is global
	modes    map[string]string         // "" is global
	applied  int64                     // offset of the last record applied, -1 before any
	skipped  int                       // records skipped as undecodable
}

func newState() *state {
	return &state{
		subjects: map[string]*subjectState{},
		ids:      map[int]*entry{},
		byText:   map[string]int{},
		byGUID:   map[string]int{},
		configs:  map[string]map[string]any{},
		modes:    map[string]string{},
		applied:  -1,
	}
}

// identity is the key under which identical schemas share an id: type,
// stored text and references.
func schemaIdentity(typ schema.Type, text string, refs []schema.Reference) string {
	var b strings.Builder
	b.WriteString(string(typ))
	b.WriteByte(0)
	b.WriteString(text)
	for _, r := range refs {
		b.WriteByte(0)
		b.WriteString(r.Name)
		b.WriteByte(1)
		b.WriteString(r.Subject)
		b.WriteByte(1)
		b.WriteString(itoa(r.Version))
	}
	return b.String()
}

// apply folds one _schemas record into the state. A record it cannot
// decode is skipped and logged, never fatal: _schemas may hold records
// other tools wrote.
func (st *state) apply(lg *slog.Logger, offset int64, key, value []byte) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.applied = offset
	k, err := decodeKey(key)
	if err != nil {
		st.skip(lg, offset, err)
		return
	}
	switch k.KeyType {
	case keySchema:
		st.applySchema(lg, offset, k, value)
	case keyConfig, keyMode:
		st.applyScoped(lg, offset, k, value)
	case keyDeleteSubject:
		var v deleteSubjectValue
		if err := decodeValue(value, &v); err != nil {
			st.skip(lg, offset, err)
			return
		}
		if s := st.subjects[v.Subject]; s != nil {
			for _, x := range s.versions {
				if x.version <= v.Version {
					x.deleted = true
				}
			}
		}
	case keyClearSubject:
		var v deleteSubjectValue
		if err := decodeValue(value, &v); err != nil {
			st.skip(lg, offset, err)
			return
		}
		if s := st.subjects[v.Subject]; s != nil {
			for _, x := range slices.Clone(s.versions) {
				if x.deleted {
					st.removeVersion(x.subject, x.version)
				}
			}
		}
	case keyNoop, keyContext:
	default:
		lg.Debug("registry: skipping unknown key type", "offset", offset, "keytype", k.KeyType)
	}
}

func (st *state) skip(lg *slog.Logger, offset int64, err error) {
	st.skipped++
	lg.Warn("registry: skipping undecodable _schemas record", "offset", offset, "err", err)
}

func (st *state) applySchema(lg *slog.Logger, offset int64, k recordKey, value []byte) {
	if k.Subject == nil || k.Version == nil {
		st.skip(lg, offset, errf("SCHEMA key without subject or version"))
		return
	}
	if len(value) == 0 { // tombstone: a hard delete
		st.removeVersion(*k.Subject, *k.Version)
		return
	}
	var v schemaValue
	if err := decodeValue(value, &v); err != nil {
		st.skip(lg, offset, err)
		return
	}
	if v.SchemaType == "" {
		v.SchemaType = string(schema.Avro)
	}
	e := st.ids[v.ID]
	if e == nil {
		e = &entry{id: v.ID, typ: schema.Type(v.SchemaType), text: v.Schema, refs: v.References}
		st.ids[v.ID] = e
		st.byText[schemaIdentity(e.typ, e.text, e.refs)] = v.ID
		st.byGUID[guidOf(e)] = v.ID
	} else if e.text != v.Schema || e.typ != schema.Type(v.SchemaType) {
		lg.Warn("registry: _schemas record reuses an id for a different schema; keeping the first",
			"offset", offset, "id", v.ID, "subject", v.Subject, "version", v.Version)
	}
	st.maxID = max(st.maxID, v.ID)
	s := st.subjects[*k.Subject]
	if s == nil {
		s = &subjectState{}
		st.subjects[*k.Subject] = s
	}
	nv := &version{subject: *k.Subject, version: *k.Version, id: v.ID, deleted: v.Deleted, metadata: v.Metadata, ruleSet: v.RuleSet}
	i, found := slices.BinarySearchFunc(s.versions, nv.version, func(x *version, t int) int { return x.version - t })
	if found {
		s.versions[i] = nv
	} else {
		s.versions = slices.Insert(s.versions, i, nv)
	}
}

// removeVersion removes a subject version for good, and its schema's id
// once nothing refers to it any more (the id itself is never reused:
// maxID keeps it).
func (st *state) removeVersion(subject string, ver int) {
	s := st.subjects[subject]
	if s == nil {
		return
	}
	i := slices.IndexFunc(s.versions, func(x *version) bool { return x.version == ver })
	if i < 0 {
		return
	}
	id := s.versions[i].id
	s.versions = slices.Delete(s.versions, i, i+1)
	if len(s.versions) == 0 {
		delete(st.subjects, subject)
	}
	for _, o := range st.subjects {
		for _, x := range o.versions {
			if x.id == id {
				return
			}
		}
	}
	if e := st.ids[id]; e != nil {
		delete(st.byText, schemaIdentity(e.typ, e.text, e.refs))
		delete(st.byGUID, guidOf(e))
		delete(st.ids, id)
	}
}

func (st *state) applyScoped(lg *slog.Logger, offset int64, k recordKey, value []byte) {
	scope := ""
	if k.Subject != nil {
		scope = *k.Subject
	}
	if len(value) == 0 {
		if k.KeyType == keyConfig {
			delete(st.configs, scope)
		} else {
			delete(st.modes, scope)
		}
		return
	}
	var m map[string]any
	if err := decodeValue(value, &m); err != nil {
		st.skip(lg, offset, err)
		return
	}
	if k.KeyType == keyConfig {
		st.configs[scope] = m
		return
	}
	if mode, _ := m["mode"].(string); mode != "" {
		st.modes[scope] = mode
	}
}

// compatibility is the level that applies to subject.
func (st *state) compatibility(subject string) string {
	for _, scope := range []string{subject, ""} {
		if c, ok := st.configs[scope]; ok {
			if lvl, _ := c["compatibilityLevel"].(string); lvl != "" {
				return lvl
			}
		}
	}
	return defaultCompatibility
}

// mode is the mode that applies to subject.
func (st *state) mode(subject string) string {
	if m, ok := st.modes[subject]; ok && subject != "" {
		return m
	}
	if m, ok := st.modes[""]; ok {
		return m
	}
	return modeReadWrite
}

// nextVersion is the version a new registration under subject gets:
// after every version, soft-deleted ones included.
func (st *state) nextVersion(subject string) int {
	s := st.subjects[subject]
	if s == nil || len(s.versions) == 0 {
		return 1
	}
	return s.versions[len(s.versions)-1].version + 1
}

// referencedBy lists the ids of live versions that reference subject
// version v.
func (st *state) referencedBy(subject string, v int) []int {
	var out []int
	for _, s := range st.subjects {
		for _, x := range s.versions {
			if x.deleted {
				continue
			}
			e := st.ids[x.id]
			if e == nil {
				continue
			}
			for _, r := range e.refs {
				if r.Subject == subject && r.Version == v && !slices.Contains(out, x.id) {
					out = append(out, x.id)
				}
			}
		}
	}
	slices.Sort(out)
	return out
}
