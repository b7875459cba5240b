package broker

import (
	"errors"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// SASL authenticates the connections of a SASL_PLAINTEXT or SASL_SSL
// listener: the node adapts internal/sasl to it.
type SASL interface {
	// Mechanisms are the enabled mechanisms (sasl.enabled.mechanisms), in
	// the order SaslHandshake lists them.
	Mechanisms() []string
	// Start begins one authentication with an enabled mechanism.
	Start(mechanism string) (SASLExchange, error)
}

// SASLExchange is one authentication in progress.
type SASLExchange interface {
	// Step takes the client's next message and returns the server's
	// answer; done reports success. An error fails the authentication:
	// the broker answers SASL_AUTHENTICATION_FAILED and closes.
	Step(msg []byte) (resp []byte, done bool, err error)
	// Principal is who authenticated ("User:alice"), once done.
	Principal() string
	// Expiry is when the credential stops being valid (an OAUTHBEARER
	// token's exp), or zero.
	Expiry() time.Time
}

// errSASLState closes a connection that sends anything but ApiVersions,
// SaslHandshake and SaslAuthenticate before authenticating, or whose
// session expired (Kafka's IllegalSaslStateException).
var errSASLState = errors.New("broker: request before SASL authentication completed (or after the session expired)")

// saslState is a connection's SASL progress; used only by its goroutine.
type saslState struct {
	// mechanism was chosen by the last SaslHandshake; ex runs it.
	mechanism string
	ex        SASLExchange
	// raw: SaslHandshake v0 was used, so the tokens that follow are
	// size-prefixed without Kafka request headers.
	raw bool
	// done: authenticated; expires (zero: never) ends the session, after
	// which only a re-authentication (KIP-368) is served.
	done    bool
	expires time.Time
}

// preAuthAPI reports whether key may be sent before authenticating.
func preAuthAPI(key int16) bool {
	switch kmsg.Key(key) {
	case kmsg.ApiVersions, kmsg.SASLHandshake, kmsg.SASLAuthenticate:
		return true
	}
	return false
}

// authorizeFrame checks a request against the connection's SASL state: on a
// SASL listener only ApiVersions, SaslHandshake and SaslAuthenticate are
// served before authentication and once the session has expired.
func (c *conn) authorizeFrame(key int16) error {
	if c.l.SASL == nil || preAuthAPI(key) {
		return nil
	}
	if !c.sasl.done {
		return errSASLState
	}
	if !c.sasl.expires.IsZero() && !c.b.now().Before(c.sasl.expires) {
		return errSASLState
	}
	return nil
}

// sessionLifetime is KIP-368's session lifetime for a new authentication:
// connections.max.reauth.ms, shortened to the credential's expiry; zero
// when neither applies.
func (c *conn) sessionLifetime(ex SASLExchange) time.Duration {
	now := c.b.now()
	var d time.Duration
	if c.l.ReauthMs > 0 {
		d = time.Duration(c.l.ReauthMs) * time.Millisecond
	}
	if exp := ex.Expiry(); !exp.IsZero() {
		left := exp.Sub(now)
		if left <= 0 {
			left = time.Millisecond
		}
		if d == 0 || left < d {
			d = left
		}
	}
	return d
}
