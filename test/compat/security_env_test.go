package compat

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/samsa-streaming/samsa/internal/clustertest"
	"github.com/samsa-streaming/samsa/internal/tlsconf/tlstest"
)

// This file holds what the secured-listener tests (security_test.go) stand
// on: a throwaway PKI written as PEM files, an OAuth identity provider
// (token and JWKS endpoints) and brokers with a SASL_SSL or an mTLS
// listener.

// testCerts are the PEM files of one secured broker and its clients
// (tlstest.WriteFiles).
type testCerts struct {
	CAFile string
	// ServerFile holds the broker's key and certificate chain
	// (ssl.keystore.type=PEM, ssl.keystore.location).
	ServerFile string
	// ClientFile holds the client's key and certificate chain (Java's PEM
	// keystore); ClientCertFile and ClientKeyFile hold them apart
	// (librdkafka's ssl.certificate.location, ssl.key.location).
	ClientFile, ClientCertFile, ClientKeyFile string
	// Client is the client certificate, Roots trusts the CA (Go clients).
	Client tls.Certificate
	Roots  *x509.CertPool
}

// newTestCerts makes a CA, a server certificate for 127.0.0.1 and a client
// certificate with CN clientCN, and writes them to a temporary directory.
func newTestCerts(t testing.TB, clientCN string) *testCerts {
	t.Helper()
	f := tlstest.WriteFiles(t, t.TempDir(), pkix.Name{CommonName: clientCN})
	roots := x509.NewCertPool()
	roots.AddCert(f.CA.Cert)
	return &testCerts{
		CAFile:         f.CAFile,
		ServerFile:     f.ServerKeystore,
		ClientFile:     f.ClientKeystore,
		ClientCertFile: f.ClientCertFile,
		ClientKeyFile:  f.ClientKeyFile,
		Client:         keyPair(t, f.Client),
		Roots:          roots,
	}
}

// keyPair is l as a Go client certificate.
func keyPair(t testing.TB, l *tlstest.Leaf) tls.Certificate {
	t.Helper()
	c, err := tls.X509KeyPair([]byte(l.ChainPEM), []byte(l.KeyPEM))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// tokenServer is a local OAuth 2 identity provider: POST /token answers the
// client-credentials grant with an RS256 JWT, GET /jwks publishes the key.
type tokenServer struct {
	srv                    *httptest.Server
	key                    *rsa.PrivateKey
	kid                    string
	clientID, clientSecret string
	audience               string
}

func newTokenServer(t testing.TB) *tokenServer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	s := &tokenServer{key: key, kid: "compat-key-1", clientID: "compat-client",
		clientSecret: "compat-client-secret", audience: "samsa-compat"}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", s.serveToken)
	mux.HandleFunc("GET /jwks", s.serveJWKS)
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	return s
}

func (s *tokenServer) Issuer() string   { return s.srv.URL }
func (s *tokenServer) TokenURL() string { return s.srv.URL + "/token" }
func (s *tokenServer) JWKSURL() string  { return s.srv.URL + "/jwks" }

// tokenClaims are the claims a minted token carries.
type tokenClaims struct {
	jwt.Claims
	Scope string `json:"scope,omitempty"`
}

// claims returns valid claims for subject sub, for an hour.
func (s *tokenServer) claims(sub string) tokenClaims {
	now := time.Now()
	return tokenClaims{
		Claims: jwt.Claims{
			Subject:  sub,
			Issuer:   s.Issuer(),
			Audience: jwt.Audience{s.audience},
			IssuedAt: jwt.NewNumericDate(now),
			Expiry:   jwt.NewNumericDate(now.Add(time.Hour)),
		},
		Scope: "kafka",
	}
}

// sign serializes claims as a JWT signed RS256 by key under kid.
func sign(key *rsa.PrivateKey, kid string, claims tokenClaims) (string, error) {
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", fmt.Errorf("new signer: %w", err)
	}
	tok, err := jwt.Signed(sig).Claims(claims).Serialize()
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return tok, nil
}

