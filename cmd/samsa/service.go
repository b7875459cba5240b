package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"
)

// serviceClient resolves the client flags of a service command (`samsa
// registry`, `samsa rest`): its seed brokers and the franz-go options
// (dial timeout, TLS and SASL) its Kafka clients start with.
func (f *clientFlags) serviceClient(cmd *cobra.Command, extra ...kgo.Opt) ([]string, []kgo.Opt, error) {
	if err := f.validate(); err != nil {
		return nil, nil, err
	}
	seeds, err := f.seeds(cmd)
	if err != nil {
		return nil, nil, err
	}
	sec, err := f.security(cmd)
	if err != nil {
		return nil, nil, err
	}
	opts := append(append(extra, kgo.DialTimeout(f.timeout)), sec.opts()...)
	return seeds, opts, nil
}

// service is what a service command runs.
type service interface {
	Start(context.Context) error
	URL() string
	Close() error
}

// runService starts svc, prints where it serves, and runs it until the
// command is interrupted.
func runService(cmd *cobra.Command, name string, svc service) error {
	if err := svc.Start(cmd.Context()); err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s at %s\n", name, svc.URL())
	<-commandContext(cmd).Done()
	return svc.Close()
}

// loginOpts are the franz-go options of the connections HTTP basic-auth
// logins (and, for the REST proxy, the users' clients) make: the TLS of
// --basic-auth-command-config when given, else, when the logins go to
// --brokers (ownBrokers), the TLS of the service's own client settings
// (--command-config, -X); otherwise none (SASL_PLAINTEXT).
func loginOpts(cmd *cobra.Command, cf *clientFlags, configFile string, ownBrokers bool) ([]kgo.Opt, error) {
	if configFile == "" {
		if !ownBrokers {
			return nil, nil
		}
		sec, err := cf.security(cmd)
		if err != nil {
			return nil, err
		}
		if sec.tls == nil {
			return nil, nil
		}
		return []kgo.Opt{kgo.DialTLSConfig(sec.tls)}, nil
	}
	tc, err := loginTLS(configFile)
	if err != nil || tc == nil {
		return nil, err
	}
	return []kgo.Opt{kgo.DialTLSConfig(tc)}, nil
}

// loginTLS reads --basic-auth-command-config: security.protocol
// SASL_PLAINTEXT (the default; no TLS) or SASL_SSL with the ssl.*
// settings of --command-config (trust store, client certificate, host
// name verification). sasl.* settings are refused: each user logs in with
// its own credentials.
func loginTLS(path string) (*tls.Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--basic-auth-command-config: %w", err)
	}
	c := newClientConfig()
	if err := c.addProperties(string(data), path); err != nil {
		return nil, fmt.Errorf("--basic-auth-command-config: %w", err)
	}
	if k := c.firstWithPrefix("sasl."); k != "" {
		return nil, c.errorf(k, "the logins use each user's own credentials; remove it")
	}
	protocol := protoSASLPlaintext
	if v, ok := c.get("security.protocol"); ok {
		protocol = strings.ToUpper(strings.TrimSpace(v))
	}
	switch protocol {
	case protoSASLPlaintext:
		if k := c.firstWithPrefix("ssl."); k != "" {
			return nil, fmt.Errorf("%s is set (%s) but security.protocol is SASL_PLAINTEXT: set security.protocol=SASL_SSL", k, c.origin[k])
		}
		return nil, nil
	case protoSASLSSL:
		return tlsConfig(c)
	}
	return nil, c.badValue("security.protocol", "SASL_PLAINTEXT or SASL_SSL (the logins are SASL)")
}
