package registry

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// The curl-level checks: raw HTTP requests against `samsa serve`, the way
// a shell script with curl would send them, each answer's status, JSON
// body and error_code asserted.

// expectErr asserts an error answer: HTTP status, error_code and a
// message.
func expectErr(t *testing.T, what string, a answer, status, code int) {
	t.Helper()
	m, _ := a.JSON.(map[string]any)
	msg, _ := m["message"].(string)
	if a.Status != status || a.ErrorCode() != code || msg == "" {
		t.Errorf("%s: HTTP %d %s; want %d with error_code %d and a message", what, a.Status, a.Body, status, code)
	}
}

// expectOK asserts a 200 and returns the body decoded.
func expectOK(t *testing.T, what string, a answer) any {
	t.Helper()
	if a.Status != 200 {
		t.Errorf("%s: HTTP %d %s; want 200", what, a.Status, a.Body)
	}
	return a.JSON
}

// idOf is the "id" of an answer, 0 if none.
func idOf(a answer) int {
	if m, ok := a.JSON.(map[string]any); ok {
		if f, ok := m["id"].(float64); ok {
			return int(f)
		}
	}
	return 0
}

// field is a top-level field of an object answer.
func field(a answer, name string) any {
	if m, ok := a.JSON.(map[string]any); ok {
		return m[name]
	}
	return nil
}

// jsonEq says the answer's JSON equals want (written as JSON).
func jsonEq(a answer, want string) bool {
	var w any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		panic(err)
	}
	return reflect.DeepEqual(a.JSON, w)
}

// callHeaders is call with extra request headers.
func callHeaders(t *testing.T, method, url, body string, headers map[string]string) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{Status: resp.StatusCode, Body: b}
	_ = json.Unmarshal(b, &a.JSON)
	return a
}

// record is an Avro record schema named R with the given fields (JSON).
func record(fields ...string) string {
	return `{"type":"record","name":"R","namespace":"api","fields":[` + strings.Join(fields, ",") + `]}`
}

