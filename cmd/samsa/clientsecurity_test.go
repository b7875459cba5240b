package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/sasl"
)

// testCA is a throwaway certificate authority.
type testCA struct {
	cert  *x509.Certificate
	key   *ecdsa.PrivateKey
	pem   string
	files string // directory for the PEM files tests write
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "samsa test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key, pem: pemText("CERTIFICATE", der), files: t.TempDir()}
}

// issue signs a leaf for dnsName (server) or a client certificate; it
// returns the certificate and key as PEM.
func (ca *testCA) issue(t *testing.T, dnsName string, client bool) (certPEM, keyPEM string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	usage := x509.ExtKeyUsageServerAuth
	if client {
		usage = x509.ExtKeyUsageClientAuth
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: dnsName},
		DNSNames: []string{dnsName}, IPAddresses: ipSANs(dnsName), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pemText("CERTIFICATE", der), pemText("PRIVATE KEY", kder)
}

// ipSANs is name as an IP address SAN, if it is one.
func ipSANs(name string) []net.IP {
	if ip := net.ParseIP(name); ip != nil {
		return []net.IP{ip}
	}
	return nil
}

// file writes text to a new file and returns its path.
func (ca *testCA) file(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(ca.files, name)
	writeFile(t, p, text)
	return p
}

func pemText(typ string, der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

// configOf builds a clientConfig from -X style pairs.
func configOf(t *testing.T, pairs ...string) *clientConfig {
	t.Helper()
	c := newClientConfig()
	for _, p := range pairs {
		k, v, _ := strings.Cut(p, "=")
		if err := c.set(k, v, "-X"); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// firstMessage is what the mechanism sends first: it shows the credentials.
func firstMessage(t *testing.T, m sasl.Mechanism) string {
	t.Helper()
	_, msg, err := m.Authenticate(context.Background(), "h:1")
	if err != nil {
		t.Fatal(err)
	}
	return string(msg)
}

var testNow = time.Unix(1700000000, 0)

func TestResolveSecurityPlaintextByDefault(t *testing.T) {
	s, err := resolveSecurity(newClientConfig(), testNow)
	if err != nil || s.protocol != protoPlaintext || s.tls != nil || s.sasl != nil || len(s.opts()) != 0 {
		t.Fatalf("no settings = %+v, %v; want plaintext with no options", s, err)
	}
	s, err = resolveSecurity(configOf(t, "security.protocol=plaintext"), testNow)
	if err != nil || len(s.opts()) != 0 {
		t.Fatalf("PLAINTEXT = %+v, %v", s, err)
	}
}

func TestResolveSecuritySASL(t *testing.T) {
	const plainJAAS = `sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="alice" password="s3cret";`
	const scramJAAS = `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="bob" password="pw" tokenauth="true";`
	cases := []struct {
		name      string
		pairs     []string
		mechanism string
		first     string // prefix of the first message
	}{
		{"PLAIN from JAAS", []string{"security.protocol=SASL_PLAINTEXT", "sasl.mechanism=PLAIN", plainJAAS}, "PLAIN", "\x00alice\x00s3cret"},
		{"PLAIN from librdkafka", []string{"security.protocol=sasl_plaintext", "sasl.mechanisms=plain", "sasl.username=carol", "sasl.password=pw"}, "PLAIN", "\x00carol\x00pw"},
		{"SCRAM-SHA-256", []string{"security.protocol=SASL_PLAINTEXT", "sasl.mechanism=SCRAM-SHA-256", "sasl.username=dave", "sasl.password=pw"}, "SCRAM-SHA-256", "n,,n=dave,r="},
		{"SCRAM-SHA-512 token", []string{"security.protocol=SASL_PLAINTEXT", "sasl.mechanism=SCRAM-SHA-512", scramJAAS}, "SCRAM-SHA-512", "n,,n=bob,r="},
		{"OAUTHBEARER static", []string{"security.protocol=SASL_PLAINTEXT", "sasl.mechanism=OAUTHBEARER", "sasl.oauthbearer.token=tok.en.x"}, "OAUTHBEARER", "n,,\x01auth=Bearer tok.en.x\x01\x01"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := resolveSecurity(configOf(t, tc.pairs...), testNow)
			if err != nil {
				t.Fatal(err)
			}
			if s.tls != nil || s.sasl == nil || s.sasl.Name() != tc.mechanism || len(s.opts()) != 1 {
				t.Fatalf("security = %+v", s)
			}
			if got := firstMessage(t, s.sasl); !strings.HasPrefix(got, tc.first) {
				t.Fatalf("first message %q, want prefix %q", got, tc.first)
			}
		})
	}
	s, err := resolveSecurity(configOf(t, "security.protocol=SASL_PLAINTEXT", "sasl.mechanism=SCRAM-SHA-512", scramJAAS), testNow)
	if err != nil || !strings.HasSuffix(firstMessage(t, s.sasl), ",tokenauth=true") {
		t.Fatalf("tokenauth=true not honoured: %v", err)
	}
}

func TestUnsecuredOAuthBearerJWS(t *testing.T) {
	jaas := `sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required ` +
		`unsecuredLoginStringClaim_sub="alice" unsecuredLoginNumberClaim_level="3" unsecuredLoginListClaim_scope=",read,,write" ` +
		`unsecuredLoginLifetimeSeconds="60" unsecuredLoginExtension_traceId="abc";`
	s, err := resolveSecurity(configOf(t, "security.protocol=SASL_SSL", "sasl.mechanism=OAUTHBEARER", jaas), testNow)
	if err != nil {
		t.Fatal(err)
	}
	if s.tls == nil || s.sasl.Name() != "OAUTHBEARER" {
		t.Fatalf("security = %+v", s)
	}
	msg := firstMessage(t, s.sasl)
	token, ext, ok := strings.Cut(strings.TrimPrefix(msg, "n,,\x01auth=Bearer "), "\x01")
	if !ok || ext != "traceId=abc\x01\x01" {
		t.Fatalf("first message %q", msg)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 || parts[2] != "" {
		t.Fatalf("token %q is not an unsigned JWS", token)
	}
	header, _ := base64.RawURLEncoding.DecodeString(parts[0])
	body, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if string(header) != `{"alg":"none"}` {
		t.Fatalf("header %s", header)
	}
	var claims map[string]any
	if err := json.Unmarshal(body, &claims); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"sub": "alice", "level": 3.0, "scope": []any{"read", "write"}, "iat": 1700000000.0, "exp": 1700000060.0}
	if len(claims) != len(want) {
		t.Fatalf("claims %v, want %v", claims, want)
	}
	for k, v := range want {
		if got, _ := json.Marshal(claims[k]); string(got) != mustJSON(t, v) {
			t.Errorf("claim %s = %s, want %s", k, got, mustJSON(t, v))
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestResolveSecurityErrors(t *testing.T) {
	ca := newTestCA(t)
	cert, key := ca.issue(t, "client", true)
	caFile := ca.file(t, "ca.pem", ca.pem)
	certFile, keyFile := ca.file(t, "client.pem", cert), ca.file(t, "client.key", key)
	notPEM := ca.file(t, "store.jks", "\xfe\xed\xfe\xed binary")
	encKey := ca.file(t, "enc.key", "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n")
	const sp, ssl = "security.protocol=SASL_PLAINTEXT", "security.protocol=SSL"
	plainJAAS := func(opts string) string {
		return "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required " + opts + ";"
	}
	cases := []struct {
		pairs []string
		want  string
	}{
		{[]string{"security.protocol=TLS"}, `invalid security.protocol (-X): "TLS": want PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL`},
		{[]string{"ssl.ca.location=" + caFile}, "ssl.ca.location is set (-X) but security.protocol is PLAINTEXT, which does not use TLS: set security.protocol=SSL or SASL_SSL"},
		{[]string{sp, "sasl.mechanism=PLAIN", "sasl.username=u", "sasl.password=p4ss", "ssl.endpoint.identification.algorithm="}, "ssl.endpoint.identification.algorithm is set (-X) but security.protocol is SASL_PLAINTEXT, which does not use TLS: set security.protocol=SSL or SASL_SSL"},
		{[]string{"sasl.mechanism=PLAIN"}, "sasl.mechanism is set (-X) but security.protocol is PLAINTEXT, which does not use SASL: set security.protocol=SASL_PLAINTEXT or SASL_SSL"},
		{[]string{ssl, "sasl.password=p4ss"}, "sasl.password is set (-X) but security.protocol is SSL, which does not use SASL: set security.protocol=SASL_PLAINTEXT or SASL_SSL"},
		{[]string{sp}, "security.protocol SASL_PLAINTEXT needs sasl.mechanism: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER"},
		{[]string{sp, "sasl.mechanism=GSSAPI"}, "invalid sasl.mechanism (-X): GSSAPI (Kerberos) is not supported: want PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER"},
		{[]string{sp, "sasl.mechanism=SCRAM-SHA-1"}, `invalid sasl.mechanism (-X): "SCRAM-SHA-1": want PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER`},
		{[]string{sp, "sasl.mechanism=PLAIN"}, "sasl.mechanism PLAIN needs credentials: sasl.jaas.config, or sasl.username and sasl.password"},
		{[]string{sp, "sasl.mechanism=PLAIN", "sasl.username=u"}, "sasl.username is set without sasl.password: give both"},
		{[]string{sp, "sasl.mechanism=PLAIN", "sasl.username=", "sasl.password=p4ss"}, "sasl.mechanism PLAIN needs a non-empty username and password"},
		{[]string{sp, "sasl.mechanism=PLAIN", plainJAAS(`username="u" password="p4ss"`), "sasl.username=u"}, "both sasl.jaas.config and sasl.username give credentials: give one"},
		{[]string{sp, "sasl.mechanism=PLAIN", plainJAAS(`username="u"`)}, "invalid sasl.jaas.config (-X): no password option"},
		{[]string{sp, "sasl.mechanism=PLAIN", plainJAAS(`username="u" password="p4ss" user_admin="p4ss"`)}, "invalid sasl.jaas.config (-X): option user_admin of org.apache.kafka.common.security.plain.PlainLoginModule is not understood"},
		{[]string{sp, "sasl.mechanism=SCRAM-SHA-256", plainJAAS(`username="u" password="p4ss"`)}, "invalid sasl.jaas.config (-X): login module org.apache.kafka.common.security.plain.PlainLoginModule does not fit the mechanism: want org.apache.kafka.common.security.scram.ScramLoginModule"},
		{[]string{sp, "sasl.mechanism=PLAIN", `sasl.jaas.config=PlainLoginModule required password="p4ss`}, "invalid sasl.jaas.config (-X): a quoted value is not closed"},
		{[]string{sp, "sasl.mechanism=PLAIN", "sasl.username=u", "sasl.password=p4ss", "sasl.oauthbearer.token=p4ss"}, "sasl.oauthbearer.token is set (-X) but sasl.mechanism is PLAIN: it needs OAUTHBEARER"},
		{[]string{sp, "sasl.mechanism=OAUTHBEARER"}, "sasl.mechanism OAUTHBEARER needs a token: sasl.oauthbearer.token, or sasl.jaas.config with OAuthBearerLoginModule's unsecuredLoginStringClaim_sub (token endpoints are not supported)"},
		{[]string{sp, "sasl.mechanism=OAUTHBEARER", "sasl.oauthbearer.token= "}, "invalid sasl.oauthbearer.token (-X): empty"},
		{[]string{sp, "sasl.mechanism=OAUTHBEARER", "sasl.username=u"}, "sasl.username is set (-X) but sasl.mechanism is OAUTHBEARER, which takes a token: use sasl.oauthbearer.token"},
		{[]string{sp, "sasl.mechanism=OAUTHBEARER", "sasl.oauthbearer.token=p4ss", `sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="a";`}, "both sasl.oauthbearer.token and sasl.jaas.config's unsecuredLoginStringClaim_ options give a token: give one"},
		{[]string{sp, "sasl.mechanism=OAUTHBEARER", `sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId="x" clientSecret="p4ss";`}, "invalid sasl.jaas.config (-X): option clientId of OAuthBearerLoginModule is not understood (samsa takes a static token or unsecuredLogin* options; token endpoints are not supported)"},
		{[]string{sp, "sasl.mechanism=OAUTHBEARER", `sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_name="a";`}, `invalid sasl.jaas.config (-X): no principal: give unsecuredLoginStringClaim_sub="NAME"`},
		{[]string{sp, "sasl.mechanism=OAUTHBEARER", `sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="a" unsecuredLoginNumberClaim_exp="1";`}, "invalid sasl.jaas.config (-X): option unsecuredLoginNumberClaim_exp: claim exp is set by samsa"},
		{[]string{sp, "sasl.mechanism=OAUTHBEARER", `sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="a" unsecuredLoginLifetimeSeconds="0";`}, "invalid sasl.jaas.config (-X): option unsecuredLoginLifetimeSeconds: want a positive number of seconds"},
		{[]string{sp, "sasl.mechanism=OAUTHBEARER", `sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="a" unsecuredLoginExtension_auth="x";`}, `invalid sasl.jaas.config (-X): option unsecuredLoginExtension_auth: an extension name is letters only and not "auth"`},
		{[]string{ssl, "ssl.truststore.type=JKS", "ssl.truststore.location=" + notPEM}, `invalid ssl.truststore.type (-X): "JKS": want PEM (samsa reads PEM files only; convert JKS or PKCS12 stores with keytool or openssl)`},
		{[]string{ssl, "ssl.truststore.location=" + notPEM}, "invalid ssl.truststore.location (-X): " + notPEM + " holds no PEM certificate (samsa reads PEM only: ssl.truststore.type=PEM)"},
		{[]string{ssl, "ssl.truststore.location=" + caFile, "ssl.truststore.password=p4ss"}, "invalid ssl.truststore.password (-X): samsa reads PEM stores, which have no store password; remove it"},
		{[]string{ssl, "ssl.key.password=p4ss"}, "invalid ssl.key.password (-X): encrypted private keys are not supported; give an unencrypted PEM key (openssl pkey -in key.pem -out plain.pem)"},
		{[]string{ssl, "ssl.truststore.location=" + caFile, "ssl.ca.location=" + caFile}, "ssl.truststore.location and ssl.ca.location both name trusted certificates: give one"},
		{[]string{ssl, "ssl.ca.location=" + filepath.Join(ca.files, "missing.pem")}, "cannot read ssl.ca.location (-X): open " + filepath.Join(ca.files, "missing.pem") + ": no such file or directory"},
		{[]string{ssl, "ssl.endpoint.identification.algorithm=dns"}, `invalid ssl.endpoint.identification.algorithm (-X): "dns": want https, or empty to skip hostname verification`},
		{[]string{ssl, "ssl.enabled.protocols=TLSv1.1,TLSv1.2"}, `invalid ssl.enabled.protocols (-X): "TLSv1.1,TLSv1.2": want TLSv1.2, TLSv1.3 or both, comma separated (older versions are not supported)`},
		{[]string{ssl, "ssl.enabled.protocols= , "}, `invalid ssl.enabled.protocols (-X): " , ": want TLSv1.2, TLSv1.3 or both, comma separated`},
		{[]string{ssl, "ssl.certificate.location=" + certFile}, "ssl.certificate.location is set (-X) without ssl.key.location: give both"},
		{[]string{ssl, "ssl.certificate.location=" + certFile, "ssl.key.location=" + keyFile, "ssl.keystore.location=" + certFile}, "ssl.keystore.location and ssl.certificate.location both give a client certificate: give one"},
		{[]string{ssl, "ssl.certificate.location=" + certFile, "ssl.key.location=" + encKey}, "invalid ssl.key.location (-X): " + encKey + " holds an encrypted private key, which is not supported; decrypt it (openssl pkey -in key.pem -out plain.pem)"},
		{[]string{ssl, "ssl.keystore.location=" + certFile}, "invalid ssl.keystore.location (-X): " + certFile + " holds no PEM private key"},
		{[]string{ssl, "ssl.certificate.location=" + caFile, "ssl.key.location=" + keyFile}, "invalid ssl.certificate.location (-X): cannot load the certificate and key of " + caFile + ": private key does not match public key"},
	}
	for _, tc := range cases {
		_, err := resolveSecurity(configOf(t, tc.pairs...), testNow)
		if err == nil || err.Error() != tc.want {
			t.Errorf("resolveSecurity(%q)\n error = %v\n  want %q", tc.pairs, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "p4ss") {
			t.Errorf("resolveSecurity(%q) error shows a secret: %v", tc.pairs, err)
		}
	}
}

// tlsServer accepts TLS connections with cert and, if clientCAs is set,
// requires a client certificate; every handshake's result goes to results.
func tlsServer(t *testing.T, cert tls.Certificate, clientCAs *x509.CertPool) (string, <-chan error) {
	t.Helper()
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	if clientCAs != nil {
		cfg.ClientCAs, cfg.ClientAuth = clientCAs, tls.RequireAndVerifyClientCert
	}
	l, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	results := make(chan error, 16)
	go func() { // owned by the test; ends when the listener closes
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			results <- c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	return l.Addr().String(), results
}

// handshake dials addr with the TLS config the settings give, as franz-go
// does (ServerName from the address).
func handshake(t *testing.T, addr string, pairs ...string) error {
	t.Helper()
	s, err := resolveSecurity(configOf(t, append([]string{"security.protocol=SSL"}, pairs...)...), testNow)
	if err != nil {
		t.Fatal(err)
	}
	cfg := s.tls.Clone()
	cfg.ServerName, _, _ = net.SplitHostPort(addr)
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		return err
	}
	c.Close()
	return nil
}

func TestTLSVerification(t *testing.T) {
	ca := newTestCA(t)
	serverCert, serverKey := ca.issue(t, "broker.example", false)
	pair, err := tls.X509KeyPair([]byte(serverCert), []byte(serverKey))
	if err != nil {
		t.Fatal(err)
	}
	addr, _ := tlsServer(t, pair, nil)
	caFile := ca.file(t, "ca.pem", ca.pem)
	other := newTestCA(t)
	otherFile := other.file(t, "other.pem", other.pem)

	// The certificate names broker.example, not 127.0.0.1: the default
	// (https) rejects it; an empty algorithm accepts it, but only if the
	// chain is trusted.
	err = handshake(t, addr, "ssl.truststore.location="+caFile, "ssl.truststore.type=PEM")
	if _, ok := errors.AsType[x509.HostnameError](err); !ok {
		t.Fatalf("default hostname verification: %v", err)
	}
	if got := explainErr(err, addr, time.Second); !strings.Contains(got, "does not name it") {
		t.Errorf("explain = %q", got)
	}
	if err := handshake(t, addr, "ssl.ca.location="+caFile, "ssl.endpoint.identification.algorithm="); err != nil {
		t.Fatalf("without hostname verification: %v", err)
	}
	if err := handshake(t, addr, "ssl.truststore.certificates="+ca.pem, "ssl.endpoint.identification.algorithm=none"); err != nil {
		t.Fatalf("inline truststore: %v", err)
	}
	err = handshake(t, addr, "ssl.ca.location="+otherFile, "ssl.endpoint.identification.algorithm=")
	if err == nil {
		t.Fatal("an untrusted chain was accepted with hostname verification off")
	}
	if got := explainErr(err, addr, time.Second); !strings.Contains(got, "unknown authority") {
		t.Errorf("explain = %q", got)
	}
	err = handshake(t, addr, "ssl.endpoint.identification.algorithm=")
	if got := explainErr(err, addr, time.Second); !strings.Contains(got, "cannot verify the TLS certificate of the broker at "+addr) {
		t.Errorf("system roots: explain = %q", got)
	}
}

// TestTLSEnabledProtocols: ssl.enabled.protocols bounds the versions the
// client offers; TLSv1.3 alone refuses a broker capped at TLS 1.2.
func TestTLSEnabledProtocols(t *testing.T) {
	for _, tc := range []struct {
		value  string
		lo, hi uint16
	}{
		{"", tls.VersionTLS12, tls.VersionTLS13},
		{"TLSv1.3", tls.VersionTLS13, tls.VersionTLS13},
		{"TLSv1.2", tls.VersionTLS12, tls.VersionTLS12},
		{"TLSv1.3, TLSv1.2", tls.VersionTLS12, tls.VersionTLS13},
	} {
		pairs := []string{"security.protocol=SSL"}
		if tc.value != "" {
			pairs = append(pairs, "ssl.enabled.protocols="+tc.value)
		}
		s, err := resolveSecurity(configOf(t, pairs...), testNow)
		if err != nil {
			t.Fatal(err)
		}
		if s.tls.MinVersion != tc.lo || s.tls.MaxVersion != tc.hi {
			t.Errorf("ssl.enabled.protocols=%q: versions %x–%x, want %x–%x", tc.value, s.tls.MinVersion, s.tls.MaxVersion, tc.lo, tc.hi)
		}
	}
	ca := newTestCA(t)
	serverCert, serverKey := ca.issue(t, "127.0.0.1", false)
	pair, err := tls.X509KeyPair([]byte(serverCert), []byte(serverKey))
	if err != nil {
		t.Fatal(err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{pair}, MaxVersion: tls.VersionTLS12}
	l, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() { // ends when the listener closes
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_ = c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	caFile := ca.file(t, "ca.pem", ca.pem)
	if err := handshake(t, l.Addr().String(), "ssl.ca.location="+caFile); err != nil {
		t.Fatalf("default protocols against a TLS 1.2 broker: %v", err)
	}
	if err := handshake(t, l.Addr().String(), "ssl.ca.location="+caFile, "ssl.enabled.protocols=TLSv1.3"); err == nil {
		t.Fatal("TLSv1.3 only: the handshake with a TLS 1.2 broker succeeded")
	}
}

func TestTLSClientCertificates(t *testing.T) {
	ca := newTestCA(t)
	serverCert, serverKey := ca.issue(t, "127.0.0.1", false)
	pair, err := tls.X509KeyPair([]byte(serverCert), []byte(serverKey))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	addr, results := tlsServer(t, pair, pool)
	caFile := ca.file(t, "ca.pem", ca.pem)
	cert, key := ca.issue(t, "alice", true)
	trust := []string{"ssl.truststore.location=" + caFile, "ssl.endpoint.identification.algorithm="}
	for name, pairs := range map[string][]string{
		"keystore PEM":        {"ssl.keystore.location=" + ca.file(t, "keystore.pem", key+cert), "ssl.keystore.type=PEM"},
		"inline keystore":     {"ssl.keystore.certificate.chain=" + cert, "ssl.keystore.key=" + key},
		"librdkafka cert+key": {"ssl.certificate.location=" + ca.file(t, "c.pem", cert), "ssl.key.location=" + ca.file(t, "k.pem", key)},
	} {
		if err := handshake(t, addr, append(pairs, trust...)...); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := <-results; err != nil {
			t.Fatalf("%s: the server saw %v", name, err)
		}
	}
	_ = handshake(t, addr, trust...)
	if err := <-results; err == nil {
		t.Fatal("the server accepted a client without a certificate")
	}
}
