package sasl

import (
	"strings"
)

// oauthInvalidToken is the error the server sends when a token fails
// validation (RFC 7628 section 3.2.2, as Kafka words it).
const oauthInvalidToken = `{"status":"invalid_token"}`

// maxOAuthPairs caps the key/value pairs of an initial response.
const maxOAuthPairs = 32

// NewOAuthBearer returns the OAUTHBEARER mechanism (RFC 7628) as Kafka's
// OAuthBearerSaslServer runs it, validating tokens with v.
func NewOAuthBearer(v *TokenValidator) Mechanism { return oauthMechanism{v: v} }

type oauthMechanism struct{ v *TokenValidator }

func (oauthMechanism) Name() string { return MechanismOAuthBearer }

func (m oauthMechanism) Start() Exchange { return &oauthExchange{v: m.v} }

type oauthState uint8

const (
	oauthWantInitial oauthState = iota
	oauthWantAck                // the server sent its error; the client must answer %x01
	oauthFinished
)

type oauthExchange struct {
	v       *TokenValidator
	state   oauthState
	failure error
	result  Result
	ok      bool
}

func (e *oauthExchange) Result() (Result, bool) { return e.result, e.ok }

// Step handles the client's initial response, then, if the token was
// rejected, the client's %x01 acknowledgement of the server's error.
func (e *oauthExchange) Step(msg []byte) ([]byte, bool, error) {
	switch e.state {
	case oauthWantInitial:
		e.state = oauthFinished
		ir, err := parseOAuthInitial(msg)
		if err != nil {
			return nil, false, err
		}
		tok, err := e.v.Validate(ir.token)
		if err != nil {
			e.state, e.failure = oauthWantAck, err
			return []byte(oauthInvalidToken), false, nil
		}
		if ir.authzid != "" && ir.authzid != tok.Principal {
			return nil, false, failf("OAUTHBEARER: authorization id %q differs from the token's principal %q", ir.authzid, tok.Principal)
		}
		e.result = Result{Principal: Principal{Type: PrincipalTypeUser, Name: tok.Principal}, Expiry: tok.Expiry, Scope: tok.Scope}
		e.ok = true
		return nil, true, nil
	case oauthWantAck:
		e.state = oauthFinished
		if len(msg) != 1 || msg[0] != 0x01 {
			return nil, false, failWrap("OAUTHBEARER: client did not acknowledge the error with %x01", e.failure)
		}
		return nil, false, e.failure
	}
	return finishedStep()
}

type oauthInitial struct {
	authzid    string
	token      string
	extensions map[string]string
}

// parseOAuthInitial parses a client initial response
//
//	gs2-header %x01 *(key "=" value %x01) %x01
//
// with Kafka's grammar: gs2 header "n,," or "n,a=<saslname>,", keys of
// letters, values of printable ASCII, space, tab, CR and LF, an "auth"
// pair "Bearer <token>" (scheme case-insensitive). Other pairs are SASL
// extensions.
func parseOAuthInitial(msg []byte) (oauthInitial, error) {
	var ir oauthInitial
	if len(msg) > MaxMessageBytes {
		return ir, failf("OAUTHBEARER: initial response of %d bytes exceeds %d", len(msg), MaxMessageBytes)
	}
	s := string(msg)
	rest, ok := strings.CutPrefix(s, "n,")
	if !ok {
		if strings.HasPrefix(s, "p=") || strings.HasPrefix(s, "y,") {
			return ir, failf("OAUTHBEARER: channel binding is not supported")
		}
		return ir, failf("OAUTHBEARER: invalid gs2 header")
	}
	if a, ok := strings.CutPrefix(rest, "a="); ok {
		name, after, found := strings.Cut(a, ",")
		if ir.authzid, ok = unescapeSaslName(name); !found || !ok {
			return ir, failf("OAUTHBEARER: invalid authorization id")
		}
		rest = after
	} else if rest, ok = strings.CutPrefix(rest, ","); !ok {
		return ir, failf("OAUTHBEARER: invalid gs2 header")
	}
	body, ok := strings.CutPrefix(rest, "\x01")
	if !ok {
		return ir, failf("OAUTHBEARER: no separator after gs2 header")
	}
	if body, ok = strings.CutSuffix(body, "\x01\x01"); !ok {
		return ir, failf("OAUTHBEARER: initial response does not end with %%x01%%x01")
	}
	pairs, err := parseOAuthPairs(body)
	if err != nil {
		return ir, err
	}
	auth, ok := pairs["auth"]
	if !ok {
		return ir, failf("OAUTHBEARER: no auth pair")
	}
	delete(pairs, "auth")
	ir.extensions = pairs
	scheme, token, ok := strings.Cut(auth, " ")
	token = strings.TrimLeft(token, " ")
	if !ok || !strings.EqualFold(scheme, "bearer") || !validBearerToken(token) {
		return ir, failf("OAUTHBEARER: auth is not \"Bearer <token>\"")
	}
	ir.token = token
	return ir, nil
}

func parseOAuthPairs(body string) (map[string]string, error) {
	if strings.Count(body, "\x01") >= maxOAuthPairs {
		return nil, failf("OAUTHBEARER: too many key/value pairs")
	}
	pairs := map[string]string{}
	for _, kv := range strings.Split(body, "\x01") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !isAlpha(k) || !validOAuthValue(v) {
			return nil, failf("OAUTHBEARER: invalid key/value pair")
		}
		if _, dup := pairs[k]; dup {
			return nil, failf("OAUTHBEARER: key %q given twice", k)
		}
		pairs[k] = v
	}
	return pairs, nil
}

func isAlpha(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// validOAuthValue: 1*(%x21-7E / SP / HTAB / CR / LF).
func validOAuthValue(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 0x21 || c > 0x7e) && c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return false
		}
	}
	return true
}

// validBearerToken: the b64token of RFC 6750, 1*(ALPHA / DIGIT /
// "-" / "." / "_" / "~" / "+" / "/") *"=".
func validBearerToken(s string) bool {
	t := strings.TrimRight(s, "=")
	if t == "" {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/') {
			return false
		}
	}
	return true
}
