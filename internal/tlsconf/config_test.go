package tlsconf

import (
	"crypto/tls"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/samsa-streaming/samsa/internal/tlsconf/tlstest"
)

func TestFromPropertiesDefaults(t *testing.T) {
	c, err := FromProperties(map[string]string{"log.dirs": "/x", "listener.name.other.ssl.client.auth": "bogus"}, "SSL")
	if err != nil {
		t.Fatal(err)
	}
	if c.KeystoreType != TypeJKS || c.Protocol != "TLSv1.3" || !slices.Equal(c.EnabledProtocols, []string{"TLSv1.2", "TLSv1.3"}) ||
		c.ClientAuth != ClientAuthNone || c.SkipHostnameVerification || c.PrincipalMappingRules != "DEFAULT" || c.HasKeystore() {
		t.Errorf("defaults: %+v", c)
	}
	r, err := NewReloader(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.ServerConfig(); !errors.Is(err, ErrNoKeystore) {
		t.Errorf("ServerConfig without keystore: %v", err)
	}
}

func TestFromPropertiesListenerPrefix(t *testing.T) {
	f := tlstest.WriteFiles(t, t.TempDir(), alice)
	props := with(f.ServerProperties(),
		"ssl.client.auth", "none",
		"listener.name.internal.ssl.client.auth", "required",
		"listener.name.external.ssl.client.auth", "requested",
		"listener.name.internal.ssl.keystore.location", f.ServerKeystore)
	for listener, want := range map[string]ClientAuth{"INTERNAL": ClientAuthRequired, "External": ClientAuthRequested, "PLAIN": ClientAuthNone, "": ClientAuthNone} {
		c, err := FromProperties(props, listener)
		if err != nil || c.ClientAuth != want {
			t.Errorf("%s: %v, %v; want %v", listener, c.ClientAuth, err, want)
		}
	}
	// An error names the setting as written.
	_, err := FromProperties(with(props, "listener.name.internal.ssl.keystore.type", "JKS"), "internal")
	if err == nil || !strings.Contains(err.Error(), "listener.name.internal.ssl.keystore.type") {
		t.Errorf("prefixed error: %v", err)
	}
}

func TestFromPropertiesRefused(t *testing.T) {
	f := tlstest.WriteFiles(t, t.TempDir(), alice)
	server := f.ServerProperties()
	for _, c := range []struct {
		props map[string]string
		says  string
	}{
		{map[string]string{"ssl.keystore.location": f.ServerKeystore}, "JKS"},
		{with(server, "ssl.keystore.type", "JKS"), "ssl.keystore.type"},
		{with(server, "ssl.truststore.type", "jceks"), "not PEM or PKCS12"},
		{with(server, "ssl.keystroe.location", "x"), "ssl.keystroe.location"},
		{with(server, "listener.name.ssl.ssl.foo", "x"), "listener.name.ssl.ssl.foo"},
		{with(server, "ssl.enabled.protocols", "TLSv1.1,TLSv1.2"), "TLSv1.1"},
		{with(server, "ssl.enabled.protocols", ""), "enables no protocol"},
		{with(server, "ssl.enabled.protocols", "TLSv9"), "unknown protocol"},
		{with(server, "ssl.protocol", "SSL"), "refused"},
		{with(server, "ssl.cipher.suites", "TLS_RSA_WITH_AES_128_GCM_SHA256"), "insecure"},
		{with(server, "ssl.cipher.suites", "SSL_RSA_WITH_3DES_EDE_CBC_SHA"), "insecure"},
		{with(server, "ssl.cipher.suites", "TLS_FOO"), "unknown cipher suite"},
		{with(server, "ssl.cipher.suites", "TLS_AES_128_GCM_SHA256"), "TLS 1.3 suites"},
		{with(server, "ssl.cipher.suites", "TLS_AES_128_GCM_SHA256,TLS_AES_256_GCM_SHA384,TLS_CHACHA20_POLY1305_SHA256", "ssl.protocol", "TLSv1.2"), "no enabled protocol"},
		{with(server, "ssl.keystore.password", "x"), "ssl.keystore.password"},
		{with(server, "ssl.truststore.password", "x"), "ssl.truststore.password"},
		{with(server, "ssl.keystore.key", "k", "ssl.keystore.certificate.chain", "c"), "ssl.keystore.location"},
		{map[string]string{"ssl.keystore.type": "PEM", "ssl.keystore.key": "k"}, "ssl.keystore.certificate.chain"},
		{map[string]string{"ssl.keystore.type": "PEM", "ssl.keystore.certificate.chain": "c"}, "ssl.keystore.key"},
		{map[string]string{"ssl.keystore.key": "k", "ssl.keystore.certificate.chain": "c"}, "ssl.keystore.type=PEM"},
		{map[string]string{"ssl.truststore.certificates": "c"}, "ssl.truststore.type=PEM"},
		{map[string]string{"ssl.key.password": "x"}, "without a keystore"},
		{map[string]string{"ssl.keystore.type": "PKCS12", "ssl.keystore.location": f.ServerP12}, "needs its password"},
		{map[string]string{"ssl.client.auth": "required"}, "needs a trust store"},
		{with(server, "ssl.client.auth", "always"), "ssl.client.auth"},
		{with(server, "ssl.endpoint.identification.algorithm", "ldaps"), "https or empty"},
		{with(server, "ssl.principal.mapping.rules", "RULE:x"), "ssl.principal.mapping.rules"},
		{with(server, "ssl.provider", "BC"), "ssl.provider"},
		{with(server, "ssl.engine.factory.class", "com.example.Factory"), "ssl.engine.factory.class"},
		{with(server, "ssl.allow.dn.changes", "yes"), "true or false"},
	} {
		_, err := FromProperties(c.props, "SSL")
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%v: %v; want an ErrInvalid saying %q", c.props, err, c.says)
		}
	}
}

