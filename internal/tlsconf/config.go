package tlsconf

import (
	"crypto/tls"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// ErrInvalid wraps every error of FromProperties and Validate.
var ErrInvalid = errors.New("tlsconf: invalid TLS setting")

// Store types of ssl.keystore.type and ssl.truststore.type.
const (
	TypePEM    = "PEM"
	TypePKCS12 = "PKCS12"
	TypeJKS    = "JKS" // Kafka's default; refused
)

// ClientAuth is ssl.client.auth.
type ClientAuth int

const (
	// ClientAuthNone asks no certificate of the client (Kafka's default).
	ClientAuthNone ClientAuth = iota
	// ClientAuthRequested asks for one and verifies it if given.
	ClientAuthRequested
	// ClientAuthRequired fails the handshake without a verified one.
	ClientAuthRequired
)

// String is the ssl.client.auth value.
func (a ClientAuth) String() string {
	switch a {
	case ClientAuthNone:
		return "none"
	case ClientAuthRequested:
		return "requested"
	case ClientAuthRequired:
		return "required"
	}
	return fmt.Sprintf("ClientAuth(%d)", int(a))
}

// TLS is the crypto/tls policy of a.
func (a ClientAuth) TLS() tls.ClientAuthType {
	switch a {
	case ClientAuthRequested:
		return tls.VerifyClientCertIfGiven
	case ClientAuthRequired:
		return tls.RequireAndVerifyClientCert
	}
	return tls.NoClientCert
}

// Config is the TLS configuration of one listener (or one client), under
// Kafka's setting names. Zero fields take Kafka's defaults in Defaults.
// Passwords and inline PEM are secrets: never log a Config.
type Config struct {
	// KeystoreType is ssl.keystore.type: PEM or PKCS12 (JKS, Kafka's
	// default, is refused when a keystore is given).
	KeystoreType string
	// KeystoreLocation is ssl.keystore.location: for PEM one file with the
	// private key and the certificate chain (leaf first); for PKCS12 the
	// PKCS#12 file. Re-read when it changes.
	KeystoreLocation string
	// KeystorePassword is ssl.keystore.password (PKCS12 only).
	KeystorePassword string
	// KeyPassword is ssl.key.password: decrypts an ENCRYPTED PRIVATE KEY.
	KeyPassword string
	// KeystoreKey and KeystoreCertificateChain are ssl.keystore.key and
	// ssl.keystore.certificate.chain: inline PEM (type PEM), never reloaded.
	KeystoreKey              string
	KeystoreCertificateChain string

	// TruststoreType is ssl.truststore.type: PEM or PKCS12.
	TruststoreType string
	// TruststoreLocation is ssl.truststore.location: the CA certificates
	// (PEM file, or PKCS#12 trust store). Re-read when it changes.
	TruststoreLocation string
	// TruststorePassword is ssl.truststore.password (PKCS12 only).
	TruststorePassword string
	// TruststoreCertificates is ssl.truststore.certificates: inline PEM.
	TruststoreCertificates string

	// ClientAuth is ssl.client.auth (server side).
	ClientAuth ClientAuth
	// Protocol is ssl.protocol: TLS, TLSv1.2 or TLSv1.3 (default). As in
	// Kafka, TLSv1.2 caps the version at 1.2.
	Protocol string
	// EnabledProtocols is ssl.enabled.protocols (default TLSv1.2,TLSv1.3).
	EnabledProtocols []string
	// CipherSuites is ssl.cipher.suites, IANA (Java) names; empty: Go's
	// defaults.
	CipherSuites []string
	// SkipHostnameVerification is ssl.endpoint.identification.algorithm
	// set empty (client side): the server's certificate chain is verified
	// but not its name. Kafka's default, https, verifies the name.
	SkipHostnameVerification bool
	// PrincipalMappingRules is ssl.principal.mapping.rules (default
	// DEFAULT).
	PrincipalMappingRules string
	// AllowDNChanges and AllowSANChanges are ssl.allow.dn.changes and
	// ssl.allow.san.changes: whether a reloaded keystore may change the
	// certificate's subject or subject alternative names (default false:
	// such a reload is refused and the old certificate kept).
	AllowDNChanges  bool
	AllowSANChanges bool

	// set records which settings were given (by FromProperties, under
	// the name the user wrote), so that Validate names them.
	set map[string]string
}

// Defaults returns c with unset fields at Kafka's defaults. A setting
// FromProperties found given, even empty, keeps its value (as in Kafka, an
// empty ssl.principal.mapping.rules has no rules and maps no certificate).
func (c Config) Defaults() Config {
	def := func(field *string, setting, value string) {
		if _, given := c.set[setting]; !given && *field == "" {
			*field = value
		}
	}
	def(&c.KeystoreType, "ssl.keystore.type", TypeJKS)
	def(&c.TruststoreType, "ssl.truststore.type", TypeJKS)
	def(&c.Protocol, "ssl.protocol", "TLSv1.3")
	def(&c.PrincipalMappingRules, "ssl.principal.mapping.rules", "DEFAULT")
	if c.EnabledProtocols == nil {
		c.EnabledProtocols = []string{"TLSv1.2", "TLSv1.3"}
	}
	return c
}

// name is the setting as the user wrote it (listener-prefixed or not).
func (c Config) name(setting string) string {
	if n, ok := c.set[setting]; ok {
		return n
	}
	return setting
}

func (c Config) invalid(setting, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalid, c.name(setting), fmt.Sprintf(format, args...))
}