func TestCurlLevelAPI(t *testing.T) {
	n := startNode(t)
	waitReady(t, n.URL)
	u := n.URL
	reg := func(subject, schema string) answer {
		t.Helper()
		return call(t, "POST", u+"/subjects/"+subject+"/versions", schemaBody(schema, ""))
	}
	mustReg := func(subject, schema string) int {
		t.Helper()
		a := reg(subject, schema)
		if a.Status != 200 || idOf(a) <= 0 {
			t.Fatalf("register %s under %s: HTTP %d %s", schema, subject, a.Status, a.Body)
		}
		return idOf(a)
	}

	t.Run("issue example", func(t *testing.T) {
		// curl -s -XPOST -H 'Content-Type: application/vnd.schemaregistry.v1+json' localhost:8081/subjects/nope -d '{"schema":"\"string\""}'
		a := call(t, "POST", u+"/subjects/nope", `{"schema":"\"string\""}`)
		expectErr(t, "POST /subjects/nope", a, 404, 40401)
	})

	t.Run("discovery", func(t *testing.T) {
		if !jsonEq(call(t, "GET", u+"/", ""), `{}`) {
			t.Errorf("GET / is not {}")
		}
		types, _ := expectOK(t, "GET /schemas/types", call(t, "GET", u+"/schemas/types", "")).([]any)
		if !slices.Contains(types, any("AVRO")) {
			t.Errorf("GET /schemas/types = %v", types)
		}
		if a := call(t, "GET", u+"/contexts", ""); !jsonEq(a, `["."]`) {
			t.Errorf("GET /contexts = %s", a.Body)
		}
		if a := call(t, "GET", u+"/schemas", ""); !jsonEq(a, `[]`) {
			t.Errorf("GET /schemas on an empty registry = %s", a.Body)
		}
		if a := call(t, "GET", u+"/mode", ""); !jsonEq(a, `{"mode":"READWRITE"}`) {
			t.Errorf("GET /mode = %s", a.Body)
		}
		if a := call(t, "GET", u+"/config", ""); !jsonEq(a, `{"compatibilityLevel":"BACKWARD"}`) {
			t.Errorf("GET /config = %s", a.Body)
		}
		expectErr(t, "GET /no/such/endpoint", call(t, "GET", u+"/no/such/endpoint", ""), 404, 404)
	})

	t.Run("canonical primitives and whitespace", func(t *testing.T) {
		id := mustReg("api-prim", `{"type":"string"}`)
		a := call(t, "GET", u+"/subjects/api-prim/versions/1", "")
		if field(a, "schema") != `"string"` || field(a, "version") != 1.0 || idOf(a) != id {
			t.Errorf(`{"type":"string"} is served as %s; want "string"`, a.Body)
		}
		if got := mustReg("api-prim", `"string"`); got != id {
			t.Errorf(`"string" after {"type":"string"}: id %d, want %d`, got, id)
		}
		if a := call(t, "GET", u+"/schemas/ids/"+fmt.Sprint(id), ""); !jsonEq(a, `{"schema":"\"string\"","guid":`+mustJSON(field(a, "guid"))+`}`) {
			t.Errorf("GET /schemas/ids/%d = %s", id, a.Body)
		}
		if a := call(t, "GET", u+"/subjects/api-prim/versions/latest/schema", ""); string(a.Body) != `"string"` {
			t.Errorf("GET …/latest/schema = %s", a.Body)
		}
		compact := record(`{"name":"a","type":"string"}`)
		spaced := "{\n  \"type\" : \"record\",\n  \"name\" : \"R\",\n  \"namespace\" : \"api\",\n  \"fields\" : [ { \"name\" : \"a\", \"type\" : \"string\" } ]\n}\n"
		id1 := mustReg("api-ws-1", compact)
		id2 := mustReg("api-ws-2", spaced)
		if id1 != id2 {
			t.Errorf("the same schema with other whitespace got ids %d and %d", id1, id2)
		}
		if a := call(t, "GET", u+"/subjects/api-ws-2/versions/1", ""); field(a, "schema") != compact {
			t.Errorf("the spaced schema is served as %s; want the compact form", a.Body)
		}
	})

	t.Run("schemas by id", func(t *testing.T) {
		addr := mustReg("api-addr", `{"type":"record","name":"Address","namespace":"api","fields":[{"name":"street","type":"string"}]}`)
		body, _ := json.Marshal(map[string]any{"schema": `{"type":"record","name":"Home","namespace":"api","fields":[{"name":"at","type":"api.Address"}]}`,
			"references": []map[string]any{{"name": "api.Address", "subject": "api-addr", "version": 1}}})
		a := call(t, "POST", u+"/subjects/api-home/versions", string(body))
		home := idOf(a)
		if home <= 0 {
			t.Fatalf("register with a reference: %d %s", a.Status, a.Body)
		}
		mustReg("api-addr-copy", `{"type":"record","name":"Address","namespace":"api","fields":[{"name":"street","type":"string"}]}`)
		a = call(t, "GET", fmt.Sprintf("%s/schemas/ids/%d?subject=api-home", u, home), "")
		refs, _ := field(a, "references").([]any)
		if a.Status != 200 || len(refs) != 1 || strings.Contains(field(a, "schema").(string), "street") {
			t.Errorf("GET /schemas/ids/%d?subject=api-home = %s", home, a.Body)
		}
		a = call(t, "GET", fmt.Sprintf("%s/schemas/ids/%d?format=resolved", u, home), "")
		if s, _ := field(a, "schema").(string); a.Status != 200 || !strings.Contains(s, `"street"`) {
			t.Errorf("GET /schemas/ids/%d?format=resolved does not inline the reference: %s", home, a.Body)
		}
		expectErr(t, "?format=nonsense", call(t, "GET", fmt.Sprintf("%s/schemas/ids/%d?format=nonsense", u, home), ""), 400, 400)
		if a := call(t, "GET", fmt.Sprintf("%s/schemas/ids/%d/subjects", u, addr), ""); !jsonEq(a, `["api-addr","api-addr-copy"]`) {
			t.Errorf("GET /schemas/ids/%d/subjects = %s", addr, a.Body)
		}
		if a := call(t, "GET", fmt.Sprintf("%s/schemas/ids/%d/versions", u, addr), ""); !jsonEq(a, `[{"subject":"api-addr","version":1},{"subject":"api-addr-copy","version":1}]`) {
			t.Errorf("GET /schemas/ids/%d/versions = %s", addr, a.Body)
		}
		if a := call(t, "GET", u+"/subjects/api-addr/versions/1/referencedby", ""); !jsonEq(a, fmt.Sprintf(`[%d]`, home)) {
			t.Errorf("referencedby = %s", a.Body)
		}
		expectErr(t, "GET /schemas/ids/987654", call(t, "GET", u+"/schemas/ids/987654", ""), 404, 40403)
		expectErr(t, "GET /schemas/ids/987654/subjects", call(t, "GET", u+"/schemas/ids/987654/subjects", ""), 404, 40403)
		// A referenced version cannot be deleted: 42206.
		expectErr(t, "DELETE a referenced version", call(t, "DELETE", u+"/subjects/api-addr/versions/1", ""), 422, 42206)
		expectErr(t, "DELETE a referenced subject", call(t, "DELETE", u+"/subjects/api-addr", ""), 422, 42206)
		all, _ := call(t, "GET", u+"/schemas?subjectPrefix=api-addr", "").JSON.([]any)
		if len(all) != 2 {
			t.Errorf("GET /schemas?subjectPrefix=api-addr = %v", all)
		}
		// A reference to a missing version is an invalid schema.
		body, _ = json.Marshal(map[string]any{"schema": `{"type":"record","name":"H2","namespace":"api","fields":[{"name":"at","type":"api.Address"}]}`,
			"references": []map[string]any{{"name": "api.Address", "subject": "api-addr", "version": 9}}})
		expectErr(t, "a reference to a missing version", call(t, "POST", u+"/subjects/api-home2/versions", string(body)), 422, 42201)
	})

	t.Run("metadata ruleSet and unknown fields", func(t *testing.T) {
		body := `{"schema":"\"int\"","metadata":{"properties":{"owner":"ada","team":"core"},"tags":{"f":["PII"]}},` +
			`"ruleSet":{"domainRules":[{"name":"r","kind":"CONDITION","mode":"WRITE","type":"CEL","expr":"true"}]},` +
			`"someFutureField":{"x":[1,2]},"anotherOne":7}`
		a := callHeaders(t, "POST", u+"/subjects/api-meta/versions", body, map[string]string{"Confluent-Accept-Unknown-Properties": "true"})
		if a.Status != 200 || idOf(a) <= 0 {
			t.Fatalf("register with metadata, ruleSet and unknown fields: %d %s", a.Status, a.Body)
		}
		a = call(t, "GET", u+"/subjects/api-meta/versions/1", "")
		var sent map[string]any
		_ = json.Unmarshal([]byte(body), &sent)
		if !reflect.DeepEqual(field(a, "metadata"), sent["metadata"]) || !reflect.DeepEqual(field(a, "ruleSet"), sent["ruleSet"]) {
			t.Errorf("metadata and ruleSet not served back: %s", a.Body)
		}
		a = call(t, "GET", u+"/subjects/api-meta/metadata?key=owner&value=ada&key=team&value=core", "")
		if a.Status != 200 || field(a, "version") != 1.0 || field(a, "subject") != "api-meta" {
			t.Errorf("GET …/metadata?key=owner&value=ada = %d %s", a.Status, a.Body)
		}
		expectErr(t, "metadata that nothing matches", call(t, "GET", u+"/subjects/api-meta/metadata?key=owner&value=bob", ""), 404, 40401)
		expectErr(t, "metadata of an unknown subject", call(t, "GET", u+"/subjects/api-nope/metadata?key=owner&value=ada", ""), 404, 40401)
		// Unknown fields are never a 422, with or without the header.
		a = call(t, "POST", u+"/subjects/api-meta", `{"schema":"\"int\"","whatever":true}`)
		if a.Status != 200 || field(a, "version") != 1.0 {
			t.Errorf("lookup with an unknown field: %d %s", a.Status, a.Body)
		}
		a = call(t, "PUT", u+"/config/api-meta", `{"compatibility":"FULL","someNewConfig":"x"}`)
		if a.Status != 200 || field(a, "compatibility") != "FULL" {
			t.Errorf("PUT /config with an unknown field: %d %s", a.Status, a.Body)
		}
	})

	t.Run("content types", func(t *testing.T) {
		var ids []int
		for _, ct := range []string{"application/vnd.schemaregistry.v1+json", "application/vnd.schemaregistry+json", "application/json",
			"application/json; charset=utf-8", "-", "application/octet-stream"} {
			a := call(t, "POST", u+"/subjects/api-ct/versions", `{"schema":"\"float\""}`, ct)
			if a.Status != 200 {
				t.Errorf("Content-Type %s: %d %s", ct, a.Status, a.Body)
			}
			ids = append(ids, idOf(a))
		}
		if ids[0] <= 0 || slices.ContainsFunc(ids, func(id int) bool { return id != ids[0] }) {
			t.Errorf("ids across content types: %v", ids)
		}
		expectErr(t, "Content-Type text/plain", call(t, "POST", u+"/subjects/api-ct/versions", `{"schema":"\"float\""}`, "text/plain"), 415, 415)
	})

	t.Run("lookups and deletes", func(t *testing.T) {
		const s = "api-del"
		v1 := mustReg(s, record(`{"name":"a","type":"string"}`))
		v2 := mustReg(s, record(`{"name":"a","type":"string"}`, `{"name":"b","type":"int","default":0}`))
		mustReg(s, record(`{"name":"a","type":"string"}`, `{"name":"b","type":"int","default":0}`, `{"name":"c","type":"int","default":0}`))
		expectErr(t, "lookup under an unknown subject", call(t, "POST", u+"/subjects/api-nothing", schemaBody(`"int"`, "")), 404, 40401)
		expectErr(t, "lookup of a schema not under the subject", call(t, "POST", u+"/subjects/"+s, schemaBody(`"int"`, "")), 404, 40403)
		a := call(t, "POST", u+"/subjects/"+s, schemaBody(record(`{"name":"a","type":"string"}`), ""))
		if idOf(a) != v1 || field(a, "version") != 1.0 || field(a, "subject") != s {
			t.Errorf("lookup of version 1 = %s", a.Body)
		}
		expectErr(t, "GET version 9", call(t, "GET", u+"/subjects/"+s+"/versions/9", ""), 404, 40402)
		expectErr(t, "GET version abc", call(t, "GET", u+"/subjects/"+s+"/versions/abc", ""), 422, 42202)
		expectErr(t, "GET version 0", call(t, "GET", u+"/subjects/"+s+"/versions/0", ""), 422, 42202)
		// Versions: soft delete 2, twice; permanent without soft first.
		if a := call(t, "DELETE", u+"/subjects/"+s+"/versions/2", ""); !jsonEq(a, `2`) {
			t.Errorf("DELETE version 2 = %d %s", a.Status, a.Body)
		}
		expectErr(t, "DELETE version 2 twice", call(t, "DELETE", u+"/subjects/"+s+"/versions/2", ""), 404, 40406)
		expectErr(t, "DELETE version 1 permanently before softly", call(t, "DELETE", u+"/subjects/"+s+"/versions/1?permanent=true", ""), 404, 40407)
		expectErr(t, "GET a soft-deleted version", call(t, "GET", u+"/subjects/"+s+"/versions/2", ""), 404, 40402)
		if a := call(t, "GET", u+"/subjects/"+s+"/versions/2?deleted=true", ""); idOf(a) != v2 || field(a, "deleted") != true {
			t.Errorf("GET version 2 ?deleted=true = %s", a.Body)
		}
		if a := call(t, "GET", u+"/subjects/"+s+"/versions", ""); !jsonEq(a, `[1,3]`) {
			t.Errorf("versions after deleting 2 = %s", a.Body)
		}
		expectErr(t, "lookup of a soft-deleted version", call(t, "POST", u+"/subjects/"+s, schemaBody(record(`{"name":"a","type":"string"}`, `{"name":"b","type":"int","default":0}`), "")), 404, 40403)
		if a := call(t, "POST", u+"/subjects/"+s+"?deleted=true", schemaBody(record(`{"name":"a","type":"string"}`, `{"name":"b","type":"int","default":0}`), "")); idOf(a) != v2 {
			t.Errorf("lookup ?deleted=true of version 2 = %s", a.Body)
		}
		// The subject: permanent before soft, soft, soft again.
		expectErr(t, "DELETE subject permanently before softly", call(t, "DELETE", u+"/subjects/"+s+"?permanent=true", ""), 404, 40405)
		if a := call(t, "DELETE", u+"/subjects/"+s, ""); !jsonEq(a, `[1,3]`) {
			t.Errorf("DELETE subject = %d %s", a.Status, a.Body)
		}
		expectErr(t, "DELETE subject twice", call(t, "DELETE", u+"/subjects/"+s, ""), 404, 40404)
		expectErr(t, "GET versions after every version is soft-deleted", call(t, "GET", u+"/subjects/"+s+"/versions", ""), 404, 40401)
		if a := call(t, "GET", u+"/subjects/"+s+"/versions?deleted=true", ""); !jsonEq(a, `[1,2,3]`) {
			t.Errorf("GET versions?deleted=true = %s", a.Body)
		}
		if a := call(t, "GET", u+"/subjects", ""); strings.Contains(string(a.Body), `"`+s+`"`) {
			t.Errorf("GET /subjects lists a soft-deleted subject: %s", a.Body)
		}
		if a := call(t, "GET", u+"/subjects?deleted=true", ""); !strings.Contains(string(a.Body), `"`+s+`"`) {
			t.Errorf("GET /subjects?deleted=true misses %s: %s", s, a.Body)
		}
		// Versions continue after a soft delete...
		if id := mustReg(s, `"boolean"`); id <= 0 {
			t.Fatal("no id")
		}
		if a := call(t, "GET", u+"/subjects/"+s+"/versions", ""); !jsonEq(a, `[4]`) {
			t.Errorf("versions after re-registering on a soft-deleted subject = %s; want [4]", a.Body)
		}
		// ... and restart at 1 after a permanent delete.
		if a := call(t, "DELETE", u+"/subjects/"+s, ""); !jsonEq(a, `[4]`) {
			t.Errorf("DELETE subject again = %s", a.Body)
		}
		if a := call(t, "DELETE", u+"/subjects/"+s+"?permanent=true", ""); !jsonEq(a, `[1,2,3,4]`) {
			t.Errorf("DELETE subject permanently = %d %s", a.Status, a.Body)
		}
		expectErr(t, "GET versions?deleted=true after a permanent delete", call(t, "GET", u+"/subjects/"+s+"/versions?deleted=true", ""), 404, 40401)
		again := mustReg(s, record(`{"name":"a","type":"string"}`))
		if a := call(t, "GET", u+"/subjects/"+s+"/versions", ""); !jsonEq(a, `[1]`) {
			t.Errorf("versions after a permanent delete = %s; want [1]", a.Body)
		}
		// (v1's id may live on through api-ws-1, which holds the same schema.)
		if a := call(t, "GET", fmt.Sprintf("%s/schemas/ids/%d", u, again), ""); field(a, "schema") != record(`{"name":"a","type":"string"}`) {
			t.Errorf("GET /schemas/ids/%d = %s", again, a.Body)
		}
	})

	t.Run("compatibility", func(t *testing.T) {
		const s = "api-compat"
		v1 := record(`{"name":"a","type":"string"}`)
		v2 := record(`{"name":"a","type":"string"}`, `{"name":"b","type":"int","default":0}`)
		// x reads v2 data (b present) but not v1 data (b missing, no default).
		x := record(`{"name":"b","type":"int"}`)
		mustReg(s, v1)
		mustReg(s, v2)
		check := func(path, schema string) answer {
			t.Helper()
			return call(t, "POST", u+"/compatibility/subjects/"+s+"/versions"+path, schemaBody(schema, ""))
		}
		isCompat := func(a answer) bool { b, _ := field(a, "is_compatible").(bool); return b }
		// BACKWARD covers the latest version only.
		if a := check("", x); !isCompat(a) {
			t.Errorf("BACKWARD, all versions the level covers: %s; want compatible (latest only)", a.Body)
		}
		if a := check("/latest", x); !isCompat(a) {
			t.Errorf("BACKWARD against latest: %s", a.Body)
		}
		a := check("/1?verbose=true", x)
		if isCompat(a) {
			t.Errorf("against version 1: %s; want incompatible", a.Body)
		}
		msgs, _ := field(a, "messages").([]any)
		if len(msgs) == 0 || !strings.Contains(fmt.Sprint(msgs...), "READER_FIELD_MISSING_DEFAULT_VALUE") || !strings.Contains(fmt.Sprint(msgs...), "version: 1") {
			t.Errorf("verbose messages do not explain: %s", a.Body)
		}
		if a := call(t, "PUT", u+"/config/"+s, `{"compatibility":"BACKWARD_TRANSITIVE"}`); !jsonEq(a, `{"compatibility":"BACKWARD_TRANSITIVE"}`) {
			t.Errorf("PUT /config/%s = %s", s, a.Body)
		}
		// BACKWARD_TRANSITIVE covers every version.
		a = check("?verbose=true", x)
		if isCompat(a) || len(field(a, "messages").([]any)) == 0 {
			t.Errorf("BACKWARD_TRANSITIVE, all versions: %s; want incompatible with messages", a.Body)
		}
		if a := check("", x); isCompat(a) || len(field(a, "messages").([]any)) != 0 {
			t.Errorf("without verbose: %s; want incompatible and no messages", a.Body)
		}
		a = reg(s, x)
		expectErr(t, "register an incompatible schema", a, 409, 409)
		if m, _ := field(a, "message").(string); !strings.Contains(m, "path: '/fields/0'") && !strings.Contains(m, "READER_FIELD_MISSING_DEFAULT_VALUE") {
			t.Errorf("the 409 does not name the breaking change: %s", a.Body)
		}
		// Soft-deleted versions are skipped: without version 1, x fits.
		if a := call(t, "DELETE", u+"/subjects/"+s+"/versions/1", ""); a.Status != 200 {
			t.Fatalf("DELETE version 1: %s", a.Body)
		}
		if a := check("", x); !isCompat(a) {
			t.Errorf("BACKWARD_TRANSITIVE with version 1 soft-deleted: %s; want compatible", a.Body)
		}
		if a := reg(s, x); a.Status != 200 {
			t.Errorf("register x with version 1 soft-deleted: %d %s", a.Status, a.Body)
		}
		// A check on a subject with no versions is compatible; a version
		// that is not there is 40402.
		if a := call(t, "POST", u+"/compatibility/subjects/api-empty/versions", schemaBody(x, "")); !isCompat(a) {
			t.Errorf("check on an empty subject: %s", a.Body)
		}
		expectErr(t, "check against a missing version", check("/42", x), 404, 40402)
		expectErr(t, "check against an unknown subject's version 1", call(t, "POST", u+"/compatibility/subjects/api-empty/versions/1", schemaBody(x, "")), 404, 40401)
		// Config errors and resets.
		expectErr(t, "PUT /config SIDEWAYS", call(t, "PUT", u+"/config", `{"compatibility":"SIDEWAYS"}`), 422, 42203)
		expectErr(t, "GET /config of a subject without one", call(t, "GET", u+"/config/api-prim", ""), 404, 40408)
		if a := call(t, "GET", u+"/config/api-prim?defaultToGlobal=true", ""); !jsonEq(a, `{"compatibilityLevel":"BACKWARD"}`) {
			t.Errorf("GET /config/api-prim?defaultToGlobal=true = %s", a.Body)
		}
		if a := call(t, "DELETE", u+"/config/"+s, ""); a.Status != 200 || !strings.Contains(string(a.Body), "BACKWARD_TRANSITIVE") {
			t.Errorf("DELETE /config/%s = %d %s", s, a.Status, a.Body)
		}
		expectErr(t, "GET /config after DELETE", call(t, "GET", u+"/config/"+s, ""), 404, 40408)
		// FORWARD and FULL directions.
		call(t, "PUT", u+"/config/api-fwd", `{"compatibility":"FORWARD"}`)
		mustReg("api-fwd", v2)
		// v1 as the new schema: old readers (v2) read v1 data with b's default.
		if a := call(t, "POST", u+"/compatibility/subjects/api-fwd/versions/latest", schemaBody(v1, "")); !isCompat(a) {
			t.Errorf("FORWARD v1 after v2: %s", a.Body)
		}
		// x as the new schema: v2 readers need a, which x data lacks.
		if a := call(t, "POST", u+"/compatibility/subjects/api-fwd/versions/latest", schemaBody(x, "")); isCompat(a) {
			t.Errorf("FORWARD x after v2: %s; want incompatible", a.Body)
		}
		call(t, "PUT", u+"/config/api-fwd", `{"compatibility":"FULL"}`)
		if a := call(t, "POST", u+"/compatibility/subjects/api-fwd/versions/latest?verbose=true", schemaBody(x, "")); isCompat(a) || !strings.Contains(string(a.Body), "FORWARD") {
			t.Errorf("FULL x after v2: %s; want incompatible in the FORWARD direction", a.Body)
		}
	})

	t.Run("normalize", func(t *testing.T) {
		xSchema := `{"type":"int","b":1,"a":2}`
		ySchema := `{"type":"int","a":2,"b":1}`
		a := call(t, "POST", u+"/subjects/api-norm/versions?normalize=true", schemaBody(xSchema, ""))
		id := idOf(a)
		if id <= 0 {
			t.Fatalf("register ?normalize=true: %s", a.Body)
		}
		if a := call(t, "GET", u+"/subjects/api-norm/versions/1", ""); field(a, "schema") != ySchema {
			t.Errorf("normalized schema stored as %s; want properties sorted", a.Body)
		}
		if a := call(t, "POST", u+"/subjects/api-norm?normalize=true", schemaBody(ySchema, "")); idOf(a) != id {
			t.Errorf("lookup ?normalize=true = %s", a.Body)
		}
		if a := call(t, "POST", u+"/subjects/api-norm/versions?normalize=true", schemaBody(ySchema, "")); idOf(a) != id {
			t.Errorf("re-register the other order ?normalize=true = %s; want id %d", a.Body, id)
		}
		if a := call(t, "GET", u+"/subjects/api-norm/versions", ""); !jsonEq(a, `[1]`) {
			t.Errorf("versions = %s; want [1]", a.Body)
		}
		// Without normalize the property order is kept: another schema.
		other := idOf(call(t, "POST", u+"/subjects/api-nonorm/versions", schemaBody(xSchema, "")))
		if other == id || other <= 0 {
			t.Errorf("without normalize, %s got id %d (normalized one: %d)", xSchema, other, id)
		}
		if a := call(t, "POST", u+"/compatibility/subjects/api-norm/versions/latest?normalize=true", schemaBody(xSchema, "")); field(a, "is_compatible") != true {
			t.Errorf("compatibility ?normalize=true = %s", a.Body)
		}
		// normalize set in the subject's config applies without the parameter.
		if a := call(t, "PUT", u+"/config/api-norm-cfg", `{"normalize":true}`); a.Status != 200 {
			t.Fatalf("PUT /config normalize: %d %s", a.Status, a.Body)
		}
		if a := call(t, "POST", u+"/subjects/api-norm-cfg/versions", schemaBody(xSchema, "")); idOf(a) != id {
			t.Errorf("register under a subject configured to normalize = %s; want the normalized id %d", a.Body, id)
		}
	})

	t.Run("modes", func(t *testing.T) {
		if a := call(t, "PUT", u+"/mode/api-ro", `{"mode":"READONLY"}`); !jsonEq(a, `{"mode":"READONLY"}`) {
			t.Errorf("PUT /mode/api-ro = %s", a.Body)
		}
		if a := call(t, "GET", u+"/mode/api-ro", ""); !jsonEq(a, `{"mode":"READONLY"}`) {
			t.Errorf("GET /mode/api-ro = %s", a.Body)
		}
		expectErr(t, "register on a READONLY subject", reg("api-ro", `"int"`), 422, 42205)
		if a := reg("api-rw", `"int"`); a.Status != 200 {
			t.Errorf("register on another subject while api-ro is READONLY: %s", a.Body)
		}
		if a := call(t, "DELETE", u+"/mode/api-ro", ""); !jsonEq(a, `{"mode":"READONLY"}`) {
			t.Errorf("DELETE /mode/api-ro = %s", a.Body)
		}
		expectErr(t, "GET /mode of a subject without one", call(t, "GET", u+"/mode/api-ro", ""), 404, 40409)
		if a := call(t, "GET", u+"/mode/api-ro?defaultToGlobal=true", ""); !jsonEq(a, `{"mode":"READWRITE"}`) {
			t.Errorf("GET /mode/api-ro?defaultToGlobal=true = %s", a.Body)
		}
		expectErr(t, "PUT /mode NOPE", call(t, "PUT", u+"/mode", `{"mode":"NOPE"}`), 422, 42204)
		// Global READONLY_OVERRIDE blocks writes everywhere.
		if a := call(t, "PUT", u+"/mode", `{"mode":"READONLY_OVERRIDE"}`); !jsonEq(a, `{"mode":"READONLY_OVERRIDE"}`) {
			t.Errorf("PUT /mode READONLY_OVERRIDE = %s", a.Body)
		}
		expectErr(t, "register under global READONLY_OVERRIDE", reg("api-rw", `"long"`), 422, 42205)
		expectErr(t, "delete under global READONLY_OVERRIDE", call(t, "DELETE", u+"/subjects/api-rw", ""), 422, 42205)
		if a := call(t, "DELETE", u+"/mode", ""); !jsonEq(a, `{"mode":"READONLY_OVERRIDE"}`) {
			t.Errorf("DELETE /mode = %s", a.Body)
		}
		if a := call(t, "GET", u+"/mode", ""); !jsonEq(a, `{"mode":"READWRITE"}`) {
			t.Errorf("GET /mode after DELETE = %s", a.Body)
		}
		// IMPORT on a registry with subjects needs ?force=true.
		expectErr(t, "PUT /mode IMPORT without force", call(t, "PUT", u+"/mode", `{"mode":"IMPORT"}`), 422, 42205)
		expectErr(t, "PUT /mode/api-rw IMPORT without force", call(t, "PUT", u+"/mode/api-rw", `{"mode":"IMPORT"}`), 422, 42205)
		if a := call(t, "PUT", u+"/mode?force=true", `{"mode":"IMPORT"}`); !jsonEq(a, `{"mode":"IMPORT"}`) {
			t.Errorf("PUT /mode?force=true IMPORT = %s", a.Body)
		}
		if a := call(t, "PUT", u+"/mode", `{"mode":"READWRITE"}`); !jsonEq(a, `{"mode":"READWRITE"}`) {
			t.Errorf("PUT /mode READWRITE = %s", a.Body)
		}
	})

	t.Run("import", func(t *testing.T) {
		if a := call(t, "PUT", u+"/mode/api-imp", `{"mode":"IMPORT"}`); a.Status != 200 {
			t.Fatalf("PUT /mode/api-imp IMPORT on an empty subject: %s", a.Body)
		}
		imp := func(schema string, id, version int) answer {
			b, _ := json.Marshal(map[string]any{"schema": schema, "id": id, "version": version})
			return call(t, "POST", u+"/subjects/api-imp/versions", string(b))
		}
		if a := imp(`"string"`, 9000, 3); !jsonEq(a, `{"id":9000}`) {
			t.Errorf("import id 9000 version 3 = %d %s", a.Status, a.Body)
		}
		if a := call(t, "GET", u+"/subjects/api-imp/versions/3", ""); idOf(a) != 9000 || field(a, "version") != 3.0 {
			t.Errorf("GET the imported version = %s", a.Body)
		}
		if a := imp(`"string"`, 9000, 3); !jsonEq(a, `{"id":9000}`) {
			t.Errorf("re-post the same schema with the same id = %d %s", a.Status, a.Body)
		}
		expectErr(t, "another schema under a used id", imp(`"bytes"`, 9000, 4), 422, 42207)
		expectErr(t, "the same schema under another id", imp(`"string"`, 9005, 5), 422, 42207)
		if a := imp(`"bytes"`, 9001, 4); !jsonEq(a, `{"id":9001}`) {
			t.Errorf("import id 9001 version 4 = %d %s", a.Status, a.Body)
		}
		expectErr(t, "an id in READWRITE mode", call(t, "POST", u+"/subjects/api-rw/versions", `{"schema":"\"double\"","id":9500}`), 422, 42205)
		call(t, "DELETE", u+"/mode/api-imp", "")
		// New ids continue after the imported ones.
		if id := mustReg("api-after-import", `"double"`); id <= 9001 {
			t.Errorf("id after importing 9001: %d", id)
		}
	})

	t.Run("error codes", func(t *testing.T) {
		expectErr(t, "a schema that does not parse", reg("api-err", `{"type":"record","name":"R"}`), 422, 42201)
		expectErr(t, "an unknown schemaType", call(t, "POST", u+"/subjects/api-err/versions", `{"schema":"x","schemaType":"XML"}`), 422, 42201)
		expectErr(t, "an empty schema", call(t, "POST", u+"/subjects/api-err/versions", `{"schema":""}`), 422, 42201)
		expectErr(t, "a subject with a control character", reg("api%01err", `"int"`), 422, 42208)
		big := `{"type":"record","name":"Big","fields":[{"name":"f","type":"string","doc":"` + strings.Repeat("x", 950<<10) + `"}]}`
		expectErr(t, "a 950 KiB schema", reg("api-big", big), 422, 42209)
	})
}

