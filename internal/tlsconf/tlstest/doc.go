// Package tlstest holds test certificates for Samsa's tests: a CA
// (NewCA), server certificates for 127.0.0.1, ::1 and localhost, client
// certificates with a chosen subject, and the files Kafka's ssl.* settings
// and other clients (Java, librdkafka, Python, openssl) read: a PEM
// keystore (private key and chain in one file, as ssl.keystore.location
// with ssl.keystore.type=PEM expects), the key and the chain apart, an
// encrypted PKCS#8 key, PKCS#12 keystores and Java PKCS#12 trust stores,
// and the CA as PEM. WriteFiles writes a whole set into a directory.
//
// Keys are ECDSA P-256 unless Options.RSA asks for RSA 2048. Certificates
// are valid from an hour ago for a day.
//
// Concurrency: a CA issues from any goroutine; a Leaf is read-only. Every
// function takes the test's testing.TB and fails the test on error.
package tlstest
