package node

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestInterBrokerSASLRefusedSettings: an inter-broker listener with SASL
// fails the start without a mechanism Samsa has for brokers' logins
// (Kafka's default GSSAPI, OAUTHBEARER) or without this broker's
// credentials for it.
func TestInterBrokerSASLRefusedSettings(t *testing.T) {
	const scramJAAS = `org.apache.kafka.common.security.scram.ScramLoginModule required username="broker" password="pw";`
	for name, tc := range map[string]struct {
		extra map[string]string
		want  string
	}{
		"default GSSAPI": {nil, "Kafka's default GSSAPI"},
		"GSSAPI":         {map[string]string{"sasl.mechanism.inter.broker.protocol": "GSSAPI"}, "Kafka's default GSSAPI"},
		"OAUTHBEARER": {map[string]string{"sasl.mechanism.inter.broker.protocol": "OAUTHBEARER"},
			"sasl.mechanism.inter.broker.protocol=OAUTHBEARER is not available here"},
		"mechanism not enabled": {map[string]string{"sasl.mechanism.inter.broker.protocol": "SCRAM-SHA-256", "sasl.jaas.config": scramJAAS},
			"sasl.mechanism.inter.broker.protocol=SCRAM-SHA-256 must be one of its sasl.enabled.mechanisms (SCRAM-SHA-512)"},
		"no JAAS": {map[string]string{"sasl.mechanism.inter.broker.protocol": "SCRAM-SHA-512"},
			"needs this node's credentials in listener.name.internal.scram-sha-512.sasl.jaas.config"},
		"JAAS of another module": {map[string]string{"sasl.mechanism.inter.broker.protocol": "SCRAM-SHA-512",
			"listener.name.internal.scram-sha-512.sasl.jaas.config": `org.apache.kafka.common.security.plain.PlainLoginModule required username="broker" password="pw";`},
			"ScramLoginModule"},
		"no password": {map[string]string{"sasl.mechanism.inter.broker.protocol": "SCRAM-SHA-512",
			"listener.name.internal.sasl.jaas.config": strings.Replace(scramJAAS, ` password="pw"`, "", 1)},
			"names no username and password"},
	} {
		t.Run(name, func(t *testing.T) {
			props := map[string]string{
				"listeners":                                      "PLAINTEXT://127.0.0.1:0,INTERNAL://127.0.0.1:0",
				"listener.security.protocol.map":                 "PLAINTEXT:PLAINTEXT,INTERNAL:SASL_PLAINTEXT",
				"inter.broker.listener.name":                     "INTERNAL",
				"listener.name.internal.sasl.enabled.mechanisms": "SCRAM-SHA-512",
			}
			for k, v := range tc.extra {
				props[k] = v
			}
			cfg := singleConfig(t, t.TempDir())
			cfg.Broker = brokerWith(t, props)
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
