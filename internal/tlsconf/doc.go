// Package tlsconf holds the TLS configuration of Samsa's listeners and
// clients under Apache Kafka's ssl.* setting names (Config, FromProperties),
// a Reloader that serves the certificate and trust store to crypto/tls and
// re-reads their files when they change, and Kafka's mapping of a client
// certificate to a principal (ssl.principal.mapping.rules; FormatDN writes
// the subject as Java's X500Principal.getName does).
//
// Concurrency: a Config is a value, built by one goroutine. A Reloader and
// a PrincipalMapper are safe for concurrent use. A Reloader starts no
// goroutine: a handshake looks at the files' modification time, size and
// identity at most once per second, and reloads when they changed (the
// handshake that notices does the reload; others meanwhile use the current
// material); Reload re-reads them at once. A load that fails (a file
// half-written, a key that does not match its certificate, a subject that
// changed without ssl.allow.dn.changes) keeps the old material, is logged
// to the injected *slog.Logger and reported by LastError. Inline PEM
// (ssl.keystore.key, ssl.truststore.certificates) never changes.
//
// Settings read (also as listener.name.<listener>.ssl.X, which overrides
// ssl.X for that listener):
//
//   - ssl.keystore.type: PEM or PKCS12 (JKS, Kafka's default, is refused
//     with an error naming the setting).
//   - ssl.keystore.location: PEM: one file with the private key (PKCS#8
//     "PRIVATE KEY", "ENCRYPTED PRIVATE KEY" with ssl.key.password, or
//     "RSA PRIVATE KEY" / "EC PRIVATE KEY") and the chain, leaf first.
//     PKCS12: the keystore, with ssl.keystore.password.
//   - ssl.keystore.key and ssl.keystore.certificate.chain: the same as
//     inline PEM, with its line breaks or on one line (white space inside
//     the base64 is ignored).
//   - ssl.keystore.password, ssl.key.password: as Kafka combines them (no
//     keystore password for PEM).
//   - ssl.truststore.type, ssl.truststore.location, ssl.truststore.password,
//     ssl.truststore.certificates: the trusted CA certificates, PEM or a
//     Java PKCS12 trust store.
//   - ssl.client.auth: none (default), requested, required. requested and
//     required need a trust store: the system's CAs are never trusted for
//     client certificates.
//   - ssl.protocol (TLS, TLSv1.2 which caps the version, TLSv1.3 default),
//     ssl.enabled.protocols (TLSv1.2 and TLSv1.3; older versions are
//     refused).
//   - ssl.cipher.suites: IANA (Java) names. Go's insecure suites are
//     refused; TLS 1.3 suites can only be listed all or none (none disables
//     TLS 1.3, as in Java); no TLS 1.2 suite disables TLS 1.2.
//   - ssl.endpoint.identification.algorithm: https (default) or empty
//     (clients verify the chain but not the host name).
//   - ssl.principal.mapping.rules (default DEFAULT; given empty it has no
//     rules, and every client certificate is refused, as in Kafka).
//   - ssl.allow.dn.changes, ssl.allow.san.changes (default false): whether
//     a reloaded certificate may change its subject or alternative names.
//   - ssl.keymanager.algorithm, ssl.trustmanager.algorithm,
//     ssl.secure.random.implementation: accepted and without effect
//     (crypto/tls picks the certificate, verifies chains as PKIX does and
//     uses crypto/rand).
//   - ssl.provider, ssl.engine.factory.class: accepted only empty.
//
// Any other ssl.* setting is an error: a setting that changes security is
// refused rather than ignored.
//
// Principals follow Kafka's DefaultKafkaPrincipalBuilder: User:ANONYMOUS
// without a client certificate, else User: and the mapped DN. Rules are
// split, matched and replaced as Kafka does (checked against kafka-clients
// on random rules and names), with these differences: patterns are RE2
// expressions, so Java-only syntax (back references, look-around) is
// refused; "." matches what Java's does, but \s lacks \v and (?i) folds
// Unicode; a replacement's "$n" past the pattern's groups is literal text,
// as Kafka intends, and an error if the pattern has no groups (Kafka would
// fail each connection); a line break inside a rule is an error (Kafka
// drops the text before it).
package tlsconf
