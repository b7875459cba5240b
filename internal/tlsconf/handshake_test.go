package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/tlsconf/tlstest"
)

// served is what the server side saw of one connection.
type served struct {
	principal Principal
	err       error
	state     tls.ConnectionState
}

// serve runs a TLS listener on 127.0.0.1 for r; each connection's result
// arrives on the channel. The server writes "ok" after the handshake.
func serve(t *testing.T, r *Reloader) (string, <-chan served) {
	t.Helper()
	cfg, err := r.ServerConfig()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	results := make(chan served, 64)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				tc := c.(*tls.Conn)
				_ = tc.SetDeadline(time.Now().Add(10 * time.Second))
				var s served
				if s.err = tc.Handshake(); s.err == nil {
					s.state = tc.ConnectionState()
					s.principal, s.err = r.Principal(s.state)
					_, _ = tc.Write([]byte("ok"))
				}
				results <- s
			}()
		}
	}()
	return ln.Addr().String(), results
}

// dial connects with cfg and reads the server's "ok" (with TLS 1.3 a
// refused client certificate shows only then).
func dial(t *testing.T, addr string, cfg *tls.Config) (tls.ConnectionState, error) {
	t.Helper()
	c, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 2)
	if _, err := io.ReadFull(c, buf); err != nil {
		return tls.ConnectionState{}, err
	}
	return c.ConnectionState(), nil
}

// result waits for the server's side of a connection.
func result(t *testing.T, results <-chan served) served {
	t.Helper()
	select {
	case s := <-results:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("no connection served")
	}
	return served{}
}

