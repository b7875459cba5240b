// Package share holds KIP-932 share groups as deterministic cores behind a
// Clock: the share-partition state machine (Partition: the share-partition
// start and end offsets SPSO/SPEO, the in-flight records between them with
// their states AVAILABLE / ACQUIRED / ACKNOWLEDGED / ARCHIVED, acquisition
// locks, delivery counts and the ACCEPT / RELEASE / REJECT / RENEW / GAP
// acknowledgements, answered with Kafka's error codes), share-group
// membership with Kafka's simple share assignor (Group), share sessions
// (Sessions) and the Manager that holds them for a broker.
//
// Wire format: none of its own; requests and answers are franz-go kmsg
// types, translated by internal/broker. State is in memory only (the
// __share_group_state persistence of KIP-932 is not written yet).
//
// Concurrency: Partition, Group and Sessions are not safe for concurrent
// use; Manager guards them with one mutex per share partition and one for
// the groups and sessions, and never holds a lock across I/O. Time is read
// only from the injected Clock, so tests and fuzzers drive expiry exactly.
package share
