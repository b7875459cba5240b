package replication

import (
	"fmt"
	"syscall"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/samsa-streaming/samsa/internal/log"
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
		if code := replicaErrorCode(err); code != kerr.KafkaStorageError.Code {
			t.Fatalf("%v: code %d, want KAFKA_STORAGE_ERROR", err, code)
		}
	}
}
