package sasl

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"hash"
	"io"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// scramNonceBytes is how many random bytes make the server's nonce part
// (base64-encoded on the wire).
const scramNonceBytes = 24

// maxScramAttributes caps the attributes one SCRAM message may carry.
const maxScramAttributes = 32

// ScramConfig configures a SCRAM mechanism.
type ScramConfig struct {
	// Mechanism is MechanismScramSHA256 or MechanismScramSHA512.
	Mechanism string
	// Store holds the users' credentials.
	Store ScramStore
	// Rand supplies server nonces (and FakeSecret when nil); nil means
	// crypto/rand. Reads are serialised by the mechanism.
	Rand io.Reader
	// FakeSecret keys the fake, deterministic-per-user salts and keys an
	// unknown user is answered with, so that the exchange looks the same as
	// for a known user until its end. Nil means 32 bytes read from Rand when
	// the mechanism is made; a cluster sets the same secret on every broker
	// so an unknown user's salt does not change from broker to broker.
	FakeSecret []byte
	// FakeIterations is the iteration count announced to unknown users; 0
	// means DefaultScramIterations. Fake salts are 32 bytes, like the salts
	// ParseAddScram makes: a store whose credentials use other salt lengths
	// or iteration counts should set this to match them.
	FakeIterations int32
}

// NewScram returns a SCRAM mechanism (RFC 5802, RFC 7677) as Kafka's
// ScramSaslServer runs it.
func NewScram(cfg ScramConfig) (Mechanism, error) {
	h := scramHash(cfg.Mechanism)
	if h == nil {
		return nil, configErrorf("%q is not a SCRAM mechanism", cfg.Mechanism)
	}
	if cfg.Store == nil {
		return nil, configErrorf("%s needs a credential store", cfg.Mechanism)
	}
	m := &scramMechanism{name: cfg.Mechanism, h: h, store: cfg.Store, rand: cfg.Rand, fakeIters: cfg.FakeIterations}
	if m.rand == nil {
		m.rand = rand.Reader
	}
	if m.fakeIters == 0 {
		m.fakeIters = DefaultScramIterations
	}
	if m.fakeIters < MinScramIterations || m.fakeIters > MaxScramIterations {
		return nil, configErrorf("SCRAM fake iterations %d outside [%d, %d]", m.fakeIters, MinScramIterations, MaxScramIterations)
	}
	m.secret = append([]byte(nil), cfg.FakeSecret...)
	if len(m.secret) == 0 {
		m.secret = make([]byte, 32)
		if _, err := io.ReadFull(m.rand, m.secret); err != nil {
			return nil, configWrap("SCRAM fake secret", err)
		}
	}
	m.nonce = m.randomNonce
	return m, nil
}

type scramMechanism struct {
	name      string
	h         func() hash.Hash
	store     ScramStore
	secret    []byte
	fakeIters int32

	randMu sync.Mutex
	rand   io.Reader
	// nonce makes the server's part of the nonce; tests replace it to
	// replay RFC 7677's example.
	nonce func() (string, error)
}

func (m *scramMechanism) Name() string { return m.name }

func (m *scramMechanism) Start() Exchange { return &scramExchange{m: m} }

func (m *scramMechanism) randomNonce() (string, error) {
	b := make([]byte, scramNonceBytes)
	m.randMu.Lock()
	_, err := io.ReadFull(m.rand, b)
	m.randMu.Unlock()
	if err != nil {
		return "", failWrap("server nonce", err)
	}
	return base64.RawStdEncoding.EncodeToString(b), nil
}

// credential returns user's valid credential for this mechanism or, for an
// unknown user (or a credential that fails Validate), a fake one derived
// from the secret: same shape, same per-user answer every time.
func (m *scramMechanism) credential(user string) (ScramCredential, bool) {
	c, ok := m.store.ScramCredential(m.name, user)
	if ok && c.Mechanism == m.name && c.Validate() == nil {
		return c, true
	}
	derive := func(label string) []byte {
		mac := hmac.New(m.h, m.secret)
		mac.Write([]byte(label))
		mac.Write([]byte{0})
		mac.Write([]byte(m.name))
		mac.Write([]byte{0})
		mac.Write([]byte(user))
		return mac.Sum(nil)
	}
	return ScramCredential{
		Mechanism:  m.name,
		Salt:       derive("salt")[:scramSaltBytes],
		StoredKey:  derive("stored key"),
		ServerKey:  derive("server key"),
		Iterations: m.fakeIters,
	}, false
}

