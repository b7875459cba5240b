package registry

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Hostile input: every request below must be answered 4xx with a JSON
// body {error_code, message}, never a 500, and the process must stay up.

// expect4xx asserts a 4xx answer with a JSON {error_code, message} body,
// and the error_code when code is not 0.
func expect4xx(t *testing.T, what string, a answer, code int) {
	t.Helper()
	m, ok := a.JSON.(map[string]any)
	_, isNum := m["error_code"].(float64)
	msg, _ := m["message"].(string)
	switch {
	case a.Status < 400 || a.Status >= 500:
		t.Errorf("%s: HTTP %d %s; want a 4xx", what, a.Status, trim(a.Body))
	case !ok || !isNum || msg == "":
		t.Errorf("%s: HTTP %d body %s; want JSON {error_code, message}", what, a.Status, trim(a.Body))
	case code != 0 && a.ErrorCode() != code:
		t.Errorf("%s: error_code %d (%s); want %d", what, a.ErrorCode(), trim(a.Body), code)
	}
}

func trim(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}

// nested returns an Avro schema of depth arrays nested in each other.
func nested(depth int) string {
	return strings.Repeat(`{"type":"array","items":`, depth) + `"int"` + strings.Repeat(`}`, depth)
}

func TestBadInput(t *testing.T) {
	n := startNode(t)
	waitReady(t, n.URL)
	u := n.URL
	if a := call(t, "POST", u+"/subjects/ok/versions", schemaBody(`"int"`, "")); a.Status != 200 {
		t.Fatalf("register: %d %s", a.Status, a.Body)
	}

	cases := []struct {
		name, method, path, body string
		code                     int
	}{
		{"malformed JSON", "POST", "/subjects/bad/versions", `{"schema":`, 400},
		{"malformed JSON in a lookup", "POST", "/subjects/ok", `{"schema" "int"}`, 400},
		{"malformed JSON in a check", "POST", "/compatibility/subjects/ok/versions/latest", `{{`, 400},
		{"malformed JSON in PUT /config", "PUT", "/config", `{"compatibility":`, 400},
		{"malformed JSON in PUT /mode", "PUT", "/mode/ok", `nope`, 400},
		{"trailing garbage", "POST", "/subjects/bad/versions", `{"schema":"\"int\""} trailing`, 400},
		{"an empty body", "POST", "/subjects/bad/versions", ``, 400},
		{"a JSON array body", "POST", "/subjects/bad/versions", `[1,2,3]`, 0},
		{"a JSON string body", "POST", "/subjects/bad/versions", `"schema"`, 0},
		{"a null body", "POST", "/subjects/bad/versions", `null`, 42201},
		{"schema a number", "POST", "/subjects/bad/versions", `{"schema":5}`, 0},
		{"schemaType a list", "POST", "/subjects/bad/versions", `{"schema":"\"int\"","schemaType":["AVRO"]}`, 0},
		{"references a string", "POST", "/subjects/bad/versions", `{"schema":"\"int\"","references":"x"}`, 0},
		{"a reference a number", "POST", "/subjects/bad/versions", `{"schema":"\"int\"","references":[5]}`, 0},
		{"a reference version a string", "POST", "/subjects/bad/versions", `{"schema":"\"int\"","references":[{"name":"a","subject":"ok","version":"one"}]}`, 0},
		{"a reference without a subject", "POST", "/subjects/bad/versions", `{"schema":"\"int\"","references":[{"name":"a","version":1}]}`, 42201},
		{"id a string", "POST", "/subjects/bad/versions", `{"schema":"\"int\"","id":"7"}`, 0},
		{"compatibility a number", "PUT", "/config", `{"compatibility":5}`, 0},
		{"mode a number", "PUT", "/mode", `{"mode":1}`, 0},
		{"mode an unknown word", "PUT", "/mode", `{"mode":"WRITEONLY"}`, 42204},
		{"a schema that does not parse", "POST", "/subjects/bad/versions", schemaBody(`{"type":"record","name":"R","fields":[{"name":"a","type":"nosuchtype"}]}`, ""), 42201},
		{"a schema that is not JSON", "POST", "/subjects/bad/versions", schemaBody(`{{{ not json`, ""), 42201},
		{"a bare unquoted primitive", "POST", "/subjects/bad/versions", schemaBody(`int`, ""), 42201},
		{"a schema that does not parse, in a check", "POST", "/compatibility/subjects/ok/versions/latest", schemaBody(`{"type":"enum","name":"E","symbols":["A","A"]}`, ""), 42201},
		{"a schema that does not parse, in a lookup", "POST", "/subjects/ok", schemaBody(`{"type":"fixed","name":"F","size":-1}`, ""), 42201},
		{"an unknown schemaType", "POST", "/subjects/bad/versions", schemaBody(`"int"`, "COBOL"), 42201},
		{"a self-reference", "POST", "/subjects/selfref/versions", schemaBody(`{"type":"record","name":"S","fields":[{"name":"s","type":"S"}]}`, "", map[string]any{"name": "S", "subject": "selfref", "version": 1}), 42201},
		{"a reference to a missing subject", "POST", "/subjects/bad/versions", schemaBody(`"int"`, "", map[string]any{"name": "X", "subject": "nosuch", "version": 1}), 42201},
		{"a version beyond int32", "GET", "/subjects/ok/versions/2147483648", "", 42202},
		{"a version beyond int64", "GET", "/subjects/ok/versions/99999999999999999999999999", "", 42202},
		{"a negative version", "GET", "/subjects/ok/versions/-2", "", 42202},
		{"a huge version to delete", "DELETE", "/subjects/ok/versions/99999999999999999999999999", "", 42202},
		{"a huge version to check against", "POST", "/compatibility/subjects/ok/versions/99999999999999999999999999", schemaBody(`"int"`, ""), 42202},
		{"a huge version's schema", "GET", "/subjects/ok/versions/1e99/schema", "", 42202},
		{"a huge id", "GET", "/schemas/ids/99999999999999999999999999", "", 40403},
		{"a negative id", "GET", "/schemas/ids/-1", "", 40403},
		{"a subject with a NUL", "POST", "/subjects/a%00b/versions", schemaBody(`"int"`, ""), 42208},
		{"a subject with a newline", "POST", "/subjects/a%0Ab/versions", schemaBody(`"int"`, ""), 42208},
		{"a subject with an escape", "GET", "/subjects/a%1Bb/versions", "", 42208},
		{"a subject with DEL", "DELETE", "/subjects/a%7Fb", "", 42208},
		{"a subject with a control char in a check", "POST", "/compatibility/subjects/%07/versions", schemaBody(`"int"`, ""), 42208},
		{"a subject with a control char in a lookup", "POST", "/subjects/x%09y", schemaBody(`"int"`, ""), 42208},
		{"a deeply nested JSON body", "POST", "/subjects/bad/versions", strings.Repeat(`{"a":`, 200000) + `1` + strings.Repeat(`}`, 200000), 0},
		{"a deeply nested JSON array body", "POST", "/subjects/bad/versions", strings.Repeat(`[`, 500000) + strings.Repeat(`]`, 500000), 0},
		{"a deeply nested JSON schema text", "POST", "/subjects/bad/versions", schemaBody(strings.Repeat(`[`, 200000)+strings.Repeat(`]`, 200000), ""), 42201},
		{"a deeply nested Avro schema", "POST", "/subjects/deep/versions", schemaBody(nested(50000), ""), 0},
		{"a deeply nested JSON Schema", "POST", "/subjects/deepjs/versions", schemaBody(strings.Repeat(`{"items":`, 50000)+`{}`+strings.Repeat(`}`, 50000), "JSON"), 42201},
		{"a JSON Schema with a huge number", "POST", "/subjects/numjs/versions", schemaBody(`{"type":"number","maximum":1e999999999}`, "JSON"), 42201},
		{"a JSON Schema that is an array", "POST", "/subjects/arrjs/versions", schemaBody(`[{"type":"string"}]`, "JSON"), 42201},
		{"a Protobuf schema nested deeply", "POST", "/subjects/deeppb/versions", schemaBody("syntax = \"proto3\";"+strings.Repeat("message M {", 20000)+strings.Repeat("}", 20000), "PROTOBUF"), 42201},
		{"a Protobuf schema that does not compile", "POST", "/subjects/badpb/versions", schemaBody("syntax = \"proto3\"; message {", "PROTOBUF"), 42201},
		{"a Protobuf import of a file nobody registered", "POST", "/subjects/badpb/versions", schemaBody("syntax = \"proto3\"; import \"/etc/passwd\"; message M {}", "PROTOBUF"), 42201},
		{"an unknown compatibility level", "PUT", "/config/ok", `{"compatibility":"BACKWARDS"}`, 42203},
		{"an empty config", "PUT", "/config/ok", `{}`, 42203},
	}
	for _, c := range cases {
		a := call(t, c.method, u+c.path, c.body)
		expect4xx(t, c.name, a, c.code)
	}

	// A 10 MB schema, and a 10 MB body of one JSON string.
	big := `{"type":"record","name":"Big","fields":[{"name":"f","type":"string","doc":"` + strings.Repeat("x", 10<<20) + `"}]}`
	expect4xx(t, "a 10 MB schema", bigPost(t, u+"/subjects/big/versions", schemaBody(big, "")), 42209)
	expect4xx(t, "a 10 MB schema in a check", bigPost(t, u+"/compatibility/subjects/ok/versions", schemaBody(big, "")), 42209)
	expect4xx(t, "a 10 MB schema in a lookup", bigPost(t, u+"/subjects/ok", schemaBody(big, "")), 42209)
	pbBig := "syntax = \"proto3\";\n// " + strings.Repeat("x", 10<<20) + "\nmessage M {}\n"
	expect4xx(t, "a 10 MB Protobuf schema", bigPost(t, u+"/subjects/bigpb/versions", schemaBody(pbBig, "PROTOBUF")), 42209)
	jsBig := `{"type":"string","description":"` + strings.Repeat("x", 10<<20) + `"}`
	expect4xx(t, "a 10 MB JSON Schema", bigPost(t, u+"/subjects/bigjs/versions", schemaBody(jsBig, "JSON")), 42209)
	// Just under the body limit but over the schema limit.
	expect4xx(t, "a 1 MB schema", call(t, "POST", u+"/subjects/big/versions", schemaBody(big[:1<<20]+`"}]}`, "")), 42209)

	// Import mode: ids and versions out of range.
	if a := call(t, "PUT", u+"/mode/imp", `{"mode":"IMPORT"}`); a.Status != 200 {
		t.Fatalf("PUT /mode/imp IMPORT: %s", a.Body)
	}
	for _, body := range []string{
		`{"schema":"\"int\"","id":1099511627776,"version":1}`,
		`{"schema":"\"int\"","id":5,"version":1099511627776}`,
		`{"schema":"\"int\"","id":5,"version":-3}`,
		`{"schema":"\"int\"","id":-5,"version":1}`,
		`{"schema":"\"int\"","id":1e400,"version":1}`,
	} {
		expect4xx(t, "IMPORT "+body, call(t, "POST", u+"/subjects/imp/versions", body), 0)
	}

	// A reference cycle that another tool wrote to _schemas: A refers to
	// B, B to A. Registering against either, or resolving them, is a 422.
	cl := n.Client(t, kgo.DefaultProduceTopic("_schemas"))
	cyc := func(subject, other string, id int) *kgo.Record {
		v, _ := json.Marshal(map[string]any{"subject": subject, "version": 1, "id": id,
			"schema":     fmt.Sprintf(`{"type":"record","name":"%s","fields":[{"name":"o","type":["null","%s"]}]}`, subject, other),
			"references": []map[string]any{{"name": other, "subject": other, "version": 1}}, "deleted": false})
		return &kgo.Record{Key: fmt.Appendf(nil, `{"keytype":"SCHEMA","subject":"%s","version":1,"magic":1}`, subject), Value: v}
	}
	if err := cl.ProduceSync(t.Context(), cyc("CycA", "CycB", 801), cyc("CycB", "CycA", 802)).FirstErr(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if a := call(t, "GET", u+"/subjects/CycB/versions", ""); a.Status == 200 {
			break
		}
	}
	expect4xx(t, "a reference into a cycle", call(t, "POST", u+"/subjects/cycuser/versions",
		schemaBody(`{"type":"record","name":"U","fields":[{"name":"a","type":"CycA"}]}`, "", map[string]any{"name": "CycA", "subject": "CycA", "version": 1})), 42201)
	expect4xx(t, "resolving a cycle", call(t, "GET", u+"/schemas/ids/801?format=resolved", ""), 42201)
	if a := call(t, "GET", u+"/schemas/ids/801", ""); a.Status != 200 {
		t.Errorf("GET /schemas/ids/801 (as written): %d %s", a.Status, a.Body)
	}
	a := call(t, "POST", u+"/compatibility/subjects/CycA/versions/latest", schemaBody(`"int"`, ""))
	if a.Status == 500 && a.ErrorCode() != 50001 || a.Status != 500 && (a.Status < 400 || a.Status >= 500) {
		t.Errorf("a check against a stored cycle: %d %s; want a 4xx or a store error 50001", a.Status, a.Body)
	}

	// Still up, still serving, still writing.
	if !n.Running() {
		t.Fatal("the node died")
	}
	if a := call(t, "GET", u+"/subjects", ""); a.Status != 200 || !strings.Contains(string(a.Body), `"ok"`) {
		t.Errorf("GET /subjects after the hostile input: %d %s", a.Status, a.Body)
	}
	if a := call(t, "POST", u+"/subjects/ok/versions", schemaBody(`"int"`, "")); a.Status != 200 {
		t.Errorf("a write after the hostile input: %d %s", a.Status, a.Body)
	}
}

// bigPost posts a large body; the server may answer before reading it all
// and close the connection, which the client may see as a write error
// after the answer. The answer is what counts.
func bigPost(t *testing.T, url, body string) answer {
	t.Helper()
	req, err := http.NewRequest("POST", url, bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %d bytes to %s: %v", len(body), url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{Status: resp.StatusCode, Body: b}
	_ = json.Unmarshal(b, &a.JSON)
	return a
}
