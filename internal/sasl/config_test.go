package sasl

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func TestConfigDefaults(t *testing.T) {
	c := Defaults()
	if len(c.EnabledMechanisms) != 0 || c.Enabled(MechanismPlain) {
		t.Fatalf("mechanisms enabled by default: %v", c.EnabledMechanisms)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	o := c.OAuthBearer
	if o.JWKSRefresh != time.Hour || o.ClockSkew != 30*time.Second || o.SubClaimName != "sub" || o.ScopeClaimName != "scope" ||
		o.JWKSRetryBackoff != 100*time.Millisecond || o.JWKSRetryBackoffMax != 10*time.Second {
		t.Fatalf("defaults %+v", o)
	}
}

func TestConfigFromProperties(t *testing.T) {
	props := map[string]string{
		"sasl.enabled.mechanisms":                                               "GSSAPI",
		"listener.name.sasl_ssl.sasl.enabled.mechanisms":                        " PLAIN, SCRAM-SHA-512 ,OAUTHBEARER,",
		"listener.name.sasl_ssl.plain.sasl.jaas.config":                         sampleJAAS,
		"sasl.oauthbearer.jwks.endpoint.url":                                    "https://idp.test/jwks",
		"listener.name.sasl_ssl.sasl.oauthbearer.expected.issuer":               "https://idp.test",
		"listener.name.sasl_ssl.oauthbearer.sasl.oauthbearer.expected.audience": "kafka, admin",
		"sasl.oauthbearer.expected.audience":                                    "ignored",
		"sasl.oauthbearer.jwks.endpoint.refresh.ms":                             "60000",
		"sasl.oauthbearer.jwks.endpoint.retry.backoff.ms":                       "50",
		"sasl.oauthbearer.jwks.endpoint.retry.backoff.max.ms":                   "5000",
		"sasl.oauthbearer.clock.skew.seconds":                                   "5",
		"sasl.oauthbearer.sub.claim.name":                                       "client_id",
		"sasl.oauthbearer.scope.claim.name":                                     "scp",
		"listener.name.other.sasl.enabled.mechanisms":                           "SCRAM-SHA-256",
	}
	c, err := ConfigFromProperties(props, "SASL_SSL")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.EnabledMechanisms, []string{"PLAIN", "SCRAM-SHA-512", "OAUTHBEARER"}) {
		t.Fatalf("mechanisms %q", c.EnabledMechanisms)
	}
	if c.PlainUsers["alice"] != "alice-secret" || len(c.PlainUsers) != 2 {
		t.Fatalf("users %v", c.PlainUsers)
	}
	o := c.OAuthBearer
	if o.JWKSEndpointURL != "https://idp.test/jwks" || o.ExpectedIssuer != "https://idp.test" ||
		!slices.Equal(o.ExpectedAudience, []string{"kafka", "admin"}) || o.JWKSRefresh != time.Minute ||
		o.JWKSRetryBackoff != 50*time.Millisecond || o.JWKSRetryBackoffMax != 5*time.Second ||
		o.ClockSkew != 5*time.Second || o.SubClaimName != "client_id" || o.ScopeClaimName != "scp" {
		t.Fatalf("oauthbearer %+v", o)
	}

	// Without a listener override, the global setting applies (and GSSAPI is refused).
	if _, err := ConfigFromProperties(props, "plaintext"); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("GSSAPI: %v", err)
	}
	c, err = ConfigFromProperties(props, "OTHER")
	if err != nil || !c.Enabled(MechanismScramSHA256) || c.PlainUsers != nil {
		t.Fatalf("%+v %v", c, err)
	}
}

func TestConfigValidate(t *testing.T) {
	ok := Defaults()
	ok.EnabledMechanisms = []string{MechanismOAuthBearer, MechanismPlain}
	ok.PlainUsers = map[string]string{"a": "b"}
	ok.OAuthBearer.JWKSEndpointURL = "file:/etc/jwks.json"
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(*Config){
		"GSSAPI":            func(c *Config) { c.EnabledMechanisms = []string{"GSSAPI"} },
		"unknown":           func(c *Config) { c.EnabledMechanisms = []string{"plain"} },
		"twice":             func(c *Config) { c.EnabledMechanisms = []string{"PLAIN", "PLAIN"} },
		"PLAIN no users":    func(c *Config) { c.PlainUsers = nil },
		"no JWKS URL":       func(c *Config) { c.OAuthBearer.JWKSEndpointURL = "" },
		"ftp JWKS URL":      func(c *Config) { c.OAuthBearer.JWKSEndpointURL = "ftp://idp/jwks" },
		"hostless URL":      func(c *Config) { c.OAuthBearer.JWKSEndpointURL = "https:///jwks" },
		"no file":           func(c *Config) { c.OAuthBearer.JWKSEndpointURL = "file:" },
		"zero refresh":      func(c *Config) { c.OAuthBearer.JWKSRefresh = 0 },
		"backoff over max":  func(c *Config) { c.OAuthBearer.JWKSRetryBackoff = time.Hour },
		"negative skew":     func(c *Config) { c.OAuthBearer.ClockSkew = -time.Second },
		"empty sub claim":   func(c *Config) { c.OAuthBearer.SubClaimName = " " },
		"empty scope claim": func(c *Config) { c.OAuthBearer.ScopeClaimName = "" },
		"empty audience":    func(c *Config) { c.OAuthBearer.ExpectedAudience = []string{""} },
	} {
		c := ok
		c.OAuthBearer.ExpectedAudience = nil
		mutate(&c)
		if err := c.Validate(); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: Validate = %v", name, err)
		}
	}
	for name, props := range map[string]map[string]string{
		"bad number":    {"sasl.oauthbearer.clock.skew.seconds": "thirty"},
		"negative":      {"sasl.oauthbearer.jwks.endpoint.refresh.ms": "-1"},
		"overflow":      {"sasl.oauthbearer.clock.skew.seconds": "9223372036854775807"},
		"bad JAAS":      {"listener.name.l.plain.sasl.jaas.config": "nonsense"},
		"PLAIN no JAAS": {"sasl.enabled.mechanisms": "PLAIN"},
	} {
		if _, err := ConfigFromProperties(props, "L"); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