// HasKeystore reports whether c names a certificate and key.
func (c Config) HasKeystore() bool {
	return c.KeystoreLocation != "" || c.KeystoreKey != "" || c.KeystoreCertificateChain != ""
}

// HasTruststore reports whether c names trusted certificates.
func (c Config) HasTruststore() bool {
	return c.TruststoreLocation != "" || c.TruststoreCertificates != ""
}

// Validate reports what is wrong with c (call it on Defaults()). It checks
// the settings, not the files: NewReloader reads those.
func (c Config) Validate() error {
	if err := c.validateKeystore(); err != nil {
		return err
	}
	if err := c.validateTruststore(); err != nil {
		return err
	}
	if c.ClientAuth < ClientAuthNone || c.ClientAuth > ClientAuthRequired {
		return c.invalid("ssl.client.auth", "%v is not none, requested or required", c.ClientAuth)
	}
	if c.ClientAuth != ClientAuthNone && !c.HasTruststore() {
		return c.invalid("ssl.client.auth", "%s needs a trust store (ssl.truststore.location or ssl.truststore.certificates): Samsa does not trust the system's CAs for client certificates", c.ClientAuth)
	}
	if _, err := c.params(); err != nil {
		return err
	}
	if _, err := ParsePrincipalMappingRules(c.PrincipalMappingRules); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrInvalid, c.name("ssl.principal.mapping.rules"), err)
	}
	return nil
}

// validateKeystore applies Kafka's rules for combining the keystore
// settings.
func (c Config) validateKeystore() error {
	typ := strings.ToUpper(c.KeystoreType)
	switch {
	case c.KeystoreKey != "" || c.KeystoreCertificateChain != "":
		switch {
		case typ != TypePEM:
			return c.invalid("ssl.keystore.key", "an inline key needs ssl.keystore.type=PEM (it is %s)", c.KeystoreType)
		case c.KeystoreKey == "":
			return c.invalid("ssl.keystore.certificate.chain", "given without ssl.keystore.key")
		case c.KeystoreCertificateChain == "":
			return c.invalid("ssl.keystore.key", "given without ssl.keystore.certificate.chain")
		case c.KeystoreLocation != "":
			return c.invalid("ssl.keystore.key", "given together with ssl.keystore.location")
		case c.KeystorePassword != "":
			return c.invalid("ssl.keystore.password", "cannot be given for a PEM key (only ssl.key.password)")
		}
	case c.KeystoreLocation != "":
		if err := c.storeType("ssl.keystore.type", typ); err != nil {
			return err
		}
		if typ == TypePEM && c.KeystorePassword != "" {
			return c.invalid("ssl.keystore.password", "cannot be given for a PEM key (only ssl.key.password)")
		}
		if typ == TypePKCS12 {
			if c.KeystorePassword == "" {
				return c.invalid("ssl.keystore.password", "a PKCS12 keystore needs its password")
			}
			if c.KeyPassword != "" && c.KeyPassword != c.KeystorePassword {
				return c.invalid("ssl.key.password", "differs from ssl.keystore.password: PKCS12 keystores with a separate key password are not read")
			}
		}
	case c.KeystorePassword != "":
		return c.invalid("ssl.keystore.password", "given without a keystore")
	case c.KeyPassword != "":
		return c.invalid("ssl.key.password", "given without a keystore")
	}
	return nil
}

