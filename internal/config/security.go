package config

import "strings"

// Security settings Samsa implements. They are read where they apply, by
// the packages that implement them (internal/tlsconf for ssl.*,
// internal/sasl for sasl.*), also in Kafka's listener-prefixed forms
// (listener.name.<listener>.<setting> and
// listener.name.<listener>.<mechanism>.<setting>); any other sasl.*
// setting still fails start-up (protect.go), and tlsconf refuses ssl.*
// settings it does not know.

// implementedSASL are the sasl.* settings Samsa honours.
var implementedSASL = map[string]bool{
	"sasl.enabled.mechanisms":                             true,
	"sasl.jaas.config":                                    true,
	"sasl.server.callback.handler.class":                  true, // only Kafka's OAuthBearerValidatorCallbackHandler (checked by the node)
	"sasl.server.max.receive.size":                        true,
	"sasl.mechanism.inter.broker.protocol":                true, // read by the node (interbroker_sasl.go)
	"sasl.mechanism.controller.protocol":                  true, // read by the node: PLAIN only
	"sasl.oauthbearer.jwks.endpoint.url":                  true,
	"sasl.oauthbearer.jwks.endpoint.refresh.ms":           true,
	"sasl.oauthbearer.jwks.endpoint.retry.backoff.ms":     true,
	"sasl.oauthbearer.jwks.endpoint.retry.backoff.max.ms": true,
	"sasl.oauthbearer.expected.audience":                  true,
	"sasl.oauthbearer.expected.issuer":                    true,
	"sasl.oauthbearer.clock.skew.seconds":                 true,
	"sasl.oauthbearer.sub.claim.name":                     true,
	"sasl.oauthbearer.scope.claim.name":                   true,
	// SaslPlainPlaintext is Samsa's own: PLAIN is offered on a
	// SASL_PLAINTEXT listener only when it is true.
	SaslPlainPlaintext: true,
}

// SaslPlainPlaintext allows SASL PLAIN (passwords in clear) on a listener
// without TLS; Samsa's own setting, default false.
const SaslPlainPlaintext = "sasl.plain.plaintext.enable"

// implementedSecurity reports whether a setting (without its listener
// prefix) is a security setting Samsa implements.
func implementedSecurity(name string) bool {
	return strings.HasPrefix(name, "ssl.") || implementedSASL[name] || name == "connections.max.reauth.ms"
}

// SecuritySetting reports whether name (possibly listener-prefixed) is an
// implemented security setting: LoadFile keeps those it does not define
// in Unknown without a warning, for the node to read.
func SecuritySetting(name string) bool {
	for _, c := range settingCandidates(name) {
		if implementedSecurity(c) {
			return true
		}
	}
	return false
}

// settingCandidates is name and, when listener-prefixed, the setting it
// overrides (and that setting without a mechanism prefix).
func settingCandidates(name string) []string {
	cands := []string{name}
	if rest, ok := strings.CutPrefix(name, "listener.name."); ok {
		if _, setting, ok := strings.Cut(rest, "."); ok {
			cands = append(cands, setting)
			if _, s2, ok := strings.Cut(setting, "."); ok {
				cands = append(cands, s2) // <mechanism>.sasl.jaas.config
			}
		}
	}
	return cands
}

// SecurityProps returns every setting given for ssl.*, sasl.*,
// connections.max.reauth.ms and their listener-prefixed forms, by name.
func (b *Broker) SecurityProps() map[string]string {
	out := map[string]string{}
	for k, v := range b.Unknown {
		if SecuritySetting(k) {
			out[k] = v
		}
	}
	for k := range b.Set {
		if SecuritySetting(k) {
			out[k] = b.Values[k]
		}
	}
	return out
}
