package restproxy

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-streaming/samsa/serde/wire"
)

// The schema'd types of v3 produce (AVRO, JSONSCHEMA, PROTOBUF) and
// consume, through the registry client of formats.go. A key or value
// names its schema by schema_id, by schema_version (of its subject; -1 is
// the latest), by an inline schema (registered under its subject, as the
// serializers do) or by nothing (the subject's latest version). The
// subject is "subject", else subject_name_strategy's choice: TOPIC_NAME
// (default, <topic>-key / <topic>-value), RECORD_NAME or
// TOPIC_RECORD_NAME (from the schema's record name).

// registryType is the registry's schemaType of a v3 type.
func registryType(typ string) string {
	if typ == "JSONSCHEMA" {
		return "JSON"
	}
	return typ
}

// v3Type is the v3 type of a registry schemaType.
func v3Type(regType string) string {
	if regType == "JSON" {
		return "JSONSCHEMA"
	}
	return regType
}

// latestTTL is how long the latest version of a subject is cached.
const latestTTL = 10 * time.Second

// versionCache caches subject versions to schema ids (the latest for
// latestTTL), bounded.
type versionCache struct {
	mu sync.Mutex
	m  map[string]versionEntry
}

type versionEntry struct {
	id, version int
	at          time.Time
}

// schemaFor resolves the schema of d, for a key (isKey) or value of topic.
func (a *v3) schemaFor(ctx context.Context, topic string, isKey bool, typ string, d *v3Data) (*regSchema, string, int, error) {
	if d.SchemaID != nil {
		rs, err := a.s.schemas.schemaByID(ctx, int32(*d.SchemaID))
		return rs, d.Subject, 0, err
	}
	if typ == "" && d.Schema != "" {
		return nil, "", 0, apiErr(400, 400, "an inline schema needs a type (AVRO, JSONSCHEMA, PROTOBUF)")
	}
	subject, err := subjectFor(topic, isKey, typ, d)
	if err != nil {
		return nil, "", 0, err
	}
	if d.Schema != "" {
		rs, err := a.s.schemas.register(ctx, subject, registryType(typ), d.Schema)
		return rs, subject, 0, err
	}
	version := -1
	if d.SchemaVersion != nil {
		version = int(*d.SchemaVersion)
	}
	id, ver, err := a.subjectVersion(ctx, subject, version)
	if err != nil {
		return nil, "", 0, err
	}
	rs, err := a.s.schemas.schemaByID(ctx, int32(id))
	return rs, subject, ver, err
}

// subjectFor is the subject of a key or value.
func subjectFor(topic string, isKey bool, typ string, d *v3Data) (string, error) {
	if d.Subject != "" {
		return d.Subject, nil
	}
	suffix := "-value"
	if isKey {
		suffix = "-key"
	}
	switch strings.ToUpper(d.SubjectNameStrategy) {
	case "", "TOPIC_NAME":
		return topic + suffix, nil
	case "RECORD_NAME", "TOPIC_RECORD_NAME":
		name := recordName(typ, d.Schema)
		if name == "" {
			return "", apiErr(400, 400, "subject_name_strategy %s needs an inline schema with a record name, or a subject", d.SubjectNameStrategy)
		}
		if strings.ToUpper(d.SubjectNameStrategy) == "TOPIC_RECORD_NAME" {
			return topic + "-" + name, nil
		}
		return name, nil
	}
	return "", apiErr(400, 400, "subject_name_strategy %q: want TOPIC_NAME, RECORD_NAME or TOPIC_RECORD_NAME", d.SubjectNameStrategy)
}

// recordName is the full name of an inline schema's record: Avro's
// namespace.name, Protobuf's package.FirstMessage, JSON Schema's title.
func recordName(typ, text string) string {
	switch typ {
	case "AVRO":
		var s struct{ Name, Namespace string }
		if json.Unmarshal([]byte(text), &s) != nil || s.Name == "" {
			return ""
		}
		if s.Namespace != "" && !strings.Contains(s.Name, ".") {
			return s.Namespace + "." + s.Name
		}
		return s.Name
	case "JSONSCHEMA":
		var s struct{ Title string }
		_ = json.Unmarshal([]byte(text), &s)
		return s.Title
	case "PROTOBUF":
		protoPackageRE := regexp.MustCompile(`\bpackage\s+([\w.]+)\s*;`)
		protoMessageRE := regexp.MustCompile(`\bmessage\s+(\w+)`)
		m := protoMessageRE.FindStringSubmatch(text)
		if m == nil {
			return ""
		}
		if p := protoPackageRE.FindStringSubmatch(text); p != nil {
			return p[1] + "." + m[1]
		}
		return m[1]
	}
	return ""
}

