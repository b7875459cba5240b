package node

import (
	"context"
	"crypto/tls"
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
	kplain "github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/samsa-streaming/samsa/internal/config"
	"github.com/samsa-streaming/samsa/internal/connect"
	"github.com/samsa-streaming/samsa/internal/sasl"
)

// startConnect starts the Kafka Connect worker (internal/connect), a
// Kafka client of this node, when Config.ConnectListen asks for it (off
// by default). It uses group samsa-connect and the topics
// connect-configs, connect-offsets and connect-status. Its security is
// connectSecurity's and connectClient's.
func (n *Node) startConnect(ctx context.Context, env ServiceEnv) error {
	addr := n.cfg.ConnectListen
	if addr == "" || addr == "none" || env.Bootstrap == "" {
		return nil
	}
	plugins, err := connect.DefaultPlugins()
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	cfg := connect.Config{
		Listen:    addr,
		GroupID:   "samsa-connect",
		ClusterID: env.ClusterID,
		Plugins:   plugins,
		Logger:    n.lg.With("service", "connect"),
		LogLevel:  n.cfg.LogLevel,
	}
	if cfg.Brokers, cfg.ClientOpts, err = n.connectClient(env); err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	if err := n.connectSecurity(&cfg); err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	if cfg.Auth != nil {
		n.stack.push("connect logins", false, func() error { cfg.Auth.Close(); return nil })
	}
	srv, err := connect.New(cfg)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	if err := srv.Start(ctx); err != nil {
		return err
	}
	n.connect = srv
	n.stack.push(srv.Name(), false, srv.Close)
	return nil
}

// connectSecurity applies the REST API's security settings to cfg: an
// https:// --connect-listen serves TLS with the listener.name.connect.ssl.*
// settings (ssl.* as fallback; certificates reload as a Kafka listener's;
// ssl.client.auth=required asks clients for certificates), and the worker
// trusts its peers' HTTPS by the same settings' trust store when it
// forwards to them; samsa.connect.authentication.method=BASIC requires
// Kafka users' basic credentials (internal/connect/auth.go).
func (n *Node) connectSecurity(cfg *connect.Config) error {
	if rest, ok := strings.CutPrefix(cfg.Listen, "https://"); ok {
		server, r, err := n.serviceTLSReloader("CONNECT")
		if err != nil {
			return err
		}
		cfg.TLS, cfg.Listen = server, rest
		cfg.ForwardTLS = func(host string) *tls.Config { return r.ClientConfig(host) }
	}
	cfg.Listen = strings.TrimPrefix(cfg.Listen, "http://")
	auth, err := n.serviceAuth("connect", "samsa-connect")
	if err != nil {
		return err
	}
	cfg.Auth = auth
	return nil
}

// connectClient is where the worker's Kafka clients connect, and how. With
// samsa.connect.sasl.jaas.config (a ScramLoginModule or PlainLoginModule
// entry, as a Java worker's sasl.jaas.config) they log in with
// samsa.connect.sasl.mechanism (default SCRAM-SHA-512) to the listener the
// HTTP services' logins use (loginListener), and act as that user;
// without it they use the node's first listener as the registry and the
// REST proxy do: PLAINTEXT as ANONYMOUS, or SSL trusting the node's own
// certificate and presenting its keystore's (loginTLS). A first listener
// with SASL needs the credentials.
func (n *Node) connectClient(env ServiceEnv) ([]string, []kgo.Opt, error) {
	var jaas, mech string
	if b := n.cfg.Broker; b != nil {
		jaas, mech = b.Values["samsa.connect.sasl.jaas.config"], b.Values["samsa.connect.sasl.mechanism"]
	}
	if jaas == "" {
		if len(n.listeners) == 0 {
			return []string{env.Bootstrap}, nil, nil
		}
		bl := &n.listeners[0]
		switch bl.cfg.Protocol {
		case config.ProtocolPlaintext:
			return []string{env.Bootstrap}, nil, nil
		case config.ProtocolSSL:
			dial, err := n.loginTLS(bl)
			if err != nil {
				return nil, nil, err
			}
			return []string{env.Bootstrap}, []kgo.Opt{kgo.Dialer(dial)}, nil
		}
		return nil, nil, fmt.Errorf("listener %s is %s: set samsa.connect.sasl.jaas.config for the worker's login", bl.cfg.Name, bl.cfg.Protocol)
	}
	user, pass, err := sasl.ParseLoginJAAS(jaas, strings.ToUpper(mech))
	if err != nil {
		return nil, nil, fmt.Errorf("samsa.connect.sasl.jaas.config: %w", err)
	}
	addr, opts, err := n.loginListener()
	if err != nil {
		return nil, nil, fmt.Errorf("samsa.connect.sasl.jaas.config: %w", err)
	}
	switch strings.ToUpper(mech) {
	case "", "SCRAM-SHA-512":
		opts = append(opts, kgo.SASL(scram.Auth{User: user, Pass: pass}.AsSha512Mechanism()))
	case "SCRAM-SHA-256":
		opts = append(opts, kgo.SASL(scram.Auth{User: user, Pass: pass}.AsSha256Mechanism()))
	case "PLAIN":
		opts = append(opts, kgo.SASL(kplain.Auth{User: user, Pass: pass}.AsMechanism()))
	default:
		return nil, nil, fmt.Errorf("samsa.connect.sasl.mechanism %q: want SCRAM-SHA-512, SCRAM-SHA-256 or PLAIN", mech)
	}
	return []string{addr}, opts, nil
}
