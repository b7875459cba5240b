// Package share holds KIP-932 share groups as deterministic cores behind a
// Clock: the share-partition state machine (Partition: the share-partition
// start and end offsets SPSO/SPEO, the in-flight records between them with
// their states AVAILABLE / ACQUIRED / ACKNOWLEDGED / ARCHIVED, acquisition
// locks, delivery counts and the ACCEPT / RELEASE / REJECT / RENEW / GAP
// acknowledgements, answered with Kafka's error codes), share-group
// membership with Kafka's simple share assignor (Group), share sessions
// (Sessions) and the Manager that holds them for a broker; and the share
// coordinator's side of persistence: the __share_group_state record
// format (records.go: ShareSnapshot/ShareUpdate keys and values as Kafka
// 4.4 writes them) and StateStore, the deterministic fold of one
// __share_group_state partition (Initialize/Write/Delete decide the
// records, Apply folds them, a load replays them).
//
// Wire format: requests and answers are franz-go kmsg types, translated by
// internal/broker; __share_group_state records are described in records.go.
// Coordinator is the share coordinator on the coordinator runtime; the
// broker reads a share partition's state on first use and writes it after
// every acknowledgement when it leads the state's __share_group_state
// partition (in memory only otherwise, for now). Membership is in memory.
//
// Concurrency: Partition, Group and Sessions are not safe for concurrent
// use; Manager guards them with one mutex per share partition and one for
// the groups and sessions, and never holds a lock across I/O. Time is read
// only from the injected Clock, so tests and fuzzers drive expiry exactly.
package share
