package tlsconf

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/tlsconf/tlstest"
)

// opensslClient runs openssl s_client against addr and returns its output.
func opensslClient(t *testing.T, addr string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	args = append([]string{"s_client", "-connect", addr, "-servername", "localhost", "-verify_hostname", "localhost",
		"-verify_return_error", "-showcerts"}, args...)
	out, err := exec.CommandContext(ctx, "openssl", args...).CombinedOutput()
	if err != nil {
		t.Logf("openssl %s: %v", strings.Join(args, " "), err)
	}
	return string(out)
}

// A non-Go client (OpenSSL) handshakes, verifies the chain and host name,
// and presents a client certificate that maps to a principal.
func TestOpenSSLClient(t *testing.T) {
	f := tlstest.WriteFiles(t, t.TempDir(), alice)
	props := with(f.ServerProperties(), "ssl.client.auth", "required", "ssl.principal.mapping.rules", "RULE:^CN=([^,]*),.*$/$1/")
	addr, results := serve(t, newReloader(t, props, "SSL"))

	out := opensslClient(t, addr, "-CAfile", f.CAFile, "-cert", f.ClientCertFile, "-key", f.ClientKeyFile)
	if !strings.Contains(out, "Verify return code: 0 (ok)") || strings.Count(out, "-----BEGIN CERTIFICATE-----") != 2 {
		t.Errorf("openssl did not verify the server's chain of 2:\n%s", out)
	}
	if s := result(t, results); s.err != nil || s.principal.String() != "User:alice" {
		t.Errorf("server: %v, %v", s.principal, s.err)
	}

	// Without a client certificate the server refuses the handshake.
	opensslClient(t, addr, "-CAfile", f.CAFile)
	if s := result(t, results); s.err == nil {
		t.Errorf("no client certificate accepted: %v", s.principal)
	}
}
