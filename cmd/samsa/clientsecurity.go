package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/oauth"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// This file turns the client security settings (clientconfig.go) into
// franz-go options: a TLS config for SSL and SASL_SSL, a SASL mechanism for
// SASL_PLAINTEXT and SASL_SSL. Anything the CLI cannot honour is an error:
// it never falls back to plaintext or to less verification than asked.

// The security protocols, Kafka's security.protocol values.
const (
	protoPlaintext     = "PLAINTEXT"
	protoSSL           = "SSL"
	protoSASLPlaintext = "SASL_PLAINTEXT"
	protoSASLSSL       = "SASL_SSL"
)

// The login modules of sasl.jaas.config.
const (
	plainModule = "org.apache.kafka.common.security.plain.PlainLoginModule"
	scramModule = "org.apache.kafka.common.security.scram.ScramLoginModule"
	oauthModule = "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule"
)

// clientSecurity is what the settings resolve to.
type clientSecurity struct {
	protocol string
	tls      *tls.Config    // nil: no TLS
	sasl     sasl.Mechanism // nil: no SASL
}

// opts returns the franz-go options for s; none for plaintext.
func (s *clientSecurity) opts() []kgo.Opt {
	var opts []kgo.Opt
	if s.tls != nil {
		opts = append(opts, kgo.DialTLSConfig(s.tls))
	}
	if s.sasl != nil {
		opts = append(opts, kgo.SASL(s.sasl))
	}
	return opts
}

// resolveSecurity checks the settings as a whole and builds the TLS config
// and SASL mechanism. now stamps an unsecured OAUTHBEARER token.
func resolveSecurity(c *clientConfig, now time.Time) (*clientSecurity, error) {
	s := &clientSecurity{protocol: protoPlaintext}
	if v, ok := c.get("security.protocol"); ok {
		s.protocol = strings.ToUpper(strings.TrimSpace(v))
		switch s.protocol {
		case protoPlaintext, protoSSL, protoSASLPlaintext, protoSASLSSL:
		default:
			return nil, c.badValue("security.protocol", "PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL")
		}
	}
	usesTLS := s.protocol == protoSSL || s.protocol == protoSASLSSL
	usesSASL := s.protocol == protoSASLPlaintext || s.protocol == protoSASLSSL
	if k := c.firstWithPrefix("ssl."); k != "" && !usesTLS {
		return nil, fmt.Errorf("%s is set (%s) but security.protocol is %s, which does not use TLS: set security.protocol=SSL or SASL_SSL", k, c.origin[k], s.protocol)
	}
	if k := c.firstWithPrefix("sasl."); k != "" && !usesSASL {
		return nil, fmt.Errorf("%s is set (%s) but security.protocol is %s, which does not use SASL: set security.protocol=SASL_PLAINTEXT or SASL_SSL", k, c.origin[k], s.protocol)
	}
	var err error
	if usesTLS {
		if s.tls, err = tlsConfig(c); err != nil {
			return nil, err
		}
	}
	if usesSASL {
		if s.sasl, err = saslMechanism(c, now); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// firstWithPrefix returns a given key starting with prefix (the smallest,
// so errors are stable), or "".
func (c *clientConfig) firstWithPrefix(prefix string) string {
	first := ""
	for k := range c.values {
		if strings.HasPrefix(k, prefix) && (first == "" || k < first) {
			first = k
		}
	}
	return first
}

// tlsConfig builds the TLS config of SSL and SASL_SSL.
func tlsConfig(c *clientConfig) (*tls.Config, error) {
	for _, k := range []string{"ssl.truststore.password", "ssl.keystore.password"} {
		if c.has(k) {
			return nil, c.errorf(k, "samsa reads PEM stores, which have no store password; remove it")
		}
	}
	if c.has("ssl.key.password") {
		return nil, c.errorf("ssl.key.password", "encrypted private keys are not supported; give an unencrypted PEM key (openssl pkey -in key.pem -out plain.pem)")
	}
	for _, k := range []string{"ssl.truststore.type", "ssl.keystore.type"} {
		if v, ok := c.get(k); ok && !strings.EqualFold(strings.TrimSpace(v), "PEM") {
			return nil, c.badValue(k, "PEM (samsa reads PEM files only; convert JKS or PKCS12 stores with keytool or openssl)")
		}
	}
	verifyHost, err := hostnameVerification(c)
	if err != nil {
		return nil, err
	}
	roots, err := rootCAs(c)
	if err != nil {
		return nil, err
	}
	lo, hi, err := enabledProtocols(c)
	if err != nil {
		return nil, err
	}
	tc := &tls.Config{MinVersion: lo, MaxVersion: hi, RootCAs: roots}
	cert, err := clientCertificate(c)
	if err != nil {
		return nil, err
	}
	if cert != nil {
		tc.Certificates = []tls.Certificate{*cert}
	}
	if !verifyHost {
		// Verify the chain as usual, only not the name: Go's
		// InsecureSkipVerify turns off both, so the chain is checked
		// here.
		tc.InsecureSkipVerify = true
		tc.VerifyConnection = verifyChainOnly(roots)
	}
	return tc, nil
}

// enabledProtocols reads ssl.enabled.protocols (TLSv1.2 and TLSv1.3, comma
// separated; default both) as the lowest and highest TLS version.
func enabledProtocols(c *clientConfig) (lo, hi uint16, err error) {
	v, ok := c.get("ssl.enabled.protocols")
	if !ok {
		return tls.VersionTLS12, tls.VersionTLS13, nil
	}
	for _, p := range strings.Split(v, ",") {
		var ver uint16
		switch strings.TrimSpace(p) {
		case "":
			continue
		case "TLSv1.2":
			ver = tls.VersionTLS12
		case "TLSv1.3":
			ver = tls.VersionTLS13
		default:
			return 0, 0, c.badValue("ssl.enabled.protocols", "TLSv1.2, TLSv1.3 or both, comma separated (older versions are not supported)")
		}
		if lo == 0 || ver < lo {
			lo = ver
		}
		hi = max(hi, ver)
	}
	if lo == 0 {
		return 0, 0, c.badValue("ssl.enabled.protocols", "TLSv1.2, TLSv1.3 or both, comma separated")
	}
	return lo, hi, nil
}

// hostnameVerification reads ssl.endpoint.identification.algorithm: https
// (the default) verifies the broker's name, empty (or librdkafka's none)
// does not.
func hostnameVerification(c *clientConfig) (bool, error) {
	v, ok := c.get("ssl.endpoint.identification.algorithm")
	if !ok {
		return true, nil
	}
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "https":
		return true, nil
	case "", "none":
		return false, nil
	}
	return false, c.badValue("ssl.endpoint.identification.algorithm", "https, or empty to skip hostname verification")
}

// verifyChainOnly checks that the broker's certificate chains to roots (nil:
// the system's), without checking its name.
func verifyChainOnly(roots *x509.CertPool) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("the broker sent no certificate")
		}
		opts := x509.VerifyOptions{Roots: roots, Intermediates: x509.NewCertPool()}
		for _, ic := range cs.PeerCertificates[1:] {
			opts.Intermediates.AddCert(ic)
		}
		_, err := cs.PeerCertificates[0].Verify(opts)
		return err
	}
}

