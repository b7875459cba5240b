package broker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// SaslAuthenticate, versions 0-2.
//
// Version notes:
//   - v1: SessionLifetimeMs (KIP-368): connections.max.reauth.ms, or less
//     when the credential (an OAUTHBEARER token) expires sooner
//   - v2: flexible versions
//
// A failed authentication answers SASL_AUTHENTICATION_FAILED with a
// message that does not say whether the user exists, then closes the
// connection, as Kafka does. A re-authentication must authenticate the
// same principal.
func init() { register(int16(kmsg.SASLAuthenticate), 0, 2, (*Broker).handleSaslAuthenticate) }

// errSASLFailed closes the connection after the failure response.
var errSASLFailed = errors.New("broker: SASL authentication failed")

func (b *Broker) handleSaslAuthenticate(_ context.Context, c *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.SASLAuthenticateRequest)
	resp := req.ResponseKind().(*kmsg.SASLAuthenticateResponse)
	if c.l.SASL == nil || c.sasl.ex == nil || c.sasl.raw {
		resp.ErrorCode = kerr.IllegalSaslState.Code
		resp.ErrorMessage = kmsg.StringPtr("SaslAuthenticate without a SaslHandshake v1 first")
		return resp, nil
	}
	out, done, err := c.saslStep(req.SASLAuthBytes)
	if err != nil {
		resp.ErrorCode = kerr.SaslAuthenticationFailed.Code
		resp.ErrorMessage = kmsg.StringPtr(fmt.Sprintf("Authentication failed during authentication due to invalid credentials with SASL mechanism %s", c.sasl.mechanism))
		c.closeAfter = errSASLFailed
		return resp, nil
	}
	resp.SASLAuthBytes = out
	if done && req.Version >= 1 && !c.sasl.expires.IsZero() {
		resp.SessionLifetimeMillis = max(c.sasl.expires.Sub(c.b.now()).Milliseconds(), 1)
	}
	return resp, nil
}

// saslStep runs one step of the connection's exchange and, when it
// completes, authenticates the connection (or fails a re-authentication
// that names another principal).
func (c *conn) saslStep(msg []byte) ([]byte, bool, error) {
	ex := c.sasl.ex
	out, done, err := ex.Step(msg)
	if err != nil {
		c.b.lg.Info("SASL authentication failed", "remote", c.remote, "listener", c.l.Name, "mechanism", c.sasl.mechanism, "err", err)
		c.sasl.ex = nil
		return nil, false, err
	}
	if !done {
		return out, false, nil
	}
	c.sasl.ex = nil
	p := ex.Principal()
	if c.sasl.done && p != c.principal {
		err := fmt.Errorf("re-authentication as %s on a connection of %s", p, c.principal)
		c.b.lg.Info("SASL re-authentication failed", "remote", c.remote, "err", err)
		return nil, false, err
	}
	c.principal, c.sasl.done = p, true
	c.sasl.expires = time.Time{}
	if d := c.sessionLifetime(ex); d > 0 {
		c.sasl.expires = c.b.now().Add(d)
	}
	return out, true, nil
}
