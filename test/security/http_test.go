package security_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/samsa-streaming/samsa/internal/clustertest"
	"github.com/samsa-streaming/samsa/internal/tlsconf/tlstest"
)

// httpNode is a node whose users log in only over SASL_SSL, with its
// schema registry, REST proxy, admin listener and Connect worker on HTTPS with basic
// authentication, and a plain metrics listener.
type httpNode struct {
	node                  *clustertest.Node
	registry, rest, admin string // https://host:port
	connect               string // https://host:port
	metrics               string // http://host:port
	sslAddr, caFile       string // the SASL_SSL listener and its CA
	hc                    *http.Client
	adm                   *kadm.Client
}

// httpAuthConfig is the node's server.properties before the certificate
// settings: the StandardAuthorizer with admin (and ANONYMOUS, reachable
// only on the loopback PLAINTEXT listener the services' own clients use)
// as super users, SCRAM on the SASL_SSL listener, and the three services'
// basic authentication. The SASL_SSL listener has a keystore and no trust
// store: the services trust it by the certificate it serves.
const httpAuthConfig = `authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:admin;User:ANONYMOUS
allow.everyone.if.no.acl.found=false
sasl.enabled.mechanisms=SCRAM-SHA-512
group.initial.rebalance.delay.ms=0
samsa.registry.authentication.method=BASIC
samsa.rest.authentication.method=BASIC
samsa.admin.authentication.method=BASIC
samsa.connect.authentication.method=BASIC
`

// startHTTPNode starts it.
func startHTTPNode(t *testing.T) *httpNode {
	f := tlstest.WriteFiles(t, t.TempDir(), pkix.Name{CommonName: "client"})
	var cfg strings.Builder
	cfg.WriteString(httpAuthConfig)
	cfg.WriteString("listener.name.sasl_ssl.ssl.keystore.type=PEM\nlistener.name.sasl_ssl.ssl.keystore.location=" + f.ServerKeystore + "\n")
	for _, svc := range []string{"registry", "rest", "admin", "connect"} {
		for k, v := range f.ServerProperties() {
			cfg.WriteString("listener.name." + svc + "." + k + "=" + v + "\n")
		}
	}
	sslAddr := net.JoinHostPort("127.0.0.1", freePort(t))
	node := clustertest.Start(t, clustertest.Options{
		Config:    cfg.String(),
		Listeners: []string{"SASL_SSL://" + sslAddr},
		Args: []string{
			"--registry-listen", "https://127.0.0.1:0", "--rest-listen", "https://127.0.0.1:0",
			"--admin-listen", "https://127.0.0.1:0", "--metrics-listen", "127.0.0.1:0",
			"--connect-listen", "https://127.0.0.1:0",
			"--add-scram", "SCRAM-SHA-512=[name=admin,password=admin-secret]",
			"--add-scram", "SCRAM-SHA-512=[name=alice,password=alice-secret]",
		},
	})
	ca, err := os.ReadFile(f.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca)
	tc := &tls.Config{RootCAs: roots}
	n := &httpNode{
		node:     node,
		registry: "https://" + logAddr(t, node.LogPath, `schema registry listening.*addr=([0-9.]+:[0-9]+)`),
		rest:     "https://" + logAddr(t, node.LogPath, `rest proxy listening.*addr=([0-9.]+:[0-9]+)`),
		admin:    "https://" + logAddr(t, node.LogPath, `serving admin endpoints\W+addr=([0-9.]+:[0-9]+) scheme=https`),
		metrics:  "http://" + logAddr(t, node.LogPath, `serving metrics endpoints\W+addr=([0-9.]+:[0-9]+) scheme=http`),
		connect:  "https://" + logAddr(t, node.LogPath, `connect worker listening.*addr=([0-9.]+:[0-9]+)`),
		sslAddr:  sslAddr,
		caFile:   f.CAFile,
		hc:       &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: tc}},
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(sslAddr), kgo.DialTLSConfig(tc),
		kgo.SASL(scram.Auth{User: "admin", Pass: "admin-secret"}.AsSha512Mechanism()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	n.adm = kadm.NewClient(cl)
	return n
}