type scramState uint8

const (
	scramWantFirst scramState = iota
	scramWantFinal
	scramFinished
)

type scramExchange struct {
	m     *scramMechanism
	state scramState

	user            string
	cred            ScramCredential
	known           bool
	gs2Header       string
	clientFirstBare string
	serverFirst     string
	nonce           string // client nonce + server nonce

	result Result
	ok     bool
}

func (e *scramExchange) Result() (Result, bool) { return e.result, e.ok }

func (e *scramExchange) Step(msg []byte) ([]byte, bool, error) {
	switch e.state {
	case scramWantFirst:
		out, err := e.first(msg)
		if err != nil {
			e.state = scramFinished
			return nil, false, err
		}
		e.state = scramWantFinal
		return out, false, nil
	case scramWantFinal:
		e.state = scramFinished
		out, err := e.final(msg)
		if err != nil {
			return nil, false, err
		}
		return out, true, nil
	}
	return finishedStep()
}

// first handles client-first-message and returns server-first-message.
func (e *scramExchange) first(msg []byte) ([]byte, error) {
	cf, err := parseScramClientFirst(msg)
	if err != nil {
		return nil, err
	}
	if cf.authzid != "" && cf.authzid != cf.user {
		return nil, failf("%s: authorization id %q differs from username %q", e.m.name, cf.authzid, cf.user)
	}
	if cf.tokenAuth {
		return nil, failf("%s: delegation-token authentication (tokenauth) is not supported", e.m.name)
	}
	serverNonce, err := e.m.nonce()
	if err != nil {
		return nil, err
	}
	e.user, e.gs2Header, e.clientFirstBare = cf.user, cf.gs2Header, cf.bare
	e.cred, e.known = e.m.credential(cf.user)
	e.nonce = cf.nonce + serverNonce
	e.serverFirst = "r=" + e.nonce + ",s=" + base64.StdEncoding.EncodeToString(e.cred.Salt) +
		",i=" + strconv.Itoa(int(e.cred.Iterations))
	return []byte(e.serverFirst), nil
}

// final handles client-final-message and returns server-final-message.
func (e *scramExchange) final(msg []byte) ([]byte, error) {
	cf, err := parseScramClientFinal(msg)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(cf.channelBinding, []byte(e.gs2Header)) {
		return nil, failf("%s: channel binding c= does not match the gs2 header", e.m.name)
	}
	if subtle.ConstantTimeCompare([]byte(cf.nonce), []byte(e.nonce)) != 1 {
		return nil, failf("%s: client-final nonce is not the server's nonce", e.m.name)
	}
	h := e.m.h
	if len(cf.proof) != h().Size() {
		return nil, failf("%s: client proof is %d bytes, want %d", e.m.name, len(cf.proof), h().Size())
	}
	authMsg := []byte(e.clientFirstBare + "," + e.serverFirst + "," + cf.withoutProof)
	clientKey := hmacSum(h, e.cred.StoredKey, authMsg) // ClientSignature
	subtle.XORBytes(clientKey, clientKey, cf.proof)    // ClientKey = ClientProof XOR ClientSignature
	sum := h()
	sum.Write(clientKey)
	match := subtle.ConstantTimeCompare(sum.Sum(nil), e.cred.StoredKey) == 1
	serverSig := hmacSum(h, e.cred.ServerKey, authMsg)
	if !e.known {
		return nil, failf("%s: unknown user %q", e.m.name, e.user)
	}
	if !match {
		return nil, failf("%s: invalid client proof for user %q", e.m.name, e.user)
	}
	e.result = Result{Principal: Principal{Type: PrincipalTypeUser, Name: e.user}}
	e.ok = true
	return []byte("v=" + base64.StdEncoding.EncodeToString(serverSig)), nil
}

type scramClientFirst struct {
	gs2Header string // "n,," or "n,a=<authzid>,"
	authzid   string // unescaped
	user      string // unescaped
	nonce     string
	bare      string // client-first-message-bare
	tokenAuth bool
}

