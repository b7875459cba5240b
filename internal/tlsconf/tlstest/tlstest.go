package tlstest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/youmark/pkcs8"
	"software.sslmate.com/src/go-pkcs12"
)

// CA is a test certificate authority.
type CA struct {
	Cert    *x509.Certificate
	Key     crypto.Signer
	CertPEM string
}

// Leaf is a certificate the CA issued, with its key.
type Leaf struct {
	Cert *x509.Certificate
	Key  crypto.Signer
	// CertPEM is the certificate; ChainPEM the certificate then the CA's.
	CertPEM, ChainPEM string
	// KeyPEM is the key, unencrypted PKCS#8 ("PRIVATE KEY").
	KeyPEM string
	CA     *CA
}

// Options describe a certificate to issue.
type Options struct {
	// Subject is the certificate's subject (empty: CN=tlstest, as Java
	// refuses a certificate with neither subject nor alternative names);
	// RawSubject, if set, is its DER instead (for odd or empty names).
	Subject    pkix.Name
	RawSubject []byte
	DNSNames   []string
	IPs        []net.IP
	// Serial is the serial number; nil: a random one.
	Serial *big.Int
	// RSA asks for an RSA 2048 key instead of ECDSA P-256.
	RSA bool
	// Server and Client are the extended key usages; neither: both.
	Server, Client bool
}

func newKey(t testing.TB, useRSA bool) crypto.Signer {
	t.Helper()
	var key crypto.Signer
	var err error
	if useRSA {
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	} else {
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func serial(t testing.TB) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func certPEM(der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// NewCA makes a self-signed CA named CN=commonName.
func NewCA(t testing.TB, commonName string) *CA {
	t.Helper()
	key := newKey(t, false)
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               pkix.Name{CommonName: commonName},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &CA{Cert: cert, Key: key, CertPEM: certPEM(der)}
}

// Issue makes a certificate signed by ca.
func (ca *CA) Issue(t testing.TB, o Options) *Leaf {
	t.Helper()
	key := newKey(t, o.RSA)
	if o.Serial == nil {
		o.Serial = serial(t)
	}
	if o.RawSubject == nil && len(o.Subject.ToRDNSequence()) == 0 {
		o.Subject = pkix.Name{CommonName: "tlstest"}
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: o.Serial,
		Subject:      o.Subject,
		RawSubject:   o.RawSubject,
		DNSNames:     o.DNSNames,
		IPAddresses:  o.IPs,
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	if o.RSA {
		tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
	}
	if o.Server || !o.Client {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageServerAuth)
	}
	if o.Client || !o.Server {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageClientAuth)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	p8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	leaf := &Leaf{Cert: cert, Key: key, CertPEM: certPEM(der), CA: ca,
		KeyPEM: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8}))}
	leaf.ChainPEM = leaf.CertPEM + ca.CertPEM
	return leaf
}

// ServerOptions are a server certificate's: CN=localhost, for localhost,
// 127.0.0.1 and ::1.
func ServerOptions() Options {
	return Options{
		Subject:  pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"},
		IPs:      []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		Server:   true,
	}
}

// Server issues a server certificate (ServerOptions).
func (ca *CA) Server(t testing.TB) *Leaf {
	t.Helper()
	return ca.Issue(t, ServerOptions())
}

// Client issues a client certificate with subject.
func (ca *CA) Client(t testing.TB, subject pkix.Name) *Leaf {
	t.Helper()
	return ca.Issue(t, Options{Subject: subject, Client: true})
}

// KeystorePEM is the key and the chain in one PEM text.
func (l *Leaf) KeystorePEM() string { return l.KeyPEM + l.ChainPEM }

// EncryptedKeyPEM is the key as encrypted PKCS#8 ("ENCRYPTED PRIVATE
// KEY": PBES2, PBKDF2 with HMAC-SHA256, AES-256-CBC), as openssl pkcs8
// -topk8 writes it. Kafka's Java client reads it on Java 25 but not on
// Java 17 (no PBES2 SecretKeyFactory there).
func (l *Leaf) EncryptedKeyPEM(t testing.TB, password string) string {
	t.Helper()
	der, err := pkcs8.MarshalPrivateKey(l.Key, []byte(password), nil)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: der}))
}

// LegacyKeyPEM is the key as "RSA PRIVATE KEY" (PKCS#1) or "EC PRIVATE
// KEY" (SEC 1).
func (l *Leaf) LegacyKeyPEM(t testing.TB) string {
	t.Helper()
	switch k := l.Key.(type) {
	case *rsa.PrivateKey:
		return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
	case *ecdsa.PrivateKey:
		der, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))
	}
	t.Fatalf("tlstest: no legacy form for a %T", l.Key)
	return ""
}