// rootCAs returns the trusted CAs of ssl.truststore.location,
// ssl.ca.location or ssl.truststore.certificates; nil means the system's.
func rootCAs(c *clientConfig) (*x509.CertPool, error) {
	var keys []string
	for _, k := range []string{"ssl.truststore.location", "ssl.ca.location", "ssl.truststore.certificates"} {
		if c.has(k) {
			keys = append(keys, k)
		}
	}
	switch len(keys) {
	case 0:
		return nil, nil
	case 1:
	default:
		return nil, fmt.Errorf("%s and %s both name trusted certificates: give one", keys[0], keys[1])
	}
	key := keys[0]
	data, what, err := pemSetting(c, key)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, c.errorf(key, "%s holds no PEM certificate (samsa reads PEM only: ssl.truststore.type=PEM)", what)
	}
	return pool, nil
}

// pemSetting returns the PEM text of key: the file it names (a
// *.location key) or its value (an inline key), and how to name it.
func pemSetting(c *clientConfig, key string) ([]byte, string, error) {
	v, _ := c.get(key)
	if !strings.HasSuffix(key, ".location") {
		return []byte(v), "the value", nil
	}
	path := strings.TrimSpace(v)
	if path == "" {
		return nil, "", c.errorf(key, "empty: want a file")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("cannot read %s (%s): %w", key, c.origin[key], err)
	}
	return data, path, nil
}

