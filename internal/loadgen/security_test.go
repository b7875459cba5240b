package loadgen

import (
	"crypto/tls"
	"testing"
)

func TestSecurity(t *testing.T) {
	m, err := SCRAM("scram-sha-512", "bench", "bench-secret")
	if err != nil || m.Name() != "SCRAM-SHA-512" {
		t.Fatalf("SCRAM-SHA-512: %v %v", m, err)
	}
	if m, err := SCRAM("SCRAM-SHA-256", "bench", "pw"); err != nil || m.Name() != "SCRAM-SHA-256" {
		t.Fatalf("SCRAM-SHA-256: %v %v", m, err)
	}
	if _, err := SCRAM("PLAIN", "bench", "pw"); err == nil || err.Error() != `invalid SASL mechanism "PLAIN": want SCRAM-SHA-256 or SCRAM-SHA-512` {
		t.Fatalf("PLAIN: %v", err)
	}
	if _, err := SCRAM("SCRAM-SHA-512", "bench", ""); err == nil {
		t.Fatal("an empty password was accepted")
	}
	c := Defaults(Produce)
	tc := &tls.Config{MinVersion: tls.VersionTLS13}
	for _, tt := range []struct {
		tls   *tls.Config
		sasl  bool
		proto string
		opts  int
	}{{nil, false, "PLAINTEXT", 0}, {tc, false, "SSL", 1}, {nil, true, "SASL_PLAINTEXT", 1}, {tc, true, "SASL_SSL", 2}} {
		c.TLS, c.SASL = tt.tls, nil
		if tt.sasl {
			c.SASL = m
		}
		if got := c.SecurityProtocol(); got != tt.proto {
			t.Errorf("SecurityProtocol = %s, want %s", got, tt.proto)
		}
		if got := len(c.securityOpts()); got != tt.opts {
			t.Errorf("%s: %d client options, want %d", tt.proto, got, tt.opts)
		}
		s := c.summary(6)
		if s["security_protocol"] != tt.proto || (tt.sasl != (s["sasl_mechanism"] == "SCRAM-SHA-512")) {
			t.Errorf("%s: summary %v", tt.proto, s)
		}
	}
}