// PKCS12 is the key and chain as a PKCS#12 keystore (modern encryption:
// AES-256 and HMAC-SHA256, which Java 11.0.12+ and OpenSSL 3 read).
func (l *Leaf) PKCS12(t testing.TB, password string) []byte {
	t.Helper()
	data, err := pkcs12.Modern.Encode(l.Key, l.Cert, []*x509.Certificate{l.CA.Cert}, password)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// PKCS12Truststore is the CA's certificate as a Java PKCS#12 trust store.
func (ca *CA) PKCS12Truststore(t testing.TB, password string) []byte {
	t.Helper()
	data, err := pkcs12.Modern.EncodeTrustStore([]*x509.Certificate{ca.Cert}, password)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// WriteFile writes data to path (mode 0600), replacing it.
func WriteFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// Files are a CA, a server and a client certificate written into Dir.
type Files struct {
	Dir            string
	CA             *CA
	Server, Client *Leaf
	// CAFile is the CA certificate (PEM): ssl.truststore.location with
	// ssl.truststore.type=PEM, librdkafka's ssl.ca.location, openssl -CAfile.
	CAFile string
	// ServerKeystore and ClientKeystore hold key and chain (PEM):
	// ssl.keystore.location with ssl.keystore.type=PEM.
	ServerKeystore, ClientKeystore string
	// The keys (PKCS#8 PEM) and chains (PEM) apart, for clients that read
	// them from two files (librdkafka ssl.key.location and
	// ssl.certificate.location, Python's ssl, openssl -key and -cert).
	ServerKeyFile, ServerCertFile, ClientKeyFile, ClientCertFile string
	// PKCS#12 forms, all with password Password: keystores, and the CA as
	// a Java trust store.
	ServerP12, ClientP12, TruststoreP12 string
	Password                            string
}

// WriteFiles makes a CA, a server certificate (ServerOptions) and a client
// certificate with clientSubject, and writes them into dir.
func WriteFiles(t testing.TB, dir string, clientSubject pkix.Name) *Files {
	t.Helper()
	ca := NewCA(t, "Samsa Test CA")
	f := &Files{Dir: dir, CA: ca, Server: ca.Server(t), Client: ca.Client(t, clientSubject), Password: "test-password"}
	path := func(name string) string { return filepath.Join(dir, name) }
	f.CAFile = path("ca.pem")
	f.ServerKeystore, f.ServerKeyFile, f.ServerCertFile = path("server.keystore.pem"), path("server.key"), path("server.crt")
	f.ClientKeystore, f.ClientKeyFile, f.ClientCertFile = path("client.keystore.pem"), path("client.key"), path("client.crt")
	f.ServerP12, f.ClientP12, f.TruststoreP12 = path("server.p12"), path("client.p12"), path("truststore.p12")
	for file, data := range map[string]string{
		f.CAFile:         ca.CertPEM,
		f.ServerKeystore: f.Server.KeystorePEM(), f.ServerKeyFile: f.Server.KeyPEM, f.ServerCertFile: f.Server.ChainPEM,
		f.ClientKeystore: f.Client.KeystorePEM(), f.ClientKeyFile: f.Client.KeyPEM, f.ClientCertFile: f.Client.ChainPEM,
	} {
		WriteFile(t, file, []byte(data))
	}
	WriteFile(t, f.ServerP12, f.Server.PKCS12(t, f.Password))
	WriteFile(t, f.ClientP12, f.Client.PKCS12(t, f.Password))
	WriteFile(t, f.TruststoreP12, ca.PKCS12Truststore(t, f.Password))
	return f
}

// ServerProperties are a listener's ssl.* settings for these files (PEM
// keystore and trust store; ssl.client.auth is left to the caller).
func (f *Files) ServerProperties() map[string]string {
	return map[string]string{
		"ssl.keystore.type": "PEM", "ssl.keystore.location": f.ServerKeystore,
		"ssl.truststore.type": "PEM", "ssl.truststore.location": f.CAFile,
	}
}

// ClientProperties are a Kafka client's ssl.* settings for these files
// (with the client certificate; security.protocol is left to the caller).
func (f *Files) ClientProperties() map[string]string {
	return map[string]string{
		"ssl.keystore.type": "PEM", "ssl.keystore.location": f.ClientKeystore,
		"ssl.truststore.type": "PEM", "ssl.truststore.location": f.CAFile,
	}
}
