package sasl

import (
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Config is one listener's SASL settings, under Kafka's property names.
type Config struct {
	// EnabledMechanisms: sasl.enabled.mechanisms, or
	// listener.name.<listener>.sasl.enabled.mechanisms. Kafka defaults to
	// GSSAPI; Samsa defaults to none (SASL off).
	EnabledMechanisms []string
	// PlainUsers: the user_<name>="<password>" options of
	// listener.name.<listener>.plain.sasl.jaas.config.
	PlainUsers map[string]string
	// OAuthBearer: the sasl.oauthbearer.* settings.
	OAuthBearer OAuthBearerConfig
}

// OAuthBearerConfig holds how OAUTHBEARER tokens are verified.
type OAuthBearerConfig struct {
	// JWKSEndpointURL: sasl.oauthbearer.jwks.endpoint.url (file:, http:,
	// https:). Required when OAUTHBEARER is enabled: Samsa has no unsecured
	// (unsigned-token) mode.
	JWKSEndpointURL string
	// JWKSRefresh: sasl.oauthbearer.jwks.endpoint.refresh.ms (3600000).
	JWKSRefresh time.Duration
	// JWKSRetryBackoff: sasl.oauthbearer.jwks.endpoint.retry.backoff.ms (100).
	JWKSRetryBackoff time.Duration
	// JWKSRetryBackoffMax: sasl.oauthbearer.jwks.endpoint.retry.backoff.max.ms (10000).
	JWKSRetryBackoffMax time.Duration
	// JWKSUnknownKIDRefetchInterval is the least time between two refetches
	// caused by tokens with an unknown kid (Samsa's own, 10 s; no property).
	JWKSUnknownKIDRefetchInterval time.Duration
	// ExpectedAudience: sasl.oauthbearer.expected.audience (a list; a token
	// must name one of them; empty: not checked).
	ExpectedAudience []string
	// ExpectedIssuer: sasl.oauthbearer.expected.issuer (empty: not checked).
	ExpectedIssuer string
	// ClockSkew: sasl.oauthbearer.clock.skew.seconds (30).
	ClockSkew time.Duration
	// SubClaimName: sasl.oauthbearer.sub.claim.name ("sub"), the principal.
	SubClaimName string
	// ScopeClaimName: sasl.oauthbearer.scope.claim.name ("scope").
	ScopeClaimName string
}

// Defaults returns Kafka's defaults, with no mechanism enabled.
func Defaults() Config {
	return Config{OAuthBearer: OAuthBearerDefaults()}
}

// OAuthBearerDefaults returns Kafka's sasl.oauthbearer.* defaults.
func OAuthBearerDefaults() OAuthBearerConfig {
	return OAuthBearerConfig{
		JWKSRefresh:                   time.Hour,
		JWKSRetryBackoff:              100 * time.Millisecond,
		JWKSRetryBackoffMax:           10 * time.Second,
		JWKSUnknownKIDRefetchInterval: 10 * time.Second,
		ClockSkew:                     30 * time.Second,
		SubClaimName:                  "sub",
		ScopeClaimName:                "scope",
	}
}

// Enabled reports whether mechanism is enabled.
func (c Config) Enabled(mechanism string) bool {
	return slices.Contains(c.EnabledMechanisms, mechanism)
}

// Validate checks the settings: known mechanisms (GSSAPI is refused, not
// implemented), each listed once; PLAIN with users; OAUTHBEARER with a JWKS
// endpoint and sane timings.
func (c Config) Validate() error {
	seen := map[string]bool{}
	for _, m := range c.EnabledMechanisms {
		switch m {
		case MechanismPlain, MechanismScramSHA256, MechanismScramSHA512, MechanismOAuthBearer:
		case "GSSAPI":
			return configErrorf("sasl.enabled.mechanisms: GSSAPI (Kerberos) is not supported")
		default:
			return configErrorf("sasl.enabled.mechanisms: unknown mechanism %q", m)
		}
		if seen[m] {
			return configErrorf("sasl.enabled.mechanisms: %s listed twice", m)
		}
		seen[m] = true
	}
	if seen[MechanismPlain] && len(c.PlainUsers) == 0 {
		return configErrorf("PLAIN is enabled but listener.name.<listener>.plain.sasl.jaas.config defines no user_<name> entry")
	}
	if seen[MechanismOAuthBearer] {
		if err := c.OAuthBearer.validateJWKS(); err != nil {
			return err
		}
		return c.OAuthBearer.validateClaims()
	}
	return nil
}

func (o OAuthBearerConfig) validateJWKS() error {
	if o.JWKSEndpointURL == "" {
		return configErrorf("OAUTHBEARER needs sasl.oauthbearer.jwks.endpoint.url (unsigned tokens are not accepted)")
	}
	u, err := url.Parse(o.JWKSEndpointURL)
	if err != nil {
		return configWrap("sasl.oauthbearer.jwks.endpoint.url", err)
	}
	switch u.Scheme {
	case "file":
		if u.Path == "" && u.Opaque == "" {
			return configErrorf("sasl.oauthbearer.jwks.endpoint.url %q names no file", o.JWKSEndpointURL)
		}
	case "http", "https":
		if u.Host == "" {
			return configErrorf("sasl.oauthbearer.jwks.endpoint.url %q has no host", o.JWKSEndpointURL)
		}
	default:
		return configErrorf("sasl.oauthbearer.jwks.endpoint.url %q: scheme must be file, http or https", o.JWKSEndpointURL)
	}
	switch {
	case o.JWKSRefresh <= 0:
		return configErrorf("sasl.oauthbearer.jwks.endpoint.refresh.ms must be positive")
	case o.JWKSRetryBackoff <= 0 || o.JWKSRetryBackoffMax < o.JWKSRetryBackoff:
		return configErrorf("sasl.oauthbearer.jwks.endpoint.retry.backoff.ms must be positive and at most retry.backoff.max.ms")
	case o.JWKSUnknownKIDRefetchInterval < 0:
		return configErrorf("JWKS unknown-kid refetch interval must not be negative")
	}
	return nil
}

func (o OAuthBearerConfig) validateClaims() error {
	switch {
	case o.ClockSkew < 0:
		return configErrorf("sasl.oauthbearer.clock.skew.seconds must not be negative")
	case strings.TrimSpace(o.SubClaimName) == "":
		return configErrorf("sasl.oauthbearer.sub.claim.name is empty")
	case strings.TrimSpace(o.ScopeClaimName) == "":
		return configErrorf("sasl.oauthbearer.scope.claim.name is empty")
	case slices.Contains(o.ExpectedAudience, ""):
		return configErrorf("sasl.oauthbearer.expected.audience has an empty entry")
	}
	return nil
}

// ConfigFromProperties reads listener's SASL settings from broker
// properties, starting from Defaults and then Validate-ing the result. A
// setting is looked up first as
// listener.name.<listener>.<mechanism>.<name> (OAUTHBEARER settings, with
// mechanism "oauthbearer"), then listener.name.<listener>.<name>, then
// <name>; the listener name is lower-cased, as Kafka does. PLAIN users come
// only from listener.name.<listener>.plain.sasl.jaas.config, as on a Kafka
// broker.
func ConfigFromProperties(props map[string]string, listenerName string) (Config, error) {
	c := Defaults()
	prefix := "listener.name." + strings.ToLower(listenerName) + "."
	get := func(mech, name string) (string, bool) {
		keys := []string{prefix + name, name}
		if mech != "" {
			keys = append([]string{prefix + mech + "." + name}, keys...)
		}
		for _, k := range keys {
			if v, ok := props[k]; ok {
				return strings.TrimSpace(v), true
			}
		}
		return "", false
	}
	if v, ok := get("", "sasl.enabled.mechanisms"); ok {
		c.EnabledMechanisms = splitList(v)
	}
	if v, ok := props[prefix+"plain.sasl.jaas.config"]; ok {
		users, err := ParsePlainJAAS(v)
		if err != nil {
			return c, err
		}
		c.PlainUsers = users
	}
	if err := c.OAuthBearer.fromProperties(func(name string) (string, bool) { return get("oauthbearer", name) }); err != nil {
		return c, err
	}
	return c, c.Validate()
}

func (o *OAuthBearerConfig) fromProperties(get func(string) (string, bool)) error {
	const p = "sasl.oauthbearer."
	if v, ok := get(p + "jwks.endpoint.url"); ok {
		o.JWKSEndpointURL = v
	}
	if v, ok := get(p + "expected.issuer"); ok {
		o.ExpectedIssuer = v
	}
	if v, ok := get(p + "expected.audience"); ok {
		o.ExpectedAudience = splitList(v)
	}
	if v, ok := get(p + "sub.claim.name"); ok {
		o.SubClaimName = v
	}
	if v, ok := get(p + "scope.claim.name"); ok {
		o.ScopeClaimName = v
	}
	durations := map[string]struct {
		dst  *time.Duration
		unit time.Duration
	}{
		"jwks.endpoint.refresh.ms":           {&o.JWKSRefresh, time.Millisecond},
		"jwks.endpoint.retry.backoff.ms":     {&o.JWKSRetryBackoff, time.Millisecond},
		"jwks.endpoint.retry.backoff.max.ms": {&o.JWKSRetryBackoffMax, time.Millisecond},
		"clock.skew.seconds":                 {&o.ClockSkew, time.Second},
	}
	for _, name := range slices.Sorted(maps.Keys(durations)) {
		d := durations[name]
		v, ok := get(p + name)
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 || n > int64(1<<62)/int64(d.unit) {
			return configErrorf("%s%s: %q is not a valid number", p, name, v)
		}
		*d.dst = time.Duration(n) * d.unit
	}
	return nil
}

// splitList splits a Kafka list setting on commas, trimming spaces and
// dropping empty entries.
func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
