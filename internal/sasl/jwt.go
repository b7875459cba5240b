package sasl

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// maxJWKSBytes caps a JWKS document.
const maxJWKSBytes = 1 << 20

// minRSABits is the smallest RSA key accepted from a JWKS.
const minRSABits = 2048

// jwsAlgorithms are the signature algorithms a token may use. "none" and
// the HMAC algorithms are not among them: a token is always verified
// against a public key from the JWKS.
var jwsAlgorithms = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512,
	jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512,
	jose.EdDSA,
}

// JWKS is a parsed JSON Web Key Set (RFC 7517): the public signing keys
// tokens are verified with. It is immutable, and is itself a KeySource
// (a static one).
type JWKS struct {
	keys []jose.JSONWebKey
}

// ParseJWKS parses a JWKS document. Keys this package cannot verify with
// (symmetric keys, keys whose use is not "sig", unknown key types, RSA
// keys under 2048 bits) are skipped; a set left with no key is an error.
// Private parts of a key, if present, are dropped.
func ParseJWKS(data []byte) (*JWKS, error) {
	if len(data) > maxJWKSBytes {
		return nil, configErrorf("JWKS of %d bytes exceeds %d", len(data), maxJWKSBytes)
	}
	var raw struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, configWrap("JWKS is not JSON", err)
	}
	set := &JWKS{}
	for _, r := range raw.Keys {
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(r); err != nil {
			continue
		}
		pub := k.Public()
		if !pub.Valid() || (pub.Use != "" && pub.Use != "sig") {
			continue
		}
		switch pk := pub.Key.(type) {
		case *rsa.PublicKey:
			if pk.N.BitLen() < minRSABits {
				continue
			}
		case *ecdsa.PublicKey, ed25519.PublicKey:
		default:
			continue
		}
		pub.Certificates = nil
		set.keys = append(set.keys, pub)
	}
	if len(set.keys) == 0 {
		return nil, configErrorf("JWKS holds no usable signing key")
	}
	return set, nil
}

// Len is the number of usable keys in the set.
func (s *JWKS) Len() int { return len(s.keys) }

// KeySet implements KeySource.
func (s *JWKS) KeySet() (*JWKS, error) {
	if s == nil || len(s.keys) == 0 {
		return nil, configErrorf("no JWKS")
	}
	return s, nil
}

// UnknownKID implements KeySource; a static set cannot learn new keys.
func (s *JWKS) UnknownKID(string) {}

// candidates returns the keys that may have signed a token with this kid and
// alg; kidKnown is false when kid is set and no key has it.
func (s *JWKS) candidates(kid, alg string) (keys []jose.JSONWebKey, kidKnown bool) {
	for _, k := range s.keys {
		if kid != "" && k.KeyID != kid {
			continue
		}
		kidKnown = true
		if keyFits(k, alg) {
			keys = append(keys, k)
		}
	}
	return keys, kidKnown || kid == ""
}

// keyFits reports whether k can verify alg: the key's own alg, if set, is
// alg, and its type (and curve) is the one alg needs.
func keyFits(k jose.JSONWebKey, alg string) bool {
	if k.Algorithm != "" && k.Algorithm != alg {
		return false
	}
	switch pk := k.Key.(type) {
	case *rsa.PublicKey:
		return strings.HasPrefix(alg, "RS") || strings.HasPrefix(alg, "PS")
	case *ecdsa.PublicKey:
		return alg == "ES256" && pk.Curve == elliptic.P256() ||
			alg == "ES384" && pk.Curve == elliptic.P384() ||
			alg == "ES512" && pk.Curve == elliptic.P521()
	case ed25519.PublicKey:
		return alg == "EdDSA"
	}
	return false
}

// KeySource gives the validator its verification keys.
type KeySource interface {
	// KeySet returns the current keys, or an error when none could be
	// loaded; validation then fails (closed).
	KeySet() (*JWKS, error)
	// UnknownKID is told when a token names a key id the set lacks. A
	// refreshing source may refetch (rate-limited, asynchronously); the
	// token at hand fails either way.
	UnknownKID(kid string)
}

// Token is what a valid token says.
type Token struct {
	Principal string    // the sub claim (or the configured claim), trimmed
	Expiry    time.Time // exp
	IssuedAt  time.Time // iat; zero when absent
	Scope     []string  // the scope claim, split on spaces when a string
	KeyID     string    // kid of the key that verified the token
}

// TokenValidator validates OAUTHBEARER tokens: signed JWTs (RFC 7519) as
// Kafka's BrokerJwtValidator checks them. It is safe for concurrent use.
type TokenValidator struct {
	cfg   OAuthBearerConfig
	keys  KeySource
	clock Clock
}

// NewTokenValidator returns a validator checking tokens against cfg's
// expected audience, issuer, clock skew and claim names, with keys from
// keys and time from clock (SystemClock when nil). cfg's JWKS settings are
// not used here: they configure a JWKSRefresher.
func NewTokenValidator(cfg OAuthBearerConfig, keys KeySource, clock Clock) (*TokenValidator, error) {
	if err := cfg.validateClaims(); err != nil {
		return nil, err
	}
	if keys == nil {
		return nil, configErrorf("OAUTHBEARER token validator needs a key source")
	}
	if clock == nil {
		clock = SystemClock{}
	}
	cfg.ExpectedAudience = slices.Clone(cfg.ExpectedAudience)
	return &TokenValidator{cfg: cfg, keys: keys, clock: clock}, nil
}

