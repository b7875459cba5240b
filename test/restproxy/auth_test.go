package restproxy

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// basicAuthConfig turns on the StandardAuthorizer (admin the only super
// user, nothing allowed without an ACL), SCRAM on the SASL listener, and
// the REST proxy's basic authentication.
const basicAuthConfig = `authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:admin
allow.everyone.if.no.acl.found=false
sasl.enabled.mechanisms=SCRAM-SHA-512
group.initial.rebalance.delay.ms=0
samsa.rest.authentication.method=BASIC
`

// authNode is a node with SCRAM users admin, alice and bob on a
// SASL_PLAINTEXT listener and its REST proxy.
type authNode struct {
	*clustertest.Node
	SASL  string // the SASL_PLAINTEXT listener
	URL   string // the REST proxy
	admin *kgo.Client
}

// startAuthNode starts it; extraConfig is appended to server.properties
// and args to the command line; URL is set when args are none (the proxy
// then serves plain HTTP).
func startAuthNode(t *testing.T, extraConfig string, args ...string) *authNode {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	saslAddr := l.Addr().String()
	l.Close()
	n := clustertest.Start(t, clustertest.Options{
		Config:    basicAuthConfig + extraConfig,
		Listeners: []string{"SASL_PLAINTEXT://" + saslAddr},
		Args: append([]string{"--admin-listen", "none", "--registry-listen", "none", "--rest-listen", "127.0.0.1:0",
			"--add-scram", "SCRAM-SHA-512=[name=admin,password=admin-secret]",
			"--add-scram", "SCRAM-SHA-512=[name=alice,password=alice-secret]",
			"--add-scram", "SCRAM-SHA-512=[name=bob,password=bob-secret]"}, args...),
	})
	an := &authNode{Node: n, SASL: saslAddr}
	if len(args) == 0 {
		an.URL = "http://" + addrFromLog(t, n.LogPath, restAddrRE)
	}
	an.admin, err = kgo.NewClient(kgo.SeedBrokers(saslAddr), kgo.SASL(scram.Auth{User: "admin", Pass: "admin-secret"}.AsSha512Mechanism()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(an.admin.Close)
	return an
}

// grant gives principal ops on the resources b names.
func (n *authNode) grant(t *testing.T, b *kadm.ACLBuilder) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := kadm.NewClient(n.admin).CreateACLs(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
}

// callAs sends one request with hc as user (no credentials when user is
// ""); a 401 must carry a Basic challenge.
func callAs(t testing.TB, hc *http.Client, user, pass, method, url, body, contentType string) answer {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	a := answer{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Body: b}
	if len(bytes.TrimSpace(b)) > 0 {
		_ = json.Unmarshal(b, &a.JSON)
	}
	if a.Status == 401 && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic ") {
		t.Errorf("%s %s: 401 without a Basic challenge", method, url)
	}
	return a
}

// wantStatus fails unless a has status and (when code > 0) error_code.
func wantStatus(t testing.TB, what string, a answer, status, code int) {
	t.Helper()
	if a.Status != status || (code > 0 && a.ErrorCode() != code) {
		t.Fatalf("%s: want %d/%d, got %s", what, status, code, a)
	}
}

// eventually retries f (a request) until it has status, for ACLs that
// reach the broker's authorizer a moment after CreateAcls answers.
func eventually(t testing.TB, what string, status int, f func() answer) answer {
	t.Helper()
	var a answer
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if a = f(); a.Status == status || time.Now().After(deadline) {
			break
		}
	}
	wantStatus(t, what, a, status, 0)
	return a
}

