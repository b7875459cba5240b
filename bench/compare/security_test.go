package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// TestSecureFiles: the CA and server certificate verify for 127.0.0.1, the
// keystore loads as one PEM file, and a TLS server with it negotiates TLS
// 1.3 with AES-128-GCM against the harness's client settings, which then
// send an ApiVersions through.
func TestSecureFiles(t *testing.T) {
	s, err := writeSecure(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ks, err := os.ReadFile(s.keystorePath)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(ks, ks)
	if err != nil {
		t.Fatalf("keystore: %v", err)
	}
	if _, ok := pair.PrivateKey.(*ecdsa.PrivateKey); !ok || len(pair.Certificate) != 2 {
		t.Fatalf("keystore key %T, chain of %d", pair.PrivateKey, len(pair.Certificate))
	}
	if blk, _ := pem.Decode(ks); blk == nil || blk.Type != "PRIVATE KEY" {
		t.Fatalf("keystore does not start with a PKCS#8 key (Kafka's PEM keystore wants one)")
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: s.client.RootCAs, DNSName: "127.0.0.1"}); err != nil {
		t.Fatalf("server certificate for 127.0.0.1: %v", err)
	}
	props, _ := os.ReadFile(s.clientProps)
	for _, want := range []string{"security.protocol=SASL_SSL", "ssl.enabled.protocols=TLSv1.3", "ssl.truststore.location=" + s.caPath, "sasl.mechanism=SCRAM-SHA-512", `username="bench" password="bench-secret"`} {
		if !strings.Contains(string(props), want) {
			t.Errorf("client.properties lacks %q:\n%s", want, props)
		}
	}

	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{pair}})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go serveApiVersions(l) // ends when the listener closes
	info, err := probe(context.Background(), l.Addr().String(), s.client, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if info != "TLSv1.3 TLS_AES_128_GCM_SHA256" {
		t.Fatalf("negotiated %q", info)
	}
}

// serveApiVersions answers one ApiVersions v0 request per connection with
// an empty success.
func serveApiVersions(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			var req [4 + 10 + 19]byte // size, header, client id "samsa-bench-compare"
			if _, err := c.Read(req[:]); err != nil {
				return
			}
			resp := []byte{0, 0, 0, 10, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0}
			_, _ = c.Write(resp)
		}()
	}
}

func TestTLSProperties(t *testing.T) {
	s := &secure{caPath: "/d/ca.pem", keystorePath: "/d/ks.pem"}
	k := kafkaTLSProperties(9092, 9093, 9094, "/d/data", s)
	for _, want := range []string{
		"listeners=SASL_SSL://127.0.0.1:9092,PLAINTEXT://127.0.0.1:9093,CONTROLLER://127.0.0.1:9094",
		"advertised.listeners=SASL_SSL://127.0.0.1:9092,PLAINTEXT://127.0.0.1:9093",
		"controller.quorum.voters=1@127.0.0.1:9094", "inter.broker.listener.name=PLAINTEXT",
		"listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;",
		"ssl.cipher.suites=TLS_AES_128_GCM_SHA256", "ssl.enabled.protocols=TLSv1.3", "sasl.enabled.mechanisms=SCRAM-SHA-512",
		"ssl.keystore.type=PEM", "ssl.keystore.location=/d/ks.pem", "ssl.truststore.location=/d/ca.pem", "log.dirs=/d/data",
	} {
		if !strings.Contains(k, want+"\n") {
			t.Errorf("Kafka server.properties lacks %q", want)
		}
	}
	sp := samsaTLSProperties("127.0.0.1:9092", s)
	if !strings.HasPrefix(sp, "listeners=SASL_SSL://127.0.0.1:9092\n") || !strings.Contains(sp, "ssl.enabled.protocols=TLSv1.3\n") {
		t.Errorf("Samsa properties:\n%s", sp)
	}
	for _, sys := range []string{sysSamsa, sysKafka} {
		for _, n := range securityNotes(sys) {
			if strings.Contains(n, "/d/") || strings.Contains(n, "6553") || strings.Contains(n, "\n") {
				t.Errorf("note shows a path or port: %s", n)
			}
		}
	}
}

// TestTLSReport: variants alternate the order within a system, the TLS
// cost pairs runs of the same round, and the verdict follows the medians.
func TestTLSReport(t *testing.T) {
	w := (&harness{o: &options{}}).workload("tls1")
	if !w.security() || w.id != "tls1" || (&harness{o: &options{}}).workload("1").security() {
		t.Fatalf("workload %+v", w)
	}
	if v := w.variants(0); len(v) != 4 || v[0] != (variant{sysSamsa, secPlaintext}) || v[1] != (variant{sysSamsa, secSASLSSL}) || v[2].system != sysKafka {
		t.Fatalf("round 1 %v", v)
	}
	if v := w.variants(1); v[0] != (variant{sysSamsa, secSASLSSL}) || v[3] != (variant{sysKafka, secPlaintext}) {
		t.Fatalf("round 2 %v", v)
	}
	h := newHarness(nil, &options{})
	add := func(sys, sec string, round int, mbps float64) {
		h.runs = append(h.runs, &run{Workload: "tls1", System: sys, Security: sec, Round: round, TLS: "TLSv1.3 X",
			Metrics: map[string]float64{"mb_per_sec": mbps, "ready_ms": 1}})
	}
	for round, v := range [][4]float64{{100, 80, 100, 50}, {200, 150, 90, 72}} {
		add(sysSamsa, secPlaintext, round+1, v[0])
		add(sysSamsa, secSASLSSL, round+1, v[1])
		add(sysKafka, secPlaintext, round+1, v[2])
		add(sysKafka, secSASLSSL, round+1, v[3])
	}
	if c, _ := summarize(h.tlsCost("tls1", sysSamsa, "mb_per_sec")); c.min != 0.75 || c.max != 0.8 {
		t.Fatalf("Samsa TLS cost %+v", c)
	}
	if c, _ := summarize(h.costOfCosts("tls1", "mb_per_sec")); c.n != 2 || c.min != 0.75/(72.0/90) {
		t.Fatalf("cost of costs %+v", c)
	}
	var b strings.Builder
	h.reportSecurity(func(f string, a ...any) { b.WriteString(fmt.Sprintf(f, a...)) }, w)
	out := b.String()
	for _, want := range []string{"n = 2 Samsa PLAINTEXT, 2 Samsa SASL_SSL, 2 Kafka PLAINTEXT, 2 Kafka SASL_SSL",
		"| MB/s | 150 (100–200) | 115 (80.0–150) | 0.775 (0.75–0.8) | 95.0 (90.0–100) | 61.0 (50.0–72.0) | 0.65 (0.5–0.8) |",
		"Samsa keeps 78% of its PLAINTEXT MB/s under SASL_SSL, Kafka 65%", "no clear difference: the per-round ranges overlap (Samsa 75–80%, Kafka 50–80%)",
		"Kafka SASL_SSL negotiated TLSv1.3 X"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	h.runs[7].Metrics["mb_per_sec"] = 60 // Kafka round 2: 0.667
	if v := h.tlsVerdict("tls1"); !strings.Contains(v, "TLS costs Samsa less throughput than it costs Kafka in every round (Samsa 75–80%, Kafka 50–67%)") {
		t.Errorf("verdict %s", v)
	}
}