func TestFromPropertiesAccepted(t *testing.T) {
	f := tlstest.WriteFiles(t, t.TempDir(), alice)
	c, err := FromProperties(with(f.ServerProperties(),
		"ssl.keymanager.algorithm", "SunX509", "ssl.trustmanager.algorithm", "PKIX",
		"ssl.secure.random.implementation", "SHA1PRNG", "ssl.provider", "", "ssl.engine.factory.class", " ",
		"ssl.client.auth", " Required ", "ssl.keystore.type", "pem", "ssl.allow.san.changes", "TRUE",
		"ssl.cipher.suites", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_EMPTY_RENEGOTIATION_INFO_SCSV",
	), "SSL")
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.params()
	if err != nil {
		t.Fatal(err)
	}
	if c.ClientAuth != ClientAuthRequired || !c.AllowSANChanges || p.maxVersion != tls.VersionTLS12 ||
		!slices.Equal(p.suites, []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}) {
		t.Errorf("%+v %+v", c, p)
	}
	if _, err := NewReloader(c, nil); err != nil {
		t.Errorf("a lower-case store type: %v", err)
	}
}

// loads reports whether the keystore (and trust store) of props load.
func loads(t *testing.T, props map[string]string) error {
	t.Helper()
	c, err := FromProperties(props, "SSL")
	if err != nil {
		return err
	}
	_, err = NewReloader(c, nil)
	return err
}

