package node

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/oauth"
)

// TestOAuthBearerListener: a JWT signed by the key the JWKS endpoint
// publishes, for the expected audience and issuer, authenticates
// franz-go's OAUTHBEARER client as User:<sub>; a token of another issuer,
// an expired one and one signed by an unpublished key are refused.
func TestOAuthBearerListener(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "k1", Use: "sig", Algorithm: "RS256"}}})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write(jwks) }))
	defer srv.Close()
	sign := func(k *rsa.PrivateKey, iss string, exp time.Time) string {
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: k}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
		if err != nil {
			t.Fatal(err)
		}
		tok, err := jwt.Signed(s).Claims(map[string]any{"sub": "svc-orders", "aud": "samsa", "iss": iss, "exp": exp.Unix(), "iat": time.Now().Unix()}).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	cfg := singleConfig(t, t.TempDir())
	cfg.Broker = brokerWith(t, map[string]string{
		"listeners":                          "SASL_PLAINTEXT://127.0.0.1:0",
		"sasl.enabled.mechanisms":            "OAUTHBEARER",
		"sasl.oauthbearer.jwks.endpoint.url": srv.URL,
		"sasl.oauthbearer.expected.audience": "samsa",
		"sasl.oauthbearer.expected.issuer":   "https://idp.example",
		"listener.name.sasl_plaintext.oauthbearer.sasl.server.callback.handler.class": oauthValidatorClass,
	})
	n, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	ping := func(token string) error {
		cl, err := kgo.NewClient(kgo.SeedBrokers(n.Addr()), kgo.SASL(oauth.Auth{Token: token}.AsMechanism()), kgo.RequestRetries(0))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return cl.Ping(ctx)
	}
	if err := ping(sign(key, "https://idp.example", time.Now().Add(time.Hour))); err != nil {
		t.Fatalf("valid token: %v", err)
	}
	for name, tok := range map[string]string{
		"other issuer":     sign(key, "https://evil.example", time.Now().Add(time.Hour)),
		"expired":          sign(key, "https://idp.example", time.Now().Add(-time.Hour)),
		"unpublished key":  sign(other, "https://idp.example", time.Now().Add(time.Hour)),
		"not even a token": "garbage",
	} {
		if err := ping(tok); !errors.Is(err, kerr.SaslAuthenticationFailed) {
			t.Fatalf("%s: %v, want SASL_AUTHENTICATION_FAILED", name, err)
		}
	}
}
