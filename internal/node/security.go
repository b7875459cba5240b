package node

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/samsa-streaming/samsa/internal/acl"
	"github.com/samsa-streaming/samsa/internal/broker"
	"github.com/samsa-streaming/samsa/internal/config"
	"github.com/samsa-streaming/samsa/internal/controller"
	"github.com/samsa-streaming/samsa/internal/metadata"
	"github.com/samsa-streaming/samsa/internal/sasl"
	"github.com/samsa-streaming/samsa/internal/tlsconf"
)

// SASL for the broker's listeners: internal/sasl's mechanisms behind the
// broker.SASL interface. SCRAM credentials are read from the metadata
// image at each authentication; OAUTHBEARER tokens are checked against a
// JWKS the node refreshes (one refresher per listener, closed with the
// node).

// oauthValidatorClass is the only sasl.server.callback.handler.class an
// OAUTHBEARER listener takes: Kafka's JWT validator, which is what Samsa
// implements.
const oauthValidatorClass = "org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler"

// defaultMaxPreAuthBytes is sasl.server.max.receive.size's default (Kafka's).
const defaultMaxPreAuthBytes = 524288

// listenerSASL builds the SASL of a SASL_PLAINTEXT or SASL_SSL listener.
func (n *Node) listenerSASL(l config.Listener) (broker.SASL, error) {
	props := n.settings.SecurityProps()
	cfg, err := sasl.ConfigFromProperties(props, l.Name)
	if err != nil {
		return nil, fmt.Errorf("listener %s: %w", l.Name, err)
	}
	if len(cfg.EnabledMechanisms) == 0 {
		return nil, fmt.Errorf("listener %s (%s): sasl.enabled.mechanisms names no mechanism", l.Name, l.Protocol)
	}
	s := &saslServer{}
	for _, mech := range cfg.EnabledMechanisms {
		m, err := n.mechanism(mech, l, cfg, props)
		if err != nil {
			return nil, fmt.Errorf("listener %s: %w", l.Name, err)
		}
		s.mechs = append(s.mechs, m)
	}
	return s, nil
}

// mechanism makes one enabled mechanism of listener l.
func (n *Node) mechanism(mech string, l config.Listener, cfg sasl.Config, props map[string]string) (sasl.Mechanism, error) {
	switch mech {
	case sasl.MechanismPlain:
		if !l.TLS() && !strings.EqualFold(settingFor(props, l, "plain", config.SaslPlainPlaintext), "true") {
			return nil, fmt.Errorf("PLAIN sends passwords in clear: enable it on a SASL_SSL listener, or set %s=true", config.SaslPlainPlaintext)
		}
		if len(cfg.PlainUsers) == 0 {
			return nil, fmt.Errorf("PLAIN needs users in listener.name.%s.plain.sasl.jaas.config", strings.ToLower(l.Name))
		}
		return sasl.NewPlain(sasl.PlainUsers(cfg.PlainUsers)), nil
	case sasl.MechanismScramSHA256, sasl.MechanismScramSHA512:
		return sasl.NewScram(sasl.ScramConfig{Mechanism: mech, Store: scramStore{n.ctl}})
	case sasl.MechanismOAuthBearer:
		if c := settingFor(props, l, "oauthbearer", "sasl.server.callback.handler.class"); c != "" && c != oauthValidatorClass {
			return nil, fmt.Errorf("sasl.server.callback.handler.class %q is not available: Samsa validates JWTs as %s", c, oauthValidatorClass)
		}
		keys, err := sasl.NewJWKSRefresher(cfg.OAuthBearer, &http.Client{Timeout: 10 * time.Second}, sasl.SystemClock{}, n.lg.With("component", "jwks", "listener", l.Name))
		if err != nil {
			return nil, err
		}
		// Load the keys before serving, as Kafka's refreshing JWKS does
		// at start; if the endpoint is down the listener still starts
		// and refuses tokens until the refresher gets the keys.
		rctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := keys.Refresh(rctx); err != nil {
			n.lg.Warn("JWKS not loaded at start; OAUTHBEARER authentications fail until it is", "listener", l.Name, "url", cfg.OAuthBearer.JWKSEndpointURL, "err", err)
		}
		cancel()
		if err := keys.Start(context.Background()); err != nil {
			return nil, err
		}
		n.stack.push("JWKS refresher "+l.Name, false, keys.Close)
		v, err := sasl.NewTokenValidator(cfg.OAuthBearer, keys, sasl.SystemClock{})
		if err != nil {
			return nil, err
		}
		return sasl.NewOAuthBearer(v), nil
	}
	return nil, fmt.Errorf("SASL mechanism %s is not available (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER)", mech)
}

