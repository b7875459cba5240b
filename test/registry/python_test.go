package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// The Python drivers (test/registry/python) run with the interpreter of the
// venv `make deps-python` makes (.cache/venv, or SAMSA_COMPAT_PYTHON), which
// holds confluent-kafka 2.16.1 with its avro, json, protobuf and
// schemaregistry extras.

// clientsRoot finds the module root (the directory holding go.mod).
func clientsRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}

// requireClientDep fails the test under CI when a dependency that make deps
// installs is missing, and skips it elsewhere (as test/compat does).
func requireClientDep(t testing.TB, what string, err error, install string) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s unavailable in CI (%s should have installed it): %v", what, install, err)
	}
	t.Skipf("%s unavailable (run %s): %v", what, install, err)
}

// clientsPython returns the venv's interpreter after checking that
// confluent-kafka's Schema Registry client and its three serdes import.
func clientsPython(t testing.TB) string {
	t.Helper()
	clustertest.SkipInShort(t, "runs the Python Schema Registry drivers")
	python := os.Getenv("SAMSA_COMPAT_PYTHON")
	if python == "" {
		python = filepath.Join(clientsRoot(t), ".cache", "venv", "bin", "python")
	}
	_, err := os.Stat(python)
	if err == nil {
		var out []byte
		out, err = exec.Command(python, "-c", `import confluent_kafka
import confluent_kafka.schema_registry.avro, confluent_kafka.schema_registry.protobuf, confluent_kafka.schema_registry.json_schema
assert confluent_kafka.__version__ == "2.16.1", confluent_kafka.__version__`).CombinedOutput()
		if err != nil {
			err = fmt.Errorf("%v: %s", err, out)
		}
	}
	requireClientDep(t, "Python confluent-kafka[avro,json,protobuf,schemaregistry]", err, "make deps-python")
	return python
}

// runDriver runs an external driver with a deadline and returns its
// stdout; a non-zero exit fails the test with its stderr.
func runDriver(t testing.TB, stdin []byte, env []string, name string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\nstderr:\n%s\nstdout:\n%s", filepath.Base(name), strings.Join(args, " "), err, stderr.String(), stdout.String())
	}
	return stdout.Bytes()
}

// jsonLines decodes each non-empty line of out as a T.
func jsonLines[T any](t testing.TB, out []byte) []T {
	t.Helper()
	var res []T
	for _, line := range bytes.Split(out, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var v T
		if err := json.Unmarshal(line, &v); err != nil {
			t.Fatalf("driver output line %q: %v", line, err)
		}
		res = append(res, v)
	}
	return res
}

