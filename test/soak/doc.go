// Package soak holds the hostile-client soak of issue #11: one real
// `samsa serve` process on loopback takes garbage frames, half frames,
// slow readers, huge requests, connection floods, producer-id churn and
// writes to internal topics, while a well-behaved idempotent acks=all
// producer and a group consumer run. Afterwards no acknowledged record is
// lost, the consumer saw every record once and in order, the broker's
// resident memory stayed under a stated bound, and the broker never
// restarted.
//
// `make test` runs the short form (SAMSA_SOAK_DURATION unset: 20 s);
// `make soak` runs it for 10 minutes. The package has no non-test code.
package soak