// settingFor looks a setting up as Kafka does for a listener and
// mechanism: listener.name.<l>.<mech>.<name>, listener.name.<l>.<name>,
// then <name>.
func settingFor(props map[string]string, l config.Listener, mech, name string) string {
	prefix := "listener.name." + strings.ToLower(l.Name) + "."
	for _, k := range []string{prefix + mech + "." + name, prefix + name, name} {
		if v, ok := props[k]; ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// reauthMs is connections.max.reauth.ms for the listener (0: off).
func reauthMs(props map[string]string, l config.Listener) (int64, error) {
	v := settingFor(props, l, "", "connections.max.reauth.ms")
	if v == "" {
		return 0, nil
	}
	ms, err := strconv.ParseInt(v, 10, 64)
	if err != nil || ms < 0 {
		return 0, fmt.Errorf("connections.max.reauth.ms: %q is not a non-negative number", v)
	}
	return ms, nil
}

// maxPreAuthBytes is sasl.server.max.receive.size for the listener.
func maxPreAuthBytes(props map[string]string, l config.Listener) (int32, error) {
	v := settingFor(props, l, "", "sasl.server.max.receive.size")
	if v == "" {
		return defaultMaxPreAuthBytes, nil
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("sasl.server.max.receive.size: %q is not a positive number", v)
	}
	return int32(n), nil
}

// saslServer is broker.SASL over internal/sasl mechanisms.
type saslServer struct{ mechs []sasl.Mechanism }

func (s *saslServer) Mechanisms() []string {
	out := make([]string, 0, len(s.mechs))
	for _, m := range s.mechs {
		out = append(out, m.Name())
	}
	return out
}

func (s *saslServer) Start(mechanism string) (broker.SASLExchange, error) {
	i := slices.IndexFunc(s.mechs, func(m sasl.Mechanism) bool { return m.Name() == mechanism })
	if i < 0 {
		return nil, fmt.Errorf("SASL mechanism %s is not enabled", mechanism)
	}
	return &saslExchange{ex: s.mechs[i].Start()}, nil
}

type saslExchange struct {
	ex  sasl.Exchange
	res sasl.Result
}

func (e *saslExchange) Step(msg []byte) ([]byte, bool, error) {
	out, done, err := e.ex.Step(msg)
	if err == nil && done {
		e.res, _ = e.ex.Result()
	}
	return out, done, err
}

func (e *saslExchange) Principal() string { return e.res.Principal.String() }
func (e *saslExchange) Expiry() time.Time { return e.res.Expiry }

// scramStore reads SCRAM credentials from the current metadata image.
type scramStore struct{ ctl *controller.Controller }

func (s scramStore) ScramCredential(mechanism, user string) (sasl.ScramCredential, bool) {
	c, ok := s.ctl.Image().Scram[user][mechanism]
	if !ok {
		return sasl.ScramCredential{}, false
	}
	return sasl.ScramCredential{Mechanism: mechanism, Salt: c.Salt, StoredKey: c.StoredKey, ServerKey: c.ServerKey, Iterations: c.Iterations}, true
}

// scramRecord converts a credential to its metadata record.
func scramRecord(user string, c sasl.ScramCredential) metadata.UpsertScram {
	return metadata.UpsertScram{User: user, Mechanism: c.Mechanism, ScramCredential: metadata.ScramCredential{
		Salt: c.Salt, StoredKey: c.StoredKey, ServerKey: c.ServerKey, Iterations: c.Iterations,
	}}
}

// bootstrapScram creates the --add-scram credentials on a new metadata log
// (one this node found without a cluster id). A user who already has a
// credential for the mechanism keeps it.
func (n *Node) bootstrapScram(ctx context.Context) error {
	if !n.freshLog || len(n.cfg.AddScram) == 0 || !n.cfg.Roles.Broker {
		return nil
	}
	for _, spec := range n.cfg.AddScram {
		user, cred, err := sasl.ParseAddScram(spec, nil)
		if err != nil {
			return fmt.Errorf("--add-scram: %w", err)
		}
		if _, ok := n.ctl.Image().Scram[user][cred.Mechanism]; ok {
			continue
		}
		if _, err := n.ctl.Propose(ctx, scramRecord(user, cred)); err != nil {
			return fmt.Errorf("--add-scram %s for %s: %w", cred.Mechanism, user, err)
		}
		n.lg.Info("created SCRAM credential", "user", user, "mechanism", cred.Mechanism)
	}
	return nil
}

// listenerTLS sets up an SSL or SASL_SSL listener's TLS from its ssl.*
// settings (internal/tlsconf): certificates reloaded when their files
// change, and on an SSL listener the client certificate's principal by
// ssl.principal.mapping.rules.
func (n *Node) listenerTLS(l config.Listener, props map[string]string, bl *broker.Listener) error {
	tc, err := tlsconf.FromProperties(props, l.Name)
	if err != nil {
		return fmt.Errorf("listener %s: %w", l.Name, err)
	}
	r, err := tlsconf.NewReloader(tc, n.lg.With("component", "tls", "listener", l.Name))
	if err != nil {
		return fmt.Errorf("listener %s: %w", l.Name, err)
	}
	if bl.TLS, err = r.ServerConfig(); err != nil {
		return fmt.Errorf("listener %s: %w", l.Name, err)
	}
	bl.Principal = func(cs tls.ConnectionState) (string, error) {
		p, err := r.Principal(cs)
		return p.String(), err
	}
	return nil
}

// interBrokerDial is how this broker connects to the other brokers'
// inter-broker listener (inter.broker.listener.name): nil (plain TCP) for
// PLAINTEXT, TLS presenting this node's certificate for SSL, and for
// SASL_PLAINTEXT and SASL_SSL a SASL login (interbroker_sasl.go) over TCP
// or that TLS.
func (n *Node) interBrokerDial() (func(context.Context, string) (net.Conn, error), error) {
	name := n.settings.InterBrokerListener
	if name == "" || n.cfg.ReplicationListen != "" {
		return nil, nil
	}
	l, _ := n.settings.Listener(name)
	var dial func(context.Context, string) (net.Conn, error)
	if l.TLS() {
		var err error
		if dial, err = n.interBrokerTLSDial(name); err != nil {
			return nil, err
		}
	}
	if !l.SASL() {
		return dial, nil
	}
	props := n.settings.SecurityProps()
	login, err := newSASLLogin(props, name, "sasl.mechanism.inter.broker.protocol",
		sasl.MechanismPlain, sasl.MechanismScramSHA256, sasl.MechanismScramSHA512)
	if err != nil {
		return nil, err
	}
	// As Kafka: the brokers must accept the mechanism they log in with.
	if cfg, err := sasl.ConfigFromProperties(props, name); err == nil && !slices.Contains(cfg.EnabledMechanisms, login.mechanism) {
		return nil, fmt.Errorf("inter-broker listener %s: sasl.mechanism.inter.broker.protocol=%s must be one of its sasl.enabled.mechanisms (%s)",
			name, login.mechanism, strings.Join(cfg.EnabledMechanisms, ","))
	}
	n.lg.Info("inter-broker listener uses SASL", "listener", name, "protocol", l.Protocol, "mechanism", login.mechanism, "principal", login.principal())
	if strings.TrimSpace(n.settings.Values["authorizer.class.name"]) != "" {
		if su, err := acl.ParseSuperUsers(n.settings.Values["super.users"]); err == nil && !slices.Contains(su, login.principal()) {
			n.lg.Warn("the inter-broker principal is not in super.users: followers' fetches are refused unless an ACL grants it ClusterAction on the cluster",
				"principal", login.principal(), "super.users", n.settings.Values["super.users"])
		}
	}
	return saslDial(dial, login, fmt.Sprintf("samsa-broker-%d", n.cfg.NodeID), n.lg.With("component", "inter-broker")), nil
}

// interBrokerTLSDial dials the inter-broker listener name's TLS with its
// ssl.* settings: this node's certificate, the trust store.
func (n *Node) interBrokerTLSDial(name string) (func(context.Context, string) (net.Conn, error), error) {
	tc, err := tlsconf.FromProperties(n.settings.SecurityProps(), name)
	if err != nil {
		return nil, fmt.Errorf("inter-broker listener %s: %w", name, err)
	}
	r, err := tlsconf.NewReloader(tc, n.lg.With("component", "tls", "listener", name, "side", "client"))
	if err != nil {
		return nil, fmt.Errorf("inter-broker listener %s: %w", name, err)
	}
	return func(ctx context.Context, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		d := tls.Dialer{Config: r.ClientConfig(host)}
		return d.DialContext(ctx, "tcp", addr)
	}, nil
}