// clientCertificate loads the client's certificate and key for mutual TLS:
// ssl.keystore.location (one PEM file holding both), ssl.keystore.key with
// ssl.keystore.certificate.chain (inline PEM), or librdkafka's
// ssl.certificate.location with ssl.key.location. nil: no client
// certificate.
func clientCertificate(c *clientConfig) (*tls.Certificate, error) {
	sources := [][2]string{
		{"ssl.keystore.location", "ssl.keystore.location"},
		{"ssl.keystore.certificate.chain", "ssl.keystore.key"},
		{"ssl.certificate.location", "ssl.key.location"},
	}
	var chosen [][2]string
	for _, src := range sources {
		if c.has(src[0], src[1]) {
			chosen = append(chosen, src)
		}
	}
	switch len(chosen) {
	case 0:
		return nil, nil
	case 1:
	default:
		return nil, fmt.Errorf("%s and %s both give a client certificate: give one", c.given(chosen[0][:]...), c.given(chosen[1][:]...))
	}
	certKey, keyKey := chosen[0][0], chosen[0][1]
	for _, k := range []string{certKey, keyKey} {
		if !c.has(k) {
			other := c.given(certKey, keyKey)
			return nil, fmt.Errorf("%s is set (%s) without %s: give both", other, c.origin[other], k)
		}
	}
	certPEM, what, err := pemSetting(c, certKey)
	if err != nil {
		return nil, err
	}
	keyPEM, keyWhat, err := pemSetting(c, keyKey)
	if err != nil {
		return nil, err
	}
	blocks := pemTypes(keyPEM)
	switch {
	case blocks["ENCRYPTED PRIVATE KEY"] || blocks["encrypted"]:
		return nil, c.errorf(keyKey, "%s holds an encrypted private key, which is not supported; decrypt it (openssl pkey -in key.pem -out plain.pem)", keyWhat)
	case !blocks["PRIVATE KEY"]:
		return nil, c.errorf(keyKey, "%s holds no PEM private key", keyWhat)
	case !pemTypes(certPEM)["CERTIFICATE"]:
		return nil, c.errorf(certKey, "%s holds no PEM certificate", what)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, c.errorf(certKey, "cannot load the certificate and key of %s: %s", what, strings.TrimPrefix(err.Error(), "tls: "))
	}
	return &cert, nil
}

// pemTypes returns the kinds of PEM blocks in data: "CERTIFICATE",
// "PRIVATE KEY" (any unencrypted key), "ENCRYPTED PRIVATE KEY" (PKCS#8),
// and "encrypted" for a legacy Proc-Type: 4,ENCRYPTED key.
func pemTypes(data []byte) map[string]bool {
	kinds := map[string]bool{}
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return kinds
		}
		switch {
		case strings.Contains(b.Headers["Proc-Type"], "ENCRYPTED"):
			kinds["encrypted"] = true
		case b.Type == "ENCRYPTED PRIVATE KEY", b.Type == "CERTIFICATE":
			kinds[b.Type] = true
		case strings.HasSuffix(b.Type, "PRIVATE KEY"):
			kinds["PRIVATE KEY"] = true
		}
	}
}

// saslMechanism builds the SASL mechanism of SASL_PLAINTEXT and SASL_SSL.
func saslMechanism(c *clientConfig, now time.Time) (sasl.Mechanism, error) {
	mech, ok := c.get("sasl.mechanism")
	if !ok {
		proto := strings.ToUpper(strings.TrimSpace(c.values["security.protocol"]))
		return nil, errors.New("security.protocol " + proto + " needs sasl.mechanism: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER")
	}
	mech = strings.ToUpper(strings.TrimSpace(mech))
	var jaas *jaasConfig
	if v, ok := c.get("sasl.jaas.config"); ok {
		j, err := parseJAAS(v)
		if err != nil {
			return nil, c.errorf("sasl.jaas.config", "%s", err.Error())
		}
		jaas = &j
	}
	switch mech {
	case "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512":
		return passwordMechanism(c, mech, jaas)
	case "OAUTHBEARER":
		return oauthMechanism(c, jaas, now)
	case "GSSAPI":
		return nil, c.errorf("sasl.mechanism", "GSSAPI (Kerberos) is not supported: want PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER")
	}
	return nil, c.badValue("sasl.mechanism", "PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER")
}