// pyError is a SchemaRegistryError as sr_client.py reports it, or {"ok": v}.
type pyError struct {
	OK      any    `json:"ok"`
	Status  int    `json:"status"`
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// pyScenario runs one scenario of sr_client.py and decodes its report.
func pyScenario(t *testing.T, python, url, scenario, prefix string, out any) {
	t.Helper()
	script := filepath.Join(clientsRoot(t), "test", "registry", "python", "sr_client.py")
	b := runDriver(t, nil, nil, python, script, url, scenario, prefix)
	if err := json.Unmarshal(bytes.TrimSpace(b), out); err != nil {
		t.Fatalf("sr_client.py %s: %v in %s", scenario, err, b)
	}
	t.Logf("sr_client.py %s: %s", scenario, bytes.TrimSpace(b))
}

// wantErr checks a failed call: HTTP status, error_code, and words the
// message must contain.
func wantErr(t *testing.T, what string, e pyError, status, code int, words ...string) {
	t.Helper()
	if e.Status != status || e.Code != code {
		t.Errorf("%s: got HTTP %d error_code %d (%q, ok=%v), want %d/%d", what, e.Status, e.Code, e.Message, e.OK, status, code)
		return
	}
	for _, w := range words {
		if !strings.Contains(e.Message, w) {
			t.Errorf("%s: message %q does not mention %q", what, e.Message, w)
		}
	}
}

// wantOK checks that a call succeeded and returns its result.
func wantOK(t *testing.T, what string, e pyError) any {
	t.Helper()
	if e.Status != 0 || e.Code != 0 {
		t.Errorf("%s: failed with HTTP %d error_code %d: %s", what, e.Status, e.Code, e.Message)
	}
	return e.OK
}

func eqJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

func wantEq(t *testing.T, what string, got, want any) {
	t.Helper()
	if !eqJSON(got, want) {
		gb, _ := json.Marshal(got)
		wb, _ := json.Marshal(want)
		t.Errorf("%s: got %s, want %s", what, gb, wb)
	}
}

// TestPythonSchemaRegistryClient drives the registry with confluent-kafka's
// SchemaRegistryClient: register, evolve, reject, deletes, config, mode,
// references and normalize. Scenarios that change global settings (config,
// mode) run after the others, alone.
func TestPythonSchemaRegistryClient(t *testing.T) {
	t.Parallel()
	python := clientsPython(t)
	n := startNode(t)
	waitReady(t, n.URL)

	t.Run("shared", func(t *testing.T) {
		t.Run("evolve", func(t *testing.T) {
			t.Parallel()
			var r struct {
				ID1, ID1Again, ID2 int
				Latest             struct {
					Version, ID int
					Schema      string
				}
				Versions, VersionsAfter             []int
				CompatBad, CompatBadAll, CompatGood bool
				Reject, LookupV1                    pyError
				ByID                                string
				SubjectsOfID, Types                 []string
			}
			pyScenario(t, python, n.URL, "evolve", "py", &pyKeys{&r})
			if r.ID1 <= 0 || r.ID1Again != r.ID1 {
				t.Errorf("ids of v1: %d then %d, want one positive id twice", r.ID1, r.ID1Again)
			}
			if r.ID2 == r.ID1 || r.ID2 <= 0 {
				t.Errorf("evolved schema got id %d (v1 has %d)", r.ID2, r.ID1)
			}
			if r.Latest.Version != 2 || r.Latest.ID != r.ID2 || !strings.Contains(r.Latest.Schema, `"age"`) {
				t.Errorf("latest: %+v, want version 2 id %d with field age", r.Latest, r.ID2)
			}
			wantEq(t, "versions", r.Versions, []int{1, 2})
			if r.CompatBad || r.CompatBadAll || !r.CompatGood {
				t.Errorf("test_compatibility: bad=%v bad(all)=%v good=%v, want false false true", r.CompatBad, r.CompatBadAll, r.CompatGood)
			}
			// 409 with error_code 409, the message naming the field and the rule.
			wantErr(t, "incompatible registration", r.Reject, 409, 409, "email", "BACKWARD", "READER_FIELD_MISSING_DEFAULT_VALUE")
			wantEq(t, "versions after the rejection", r.VersionsAfter, []int{1, 2})
			wantEq(t, "lookup of v1", wantOK(t, "lookup v1", r.LookupV1), 1)
			if !strings.Contains(r.ByID, `"age"`) {
				t.Errorf("get_schema(%d) = %s", r.ID2, r.ByID)
			}
			// (The delete scenario registers the same schema in parallel, so
			// the id may have more subjects.)
			if !contains(r.SubjectsOfID, "py-evolve-value") {
				t.Errorf("subjects of id %d: %v lack py-evolve-value", r.ID2, r.SubjectsOfID)
			}
			for _, typ := range []string{"AVRO", "JSON", "PROTOBUF"} {
				if !strings.Contains(strings.Join(r.Types, ","), typ) {
					t.Errorf("schema types %v lack %s", r.Types, typ)
				}
			}
		})
		t.Run("evolve-protobuf-json", func(t *testing.T) {
			t.Parallel()
			type evolution struct {
				ID1, ID2, Versions, CompatBad, Reject, LatestType pyError
			}
			var r struct{ Proto, JSON evolution }
			pyScenario(t, python, n.URL, "evolve_types", "py", &pyKeys{&r})
			for _, c := range []struct {
				name, typ string
				e         evolution
				words     []string
			}{
				{"Protobuf", "PROTOBUF", r.Proto, []string{"balance", "FIELD_SCALAR_KIND_CHANGED", "int64", "string"}},
				{"JSON Schema", "JSON", r.JSON, []string{"balance", "TYPE_CHANGED", "integer", "string"}},
			} {
				id1, _ := wantOK(t, c.name+" v1", c.e.ID1).(float64)
				id2, _ := wantOK(t, c.name+" v2 (compatible)", c.e.ID2).(float64)
				if id1 <= 0 || id2 <= 0 || id1 == id2 {
					t.Errorf("%s ids: v1 %v, v2 %v", c.name, c.e.ID1.OK, c.e.ID2.OK)
				}
				wantEq(t, c.name+" versions", wantOK(t, c.name+" versions", c.e.Versions), []int{1, 2})
				wantEq(t, c.name+" test_compatibility of the bad one", wantOK(t, c.name+" compat", c.e.CompatBad), false)
				wantErr(t, c.name+" incompatible registration", c.e.Reject, 409, 409, c.words...)
				wantEq(t, c.name+" latest schemaType", wantOK(t, c.name+" latest", c.e.LatestType), c.typ)
			}
		})
		t.Run("delete", func(t *testing.T) {
			t.Parallel()
			var r struct {
				ID1, ID2, DeleteV1                           int
				Versions, VersionsDeleted, Soft, Soft2, Hard []int
				GetV1, GetV1Deleted, VersionsGone            pyError
				VersionsGoneDeleted, SoftAgain, HardAgain    pyError
				HardLive                                     pyError
				Subjects, SubjectsDeleted                    []string
				SubjectsDeletedAfterHard                     []string
				AfterSoft                                    int
				AfterHard                                    struct{ Version, ID int }
			}
			pyScenario(t, python, n.URL, "delete", "py", &pyKeys{&r})
			const s = "py-delete-value"
			wantEq(t, "soft delete of version 1", r.DeleteV1, 1)
			wantEq(t, "versions after deleting v1", r.Versions, []int{2})
			wantEq(t, "versions ?deleted=true", r.VersionsDeleted, []int{1, 2})
			wantErr(t, "get soft-deleted v1", r.GetV1, 404, 40402)
			wantEq(t, "get v1 ?deleted=true", wantOK(t, "get v1 deleted", r.GetV1Deleted), r.ID1)
			wantEq(t, "soft delete of the subject", r.Soft, []int{2})
			wantErr(t, "versions of a soft-deleted subject", r.VersionsGone, 404, 40401)
			wantEq(t, "versions of a soft-deleted subject ?deleted=true", wantOK(t, "versions deleted", r.VersionsGoneDeleted), []int{1, 2})
			wantErr(t, "second soft delete", r.SoftAgain, 404, 40404, s)
			if contains(r.Subjects, s) || !contains(r.SubjectsDeleted, s) {
				t.Errorf("subjects %v / ?deleted=true %v: want %s only in the second", r.Subjects, r.SubjectsDeleted, s)
			}
			wantEq(t, "version after re-registering over a soft delete", r.AfterSoft, 3)
			wantEq(t, "second soft delete of the subject", r.Soft2, []int{3})
			wantEq(t, "hard delete", r.Hard, []int{1, 2, 3})
			if contains(r.SubjectsDeletedAfterHard, s) {
				t.Errorf("subjects ?deleted=true after the hard delete still list %s", s)
			}
			wantErr(t, "hard delete of a gone subject", r.HardAgain, 404, 40401)
			if r.AfterHard.Version != 1 || r.AfterHard.ID != r.ID2 {
				t.Errorf("after the hard delete: %+v, want version 1 with the same id %d", r.AfterHard, r.ID2)
			}
			wantErr(t, "hard delete of a live version", r.HardLive, 404, 40407)
		})
		t.Run("references", func(t *testing.T) {
			t.Parallel()
			var r struct {
				AvroAddress, AvroPerson, AvroLookup int
				AvroPersonRefs                      []map[string]any
				AvroReferencedBy                    []int
				AvroMissingRef, AvroNoRef           pyError
				AvroDeleteReferenced                pyError
				ProtoMoney, ProtoOrder              pyError
				ProtoOrderRefs, ProtoReferencedBy   pyError
				ProtoNoRef                          pyError
			}
			pyScenario(t, python, n.URL, "references", "py", &pyKeys{&r})
			wantEq(t, "Person's references", r.AvroPersonRefs, []map[string]any{{"name": "samsa.ref.Address", "subject": "py-address", "version": 1}})
			wantEq(t, "referenced by", r.AvroReferencedBy, []int{r.AvroPerson})
			wantEq(t, "lookup with the reference", r.AvroLookup, r.AvroPerson)
			wantErr(t, "reference to a missing subject", r.AvroMissingRef, 422, 42201, "py-nope")
			wantErr(t, "Person without its reference", r.AvroNoRef, 422, 42201, "samsa.ref.Address")
			wantErr(t, "delete of a referenced subject", r.AvroDeleteReferenced, 422, 42206)
			money, _ := wantOK(t, "register money.proto", r.ProtoMoney).(float64)
			order, _ := wantOK(t, "register order.proto with its reference", r.ProtoOrder).(float64)
			if money <= 0 || order <= 0 || money == order {
				t.Errorf("Protobuf ids: money %v order %v", money, order)
			}
			wantEq(t, "order's references", wantOK(t, "order refs", r.ProtoOrderRefs), []map[string]any{{"name": "money.proto", "subject": "py-money", "version": 1}})
			wantEq(t, "money referenced by", wantOK(t, "money referenced by", r.ProtoReferencedBy), []float64{order})
			wantErr(t, "order.proto without its reference", r.ProtoNoRef, 422, 42201, "money.proto")
		})
		t.Run("normalize", func(t *testing.T) {
			t.Parallel()
			var r struct {
				Register, RegisterB int
				Lookup              struct{ ID, Version int }
				Versions            []int
				CompatB             bool
				ProtoRegister       pyError
				ProtoLookup         pyError
				ProtoVersions       pyError
			}
			pyScenario(t, python, n.URL, "normalize", "py", &pyKeys{&r})
			if r.Lookup.ID != r.Register || r.Lookup.Version != 1 {
				t.Errorf("lookup of the other text with normalize: %+v, want id %d version 1", r.Lookup, r.Register)
			}
			wantEq(t, "re-registering the other text with normalize", r.RegisterB, r.Register)
			wantEq(t, "versions", r.Versions, []int{1})
			if !r.CompatB {
				t.Error("the other text is not compatible with itself")
			}
			pid := wantOK(t, "register Protobuf with normalize", r.ProtoRegister)
			wantEq(t, "Protobuf lookup of reordered text with normalize", wantOK(t, "proto lookup", r.ProtoLookup), pid)
			wantEq(t, "Protobuf versions", wantOK(t, "proto versions", r.ProtoVersions), []int{1})
		})
	})

	t.Run("config", func(t *testing.T) {
		var r struct {
			GlobalBefore, GlobalAfter, GlobalConfig       string
			SetGlobal, SetSubject, RestoreGlobal          map[string]any
			SubjectLevel, GlobalUnchanged, GlobalRestored string
			DeleteSubjectConfig                           string
			FullReject, SubjectUnset, NoneAccept          pyError
			BadLevel, SubjectAfterDelete                  pyError
			NoneVersions                                  []int
		}
		pyScenario(t, python, n.URL, "config", "py", &pyKeys{&r})
		wantEq(t, "global level at start", r.GlobalBefore, "BACKWARD")
		wantEq(t, "PUT /config answer", r.SetGlobal, map[string]any{"compatibility": "FULL"})
		wantEq(t, "global level", r.GlobalAfter, "FULL")
		wantEq(t, "get_config()", r.GlobalConfig, "FULL")
		wantErr(t, "FULL rejects a field without default", r.FullReject, 409, 409, "email", "FULL")
		wantErr(t, "subject level unset", r.SubjectUnset, 404, 40408)
		wantEq(t, "PUT /config/{subject} answer", r.SetSubject, map[string]any{"compatibility": "NONE"})
		wantEq(t, "subject level", r.SubjectLevel, "NONE")
		wantEq(t, "global level after a subject change", r.GlobalUnchanged, "FULL")
		if id, _ := wantOK(t, "NONE accepts", r.NoneAccept).(float64); id <= 0 {
			t.Errorf("registration under NONE returned id %v", r.NoneAccept.OK)
		}
		wantEq(t, "versions under NONE", r.NoneVersions, []int{1, 2})
		wantErr(t, "invalid level", r.BadLevel, 422, 42203)
		wantEq(t, "DELETE /config/{subject} answer", r.DeleteSubjectConfig, "NONE")
		wantErr(t, "subject level after delete", r.SubjectAfterDelete, 404, 40408)
		wantEq(t, "global level restored", r.GlobalRestored, "BACKWARD")
	})

	t.Run("mode", func(t *testing.T) {
		var r struct {
			Global, SetImport, GetImport, ImportByID string
			Import, ImportAgain, ImportClash         pyError
			ImportVersion                            int
			ImportLive, ImportLiveForce              pyError
			BackReadwrite, SetReadonly, DeleteMode   string
			ReadonlyWrite, AfterDeleteMode           pyError
			SetGlobalReadonly, SetGlobalReadwrite    string
			GlobalReadonlyWrite, BadMode             pyError
			GlobalAfter                              string
			Contexts                                 []string
		}
		pyScenario(t, python, n.URL, "mode", "py", &pyKeys{&r})
		wantEq(t, "global mode", r.Global, "READWRITE")
		wantEq(t, "set IMPORT", r.SetImport, "IMPORT")
		wantEq(t, "get IMPORT", r.GetImport, "IMPORT")
		wantEq(t, "import with id 90001", wantOK(t, "import", r.Import), map[string]any{"id": 90001})
		wantEq(t, "same import again", wantOK(t, "import again", r.ImportAgain), map[string]any{"id": 90001})
		if !strings.Contains(r.ImportByID, `"User"`) {
			t.Errorf("schema 90001: %s", r.ImportByID)
		}
		wantEq(t, "imported version 1 id", r.ImportVersion, 90001)
		wantErr(t, "another schema under id 90001", r.ImportClash, 422, 42207)
		wantErr(t, "IMPORT on a subject with schemas", r.ImportLive, 422, 42205)
		wantEq(t, "IMPORT with force", wantOK(t, "import force", r.ImportLiveForce), "IMPORT")
		wantEq(t, "back to READWRITE", r.BackReadwrite, "READWRITE")
		wantEq(t, "set READONLY", r.SetReadonly, "READONLY")
		wantErr(t, "write to a READONLY subject", r.ReadonlyWrite, 422, 42205)
		wantOK(t, "write after DELETE /mode/{subject}", r.AfterDeleteMode)
		wantEq(t, "global READONLY", r.SetGlobalReadonly, "READONLY")
		wantErr(t, "write under global READONLY", r.GlobalReadonlyWrite, 422, 42205)
		wantEq(t, "global READWRITE", r.SetGlobalReadwrite, "READWRITE")
		wantEq(t, "global mode after", r.GlobalAfter, "READWRITE")
		wantErr(t, "invalid mode", r.BadMode, 422, 42204)
		wantEq(t, "contexts", r.Contexts, []string{"."})
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// pyKeys decodes sr_client.py's snake_case keys, at every level, into a
// struct whose field names are their CamelCase (id1_again → ID1Again,
// avro_person_refs → AvroPersonRefs), matched case-insensitively as
// encoding/json does.
type pyKeys struct{ v any }

func (p *pyKeys) UnmarshalJSON(b []byte) error {
	var m any
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	b, err := json.Marshal(dropUnderscores(m))
	if err != nil {
		return err
	}
	return json.Unmarshal(b, p.v)
}

func dropUnderscores(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[strings.ReplaceAll(k, "_", "")] = dropUnderscores(x)
		}
		return m
	case []any:
		for i, x := range v {
			v[i] = dropUnderscores(x)
		}
	}
	return v
}

// TestPythonSerializers produces with confluent-kafka's SerializingProducer
// and the Avro, Protobuf and JSON Schema serializers (auto-registration on,
// the client's default subject strategy), checks what the registry holds
// and how each record is framed, and reads the records back with
// DeserializingConsumer.
func TestPythonSerializers(t *testing.T) {
	t.Parallel()
	python := clientsPython(t)
	n := startNode(t)
	waitReady(t, n.URL)
	for _, f := range serdeFormats {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			topic := "py-serde-" + f.name
			createTopic1(t, n, topic)
			pythonProduce(t, python, n, topic, f.name, serdeRecords)
			// Auto-registration made version 1 of TOPIC-value with the right type.
			id, typ := latestID(t, n, topic+"-value")
			if typ != f.schemaType {
				t.Errorf("%s-value has schemaType %s, want %s", topic, typ, f.schemaType)
			}
			a := call(t, "GET", n.URL+"/subjects/"+topic+"-value/versions", "")
			if a.Status != 200 || !eqJSON(a.JSON, []int{1}) {
				t.Errorf("versions of %s-value: %d %s, want [1]", topic, a.Status, a.Body)
			}
			checkFraming(t, fetchValues(t, n, topic, serdeRecords), id, f.name)
			checkReadings(t, "Python DeserializingConsumer", pythonConsume(t, python, n, topic, f.name, serdeRecords), "python", serdeRecords)
		})
	}
}
