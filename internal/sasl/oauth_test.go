package sasl

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/twmb/franz-go/pkg/sasl/oauth"
)

// testKeyPairs are the signing keys of the OAUTHBEARER tests, by kid.
type testKeyPairs map[string]crypto.Signer

var testKeysOnce = sync.OnceValue(func() testKeyPairs {
	must := func(k crypto.Signer, err error) crypto.Signer {
		if err != nil {
			panic(err)
		}
		return k
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	return testKeyPairs{
		"rsa":   must(rsa.GenerateKey(rand.Reader, 2048)),
		"ec256": must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader)),
		"ec384": must(ecdsa.GenerateKey(elliptic.P384(), rand.Reader)),
		"ec521": must(ecdsa.GenerateKey(elliptic.P521(), rand.Reader)),
		"ed":    ed,
		"other": must(rsa.GenerateKey(rand.Reader, 2048)), // never published
	}
})

// jwksJSON publishes the public halves of the named keys.
func jwksJSON(t testing.TB, keys testKeyPairs, kids ...string) []byte {
	t.Helper()
	var set jose.JSONWebKeySet
	for _, kid := range kids {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: keys[kid].Public(), KeyID: kid, Use: "sig"})
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func signJWT(t testing.TB, alg jose.SignatureAlgorithm, key any, kid string, claims map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(s).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

var testNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func baseClaims() map[string]any {
	return map[string]any{
		"sub":   "alice",
		"iss":   "https://issuer.test",
		"aud":   []string{"kafka"},
		"exp":   testNow.Add(time.Hour).Unix(),
		"iat":   testNow.Unix(),
		"nbf":   testNow.Unix(),
		"scope": "read write",
	}
}

func with(kv ...any) map[string]any {
	c := baseClaims()
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(c, kv[i].(string))
		} else {
			c[kv[i].(string)] = kv[i+1]
		}
	}
	return c
}

func testOAuthConfig() OAuthBearerConfig {
	c := OAuthBearerDefaults()
	c.ExpectedAudience = []string{"other", "kafka"}
	c.ExpectedIssuer = "https://issuer.test"
	return c
}