func (c Config) validateTruststore() error {
	typ := strings.ToUpper(c.TruststoreType)
	switch {
	case c.TruststoreCertificates != "":
		switch {
		case typ != TypePEM:
			return c.invalid("ssl.truststore.certificates", "inline certificates need ssl.truststore.type=PEM (it is %s)", c.TruststoreType)
		case c.TruststoreLocation != "":
			return c.invalid("ssl.truststore.certificates", "given together with ssl.truststore.location")
		case c.TruststorePassword != "":
			return c.invalid("ssl.truststore.password", "cannot be given for PEM")
		}
	case c.TruststoreLocation != "":
		if err := c.storeType("ssl.truststore.type", typ); err != nil {
			return err
		}
		if typ == TypePEM && c.TruststorePassword != "" {
			return c.invalid("ssl.truststore.password", "cannot be given for PEM")
		}
	case c.TruststorePassword != "":
		return c.invalid("ssl.truststore.password", "given without a trust store")
	}
	return nil
}

func (c Config) storeType(setting, typ string) error {
	switch typ {
	case TypePEM, TypePKCS12:
		return nil
	case TypeJKS:
		return c.invalid(setting, "JKS (Kafka's default) is not read: set %s=PEM (or PKCS12; keytool -importkeystore -deststoretype PKCS12 converts)", setting)
	}
	return c.invalid(setting, "%q is not PEM or PKCS12", typ)
}

// params are the crypto/tls settings resolved from c.
type params struct {
	minVersion, maxVersion uint16
	suites                 []uint16 // TLS 1.2 suites; nil: Go's defaults
}

// tls13Suites are the TLS 1.3 suites Go always enables (constant table).
var tls13Suites = []string{"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"}

// params resolves the versions and suites. Java drops a protocol version
// none of the listed suites works with; so does this.
func (c Config) params() (params, error) {
	var p params
	for _, name := range c.EnabledProtocols {
		v, err := c.version("ssl.enabled.protocols", name)
		if err != nil {
			return p, err
		}
		if v == 0 {
			continue
		}
		if p.minVersion == 0 || v < p.minVersion {
			p.minVersion = v
		}
		p.maxVersion = max(p.maxVersion, v)
	}
	if p.minVersion == 0 {
		return p, c.invalid("ssl.enabled.protocols", "enables no protocol")
	}
	limit, err := c.version("ssl.protocol", c.Protocol)
	if err != nil {
		return p, err
	}
	if limit == tls.VersionTLS12 {
		p.maxVersion = tls.VersionTLS12
	}
	if len(c.CipherSuites) > 0 {
		if err := c.suites(&p); err != nil {
			return p, err
		}
	}
	if p.minVersion > p.maxVersion {
		return p, c.invalid("ssl.enabled.protocols", "no enabled protocol is left with ssl.protocol=%s and ssl.cipher.suites", c.Protocol)
	}
	return p, nil
}