// passwordMechanism builds PLAIN or SCRAM from a JAAS login module or
// librdkafka's sasl.username and sasl.password.
func passwordMechanism(c *clientConfig, mech string, jaas *jaasConfig) (sasl.Mechanism, error) {
	if c.has("sasl.oauthbearer.token") {
		return nil, fmt.Errorf("sasl.oauthbearer.token is set (%s) but sasl.mechanism is %s: it needs OAUTHBEARER", c.origin["sasl.oauthbearer.token"], mech)
	}
	module := scramModule
	if mech == "PLAIN" {
		module = plainModule
	}
	var user, pass string
	isToken := false
	switch {
	case jaas != nil && c.has("sasl.username", "sasl.password"):
		return nil, errors.New("both sasl.jaas.config and " + c.given("sasl.username", "sasl.password") + " give credentials: give one")
	case jaas != nil:
		var err error
		if user, pass, isToken, err = jaasCredentials(*jaas, module); err != nil {
			return nil, c.errorf("sasl.jaas.config", "%s", err.Error())
		}
	default:
		var ok bool
		if user, ok = c.get("sasl.username"); !ok {
			return nil, fmt.Errorf("sasl.mechanism %s needs credentials: sasl.jaas.config, or sasl.username and sasl.password", mech)
		}
		if pass, ok = c.get("sasl.password"); !ok {
			return nil, errors.New("sasl.username is set without sasl.password: give both")
		}
	}
	if user == "" || pass == "" {
		return nil, fmt.Errorf("sasl.mechanism %s needs a non-empty username and password", mech)
	}
	switch mech {
	case "PLAIN":
		return plain.Auth{User: user, Pass: pass}.AsMechanism(), nil
	case "SCRAM-SHA-256":
		return scram.Auth{User: user, Pass: pass, IsToken: isToken}.AsSha256Mechanism(), nil
	}
	return scram.Auth{User: user, Pass: pass, IsToken: isToken}.AsSha512Mechanism(), nil
}

// jaasCredentials returns the username and password of a PLAIN or SCRAM
// login module, and SCRAM's tokenauth (a delegation token).
func jaasCredentials(j jaasConfig, module string) (user, pass string, isToken bool, err error) {
	if j.module != module {
		return "", "", false, fmt.Errorf("login module %s does not fit the mechanism: want %s", j.module, module)
	}
	for _, k := range slices.Sorted(maps.Keys(j.options)) { // a deterministic first error
		v := j.options[k]
		switch {
		case k == "username":
			user = v
		case k == "password":
			pass = v
		case k == "tokenauth" && module == scramModule:
			switch strings.ToLower(v) {
			case "true":
				isToken = true
			case "false":
			default:
				return "", "", false, errors.New("option tokenauth: want true or false")
			}
		default:
			return "", "", false, fmt.Errorf("option %s of %s is not understood", k, j.module)
		}
	}
	if _, ok := j.options["username"]; !ok {
		return "", "", false, errors.New("no username option")
	}
	if _, ok := j.options["password"]; !ok {
		return "", "", false, errors.New("no password option")
	}
	return user, pass, isToken, nil
}

// oauthMechanism builds OAUTHBEARER from a static token
// (sasl.oauthbearer.token) or from the unsecured-JWS options of
// OAuthBearerLoginModule.
func oauthMechanism(c *clientConfig, jaas *jaasConfig, now time.Time) (sasl.Mechanism, error) {
	if k := c.given("sasl.username", "sasl.password"); k != "" {
		return nil, fmt.Errorf("%s is set (%s) but sasl.mechanism is OAUTHBEARER, which takes a token: use sasl.oauthbearer.token", k, c.origin[k])
	}
	token, hasToken := c.get("sasl.oauthbearer.token")
	if hasToken && strings.TrimSpace(token) == "" {
		return nil, c.errorf("sasl.oauthbearer.token", "empty")
	}
	var auth oauth.Auth
	if jaas != nil {
		if jaas.module != oauthModule {
			return nil, c.errorf("sasl.jaas.config", "login module %s does not fit OAUTHBEARER: want %s", jaas.module, oauthModule)
		}
		a, err := unsecuredJWS(jaas.options, now)
		if err != nil {
			return nil, c.errorf("sasl.jaas.config", "%s", err.Error())
		}
		auth = a
	}
	switch {
	case hasToken && auth.Token != "":
		return nil, errors.New("both sasl.oauthbearer.token and sasl.jaas.config's unsecuredLoginStringClaim_ options give a token: give one")
	case hasToken:
		auth.Token = strings.TrimSpace(token)
	case auth.Token == "":
		return nil, errors.New("sasl.mechanism OAUTHBEARER needs a token: sasl.oauthbearer.token, or sasl.jaas.config with OAuthBearerLoginModule's unsecuredLoginStringClaim_sub (token endpoints are not supported)")
	}
	return auth.AsMechanism(), nil
}