func newReloader(t *testing.T, props map[string]string, listener string) *Reloader {
	t.Helper()
	cfg, err := FromProperties(props, listener)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewReloader(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func pool(certs ...*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p
}

func with(props map[string]string, kv ...string) map[string]string {
	out := maps.Clone(props)
	for i := 0; i < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

var alice = pkix.Name{CommonName: "alice", OrganizationalUnit: []string{"eng"}, Organization: []string{"Example"}, Country: []string{"US"}}

func TestHandshakeKeystoreFile(t *testing.T) {
	f := tlstest.WriteFiles(t, t.TempDir(), alice)
	addr, results := serve(t, newReloader(t, f.ServerProperties(), "SSL"))
	state, err := dial(t, addr, &tls.Config{RootCAs: pool(f.CA.Cert), ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	if len(state.PeerCertificates) != 2 || state.PeerCertificates[0].SerialNumber.Cmp(f.Server.Cert.SerialNumber) != 0 ||
		!state.PeerCertificates[1].Equal(f.CA.Cert) {
		t.Errorf("the server sent %d certificates, not its chain", len(state.PeerCertificates))
	}
	if s := result(t, results); s.err != nil || s.principal.String() != "User:ANONYMOUS" {
		t.Errorf("server: %v, %v", s.principal, s.err)
	}

	// The client side of tlsconf, from a Kafka client's settings.
	client := newReloader(t, f.ClientProperties(), "")
	if _, err := dial(t, addr, client.ClientConfig("127.0.0.1")); err != nil {
		t.Errorf("tlsconf client: %v", err)
	}
	result(t, results)
}

func TestHandshakeInline(t *testing.T) {
	ca := tlstest.NewCA(t, "CA")
	server := ca.Server(t)
	oneLine := func(s string) string { return strings.ReplaceAll(strings.TrimSpace(s), "\n", " ") }
	for name, conv := range map[string]func(string) string{"newlines": strings.Clone, "one line": oneLine} {
		t.Run(name, func(t *testing.T) {
			r := newReloader(t, map[string]string{
				"ssl.keystore.type": "PEM", "ssl.keystore.key": conv(server.KeyPEM),
				"ssl.keystore.certificate.chain": conv(server.ChainPEM),
				"ssl.truststore.type":            "PEM", "ssl.truststore.certificates": conv(ca.CertPEM),
				"ssl.client.auth": "required",
			}, "SSL")
			addr, results := serve(t, r)
			client := ca.Client(t, alice)
			cert := tls.Certificate{Certificate: [][]byte{client.Cert.Raw}, PrivateKey: client.Key}
			if _, err := dial(t, addr, &tls.Config{RootCAs: pool(ca.Cert), ServerName: "localhost", Certificates: []tls.Certificate{cert}}); err != nil {
				t.Fatal(err)
			}
			if s := result(t, results); s.err != nil || s.principal.String() != "User:CN=alice,OU=eng,O=Example,C=US" {
				t.Errorf("server: %v, %v", s.principal, s.err)
			}
			if err := r.Reload(); err != nil {
				t.Errorf("Reload of inline material: %v", err)
			}
		})
	}
}

// clientCert is leaf's key and chain for a Go client.
func clientCert(leaf *tlstest.Leaf) []tls.Certificate {
	return []tls.Certificate{{Certificate: [][]byte{leaf.Cert.Raw, leaf.CA.Cert.Raw}, PrivateKey: leaf.Key}}
}

func TestHandshakeClientAuth(t *testing.T) {
	f := tlstest.WriteFiles(t, t.TempDir(), alice)
	stranger := tlstest.NewCA(t, "Other CA").Client(t, alice)
	base := &tls.Config{RootCAs: pool(f.CA.Cert), ServerName: "localhost"}
	withCert := func(leaf *tlstest.Leaf) *tls.Config {
		c := base.Clone()
		// Sent even if the server names other CAs (Go's client would
		// then send none).
		c.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return &clientCert(leaf)[0], nil
		}
		return c
	}
	for _, c := range []struct {
		auth                          string
		none, trusted, untrusted      bool // handshake succeeds
		nonePrincipal, trustPrincipal string
	}{
		{"required", false, true, false, "", "User:CN=alice,OU=eng,O=Example,C=US"},
		{"requested", true, true, false, "User:ANONYMOUS", "User:CN=alice,OU=eng,O=Example,C=US"},
		{"none", true, true, true, "User:ANONYMOUS", "User:ANONYMOUS"},
	} {
		t.Run(c.auth, func(t *testing.T) {
			addr, results := serve(t, newReloader(t, with(f.ServerProperties(), "ssl.client.auth", c.auth), "SSL"))
			check := func(what string, cfg *tls.Config, ok bool, principal string) {
				_, err := dial(t, addr, cfg)
				s := result(t, results)
				if ok != (err == nil) || ok != (s.err == nil) {
					t.Errorf("%s: client %v, server %v; want success %v", what, err, s.err, ok)
				} else if ok && s.principal.String() != principal {
					t.Errorf("%s: principal %v, want %s", what, s.principal, principal)
				}
			}
			check("no certificate", base, c.none, c.nonePrincipal)
			check("trusted certificate", withCert(f.Client), c.trusted, c.trustPrincipal)
			check("untrusted certificate", withCert(stranger), c.untrusted, "User:ANONYMOUS")
		})
	}
}

func TestHandshakeMappingRules(t *testing.T) {
	f := tlstest.WriteFiles(t, t.TempDir(), alice)
	ca := f.CA
	svc := ca.Client(t, pkix.Name{CommonName: "Duke", OrganizationalUnit: []string{"ServiceUsers"}, Organization: []string{"Org"}, Country: []string{"US"}})
	odd := ca.Client(t, pkix.Name{CommonName: "x", Organization: []string{"Acme, Inc."}})
	rules := `RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L, RULE:^CN=([^,]*),OU=eng,.*$/$1@eng/U, DEFAULT`
	props := with(f.ServerProperties(), "ssl.client.auth", "required", "listener.name.ssl.ssl.principal.mapping.rules", rules)
	addr, results := serve(t, newReloader(t, props, "SSL"))
	for leaf, want := range map[*tlstest.Leaf]string{
		svc:      "User:duke",
		f.Client: "User:ALICE@ENG",
		odd:      `User:CN=x,O=Acme\, Inc.`,
	} {
		cfg := &tls.Config{RootCAs: pool(ca.Cert), ServerName: "localhost", Certificates: clientCert(leaf)}
		if _, err := dial(t, addr, cfg); err != nil {
			t.Fatal(err)
		}
		if s := result(t, results); s.err != nil || s.principal.String() != want {
			t.Errorf("%v, %v; want %s", s.principal, s.err, want)
		}
	}

	// No rule applies: the principal is refused.
	strict := with(props, "listener.name.ssl.ssl.principal.mapping.rules", "RULE:^CN=admin$/admin/")
	addr, results = serve(t, newReloader(t, strict, "SSL"))
	if _, err := dial(t, addr, &tls.Config{RootCAs: pool(ca.Cert), ServerName: "localhost", Certificates: clientCert(f.Client)}); err != nil {
		t.Fatal(err)
	}
	if s := result(t, results); !errors.Is(s.err, ErrNoMatchingRule) {
		t.Errorf("no rule applies: %v, %v", s.principal, s.err)
	}
}

func TestHandshakeVersionsAndSuites(t *testing.T) {
	f := tlstest.WriteFiles(t, t.TempDir(), alice)
	client := &tls.Config{RootCAs: pool(f.CA.Cert), ServerName: "localhost"}
	for _, c := range []struct {
		props   []string
		version uint16
		suite   uint16
	}{
		{nil, tls.VersionTLS13, 0},
		{[]string{"ssl.protocol", "TLSv1.2"}, tls.VersionTLS12, 0},
		{[]string{"ssl.enabled.protocols", "TLSv1.2"}, tls.VersionTLS12, 0},
		{[]string{"ssl.cipher.suites", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"}, tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384},
		{[]string{"ssl.cipher.suites", "TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384,TLS_CHACHA20_POLY1305_SHA256"}, tls.VersionTLS13, 0},
	} {
		addr, results := serve(t, newReloader(t, with(f.ServerProperties(), c.props...), "SSL"))
		state, err := dial(t, addr, client)
		result(t, results)
		if err != nil || state.Version != c.version || (c.suite != 0 && state.CipherSuite != c.suite) {
			t.Errorf("%v: version %x suite %s, %v", c.props, state.Version, tls.CipherSuiteName(state.CipherSuite), err)
		}
	}
}

func TestClientHostnameVerification(t *testing.T) {
	f := tlstest.WriteFiles(t, t.TempDir(), alice)
	addr, results := serve(t, newReloader(t, f.ServerProperties(), "SSL"))
	trust := map[string]string{"ssl.truststore.type": "PEM", "ssl.truststore.location": f.CAFile}
	verify := newReloader(t, trust, "")
	skip := newReloader(t, with(trust, "ssl.endpoint.identification.algorithm", ""), "")
	other := tlstest.NewCA(t, "Other CA")
	untrusted := newReloader(t, map[string]string{"ssl.truststore.type": "PEM", "ssl.truststore.certificates": other.CertPEM,
		"ssl.endpoint.identification.algorithm": ""}, "")
	for _, c := range []struct {
		r      *Reloader
		server string
		ok     bool
	}{
		{verify, "localhost", true},
		{verify, "127.0.0.1", true},
		{verify, "kafka.example.com", false},
		{skip, "kafka.example.com", true},
		{untrusted, "localhost", false}, // the chain is still verified
	} {
		_, err := dial(t, addr, c.r.ClientConfig(c.server))
		if (err == nil) != c.ok {
			t.Errorf("%s (skip=%v): %v", c.server, c.r.cfg.SkipHostnameVerification, err)
		}
		if err == nil {
			result(t, results)
		}
	}
}
