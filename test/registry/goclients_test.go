package registry

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/riferrei/srclient"
	"github.com/twmb/franz-go/pkg/sr"
)

// Two Go clients nobody here wrote, every exported method of each, against
// `samsa serve`: franz-go's pkg/sr v1.8.0 (*sr.Client) and
// riferrei/srclient v0.7.0 (*srclient.SchemaRegistryClient).

const (
	avroUserV1 = `{"type":"record","name":"User","namespace":"com.example","fields":[{"name":"name","type":"string"}]}`
	// v2 adds a field with a default: BACKWARD compatible with v1.
	avroUserV2 = `{"type":"record","name":"User","namespace":"com.example","fields":[{"name":"name","type":"string"},{"name":"age","type":"int","default":0}]}`
	// bad adds a field without a default: not BACKWARD compatible.
	avroUserBad = `{"type":"record","name":"User","namespace":"com.example","fields":[{"name":"name","type":"string"},{"name":"email","type":"string"}]}`
	avroAddress = `{"type":"record","name":"Address","namespace":"com.example","fields":[{"name":"street","type":"string"}]}`
	avroPerson  = `{"type":"record","name":"Person","namespace":"com.example","fields":[{"name":"home","type":"com.example.Address"}]}`
)

// srCode is the error_code of an error from franz-go's sr client, 0 if it
// is not a registry answer.
func srCode(err error) int {
	var re *sr.ResponseError
	if errors.As(err, &re) {
		return re.ErrorCode
	}
	return 0
}