// mustJSON encodes v.
func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestServerErrorCodes reaches the 500 codes of A1 from outside:
//   - 50001 (store): a record another tool wrote to _schemas holds a schema
//     that does not parse; checking compatibility against it is a store
//     error;
//   - 50002 (timeout): an instance that cannot catch up with its store (no
//     broker at --brokers) answers every request 503 with 50002;
//   - 50003 (forwarding failed): the elected leader advertises a URL that
//     does not answer, so a follower cannot forward to it;
//   - 50004 (unknown leader): no instance of the group is eligible to lead.
func TestServerErrorCodes(t *testing.T) {
	n := startNode(t)
	waitReady(t, n.URL)

	t.Run("50001 store", func(t *testing.T) {
		u := n.URL
		if a := call(t, "POST", u+"/subjects/store-ok/versions", schemaBody(`"int"`, "")); a.Status != 200 {
			t.Fatalf("register: %s", a.Body)
		}
		// A mirrored _schemas record whose schema does not parse.
		cl := n.Client(t, kgo.DefaultProduceTopic("_schemas"))
		key := `{"keytype":"SCHEMA","subject":"store-bad","version":1,"magic":1}`
		val := `{"subject":"store-bad","version":1,"id":777,"schema":"{\"type\":\"record\",\"name\":\"Broken\"}","deleted":false}`
		if err := cl.ProduceSync(t.Context(), &kgo.Record{Key: []byte(key), Value: []byte(val)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
		var a answer
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if a = call(t, "GET", u+"/subjects/store-bad/versions", ""); a.Status == 200 {
				break
			}
		}
		if !jsonEq(a, `[1]`) {
			t.Fatalf("the mirrored record is not served: %d %s", a.Status, a.Body)
		}
		expectErr(t, "compatibility against a stored schema that does not parse",
			call(t, "POST", u+"/compatibility/subjects/store-bad/versions/latest", schemaBody(`"int"`, "")), 500, 50001)
		expectErr(t, "format=resolved of a stored schema that does not parse",
			call(t, "GET", u+"/schemas/ids/777?format=resolved", ""), 422, 42201)
		// The raw record is still served as it was written.
		if a := call(t, "GET", u+"/schemas/ids/777", ""); field(a, "schema") != `{"type":"record","name":"Broken"}` {
			t.Errorf("GET /schemas/ids/777 = %s", a.Body)
		}
	})

	t.Run("50002 timeout", func(t *testing.T) {
		p := startRegistry(t, "--brokers", "127.0.0.1:1", "--store-timeout", "1s")
		a := call(t, "GET", p.URL+"/subjects", "")
		expectErr(t, "GET /subjects of an instance that cannot reach its store", a, 503, 50002)
	})

	t.Run("50003 forwarding failed", func(t *testing.T) {
		n2 := startNode(t)
		waitReady(t, n2.URL)
		// An instance that advertises a URL nobody listens on, elected
		// leader: it is the only eligible member when it first writes,
		// and the leader is kept while it stays in the group.
		p := startRegistry(t, "--brokers", n2.Addr, "--advertised-url", "http://127.0.0.1:1", "--group-id", "fwd-test")
		waitReady(t, p.URL)
		if a := call(t, "POST", p.URL+"/subjects/fwd/versions", schemaBody(`"int"`, "")); a.Status != 200 {
			t.Fatalf("write on the bogus-URL leader itself: %d %s", a.Status, a.Body)
		}
		q := startRegistry(t, "--brokers", n2.Addr, "--group-id", "fwd-test")
		waitReady(t, q.URL)
		a := call(t, "POST", q.URL+"/subjects/fwd/versions", schemaBody(`"long"`, ""))
		expectErr(t, "a write forwarded to a leader that does not answer", a, 500, 50003)
	})

	t.Run("50004 unknown leader", func(t *testing.T) {
		p := startRegistry(t, "--brokers", n.Addr, "--leader-eligible=false", "--group-id", "nobody-leads", "--store-timeout", "2s")
		waitReady(t, p.URL)
		a := call(t, "POST", p.URL+"/subjects/x/versions", schemaBody(`"int"`, ""))
		expectErr(t, "a write when no instance may lead", a, 500, 50004)
		// Reads still work.
		if a := call(t, "GET", p.URL+"/subjects/store-ok/versions", ""); !jsonEq(a, `[1]`) {
			t.Errorf("a read on the leaderless instance: %s", a.Body)
		}
	})
}

// TestCompatibilityLevels checks all seven levels through POST
// /compatibility/subjects/{s}/versions (every version the level covers),
// …/versions/latest (the latest only, in the level's direction) and a
// registration (409 when incompatible), on a subject with two versions:
//
//	v1 {a: string}
//	v2 {a: string = "x", b: int = 0}
//
// u {b: int} reads v2 data but not v1 data (b has no default there), and
// v2 reads u data (its a has a default) while v1 does not: compatible with
// the latest only, in both directions. w {a: string, c: int} is read by
// both (they ignore c; v2 defaults b) but reads neither (c has no
// default): forward only, transitively too. A check against one version
// applies the level's direction to that version alone, whatever the
// transitivity.
func TestCompatibilityLevels(t *testing.T) {
	n := startNode(t)
	waitReady(t, n.URL)
	v1 := record(`{"name":"a","type":"string"}`)
	v2 := record(`{"name":"a","type":"string","default":"x"}`, `{"name":"b","type":"int","default":0}`)
	cands := map[string]string{
		"u": record(`{"name":"b","type":"int"}`),
		"w": record(`{"name":"a","type":"string"}`, `{"name":"c","type":"int"}`),
	}
	want := map[string]map[string]bool{ // level → candidate → compatible with every covered version
		"NONE":                {"u": true, "w": true},
		"BACKWARD":            {"u": true, "w": false},
		"BACKWARD_TRANSITIVE": {"u": false, "w": false},
		"FORWARD":             {"u": true, "w": true},
		"FORWARD_TRANSITIVE":  {"u": false, "w": true},
		"FULL":                {"u": true, "w": false},
		"FULL_TRANSITIVE":     {"u": false, "w": false},
	}
	// Against the latest only, in the level's direction(s).
	wantLatest := map[string]map[string]bool{
		"NONE":     {"u": true, "w": true},
		"BACKWARD": {"u": true, "w": false},
		"FORWARD":  {"u": true, "w": true},
		"FULL":     {"u": true, "w": false},
	}
	for level, byCand := range want {
		s := "lvl-" + strings.ToLower(level)
		for _, v := range []string{v1, v2} {
			if a := call(t, "POST", n.URL+"/subjects/"+s+"/versions", schemaBody(v, "")); a.Status != 200 {
				t.Fatalf("%s: register: %d %s", level, a.Status, a.Body)
			}
		}
		if a := call(t, "PUT", n.URL+"/config/"+s, `{"compatibility":"`+level+`"}`); a.Status != 200 {
			t.Fatalf("PUT /config/%s %s: %d %s", s, level, a.Status, a.Body)
		}
		for c, schema := range cands {
			a := call(t, "POST", n.URL+"/compatibility/subjects/"+s+"/versions?verbose=true", schemaBody(schema, ""))
			got, _ := field(a, "is_compatible").(bool)
			if a.Status != 200 || got != byCand[c] {
				t.Errorf("%s, %s against every covered version: %d %s; want is_compatible %v", level, c, a.Status, a.Body, byCand[c])
			}
			if msgs, _ := field(a, "messages").([]any); !got && len(msgs) == 0 {
				t.Errorf("%s, %s: incompatible without messages under verbose", level, c)
			}
			base := strings.TrimSuffix(level, "_TRANSITIVE")
			a = call(t, "POST", n.URL+"/compatibility/subjects/"+s+"/versions/latest", schemaBody(schema, ""))
			if got, _ := field(a, "is_compatible").(bool); got != wantLatest[base][c] {
				t.Errorf("%s, %s against the latest: %s; want is_compatible %v", level, c, a.Body, wantLatest[base][c])
			}
			if !byCand[c] {
				expectErr(t, level+" register "+c, call(t, "POST", n.URL+"/subjects/"+s+"/versions", schemaBody(schema, "")), 409, 409)
			}
		}
		if a := call(t, "GET", n.URL+"/subjects/"+s+"/versions", ""); !jsonEq(a, `[1,2]`) {
			t.Errorf("%s: versions after the checks = %s", level, a.Body)
		}
	}
}

// TestProtobufAPI: the Protobuf-specific behaviour through raw requests:
// google/protobuf imports resolve without references, references by
// subject and version, identical schemas whatever the layout and
// comments, message order kept (so message indexes select the same
// message), formats, and compatibility explained.
func TestProtobufAPI(t *testing.T) {
	n := startNode(t)
	waitReady(t, n.URL)
	u := n.URL
	reg := func(subject, schema string, refs ...map[string]any) answer {
		t.Helper()
		return call(t, "POST", u+"/subjects/"+subject+"/versions", schemaBody(schema, "PROTOBUF", refs...))
	}
	types, _ := call(t, "GET", u+"/schemas/types", "").JSON.([]any)
	if !slices.Contains(types, any("PROTOBUF")) {
		t.Errorf("GET /schemas/types = %v; want PROTOBUF", types)
	}

	// google/protobuf imports, no references.
	event := "syntax = \"proto3\";\npackage api.v1;\nimport \"google/protobuf/timestamp.proto\";\nimport \"google/protobuf/wrappers.proto\";\n" +
		"message Event {\n  google.protobuf.Timestamp at = 1;\n  google.protobuf.StringValue name = 2;\n}\n"
	a := reg("pb-event", event)
	evID := idOf(a)
	if a.Status != 200 || evID <= 0 {
		t.Fatalf("register with google/protobuf imports and no references: %d %s", a.Status, a.Body)
	}
	a = call(t, "GET", fmt.Sprintf("%s/schemas/ids/%d", u, evID), "")
	if field(a, "schemaType") != "PROTOBUF" || field(a, "references") != nil || !strings.Contains(field(a, "schema").(string), "google/protobuf/timestamp.proto") {
		t.Errorf("GET /schemas/ids/%d = %s", evID, a.Body)
	}
	// The same schema laid out otherwise, with comments: the same id.
	relaid := "// an event\nsyntax=\"proto3\"; package api.v1;\nimport \"google/protobuf/timestamp.proto\"; import \"google/protobuf/wrappers.proto\";\n" +
		"/* when and what */ message Event { google.protobuf.Timestamp at = 1; // when\n google.protobuf.StringValue name = 2; }"
	if a := reg("pb-event-2", relaid); idOf(a) != evID {
		t.Errorf("the same Protobuf schema with other layout and comments: %d %s; want id %d", a.Status, a.Body, evID)
	}
	if a := call(t, "POST", u+"/subjects/pb-event", schemaBody(relaid, "PROTOBUF")); idOf(a) != evID || field(a, "version") != 1.0 {
		t.Errorf("lookup of the relaid schema = %s", a.Body)
	}

	// References by subject and version.
	dep := "syntax = \"proto3\";\npackage dep;\nmessage Money {\n  string currency = 1;\n  int64 units = 2;\n}\n"
	if a := reg("pb-dep", dep); a.Status != 200 {
		t.Fatalf("register the dependency: %d %s", a.Status, a.Body)
	}
	order := "syntax = \"proto3\";\npackage shop;\nimport \"dep/money.proto\";\nmessage Order {\n  string id = 1;\n  dep.Money total = 2;\n}\n"
	expectErr(t, "an import without its reference", reg("pb-order", order), 422, 42201)
	ref := map[string]any{"name": "dep/money.proto", "subject": "pb-dep", "version": 1}
	a = reg("pb-order", order, ref)
	orderID := idOf(a)
	if a.Status != 200 || orderID <= 0 {
		t.Fatalf("register with a reference: %d %s", a.Status, a.Body)
	}
	a = call(t, "GET", u+"/subjects/pb-order/versions/latest", "")
	if refs, _ := field(a, "references").([]any); len(refs) != 1 || !reflect.DeepEqual(refs[0], map[string]any{"name": "dep/money.proto", "subject": "pb-dep", "version": 1.0}) {
		t.Errorf("references served back: %s", a.Body)
	}
	if a := call(t, "GET", u+"/subjects/pb-dep/versions/1/referencedby", ""); !jsonEq(a, fmt.Sprintf(`[%d]`, orderID)) {
		t.Errorf("referencedby = %s", a.Body)
	}
	expectErr(t, "deleting a referenced Protobuf schema", call(t, "DELETE", u+"/subjects/pb-dep/versions/1", ""), 422, 42206)
	// "latest" (-1) as a reference version resolves to the number.
	a = reg("pb-order-latest", order, map[string]any{"name": "dep/money.proto", "subject": "pb-dep", "version": -1})
	if a.Status != 200 || idOf(a) != orderID {
		t.Errorf("a reference to version -1: %d %s; want the id %d of the same schema with version 1", a.Status, a.Body, orderID)
	}

	// Message order is kept, in the canonical and the normalized form,
	// so message indexes ([1] = B, [1, 0] = B.Inner) select the same
	// messages.
	multi := "syntax = \"proto3\";\npackage idx;\nmessage C0 { int32 z = 1; }\nmessage B1 {\n  message Inner { string s = 1; }\n  message Another { bool b = 1; }\n  Inner i = 1;\n}\nmessage A2 { B1 b = 1; }\n"
	for _, q := range []string{"", "?normalize=true"} {
		s := "pb-idx" + strings.ReplaceAll(q, "?normalize=true", "-norm")
		a := call(t, "POST", u+"/subjects/"+s+"/versions"+q, schemaBody(multi, "PROTOBUF"))
		if a.Status != 200 {
			t.Fatalf("register %s: %d %s", s, a.Status, a.Body)
		}
		text, _ := field(call(t, "GET", u+"/subjects/"+s+"/versions/1", ""), "schema").(string)
		var names []string
		for _, line := range strings.Split(text, "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "message" {
				names = append(names, f[1])
			}
		}
		if !slices.Equal(names, []string{"C0", "B1", "Inner", "Another", "A2"}) {
			t.Errorf("%s: messages in the stored text are %v; want the declared order C0 B1 (Inner Another) A2:\n%s", s, names, text)
		}
	}

	// Formats.
	a = call(t, "GET", fmt.Sprintf("%s/schemas/ids/%d?format=serialized", u, orderID), "")
	if s, _ := field(a, "schema").(string); a.Status != 200 || s == "" || strings.Contains(s, "message") {
		t.Errorf("?format=serialized = %d %s; want base64 of a FileDescriptorProto", a.Status, a.Body)
	}
	if a := call(t, "GET", fmt.Sprintf("%s/schemas/ids/%d?format=ignore_extensions", u, orderID), ""); a.Status != 200 {
		t.Errorf("?format=ignore_extensions = %d %s", a.Status, a.Body)
	}

	// Compatibility, explained.
	v1 := "syntax = \"proto3\";\npackage c;\nmessage M {\n  string a = 1;\n  int64 n = 2;\n}\n"
	if a := reg("pb-compat", v1); a.Status != 200 {
		t.Fatalf("register v1: %s", a.Body)
	}
	ok2 := "syntax = \"proto3\";\npackage c;\nmessage M {\n  string a = 1;\n  int64 n = 2;\n  bool flag = 3;\n}\n"
	bad := "syntax = \"proto3\";\npackage c;\nmessage M {\n  double a = 1;\n  int64 n = 2;\n}\n"
	if a := call(t, "POST", u+"/compatibility/subjects/pb-compat/versions/latest", schemaBody(ok2, "PROTOBUF")); field(a, "is_compatible") != true {
		t.Errorf("adding a field: %s; want compatible", a.Body)
	}
	a = call(t, "POST", u+"/compatibility/subjects/pb-compat/versions?verbose=true", schemaBody(bad, "PROTOBUF"))
	if field(a, "is_compatible") != false || !strings.Contains(string(a.Body), "FIELD_SCALAR_KIND_CHANGED") || !strings.Contains(string(a.Body), "#/c.M/a=1") && !strings.Contains(string(a.Body), "#/M/a=1") {
		t.Errorf("string to double: %s; want incompatible, naming FIELD_SCALAR_KIND_CHANGED at field a=1", a.Body)
	}
	a = reg("pb-compat", bad)
	expectErr(t, "register string to double", a, 409, 409)
	if !strings.Contains(string(a.Body), "FIELD_SCALAR_KIND_CHANGED") {
		t.Errorf("the 409 does not name the rule: %s", a.Body)
	}
	// Another schema type on the same subject is incompatible too.
	expectErr(t, "an AVRO schema on a PROTOBUF subject", call(t, "POST", u+"/subjects/pb-compat/versions", schemaBody(`"string"`, "")), 409, 409)
	expectErr(t, "a Protobuf schema that does not compile", reg("pb-bad", "syntax = \"proto3\"; message M { Nope n = 1; }"), 422, 42201)
	expectErr(t, "a Protobuf import cycle through references", reg("pb-cyc", "syntax = \"proto3\"; import \"pb-cyc.proto\"; message M {}",
		map[string]any{"name": "pb-cyc.proto", "subject": "pb-cyc", "version": 1}), 422, 42201)
}

