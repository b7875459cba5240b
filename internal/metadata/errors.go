package metadata

import "errors"

// Errors returned by Image.Apply. They are wrapped with details; test them
// with errors.Is. The broker maps them to Kafka error codes.
var (
	// ErrOffsetNotIncreasing: Apply was called with an offset at or below
	// the image's offset (a programming error in the caller).
	ErrOffsetNotIncreasing = errors.New("metadata: offset does not advance")
	// ErrNoClusterID: a record other than SetClusterID was applied before
	// the cluster id was set.
	ErrNoClusterID = errors.New("metadata: cluster id not set")
	// ErrInvalidClusterID: empty cluster id.
	ErrInvalidClusterID = errors.New("metadata: invalid cluster id")
	// ErrClusterIDMismatch: SetClusterID with an id different from the one
	// already set.
	ErrClusterIDMismatch = errors.New("metadata: cluster id already set to a different value")
	// ErrInvalidBroker: malformed broker registration.
	ErrInvalidBroker = errors.New("metadata: invalid broker registration")
	// ErrStaleBroker: a FenceBroker or UnfenceBroker names a broker that
	// is not registered, or an incarnation it no longer runs.
	ErrStaleBroker = errors.New("metadata: unknown broker or stale incarnation")
	// ErrInvalidTopic: illegal topic name or zero topic id
	// (INVALID_TOPIC_EXCEPTION).
	ErrInvalidTopic = errors.New("metadata: invalid topic")
	// ErrTopicExists: a topic of that name exists (TOPIC_ALREADY_EXISTS).
	ErrTopicExists = errors.New("metadata: topic already exists")
	// ErrTopicIDExists: a topic with that id exists.
	ErrTopicIDExists = errors.New("metadata: topic id already in use")
	// ErrTopicNameCollision: the name differs from an existing topic only
	// by '.' versus '_' (INVALID_TOPIC_EXCEPTION in Kafka).
	ErrTopicNameCollision = errors.New("metadata: topic name collides with an existing topic")
	// ErrUnknownTopic: no topic with that id (UNKNOWN_TOPIC_ID /
	// UNKNOWN_TOPIC_OR_PARTITION).
	ErrUnknownTopic = errors.New("metadata: unknown topic")
	// ErrUnknownPartition: partition index out of range.
	ErrUnknownPartition = errors.New("metadata: unknown partition")
	// ErrInvalidPartitions: zero partitions, or a partition count that
	// would not increase (INVALID_PARTITIONS).
	ErrInvalidPartitions = errors.New("metadata: invalid partition count")
	// ErrTooManyPartitions: one record would create more than
	// MaxRecordsPerUserOp partitions (POLICY_VIOLATION, Kafka's
	// BoundedListTooLongException).
	ErrTooManyPartitions = errors.New("metadata: excessively large number of partitions in one operation")
	// ErrInvalidReplicaAssignment: empty or duplicate replicas, unknown
	// brokers, or a replication factor that differs between partitions
	// (INVALID_REPLICA_ASSIGNMENT).
	ErrInvalidReplicaAssignment = errors.New("metadata: invalid replica assignment")
	// ErrInvalidConfig: empty config key, or a key both set and deleted
	// (INVALID_CONFIG).
	ErrInvalidConfig = errors.New("metadata: invalid config")
	// ErrInvalidProducerIDCount: count outside 1..MaxProducerIDBlock.
	ErrInvalidProducerIDCount = errors.New("metadata: invalid producer id count")
	// ErrProducerIDsExhausted: the int64 producer id space is used up.
	ErrProducerIDsExhausted = errors.New("metadata: producer ids exhausted")
	// ErrInvalidLeaderEpoch: the leader epoch goes backwards, or the leader
	// changes without an epoch bump (FENCED_LEADER_EPOCH).
	ErrInvalidLeaderEpoch = errors.New("metadata: invalid leader epoch")
	// ErrInvalidPartitionState: leader not in the ISR, ISR not a subset of
	// the replicas, and similar.
	ErrInvalidPartitionState = errors.New("metadata: invalid partition state")
	// ErrStalePartitionEpoch: a conditional ChangePartition (AlterPartition)
	// names a partition epoch that is no longer current
	// (INVALID_UPDATE_VERSION).
	ErrStalePartitionEpoch = errors.New("metadata: stale partition epoch")
	// ErrIneligibleReplica: an ISR expansion names a fenced or
	// shutting-down broker (INELIGIBLE_REPLICA).
	ErrIneligibleReplica = errors.New("metadata: ineligible replica")

	// ErrUnknownRecordType: DecodeRecord/EncodeRecord met a record type this
	// build does not know.
	ErrUnknownRecordType = errors.New("metadata: unknown record type")
	// ErrUnsupportedVersion: a record or image encoded by a newer version.
	ErrUnsupportedVersion = errors.New("metadata: unsupported encoding version")
	// ErrMalformed: bytes that do not decode.
	ErrMalformed = errors.New("metadata: malformed encoding")
)
