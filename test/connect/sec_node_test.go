package connect

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/samsa-streaming/samsa/internal/tlsconf/tlstest"
)

// secFileSource is a FileStreamSource connector's create request.
func secFileSource(name, file, topic string) map[string]any {
	return map[string]any{"name": name, "config": map[string]string{
		"connector.class": "FileStreamSource", "file": file, "topic": topic, "tasks.max": "1",
		"value.converter": "org.apache.kafka.connect.storage.StringConverter",
		"key.converter":   "org.apache.kafka.connect.storage.StringConverter",
	}}
}

// TestSecNodeBasicAuth: on a secured node (SASL_SSL with SCRAM, admin the
// only super user), the embedded worker's REST API over HTTPS answers
// GET / without credentials, 401 without or with wrong credentials, 403
// to alice without ACLs for reads and writes, 200 to her reads once she
// has DESCRIBE on the Group samsa-connect and 201 to her writes once she
// has READ on it; a FileStreamSource the super user creates runs and its
// records reach the topic (the worker's own clients log in as admin).
func TestSecNodeBasicAuth(t *testing.T) {
	n := secStartNode(t)
	if code, body := secCall(t, n.hc, "", "", "GET", n.url+"/", nil); code != 200 || !strings.Contains(body, "version") {
		t.Fatalf("GET / without credentials: %d %s", code, body)
	}
	in := secWriteFile(t, "in.txt", "s1", "s2", "s3")
	create := secFileSource("secsrc", in, "sec-src")
	for _, c := range []struct {
		user, pass, method, path string
		body                     any
	}{
		{"", "", "GET", "/connectors", nil},
		{"alice", "wrong", "GET", "/connectors", nil},
		{"", "", "POST", "/connectors", create},
		{"nobody", "x", "POST", "/connectors", create},
	} {
		if code, body := secCall(t, n.hc, c.user, c.pass, c.method, n.url+c.path, c.body); code != 401 {
			t.Errorf("%s %s as %q/%q: %d %s, want 401", c.method, c.path, c.user, c.pass, code, body)
		}
	}
	for _, c := range []struct {
		method, path string
		body         any
	}{{"GET", "/connectors", nil}, {"POST", "/connectors", create}, {"GET", "/connector-plugins", nil}} {
		code, body := secCall(t, n.hc, "alice", "alice-secret", c.method, n.url+c.path, c.body)
		if code != 403 || !strings.Contains(body, "samsa-connect") {
			t.Errorf("%s %s as alice without ACLs: %d %s, want 403 naming the group", c.method, c.path, code, body)
		}
	}

	// The super user creates a connector; the worker runs it as admin.
	secUntil(t, n.hc, 201, "admin", "POST", n.url+"/connectors", create)
	secWaitRunning(t, n.hc, n.url, "secsrc")
	if got := secConsume(t, n, "sec-src", 3); strings.Join(got, ",") != "s1,s2,s3" {
		t.Fatalf("sec-src holds %v", got)
	}

	// DESCRIBE on the group: alice reads, and still may not write.
	secGrant(t, n.adm, kadm.NewACLs().Groups("samsa-connect").Allow("User:alice").Operations(kadm.OpDescribe))
	text := secUntil(t, n.hc, 200, "alice", "GET", n.url+"/connectors", nil)
	var names []string
	if err := json.Unmarshal([]byte(text), &names); err != nil || len(names) != 1 || names[0] != "secsrc" {
		t.Fatalf("alice lists %s (%v)", text, err)
	}
	secUntil(t, n.hc, 200, "alice", "GET", n.url+"/connectors/secsrc/status", nil)
	create2 := secFileSource("alicesrc", in, "sec-alice")
	if code, body := secCall(t, n.hc, "alice", "alice-secret", "POST", n.url+"/connectors", create2); code != 403 {
		t.Fatalf("POST /connectors as alice with DESCRIBE only: %d %s, want 403", code, body)
	}
	// READ on the group: alice writes.
	secGrant(t, n.adm, kadm.NewACLs().Groups("samsa-connect").Allow("User:alice").Operations(kadm.OpRead))
	secUntil(t, n.hc, 201, "alice", "POST", n.url+"/connectors", create2)
	secWaitRunning(t, n.hc, n.url, "alicesrc")
	secUntil(t, n.hc, 204, "alice", "DELETE", n.url+"/connectors/alicesrc", nil)
}

