package partition

import (
	"fmt"
	"sync"
	"sync/atomic"
)

// The log directory going offline (Kafka's LogDirFailureChannel and
// ReplicaManager.handleLogDirFailure, KIP-112). Samsa has one log
// directory, the data dir, so a storage error on any partition's log takes
// every hosted partition offline: each answers KAFKA_STORAGE_ERROR until
// the broker restarts, none is opened after, and Close neither flushes nor
// checkpoints them and reports the failure (so no clean-shutdown marker is
// written and the next start recovers the logs). LogDirFailed wakes
// whoever must tell the controller (internal/node fences the broker so its
// leaderships move; see doc.go).

// dirHealth is the log directory's state; the zero value is online.
type dirHealth struct {
	init    sync.Once
	failed  chan struct{} // closed when the directory goes offline
	once    sync.Once
	err     atomic.Pointer[error]
	offline sync.Mutex // serialises taking partitions offline with Sync adding them
}

func (d *dirHealth) ch() chan struct{} {
	d.init.Do(func() { d.failed = make(chan struct{}) })
	return d.failed
}

// LogDirFailed is closed once the log directory has gone offline.
func (m *Manager) LogDirFailed() <-chan struct{} { return m.health.ch() }

// LogDirOffline is nil while the log directory is online, else the error
// that took it offline.
func (m *Manager) LogDirOffline() error {
	if e := m.health.err.Load(); e != nil {
		return *e
	}
	return nil
}

// failLogDir takes the log directory offline after p's storage error: every
// hosted partition goes offline. It is each partition's OnStorageError
// hook, so it must not block or take a partition's lock (the failing
// partition's is held).
func (m *Manager) failLogDir(p *Partition, cause error) {
	m.health.once.Do(func() {
		err := fmt.Errorf("log directory %s is offline after a storage error in %s-%d: %w", m.dataDir, p.Topic, p.Index, cause)
		m.health.err.Store(&err)
		m.lg.Error("log directory offline: every partition in it goes offline; replace or free the disk and restart the broker",
			"dir", m.dataDir, "topic", p.Topic, "partition", p.Index, "err", cause)
		m.health.offline.Lock()
		for _, q := range m.All() {
			q.SetOffline(err)
			q.log.Fail(err) // lock order: a partition's lock, then any log's
		}
		m.health.offline.Unlock()
		close(m.health.ch())
	})
}

// adoptOffline takes a partition just added to the map offline if the log
// directory already is (Sync calls it, so a partition opened concurrently
// with failLogDir is not missed).
func (m *Manager) adoptOffline(p *Partition) {
	m.health.offline.Lock()
	defer m.health.offline.Unlock()
	if err := m.LogDirOffline(); err != nil {
		p.SetOffline(err)
		p.log.Fail(err)
	}
}