// logAddr waits for the node's log to name an address matching re.
func logAddr(t *testing.T, path, re string) string {
	t.Helper()
	rx := regexp.MustCompile(re)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		b, _ := os.ReadFile(path)
		if m := rx.FindSubmatch(b); m != nil {
			return string(m[1])
		}
	}
	t.Fatalf("no match for %s in %s", re, path)
	return ""
}

// call sends one request (no credentials when user is "") and returns
// the status; a 401 must carry a Basic challenge.
func (n *httpNode) call(t *testing.T, user, pass, method, url, body string) int {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := n.hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode == 401 && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic ") {
		t.Errorf("%s %s: 401 without a Basic challenge", method, url)
	}
	return resp.StatusCode
}

// until retries the call until it answers want (ACLs reach the
// authorizer, and cached answers expire, a moment after CreateAcls).
func (n *httpNode) until(t *testing.T, want int, user, method, url, body string) {
	t.Helper()
	got := 0
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		if got = n.call(t, user, user+"-secret", method, url, body); got == want {
			return
		}
	}
	t.Fatalf("%s %s as %q: want %d, last %d", method, url, user, want, got)
}

// grant creates the ACLs of b.
func (n *httpNode) grant(t *testing.T, b *kadm.ACLBuilder) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := n.adm.CreateACLs(ctx, b.ResourcePatternType(kadm.ACLPatternLiteral).AllowHosts())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
}

// TestHTTPServicesSecured: with users logging in only over SASL_SSL, the
// schema registry, the REST proxy, the admin listener and Connect, each on HTTPS
// with basic authentication, answer 401 without or with wrong
// credentials, 403 to a user without ACLs on a protected endpoint, 2xx to
// the super user, and 2xx to the user once the ACLs Kafka would ask for
// are granted; /metrics and /healthz stay open on the admin listener and
// on the plain metrics listener.
func TestHTTPServicesSecured(t *testing.T) {
	n := startHTTPNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := n.adm.CreateTopic(ctx, 1, 1, nil, "secret"); err != nil {
		t.Fatal(err)
	}
	type endpoint struct{ name, method, url, body string }
	eps := []endpoint{
		{"registry", "GET", n.registry + "/subjects", ""},
		{"rest", "GET", n.rest + "/topics/secret", ""},
		{"admin GET", "GET", n.admin + "/admin/loggers", ""},
		{"admin PUT", "PUT", n.admin + "/admin/loggers/root", `{"level":"INFO"}`},
		{"connect", "GET", n.connect + "/connectors", ""},
	}
	for _, ep := range eps {
		n.until(t, 200, "admin", ep.method, ep.url, ep.body)
		if got := n.call(t, "", "", ep.method, ep.url, ep.body); got != 401 {
			t.Errorf("%s without credentials: %d, want 401", ep.name, got)
		}
		if got := n.call(t, "alice", "wrong", ep.method, ep.url, ep.body); got != 401 {
			t.Errorf("%s with a wrong password: %d, want 401", ep.name, got)
		}
		if got := n.call(t, "alice", "alice-secret", ep.method, ep.url, ep.body); got != 403 {
			t.Errorf("%s as alice without ACLs: %d, want 403", ep.name, got)
		}
	}
	for _, url := range []string{n.admin, n.metrics} {
		for _, path := range []string{"/metrics", "/healthz"} {
			if got := n.call(t, "", "", "GET", url+path, ""); got != 200 {
				t.Errorf("GET %s%s without credentials: %d, want 200", url, path, got)
			}
		}
	}
	if got := n.call(t, "", "", "GET", n.metrics+"/admin/loggers", ""); got != 404 {
		t.Errorf("the metrics listener serves /admin/loggers: %d", got)
	}

	// The registry reads with DESCRIBE on _schemas; the REST proxy's
	// topic answer holds its configs (DESCRIBE_CONFIGS).
	n.grant(t, kadm.NewACLs().Topics("_schemas").Allow("User:alice").Operations(kadm.OpDescribe))
	n.grant(t, kadm.NewACLs().Topics("secret").Allow("User:alice").Operations(kadm.OpDescribe, kadm.OpDescribeConfigs))
	n.grant(t, kadm.NewACLs().Clusters().Allow("User:alice").Operations(kadm.OpDescribeConfigs))
	n.until(t, 200, "alice", "GET", n.registry+"/subjects", "")
	n.until(t, 200, "alice", "GET", n.rest+"/topics/secret", "")
	n.until(t, 200, "alice", "GET", n.admin+"/admin/loggers", "")
	// Connect reads with DESCRIBE on its worker group (docs/connect.md).
	n.grant(t, kadm.NewACLs().Groups("samsa-connect").Allow("User:alice").Operations(kadm.OpDescribe))
	n.until(t, 200, "alice", "GET", n.connect+"/connectors", "")
	if got := n.call(t, "alice", "alice-secret", "PUT", n.admin+"/admin/loggers/root", `{"level":"INFO"}`); got != 403 {
		t.Errorf("PUT /admin/loggers with DESCRIBE_CONFIGS only: %d, want 403", got)
	}
	n.grant(t, kadm.NewACLs().Clusters().Allow("User:alice").Operations(kadm.OpAlterConfigs))
	n.until(t, 200, "alice", "PUT", n.admin+"/admin/loggers/root", `{"level":"INFO"}`)
}

