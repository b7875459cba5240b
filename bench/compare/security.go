package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// This file holds the SASL_SSL set-up of the TLS workloads: a CA and a
// server certificate made for each run, the listener settings both brokers
// get, and the client settings `samsa bench` and the harness's probe use.
//
// Certificates are ECDSA P-256 (CA and server; SAN IP 127.0.0.1 and DNS
// localhost), signed with ECDSA-SHA256. The key type only changes the
// handshake, done once per connection; the bulk cost measured here is the
// record cipher, AES-128-GCM under TLS 1.3 (TLS_AES_128_GCM_SHA256), and
// the probe records what each broker actually negotiated.

const (
	secPlaintext = ""         // a run without security; PLAINTEXT in the report
	secSASLSSL   = "SASL_SSL" // TLS 1.3 + SCRAM-SHA-512
	scramMech    = "SCRAM-SHA-512"
	scramUser    = "bench"
	scramPass    = "bench-secret"
	// scramFormat is the --add-scram value of samsa serve and of Kafka's
	// storage format.
	scramFormat = scramMech + "=[name=" + scramUser + ",password=" + scramPass + "]"
	// kafkaTLSSuite pins Kafka to the suite Go's server picks on a CPU with
	// AES instructions (SunJSSE prefers TLS_AES_256_GCM_SHA384), so both
	// brokers encrypt with the same cipher.
	kafkaTLSSuite = "TLS_AES_128_GCM_SHA256"
)

// secure are one run's TLS files and the client settings that go with
// them.
type secure struct {
	caPath       string      // the CA certificate, PEM (truststore)
	keystorePath string      // the server's key and chain, PEM (keystore)
	clientProps  string      // client.properties for samsa bench --command-config
	client       *tls.Config // the same TLS settings, for the harness's probe
}

// writeSecure makes a CA and a server certificate for 127.0.0.1 and writes
// them and a client.properties under dir.
func writeSecure(dir string) (*secure, error) {
	caPEM, keystorePEM, err := makeCerts(time.Now())
	if err != nil {
		return nil, err
	}
	s := &secure{
		caPath:       filepath.Join(dir, "ca.pem"),
		keystorePath: filepath.Join(dir, "server-keystore.pem"),
		clientProps:  filepath.Join(dir, "client.properties"),
	}
	for _, f := range []struct {
		path string
		data []byte
	}{{s.caPath, caPEM}, {s.keystorePath, keystorePEM}, {s.clientProps, []byte(clientProperties(s.caPath))}} {
		if err := os.WriteFile(f.path, f.data, 0o600); err != nil {
			return nil, err
		}
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	s.client = &tls.Config{MinVersion: tls.VersionTLS13, RootCAs: roots, ServerName: "127.0.0.1"}
	return s, nil
}

// makeCerts returns a CA certificate and a server keystore (PKCS#8 key,
// then the leaf and the CA), valid from an hour before now for a day.
func makeCerts(now time.Time) (caPEM, keystorePEM []byte, err error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	from, to := now.Add(-time.Hour), now.Add(24*time.Hour)
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bench-compare CA"},
		NotBefore: from, NotAfter: to, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, nil, err
	}
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: from, NotAfter: to,
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, ca, &leafKey.PublicKey, caKey)
	if err != nil {
		return nil, nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(leafKey)
	if err != nil {
		return nil, nil, err
	}
	caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	keystorePEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	keystorePEM = append(keystorePEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER})...)
	return caPEM, append(keystorePEM, caPEM...), nil
}

// clientProperties are samsa bench's security settings, in the names of
// Kafka's clients: TLS 1.3 only, the run's CA, SCRAM-SHA-512.
func clientProperties(caPath string) string {
	return fmt.Sprintf(`security.protocol=SASL_SSL
ssl.enabled.protocols=TLSv1.3
ssl.truststore.type=PEM
ssl.truststore.location=%s
sasl.mechanism=%s
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="%s" password="%s";
`, caPath, scramMech, scramUser, scramPass)
}

// serverTLSProperties are the listener settings both brokers get.
func serverTLSProperties(s *secure) string {
	return fmt.Sprintf(`sasl.enabled.mechanisms=%s
ssl.enabled.protocols=TLSv1.3
ssl.keystore.type=PEM
ssl.keystore.location=%s
ssl.truststore.type=PEM
ssl.truststore.location=%s
`, scramMech, s.keystorePath, s.caPath)
}

// samsaTLSProperties: one SASL_SSL listener.
func samsaTLSProperties(addr string, s *secure) string {
	return "listeners=SASL_SSL://" + addr + "\n" + serverTLSProperties(s)
}

// kafkaTLSProperties: the client listener SASL_SSL, PLAINTEXT between
// brokers (unused on one node) and for the controller.
func kafkaTLSProperties(port, iport, cport int, logDir string, s *secure) string {
	return fmt.Sprintf(`# Generated by bench/compare: one KRaft node, broker and controller, SASL_SSL for clients.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:%[3]d
listeners=SASL_SSL://127.0.0.1:%[1]d,PLAINTEXT://127.0.0.1:%[2]d,CONTROLLER://127.0.0.1:%[3]d
advertised.listeners=SASL_SSL://127.0.0.1:%[1]d,PLAINTEXT://127.0.0.1:%[2]d
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=SASL_SSL:SASL_SSL,PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
ssl.cipher.suites=%[5]s
log.dirs=%[4]s
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
num.partitions=1
group.initial.rebalance.delay.ms=0
`, port, iport, cport, logDir, kafkaTLSSuite) + serverTLSProperties(s)
}

// negotiated describes a TLS connection: "TLSv1.3 TLS_AES_128_GCM_SHA256".
func negotiated(cs tls.ConnectionState) string {
	v := map[uint16]string{tls.VersionTLS12: "TLSv1.2", tls.VersionTLS13: "TLSv1.3"}[cs.Version]
	if v == "" {
		v = fmt.Sprintf("TLS version %#x", cs.Version)
	}
	return v + " " + tls.CipherSuiteName(cs.CipherSuite)
}

// securityNotes are the report's lines on how sys's SASL_SSL runs were set
// up: the broker's security settings and samsa bench's client.properties.
func securityNotes(sys string) []string {
	s := &secure{caPath: "ca.pem", keystorePath: "server-keystore.pem"}
	keep := func(text string) string {
		var out []string
		for _, l := range strings.Split(text, "\n") {
			for _, p := range []string{"listener", "advertised.", "inter.broker", "ssl.", "sasl."} {
				if strings.HasPrefix(l, p) {
					out = append(out, l)
					break
				}
			}
		}
		return strings.Join(out, "; ")
	}
	var broker string
	if sys == sysSamsa {
		broker = "Samsa SASL_SSL: samsa serve --data-dir DIR --add-scram '" + scramFormat + "' --config samsa.properties --log-level warn; samsa.properties: " +
			keep(samsaTLSProperties("ADDR", s))
	} else {
		broker = "Kafka SASL_SSL: kafka.tools.StorageTool format -t ID -c server.properties --add-scram '" + scramFormat + "'; server.properties: " +
			keep(strings.NewReplacer("127.0.0.1:65531", "ADDR", "65532", "P2", "65533", "P3").Replace(kafkaTLSProperties(65531, 65532, 65533, "DIR", s)))
	}
	client := "client.properties: " + strings.ReplaceAll(strings.TrimSpace(clientProperties("ca.pem")), "\n", "; ")
	return []string{broker, client}
}
