package hardening

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// cfgRun is one run of samsa serve --config: its stderr, its exit error
// and how many connections to its listener succeeded while it ran.
type cfgRun struct {
	stderr   string
	err      error
	accepted int64
	dataDir  string
}

// cfgFreePort returns a TCP port nothing listens on now.
func cfgFreePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// cfgServe runs samsa serve --config with props (where {port} is a free
// port the listener would use and {data} a data directory that does not
// exist yet), dialling the port every millisecond while it runs. With
// stopOnAccept it is killed once a connection succeeds; otherwise it must
// exit by itself within a minute.
func cfgServe(t *testing.T, props string, stopOnAccept bool) cfgRun {
	t.Helper()
	dir := t.TempDir()
	port := cfgFreePort(t)
	run := cfgRun{dataDir: filepath.Join(dir, "data")}
	props = strings.NewReplacer("{port}", fmt.Sprint(port), "{data}", run.dataDir).Replace(props)
	path := filepath.Join(dir, "server.properties")
	if err := os.WriteFile(path, []byte(props), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, clustertest.Binary(t), "serve", "--config", path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var accepted atomic.Int64
	go func() {
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		for {
			select {
			case <-exited:
				return
			default:
			}
			if c, err := net.DialTimeout("tcp", addr, 50*time.Millisecond); err == nil {
				c.Close()
				if accepted.Add(1) == 1 && stopOnAccept {
					_ = cmd.Process.Kill()
				}
			}
			time.Sleep(time.Millisecond)
		}
	}()
	run.err = cmd.Wait()
	close(exited)
	if ctx.Err() != nil {
		t.Fatalf("samsa serve did not exit within a minute; stderr:\n%s", stderr.String())
	}
	run.stderr, run.accepted = stderr.String(), accepted.Load()
	return run
}

// A server.properties that sets a protecting setting Samsa does not
// implement (authorization, TLS, SASL, quotas, connection limits) stops
// start-up: samsa serve exits non-zero, names the setting on stderr, and
// never opens its listener nor its data directory. A harmless config in
// the same harness does start and accept a connection.
func TestConfigUnimplementedProtectionRefusesToStart(t *testing.T) {
	base := "node.id=1\nlog.dirs={data}\nlisteners=PLAINTEXT://127.0.0.1:{port}\n"
	cases := map[string]string{
		"sasl.kerberos.service.name":        "sasl.kerberos.service.name=kafka\n",
		"sasl.login.callback.handler.class": "sasl.login.callback.handler.class=com.example.Logins\n",
		"principal.builder.class":           "principal.builder.class=com.example.Principals\n",
		"delegation.token.secret.key":       "delegation.token.secret.key=s3cr3t\n",
		"security.inter.broker.protocol":    "security.inter.broker.protocol=SASL_SSL\n",
		"client.quota.callback.class":       "client.quota.callback.class=com.example.Quotas\n",
		"listener.name.x.max.connections":   "listener.name.x.max.connections=100\n",
	}
	for name, extra := range cases {
		t.Run(name, func(t *testing.T) {
			r := cfgServe(t, base+extra, false)
			var exit *exec.ExitError
			if !errors.As(r.err, &exit) || exit.ExitCode() == 0 {
				t.Fatalf("exit %v, want a non-zero exit status; stderr:\n%s", r.err, r.stderr)
			}
			if !strings.Contains(r.stderr, name) {
				t.Errorf("stderr does not name %s:\n%s", name, r.stderr)
			}
			if !strings.Contains(r.stderr, "not implemented") {
				t.Errorf("stderr does not say the setting is not implemented:\n%s", r.stderr)
			}
			if r.accepted != 0 {
				t.Errorf("its listener accepted %d connections", r.accepted)
			}
			if _, err := os.Stat(r.dataDir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the data directory was created (%v)", err)
			}
		})
	}
	// Implemented protections that are set up wrong stop start-up too,
	// with an error naming what is missing.
	misconfigured := map[string]string{
		"keystore":                "listeners=PLAINTEXT://127.0.0.1:{port},SSL://127.0.0.1:0\n",
		"sasl.enabled.mechanisms": "listeners=PLAINTEXT://127.0.0.1:{port},SASL_PLAINTEXT://127.0.0.1:0\n",
		"PLAIN sends passwords":   "listeners=PLAINTEXT://127.0.0.1:{port},SASL_PLAINTEXT://127.0.0.1:0\nsasl.enabled.mechanisms=PLAIN\nlistener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_a=\"b\";\n",
		"authorizer":              "authorizer.class.name=kafka.security.authorizer.AclAuthorizer\n",
		"default GSSAPI":          "listeners=PLAINTEXT://127.0.0.1:{port},INTERNAL://127.0.0.1:0\nlistener.security.protocol.map=PLAINTEXT:PLAINTEXT,INTERNAL:SASL_PLAINTEXT\ninter.broker.listener.name=INTERNAL\nsasl.enabled.mechanisms=SCRAM-SHA-512\n",
	}
	for want, extra := range misconfigured {
		t.Run("misconfigured "+want, func(t *testing.T) {
			r := cfgServe(t, base+extra, false)
			var exit *exec.ExitError
			if !errors.As(r.err, &exit) || exit.ExitCode() == 0 || !strings.Contains(r.stderr, want) {
				t.Fatalf("exit %v, want a non-zero exit naming %q; stderr:\n%s", r.err, want, r.stderr)
			}
			if r.accepted != 0 {
				t.Errorf("its listener accepted %d connections", r.accepted)
			}
		})
	}
	t.Run("control", func(t *testing.T) {
		r := cfgServe(t, base+"replication.quota.window.num=11\n", true)
		if r.accepted == 0 {
			t.Fatalf("a harmless config did not serve: %v; stderr:\n%s", r.err, r.stderr)
		}
	})
}