// Validate verifies token's signature and claims. Every error wraps
// ErrAuthenticationFailed.
func (v *TokenValidator) Validate(token string) (Token, error) {
	if len(token) > MaxMessageBytes {
		return Token{}, failf("OAUTHBEARER: token of %d bytes exceeds %d", len(token), MaxMessageBytes)
	}
	jws, err := jose.ParseSignedCompact(token, jwsAlgorithms)
	if err != nil {
		return Token{}, failWrap("OAUTHBEARER: malformed token or disallowed algorithm", err)
	}
	if len(jws.Signatures) != 1 {
		return Token{}, failf("OAUTHBEARER: token has %d signatures", len(jws.Signatures))
	}
	hdr := jws.Signatures[0].Header
	set, err := v.keys.KeySet()
	if err != nil {
		return Token{}, failWrap("OAUTHBEARER: no verification keys", err)
	}
	keys, kidKnown := set.candidates(hdr.KeyID, hdr.Algorithm)
	if !kidKnown {
		v.keys.UnknownKID(hdr.KeyID)
		return Token{}, failf("OAUTHBEARER: unknown key id %q", hdr.KeyID)
	}
	if len(keys) == 0 {
		return Token{}, failf("OAUTHBEARER: no key for algorithm %s (kid %q)", hdr.Algorithm, hdr.KeyID)
	}
	var payload []byte
	var kid string
	for _, k := range keys {
		if payload, err = jws.Verify(k.Key); err == nil {
			kid = k.KeyID
			break
		}
	}
	if payload == nil {
		return Token{}, failWrap("OAUTHBEARER: bad signature", err)
	}
	tok, err := v.checkClaims(payload)
	tok.KeyID = kid
	return tok, err
}

// checkClaims checks a verified payload's claims.
func (v *TokenValidator) checkClaims(payload []byte) (Token, error) {
	var claims map[string]json.RawMessage
	if err := json.Unmarshal(payload, &claims); err != nil {
		return Token{}, failWrap("OAUTHBEARER: claims are not a JSON object", err)
	}
	var tok Token
	var err error
	if tok.Expiry, tok.IssuedAt, err = v.checkTimes(claims); err != nil {
		return Token{}, err
	}
	if err := v.checkIssuerAudience(claims); err != nil {
		return Token{}, err
	}
	var sub string
	if raw, ok := claims[v.cfg.SubClaimName]; !ok || json.Unmarshal(raw, &sub) != nil || strings.TrimSpace(sub) == "" {
		return Token{}, failf("OAUTHBEARER: claim %q is missing or not a non-empty string", v.cfg.SubClaimName)
	}
	tok.Principal = strings.TrimSpace(sub)
	if tok.Scope, err = parseScope(claims[v.cfg.ScopeClaimName]); err != nil {
		return Token{}, failWrap("OAUTHBEARER: claim "+v.cfg.ScopeClaimName, err)
	}
	return tok, nil
}

// checkTimes checks exp (required), nbf and iat against the clock, allowing
// the configured skew either way.
func (v *TokenValidator) checkTimes(claims map[string]json.RawMessage) (exp, iat time.Time, err error) {
	now, skew := v.clock.Now(), v.cfg.ClockSkew
	date := func(name string) (time.Time, bool, error) {
		raw, ok := claims[name]
		if !ok {
			return time.Time{}, false, nil
		}
		var d jwt.NumericDate
		if err := json.Unmarshal(raw, &d); err != nil {
			return time.Time{}, false, failWrap("OAUTHBEARER: claim "+name+" is not a date", err)
		}
		return d.Time(), true, nil
	}
	exp, ok, err := date("exp")
	switch {
	case err != nil:
		return exp, iat, err
	case !ok:
		return exp, iat, failf("OAUTHBEARER: token has no exp claim")
	case !now.Before(exp.Add(skew)):
		return exp, iat, failf("OAUTHBEARER: token expired at %s", exp.UTC().Format(time.RFC3339))
	}
	nbf, ok, err := date("nbf")
	if err != nil {
		return exp, iat, err
	}
	if ok && now.Add(skew).Before(nbf) {
		return exp, iat, failf("OAUTHBEARER: token not valid before %s", nbf.UTC().Format(time.RFC3339))
	}
	iat, ok, err = date("iat")
	if err != nil {
		return exp, iat, err
	}
	if ok && now.Add(skew).Before(iat) {
		return exp, iat, failf("OAUTHBEARER: token issued in the future, at %s", iat.UTC().Format(time.RFC3339))
	}
	return exp, iat, nil
}

func (v *TokenValidator) checkIssuerAudience(claims map[string]json.RawMessage) error {
	if v.cfg.ExpectedIssuer != "" {
		var iss string
		if raw, ok := claims["iss"]; !ok || json.Unmarshal(raw, &iss) != nil || iss != v.cfg.ExpectedIssuer {
			return failf("OAUTHBEARER: issuer is not %q", v.cfg.ExpectedIssuer)
		}
	}
	if len(v.cfg.ExpectedAudience) > 0 {
		var aud jwt.Audience
		if raw, ok := claims["aud"]; !ok || json.Unmarshal(raw, &aud) != nil ||
			!slices.ContainsFunc(v.cfg.ExpectedAudience, aud.Contains) {
			return failf("OAUTHBEARER: audience is none of %q", v.cfg.ExpectedAudience)
		}
	}
	return nil
}

// parseScope reads a scope claim: a space-separated string or an array of
// strings; absent is no scope.
func parseScope(raw json.RawMessage) ([]string, error) {
	if raw == nil {
		return nil, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return strings.Fields(s), nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, err
	}
	return list, nil
}