// TestSecNodeCurl: curl -u over HTTPS (--cacert) creates a connector and
// reads its status; without -u it gets 401 with a Basic challenge.
func TestSecNodeCurl(t *testing.T) {
	n := secStartNode(t)
	in := secWriteFile(t, "in.txt", "c1")
	body, err := json.Marshal(secFileSource("curlsrc", in, "sec-curl"))
	if err != nil {
		t.Fatal(err)
	}
	curl := func(args ...string) string {
		t.Helper()
		out, err := exec.Command("curl", append([]string{"-sS", "--cacert", n.files.CAFile, "-i"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("curl %v: %v\n%s", args, err, out)
		}
		return strings.ReplaceAll(string(out), "\r", "")
	}
	out := curl(n.url + "/connectors")
	if !strings.Contains(out, " 401") || !strings.Contains(strings.ToLower(out), "www-authenticate: basic realm=\"samsa-connect\"") {
		t.Fatalf("curl without -u:\n%s", out)
	}
	secUntil(t, n.hc, 200, "admin", "GET", n.url+"/connectors", nil)
	for i := 0; ; i++ { // 409 until the group has a leader
		out = curl("-u", "admin:admin-secret", "-H", "Content-Type: application/json", "-d", string(body), n.url+"/connectors")
		if !strings.Contains(out, " 409") || i > 100 {
			break
		}
		secCall(t, n.hc, "admin", "admin-secret", "GET", n.url+"/connectors", nil)
	}
	if !strings.Contains(out, " 201") || !strings.Contains(out, `"name":"curlsrc"`) {
		t.Fatalf("curl -u create:\n%s", out)
	}
	secWaitRunning(t, n.hc, n.url, "curlsrc")
	out = curl("-u", "admin:admin-secret", n.url+"/connectors/curlsrc/status")
	if !strings.Contains(out, " 200") || !strings.Contains(out, `"state":"RUNNING"`) {
		t.Fatalf("curl -u status:\n%s", out)
	}
}

// TestSecNodeCertReload: a new certificate written over the Connect
// listener's keystore is served from a later handshake, without a
// restart, and the API keeps answering over it.
func TestSecNodeCertReload(t *testing.T) {
	n := secStartNode(t)
	addr := strings.TrimPrefix(n.url, "https://")
	served := func() string {
		t.Helper()
		c, err := tls.Dial("tcp", addr, secTLS(t, n.files, false))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0].SerialNumber.String()
	}
	before := served()
	next := n.files.CA.Server(t)
	tmp := n.files.ServerKeystore + ".new"
	tlstest.WriteFile(t, tmp, []byte(next.KeystorePEM()))
	if err := os.Rename(tmp, n.files.ServerKeystore); err != nil {
		t.Fatal(err)
	}
	want := next.Cert.SerialNumber.String()
	for deadline := time.Now().Add(30 * time.Second); served() != want; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("still serving %s (was %s), want %s", served(), before, want)
		}
	}
	secUntil(t, n.hc, 200, "admin", "GET", n.url+"/connectors", nil)
}

// TestSecNodePython: PyPI's kafka-connect-py 1.0.0 (auth="user:pass",
// ssl_verify=CA file) gets 401 without credentials and 403 as alice, and
// as admin creates a connector over HTTPS and sees it run.
func TestSecNodePython(t *testing.T) {
	python := rtPython(t)
	n := secStartNode(t)
	in := secWriteFile(t, "in.txt", "p1")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, python, filepath.Join("python", "sec_kafka_connect_py.py"), n.url, n.files.CAFile, in).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("kafka-connect-py driver: %v\n%s\n%s", err, out, stderr)
	}
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("driver output %q: %v", out, err)
	}
	want := map[string]any{
		"cluster": []any{"commit", "kafka_cluster_id", "version"}, "anonymous": float64(401), "alice": float64(403),
		"created": "pysec", "running": "RUNNING", "listed": []any{"pysec"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("kafka-connect-py saw\n%v\nwant\n%v", got, want)
	}
}
