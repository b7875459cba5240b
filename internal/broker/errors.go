package broker

import (
	"context"
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/samsa-streaming/samsa/internal/controller"
	"github.com/samsa-streaming/samsa/internal/metadata"
	"github.com/samsa-streaming/samsa/internal/replication"
)

// errorCode maps an internal error to its Kafka error code. Kafka's codes
// themselves live in franz-go's kerr table. Errors of the partition and log
// packages (and *kerr.Error) are mapped by replication.ErrorCode, which the
// leader side of replication and its simulation share; this table adds the
// rest.
func errorCode(err error) int16 {
	if err == nil {
		return 0
	}
	if code, ok := replication.ErrorCode(err); ok {
		return code
	}
	for _, m := range errorMap {
		if errors.Is(err, m.err) {
			return m.code.Code
		}
	}
	return kerr.UnknownServerError.Code
}

var errorMap = []struct {
	err  error
	code *kerr.Error
}{
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

// errMessage is the message sent with an error code, where the protocol has
// a field for one.
func errMessage(err error) *string {
	if err == nil {
		return nil
	}
	s := err.Error()
	return &s
}
