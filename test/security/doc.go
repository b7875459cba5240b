// Package security holds tests of Samsa's authentication and authorization
// against the real binary: SASL/SCRAM principals on a SASL_PLAINTEXT
// listener, ACLs created through CreateAcls by a super user, and what each
// Kafka API answers a principal with and without them; and the cluster's
// own traffic over SASL (cluster_sasl_test.go): inter-broker and controller
// listeners that are SASL_PLAINTEXT or SASL_SSL, wrong broker passwords,
// clients posing as followers. It has no non-test code.
package security
