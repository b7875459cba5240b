package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/sasl/oauth"
)

// The OAuthBearerLoginModule options of Kafka's unsecured login callback
// handler (OAuthBearerUnsecuredLoginCallbackHandler), by prefix or name.
const (
	jwsStringClaim   = "unsecuredLoginStringClaim_"
	jwsNumberClaim   = "unsecuredLoginNumberClaim_"
	jwsListClaim     = "unsecuredLoginListClaim_"
	jwsExtension     = "unsecuredLoginExtension_"
	jwsPrincipalName = "unsecuredLoginPrincipalClaimName"
	jwsScopeName     = "unsecuredLoginScopeClaimName"
	jwsLifetime      = "unsecuredLoginLifetimeSeconds"
)

// unsecuredJWS builds what Kafka's unsecured login callback handler builds
// from OAuthBearerLoginModule's options: an unsigned JWT ({"alg":"none"})
// with the configured claims, iat (now) and exp (now plus
// unsecuredLoginLifetimeSeconds, default 3600), and SASL extensions. With
// no claim options it returns no token (extensions only), for use with
// sasl.oauthbearer.token.
func unsecuredJWS(options map[string]string, now time.Time) (oauth.Auth, error) {
	var auth oauth.Auth
	claims := map[string]any{}
	principal, lifetime := "sub", int64(3600)
	for _, k := range slices.Sorted(maps.Keys(options)) { // a deterministic first error
		v := options[k]
		name, err := jwsOption(k, v, claims, &auth)
		if err != nil {
			return oauth.Auth{}, err
		}
		switch name {
		case jwsPrincipalName:
			principal = strings.TrimSpace(v)
		case jwsLifetime:
			if lifetime, err = strconv.ParseInt(strings.TrimSpace(v), 10, 64); err != nil || lifetime <= 0 {
				return oauth.Auth{}, errors.New("option " + jwsLifetime + ": want a positive number of seconds")
			}
		}
	}
	if len(claims) == 0 {
		return auth, nil
	}
	if s, ok := claims[principal].(string); !ok || s == "" {
		return oauth.Auth{}, fmt.Errorf("no principal: give %s%s=\"NAME\"", jwsStringClaim, principal)
	}
	claims["iat"] = now.Unix()
	claims["exp"] = now.Unix() + lifetime
	body, err := json.Marshal(claims)
	if err != nil {
		return oauth.Auth{}, fmt.Errorf("cannot encode the token's claims: %w", err)
	}
	enc := base64.RawURLEncoding
	auth.Token = enc.EncodeToString([]byte(`{"alg":"none"}`)) + "." + enc.EncodeToString(body) + "."
	return auth, nil
}

// jwsOption applies one option to claims or auth's extensions; it returns
// the option's name when it is one of the plain settings, which the caller
// handles.
func jwsOption(k, v string, claims map[string]any, auth *oauth.Auth) (string, error) {
	prefix, claim := "", ""
	for _, p := range []string{jwsStringClaim, jwsNumberClaim, jwsListClaim, jwsExtension} {
		if rest, ok := strings.CutPrefix(k, p); ok {
			prefix, claim = p, rest
		}
	}
	if prefix == "" {
		switch k {
		case jwsPrincipalName, jwsScopeName, jwsLifetime:
			return k, nil
		}
		return "", fmt.Errorf("option %s of OAuthBearerLoginModule is not understood (samsa takes a static token or unsecuredLogin* options; token endpoints are not supported)", k)
	}
	if claim == "" {
		return "", fmt.Errorf("option %s names nothing", k)
	}
	if prefix != jwsExtension && (claim == "iat" || claim == "exp") {
		return "", fmt.Errorf("option %s: claim %s is set by samsa", k, claim)
	}
	switch prefix {
	case jwsStringClaim:
		claims[claim] = v
	case jwsNumberClaim:
		n, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return "", fmt.Errorf("option %s: want a number", k)
		}
		claims[claim] = n
	case jwsListClaim:
		claims[claim] = jwsList(v)
	case jwsExtension:
		if !validExtensionName(claim) {
			return "", fmt.Errorf("option %s: an extension name is letters only and not \"auth\"", k)
		}
		if auth.Extensions == nil {
			auth.Extensions = map[string]string{}
		}
		auth.Extensions[claim] = v
	}
	return "", nil
}

// jwsList splits a list claim: its first character is the delimiter
// (",a,b" is [a b]); empty items are dropped.
func jwsList(v string) []string {
	list := []string{}
	if v == "" {
		return list
	}
	for _, item := range strings.Split(v[1:], v[:1]) {
		if item != "" {
			list = append(list, item)
		}
	}
	return list
}

// validExtensionName is Kafka's rule for SASL extension names.
func validExtensionName(name string) bool {
	if name == "auth" {
		return false
	}
	for _, r := range name {
		if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') {
			return false
		}
	}
	return true
}