func TestFranzGoSRClientEveryMethod(t *testing.T) {
	n := startNode(t)
	waitReady(t, n.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cl, err := sr.NewClient(sr.URLs(n.URL), sr.HTTPClient(&http.Client{Timeout: 30 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}

	// The client's own option accessors.
	if len(cl.Opts()) != 2 {
		t.Errorf("Opts() = %d options, want the 2 given", len(cl.Opts()))
	}
	if v := cl.OptValue(sr.URLs); !slices.Equal(v.([]string), []string{n.URL}) {
		t.Errorf("OptValue(URLs) = %v", v)
	}
	if vs := cl.OptValues(sr.URLs); len(vs) != 1 {
		t.Errorf("OptValues(URLs) = %v", vs)
	}

	types, err := cl.SupportedTypes(ctx)
	if err != nil || !slices.Contains(types, sr.TypeAvro) {
		t.Fatalf("SupportedTypes = %v, %v; want AVRO among them", types, err)
	}
	ctxs, err := cl.Contexts(ctx)
	if err != nil || !slices.Equal(ctxs, []string{"."}) {
		t.Errorf("Contexts = %v, %v; want [.]", ctxs, err)
	}
	// The default context exists and cannot be deleted: 42205.
	if err := cl.DeleteContext(ctx, "."); srCode(err) != 42205 {
		t.Errorf("DeleteContext(.) = %v (code %d), want error_code 42205", err, srCode(err))
	}
	subs, err := cl.Subjects(ctx)
	if err != nil || len(subs) != 0 {
		t.Errorf("Subjects on an empty registry = %v, %v", subs, err)
	}
	var m struct {
		Mode string `json:"mode"`
	}
	if err := cl.Do(ctx, http.MethodGet, "/mode", nil, &m); err != nil || m.Mode != "READWRITE" {
		t.Errorf("Do(GET /mode) = %+v, %v", m, err)
	}

	// Register, read back every way.
	const subj = "fr-value"
	ss, err := cl.CreateSchema(ctx, subj, sr.Schema{Schema: avroUserV1})
	if err != nil {
		t.Fatalf("CreateSchema: %v", err)
	}
	if ss.ID <= 0 || ss.Version != 1 || ss.Subject != subj || ss.GUID == "" {
		t.Fatalf("CreateSchema = %+v, want an id, version 1, a GUID", ss)
	}
	id := ss.ID
	if again, err := cl.RegisterSchema(ctx, subj, sr.Schema{Schema: avroUserV1}, -1, -1); err != nil || again != id {
		t.Errorf("RegisterSchema of the same schema = %d, %v; want id %d", again, err, id)
	}
	byID, err := cl.SchemaByID(ctx, id)
	if err != nil || byID.Schema != avroUserV1 || byID.Type != sr.TypeAvro {
		t.Errorf("SchemaByID = %+v, %v", byID, err)
	}
	byGUID, err := cl.SchemaByGUID(ctx, ss.GUID)
	if err != nil || byGUID.Schema.Schema != avroUserV1 {
		t.Errorf("SchemaByGUID(%s) = %+v, %v", ss.GUID, byGUID, err)
	}
	cids, err := cl.SchemaIDsByGUID(ctx, ss.GUID)
	if err != nil || len(cids) != 1 || cids[0] != (sr.ContextID{Context: ".", ID: id}) {
		t.Errorf("SchemaIDsByGUID = %+v, %v", cids, err)
	}
	if _, err := cl.SchemaByGUID(ctx, "00000000-0000-5000-8000-000000000000"); srCode(err) != 40403 {
		t.Errorf("SchemaByGUID(unknown) = %v, want 40403", err)
	}
	if text, err := cl.SchemaTextByID(ctx, id); err != nil || text != avroUserV1 {
		t.Errorf("SchemaTextByID = %q, %v", text, err)
	}
	if s, err := cl.SubjectsByID(ctx, id); err != nil || !slices.Equal(s, []string{subj}) {
		t.Errorf("SubjectsByID = %v, %v", s, err)
	}
	if svs, err := cl.SchemaVersionsByID(ctx, id); err != nil || !slices.Equal(svs, []sr.SubjectVersion{{Subject: subj, Version: 1}}) {
		t.Errorf("SchemaVersionsByID = %v, %v", svs, err)
	}
	if _, err := cl.SchemaByID(ctx, 999999); srCode(err) != 40403 {
		t.Errorf("SchemaByID(999999) = %v, want 40403", err)
	}
	if vs, err := cl.SubjectVersions(ctx, subj); err != nil || !slices.Equal(vs, []int{1}) {
		t.Errorf("SubjectVersions = %v, %v", vs, err)
	}
	if latest, err := cl.SchemaByVersion(ctx, subj, -1); err != nil || latest.ID != id || latest.Version != 1 || latest.Schema.Schema != avroUserV1 {
		t.Errorf("SchemaByVersion(latest) = %+v, %v", latest, err)
	}
	if text, err := cl.SchemaTextByVersion(ctx, subj, 1); err != nil || text != avroUserV1 {
		t.Errorf("SchemaTextByVersion = %q, %v", text, err)
	}
	if found, err := cl.LookupSchema(ctx, subj, sr.Schema{Schema: " " + avroUserV1 + "\n"}); err != nil || found.ID != id || found.Version != 1 {
		t.Errorf("LookupSchema = %+v, %v", found, err)
	}
	if _, err := cl.LookupSchema(ctx, subj, sr.Schema{Schema: avroAddress}); srCode(err) != 40403 {
		t.Errorf("LookupSchema of an unregistered schema = %v, want 40403", err)
	}
	if _, err := cl.LookupSchema(ctx, "fr-nope", sr.Schema{Schema: avroUserV1}); srCode(err) != 40401 {
		t.Errorf("LookupSchema under an unknown subject = %v, want 40401", err)
	}

	// Compatibility: config, checks, evolution, a rejection.
	glob := cl.Compatibility(ctx)
	if len(glob) != 1 || glob[0].Err != nil || glob[0].Level != sr.CompatBackward {
		t.Errorf("Compatibility() = %+v, want global BACKWARD", glob)
	}
	if res := cl.Compatibility(ctx, subj); res[0].Err == nil || srCode(res[0].Err) != 40408 {
		t.Errorf("Compatibility(%s) without a subject level = %+v, want 40408", subj, res)
	}
	if res := cl.Compatibility(sr.WithParams(ctx, sr.DefaultToGlobal), subj); res[0].Err != nil || res[0].Level != sr.CompatBackward {
		t.Errorf("Compatibility(%s, DefaultToGlobal) = %+v", subj, res)
	}
	set := cl.SetCompatibility(ctx, sr.SetCompatibility{Level: sr.CompatBackwardTransitive}, subj)
	if set[0].Err != nil || set[0].Level != sr.CompatBackwardTransitive {
		t.Errorf("SetCompatibility = %+v", set)
	}
	if res := cl.Compatibility(ctx, subj); res[0].Err != nil || res[0].Level != sr.CompatBackwardTransitive {
		t.Errorf("Compatibility(%s) after SetCompatibility = %+v", subj, res)
	}
	if r, err := cl.CheckCompatibility(ctx, subj, -1, sr.Schema{Schema: avroUserV2}); err != nil || !r.Is {
		t.Errorf("CheckCompatibility(v2, latest) = %+v, %v; want compatible", r, err)
	}
	r, err := cl.CheckCompatibility(sr.WithParams(ctx, sr.Verbose), subj, -2, sr.Schema{Schema: avroUserBad})
	if err != nil || r.Is || len(r.Messages) == 0 || !strings.Contains(strings.Join(r.Messages, " "), "email") {
		t.Errorf("CheckCompatibility(bad, all versions, verbose) = %+v, %v; want incompatible naming the field email", r, err)
	}
	if _, err := cl.CheckCompatibility(ctx, subj, 7, sr.Schema{Schema: avroUserV2}); srCode(err) != 40402 {
		t.Errorf("CheckCompatibility against version 7 = %v, want 40402", err)
	}
	v2, err := cl.CreateSchema(ctx, subj, sr.Schema{Schema: avroUserV2})
	if err != nil || v2.Version != 2 || v2.ID == id {
		t.Fatalf("CreateSchema(v2) = %+v, %v; want version 2 with a new id", v2, err)
	}
	_, err = cl.CreateSchema(ctx, subj, sr.Schema{Schema: avroUserBad})
	var re *sr.ResponseError
	if !errors.As(err, &re) || re.StatusCode != 409 || re.ErrorCode != 409 {
		t.Errorf("CreateSchema(incompatible) = %v, want HTTP 409 with error_code 409", err)
	}
	all, err := cl.Schemas(ctx, subj)
	if err != nil || len(all) != 2 || all[0].Version != 1 || all[1].Version != 2 || all[1].ID != v2.ID {
		t.Errorf("Schemas(%s) = %+v, %v", subj, all, err)
	}
	reset := cl.ResetCompatibility(ctx, subj)
	if reset[0].Err != nil {
		t.Errorf("ResetCompatibility = %+v", reset)
	}
	if res := cl.Compatibility(ctx, subj); srCode(res[0].Err) != 40408 {
		t.Errorf("Compatibility(%s) after ResetCompatibility = %+v, want 40408", subj, res)
	}

	// References.
	addr, err := cl.CreateSchema(ctx, "fr-address", sr.Schema{Schema: avroAddress})
	if err != nil {
		t.Fatalf("CreateSchema(address): %v", err)
	}
	refs := []sr.SchemaReference{{Name: "com.example.Address", Subject: "fr-address", Version: 1}}
	person, err := cl.CreateSchema(ctx, "fr-person", sr.Schema{Schema: avroPerson, References: refs})
	if err != nil {
		t.Fatalf("CreateSchema(person with a reference): %v", err)
	}
	if len(person.References) != 1 || person.References[0] != refs[0] {
		t.Errorf("person's references = %+v", person.References)
	}
	users, err := cl.SchemaReferences(ctx, "fr-address", 1)
	if err != nil || len(users) != 1 || users[0].Subject != "fr-person" || users[0].ID != person.ID {
		t.Errorf("SchemaReferences(fr-address, 1) = %+v, %v", users, err)
	}
	usages, err := cl.SchemaUsagesByID(ctx, addr.ID)
	if err != nil || len(usages) != 1 || usages[0].Subject != "fr-address" {
		t.Errorf("SchemaUsagesByID(%d) = %+v, %v", addr.ID, usages, err)
	}
	// A referenced schema cannot go: 42206.
	if err := cl.DeleteSchema(ctx, "fr-address", 1, sr.SoftDelete); srCode(err) != 42206 {
		t.Errorf("DeleteSchema of a referenced version = %v, want 42206", err)
	}
	everything, err := cl.AllSchemas(ctx)
	if err != nil || len(everything) != 4 {
		t.Errorf("AllSchemas = %d schemas, %v; want 4", len(everything), err)
	}
	if latest, err := cl.AllSchemas(sr.WithParams(ctx, sr.LatestOnly)); err != nil || len(latest) != 3 {
		t.Errorf("AllSchemas(LatestOnly) = %d schemas, %v; want 3", len(latest), err)
	}
	if some, err := cl.AllSchemas(sr.WithParams(ctx, sr.SubjectPrefix("fr-a"))); err != nil || len(some) != 1 || some[0].Subject != "fr-address" {
		t.Errorf("AllSchemas(SubjectPrefix fr-a) = %+v, %v", some, err)
	}

	// Protobuf, with a reference and a google/protobuf import.
	if !slices.Contains(types, sr.TypeProtobuf) {
		t.Errorf("SupportedTypes = %v; want PROTOBUF", types)
	}
	money, err := cl.CreateSchema(ctx, "fr-money", sr.Schema{Type: sr.TypeProtobuf,
		Schema: "syntax = \"proto3\";\npackage dep;\nmessage Money {\n  int64 units = 1;\n}\n"})
	if err != nil || money.Type != sr.TypeProtobuf {
		t.Fatalf("CreateSchema(PROTOBUF) = %+v, %v", money, err)
	}
	pbRefs := []sr.SchemaReference{{Name: "dep/money.proto", Subject: "fr-money", Version: 1}}
	order, err := cl.CreateSchema(ctx, "fr-order", sr.Schema{Type: sr.TypeProtobuf, References: pbRefs,
		Schema: "syntax = \"proto3\";\npackage shop;\nimport \"dep/money.proto\";\nimport \"google/protobuf/timestamp.proto\";\n" +
			"message Order {\n  dep.Money total = 1;\n  google.protobuf.Timestamp at = 2;\n}\n"})
	if err != nil || order.Type != sr.TypeProtobuf || len(order.References) != 1 {
		t.Fatalf("CreateSchema(PROTOBUF with a reference) = %+v, %v", order, err)
	}
	if got, err := cl.SchemaByID(ctx, order.ID); err != nil || got.Type != sr.TypeProtobuf || got.References[0] != pbRefs[0] {
		t.Errorf("SchemaByID(protobuf) = %+v, %v", got, err)
	}
	if users, err := cl.SchemaReferences(ctx, "fr-money", -1); err != nil || len(users) != 1 || users[0].ID != order.ID {
		t.Errorf("SchemaReferences(fr-money, latest) = %+v, %v", users, err)
	}

	// JSON Schema.
	js, err := cl.CreateSchema(ctx, "fr-json", sr.Schema{Type: sr.TypeJSON, Schema: `{"type":"object","properties":{"n":{"type":"integer"}}}`})
	if err != nil || js.Type != sr.TypeJSON || js.Version != 1 {
		t.Fatalf("CreateSchema(JSON) = %+v, %v", js, err)
	}
	if r, err := cl.CheckCompatibility(sr.WithParams(ctx, sr.Verbose), "fr-json", -1, sr.Schema{Type: sr.TypeJSON,
		Schema: `{"type":"object","properties":{"n":{"type":"string"}}}`}); err != nil || r.Is || len(r.Messages) == 0 {
		t.Errorf("CheckCompatibility(JSON integer to string) = %+v, %v", r, err)
	}

	// Modes.
	if ms := cl.Mode(ctx); ms[0].Err != nil || ms[0].Mode != sr.ModeReadWrite {
		t.Errorf("Mode() = %+v", ms)
	}
	if ms := cl.Mode(ctx, subj); srCode(ms[0].Err) != 40409 {
		t.Errorf("Mode(%s) without a subject mode = %+v, want 40409", subj, ms)
	}
	if ms := cl.SetMode(ctx, sr.ModeReadOnly, subj); ms[0].Err != nil || ms[0].Mode != sr.ModeReadOnly {
		t.Errorf("SetMode(READONLY) = %+v", ms)
	}
	if _, err := cl.RegisterSchema(ctx, subj, sr.Schema{Schema: avroAddress}, -1, -1); srCode(err) != 42205 {
		t.Errorf("RegisterSchema on a read-only subject = %v, want 42205", err)
	}
	if ms := cl.Mode(ctx, subj); ms[0].Err != nil || ms[0].Mode != sr.ModeReadOnly {
		t.Errorf("Mode(%s) = %+v", subj, ms)
	}
	if ms := cl.ResetMode(ctx, subj); ms[0].Err != nil || ms[0].Mode != sr.ModeReadOnly {
		t.Errorf("ResetMode(%s) = %+v, want the mode removed (READONLY)", subj, ms)
	}
	// IMPORT on a non-empty subject needs Force.
	if ms := cl.SetMode(ctx, sr.ModeImport, subj); srCode(ms[0].Err) != 42205 {
		t.Errorf("SetMode(IMPORT) on a non-empty subject without force = %+v, want 42205", ms)
	}
	if ms := cl.SetMode(sr.WithParams(ctx, sr.Force), sr.ModeImport, "fr-import"); ms[0].Err != nil || ms[0].Mode != sr.ModeImport {
		t.Fatalf("SetMode(IMPORT, force) = %+v", ms)
	}
	imp, err := cl.CreateSchemaWithIDAndVersion(ctx, "fr-import", sr.Schema{Schema: `"long"`}, 5000, 7)
	if err != nil || imp.ID != 5000 || imp.Version != 7 || imp.Subject != "fr-import" {
		t.Errorf("CreateSchemaWithIDAndVersion(5000, 7) in IMPORT = %+v, %v", imp, err)
	}
	if _, err := cl.RegisterSchema(ctx, "fr-import", sr.Schema{Schema: `"double"`}, 5000, 8); srCode(err) != 42207 {
		t.Errorf("RegisterSchema of another schema under id 5000 = %v, want 42207", err)
	}
	if ms := cl.ResetMode(ctx, "fr-import"); ms[0].Err != nil || ms[0].Mode != sr.ModeImport {
		t.Errorf("ResetMode(fr-import) = %+v", ms)
	}
	// After an import, new ids continue after the imported one.
	if next, err := cl.RegisterSchema(ctx, "fr-after-import", sr.Schema{Schema: `"bytes"`}, -1, -1); err != nil || next <= 5000 {
		t.Errorf("RegisterSchema after importing id 5000 = %d, %v; want an id above 5000", next, err)
	}

	// Deletes: a version soft then hard, then the subject.
	if err := cl.DeleteSchema(ctx, subj, 2, sr.SoftDelete); err != nil {
		t.Errorf("DeleteSchema(2, soft): %v", err)
	}
	if err := cl.DeleteSchema(ctx, subj, 2, sr.SoftDelete); srCode(err) != 40406 {
		t.Errorf("DeleteSchema(2, soft) twice = %v, want 40406", err)
	}
	if vs, err := cl.SubjectVersions(sr.WithParams(ctx, sr.ShowDeleted), subj); err != nil || !slices.Equal(vs, []int{1, 2}) {
		t.Errorf("SubjectVersions(ShowDeleted) = %v, %v", vs, err)
	}
	if err := cl.DeleteSchema(ctx, subj, 2, sr.HardDelete); err != nil {
		t.Errorf("DeleteSchema(2, hard): %v", err)
	}
	if err := cl.DeleteSchema(ctx, subj, 1, sr.HardDelete); srCode(err) != 40407 {
		t.Errorf("DeleteSchema(1, hard) before soft = %v, want 40407", err)
	}
	if _, err := cl.DeleteSubject(ctx, subj, sr.HardDelete); srCode(err) != 40405 {
		t.Errorf("DeleteSubject(hard) before soft = %v, want 40405", err)
	}
	if vs, err := cl.DeleteSubject(ctx, subj, sr.SoftDelete); err != nil || !slices.Equal(vs, []int{1}) {
		t.Errorf("DeleteSubject(soft) = %v, %v", vs, err)
	}
	if _, err := cl.DeleteSubject(ctx, subj, sr.SoftDelete); srCode(err) != 40404 {
		t.Errorf("DeleteSubject(soft) twice = %v, want 40404", err)
	}
	if vs, err := cl.DeleteSubject(ctx, subj, sr.HardDelete); err != nil || !slices.Equal(vs, []int{1}) {
		t.Errorf("DeleteSubject(hard) = %v, %v", vs, err)
	}
	subs, err = cl.Subjects(ctx)
	sort.Strings(subs)
	if err != nil || !slices.Equal(subs, []string{"fr-address", "fr-after-import", "fr-import", "fr-json", "fr-money", "fr-order", "fr-person"}) {
		t.Errorf("Subjects at the end = %v, %v", subs, err)
	}
}

// srclientCode is the error_code of an error from srclient, 0 if none.
func srclientCode(err error) int {
	var e srclient.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return 0
}

func TestRiferreiSRClientEveryMethod(t *testing.T) {
	n := startNode(t)
	waitReady(t, n.URL)
	c := srclient.NewSchemaRegistryClient(n.URL, srclient.WithClient(&http.Client{Timeout: 30 * time.Second}), srclient.WithSemaphoreWeight(4))
	if c.GetSchemaRegistryURL() != n.URL {
		t.Errorf("GetSchemaRegistryURL = %q", c.GetSchemaRegistryURL())
	}
	// The deprecated constructors build the same client.
	if d := srclient.CreateSchemaRegistryClient(n.URL); d.GetSchemaRegistryURL() != n.URL {
		t.Errorf("CreateSchemaRegistryClient URL = %q", d.GetSchemaRegistryURL())
	}
	d := srclient.CreateSchemaRegistryClientWithOptions(n.URL, &http.Client{}, 2)
	// Credentials and a timeout: the registry ignores auth headers.
	d.SetCredentials("user", "secret")
	d.SetTimeout(30 * time.Second)
	if s, err := d.GetSubjects(); err != nil || len(s) != 0 {
		t.Errorf("GetSubjects with basic auth = %v, %v", s, err)
	}
	d.SetBearerToken("token")
	if lvl, err := d.GetGlobalCompatibilityLevel(); err != nil || *lvl != srclient.Backward {
		t.Errorf("GetGlobalCompatibilityLevel with a bearer token = %v, %v", lvl, err)
	}

	c.CodecCreationEnabled(true)
	c.CachingEnabled(true)
	const subj = "rf-value"
	s1, err := c.CreateSchema(subj, "{\"type\":\"record\",\"name\":\"User\",\"namespace\":\"com.example\",\n\"fields\":[{\"name\":\"name\",\"type\":\"string\"}]}", srclient.Avro)
	if err != nil {
		t.Fatalf("CreateSchema: %v", err)
	}
	if s1.ID() <= 0 || s1.Schema() != avroUserV1 || s1.Codec() == nil {
		t.Fatalf("CreateSchema = id %d schema %s codec %v", s1.ID(), s1.Schema(), s1.Codec())
	}
	// The codec the client built from the registry's answer works.
	bin, err := s1.Codec().BinaryFromNative(nil, map[string]any{"name": "ada"})
	if err != nil || len(bin) != 4 {
		t.Errorf("codec encodes %v, %v", bin, err)
	}
	c.CodecJsonEnabled(true)
	got, err := c.GetSchema(s1.ID())
	if err != nil || got.ID() != s1.ID() || got.Schema() != avroUserV1 {
		t.Errorf("GetSchema = %+v, %v", got, err)
	}
	if st := got.SchemaType(); st != nil && *st != srclient.Avro {
		t.Errorf("GetSchema type = %v", *st)
	}
	if got.JsonSchema() != nil {
		t.Errorf("an Avro schema compiled as a JSON Schema")
	}
	c.ResetCache()
	c.CachingEnabled(false)

	if lvl, err := c.ChangeSubjectCompatibilityLevel(subj, srclient.Full); err != nil || *lvl != srclient.Full {
		t.Errorf("ChangeSubjectCompatibilityLevel(FULL) = %v, %v", lvl, err)
	}
	if lvl, err := c.GetCompatibilityLevel(subj, false); err != nil || *lvl != srclient.Full {
		t.Errorf("GetCompatibilityLevel(%s) = %v, %v", subj, lvl, err)
	}
	if _, err := c.GetCompatibilityLevel("rf-other", false); srclientCode(err) != 40408 {
		t.Errorf("GetCompatibilityLevel(rf-other, no default) = %v, want 40408", err)
	}
	if lvl, err := c.GetCompatibilityLevel("rf-other", true); err != nil || *lvl != srclient.Backward {
		t.Errorf("GetCompatibilityLevel(rf-other, defaultToGlobal) = %v, %v", lvl, err)
	}
	if lvl, err := c.GetGlobalCompatibilityLevel(); err != nil || *lvl != srclient.Backward {
		t.Errorf("GetGlobalCompatibilityLevel = %v, %v", lvl, err)
	}
	// FULL: v2 (field with a default) is compatible both ways; bad is not.
	if ok, err := c.IsSchemaCompatible(subj, avroUserV2, "latest", srclient.Avro); err != nil || !ok {
		t.Errorf("IsSchemaCompatible(v2) = %v, %v", ok, err)
	}
	if ok, err := c.IsSchemaCompatible(subj, avroUserBad, "1", srclient.Avro); err != nil || ok {
		t.Errorf("IsSchemaCompatible(bad) = %v, %v; want false", ok, err)
	}
	if _, err := c.CreateSchema(subj, avroUserBad, srclient.Avro); srclientCode(err) != 409 {
		t.Errorf("CreateSchema(incompatible) = %v, want 409", err)
	}
	s2, err := c.CreateSchema(subj, avroUserV2, srclient.Avro)
	if err != nil || s2.ID() == s1.ID() {
		t.Fatalf("CreateSchema(v2) = %v, %v", s2, err)
	}
	if vs, err := c.GetSchemaVersions(subj); err != nil || !slices.Equal(vs, []int{1, 2}) {
		t.Errorf("GetSchemaVersions = %v, %v", vs, err)
	}
	if latest, err := c.GetLatestSchema(subj); err != nil || latest.Version() != 2 || latest.ID() != s2.ID() {
		t.Errorf("GetLatestSchema = %v, %v", latest, err)
	}
	if v1, err := c.GetSchemaByVersion(subj, 1); err != nil || v1.Version() != 1 || v1.ID() != s1.ID() || v1.Schema() != avroUserV1 {
		t.Errorf("GetSchemaByVersion(1) = %v, %v", v1, err)
	}
	if _, err := c.GetSchemaByVersion(subj, 9); srclientCode(err) != 40402 {
		t.Errorf("GetSchemaByVersion(9) = %v, want 40402", err)
	}
	if svs, err := c.GetSubjectVersionsById(s2.ID()); err != nil || len(svs) != 1 {
		t.Errorf("GetSubjectVersionsById = %v, %v", svs, err)
	}
	found, err := c.LookupSchema(subj, avroUserV2, srclient.Avro)
	if err != nil || found.ID() != s2.ID() || found.Version() != 2 {
		t.Errorf("LookupSchema(v2) = %v, %v", found, err)
	}
	if _, err := c.LookupSchema(subj, avroAddress, srclient.Avro); srclientCode(err) != 40403 {
		t.Errorf("LookupSchema(unregistered) = %v, want 40403", err)
	}

	// References (srclient passes them through). Its codec creation
	// compiles the schema text alone, which cannot resolve a reference:
	// turn it off for these.
	c.CodecCreationEnabled(false)
	if _, err := c.CreateSchema("rf-address", avroAddress, srclient.Avro); err != nil {
		t.Fatal(err)
	}
	ref := srclient.Reference{Name: "com.example.Address", Subject: "rf-address", Version: 1}
	p, err := c.CreateSchema("rf-person", avroPerson, srclient.Avro, ref)
	if err != nil {
		t.Fatalf("CreateSchema with a reference: %v", err)
	}
	if len(p.References()) != 1 || p.References()[0] != ref {
		t.Errorf("CreateSchema with a reference: references %+v", p.References())
	}
	if ok, err := c.IsSchemaCompatible("rf-person", avroPerson, "latest", srclient.Avro, ref); err != nil || !ok {
		t.Errorf("IsSchemaCompatible with a reference = %v, %v", ok, err)
	}
	if s, err := srclient.NewSchema(p.ID(), p.Schema(), srclient.Avro, 1, p.References(), nil, nil); err != nil || s.ID() != p.ID() {
		t.Errorf("NewSchema = %v, %v", s, err)
	}

	// Protobuf through srclient.
	pb := "syntax = \"proto3\";\npackage rf;\nmessage Ping {\n  string id = 1;\n}\n"
	ping, err := c.CreateSchema("rf-ping", pb, srclient.Protobuf)
	if err != nil || ping.SchemaType() == nil || *ping.SchemaType() != srclient.Protobuf || !strings.Contains(ping.Schema(), "message Ping {") {
		t.Errorf("CreateSchema(PROTOBUF) = %v, %v", ping, err)
	}
	if got, err := c.LookupSchema("rf-ping", "syntax=\"proto3\"; package rf; message Ping { string id = 1; }", srclient.Protobuf); err != nil || ping == nil || got.ID() != ping.ID() {
		t.Errorf("LookupSchema(PROTOBUF, other layout) = %v, %v", got, err)
	}
	if ok, err := c.IsSchemaCompatible("rf-ping", "syntax = \"proto3\"; package rf; message Ping { int32 id = 1; }", "latest", srclient.Protobuf); err != nil || ok {
		t.Errorf("IsSchemaCompatible(PROTOBUF string to int32) = %v, %v; want false", ok, err)
	}
	if err := c.DeleteSubject("rf-ping", true); err != nil {
		t.Errorf("DeleteSubject(rf-ping, permanent): %v", err)
	}

	// JSON Schema through srclient, compiled by the client's own library.
	jsText := `{"type":"object","properties":{"id":{"type":"string"}},"required":["id"]}`
	jsSchema, err := c.CreateSchema("rf-json", jsText, srclient.Json)
	if err != nil || jsSchema.SchemaType() == nil || *jsSchema.SchemaType() != srclient.Json || jsSchema.Schema() != jsText {
		t.Fatalf("CreateSchema(JSON) = %v, %v", jsSchema, err)
	}
	if v := jsSchema.JsonSchema(); v == nil || v.Validate(map[string]any{"id": "x"}) != nil || v.Validate(map[string]any{}) == nil {
		t.Errorf("the client's compiled JSON Schema does not validate as registered")
	}
	if got, err := c.LookupSchema("rf-json", "{\n \"type\": \"object\", \"properties\": {\"id\": {\"type\": \"string\"}}, \"required\": [\"id\"]}", srclient.Json); err != nil || got.ID() != jsSchema.ID() {
		t.Errorf("LookupSchema(JSON, spaced) = %v, %v", got, err)
	}

	// Deletes.
	if err := c.DeleteSubjectByVersion(subj, 2, false); err != nil {
		t.Errorf("DeleteSubjectByVersion(2, soft): %v", err)
	}
	if err := c.DeleteSubjectByVersion(subj, 1, true); err != nil {
		t.Errorf("DeleteSubjectByVersion(1, permanent): %v", err)
	}
	// Version 2 is soft-deleted and 1 gone: no live version is left.
	if vs, err := c.GetSchemaVersions(subj); srclientCode(err) != 40401 {
		t.Errorf("GetSchemaVersions after deleting both = %v, %v; want 40401", vs, err)
	}
	if err := c.DeleteSubject("rf-person", false); err != nil {
		t.Errorf("DeleteSubject(rf-person, soft): %v", err)
	}
	if s, err := c.GetSubjects(); err != nil || !slices.Equal(s, []string{"rf-address", "rf-json"}) {
		t.Errorf("GetSubjects = %v, %v", s, err)
	}
	if s, err := c.GetSubjectsIncludingDeleted(); err != nil || !slices.Contains(s, "rf-person") {
		t.Errorf("GetSubjectsIncludingDeleted = %v, %v; want rf-person among them", s, err)
	}
	// permanent=true makes srclient soft-delete first, which a subject
	// already soft-deleted refuses by design: 40404.
	if err := c.DeleteSubject("rf-person", true); srclientCode(err) != 40404 {
		t.Errorf("DeleteSubject(rf-person, permanent) after a soft delete = %v, want 40404", err)
	}
	if _, err := c.CreateSchema("rf-temp", `"string"`, srclient.Avro); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteSubject("rf-temp", true); err != nil {
		t.Errorf("DeleteSubject(rf-temp, permanent): %v", err)
	}
	if err := c.DeleteSubject("rf-nope", false); srclientCode(err) != 40401 {
		t.Errorf("DeleteSubject(unknown) = %v, want 40401", err)
	}
	if s, err := c.GetSubjectsIncludingDeleted(); err != nil || slices.Contains(s, "rf-temp") || !slices.Contains(s, "rf-person") {
		t.Errorf("GetSubjectsIncludingDeleted after a permanent delete = %v, %v", s, err)
	}
}
