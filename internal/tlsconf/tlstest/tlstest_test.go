package tlstest

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"net"
	"os"
	"testing"

	"software.sslmate.com/src/go-pkcs12"
)

func TestWriteFiles(t *testing.T) {
	f := WriteFiles(t, t.TempDir(), pkix.Name{CommonName: "alice", Organization: []string{"Example"}})
	roots := x509.NewCertPool()
	roots.AddCert(f.CA.Cert)
	for _, c := range []struct {
		certFile, keyFile string
		usage             x509.ExtKeyUsage
		name              string
	}{
		{f.ServerKeystore, f.ServerKeystore, x509.ExtKeyUsageServerAuth, "localhost"},
		{f.ServerCertFile, f.ServerKeyFile, x509.ExtKeyUsageServerAuth, "127.0.0.1"},
		{f.ClientKeystore, f.ClientKeystore, x509.ExtKeyUsageClientAuth, ""},
		{f.ClientCertFile, f.ClientKeyFile, x509.ExtKeyUsageClientAuth, ""},
	} {
		pair, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
		if err != nil {
			t.Fatalf("%s: %v", c.certFile, err)
		}
		if len(pair.Certificate) != 2 {
			t.Errorf("%s: %d certificates, want the leaf and the CA", c.certFile, len(pair.Certificate))
		}
		opts := x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{c.usage}, DNSName: c.name}
		if _, err := pair.Leaf.Verify(opts); err != nil {
			t.Errorf("%s: %v", c.certFile, err)
		}
	}
	if !f.Server.Cert.IPAddresses[1].Equal(net.IPv6loopback) || f.Client.Cert.Subject.CommonName != "alice" {
		t.Errorf("server IPs %v, client subject %v", f.Server.Cert.IPAddresses, f.Client.Cert.Subject)
	}
	p12, err := os.ReadFile(f.ServerP12)
	if err != nil {
		t.Fatal(err)
	}
	if _, leaf, cas, err := pkcs12.DecodeChain(p12, f.Password); err != nil || !leaf.Equal(f.Server.Cert) || len(cas) != 1 {
		t.Errorf("server.p12: %v", err)
	}
	trust, err := os.ReadFile(f.TruststoreP12)
	if err != nil {
		t.Fatal(err)
	}
	if certs, err := pkcs12.DecodeTrustStore(trust, f.Password); err != nil || len(certs) != 1 || !certs[0].Equal(f.CA.Cert) {
		t.Errorf("truststore.p12: %v", err)
	}
}
