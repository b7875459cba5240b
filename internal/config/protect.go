package config

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ErrUnimplementedProtection is the start-up error for a setting that
// would protect the broker (authentication, authorization, encryption,
// quotas, connection limits) but that Samsa does not implement yet.
var ErrUnimplementedProtection = errors.New("config: settings that protect the broker are not implemented")

// protection is a setting that protects a broker and that Samsa does not
// implement yet. Setting it fails start-up: a broker must never serve wide
// open while its operator believes it is protected.
type protection struct {
	// name is the exact setting name, or a prefix if it ends in ".".
	name string
	// what is what the setting would protect with.
	what string
	// bad reports the values that ask for the missing protection; nil:
	// every non-empty value.
	bad func(v string) bool
	// listenerOnly: the broker-wide setting is implemented, its
	// per-listener form (listener.name.<listener>.<setting>) is not.
	listenerOnly bool
}

// unimplementedProtections lists them. When Samsa implements one, delete
// its line here (and define the setting in defs.go); nothing else
// refers to a name. Listener-prefixed forms
// (listener.name.<listener>.<setting>, and
// listener.name.<listener>.<mechanism>.<setting>) are matched too.
// replication.quota.* is not here: it only sizes the sampling window of
// replication throttling, which Samsa implements with its own meter.
var unimplementedProtections = []protection{
	{name: "principal.builder.class", what: "authentication"},
	{name: "sasl.", what: "SASL authentication"},
	{name: "delegation.token.", what: "delegation-token authentication"},
	{name: "security.inter.broker.protocol", what: "TLS or SASL between brokers", bad: notPlaintext},
	{name: "client.quota.callback.class", what: "client quotas"},
	{name: "producer_byte_rate", what: "client quotas"},
	{name: "consumer_byte_rate", what: "client quotas"},
	{name: "request_percentage", what: "client quotas"},
	{name: "controller_mutation_rate", what: "controller mutation quotas"},
	{name: "max.connections", what: "per-listener connection limits", listenerOnly: true},
	{name: "max.connections.per.ip", what: "per-listener connection limits", listenerOnly: true},
	{name: "max.connections.per.ip.overrides", what: "per-listener connection limits", listenerOnly: true},
}

func notPlaintext(v string) bool { return !strings.EqualFold(strings.TrimSpace(v), "PLAINTEXT") }

// match reports whether name (not listener-prefixed) is p's setting.
func (p *protection) match(name string) bool {
	if strings.HasSuffix(p.name, ".") {
		return strings.HasPrefix(name, p.name)
	}
	return name == p.name
}

// unimplementedProtection returns the protection name sets, if any:
// directly, or in a listener-prefixed form.
func unimplementedProtection(name string) (*protection, bool) {
	cands := settingCandidates(name)
	for _, c := range cands[min(1, len(cands)-1):] {
		if implementedSecurity(c) {
			return nil, false
		}
	}
	if implementedSecurity(name) {
		return nil, false
	}
	for i := range unimplementedProtections {
		p := &unimplementedProtections[i]
		for j, c := range cands {
			if p.listenerOnly && j == 0 {
				continue // the broker-wide setting is implemented
			}
			if p.match(c) {
				return p, true
			}
		}
	}
	return nil, false
}

// checkProtections fails with ErrUnimplementedProtection naming every
// setting b was given (known or not, from any source) that asks for a
// protection Samsa does not implement. Empty values set nothing.
func (b *Broker) checkProtections() error {
	given := map[string]string{}
	for k, v := range b.Unknown {
		given[k] = v
	}
	for k := range b.Set {
		given[k] = b.Values[k]
	}
	var found []string
	for k, v := range given {
		if strings.TrimSpace(v) == "" {
			continue
		}
		if p, ok := unimplementedProtection(k); ok && (p.bad == nil || p.bad(v)) {
			found = append(found, fmt.Sprintf("%s (%s)", k, p.what))
		}
	}
	if len(found) == 0 {
		return nil
	}
	sort.Strings(found)
	return fmt.Errorf("%w yet: %s; refusing to start rather than serve without them (remove the settings to run unprotected)",
		ErrUnimplementedProtection, strings.Join(found, ", "))
}
