package errcode

import (
	"context"
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/samsa-streaming/samsa/internal/controller"
	"github.com/samsa-streaming/samsa/internal/log"
	"github.com/samsa-streaming/samsa/internal/metadata"
	"github.com/samsa-streaming/samsa/internal/partition"
)

// table maps errors (matched with errors.Is, in order) to Kafka codes.
var table = []struct {
	err  error
	code *kerr.Error
}{
	// A replica's appends, reads and replication.
	{partition.ErrCorrupt, kerr.CorruptMessage},
	{partition.ErrInvalidRecord, kerr.InvalidRecord},
	{partition.ErrTooLarge, kerr.MessageTooLarge},
	{partition.ErrInvalidTimestamp, kerr.InvalidTimestamp},
	{partition.ErrUnsupportedCodec, kerr.UnsupportedCompressionType},
	{partition.ErrNotEnoughISR, kerr.NotEnoughReplicas},
	{partition.ErrMemoryBusy, kerr.RequestTimedOut},
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

	// Metadata changes (the image's validation) and placement.
	{metadata.ErrTopicExists, kerr.TopicAlreadyExists},
	{metadata.ErrTopicIDExists, kerr.TopicAlreadyExists},
	{metadata.ErrTopicNameCollision, kerr.InvalidTopicException},
	{metadata.ErrInvalidTopic, kerr.InvalidTopicException},
	{metadata.ErrUnknownTopic, kerr.UnknownTopicOrPartition},
	{metadata.ErrUnknownPartition, kerr.UnknownTopicOrPartition},
	{metadata.ErrInvalidPartitions, kerr.InvalidPartitions},
	{metadata.ErrTooManyPartitions, kerr.PolicyViolation},
	{metadata.ErrInvalidReplicaAssignment, kerr.InvalidReplicaAssignment},
	{metadata.ErrInvalidConfig, kerr.InvalidConfig},
	{metadata.ErrStalePartitionEpoch, kerr.InvalidUpdateVersion},
	{metadata.ErrIneligibleReplica, kerr.IneligibleReplica},
	{controller.ErrInvalidReplicationFactor, kerr.InvalidReplicationFactor},

	{context.DeadlineExceeded, kerr.RequestTimedOut},
	{context.Canceled, kerr.RequestTimedOut},
}

// Of is err's Kafka error code, and whether err is known: a *kerr.Error
// in its chain, or an error of the table. Of(nil) is 0, false.
func Of(err error) (code int16, ok bool) {
	if err == nil {
		return 0, false
	}
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Code, true
	}
	for _, m := range table {
		if errors.Is(err, m.err) {
			return m.code.Code, true
		}
	}
	return 0, false
}

// Code is err's Kafka error code: 0 for nil, UNKNOWN_SERVER_ERROR for an
// error Of does not know.
func Code(err error) int16 {
	if err == nil {
		return 0
	}
	if code, ok := Of(err); ok {
		return code
	}
	return kerr.UnknownServerError.Code
}
