package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	kgosasl "github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/protocol"
	"github.com/samsa-streaming/samsa/internal/sasl"
)

// SASL as a client, between the cluster's own nodes (Kafka's inter-broker
// and controller SASL): the node logs in to the other nodes' SASL listener
// with the mechanism sasl.mechanism.inter.broker.protocol (or
// sasl.mechanism.controller.protocol) names and the username and password
// of listener.name.<listener>.<mechanism>.sasl.jaas.config (then
// listener.name.<listener>.sasl.jaas.config, then sasl.jaas.config):
// Kafka's PlainLoginModule or ScramLoginModule entry.

// saslLoginMaxResponse bounds a SaslHandshake or SaslAuthenticate response.
const saslLoginMaxResponse = 1 << 20

// saslLogin is one node's SASL client configuration for a listener.
type saslLogin struct {
	listener  string
	mechanism string
	username  string
	mech      kgosasl.Mechanism
}

// newSASLLogin reads the mechanism named by setting (Kafka's default,
// GSSAPI, is refused) and its credentials for listener name; allowed are
// the mechanisms this use supports.
func newSASLLogin(props map[string]string, name, setting string, allowed ...string) (*saslLogin, error) {
	mech := strings.ToUpper(strings.TrimSpace(props[setting]))
	switch {
	case mech == "" || mech == "GSSAPI":
		return nil, fmt.Errorf("listener %s: %s is %q, which is Kafka's default GSSAPI (Kerberos), not available in Samsa: set it to one of %s",
			name, setting, props[setting], strings.Join(allowed, ", "))
	case !containsFold(allowed, mech):
		return nil, fmt.Errorf("listener %s: %s=%s is not available here: use %s", name, setting, mech, strings.Join(allowed, ", "))
	}
	prefix := "listener.name." + strings.ToLower(name) + "."
	var jaas, key string
	for _, k := range []string{prefix + strings.ToLower(mech) + ".sasl.jaas.config", prefix + "sasl.jaas.config", "sasl.jaas.config"} {
		if v, ok := props[k]; ok {
			jaas, key = v, k
			break
		}
	}
	if key == "" {
		return nil, fmt.Errorf("listener %s: %s=%s needs this node's credentials in %s%s.sasl.jaas.config", name, setting, mech, prefix, strings.ToLower(mech))
	}
	user, pass, err := sasl.ParseLoginJAAS(jaas, mech)
	if err != nil {
		return nil, fmt.Errorf("listener %s: %s: %w", name, key, err)
	}
	l := &saslLogin{listener: name, mechanism: mech, username: user}
	switch mech {
	case sasl.MechanismPlain:
		l.mech = plain.Auth{User: user, Pass: pass}.AsMechanism()
	case sasl.MechanismScramSHA256:
		l.mech = scram.Auth{User: user, Pass: pass}.AsSha256Mechanism()
	case sasl.MechanismScramSHA512:
		l.mech = scram.Auth{User: user, Pass: pass}.AsSha512Mechanism()
	}
	return l, nil
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// principal is the principal the peers see this node as.
func (l *saslLogin) principal() string { return "User:" + l.username }

// authenticate logs nc in to a Kafka listener at addr: SaslHandshake v1,
// then SaslAuthenticate until the mechanism is done. nc then carries
// the caller's requests.
func (l *saslLogin) authenticate(ctx context.Context, nc net.Conn, addr, clientID string) error {
	c := protocol.NewConn(nc, clientID, saslLoginMaxResponse)
	hs := kmsg.NewPtrSASLHandshakeRequest()
	hs.Version, hs.Mechanism = 1, l.mechanism
	hsResp := kmsg.NewPtrSASLHandshakeResponse()
	if err := c.RoundTrip(ctx, hs, hsResp); err != nil {
		return fmt.Errorf("SaslHandshake: %w", err)
	}
	if hsResp.ErrorCode != 0 {
		return fmt.Errorf("%w: SaslHandshake %s: %w (the listener offers %v)", errSASLLogin, l.mechanism, kerr.ErrorForCode(hsResp.ErrorCode), hsResp.SupportedMechanisms)
	}
	host, _, _ := net.SplitHostPort(addr)
	sess, msg, err := l.mech.Authenticate(ctx, host)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", errSASLLogin, l.mechanism, err)
	}
	for range 8 {
		req := kmsg.NewPtrSASLAuthenticateRequest()
		req.Version, req.SASLAuthBytes = 1, msg
		resp := kmsg.NewPtrSASLAuthenticateResponse()
		if err := c.RoundTrip(ctx, req, resp); err != nil {
			return fmt.Errorf("SaslAuthenticate: %w", err)
		}
		if resp.ErrorCode != 0 {
			detail := ""
			if resp.ErrorMessage != nil {
				detail = ": " + *resp.ErrorMessage
			}
			return fmt.Errorf("%w: %s as %s: %w%s", errSASLLogin, l.mechanism, l.principal(), kerr.ErrorForCode(resp.ErrorCode), detail)
		}
		done, next, err := sess.Challenge(resp.SASLAuthBytes)
		if err != nil {
			return fmt.Errorf("%w: %s as %s: %w", errSASLLogin, l.mechanism, l.principal(), err)
		}
		if done {
			_ = nc.SetDeadline(time.Time{})
			return nil
		}
		msg = next
	}
	return fmt.Errorf("%w: %s: too many steps", errSASLLogin, l.mechanism)
}

// errSASLLogin marks a refused login (as opposed to a network failure).
var errSASLLogin = errors.New("SASL authentication failed")

// saslDial wraps dial (plain TCP when nil) with the login, and warns
// (at most every 10 seconds) when a peer refuses it.
func saslDial(dial func(context.Context, string) (net.Conn, error), l *saslLogin, clientID string, lg *slog.Logger) func(context.Context, string) (net.Conn, error) {
	if dial == nil {
		var d net.Dialer
		dial = func(ctx context.Context, addr string) (net.Conn, error) { return d.DialContext(ctx, "tcp", addr) }
	}
	var mu sync.Mutex
	var lastWarn time.Time
	return func(ctx context.Context, addr string) (net.Conn, error) {
		nc, err := dial(ctx, addr)
		if err != nil {
			return nil, err
		}
		if err := l.authenticate(ctx, nc, addr, clientID); err != nil {
			nc.Close()
			if errors.Is(err, errSASLLogin) {
				mu.Lock()
				warn := time.Since(lastWarn) > 10*time.Second
				if warn {
					lastWarn = time.Now()
				}
				mu.Unlock()
				if warn {
					lg.Error("inter-broker SASL authentication failed: check this broker's credentials", "listener", l.listener, "addr", addr, "err", err)
				}
			}
			return nil, fmt.Errorf("inter-broker listener %s at %s: %w", l.listener, addr, err)
		}
		return nc, nil
	}
}