// parseScramClientFirst parses gs2-header client-first-message-bare. Only
// the "n" channel-binding flag is accepted, as in Kafka.
func parseScramClientFirst(msg []byte) (scramClientFirst, error) {
	var cf scramClientFirst
	if len(msg) > MaxMessageBytes {
		return cf, failf("SCRAM: client-first message of %d bytes exceeds %d", len(msg), MaxMessageBytes)
	}
	s := string(msg)
	rest, ok := strings.CutPrefix(s, "n,")
	if !ok {
		if strings.HasPrefix(s, "p=") || strings.HasPrefix(s, "y,") {
			return cf, failf("SCRAM: channel binding is not supported")
		}
		return cf, failf("SCRAM: invalid gs2 header")
	}
	if a, ok := strings.CutPrefix(rest, "a="); ok {
		name, after, found := strings.Cut(a, ",")
		if cf.authzid, ok = unescapeSaslName(name); !found || !ok {
			return cf, failf("SCRAM: invalid authorization id")
		}
		rest = after
	} else if rest, ok = strings.CutPrefix(rest, ","); !ok {
		return cf, failf("SCRAM: invalid gs2 header")
	}
	cf.gs2Header, cf.bare = s[:len(s)-len(rest)], rest
	attrs, err := scramAttributes(rest, 2)
	if err != nil {
		return cf, err
	}
	if strings.HasPrefix(attrs[0], "m=") {
		return cf, failf("SCRAM: mandatory extension m= is not supported")
	}
	name, ok := strings.CutPrefix(attrs[0], "n=")
	if cf.user, ok = unescapeSaslName(name); !ok {
		return cf, failf("SCRAM: invalid username attribute")
	}
	if cf.nonce, ok = strings.CutPrefix(attrs[1], "r="); !ok || !validNonce(cf.nonce) {
		return cf, failf("SCRAM: invalid client nonce")
	}
	exts, err := scramExtensions(attrs[2:])
	if err != nil {
		return cf, err
	}
	cf.tokenAuth = strings.EqualFold(exts["tokenauth"], "true")
	return cf, nil
}

type scramClientFinal struct {
	channelBinding []byte
	nonce          string
	proof          []byte
	withoutProof   string // client-final-message-without-proof
}

// parseScramClientFinal parses "c=<b64>,r=<nonce>[,ext=v]*,p=<b64>".
func parseScramClientFinal(msg []byte) (scramClientFinal, error) {
	var cf scramClientFinal
	if len(msg) > MaxMessageBytes {
		return cf, failf("SCRAM: client-final message of %d bytes exceeds %d", len(msg), MaxMessageBytes)
	}
	s := string(msg)
	i := strings.LastIndex(s, ",p=")
	if i < 0 {
		return cf, failf("SCRAM: client-final message has no proof")
	}
	cf.withoutProof = s[:i]
	var err error
	if cf.proof, err = decodeBase64(s[i+3:]); err != nil {
		return cf, failWrap("SCRAM: client proof is not base64", err)
	}
	attrs, err := scramAttributes(cf.withoutProof, 2)
	if err != nil {
		return cf, err
	}
	c, ok := strings.CutPrefix(attrs[0], "c=")
	if !ok {
		return cf, failf("SCRAM: client-final message has no channel binding")
	}
	if cf.channelBinding, err = decodeBase64(c); err != nil {
		return cf, failWrap("SCRAM: channel binding is not base64", err)
	}
	if cf.nonce, ok = strings.CutPrefix(attrs[1], "r="); !ok || !validNonce(cf.nonce) {
		return cf, failf("SCRAM: invalid nonce in client-final message")
	}
	if _, err := scramExtensions(attrs[2:]); err != nil {
		return cf, err
	}
	return cf, nil
}

// scramAttributes splits s on ',' into at least minAttrs and at most
// maxScramAttributes attributes.
func scramAttributes(s string, minAttrs int) ([]string, error) {
	if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
		return nil, failf("SCRAM: message is not NUL-free UTF-8")
	}
	if n := strings.Count(s, ",") + 1; n < minAttrs || n > maxScramAttributes {
		return nil, failf("SCRAM: message has %d attributes", n)
	}
	return strings.Split(s, ","), nil
}

// scramExtensions parses extension attributes key=value (Kafka's
// ScramExtensions: alphanumeric keys, non-empty values, here no duplicates).
func scramExtensions(attrs []string) (map[string]string, error) {
	exts := make(map[string]string, len(attrs))
	for _, a := range attrs {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" || v == "" || !isAlnum(k) {
			return nil, failf("SCRAM: invalid extension attribute")
		}
		if _, dup := exts[k]; dup {
			return nil, failf("SCRAM: extension %q given twice", k)
		}
		exts[k] = v
	}
	return exts, nil
}

func isAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// validNonce: printable ASCII except ','.
func validNonce(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e || s[i] == ',' {
			return false
		}
	}
	return true
}