// version maps a Java protocol name; 0 for "TLS" (any) in ssl.protocol.
func (c Config) version(setting, name string) (uint16, error) {
	switch strings.ToUpper(strings.TrimSpace(name)) {
	case "TLSV1.3":
		return tls.VersionTLS13, nil
	case "TLSV1.2":
		return tls.VersionTLS12, nil
	case "TLS":
		if setting == "ssl.protocol" {
			return 0, nil
		}
	case "TLSV1.1", "TLSV1", "SSLV3", "SSLV2HELLO", "SSL", "SSLV2":
		return 0, c.invalid(setting, "%s is refused: TLSv1.2 and TLSv1.3 only", name)
	}
	return 0, c.invalid(setting, "unknown protocol %q", name)
}

// suites resolves ssl.cipher.suites.
func (c Config) suites(p *params) error {
	var ids []uint16
	var named13 []string
	for _, name := range c.CipherSuites {
		name = strings.TrimSpace(name)
		if name == "TLS_EMPTY_RENEGOTIATION_INFO_SCSV" {
			continue // a signal, not a suite; Go always sends its equivalent
		}
		if slices.Contains(tls13Suites, name) {
			named13 = append(named13, name)
			continue
		}
		id, err := c.suite(name)
		if err != nil {
			return err
		}
		ids = append(ids, id)
	}
	if len(named13) > 0 && len(named13) < len(tls13Suites) {
		return c.invalid("ssl.cipher.suites", "names some TLS 1.3 suites (%s): Go cannot enable TLS 1.3 suites one by one; list all of %s or none (none disables TLSv1.3)",
			strings.Join(named13, ","), strings.Join(tls13Suites, ","))
	}
	if len(named13) == 0 {
		p.maxVersion = min(p.maxVersion, tls.VersionTLS12)
	}
	if len(ids) == 0 {
		p.minVersion = max(p.minVersion, tls.VersionTLS13)
	}
	p.suites = ids
	return nil
}

func (c Config) suite(name string) (uint16, error) {
	for _, s := range tls.CipherSuites() {
		if s.Name == name {
			return s.ID, nil
		}
	}
	alias := strings.Replace(name, "SSL_", "TLS_", 1)
	for _, s := range tls.InsecureCipherSuites() {
		if s.Name == name || s.Name == alias {
			return 0, c.invalid("ssl.cipher.suites", "%s is refused as insecure", name)
		}
	}
	return 0, c.invalid("ssl.cipher.suites", "unknown cipher suite %q", name)
}

// settingKinds are the ssl.* settings FromProperties reads (constant table).
// "ignored" are accepted and have no effect (documented in doc.go).
var settingKinds = map[string]string{
	"ssl.keystore.type":                     "string",
	"ssl.keystore.location":                 "string",
	"ssl.keystore.password":                 "string",
	"ssl.key.password":                      "string",
	"ssl.keystore.key":                      "string",
	"ssl.keystore.certificate.chain":        "string",
	"ssl.truststore.type":                   "string",
	"ssl.truststore.location":               "string",
	"ssl.truststore.password":               "string",
	"ssl.truststore.certificates":           "string",
	"ssl.client.auth":                       "string",
	"ssl.protocol":                          "string",
	"ssl.enabled.protocols":                 "list",
	"ssl.cipher.suites":                     "list",
	"ssl.endpoint.identification.algorithm": "string",
	"ssl.principal.mapping.rules":           "string",
	"ssl.allow.dn.changes":                  "bool",
	"ssl.allow.san.changes":                 "bool",
	"ssl.keymanager.algorithm":              "ignored",
	"ssl.trustmanager.algorithm":            "ignored",
	"ssl.secure.random.implementation":      "ignored",
	"ssl.provider":                          "empty",
	"ssl.engine.factory.class":              "empty",
}