func (s *tokenServer) serveToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if r.PostForm.Get("grant_type") != "client_credentials" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type"})
		return
	}
	if id != s.clientID || secret != s.clientSecret {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	tok, err := sign(s.key, s.kid, s.claims(id))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": tok, "token_type": "Bearer", "expires_in": 3600, "scope": "kafka",
	})
}

func (s *tokenServer) serveJWKS(w http.ResponseWriter, _ *http.Request) {
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{
		Key: &s.key.PublicKey, KeyID: s.kid, Algorithm: string(jose.RS256), Use: "sig",
	}}}
	writeJSON(w, http.StatusOK, set)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// fetchToken runs the client-credentials grant against the token endpoint,
// as the Go clients' token callbacks do.
func (s *tokenServer) fetchToken(ctx context.Context) (string, error) {
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"kafka"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.TokenURL(), strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(s.clientID, s.clientSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("token request: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("token response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("token endpoint: %s: %s", resp.Status, body)
	}
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &tr); err != nil {
		return "", fmt.Errorf("token response: %w", err)
	}
	if tr.AccessToken == "" {
		return "", errors.New("token response has no access_token")
	}
	return tr.AccessToken, nil
}

// SCRAM and PLAIN users the SASL broker knows.
const (
	scramUser, scramPassword = "alice", "alice-secret"
	plainUser, plainPassword = "carol", "carol-secret"
)

// secEnv is a running broker with one secured listener and what its
// clients need to reach it.
type secEnv struct {
	// node's own listener (node.Addr) is PLAINTEXT, for the harness's
	// readiness probe and for setting up and checking topics and groups.
	node *clustertest.Node
	// addr is the secured listener: SASL_SSL or SSL.
	addr  string
	certs *testCerts
	idp   *tokenServer // nil on the mTLS broker
}

// securedListenerPort picks a free port for the secured listener, which
// the broker gets after the harness's own PLAINTEXT one
// (clustertest.Options.Listeners).
func securedListenerPort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// startSASLBroker starts a broker whose second listener is SASL_SSL with
// SCRAM-SHA-512 (user alice), PLAIN (user carol) and OAUTHBEARER (tokens of
// idp, checked against its JWKS, audience and issuer).
func startSASLBroker(t *testing.T) *secEnv {
	t.Helper()
	env := &secEnv{certs: newTestCerts(t, "sasl-client"), idp: newTokenServer(t)}
	env.addr = net.JoinHostPort("127.0.0.1", securedListenerPort(t))
	props := strings.Join([]string{
		"ssl.keystore.type=PEM",
		"ssl.keystore.location=" + env.certs.ServerFile,
		"sasl.enabled.mechanisms=SCRAM-SHA-512,PLAIN,OAUTHBEARER",
		`listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_` +
			plainUser + `="` + plainPassword + `";`,
		"sasl.oauthbearer.jwks.endpoint.url=" + env.idp.JWKSURL(),
		"sasl.oauthbearer.expected.audience=" + env.idp.audience,
		"sasl.oauthbearer.expected.issuer=" + env.idp.Issuer(),
	}, "\n") + "\n"
	env.node = clustertest.Start(t, clustertest.Options{
		Config:    props,
		Listeners: []string{"SASL_SSL://" + env.addr},
		Args:      []string{"--add-scram", fmt.Sprintf("SCRAM-SHA-512=[name=%s,password=%s]", scramUser, scramPassword)},
	})
	return env
}

// startMTLSBroker starts a broker whose second listener is SSL with
// ssl.client.auth=required, trusting the test CA.
func startMTLSBroker(t *testing.T) *secEnv {
	t.Helper()
	env := &secEnv{certs: newTestCerts(t, "mtls-client")}
	env.addr = net.JoinHostPort("127.0.0.1", securedListenerPort(t))
	props := strings.Join([]string{
		"ssl.keystore.type=PEM",
		"ssl.keystore.location=" + env.certs.ServerFile,
		"ssl.truststore.type=PEM",
		"ssl.truststore.location=" + env.certs.CAFile,
		"ssl.client.auth=required",
	}, "\n") + "\n"
	env.node = clustertest.Start(t, clustertest.Options{Config: props, Listeners: []string{"SSL://" + env.addr}})
	return env
}
