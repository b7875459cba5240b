package main

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-streaming/samsa/internal/connect"
	"github.com/samsa-streaming/samsa/internal/httpserve"
	"github.com/samsa-streaming/samsa/internal/tlsconf"
)

// connectSecurity sets the REST security of `samsa connect` from the
// worker properties, by Kafka Connect's names: a first listeners entry
// (or --listen) https://HOST:PORT serves TLS with listeners.https.ssl.*
// falling back to ssl.* (ssl.client.auth asks clients for certificates;
// the same trust store trusts the peers requests are forwarded to), and
// samsa.connect.authentication.method=BASIC (with
// samsa.connect.authentication.sasl.mechanism, default SCRAM-SHA-512)
// checks basic credentials by a login to the worker's brokers, over
// loginTLS (the worker's client TLS; nil: none). The
// returned BasicAuth (nil without authentication) is the caller's to
// close.
func connectSecurity(cfg *connect.Config, props map[string]string, https bool, loginTLS *tls.Config, lg *slog.Logger) (*httpserve.BasicAuth, error) {
	if https {
		tlsProps := map[string]string{}
		for k, v := range props {
			if rest, ok := strings.CutPrefix(k, "listeners.https."); ok {
				k = "listener.name.https." + rest
			}
			tlsProps[k] = v
		}
		tc, err := tlsconf.FromProperties(tlsProps, "HTTPS")
		if err != nil {
			return nil, fmt.Errorf("worker properties: %w", err)
		}
		r, err := tlsconf.NewReloader(tc, lg.With("component", "tls", "listener", "https"))
		if err != nil {
			return nil, fmt.Errorf("worker properties: %w", err)
		}
		if cfg.TLS, err = r.ServerConfig(); err != nil {
			return nil, fmt.Errorf("https listener: %w (set listeners.https.ssl.keystore.location or ssl.keystore.location)", err)
		}
		cfg.ForwardTLS = func(host string) *tls.Config { return r.ClientConfig(host) }
	}
	if !strings.EqualFold(strings.TrimSpace(props["samsa.connect.authentication.method"]), "BASIC") {
		return nil, nil
	}
	mech := strings.TrimSpace(props["samsa.connect.authentication.sasl.mechanism"])
	if mech == "" {
		mech = "SCRAM-SHA-512"
	}
	var opts []kgo.Opt
	if loginTLS != nil {
		opts = append(opts, kgo.DialTLSConfig(loginTLS))
	}
	auth, err := httpserve.New(httpserve.Config{Brokers: cfg.Brokers, ClientOpts: opts, Mechanism: mech, Realm: "samsa-connect"})
	if err != nil {
		return nil, err
	}
	cfg.Auth = auth
	return auth, nil
}

// workerSecurity resolves the Kafka client security of `samsa connect`:
// a Java worker's top-level settings in the worker properties
// (security.protocol, sasl.*, ssl.*; read only when security.protocol is
// there) with --command-config / -X winning over them. It returns the
// clients' options and the TLS their connections use (nil: none), which
// the basic-auth logins reuse.
func workerSecurity(cmd *cobra.Command, cf *clientFlags, props map[string]string) ([]kgo.Opt, *tls.Config, error) {
	if err := cf.validate(); err != nil {
		return nil, nil, err
	}
	flags, err := cf.loadClientConfig(cmd)
	if err != nil {
		return nil, nil, err
	}
	cfg := newClientConfig()
	if _, ok := props["security.protocol"]; ok {
		for k, v := range props {
			if _, known := clientKeys[k]; known {
				if err := cfg.set(k, strings.TrimSpace(v), "worker properties"); err != nil {
					return nil, nil, err
				}
			}
		}
	}
	for k, v := range flags.values {
		cfg.values[k], cfg.origin[k] = v, flags.origin[k]
	}
	sec, err := resolveSecurity(cfg, time.Now())
	if err != nil {
		return nil, nil, err
	}
	return append([]kgo.Opt{kgo.DialTimeout(cf.timeout)}, sec.opts()...), sec.tls, nil
}