// subjectVersion is the schema id and version of a subject's version (-1:
// the latest).
func (a *v3) subjectVersion(ctx context.Context, subject string, version int) (int, int, error) {
	key := subject + "\x00" + strconv.Itoa(version)
	a.versions.mu.Lock()
	e, found := a.versions.m[key]
	a.versions.mu.Unlock()
	if found && (version >= 0 || time.Since(e.at) < latestTTL) {
		return e.id, e.version, nil
	}
	v := "latest"
	if version >= 0 {
		v = strconv.Itoa(version)
	}
	var out struct {
		ID      int `json:"id"`
		Version int `json:"version"`
	}
	err := a.s.schemas.do(ctx, http.MethodGet, "/subjects/"+url.PathEscape(subject)+"/versions/"+v, nil, &out)
	var re *registryError
	if errors.As(err, &re) {
		if re.status == 404 {
			return 0, 0, apiErr(404, 404, "Schema of subject %s version %s cannot be found.", subject, v)
		}
		return 0, 0, apiErr(400, 400, "schema registry: %s", re.msg)
	}
	if err != nil {
		return 0, 0, err
	}
	a.versions.mu.Lock()
	if a.versions.m == nil || len(a.versions.m) >= registryCacheLimit {
		a.versions.m = map[string]versionEntry{}
	}
	a.versions.m[key] = versionEntry{id: out.ID, version: out.Version, at: time.Now()}
	a.versions.mu.Unlock()
	return out.ID, out.Version, nil
}

// encodeSchema encodes a key or value of a schema'd type (typ "" takes
// the type of the schema named).
func (a *v3) encodeSchema(ctx context.Context, topic string, isKey bool, typ string, d *v3Data) ([]byte, *dataInfo, error) {
	rs, subject, version, err := a.schemaFor(ctx, topic, isKey, typ, d)
	if err != nil {
		return nil, nil, v3Status(err)
	}
	if typ != "" && registryType(typ) != rs.typ {
		return nil, nil, apiErr(400, 400, "schema %d is %s, not %s", rs.id, v3Type(rs.typ), typ)
	}
	if len(d.Data) == 0 {
		return nil, nil, apiErr(400, 400, "a %s key or value needs data", v3Type(rs.typ))
	}
	b, err := rs.encode(d.Data)
	if err != nil {
		return nil, nil, v3Status(err)
	}
	id := rs.id
	info := &dataInfo{Type: v3Type(rs.typ), Size: len(b), Subject: subject, SchemaID: &id, SchemaVersion: version}
	return b, info, nil
}

// v3Status makes an API error's error_code its HTTP status, as v3 does.
func v3Status(err error) error {
	var ae *apiError
	if errors.As(err, &ae) && ae.code != ae.status {
		return &apiError{status: ae.status, code: ae.status, message: ae.message}
	}
	return err
}

// decodeSchema shows a schema'd key or value of a consumed record as
// {"type","schema_id","data"}; bytes that are not of that type fall back
// to BINARY.
func (a *v3) decodeSchema(ctx context.Context, r *kgo.Record, isKey bool, typ string) any {
	b := r.Value
	if isKey {
		b = r.Key
	}
	if b == nil {
		return nil
	}
	hs := make([]wire.RecordHeader, 0, len(r.Headers))
	for _, h := range r.Headers {
		hs = append(hs, wire.RecordHeader{Key: h.Key, Value: h.Value})
	}
	data, err := a.s.schemas.decode(ctx, registryType(typ), b, hs, isKey)
	if err != nil {
		return v3DataObj(b, "BINARY")
	}
	o := obj{"type": typ, "data": data}
	if fr, err := wire.Split(b, hs, isKey); err == nil && !fr.Header.IsGUID() {
		o["schema_id"] = fr.Header.ID
	}
	return o
}
