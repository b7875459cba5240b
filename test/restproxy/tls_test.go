package restproxy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/samsa-streaming/samsa/internal/clustertest"
	"github.com/samsa-streaming/samsa/internal/tlsconf/tlstest"
)

var restTLSAddrRE = regexp.MustCompile(`rest proxy listening.*url=https://([0-9.]+:[0-9]+)`)

// restTLSConfig is server.properties for an HTTPS proxy with files f.
func restTLSConfig(f *tlstest.Files, extra ...string) string {
	var cfg strings.Builder
	for k, v := range f.ServerProperties() {
		cfg.WriteString("listener.name.rest." + k + "=" + v + "\n")
	}
	for _, e := range extra {
		cfg.WriteString(e + "\n")
	}
	return cfg.String()
}

// trusting is an HTTP client trusting f's CA, presenting certs.
func trusting(t *testing.T, f *tlstest.Files, certs ...tls.Certificate) *http.Client {
	t.Helper()
	roots := x509.NewCertPool()
	ca, err := os.ReadFile(f.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	roots.AppendCertsFromPEM(ca)
	return &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, Certificates: certs}}}
}

// TestRESTTLSBasicAuth: --rest-listen https://… serves the proxy over TLS
// with the listener.name.rest.ssl.* settings; with basic authentication
// on, a client trusting the CA gets 401 without credentials and its
// answers with them; consumer instances' base_uri is https; plain HTTP is
// not served; Debian's curl -u works.
func TestRESTTLSBasicAuth(t *testing.T) {
	f := tlstest.WriteFiles(t, t.TempDir(), pkix.Name{CommonName: "rest-client"})
	n := startAuthNode(t, restTLSConfig(f), "--rest-listen", "https://127.0.0.1:0")
	url := "https://" + addrFromLog(t, n.LogPath, restTLSAddrRE)
	hc := trusting(t, f)

	wantStatus(t, "GET / over TLS", callAs(t, hc, "", "", "GET", url+"/", "", ""), 200, 0)
	wantStatus(t, "no credentials", callAs(t, hc, "", "", "GET", url+"/topics", "", ""), 401, 40101)
	wantStatus(t, "admin GET /topics", callAs(t, hc, "admin", "admin-secret", "GET", url+"/topics", "", ""), 200, 0)
	wantStatus(t, "alice GET /brokers", callAs(t, hc, "alice", "alice-secret", "GET", url+"/brokers", "", ""), 200, 0)
	a := callAs(t, hc, "alice", "alice-secret", "POST", url+"/consumers/gt", `{"name":"c1"}`, ctV2)
	if a.Status != 200 || a.Map()["base_uri"] != url+"/consumers/gt/instances/c1" {
		t.Fatalf("create over TLS: %s", a)
	}
	plain := "http://" + strings.TrimPrefix(url, "https://")
	if resp, err := http.Get(plain + "/topics"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Fatal("plain HTTP was served")
		}
	}
	if _, err := (&http.Client{Timeout: 10 * time.Second}).Get(url + "/"); err == nil {
		t.Fatal("a client not trusting the CA got an answer")
	}

	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Fatalf("curl -u needs Debian's curl (apt-get install curl): %v", err)
	}
	out, err := exec.Command(curl, "-sS", "--cacert", f.CAFile, "-u", "admin:admin-secret", url+"/topics").CombinedOutput()
	var topics []string
	if err != nil || json.Unmarshal(out, &topics) != nil {
		t.Fatalf("curl -u admin: %v: %s", err, out)
	}
	out, err = exec.Command(curl, "-sS", "--cacert", f.CAFile, "-o", "/dev/null", "-w", "%{http_code}", url+"/topics").CombinedOutput()
	if err != nil || string(out) != "401" {
		t.Fatalf("curl without -u: %v: %s", err, out)
	}
	out, err = exec.Command(curl, "-sS", "--cacert", f.CAFile, "-u", "alice:alice-secret", "-X", "POST",
		"-H", "Content-Type: "+ctBinary, "-d", `{"records":[{"value":"eA=="}]}`, url+"/topics/none-of-hers").CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"error_code":40301`) {
		t.Fatalf("curl -u alice produce without ACLs: %v: %s", err, out)
	}
}

// TestRESTMutualTLS: with listener.name.rest.ssl.client.auth=required a
// client needs a certificate from the trust store; its subject, mapped by
// ssl.principal.mapping.rules, is the caller, who owns the consumer
// instances it creates: another certificate's principal gets 403/40301.
func TestRESTMutualTLS(t *testing.T) {
	f := tlstest.WriteFiles(t, t.TempDir(), pkix.Name{CommonName: "alice"})
	bobLeaf := f.CA.Client(t, pkix.Name{CommonName: "bob"})
	n := clustertest.Start(t, clustertest.Options{
		Config: restTLSConfig(f, "listener.name.rest.ssl.client.auth=required",
			"listener.name.rest.ssl.principal.mapping.rules=RULE:^CN=(.*)$/$1/,DEFAULT"),
		Args: []string{"--admin-listen", "none", "--registry-listen", "none", "--rest-listen", "https://127.0.0.1:0"},
	})
	url := "https://" + addrFromLog(t, n.LogPath, restTLSAddrRE)
	aliceCert, err := tls.LoadX509KeyPair(f.ClientCertFile, f.ClientKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	bobCert, err := tls.X509KeyPair([]byte(bobLeaf.ChainPEM), []byte(bobLeaf.KeyPEM))
	if err != nil {
		t.Fatal(err)
	}
	alice, bob, nobody := trusting(t, f, aliceCert), trusting(t, f, bobCert), trusting(t, f)

	if _, err := nobody.Get(url + "/topics"); err == nil {
		t.Fatal("a client without a certificate got an answer")
	}
	createTopic(t, n.Addr, "mtls", 1, nil)
	wantStatus(t, "alice GET /topics", callAs(t, alice, "", "", "GET", url+"/topics", "", ""), 200, 0)
	offsetsOf(t, "alice produce", callAs(t, alice, "", "", "POST", url+"/topics/mtls", `{"records":[{"value":"`+b64("m")+`"}]}`, ctBinary), 1)
	inst := url + "/consumers/gm/instances/a"
	wantStatus(t, "alice creates an instance", callAs(t, alice, "", "", "POST", url+"/consumers/gm", `{"name":"a","format":"binary","auto.offset.reset":"earliest"}`, ctV2), 200, 0)
	wantStatus(t, "alice subscribes", callAs(t, alice, "", "", "POST", inst+"/subscription", `{"topics":["mtls"]}`, ctV2), 204, 0)
	wantStatus(t, "bob reads alice's instance", callAs(t, bob, "", "", "GET", inst+"/records", "", ""), 403, 40301)
	wantStatus(t, "bob deletes alice's instance", callAs(t, bob, "", "", "DELETE", inst, "", ""), 403, 40301)
	var got int
	for deadline := time.Now().Add(20 * time.Second); got == 0 && time.Now().Before(deadline); {
		a := callAs(t, alice, "", "", "GET", inst+"/records?timeout=1000", "", "")
		if a.Status != 200 {
			t.Fatalf("alice reads her instance: %s", a)
		}
		got += len(a.List())
	}
	if got != 1 {
		t.Fatalf("alice read %d records, want 1", got)
	}
	wantStatus(t, "alice deletes her instance", callAs(t, alice, "", "", "DELETE", inst, "", ""), 204, 0)
}

// TestRESTAloneSecured: `samsa rest` takes the same settings as the node's
// proxy: --listen https://… with listener.name.rest.ssl.* in --config, and
// samsa.rest.authentication.method=BASIC there, its users logging in to
// --basic-auth-brokers and passed through to the broker.
func TestRESTAloneSecured(t *testing.T) {
	f := tlstest.WriteFiles(t, t.TempDir(), pkix.Name{CommonName: "rest-client"})
	n := startAuthNode(t, "", "--rest-listen", "none")
	props := f.Dir + "/rest.properties"
	tlstest.WriteFile(t, props, []byte(restTLSConfig(f, "samsa.rest.authentication.method=BASIC")))
	addr := startAlone(t, "--brokers", n.Addr, "--listen", "https://127.0.0.1:0", "--config", props, "--basic-auth-brokers", n.SASL)
	url := "https://" + strings.TrimPrefix(addr, "http://")
	hc := trusting(t, f)

	wantStatus(t, "no credentials", callAs(t, hc, "", "", "GET", url+"/topics", "", ""), 401, 40101)
	wantStatus(t, "wrong password", callAs(t, hc, "alice", "x", "GET", url+"/topics", "", ""), 401, 40101)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := kadm.NewClient(n.admin).CreateTopic(ctx, 1, 1, nil, "alone"); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, "admin produce", callAs(t, hc, "admin", "admin-secret", "POST", url+"/topics/alone",
		`{"records":[{"value":"`+b64("a")+`"}]}`, ctBinary), 200, 0)
	wantStatus(t, "alice produce", callAs(t, hc, "alice", "alice-secret", "POST", url+"/topics/alone",
		`{"records":[{"value":"`+b64("a")+`"}]}`, ctBinary), 403, 40301)
	if a := callAs(t, hc, "alice", "alice-secret", "GET", url+"/topics", "", ""); a.Status != 200 || strings.Contains(string(a.Body), "alone") {
		t.Fatalf("alice GET /topics: %s", a)
	}
}
