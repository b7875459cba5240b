package loadgen

import (
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// This file holds the client security of a run: TLS and a SASL mechanism,
// as Kafka's security.protocol combines them.

// SecurityProtocol names the run's security as Kafka's security.protocol
// does: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL.
func (c *Config) SecurityProtocol() string {
	switch {
	case c.TLS != nil && c.SASL != nil:
		return "SASL_SSL"
	case c.TLS != nil:
		return "SSL"
	case c.SASL != nil:
		return "SASL_PLAINTEXT"
	}
	return "PLAINTEXT"
}

// securityOpts are the franz-go options of TLS and SASL; none for
// PLAINTEXT. Each client gets its own clone of the TLS config, so that
// its session cache and state are not shared.
func (c *Config) securityOpts() []kgo.Opt {
	var opts []kgo.Opt
	if c.TLS != nil {
		opts = append(opts, kgo.DialTLSConfig(c.TLS.Clone()))
	}
	if c.SASL != nil {
		opts = append(opts, kgo.SASL(c.SASL))
	}
	return opts
}

// SCRAM returns the SCRAM mechanism named by mechanism (SCRAM-SHA-256 or
// SCRAM-SHA-512, as in sasl.mechanism) for user and password.
func SCRAM(mechanism, user, password string) (sasl.Mechanism, error) {
	if user == "" || password == "" {
		return nil, fmt.Errorf("%s needs a non-empty user name and password", mechanism)
	}
	a := scram.Auth{User: user, Pass: password}
	switch strings.ToUpper(strings.TrimSpace(mechanism)) {
	case "SCRAM-SHA-256":
		return a.AsSha256Mechanism(), nil
	case "SCRAM-SHA-512":
		return a.AsSha512Mechanism(), nil
	}
	return nil, fmt.Errorf("invalid SASL mechanism %q: want SCRAM-SHA-256 or SCRAM-SHA-512", mechanism)
}
