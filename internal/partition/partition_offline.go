package partition

import (
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/samsa-streaming/samsa/internal/log"
)

// Offline partitions (Kafka's HostedPartition.Offline, KIP-112). A storage
// error (log.ErrStorage) on a partition's log takes the partition offline:
// it refuses appends, truncations and reads with ErrOffline (Kafka's
// KAFKA_STORAGE_ERROR) until the broker restarts, and its hook tells the
// Manager, which takes the whole log directory offline (manager_offline.go).

// ErrOffline: the partition's log directory failed; nothing is read from or
// written to it until the broker restarts (KAFKA_STORAGE_ERROR).
var ErrOffline = errors.New("partition: offline, its log directory failed")

// offlineState is set once, without locks: the Manager takes every
// partition offline from whichever goroutine saw the failure, which may
// hold another partition's lock.
type offlineState struct {
	err  atomic.Pointer[error]
	hook func(p *Partition, err error) // Options.OnStorageError; may be nil
}

// Offline is nil while the partition is online, else an error wrapping
// ErrOffline and the storage error that took it offline.
func (p *Partition) Offline() error {
	if e := p.off.err.Load(); e != nil {
		return *e
	}
	return nil
}

// SetOffline takes the partition offline because of cause (idempotent; the
// first cause stays). It takes no lock.
func (p *Partition) SetOffline(cause error) {
	err := fmt.Errorf("%w: %s: %w", ErrOffline, p.dir, cause)
	p.off.err.CompareAndSwap(nil, &err)
}

// IOFailed returns err; when err is a storage error (log.ErrStorage) it
// first logs it at ERROR with the partition and its directory, takes the
// partition offline and tells the Manager (Options.OnStorageError). op
// names what failed. Callers may hold p.mu.
func (p *Partition) IOFailed(op string, err error) error {
	if err == nil || !errors.Is(err, log.ErrStorage) {
		return err
	}
	if p.Offline() == nil {
		p.lg.Error("storage error: taking the partition offline", "op", op, "dir", p.dir, "err", err)
		p.SetOffline(err)
		if p.off.hook != nil {
			p.off.hook(p, err)
		}
	}
	return err
}

// closeOffline closes an offline partition's log without flushing it or
// writing the producer-state snapshot: its directory failed, so the next
// start recovers the log from its files. Call with p.mu held.
func (p *Partition) closeOffline() error {
	p.closed = true
	p.log.Fail(p.Offline())
	return p.log.Close()
}
