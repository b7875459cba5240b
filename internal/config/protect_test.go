package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// loadProps writes props to a server.properties file and loads, resolves
// and validates it as serve does.
func loadProps(t *testing.T, props string) error {
	t.Helper()
	path := filepath.Join(t.TempDir(), "server.properties")
	if err := os.WriteFile(path, []byte(props), 0o600); err != nil {
		t.Fatal(err)
	}
	b := Broker{}.Defaults()
	if _, err := b.LoadFile(path); err != nil {
		return err
	}
	if err := b.Resolve(); err != nil {
		return err
	}
	return b.Validate()
}

// Every kind of protecting setting Samsa does not implement stops
// Validate, named in the error; harmless look-alikes do not.
func TestUnimplementedProtectionsFailClosed(t *testing.T) {
	refused := map[string]string{
		"sasl.kerberos.service.name=kafka":                        "sasl.kerberos.service.name",
		"sasl.login.callback.handler.class=com.example.L":         "sasl.login.callback.handler.class",
		"listener.name.sasl_ssl.gssapi.sasl.kerberos.principal=x": "listener.name.sasl_ssl.gssapi.sasl.kerberos.principal",
		"listener.name.internal.max.connections=100":              "listener.name.internal.max.connections",
		"security.inter.broker.protocol=SSL":                      "security.inter.broker.protocol",
		"client.quota.callback.class=com.example.Q":               "client.quota.callback.class",
		"producer_byte_rate=1024":                                 "producer_byte_rate",
		"delegation.token.secret.key=s3cr3t":                      "delegation.token.secret.key",
		"principal.builder.class=com.example.PrincipalBuilder":    "principal.builder.class",
	}
	for props, name := range refused {
		err := loadProps(t, props)
		if !errors.Is(err, ErrUnimplementedProtection) || !strings.Contains(err.Error(), name) {
			t.Errorf("%q: got %v, want ErrUnimplementedProtection naming %s", props, err, name)
		}
	}
	allowed := []string{
		"ssl.keystore.location=/etc/kafka/ks.pem\nssl.client.auth=required\nlistener.name.external.ssl.keystore.location=/ks.pem",
		"listeners=PLAINTEXT://127.0.0.1:9092,SASL_SSL://:9094,SSL://:9095\nsasl.enabled.mechanisms=SCRAM-SHA-512\nconnections.max.reauth.ms=3600000",
		"listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=x\nlistener.name.sasl_ssl.oauthbearer.sasl.oauthbearer.expected.audience=a",
		"authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer\nsuper.users=User:admin;User:broker\nallow.everyone.if.no.acl.found=false",
		"security.inter.broker.protocol=PLAINTEXT",
		"super.users=",
		"ssl.keystore.location=",
		"replication.quota.window.num=11",
		"quota.window.num=11\nquota.window.size.seconds=2\ncontroller.quota.window.num=5\nmax.connection.creation.rate=50",
		"listeners=PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093\nlistener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SSL:SSL",
		"unknown.setting=1",
	}
	for _, props := range allowed {
		if err := loadProps(t, props); err != nil {
			t.Errorf("%q: %v", props, err)
		}
	}
}

// All the offending settings are named at once.
func TestUnimplementedProtectionsAllNamed(t *testing.T) {
	err := loadProps(t, "delegation.token.secret.key=k\nsasl.login.class=x.Y\nclient.quota.callback.class=x.Y\n")
	for _, name := range []string{"delegation.token.secret.key", "sasl.login.class", "client.quota.callback.class"} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("error %v does not name %s", err, name)
		}
	}
}

// The broker-wide connection limits are implemented (internal/broker):
// they start; their per-listener forms are not and still refuse.
func TestConnectionLimitsAccepted(t *testing.T) {
	for _, props := range []string{"max.connections=1000\n", "max.connections.per.ip=10\n", "max.connections.per.ip.overrides=127.0.0.1:5\n", "connections.max.idle.ms=2000\n"} {
		if err := loadProps(t, props); err != nil {
			t.Errorf("%q refused: %v", props, err)
		}
	}
	if err := loadProps(t, "listener.name.internal.max.connections.per.ip=10\n"); !errors.Is(err, ErrUnimplementedProtection) {
		t.Errorf("per-listener max.connections.per.ip: %v, want ErrUnimplementedProtection", err)
	}
}
