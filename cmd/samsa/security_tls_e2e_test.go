package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// TLS end to end: the client commands in-process against a node whose
// listener is SSL (client certificates required) or SASL_SSL (SCRAM), with
// the CLI's TLS settings in Kafka's and librdkafka's forms.

// startListenerNode runs the samsa binary with the given server.properties
// (which must set listeners with {port} where the port goes) and extra
// serve arguments, and returns the address. clustertest.Start cannot be
// used: it sets --listen (a PLAINTEXT listener) and probes readiness in
// plaintext. The node is stopped when the test ends.
func startListenerNode(t *testing.T, config string, args ...string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, port, _ := net.SplitHostPort(addr)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "server.properties")
	writeFile(t, cfg, strings.ReplaceAll(config, "{port}", port))
	logPath := filepath.Join(dir, "samsa.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(clustertest.Binary(t), append([]string{"serve", "--data-dir", filepath.Join(dir, "data"), "--node-id", "1", "--config", cfg}, args...)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }() // ends when the node exits
	logTail := func() string { b, _ := os.ReadFile(logPath); return string(b) }
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("--- samsa log ---\n%s", logTail())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return addr
		}
		select {
		case <-done:
			t.Fatalf("node exited before listening on %s (its log follows)", addr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("node did not listen on %s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// eventuallyOK runs samsa until it succeeds (the node may still be
// starting) and returns its output.
func eventuallyOK(t *testing.T, addr string, args ...string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := cli(t, addr, args...)
		if r.err == nil {
			return r.stdout
		}
		if time.Now().After(deadline) {
			t.Fatalf("samsa %s: %v", strings.Join(args, " "), r.err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// tlsFiles writes a CA, the node's keystore (key and chain in one PEM
// file, for 127.0.0.1) and a client's certificate and key.
type tlsFiles struct {
	ca, serverKeystore, clientCert, clientKey, clientKeystore string
}

func newTLSFiles(t *testing.T) tlsFiles {
	t.Helper()
	ca := newTestCA(t)
	sc, sk := ca.issue(t, "127.0.0.1", false)
	cc, ck := ca.issue(t, "alice", true)
	return tlsFiles{
		ca:             ca.file(t, "ca.pem", ca.pem),
		serverKeystore: ca.file(t, "server.pem", sk+sc),
		clientCert:     ca.file(t, "client.pem", cc),
		clientKey:      ca.file(t, "client.key", ck),
		clientKeystore: ca.file(t, "client-keystore.pem", ck+cc),
	}
}

// TestTLSListener: an SSL listener requiring client certificates. The CLI
// verifies the node's certificate (hostname included: it names
// 127.0.0.1), presents its own from either form of settings, and fails
// clearly without TLS, without a client certificate, or trusting another
// CA.
func TestTLSListener(t *testing.T) {
	t.Setenv(clientConfigEnv, "")
	f := newTLSFiles(t)
	addr := startListenerNode(t, fmt.Sprintf(`listeners=SSL://127.0.0.1:{port}
ssl.keystore.type=PEM
ssl.keystore.location=%s
ssl.truststore.type=PEM
ssl.truststore.location=%s
ssl.client.auth=required
`, f.serverKeystore, f.ca))

	kafkaStyle := filepath.Join(t.TempDir(), "client.properties")
	writeFile(t, kafkaStyle, fmt.Sprintf("security.protocol=SSL\nssl.truststore.type=PEM\nssl.truststore.location=%s\nssl.keystore.type=PEM\nssl.keystore.location=%s\n", f.ca, f.clientKeystore))
	eventuallyOK(t, addr, "cluster", "info", "--command-config", kafkaStyle)
	out := cliOK(t, addr, "topic", "create", "secure", "-p", "1", "--command-config", kafkaStyle)
	if !strings.HasPrefix(out, "created topic secure") {
		t.Fatalf("create over TLS: %q", out)
	}
	kcatStyle := []string{"-X", "security.protocol=ssl", "-X", "ssl.ca.location=" + f.ca, "-X", "ssl.certificate.location=" + f.clientCert, "-X", "ssl.key.location=" + f.clientKey}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if r := runSamsaStdin(ctx, "over-tls\n", append([]string{"produce", "secure", "-b", addr}, kcatStyle...)...); r.err != nil {
		t.Fatalf("produce over TLS: %v", r.err)
	}
	if r := runSamsaStdin(ctx, "", append([]string{"consume", "secure", "--from", "beginning", "-n", "1", "-b", addr}, kcatStyle...)...); r.err != nil || r.stdout != "over-tls\n" {
		t.Fatalf("consume over TLS: %q, %v", r.stdout, r.err)
	}

	if r := cli(t, addr, "topic", "list"); r.err == nil || !strings.Contains(r.err.Error(), "see security.protocol") {
		t.Fatalf("plaintext to a TLS listener: %v", r.err)
	}
	if r := cli(t, addr, "topic", "list", "-X", "security.protocol=SSL", "-X", "ssl.ca.location="+f.ca); r.err == nil {
		t.Fatal("a client without a certificate was let in")
	}
	other := newTestCA(t)
	if r := cli(t, addr, "topic", "list", "-X", "security.protocol=SSL", "-X", "ssl.ca.location="+other.file(t, "other.pem", other.pem),
		"-X", "ssl.keystore.location="+f.clientKeystore); r.err == nil || !strings.Contains(r.err.Error(), "unknown authority") {
		t.Fatalf("untrusted broker certificate: %v", r.err)
	}
}

// TestSASLSSLListener: SCRAM over TLS, with the admin from --add-scram and
// a user created with `samsa user create` over the same listener.
func TestSASLSSLListener(t *testing.T) {
	t.Setenv(clientConfigEnv, "")
	f := newTLSFiles(t)
	addr := startListenerNode(t, fmt.Sprintf(`listeners=SASL_SSL://127.0.0.1:{port}
sasl.enabled.mechanisms=SCRAM-SHA-512
ssl.keystore.type=PEM
ssl.keystore.location=%s
`, f.serverKeystore), "--add-scram", "SCRAM-SHA-512=[name=admin,password=admin-secret]")
	admin := filepath.Join(t.TempDir(), "admin.properties")
	writeFile(t, admin, fmt.Sprintf("security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\n"+
		"sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"admin\" password=\"admin-secret\";\n"+
		"ssl.truststore.type=PEM\nssl.truststore.location=%s\n", f.ca))
	eventuallyOK(t, addr, "cluster", "info", "--command-config", admin)
	cliOK(t, addr, "user", "create", "carol", "--password", "carol-secret", "--command-config", admin)
	carol := []string{"-X", "security.protocol=SASL_SSL", "-X", "ssl.ca.location=" + f.ca, "-X", "sasl.mechanism=SCRAM-SHA-512",
		"-X", "sasl.username=carol", "-X", "sasl.password=carol-secret"}
	cliOK(t, addr, append([]string{"topic", "list"}, carol...)...)
	if r := cli(t, addr, "topic", "list", "-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanism=SCRAM-SHA-512",
		"-X", "sasl.username=carol", "-X", "sasl.password=carol-secret"); r.err == nil {
		t.Fatal("SASL without TLS to a SASL_SSL listener worked")
	}
}
