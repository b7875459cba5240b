package main

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// clientCommands are the commands that talk to a cluster; each takes the
// security flags.
var clientCommands = []string{"topic", "produce", "consume", "group", "txn", "cluster", "partition", "bench", "user", "acl", "quota"}

func TestSecurityFlagsOnEveryClientCommand(t *testing.T) {
	root := newRootCmd()
	for _, name := range clientCommands {
		cmd, _, err := root.Find([]string{name})
		if err != nil || cmd.Name() != name {
			t.Fatalf("no command %s: %v", name, err)
		}
		for _, flag := range []string{"command-config", "command-property", "brokers"} {
			if cmd.PersistentFlags().Lookup(flag) == nil {
				t.Errorf("samsa %s has no --%s", name, flag)
			}
		}
		if cmd.PersistentFlags().ShorthandLookup("X") == nil {
			t.Errorf("samsa %s has no -X", name)
		}
	}
}

func TestSecuritySettingErrorsBeforeDialing(t *testing.T) {
	t.Setenv(clientConfigEnv, "")
	// Port 1 is not listened on: a command that dialed would fail
	// differently.
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"topic", "list", "-X", "sasl.kerberos.service.name=kafka"}, `unknown client setting "sasl.kerberos.service.name" (-X): see samsa help client-config`},
		{[]string{"produce", "t", "-X", "security.protocol=SASL_SSL"}, "security.protocol SASL_SSL needs sasl.mechanism: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER"},
		{[]string{"consume", "t", "-X", "ssl.ca.location=/ca.pem"}, "ssl.ca.location is set (-X) but security.protocol is PLAINTEXT, which does not use TLS: set security.protocol=SSL or SASL_SSL"},
		{[]string{"group", "list", "-X", "security.protocol=ssl", "-X", "ssl.keystore.type=PKCS12"}, `invalid ssl.keystore.type (-X): "PKCS12": want PEM (samsa reads PEM files only; convert JKS or PKCS12 stores with keytool or openssl)`},
		{[]string{"cluster", "info", "--command-config", "/nonexistent/client.properties"}, "cannot read the client config file of --command-config: open /nonexistent/client.properties: no such file or directory"},
		{[]string{"bench", "produce", "--topic", "t", "-X", "sasl.mechanism=PLAIN"}, "sasl.mechanism is set (-X) but security.protocol is PLAINTEXT, which does not use SASL: set security.protocol=SASL_PLAINTEXT or SASL_SSL"},
		{[]string{"user", "list", "-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanism=GSSAPI"}, "invalid sasl.mechanism (-X): GSSAPI (Kerberos) is not supported: want PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER"},
		{[]string{"acl", "list", "-X", "security.protocol=SSL", "-X", "ssl.endpoint.identification.algorithm=x"}, `invalid ssl.endpoint.identification.algorithm (-X): "x": want https, or empty to skip hostname verification`},
		{[]string{"quota", "describe", "-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanism=PLAIN", "-X", "sasl.username=u"}, "sasl.username is set without sasl.password: give both"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args[:2], " "), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			runSamsa(ctx, append(tc.args, "-b", "127.0.0.1:1")...).wantErr(t, tc.want)
		})
	}
}

// fakeSASLBroker answers ApiVersions and SaslHandshake like a Kafka
// SASL_PLAINTEXT listener offering PLAIN, sends every SaslAuthenticate's
// bytes to the returned channel and fails it with SASL_AUTHENTICATION_FAILED.
func fakeSASLBroker(t *testing.T) (string, <-chan []byte) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	auths := make(chan []byte, 64)
	go func() { // owned by the test; ends when the listener closes
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go serveFakeSASL(c, auths) // ends when the client hangs up
		}
	}()
	return l.Addr().String(), auths
}

func serveFakeSASL(c net.Conn, auths chan<- []byte) {
	defer c.Close()
	for {
		var size [4]byte
		if _, err := io.ReadFull(c, size[:]); err != nil {
			return
		}
		body := make([]byte, binary.BigEndian.Uint32(size[:]))
		if _, err := io.ReadFull(c, body); err != nil || len(body) < 10 {
			return
		}
		key, ver := int16(binary.BigEndian.Uint16(body)), int16(binary.BigEndian.Uint16(body[2:]))
		corr := body[4:8]
		off := 10 + max(int(int16(binary.BigEndian.Uint16(body[8:]))), 0)
		req := kmsg.RequestForKey(key)
		if req == nil {
			return
		}
		req.SetVersion(ver)
		if req.IsFlexible() {
			off++ // the client sends no header tags
		}
		if off > len(body) || req.ReadFrom(body[off:]) != nil {
			return
		}
		resp := fakeSASLResponse(req, auths)
		if resp == nil {
			return
		}
		resp.SetVersion(ver)
		out := append([]byte{}, corr...)
		if resp.IsFlexible() && key != int16(kmsg.ApiVersions) {
			out = append(out, 0)
		}
		out = resp.AppendTo(out)
		if _, err := c.Write(binary.BigEndian.AppendUint32(nil, uint32(len(out)))); err != nil {
			return
		}
		if _, err := c.Write(out); err != nil {
			return
		}
	}
}

