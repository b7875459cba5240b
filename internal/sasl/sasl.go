package sasl

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Mechanism names, as Kafka spells them in sasl.enabled.mechanisms and in
// SaslHandshake.
const (
	MechanismPlain       = "PLAIN"
	MechanismScramSHA256 = "SCRAM-SHA-256"
	MechanismScramSHA512 = "SCRAM-SHA-512"
	MechanismOAuthBearer = "OAUTHBEARER"
)

// PrincipalTypeUser is the principal type of every principal this package
// authenticates (KafkaPrincipal.USER_TYPE).
const PrincipalTypeUser = "User"

// MaxMessageBytes caps every client message an Exchange accepts. Longer
// messages fail authentication before anything is parsed or allocated.
const MaxMessageBytes = 64 << 10

// ErrAuthenticationFailed is the one error an Exchange returns. It is wrapped
// with a reason meant for the broker's log; the client is told only
// FailureMessage, never the reason.
var ErrAuthenticationFailed = errors.New("sasl: authentication failed")

// ErrInvalidConfig is wrapped by every configuration and credential-format
// error (Validate, ConfigFromProperties, ParsePlainJAAS, ParseAddScram,
// NewScramCredential, ...).
var ErrInvalidConfig = errors.New("sasl: invalid configuration")

// FailureMessage is the error message Kafka puts in a SaslAuthenticate
// response when a mechanism rejects the client's credentials. It does not
// say why, so it does not tell whether the user exists.
func FailureMessage(mechanism string) string {
	return "Authentication failed during authentication due to invalid credentials with SASL mechanism " + mechanism
}

// Principal is an authenticated identity (Kafka's KafkaPrincipal).
type Principal struct {
	Type string // always PrincipalTypeUser
	Name string
}

// String formats the principal as Kafka does in ACLs: "User:alice".
func (p Principal) String() string { return p.Type + ":" + p.Name }

// Result is what a successful exchange established.
type Result struct {
	Principal Principal
	// Expiry is when the credential stops being valid: the token's exp for
	// OAUTHBEARER, zero (no limit) for PLAIN and SCRAM. A broker with
	// connections.max.reauth.ms set (KIP-368) ends the session at
	// min(Expiry, now+connections.max.reauth.ms).
	Expiry time.Time
	// Scope is the OAUTHBEARER token's scope claim; nil for other mechanisms.
	Scope []string
}

// Mechanism is one server-side SASL mechanism, configured once and shared by
// every connection. Implementations are safe for concurrent use.
type Mechanism interface {
	// Name is the mechanism's name (MechanismPlain, ...).
	Name() string
	// Start begins one authentication exchange, for one connection.
	Start() Exchange
}

// Exchange is one authentication exchange: a deterministic state machine
// fed the client's messages in order. It is not safe for concurrent use.
type Exchange interface {
	// Step consumes the client's next message. It returns the message for
	// the server to send back (possibly empty), and done once the client is
	// authenticated. An error always wraps ErrAuthenticationFailed and ends
	// the exchange: later calls fail too.
	Step(clientMsg []byte) (serverMsg []byte, done bool, err error)
	// Result is the outcome once Step reported done; ok is false before
	// that and after a failure.
	Result() (r Result, ok bool)
}

// Clock tells the time. Tests inject a fixed clock.
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// failf returns ErrAuthenticationFailed wrapped with a reason for logs.
func failf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrAuthenticationFailed, fmt.Sprintf(format, args...))
}

// failWrap returns ErrAuthenticationFailed wrapped with reason and cause.
func failWrap(reason string, cause error) error {
	return fmt.Errorf("%w: %s: %w", ErrAuthenticationFailed, reason, cause)
}

// configErrorf returns ErrInvalidConfig wrapped with a reason.
func configErrorf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidConfig, fmt.Sprintf(format, args...))
}

// configWrap returns ErrInvalidConfig wrapped with a reason and a cause.
func configWrap(reason string, cause error) error {
	return fmt.Errorf("%w: %s: %w", ErrInvalidConfig, reason, cause)
}

// unescapeSaslName decodes an RFC 5802 saslname: "=2C" is ',' and "=3D" is
// '='; any other '=', a raw ',', NUL or invalid UTF-8 makes it invalid.
func unescapeSaslName(s string) (string, bool) {
	if s == "" || !utf8.ValidString(s) || strings.ContainsAny(s, ",\x00") {
		return "", false
	}
	if !strings.Contains(s, "=") {
		return s, true
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '=' {
			b.WriteByte(s[i])
			continue
		}
		switch {
		case strings.HasPrefix(s[i:], "=2C"):
			b.WriteByte(',')
		case strings.HasPrefix(s[i:], "=3D"):
			b.WriteByte('=')
		default:
			return "", false
		}
		i += 2
	}
	return b.String(), true
}

// finished is the state of an exchange that succeeded or failed: every
// further Step fails.
func finishedStep() ([]byte, bool, error) {
	return nil, false, failf("exchange already finished")
}
