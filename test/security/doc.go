// Package security holds tests of Samsa's authentication and authorization
// against the real binary: SASL/SCRAM principals on a SASL_PLAINTEXT
// listener, ACLs created through CreateAcls by a super user, and what each
// Kafka API answers a principal with and without them. It has no non-test
// code.
package security