func newTestValidator(t testing.TB, keys KeySource, clock Clock) *TokenValidator {
	t.Helper()
	v, err := NewTokenValidator(testOAuthConfig(), keys, clock)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func allKeysValidator(t *testing.T) (testKeyPairs, *TokenValidator) {
	t.Helper()
	keys := testKeysOnce()
	set, err := ParseJWKS(jwksJSON(t, keys, "rsa", "ec256", "ec384", "ec521", "ed"))
	if err != nil {
		t.Fatal(err)
	}
	return keys, newTestValidator(t, set, &fakeClock{now: testNow})
}

func TestTokenValidatorAlgorithms(t *testing.T) {
	keys, v := allKeysValidator(t)
	for _, tc := range []struct {
		alg jose.SignatureAlgorithm
		kid string
	}{
		{jose.RS256, "rsa"}, {jose.RS384, "rsa"}, {jose.RS512, "rsa"},
		{jose.PS256, "rsa"}, {jose.PS384, "rsa"}, {jose.PS512, "rsa"},
		{jose.ES256, "ec256"}, {jose.ES384, "ec384"}, {jose.ES512, "ec521"},
		{jose.EdDSA, "ed"}, {jose.ES256, ""}, // no kid: every fitting key is tried
	} {
		key := keys[tc.kid]
		if tc.kid == "" {
			key = keys["ec256"]
		}
		tok, err := v.Validate(signJWT(t, tc.alg, key, tc.kid, baseClaims()))
		if err != nil {
			t.Fatalf("%s/%s: %v", tc.alg, tc.kid, err)
		}
		if tok.Principal != "alice" || !tok.Expiry.Equal(testNow.Add(time.Hour)) || !tok.IssuedAt.Equal(testNow) ||
			strings.Join(tok.Scope, " ") != "read write" || tok.KeyID != tc.kid && tc.kid != "" {
			t.Fatalf("%s: token %+v", tc.alg, tok)
		}
	}
}

func TestTokenValidatorClaims(t *testing.T) {
	keys, v := allKeysValidator(t)
	good := func(c map[string]any) string { return signJWT(t, jose.RS256, keys["rsa"], "rsa", c) }
	for name, c := range map[string]map[string]any{
		"expired within skew":      with("exp", testNow.Add(-29*time.Second).Unix()),
		"nbf within skew":          with("nbf", testNow.Add(29*time.Second).Unix()),
		"single audience string":   with("aud", "kafka"),
		"scope list":               with("scope", []string{"a", "b"}),
		"no scope, no nbf, no iat": with("scope", nil, "nbf", nil, "iat", nil),
	} {
		if _, err := v.Validate(good(c)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	bad := map[string]string{
		"wrong audience":             good(with("aud", []string{"kafka2"})),
		"no audience":                good(with("aud", nil)),
		"wrong issuer":               good(with("iss", "https://evil.test")),
		"expired":                    good(with("exp", testNow.Add(-31*time.Second).Unix())),
		"no exp":                     good(with("exp", nil)),
		"exp not a number":           good(with("exp", "tomorrow")),
		"nbf beyond skew":            good(with("nbf", testNow.Add(31*time.Second).Unix())),
		"iat beyond skew":            good(with("iat", testNow.Add(time.Minute).Unix())),
		"no sub":                     good(with("sub", nil)),
		"blank sub":                  good(with("sub", "  ")),
		"sub not a string":           good(with("sub", 42)),
		"scope not a string":         good(with("scope", 42)),
		"unknown kid":                signJWT(t, jose.RS256, keys["other"], "other", baseClaims()),
		"unpublished key, known kid": signJWT(t, jose.RS256, keys["other"], "rsa", baseClaims()),
		"unpublished key, no kid":    signJWT(t, jose.RS256, keys["other"], "", baseClaims()),
		"alg for another key type":   signJWT(t, jose.ES256, keys["ec256"], "rsa", baseClaims()),
		"curve mismatch":             signJWT(t, jose.ES384, keys["ec384"], "ec256", baseClaims()),
		"HS256 with a public key":    signJWT(t, jose.HS256, []byte("01234567890123456789012345678901"), "rsa", baseClaims()),
		"alg none":                   unsignedJWT("none", "rsa", baseClaims()),
		"alg none, no kid":           unsignedJWT("none", "", baseClaims()),
		"tampered payload":           tamper(good(baseClaims())),
		"garbage":                    "not.a.jwt",
		"empty":                      "",
		"oversized":                  strings.Repeat("a", MaxMessageBytes+1),
	}
	for name, tok := range bad {
		_, err := v.Validate(tok)
		if err == nil {
			t.Errorf("%s: accepted", name)
		} else {
			wantFail(t, err)
		}
	}
}

func unsignedJWT(alg, kid string, claims map[string]any) string {
	h := map[string]string{"alg": alg, "typ": "JWT"}
	if kid != "" {
		h["kid"] = kid
	}
	hb, _ := json.Marshal(h)
	cb, _ := json.Marshal(claims)
	return base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(cb) + "."
}

// tamper replaces the payload of a signed token, keeping its signature.
func tamper(tok string) string {
	p := strings.Split(tok, ".")
	c := baseClaims()
	c["sub"] = "admin"
	cb, _ := json.Marshal(c)
	return p[0] + "." + base64.RawURLEncoding.EncodeToString(cb) + "." + p[2]
}

func TestTokenValidatorClaimNames(t *testing.T) {
	keys := testKeysOnce()
	set, _ := ParseJWKS(jwksJSON(t, keys, "rsa"))
	cfg := OAuthBearerDefaults()
	cfg.SubClaimName, cfg.ScopeClaimName, cfg.ClockSkew = "preferred_username", "scp", 0
	v, err := NewTokenValidator(cfg, set, &fakeClock{now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := v.Validate(signJWT(t, jose.RS256, keys["rsa"], "rsa", with("preferred_username", " bob ", "scp", []string{"x"}, "iss", "anyone", "aud", nil)))
	if err != nil || tok.Principal != "bob" || len(tok.Scope) != 1 {
		t.Fatalf("%+v %v", tok, err)
	}
	_, err = v.Validate(signJWT(t, jose.RS256, keys["rsa"], "rsa", with("exp", testNow.Unix())))
	wantFail(t, err) // no skew: expiring now is expired
}

func TestParseJWKS(t *testing.T) {
	keys := testKeysOnce()
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	raw := map[string]any{"keys": []any{
		json.RawMessage(jwksKey(t, jose.JSONWebKey{Key: small.Public(), KeyID: "small"})),
		json.RawMessage(jwksKey(t, jose.JSONWebKey{Key: []byte("symmetric"), KeyID: "oct"})),
		json.RawMessage(jwksKey(t, jose.JSONWebKey{Key: keys["ec256"].Public(), KeyID: "enc", Use: "enc"})),
		json.RawMessage(jwksKey(t, jose.JSONWebKey{Key: keys["rsa"], KeyID: "private"})), // private parts dropped
		map[string]string{"kty": "XYZ", "kid": "unknown"},
	}}
	b, _ := json.Marshal(raw)
	set, err := ParseJWKS(b)
	if err != nil || set.Len() != 1 || set.keys[0].KeyID != "private" || !set.keys[0].IsPublic() {
		t.Fatalf("%v %+v", err, set)
	}
	for _, bad := range []string{"", "{", `{"keys":[]}`, `{"keys":[{"kty":"oct","k":"AAAA"}]}`, `[]`} {
		if _, err := ParseJWKS([]byte(bad)); err == nil {
			t.Errorf("ParseJWKS(%q) accepted", bad)
		}
	}
	var nilSet *JWKS
	if _, err := nilSet.KeySet(); err == nil {
		t.Errorf("nil JWKS has keys")
	}
}

func jwksKey(t *testing.T, k jose.JSONWebKey) []byte {
	t.Helper()
	b, err := k.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestOAuthBearerFranzClient(t *testing.T) {
	keys := testKeysOnce()
	set, _ := ParseJWKS(jwksJSON(t, keys, "rsa"))
	srv := NewOAuthBearer(newTestValidator(t, set, &fakeClock{now: testNow}))
	tok := signJWT(t, jose.RS256, keys["rsa"], "rsa", baseClaims())
	for _, a := range []oauth.Auth{
		{Token: tok},
		{Zid: "alice", Token: tok, Extensions: map[string]string{"traceId": "abc 123"}},
	} {
		r, err := pump(t, a.AsMechanism(), srv)
		if err != nil {
			t.Fatal(err)
		}
		if r.Principal.String() != "User:alice" || !r.Expiry.Equal(testNow.Add(time.Hour)) || len(r.Scope) != 2 {
			t.Fatalf("result %+v", r)
		}
	}
	_, err := pump(t, oauth.Auth{Zid: "admin", Token: tok}.AsMechanism(), srv)
	wantFail(t, err)

	// A rejected token: the server sends the JSON error, franz-go answers
	// %x01, the server fails.
	expired := signJWT(t, jose.RS256, keys["rsa"], "rsa", with("exp", testNow.Add(-time.Hour).Unix()))
	sess, msg, _ := oauth.Auth{Token: expired}.AsMechanism().Authenticate(context.Background(), "")
	ex := srv.Start()
	out, done, err := ex.Step(msg)
	if err != nil || done || string(out) != `{"status":"invalid_token"}` {
		t.Fatalf("out=%q done=%v err=%v", out, done, err)
	}
	_, ack, err := sess.Challenge(out)
	if err != nil || string(ack) != "\x01" {
		t.Fatalf("client ack %q %v", ack, err)
	}
	_, _, err = ex.Step(ack)
	wantFail(t, err)
	if !strings.Contains(err.Error(), "expired") {
		t.Fatalf("reason lost: %v", err)
	}
	// Anything but %x01 after the error fails too.
	ex = srv.Start()
	ex.Step(msg)
	_, _, err = ex.Step(msg)
	wantFail(t, err)
}

func TestOAuthBearerInitialResponse(t *testing.T) {
	for name, msg := range map[string]string{
		"minimal":         "n,,\x01auth=Bearer abc.def.ghi\x01\x01",
		"authzid":         "n,a=alice,\x01auth=bearer abc.def.ghi\x01\x01",
		"extensions":      "n,,\x01x=1 2\x01auth=Bearer  abc-_~+/.def==\x01y=\t\x01\x01",
		"escaped authzid": "n,a=a=2Cb,\x01auth=Bearer a\x01\x01",
		"unicode authzid": "n,a=\u00e9,\x01auth=Bearer a\x01\x01",
	} {
		if _, err := parseOAuthInitial([]byte(msg)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	for name, msg := range map[string]string{
		"empty":              "",
		"channel binding":    "p=tls-unique,,\x01auth=Bearer a\x01\x01",
		"y flag":             "y,,\x01auth=Bearer a\x01\x01",
		"no separator":       "n,,auth=Bearer a\x01\x01",
		"no final separator": "n,,\x01auth=Bearer a\x01",
		"no auth":            "n,,\x01x=1\x01\x01",
		"no pairs":           "n,,\x01\x01",
		"basic scheme":       "n,,\x01auth=Basic a\x01\x01",
		"no token":           "n,,\x01auth=Bearer \x01\x01",
		"bad token char":     "n,,\x01auth=Bearer a*b\x01\x01",
		"bad key":            "n,,\x01auth=Bearer a\x01k1=v\x01\x01",
		"empty value":        "n,,\x01auth=Bearer a\x01k=\x01\x01",
		"control in value":   "n,,\x01auth=Bearer a\x01k=\x02\x01\x01",
		"duplicate key":      "n,,\x01auth=Bearer a\x01auth=Bearer b\x01\x01",
		"bad authzid":        "n,a=a=b,\x01auth=Bearer a\x01\x01",
		"too many pairs":     "n,,\x01auth=Bearer a\x01" + strings.Repeat("k=v\x01", maxOAuthPairs) + "\x01",
		"oversized":          "n,,\x01auth=Bearer " + strings.Repeat("a", MaxMessageBytes) + "\x01\x01",
	} {
		_, err := parseOAuthInitial([]byte(msg))
		wantFail(t, err)
		if err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}

// jwksServer serves a JWKS over HTTP on 127.0.0.1, failing the first
// `failures` requests, and counts fetches.
type jwksServer struct {
	*httptest.Server
	mu       sync.Mutex
	body     []byte
	fetches  int
	failures int
}

func newJWKSServer(t *testing.T, body []byte, failures int) *jwksServer {
	s := &jwksServer{body: body, failures: failures}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.fetches++
		if s.failures > 0 {
			s.failures--
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		w.Write(s.body)
	}))
	t.Cleanup(s.Close)
	return s
}

// serve replaces the JWKS and returns the fetch count so far.
func (s *jwksServer) serve(body []byte) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.body = body
	return s.fetches
}

func (s *jwksServer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fetches
}

// startRefresher starts a refresher on url with short backoffs.
func startRefresher(t *testing.T, url string, client *http.Client, clock Clock) (*JWKSRefresher, OAuthBearerConfig) {
	t.Helper()
	cfg := testOAuthConfig()
	cfg.JWKSEndpointURL = url
	cfg.JWKSRetryBackoff, cfg.JWKSRetryBackoffMax = 10*time.Millisecond, 40*time.Millisecond
	r, err := NewJWKSRefresher(cfg, client, clock, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.KeySet(); err == nil {
		t.Fatalf("keys before any fetch")
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r, cfg
}

// TestJWKSRefresherRetries: fetch failures are retried with backoff; once
// loaded, keys survive the endpoint going down; Start and Close are
// guarded.
func TestJWKSRefresherRetries(t *testing.T) {
	keys := testKeysOnce()
	ts := newJWKSServer(t, jwksJSON(t, keys, "rsa"), 2)
	clock := &fakeClock{now: testNow}
	r, _ := startRefresher(t, ts.URL+"/jwks", ts.Client(), clock)
	if err := r.Start(context.Background()); err == nil {
		t.Fatalf("second Start succeeded")
	}
	v := newTestValidator(t, r, clock)
	rsaTok := signJWT(t, jose.RS256, keys["rsa"], "rsa", baseClaims())
	waitFor(t, "JWKS loaded after failures", func() bool { _, err := v.Validate(rsaTok); return err == nil })
	if n := ts.count(); n != 3 {
		t.Fatalf("%d fetches, want 2 failures and a success", n)
	}
	ts.Close()
	if err := r.Refresh(context.Background()); err == nil {
		t.Fatalf("refresh from a closed server succeeded")
	}
	if _, err := v.Validate(rsaTok); err != nil {
		t.Fatalf("last good keys dropped: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	r.Close()
}

// TestJWKSRefresherUnknownKID: a token with an unknown kid fails and asks
// for a refetch, at most once per JWKSUnknownKIDRefetchInterval.
func TestJWKSRefresherUnknownKID(t *testing.T) {
	keys := testKeysOnce()
	ts := newJWKSServer(t, jwksJSON(t, keys, "rsa"), 0)
	clock := &fakeClock{now: testNow}
	r, cfg := startRefresher(t, ts.URL, ts.Client(), clock)
	waitFor(t, "first load", func() bool { _, err := r.KeySet(); return err == nil })
	v := newTestValidator(t, r, clock)

	before := ts.serve(jwksJSON(t, keys, "rsa", "ec256"))
	ecTok := signJWT(t, jose.ES256, keys["ec256"], "ec256", baseClaims())
	if _, err := v.Validate(ecTok); err == nil {
		t.Fatalf("unknown kid accepted")
	}
	waitFor(t, "kid-triggered refetch", func() bool { _, err := v.Validate(ecTok); return err == nil })
	if n := ts.count() - before; n != 1 {
		t.Fatalf("%d fetches for one unknown kid", n)
	}

	before = ts.serve(jwksJSON(t, keys, "rsa", "ec256", "ed"))
	edTok := signJWT(t, jose.EdDSA, keys["ed"], "ed", baseClaims())
	for range 5 {
		v.Validate(edTok)
	}
	time.Sleep(100 * time.Millisecond)
	if ts.count() != before {
		t.Fatalf("refetched within the rate limit")
	}
	clock.Advance(cfg.JWKSUnknownKIDRefetchInterval)
	waitFor(t, "refetch after the rate limit", func() bool { _, err := v.Validate(edTok); return err == nil })
}

// TestJWKSEndpointDown: a refresher whose endpoint never answered fails
// every token (fails closed).
func TestJWKSEndpointDown(t *testing.T) {
	keys := testKeysOnce()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	url := ts.URL
	ts.Close()
	cfg := testOAuthConfig()
	cfg.JWKSEndpointURL = url
	r, err := NewJWKSRefresher(cfg, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Refresh(context.Background()); err == nil {
		t.Fatalf("refresh succeeded")
	}
	srv := NewOAuthBearer(newTestValidator(t, r, &fakeClock{now: testNow}))
	_, err = pump(t, oauth.Auth{Token: signJWT(t, jose.RS256, keys["rsa"], "rsa", baseClaims())}.AsMechanism(), srv)
	wantFail(t, err)

	// A server answering garbage or an error status is no better.
	for _, h := range []http.HandlerFunc{
		func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<html>")) },
		func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusNotFound) },
		func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(strings.Repeat(" ", maxJWKSBytes+1))) },
	} {
		ts := httptest.NewServer(h)
		cfg.JWKSEndpointURL = ts.URL
		r, _ := NewJWKSRefresher(cfg, ts.Client(), nil, nil)
		if err := r.Refresh(context.Background()); err == nil {
			t.Errorf("refresh succeeded")
		}
		if _, err := r.KeySet(); err == nil {
			t.Errorf("keys after a failed refresh")
		}
		ts.Close()
	}
}

func TestJWKSRefresherFile(t *testing.T) {
	keys := testKeysOnce()
	path := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(path, jwksJSON(t, keys, "ec384"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"file://" + path, "file:" + path} {
		cfg := testOAuthConfig()
		cfg.JWKSEndpointURL = u
		r, err := NewJWKSRefresher(cfg, nil, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
		srv := NewOAuthBearer(newTestValidator(t, r, &fakeClock{now: testNow}))
		res, err := pump(t, oauth.Auth{Token: signJWT(t, jose.ES384, keys["ec384"], "ec384", baseClaims())}.AsMechanism(), srv)
		if err != nil || res.Principal.Name != "alice" {
			t.Fatalf("%s: %+v %v", u, res, err)
		}
	}
	cfg := testOAuthConfig()
	cfg.JWKSEndpointURL = "file://" + path + ".missing"
	r, _ := NewJWKSRefresher(cfg, nil, nil, nil)
	if err := r.Refresh(context.Background()); err == nil {
		t.Fatalf("missing file loaded")
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
