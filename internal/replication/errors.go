package replication

import (
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/samsa-streaming/samsa/internal/log"
	"github.com/samsa-streaming/samsa/internal/partition"
)

// Kafka error codes of the partition and log packages' errors. Kafka's
// codes themselves live in franz-go's kerr table; this is where the errors
// of a replica meet them, for the leader code here (and so the
// simulation) and for every broker handler: internal/broker's errorCode
// asks ErrorCode first and maps only the remaining errors (metadata,
// context) itself.
var partitionErrors = []struct {
	err  error
	code *kerr.Error
}{
	{partition.ErrCorrupt, kerr.CorruptMessage},
	{partition.ErrInvalidRecord, kerr.InvalidRecord},
	{partition.ErrTooLarge, kerr.MessageTooLarge},
	{partition.ErrInvalidTimestamp, kerr.InvalidTimestamp},
	{partition.ErrUnsupportedCodec, kerr.UnsupportedCompressionType},
	{partition.ErrNotEnoughISR, kerr.NotEnoughReplicas},
	{partition.ErrOutOfOrderSequence, kerr.OutOfOrderSequenceNumber},
	{partition.ErrInvalidEpoch, kerr.InvalidProducerEpoch},
	{partition.ErrClosed, kerr.NotLeaderForPartition},
	{partition.ErrNotLeader, kerr.NotLeaderForPartition},
	{partition.ErrNotEnoughISRAfterAppend, kerr.NotEnoughReplicasAfterAppend},
	{partition.ErrFencedEpoch, kerr.FencedLeaderEpoch},
	{partition.ErrUnknownEpoch, kerr.UnknownLeaderEpoch},
	{partition.ErrNotReplica, kerr.NotLeaderForPartition},
	{log.ErrOffsetOutOfRange, kerr.OffsetOutOfRange},
	// A storage error, and every later request for a partition of the
	// offline log directory, is Kafka's KAFKA_STORAGE_ERROR (KIP-112).
	{partition.ErrOffline, kerr.KafkaStorageError},
	{log.ErrStorage, kerr.KafkaStorageError},
}

// ErrorCode is the Kafka error code of err when err is a *kerr.Error or
// wraps an error of the partition or log packages; ok is false otherwise
// (and for nil).
func ErrorCode(err error) (code int16, ok bool) {
	if err == nil {
		return 0, false
	}
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Code, true
	}
	for _, m := range partitionErrors {
		if errors.Is(err, m.err) {
			return m.code.Code, true
		}
	}
	return 0, false
}

// replicaErrorCode is ErrorCode for the leader's answers: an error it does
// not know is UNKNOWN_SERVER_ERROR.
func replicaErrorCode(err error) int16 {
	if err == nil {
		return 0
	}
	if code, ok := ErrorCode(err); ok {
		return code
	}
	return kerr.UnknownServerError.Code
}

// CheckLeaderEpoch compares the leader epoch a client (consumer or
// follower) knows with this replica's (KIP-320): an older one is
// FENCED_LEADER_EPOCH, a newer one UNKNOWN_LEADER_EPOCH (retriable: this
// broker has not seen the newest metadata yet), -1 is not checked.
func CheckLeaderEpoch(client, ours int32) int16 {
	switch {
	case client < 0:
		return 0
	case client < ours:
		return kerr.FencedLeaderEpoch.Code
	case client > ours:
		return kerr.UnknownLeaderEpoch.Code
	}
	return 0
}
