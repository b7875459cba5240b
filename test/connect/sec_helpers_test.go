package connect

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/samsa-streaming/samsa/internal/clustertest"
	"github.com/samsa-streaming/samsa/internal/tlsconf/tlstest"
)

// secNode is a secured node: users log in only over SASL_SSL with
// SCRAM-SHA-512, admin is the only super user (ANONYMOUS, on the
// node's own PLAINTEXT listener, has no rights), and its embedded Connect
// worker serves HTTPS with basic authentication and logs in to Kafka as
// admin.
type secNode struct {
	node    *clustertest.Node
	url     string // https://host:port of the Connect REST API
	sslAddr string // the SASL_SSL listener
	files   *tlstest.Files
	hc      *http.Client
	adm     *kadm.Client
	admCl   *kgo.Client
}

// secNodeConfig is its server.properties before the certificate settings.
const secNodeConfig = `authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:admin
allow.everyone.if.no.acl.found=false
sasl.enabled.mechanisms=SCRAM-SHA-512
group.initial.rebalance.delay.ms=0
samsa.connect.authentication.method=BASIC
samsa.connect.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="admin-secret";
`

// secStartNode starts it and waits for the worker's REST API.
func secStartNode(t *testing.T) *secNode {
	t.Helper()
	f := tlstest.WriteFiles(t, t.TempDir(), pkix.Name{CommonName: "client"})
	var cfg strings.Builder
	cfg.WriteString(secNodeConfig)
	cfg.WriteString("listener.name.sasl_ssl.ssl.keystore.type=PEM\nlistener.name.sasl_ssl.ssl.keystore.location=" + f.ServerKeystore + "\n")
	for k, v := range f.ServerProperties() {
		cfg.WriteString("listener.name.connect." + k + "=" + v + "\n")
	}
	sslAddr := net.JoinHostPort("127.0.0.1", secFreePort(t))
	node := clustertest.Start(t, clustertest.Options{
		Config:    cfg.String(),
		Listeners: []string{"SASL_SSL://" + sslAddr},
		Args: []string{
			"--admin-listen", "none", "--registry-listen", "none", "--rest-listen", "none",
			"--connect-listen", "https://127.0.0.1:0",
			"--add-scram", "SCRAM-SHA-512=[name=admin,password=admin-secret]",
			"--add-scram", "SCRAM-SHA-512=[name=alice,password=alice-secret]",
		},
	})
	n := &secNode{node: node, sslAddr: sslAddr, files: f, hc: secHTTPClient(t, f, false),
		url: "https://" + rtAddrFromLog(t, node.LogPath, rtConnectAddrRE)}
	cl, err := kgo.NewClient(kgo.SeedBrokers(sslAddr), kgo.DialTLSConfig(secTLS(t, f, false)),
		kgo.SASL(scram.Auth{User: "admin", Pass: "admin-secret"}.AsSha512Mechanism()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	n.admCl, n.adm = cl, kadm.NewClient(cl)
	return n
}

// secFreePort is a port free a moment ago.
func secFreePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// secTLS trusts f's CA, presenting f's client certificate when withCert.
func secTLS(t *testing.T, f *tlstest.Files, withCert bool) *tls.Config {
	t.Helper()
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM([]byte(f.CA.CertPEM)) {
		t.Fatal("no CA certificate")
	}
	tc := &tls.Config{RootCAs: roots}
	if withCert {
		cert, err := tls.LoadX509KeyPair(f.ClientCertFile, f.ClientKeyFile)
		if err != nil {
			t.Fatal(err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc
}

// secHTTPClient is an HTTPS client trusting f's CA.
func secHTTPClient(t *testing.T, f *tlstest.Files, withCert bool) *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: secTLS(t, f, withCert)}}
}

// secCall sends one request as user (none when "") and returns the status
// and body; a 401 must carry a Basic challenge.
func secCall(t *testing.T, hc *http.Client, user, pass, method, url string, body any) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = strings.NewReader(string(b))
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == 401 && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic ") {
		t.Errorf("%s %s: 401 without a Basic challenge", method, url)
	}
	return resp.StatusCode, string(b)
}

// secUntil retries the call as user (password user-secret) until it
// answers want: ACLs reach the authorizer, and a worker's group gets its
// leader (409 before), a moment later.
func secUntil(t *testing.T, hc *http.Client, want int, user, method, url string, body any) string {
	t.Helper()
	got, text := 0, ""
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		if got, text = secCall(t, hc, user, user+"-secret", method, url, body); got == want {
			return text
		}
	}
	t.Fatalf("%s %s as %q: want %d, last %d %s", method, url, user, want, got, text)
	return ""
}

// secGrant creates the literal ACLs of b.
func secGrant(t *testing.T, adm *kadm.Client, b *kadm.ACLBuilder) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := adm.CreateACLs(ctx, b.ResourcePatternType(kadm.ACLPatternLiteral).AllowHosts())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
}

// secWaitRunning waits until the connector and its tasks run, as admin.
func secWaitRunning(t *testing.T, hc *http.Client, url, name string) {
	t.Helper()
	last := ""
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		code, text := secCall(t, hc, "admin", "admin-secret", "GET", url+"/connectors/"+name+"/status", nil)
		last = text
		var st map[string]any
		if code != 200 || json.Unmarshal([]byte(text), &st) != nil {
			continue
		}
		if rtConnState(st) == "RUNNING" && strings.Join(rtTaskStates(st), ",") == "RUNNING" {
			return
		}
	}
	t.Fatalf("%s never RUNNING: %s", name, last)
}

// secWriteFile writes lines into a new file of the test's and returns
// its path.
func secWriteFile(t *testing.T, name string, lines ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// secConsume reads n records of topic as admin.
func secConsume(t *testing.T, n *secNode, topic string, want int) []string {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(n.sslAddr), kgo.DialTLSConfig(secTLS(t, n.files, false)),
		kgo.SASL(scram.Auth{User: "admin", Pass: "admin-secret"}.AsSha512Mechanism()),
		kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var got []string
	for len(got) < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records of %s: %v", len(got), want, topic, got)
		}
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	return got
}

// secGroupACL is READ on group for user (the Connect REST API's writes).
func secGroupACL(group, user string) *kadm.ACLBuilder {
	return kadm.NewACLs().Groups(group).Allow("User:" + user).Operations(kadm.OpRead)
}
