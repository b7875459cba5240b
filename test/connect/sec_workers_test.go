package connect

import (
	"crypto/x509/pkix"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/samsa-streaming/samsa/internal/clustertest"
	"github.com/samsa-streaming/samsa/internal/tlsconf/tlstest"
)

// secWorker is a `samsa connect` process serving HTTPS.
type secWorker struct {
	url, logPath string
}

var secWorkerURLRE = regexp.MustCompile(`connect worker listening.*url=(https://[0-9.]+:[0-9]+)`)

// secStartWorker runs `samsa connect args...` until the test ends and
// returns it once it logs its URL.
func secStartWorker(t *testing.T, args ...string) *secWorker {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), "connect.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(clustertest.Binary(t), append([]string{"connect"}, args...)...)
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
			t.Logf("--- samsa connect log ---\n%s", b)
		}
	})
	return &secWorker{url: rtAddrFromLog(t, logPath, secWorkerURLRE), logPath: logPath}
}

// secWorkerFiles writes the distributed workers' properties (HTTPS with
// client certificates required, by Kafka Connect's listeners.https.ssl.*
// names, and basic authentication): the first with the Kafka client
// security in it as a Java worker's (SASL_SSL as admin), the second
// without, and those client settings apart for --command-config. It
// returns the three paths.
func secWorkerFiles(t *testing.T, n *secNode) (string, string, string) {
	t.Helper()
	dir := t.TempDir()
	// The workers' certificate serves HTTPS and is presented when they
	// forward to each other, so it has both usages.
	leaf := n.files.CA.Issue(t, tlstest.Options{Subject: pkix.Name{CommonName: "worker"}, DNSNames: []string{"localhost"},
		IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
	keystore := filepath.Join(dir, "worker.keystore.pem")
	tlstest.WriteFile(t, keystore, []byte(leaf.KeystorePEM()))
	base := fmt.Sprintf(`bootstrap.servers=%s
group.id=sec-dist
listeners=https://127.0.0.1:0
listeners.https.ssl.keystore.type=PEM
listeners.https.ssl.keystore.location=%s
listeners.https.ssl.client.auth=required
listeners.https.ssl.truststore.type=PEM
listeners.https.ssl.truststore.location=%s
samsa.connect.authentication.method=BASIC
key.converter=org.apache.kafka.connect.storage.StringConverter
value.converter=org.apache.kafka.connect.storage.StringConverter
offset.flush.interval.ms=200
`, n.sslAddr, keystore, n.files.CAFile)
	clientSec := fmt.Sprintf(`security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="admin-secret";
ssl.truststore.type=PEM
ssl.truststore.location=%s
`, n.files.CAFile)
	inline, plain, client := filepath.Join(dir, "worker-a.properties"), filepath.Join(dir, "worker-b.properties"), filepath.Join(dir, "client.properties")
	tlstest.WriteFile(t, inline, []byte(base+clientSec))
	tlstest.WriteFile(t, plain, []byte(base))
	tlstest.WriteFile(t, client, []byte(clientSec))
	return inline, plain, client
}

// TestSecWorkersForward: two distributed `samsa connect` workers (one
// with its Kafka client security in its worker properties, one with
// --command-config) serve
// HTTPS with client certificates required and basic authentication;
// a client without a certificate is refused at the handshake, one without
// credentials gets 401, alice without ACLs 403; writes sent to either
// worker succeed for admin and, once she has READ on the Group sec-dist,
// for alice: the follower forwards them to the leader with the caller's
// credentials, over HTTPS with its own certificate, and the connectors
// run.
func TestSecWorkersForward(t *testing.T) {
	n := secStartNode(t)
	inline, plain, client := secWorkerFiles(t, n)
	w1 := secStartWorker(t, inline)
	hc := secHTTPClient(t, n.files, true)
	secUntil(t, hc, 400, "admin", "PUT", w1.url+"/connectors/sec-probe/config", map[string]string{})
	w2 := secStartWorker(t, plain, "--command-config", client)
	secUntil(t, hc, 400, "admin", "PUT", w2.url+"/connectors/sec-probe/config", map[string]string{})

	if resp, err := n.hc.Get(w1.url + "/"); err == nil {
		resp.Body.Close()
		t.Fatalf("a client without a certificate was served: %d", resp.StatusCode)
	}
	in := secWriteFile(t, "in.txt", "w1", "w2")
	for _, w := range []*secWorker{w1, w2} {
		if code, _ := secCall(t, hc, "", "", "GET", w.url+"/", nil); code != 200 {
			t.Errorf("GET / with a certificate and no credentials: %d", code)
		}
		if code, body := secCall(t, hc, "", "", "POST", w.url+"/connectors", secFileSource("x", in, "x")); code != 401 {
			t.Errorf("POST %s without credentials: %d %s", w.url, code, body)
		}
		if code, body := secCall(t, hc, "alice", "alice-secret", "GET", w.url+"/connectors", nil); code != 403 {
			t.Errorf("GET %s as alice without ACLs: %d %s", w.url, code, body)
		}
	}
	for i, w := range []*secWorker{w1, w2} {
		name := fmt.Sprintf("admin%d", i)
		secUntil(t, hc, 201, "admin", "POST", w.url+"/connectors", secFileSource(name, in, "sec-dist-"+name))
		secWaitRunning(t, hc, w.url, name)
	}
	secGrant(t, n.adm, secGroupACL("sec-dist", "alice"))
	for i, w := range []*secWorker{w1, w2} {
		name := fmt.Sprintf("alice%d", i)
		secUntil(t, hc, 201, "alice", "POST", w.url+"/connectors", secFileSource(name, in, "sec-dist-"+name))
		secUntil(t, hc, 204, "alice", "DELETE", w.url+"/connectors/"+name, nil)
	}
	forwarded := 0
	for _, w := range []*secWorker{w1, w2} {
		b, err := os.ReadFile(w.logPath)
		if err != nil {
			t.Fatal(err)
		}
		forwarded += strings.Count(string(b), "forwarding request to the leader")
		if strings.Contains(string(b), "forwarding to the leader failed") {
			t.Errorf("%s failed to forward:\n%s", w.url, b)
		}
	}
	if forwarded < 3 { // one create of each user and a delete, through the follower
		t.Fatalf("the follower forwarded %d writes, want at least 3", forwarded)
	}
	if got := secConsume(t, n, "sec-dist-admin1", 2); strings.Join(got, ",") != "w1,w2" {
		t.Fatalf("sec-dist-admin1 holds %v", got)
	}
}