func fakeSASLResponse(req kmsg.Request, auths chan<- []byte) kmsg.Response {
	switch r := req.(type) {
	case *kmsg.ApiVersionsRequest:
		resp := kmsg.NewPtrApiVersionsResponse()
		for _, k := range []struct{ key, max int16 }{{int16(kmsg.ApiVersions), 3}, {int16(kmsg.SASLHandshake), 1}, {int16(kmsg.SASLAuthenticate), 2}, {int16(kmsg.Metadata), 12}} {
			resp.ApiKeys = append(resp.ApiKeys, kmsg.ApiVersionsResponseApiKey{ApiKey: k.key, MaxVersion: k.max})
		}
		return resp
	case *kmsg.SASLHandshakeRequest:
		resp := kmsg.NewPtrSASLHandshakeResponse()
		resp.SupportedMechanisms = []string{"PLAIN"}
		if r.Mechanism != "PLAIN" {
			resp.ErrorCode = kerr.UnsupportedSaslMechanism.Code
		}
		return resp
	case *kmsg.SASLAuthenticateRequest:
		auths <- r.SASLAuthBytes
		resp := kmsg.NewPtrSASLAuthenticateResponse()
		resp.ErrorCode = kerr.SaslAuthenticationFailed.Code
		resp.ErrorMessage = kmsg.StringPtr("Authentication failed: Invalid username or password")
		return resp
	}
	return nil
}

func TestSASLPlainOnTheWire(t *testing.T) {
	t.Setenv(clientConfigEnv, "")
	addr, auths := fakeSASLBroker(t)
	dir := t.TempDir()
	props := dir + "/client.properties"
	writeFile(t, props, "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\n"+
		"sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required \\\n"+
		"  username=\"alice\" password=\"from-file\";\n")
	for _, args := range [][]string{
		{"topic", "list", "--command-config", props},
		{"user", "list", "-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanism=PLAIN", "-X", "sasl.username=alice", "-X", "sasl.password=from-x"},
		{"topic", "list", "--command-config", props, "-X", "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=alice password=from-x;"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		r := runSamsa(ctx, append(args, "-b", addr, "--timeout", "3s")...)
		cancel()
		if r.err == nil || !strings.Contains(r.err.Error(), "Authentication failed: Invalid username or password (SASL_AUTHENTICATION_FAILED)") {
			t.Fatalf("%v: error = %v", args, r.err)
		}
		want := "\x00alice\x00from-file"
		if strings.Contains(strings.Join(args, " "), "from-x") {
			want = "\x00alice\x00from-x"
		}
		select {
		case got := <-auths:
			if string(got) != want {
				t.Fatalf("%v: the broker got %q, want %q", args, got, want)
			}
		default:
			t.Fatalf("%v: no SaslAuthenticate reached the broker", args)
		}
		for len(auths) > 0 {
			<-auths // retries
		}
	}
}

func TestTLSOnTheWire(t *testing.T) {
	t.Setenv(clientConfigEnv, "")
	ca := newTestCA(t)
	serverCert, serverKey := ca.issue(t, "127.0.0.1", false)
	pair, err := tls.X509KeyPair([]byte(serverCert), []byte(serverKey))
	if err != nil {
		t.Fatal(err)
	}
	addr, results := tlsServer(t, pair, nil)
	caFile := ca.file(t, "ca.pem", ca.pem)
	tlsArgs := []string{"-b", addr, "--timeout", "2s", "-X", "security.protocol=SSL", "-X", "ssl.ca.location=" + caFile, "-X", "ssl.endpoint.identification.algorithm="}
	for _, args := range [][]string{
		{"cluster", "info"},
		{"bench", "produce", "--topic", "t", "--duration", "1s", "--warmup", "0s"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		r := runSamsa(ctx, append(args, tlsArgs...)...)
		cancel()
		if r.err == nil {
			t.Fatalf("%v: want an error from a server that is not Kafka", args)
		}
		select {
		case err := <-results:
			if err != nil {
				t.Fatalf("%v: TLS handshake failed on the server: %v", args, err)
			}
		default:
			t.Fatalf("%v: no TLS handshake reached the server (error %v)", args, r.err)
		}
		for len(results) > 0 {
			<-results
		}
	}
}