// TestRESTBasicAuth: with samsa.rest.authentication.method=BASIC the
// proxy answers 401 (with a Basic challenge) without or with wrong
// credentials, and runs every Kafka request as the caller: a user without
// ACLs is refused with 403/40301 by the broker's own checks (produce, v3
// consume, topic reads) and sees no topic names; once granted, the same
// user produces and consumes, and its records reach Kafka; a v2 consumer
// instance serves only the user who created it.
func TestRESTBasicAuth(t *testing.T) {
	n := startAuthNode(t, "")
	s := &authSession{t: t, n: n, hc: &http.Client{Timeout: 30 * time.Second}}
	waitHTTP(t, n.URL+"/") // GET / stays open: the health check
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := kadm.NewClient(n.admin).CreateTopic(ctx, 1, 1, nil, "secret"); err != nil {
		t.Fatal(err)
	}
	if err := n.admin.ProduceSync(ctx, &kgo.Record{Topic: "secret", Value: []byte("from-admin")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	cid := s.as("admin", "GET", "/v3/clusters", "", "").Map()["data"].([]any)[0].(map[string]any)["cluster_id"].(string)
	s.v3 = "/v3/clusters/" + cid
	inst := "/consumers/g1/instances/a1"
	s.unauthenticated()
	s.withoutACLs(inst)
	s.granted(inst)
	s.describeOnly(inst)

	// The records alice produced are in Kafka as she sent them.
	recs := n.readAll(t, "secret", 3)
	for i, want := range []string{"from-admin", "from-alice-v2", "from-alice-v3"} {
		if string(recs[i].Value) != want {
			t.Fatalf("record %d: %q, want %q", i, recs[i].Value, want)
		}
	}
}

// authSession is TestRESTBasicAuth's state: the node, an HTTP client and
// the v3 cluster path.
type authSession struct {
	t  *testing.T
	n  *authNode
	hc *http.Client
	v3 string
}

// as sends a request as user (password user-secret).
func (s *authSession) as(user, method, path, body, ct string) answer {
	s.t.Helper()
	return callAs(s.t, s.hc, user, user+"-secret", method, s.n.URL+path, body, ct)
}

// unauthenticated: no, wrong or unknown credentials are 401, on v2 and
// v3 alike.
func (s *authSession) unauthenticated() {
	for _, path := range []string{"/topics", "/brokers", "/v3/clusters", "/consumers/g"} {
		method := "GET"
		if path == "/consumers/g" {
			method = "POST"
		}
		wantStatus(s.t, "no credentials "+path, callAs(s.t, s.hc, "", "", method, s.n.URL+path, `{}`, ctV2), 401, 40101)
		wantStatus(s.t, "wrong password "+path, callAs(s.t, s.hc, "alice", "nope", method, s.n.URL+path, `{}`, ctV2), 401, 40101)
	}
	wantStatus(s.t, "unknown user", callAs(s.t, s.hc, "mallory", "x", "GET", s.n.URL+"/topics", "", ""), 401, 40101)
}

// withoutACLs: users without ACLs are refused and see no topic names;
// a consumer instance serves its creator only.
func (s *authSession) withoutACLs(inst string) {
	// The super user sees the topic; alice and bob, without ACLs, do not.
	if a := s.as("admin", "GET", "/topics", "", ""); a.Status != 200 || !strings.Contains(string(a.Body), `"secret"`) {
		s.t.Fatalf("admin GET /topics: %s", a)
	}
	a := s.as("alice", "GET", "/topics", "", "")
	if a.Status != 200 || strings.Contains(string(a.Body), "secret") {
		s.t.Fatalf("alice GET /topics leaks or fails: %s", a)
	}
	if a := s.as("alice", "GET", s.v3+"/topics", "", ""); a.Status != 200 || strings.Contains(string(a.Body), "secret") {
		s.t.Fatalf("alice v3 topic list leaks or fails: %s", a)
	}
	wantStatus(s.t, "alice GET /topics/secret", s.as("alice", "GET", "/topics/secret", "", ""), 403, 40301)
	wantStatus(s.t, "alice v2 produce", s.as("alice", "POST", "/topics/secret", `{"records":[{"value":"`+b64("x")+`"}]}`, ctBinary), 403, 40301)
	wantStatus(s.t, "alice v3 produce", s.as("alice", "POST", s.v3+"/topics/secret/records", `{"value":{"type":"STRING","data":"x"}}`, "application/json"), 403, 40301)
	if a := s.as("alice", "GET", s.v3+"/topics/secret/records?offset=earliest", "", ""); a.Status != 403 || strings.Contains(string(a.Body), "from-admin") {
		s.t.Fatalf("alice v3 consume: %s", a)
	}
	if a := s.as("alice", "GET", s.v3+"/topics/secret", "", ""); a.Status != 403 && a.Status != 404 {
		s.t.Fatalf("alice v3 GET topic: %s", a)
	}

	// alice's consumer instance is hers: bob is refused, even to delete it.
	wantStatus(s.t, "alice creates an instance", s.as("alice", "POST", "/consumers/g1", `{"name":"a1","format":"binary","auto.offset.reset":"earliest"}`, ctV2), 200, 0)
	wantStatus(s.t, "alice subscribes", s.as("alice", "POST", inst+"/subscription", `{"topics":["secret"]}`, ctV2), 204, 0)
	wantStatus(s.t, "alice reads her instance without ACLs", s.as("alice", "GET", inst+"/records?timeout=2000", "", ""), 403, 40301)
	wantStatus(s.t, "bob reads alice's instance", s.as("bob", "GET", inst+"/records", "", ""), 403, 40301)
	wantStatus(s.t, "bob reads alice's subscription", s.as("bob", "GET", inst+"/subscription", "", ""), 403, 40301)
	wantStatus(s.t, "bob deletes alice's instance", s.as("bob", "DELETE", inst, "", ""), 403, 40301)
}

// granted: with ACLs, alice produces and consumes on v2 and v3.
func (s *authSession) granted(inst string) {
	// Granted, the same user succeeds.
	s.n.grant(s.t, kadm.NewACLs().Topics("secret").ResourcePatternType(kadm.ACLPatternLiteral).
		Allow("User:alice").AllowHosts().Operations(kadm.OpDescribe, kadm.OpDescribeConfigs, kadm.OpRead, kadm.OpWrite))
	s.n.grant(s.t, kadm.NewACLs().Groups("g1").ResourcePatternType(kadm.ACLPatternLiteral).
		Allow("User:alice").AllowHosts().Operations(kadm.OpRead))
	eventually(s.t, "alice GET /topics/secret after the grant", 200, func() answer { return s.as("alice", "GET", "/topics/secret", "", "") })
	if a := s.as("alice", "GET", "/topics", "", ""); !strings.Contains(string(a.Body), `"secret"`) {
		s.t.Fatalf("alice GET /topics after the grant: %s", a)
	}
	offsetsOf(s.t, "alice v2 produce", s.as("alice", "POST", "/topics/secret", `{"records":[{"value":"`+b64("from-alice-v2")+`"}]}`, ctBinary), 1)
	wantStatus(s.t, "alice v3 produce", s.as("alice", "POST", s.v3+"/topics/secret/records", `{"value":{"type":"STRING","data":"from-alice-v3"}}`, "application/json"), 200, 0)
	if a := s.as("alice", "GET", s.v3+"/topics/secret/records?offset=earliest&max_records=3", "", ""); a.Status != 200 || !strings.Contains(string(a.Body), b64("from-alice-v3")) {
		s.t.Fatalf("alice v3 consume after the grant: %s", a)
	}
	var got []string
	for deadline := time.Now().Add(20 * time.Second); len(got) < 3 && time.Now().Before(deadline); {
		a := s.as("alice", "GET", inst+"/records?timeout=1000", "", "")
		if a.Status != 200 {
			s.t.Fatalf("alice reads her instance after the grant: %s", a)
		}
		for _, r := range a.List() {
			got = append(got, unb64(s.t, r.(map[string]any)["value"]))
		}
	}
	if strings.Join(got, ",") != "from-admin,from-alice-v2,from-alice-v3" {
		s.t.Fatalf("alice's instance read %q", got)
	}
}

// describeOnly: bob, still without ACLs, is refused; with DESCRIBE only he
// sees the topic but may not write it.
func (s *authSession) describeOnly(inst string) {
	// bob still sees nothing and may still not use alice's instance.
	wantStatus(s.t, "bob produce", s.as("bob", "POST", "/topics/secret", `{"records":[{"value":"`+b64("x")+`"}]}`, ctBinary), 403, 40301)
	if a := s.as("bob", "GET", s.v3+"/consumer-groups", "", ""); a.Status != 200 || strings.Contains(string(a.Body), "g1") {
		s.t.Fatalf("bob lists groups: %s", a)
	}
	wantStatus(s.t, "bob creates a topic", s.as("bob", "POST", s.v3+"/topics", `{"topic_name":"bobs"}`, "application/json"), 403, 40301)
	wantStatus(s.t, "bob lists ACLs", s.as("bob", "GET", s.v3+"/acls", "", ""), 403, 40301)
	// DESCRIBE without WRITE: bob sees the topic, and the broker refuses
	// his records.
	s.n.grant(s.t, kadm.NewACLs().Topics("secret").ResourcePatternType(kadm.ACLPatternLiteral).
		Allow("User:bob").AllowHosts().Operations(kadm.OpDescribe))
	eventually(s.t, "bob lists topics after the grant", 200, func() answer {
		if a := s.as("bob", "GET", "/topics", "", ""); !strings.Contains(string(a.Body), `"secret"`) {
			return answer{Status: 404, Body: a.Body}
		}
		return answer{Status: 200}
	})
	// The topic is found, so the answer is per record: 403 and, for the
	// record, 40301 (the broker refuses the idempotent producer's id, as
	// Kafka does without WRITE on any topic).
	if a := s.as("bob", "POST", "/topics/secret", `{"records":[{"value":"`+b64("x")+`"}]}`, ctBinary); a.Status != 403 || !strings.Contains(string(a.Body), `"error_code":40301`) {
		s.t.Fatalf("bob v2 produce without WRITE: %s", a)
	}
	// v3 reports each record's result in the body (the HTTP status is the
	// stream's, as Confluent's).
	if a := s.as("bob", "POST", s.v3+"/topics/secret/records", `{"value":{"type":"STRING","data":"x"}}`, "application/json"); a.ErrorCode() != 40301 {
		s.t.Fatalf("bob v3 produce without WRITE: %s", a)
	}
	wantStatus(s.t, "bob reads alice's instance", s.as("bob", "GET", inst+"/records", "", ""), 403, 40301)
	wantStatus(s.t, "alice deletes her instance", s.as("alice", "DELETE", inst, "", ""), 204, 0)
}

// readAll reads want records of topic from the start as admin.
func (n *authNode) readAll(t testing.TB, topic string, want int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(n.SASL), kgo.SASL(scram.Auth{User: "admin", Pass: "admin-secret"}.AsSha512Mechanism()),
		kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records of %s", len(out), want, topic)
		}
		out = append(out, fs.Records()...)
	}
	return out
}

