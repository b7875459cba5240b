package main

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"

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
// checks basic credentials by a login to the worker's brokers. The
// returned BasicAuth (nil without authentication) is the caller's to
// close.
func connectSecurity(cmd *cobra.Command, cf *clientFlags, cfg *connect.Config, props map[string]string, https bool, lg *slog.Logger) (*httpserve.BasicAuth, error) {
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
	opts, err := loginOpts(cmd, cf, "", true)
	if err != nil {
		return nil, err
	}
	auth, err := httpserve.New(httpserve.Config{Brokers: cfg.Brokers, ClientOpts: opts, Mechanism: mech, Realm: "samsa-connect"})
	if err != nil {
		return nil, err
	}
	cfg.Auth = auth
	return auth, nil
}