func TestKeystoreForms(t *testing.T) {
	dir := t.TempDir()
	f := tlstest.WriteFiles(t, dir, alice)
	ca := f.CA
	rsaLeaf := ca.Issue(t, tlstest.Options{RSA: true, DNSNames: []string{"localhost"}, Server: true})
	file := func(name, text string) string {
		path := filepath.Join(dir, name)
		tlstest.WriteFile(t, path, []byte(text))
		return path
	}
	pem := func(path string, kv ...string) map[string]string {
		return with(map[string]string{"ssl.keystore.type": "PEM", "ssl.keystore.location": path}, kv...)
	}
	encrypted := file("enc.pem", f.Server.EncryptedKeyPEM(t, "secret")+f.Server.ChainPEM)
	for _, c := range []struct {
		name  string
		props map[string]string
		err   string // "" for success
	}{
		{"PKCS#8", pem(f.ServerKeystore), ""},
		{"chain before key", pem(file("rev.pem", f.Server.ChainPEM+f.Server.KeyPEM)), ""},
		{"EC PRIVATE KEY", pem(file("ec.pem", f.Server.LegacyKeyPEM(t)+f.Server.ChainPEM)), ""},
		{"RSA PRIVATE KEY", pem(file("rsa.pem", rsaLeaf.LegacyKeyPEM(t)+rsaLeaf.ChainPEM)), ""},
		{"RSA PKCS#8", pem(file("rsa8.pem", rsaLeaf.KeystorePEM())), ""},
		{"encrypted", pem(encrypted, "ssl.key.password", "secret"), ""},
		{"encrypted, wrong password", pem(encrypted, "ssl.key.password", "wrong"), "incorrect password"},
		{"encrypted, no password", pem(encrypted), "ssl.key.password is not set"},
		{"password for a plain key", pem(f.ServerKeystore, "ssl.key.password", "secret"), "not encrypted"},
		{"inline encrypted", map[string]string{"ssl.keystore.type": "PEM", "ssl.keystore.key": f.Server.EncryptedKeyPEM(t, "pw"),
			"ssl.keystore.certificate.chain": f.Server.ChainPEM, "ssl.key.password": "pw"}, ""},
		{"PKCS12", map[string]string{"ssl.keystore.type": "PKCS12", "ssl.keystore.location": f.ServerP12, "ssl.keystore.password": f.Password}, ""},
		{"PKCS12, wrong password", map[string]string{"ssl.keystore.type": "PKCS12", "ssl.keystore.location": f.ServerP12, "ssl.keystore.password": "x"}, "password"},
		{"PKCS12 trust store", map[string]string{"ssl.truststore.type": "PKCS12", "ssl.truststore.location": f.TruststoreP12, "ssl.truststore.password": f.Password}, ""},
		{"PEM trust store", map[string]string{"ssl.truststore.type": "PEM", "ssl.truststore.location": f.CAFile}, ""},
		{"missing file", pem(filepath.Join(dir, "nope.pem")), "no such file"},
		{"no key", pem(file("nokey.pem", f.Server.ChainPEM)), "no private key"},
		{"two keys", pem(file("twokeys.pem", f.Server.KeyPEM+f.Client.KeystorePEM())), "more than one private key"},
		{"no certificate", pem(file("nocert.pem", f.Server.KeyPEM)), "no CERTIFICATE"},
		{"key of another certificate", pem(file("mismatch.pem", f.Client.KeyPEM+f.Server.ChainPEM)), "not the private key's"},
		{"legacy encrypted PEM", pem(file("legacy.pem", "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n"+f.Server.ChainPEM)), "pkcs8 -topk8"},
		{"unterminated", pem(file("cut.pem", f.Server.KeystorePEM()[:300])), "END"},
		{"bad base64", pem(file("b64.pem", "-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n")), "PRIVATE KEY block"},
		{"empty trust store", map[string]string{"ssl.truststore.type": "PEM", "ssl.truststore.location": file("empty.pem", "")}, "no CERTIFICATE"},
	} {
		err := loads(t, c.props)
		if c.err == "" && err != nil {
			t.Errorf("%s: %v", c.name, err)
		} else if c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
			t.Errorf("%s: %v; want an error saying %q", c.name, err, c.err)
		}
	}
}

// A setting given empty is not defaulted: Kafka reads it as given.
func TestFromPropertiesGivenEmpty(t *testing.T) {
	f := tlstest.WriteFiles(t, t.TempDir(), alice)
	c, err := FromProperties(with(f.ServerProperties(), "ssl.principal.mapping.rules", "", "ssl.client.auth", "required"), "SSL")
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewReloader(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	addr, results := serve(t, r)
	if _, err := dial(t, addr, &tls.Config{RootCAs: pool(f.CA.Cert), ServerName: "localhost", Certificates: clientCert(f.Client)}); err != nil {
		t.Fatal(err)
	}
	if s := result(t, results); !errors.Is(s.err, ErrNoMatchingRule) {
		t.Errorf("no rules: %v, %v", s.principal, s.err)
	}
	if _, err := FromProperties(with(f.ServerProperties(), "ssl.protocol", ""), "SSL"); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty ssl.protocol: %v", err)
	}
}
