package errcode

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/samsa-streaming/samsa/internal/log"
	"github.com/samsa-streaming/samsa/internal/metadata"
	"github.com/samsa-streaming/samsa/internal/partition"
)

// Storage errors and offline partitions are KAFKA_STORAGE_ERROR, never
// UNKNOWN_SERVER_ERROR.
func TestStorageErrorCodes(t *testing.T) {
	for _, err := range []error{
		fmt.Errorf("%w: append /data/t-0: %w", log.ErrStorage, syscall.ENOSPC),
		fmt.Errorf("%w: /data/t-0: %w", partition.ErrOffline, log.ErrStorage),
		fmt.Errorf("%w: /data/t-1: cause", partition.ErrOffline),
	} {
		if code := Code(err); code != kerr.KafkaStorageError.Code {
			t.Fatalf("%v: code %d, want KAFKA_STORAGE_ERROR", err, code)
		}
	}
}

func TestErrorCode(t *testing.T) {
	for _, c := range []struct {
		err  error
		code int16
		ok   bool
	}{
		{nil, 0, false},
		{fmt.Errorf("x: %w", partition.ErrFencedEpoch), kerr.FencedLeaderEpoch.Code, true},
		{partition.ErrUnknownEpoch, kerr.UnknownLeaderEpoch.Code, true},
		{partition.ErrNotReplica, kerr.NotLeaderForPartition.Code, true},
		{partition.ErrClosed, kerr.NotLeaderForPartition.Code, true},
		{fmt.Errorf("read: %w", log.ErrOffsetOutOfRange), kerr.OffsetOutOfRange.Code, true},
		{fmt.Errorf("x: %w", kerr.InvalidTopicException), kerr.InvalidTopicException.Code, true},
		{errors.New("other"), 0, false},
		{metadata.ErrUnknownTopic, kerr.UnknownTopicOrPartition.Code, true},
		{fmt.Errorf("x: %w", context.Canceled), kerr.RequestTimedOut.Code, true},
	} {
		code, ok := Of(c.err)
		if code != c.code || ok != c.ok {
			t.Errorf("Of(%v) = %d, %v; want %d, %v", c.err, code, ok, c.code, c.ok)
		}
	}
	if got := Code(errors.New("other")); got != kerr.UnknownServerError.Code {
		t.Errorf("unknown error: %d", got)
	}
}