func unb64(t testing.TB, v any) string {
	t.Helper()
	s, _ := v.(string)
	var out []byte
	if err := json.Unmarshal([]byte(`"`+s+`"`), &out); err != nil {
		t.Fatalf("value %v is not base64: %v", v, err)
	}
	return string(out)
}

// TestRESTRegistryCredentials: with the node's registry also requiring
// basic authentication, the proxy forwards the caller's credentials to it,
// so the registry's rights (ACLs on _schemas) apply to the avro format: a
// user who may write the topic but not register schemas is refused with
// 403/40301, one who may do both succeeds.
func TestRESTRegistryCredentials(t *testing.T) {
	// ANONYMOUS (the registry's own store client on the plaintext
	// listener) is a super user; users act as themselves.
	n := startAuthNode(t, "super.users=User:admin;User:ANONYMOUS\nsamsa.registry.authentication.method=BASIC\n",
		"--registry-listen", "127.0.0.1:0")
	n.URL = "http://" + addrFromLog(t, n.LogPath, restAddrRE)
	hc := &http.Client{Timeout: 30 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := kadm.NewClient(n.admin).CreateTopic(ctx, 1, 1, nil, "avro-t"); err != nil {
		t.Fatal(err)
	}
	for _, user := range []string{"User:alice", "User:bob"} {
		n.grant(t, kadm.NewACLs().Topics("avro-t").ResourcePatternType(kadm.ACLPatternLiteral).
			Allow(user).AllowHosts().Operations(kadm.OpDescribe, kadm.OpWrite))
	}
	n.grant(t, kadm.NewACLs().Topics("_schemas").ResourcePatternType(kadm.ACLPatternLiteral).
		Allow("User:bob").AllowHosts().Operations(kadm.OpDescribe, kadm.OpWrite))
	body := `{"value_schema":"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"n\",\"type\":\"int\"}]}","records":[{"value":{"n":7}}]}`
	produce := func(user string) func() answer {
		return func() answer {
			return callAs(t, hc, user, user+"-secret", "POST", n.URL+"/topics/avro-t", body, ctAvro)
		}
	}
	a := eventually(t, "alice's avro produce without registry rights", 403, produce("alice"))
	if a.ErrorCode() != 40301 || !strings.Contains(string(a.Body), "schema registry") {
		t.Fatalf("alice's avro produce without registry rights: %s", a)
	}
	a = eventually(t, "bob's avro produce with registry rights", 200, produce("bob"))
	offsetsOf(t, "bob's avro produce", a, 1)
	recs := n.readAll(t, "avro-t", 1)
	if v := recs[0].Value; len(v) < 5 || v[0] != 0 {
		t.Fatalf("record not in the schema registry's wire format: %x", v)
	}
}