// TestJSONSchemaAPI: JSON Schema through raw requests: compact identical
// forms, references by subject and version ($ref to the reference's name),
// open and closed content models under BACKWARD, drafts, normalize, and
// schemas that do not parse.
func TestJSONSchemaAPI(t *testing.T) {
	n := startNode(t)
	waitReady(t, n.URL)
	u := n.URL
	reg := func(subject, schema string, refs ...map[string]any) answer {
		t.Helper()
		return call(t, "POST", u+"/subjects/"+subject+"/versions", schemaBody(schema, "JSON", refs...))
	}
	check := func(subject, schema string, refs ...map[string]any) answer {
		t.Helper()
		return call(t, "POST", u+"/compatibility/subjects/"+subject+"/versions/latest?verbose=true", schemaBody(schema, "JSON", refs...))
	}
	types, _ := call(t, "GET", u+"/schemas/types", "").JSON.([]any)
	if !slices.Equal(types, []any{"AVRO", "JSON", "PROTOBUF"}) {
		t.Errorf("GET /schemas/types = %v; want [AVRO JSON PROTOBUF]", types)
	}

	// Identical schemas, whatever the whitespace; stored compact.
	person := `{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer","minimum":0}},"required":["name"]}`
	spaced := "{\n  \"type\": \"object\",\n  \"properties\": {\n    \"name\": { \"type\": \"string\" },\n    \"age\": { \"type\": \"integer\", \"minimum\": 0 }\n  },\n  \"required\": [ \"name\" ]\n}\n"
	a := reg("js-person", spaced)
	id := idOf(a)
	if a.Status != 200 || id <= 0 {
		t.Fatalf("register a JSON Schema: %d %s", a.Status, a.Body)
	}
	if a := reg("js-person-2", person); idOf(a) != id {
		t.Errorf("the compact form: %s; want id %d", a.Body, id)
	}
	a = call(t, "GET", fmt.Sprintf("%s/schemas/ids/%d", u, id), "")
	if field(a, "schema") != person || field(a, "schemaType") != "JSON" {
		t.Errorf("GET /schemas/ids/%d = %s; want the compact schema with schemaType JSON", id, a.Body)
	}
	if a := call(t, "POST", u+"/subjects/js-person", schemaBody(spaced, "JSON")); idOf(a) != id || field(a, "version") != 1.0 {
		t.Errorf("lookup = %s", a.Body)
	}
	// Without schemaType the text is read as Avro, where it is invalid.
	expectErr(t, "lookup of the schema as AVRO", call(t, "POST", u+"/subjects/js-person", schemaBody(person, "")), 422, 42201)
	expectErr(t, "lookup of another JSON Schema", call(t, "POST", u+"/subjects/js-person", schemaBody(`{"type":"string"}`, "JSON")), 404, 40403)

	// References.
	address := `{"$id":"https://example.com/address.json","type":"object","properties":{"street":{"type":"string"}},"required":["street"]}`
	if a := reg("js-address", address); a.Status != 200 {
		t.Fatalf("register the referenced schema: %d %s", a.Status, a.Body)
	}
	customer := `{"type":"object","properties":{"home":{"$ref":"https://example.com/address.json"}}}`
	expectErr(t, "a $ref without its reference", reg("js-customer", customer), 422, 42201)
	addrRef := map[string]any{"name": "https://example.com/address.json", "subject": "js-address", "version": 1}
	a = reg("js-customer", customer, addrRef)
	custID := idOf(a)
	if a.Status != 200 || custID <= 0 {
		t.Fatalf("register with a reference: %d %s", a.Status, a.Body)
	}
	if a := call(t, "GET", u+"/subjects/js-address/versions/1/referencedby", ""); !jsonEq(a, fmt.Sprintf(`[%d]`, custID)) {
		t.Errorf("referencedby = %s", a.Body)
	}
	// A reader that requires more of the referenced type breaks BACKWARD.
	customer2 := `{"type":"object","properties":{"home":{"$ref":"https://example.com/address.json"},"vip":{"type":"boolean"}},"additionalProperties":false}`
	if a := check("js-customer", customer2, addrRef); field(a, "is_compatible") != false || !strings.Contains(string(a.Body), "ADDITIONAL_PROPERTIES_REMOVED") {
		t.Errorf("closing the content model: %s; want incompatible, ADDITIONAL_PROPERTIES_REMOVED", a.Body)
	}

	// Open and closed content models under BACKWARD (the new schema reads
	// data written with the old).
	open := `{"type":"object","properties":{"a":{"type":"string"}}}`
	closed := `{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":false}`
	if a := reg("js-open", open); a.Status != 200 {
		t.Fatal(a.Body)
	}
	if a := reg("js-closed", closed); a.Status != 200 {
		t.Fatal(a.Body)
	}
	addB := func(base string) string {
		return strings.Replace(base, `{"a":{"type":"string"}}`, `{"a":{"type":"string"},"b":{"type":"integer"}}`, 1)
	}
	cases := []struct {
		subject, schema string
		compatible      bool
		rule            string
	}{
		// Old open data may hold any b: a new typed b cannot read it.
		{"js-open", addB(open), false, "PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL"},
		// Old closed data holds no b: adding it is safe.
		{"js-closed", addB(closed), true, ""},
		// Removing a from a closed model: old data with a is rejected.
		{"js-closed", `{"type":"object","properties":{},"additionalProperties":false}`, false, "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL"},
		// Removing a from an open model: a falls to the open model.
		{"js-open", `{"type":"object","properties":{}}`, true, ""},
		{"js-open", `{"type":"object","properties":{"a":{"type":"integer"}}}`, false, "TYPE_CHANGED"},
		{"js-open", `{"type":"object","properties":{"a":{"type":"string"}},"required":["a"]}`, false, "REQUIRED_ATTRIBUTE_ADDED"},
		{"js-open", `{"type":"object","properties":{"a":{"type":"string","maxLength":3}}}`, false, "MAX_LENGTH_ADDED"},
	}
	for _, c := range cases {
		a := check(c.subject, c.schema)
		if field(a, "is_compatible") != c.compatible || !strings.Contains(string(a.Body), c.rule) {
			t.Errorf("%s, %s: %s; want is_compatible %v %s", c.subject, c.schema, a.Body, c.compatible, c.rule)
		}
		if !c.compatible {
			if a := reg(c.subject, c.schema); a.Status != 409 || !strings.Contains(string(a.Body), c.rule) {
				t.Errorf("register %s under %s: %d %s; want 409 naming %s", c.schema, c.subject, a.Status, a.Body, c.rule)
			}
		}
	}

	// Drafts, normalize, and what does not parse.
	for _, draft := range []string{"http://json-schema.org/draft-04/schema#", "http://json-schema.org/draft-06/schema#",
		"http://json-schema.org/draft-07/schema#", "https://json-schema.org/draft/2019-09/schema", "https://json-schema.org/draft/2020-12/schema"} {
		if a := reg("js-drafts", `{"$schema":"`+draft+`","type":"string"}`); a.Status != 200 {
			t.Errorf("draft %s: %d %s", draft, a.Status, a.Body)
		}
	}
	a = call(t, "POST", u+"/subjects/js-norm/versions?normalize=true", schemaBody(`{"type":"object","required":["b","a"],"properties":{"b":{"type":"number"},"a":{"type":"number"}}}`, "JSON"))
	if a.Status != 200 {
		t.Fatalf("register ?normalize=true: %s", a.Body)
	}
	if got := field(call(t, "GET", u+"/subjects/js-norm/versions/1", ""), "schema"); got != `{"properties":{"a":{"type":"number"},"b":{"type":"number"}},"required":["a","b"],"type":"object"}` {
		t.Errorf("normalized JSON Schema stored as %v", got)
	}
	if b := call(t, "POST", u+"/subjects/js-norm?normalize=true", schemaBody(`{"properties":{"a":{"type":"number"},"b":{"type":"number"}},"type":"object","required":["a","b"]}`, "JSON")); idOf(b) != idOf(a) {
		t.Errorf("lookup ?normalize=true in another order = %s", b.Body)
	}
	expectErr(t, "not JSON", reg("js-bad", `{"type":`), 422, 42201)
	expectErr(t, "against the metaschema", reg("js-bad", `{"type":5}`), 422, 42201)
	expectErr(t, "duplicate member names", reg("js-bad", `{"type":"string","type":"integer"}`), 422, 42201)
	expectErr(t, "a $ref to nowhere", reg("js-bad", `{"$ref":"https://elsewhere.example/x.json"}`), 422, 42201)
	expectErr(t, "an ECMA look-ahead pattern", reg("js-bad", `{"type":"string","pattern":"(?=a)"}`), 422, 42201)
}
