package node

import (
	"context"
	"crypto/x509/pkix"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/tlsconf/tlstest"
)

// controllerSSL are the settings of a controller listener with mutual TLS:
// every node presents a certificate for CN=samsa-node (127.0.0.1), a super
// user. (Each node needs a config.Broker of its own: Start's copy shares
// the Listeners array.)
func controllerSSL(t *testing.T, extra map[string]string) map[string]string {
	t.Helper()
	dir := t.TempDir()
	ca := tlstest.NewCA(t, "Samsa Test CA")
	leaf := ca.Issue(t, tlstest.Options{Subject: pkix.Name{CommonName: "samsa-node"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
	keystore, caFile := filepath.Join(dir, "node.keystore.pem"), filepath.Join(dir, "ca.pem")
	tlstest.WriteFile(t, keystore, []byte(leaf.KeystorePEM()))
	tlstest.WriteFile(t, caFile, []byte(ca.CertPEM))
	props := map[string]string{
		"listener.security.protocol.map":                   "PLAINTEXT:PLAINTEXT,CONTROLLER:SSL",
		"listener.name.controller.ssl.keystore.type":       "PEM",
		"listener.name.controller.ssl.keystore.location":   keystore,
		"listener.name.controller.ssl.truststore.type":     "PEM",
		"listener.name.controller.ssl.truststore.location": caFile,
		"super.users": "User:CN=samsa-node",
	}
	for k, v := range extra {
		props[k] = v
	}
	return props
}

// TestControllerListenerSSL runs a three-voter cluster whose raft
// transport is mutual TLS: a topic with RF 3 takes acks=all writes, and a
// plaintext connection to a controller listener is refused.
func TestControllerListenerSSL(t *testing.T) {
	props := controllerSSL(t, nil)
	nodes := startClusterWith(t, 3, func(c *Config) { c.Broker = brokerWith(t, props) })
	var all []string
	for _, n := range nodes {
		all = append(all, n.Addr())
	}
	createTopic(t, all, "raft-tls", 3, 3)
	produce(t, all, "raft-tls", "r", 30)

	c, err := net.Dial("tcp", nodes[0].ControllerAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(15 * time.Second))
	_, _ = c.Write([]byte("SHLO\x00\x00\x00\x07\x00\x01\x00\x00\x00\x02\x00"))
	if _, err := io.ReadAll(c); err != nil && !strings.Contains(err.Error(), "reset") {
		t.Fatalf("plaintext connection to the controller listener: %v, want it closed", err)
	}
	// Close together: one by one, the last would wait out its controlled
	// shutdown without a quorum.
	var wg sync.WaitGroup
	for _, n := range nodes {
		wg.Go(func() { n.Close() })
	}
	wg.Wait()
}

// controllerSASL are the settings of a SASL_PLAINTEXT controller listener
// whose nodes log in with mech as User:broker (password "pw").
func controllerSASL(mech, superUsers, plainInClear string) map[string]string {
	return map[string]string{
		"listener.security.protocol.map":                          "PLAINTEXT:PLAINTEXT,CONTROLLER:SASL_PLAINTEXT",
		"sasl.mechanism.controller.protocol":                      mech,
		"listener.name.controller.sasl.enabled.mechanisms":        "PLAIN",
		"listener.name.controller.sasl.plain.plaintext.enable":    plainInClear,
		"listener.name.controller.plain.sasl.jaas.config":         `org.apache.kafka.common.security.plain.PlainLoginModule required username="broker" password="pw" user_broker="pw";`,
		"listener.name.controller.scram-sha-512.sasl.jaas.config": `org.apache.kafka.common.security.scram.ScramLoginModule required username="broker" password="pw";`,
		"super.users": superUsers,
	}
}

// TestControllerListenerRefusedSettings: SASL on the controller listener
// without a mechanism Samsa has (Kafka's default GSSAPI, or SCRAM), PLAIN
// in clear without sasl.plain.plaintext.enable, a login that is not a
// super user, and a certificate whose principal is not a super user, fail
// the start.
func TestControllerListenerRefusedSettings(t *testing.T) {
	for name, tc := range map[string]struct {
		extra map[string]string
		want  string
	}{
		"SASL_SSL GSSAPI":       {map[string]string{"listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:SASL_SSL"}, "Kafka's default GSSAPI"},
		"SASL SCRAM":            {controllerSASL("SCRAM-SHA-512", "User:broker", "true"), "sasl.mechanism.controller.protocol=SCRAM-SHA-512 is not available here: use PLAIN"},
		"SASL PLAIN in clear":   {controllerSASL("PLAIN", "User:broker", "false"), "PLAIN sends passwords in clear"},
		"SASL not a super user": {controllerSASL("PLAIN", "User:admin", "true"), "logs in as User:broker, which is not in super.users"},
		"not a super user":      {map[string]string{"super.users": "User:admin"}, "is not in super.users"},
		"no trust store":        {map[string]string{"listener.name.controller.ssl.truststore.location": "", "listener.name.controller.ssl.truststore.type": ""}, "ssl.truststore"},
	} {
		t.Run(name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			cfg := Config{NodeID: 1, DataDir: t.TempDir(), Listen: "127.0.0.1:0", Voters: map[int32]string{1: ln.Addr().String()},
				ControllerListener: ln, Broker: brokerWith(t, controllerSSL(t, tc.extra)), Logger: testLogger(t)}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			n, err := Start(ctx, cfg)
			if err == nil {
				n.Close()
				t.Fatal("started")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}
