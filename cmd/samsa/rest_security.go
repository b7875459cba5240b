package main

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-streaming/samsa/internal/config"
	"github.com/samsa-streaming/samsa/internal/httpserve"
	"github.com/samsa-streaming/samsa/internal/restproxy"
	"github.com/samsa-streaming/samsa/internal/tlsconf"
)

// restSecurityFlags are `samsa rest`'s server-side security settings,
// the same as `samsa serve`'s for its proxy: --listen https://… with the
// listener.name.rest.ssl.* (or ssl.*) settings of --config, and basic
// authentication by the samsa.rest.authentication.* settings of --config
// or the --basic-auth-* flags.
type restSecurityFlags struct {
	configFile  string
	authMech    string
	authBrokers []string
	authConfig  string // --basic-auth-command-config
}

// apply sets cfg's TLS, CertPrincipal and Auth; the returned BasicAuth
// (nil without authentication) is the caller's to close. loginOpts (see
// loginOpts in service.go) reach the listener the logins go to.
func (f *restSecurityFlags) apply(cfg *restproxy.Config, seeds []string, loginOpts []kgo.Opt, lg *slog.Logger) (*httpserve.BasicAuth, error) {
	props := map[string]string{}
	if f.configFile != "" {
		file, err := os.Open(f.configFile)
		if err != nil {
			return nil, fmt.Errorf("--config: %w", err)
		}
		props, err = config.ParseProperties(file)
		file.Close()
		if err != nil {
			return nil, fmt.Errorf("--config %s: %w", f.configFile, err)
		}
	}
	if rest, ok := strings.CutPrefix(cfg.Listen, "https://"); ok {
		cfg.Listen = rest
		if err := restTLS(cfg, props, lg); err != nil {
			return nil, err
		}
	}
	cfg.Listen = strings.TrimPrefix(cfg.Listen, "http://")
	mech := f.authMech
	if mech == "" && strings.EqualFold(props["samsa.rest.authentication.method"], "BASIC") {
		mech = props["samsa.rest.authentication.sasl.mechanism"]
		if mech == "" {
			mech = "SCRAM-SHA-512"
		}
	}
	if mech == "" {
		return nil, nil
	}
	brokers := f.authBrokers
	if len(brokers) == 0 {
		brokers = seeds
	}
	auth, err := httpserve.New(httpserve.Config{Brokers: brokers, ClientOpts: loginOpts, Mechanism: mech, Realm: "samsa-rest-proxy"})
	if err != nil {
		return nil, err
	}
	cfg.Auth = auth
	return auth, nil
}

// restTLS sets cfg's HTTPS from the listener.name.rest.ssl.* settings.
func restTLS(cfg *restproxy.Config, props map[string]string, lg *slog.Logger) error {
	tc, err := tlsconf.FromProperties(props, "REST")
	if err != nil {
		return fmt.Errorf("--config: %w", err)
	}
	r, err := tlsconf.NewReloader(tc, lg.With("component", "tls", "listener", "REST"))
	if err != nil {
		return err
	}
	if cfg.TLS, err = r.ServerConfig(); err != nil {
		return fmt.Errorf("https listener: %w (set listener.name.rest.ssl.keystore.location in --config)", err)
	}
	if tc.ClientAuth == tlsconf.ClientAuthRequired {
		cfg.CertPrincipal = func(cs tls.ConnectionState) (string, error) {
			p, err := r.Principal(cs)
			return p.Name, err
		}
	}
	return nil
}