// FromProperties reads the ssl.* settings of props for the listener named
// listenerName (case-insensitive; empty for a client): a
// listener.name.<listener>.ssl.X setting overrides ssl.X. Settings are
// trimmed, as Kafka does. An ssl.* setting it does not know is an error.
// The result has Defaults applied and is validated.
func FromProperties(props map[string]string, listenerName string) (Config, error) {
	vals, names, err := sslSettings(props, listenerName)
	if err != nil {
		return Config{}, err
	}
	c := Config{set: names}
	for _, setting := range sortedKeys(vals) {
		if err := c.apply(setting, vals[setting]); err != nil {
			return Config{}, err
		}
	}
	c = c.Defaults()
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// sslSettings picks the ssl.* settings of props, listener prefix first,
// and the names the user wrote them under.
func sslSettings(props map[string]string, listenerName string) (map[string]string, map[string]string, error) {
	prefix := "listener.name." + strings.ToLower(listenerName) + "."
	vals, names := map[string]string{}, map[string]string{}
	var unknown []string
	for k, v := range props {
		setting := k
		prefixed := false
		if listenerName != "" {
			if rest, ok := strings.CutPrefix(k, prefix); ok {
				setting, prefixed = rest, true
			}
		}
		if !strings.HasPrefix(setting, "ssl.") {
			continue
		}
		if _, ok := settingKinds[setting]; !ok {
			unknown = append(unknown, k)
			continue
		}
		if _, done := names[setting]; done && !prefixed {
			continue // the listener's own setting won
		}
		vals[setting], names[setting] = strings.TrimSpace(v), k
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, nil, fmt.Errorf("%w: %s: unknown TLS setting (refused rather than ignored)", ErrInvalid, strings.Join(unknown, ", "))
	}
	return vals, names, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// apply sets one setting of c from its trimmed value.
func (c *Config) apply(setting, v string) error {
	switch settingKinds[setting] {
	case "ignored":
		return nil
	case "empty":
		if v != "" {
			return c.invalid(setting, "%q: a custom provider or engine factory is not supported", v)
		}
		return nil
	case "bool":
		b, ok := map[string]bool{"true": true, "false": false}[strings.ToLower(v)]
		if !ok {
			return c.invalid(setting, "%q is not true or false", v)
		}
		if setting == "ssl.allow.dn.changes" {
			c.AllowDNChanges = b
		} else {
			c.AllowSANChanges = b
		}
		return nil
	case "list":
		list := splitList(v)
		if setting == "ssl.enabled.protocols" {
			c.EnabledProtocols = list
		} else {
			c.CipherSuites = list
		}
		return nil
	}
	return c.applyString(setting, v)
}

func (c *Config) applyString(setting, v string) error {
	switch setting {
	case "ssl.client.auth":
		switch strings.ToLower(v) {
		case "none", "":
			c.ClientAuth = ClientAuthNone
		case "requested":
			c.ClientAuth = ClientAuthRequested
		case "required":
			c.ClientAuth = ClientAuthRequired
		default:
			return c.invalid(setting, "%q is not none, requested or required", v)
		}
		return nil
	case "ssl.endpoint.identification.algorithm":
		switch strings.ToLower(v) {
		case "https":
			c.SkipHostnameVerification = false
		case "":
			c.SkipHostnameVerification = true
		default:
			return c.invalid(setting, "%q is not https or empty", v)
		}
		return nil
	}
	fields := map[string]*string{
		"ssl.keystore.type": &c.KeystoreType, "ssl.keystore.location": &c.KeystoreLocation,
		"ssl.keystore.password": &c.KeystorePassword, "ssl.key.password": &c.KeyPassword,
		"ssl.keystore.key": &c.KeystoreKey, "ssl.keystore.certificate.chain": &c.KeystoreCertificateChain,
		"ssl.truststore.type": &c.TruststoreType, "ssl.truststore.location": &c.TruststoreLocation,
		"ssl.truststore.password": &c.TruststorePassword, "ssl.truststore.certificates": &c.TruststoreCertificates,
		"ssl.protocol": &c.Protocol, "ssl.principal.mapping.rules": &c.PrincipalMappingRules,
	}
	*fields[setting] = v
	return nil
}

// splitList splits a Kafka LIST value: comma-separated, trimmed, "" is
// the empty list.
func splitList(v string) []string {
	list := []string{}
	for item := range strings.SplitSeq(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			list = append(list, item)
		}
	}
	return list
}