// TestHTTPStandaloneLoginsOverSASLSSL: `samsa registry` and `samsa rest`
// log their users in over a SASL_SSL listener with
// --basic-auth-command-config (security.protocol=SASL_SSL and the trust
// store), while their own clients use the plaintext one: 401 without
// credentials, 403 for a user without ACLs, 200 for the super user.
func TestHTTPStandaloneLoginsOverSASLSSL(t *testing.T) {
	n := startHTTPNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := n.adm.CreateTopic(ctx, 1, 1, nil, "secret"); err != nil {
		t.Fatal(err)
	}
	login := filepath.Join(t.TempDir(), "login.properties")
	props := "security.protocol=SASL_SSL\nssl.truststore.type=PEM\nssl.truststore.location=" + n.caFile + "\n"
	if err := os.WriteFile(login, []byte(props), 0o600); err != nil {
		t.Fatal(err)
	}
	auth := []string{"--brokers", n.node.Addr, "--basic-auth-mechanism", "SCRAM-SHA-512",
		"--basic-auth-brokers", n.sslAddr, "--basic-auth-command-config", login, "--listen", "127.0.0.1:0"}
	reg := "http://" + startService(t, `schema registry at http://([0-9.]+:[0-9]+)`, append([]string{"registry",
		"--topic", "_schemas_alone", "--group-id", "alone", "--replication-factor", "1"}, auth...)...)
	rest := "http://" + startService(t, `rest proxy at http://([0-9.]+:[0-9]+)`, append([]string{"rest"}, auth...)...)
	for _, url := range []string{reg + "/subjects", rest + "/topics/secret"} {
		n.until(t, 200, "admin", "GET", url, "")
		if got := n.call(t, "", "", "GET", url, ""); got != 401 {
			t.Errorf("GET %s without credentials: %d, want 401", url, got)
		}
		if got := n.call(t, "alice", "alice-secret", "GET", url, ""); got != 403 {
			t.Errorf("GET %s as alice without ACLs: %d, want 403", url, got)
		}
	}
}

// startService runs the binary with args until the test ends and returns
// the address its output names by re.
func startService(t *testing.T, re string, args ...string) string {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), "service.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(clustertest.Binary(t), args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { // ends when the process exits, killed at cleanup at the latest
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("--- samsa %s log ---\n%s", args[0], b)
		}
	})
	return logAddr(t, logPath, re)
}
