// Package sasl holds the server side of Kafka's SASL mechanisms — PLAIN,
// SCRAM-SHA-256, SCRAM-SHA-512 and OAUTHBEARER — as deterministic cores,
// with the credential formats and settings that feed them: Kafka's JAAS
// PLAIN entries (ParsePlainJAAS), SCRAM credentials (NewScramCredential,
// ScramCredentialFromSalted, kafka-storage's --add-scram via
// ParseAddScram), JWKS-verified JWTs (TokenValidator, JWKSRefresher) and a
// listener's settings (Config, ConfigFromProperties).
//
// # API
//
// A Mechanism is configured once (NewPlain, NewScram, NewOAuthBearer) and
// Start-s one Exchange per connection. The broker feeds the Exchange the
// auth_bytes of each SaslAuthenticate request:
//
//	serverMsg, done, err := ex.Step(clientMsg)
//
// The outcomes:
//
//   - err != nil: authentication failed. err wraps ErrAuthenticationFailed
//     and a reason for the broker's log; the client gets
//     SASL_AUTHENTICATION_FAILED with FailureMessage(mechanism), which does
//     not say why (nor whether the user exists). The exchange is over.
//   - done: authenticated; send serverMsg (SCRAM's server-final message,
//     empty otherwise) and read ex.Result(): the Principal ("User:<name>")
//     and, for OAUTHBEARER, the token's Expiry, which bounds the session
//     for KIP-368 re-authentication.
//   - otherwise: send serverMsg and wait for the client's next message.
//
// # Wire formats
//
// PLAIN (RFC 4616): one message, authzid NUL authcid NUL passwd; the authzid
// must be empty or equal the authcid (Kafka's rule).
//
// SCRAM (RFC 5802, RFC 7677), as Kafka's ScramSaslServer:
//
//	C: n,[a=<authzid>],n=<user>,r=<cnonce>[,<ext>=<v>]*
//	S: r=<cnonce><snonce>,s=<base64 salt>,i=<iterations>
//	C: c=<base64 gs2 header>,r=<cnonce><snonce>[,<ext>=<v>]*,p=<base64 proof>
//	S: v=<base64 ServerSignature>
//
// Channel binding (p=, y) is refused; the tokenauth extension (delegation
// tokens) is refused; the client-final nonce must be exactly the combined
// nonce (CVE-2024-56128). The server nonce is 24 bytes from the injected
// io.Reader, base64-encoded, so a client-final message replayed on a new
// exchange fails. An unknown user (or one without a credential for this
// mechanism) is answered with a salt and keys derived from a server secret
// by HMAC — the same every time for that user — and fails only at the
// client-final message, like a wrong password. Iterations must lie in
// [4096, 16384], as in Kafka.
//
// OAUTHBEARER (RFC 7628), as Kafka's OAuthBearerSaslServer:
//
//	C: n,[a=<authzid>],%x01auth=Bearer <jwt>%x01[<key>=<value>%x01]*%x01
//	S: (empty, done)                      when the token is valid
//	S: {"status":"invalid_token"}         when it is not; then
//	C: %x01                               and the exchange fails
//
// The JWT must be a JWS signed with RS256/384/512, PS256/384/512,
// ES256/384/512 or EdDSA ("none" and HMAC are refused) by a key of the JWKS,
// chosen by kid (an unknown kid asks the KeySource for a rate-limited
// refetch and fails the token). exp is required; exp, nbf and iat are
// checked with sasl.oauthbearer.clock.skew.seconds of slack; the expected
// issuer and audience are checked when configured; the principal is the
// sasl.oauthbearer.sub.claim.name claim. Without keys (the endpoint never
// answered) every token fails: validation fails closed.
//
// Every client message is capped at MaxMessageBytes (64 KiB) before it is
// parsed.
//
// # Dependencies
//
// JWS and JWK parsing uses github.com/go-jose/go-jose/v4: it has no
// dependencies of its own, parses JWKS into crypto public keys, and makes
// the caller list the allowed signature algorithms at parse time (so "none"
// and HMAC cannot slip in). golang-jwt/jwt/v5 would need a second library
// for JWKS; lestrrat-go/jwx brings a large dependency tree.
//
// # Concurrency
//
// Mechanisms, TokenValidator, JWKS and PlainUsers are safe for concurrent
// use; an Exchange belongs to one connection's goroutine. Nothing here
// starts a goroutine or touches the network except JWKSRefresher, whose one
// goroutine is owned by its Start(ctx) and stopped and waited for by Close.
// Time comes from an injected Clock and randomness from an injected
// io.Reader, so exchanges are reproducible in tests.
//
// The package imports no other Samsa package, so the broker can import it.
package sasl
