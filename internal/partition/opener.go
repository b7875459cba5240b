package partition

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"syscall"

	"github.com/samsa-streaming/samsa/internal/config"
	"github.com/samsa-streaming/samsa/internal/metadata"
)

// The opener: Sync records which partitions should be open (Manager.wanted)
// and queues them; one goroutine owned by the Manager (started by
// NewManager, stopped and waited by Close) deletes the partitions Sync took
// out of the map, then opens the queued ones — directory claim,
// partition.metadata, log recovery, producer state — off the raft
// goroutine, several at once (openAll). Opened partitions are published into the copy-on-write map in
// chunks whose size doubles with the map, so publishing n partitions copies
// O(n) entries in all.

// ErrFDBudget: opening or creating the partition would take this broker
// past its file-descriptor budget (RLIMIT_NOFILE less a reserve).
var ErrFDBudget = errors.New("partition: file-descriptor budget exhausted")

// FDsPerPartition is what one open partition with a single segment keeps
// open: the active segment's .log, .index and .timeindex (the .txnindex is
// opened per abort marker and closed again). Every older segment keeps its
// .log open too.
const FDsPerPartition = 3

// openReq is what the opener needs to open one partition, as the latest
// image says.
type openReq struct {
	key   Key
	id    metadata.Uuid
	cfg   config.Topic
	state LeaderState
}

// offlineErr is why a partition of topic id could not be opened.
type offlineErr struct {
	id  metadata.Uuid
	err error
}

// startOpener starts the opener goroutine; Close stops and waits for it.
func (m *Manager) startOpener() {
	ctx, cancel := context.WithCancel(context.Background())
	m.stopOpener = cancel
	m.openerDone = make(chan struct{})
	go func() { // owned by the Manager: Close cancels and waits
		defer close(m.openerDone)
		for {
			select {
			case <-ctx.Done():
				m.releaseWaiters()
				return
			case <-m.wake:
			}
			for m.openRound(ctx) {
			}
		}
	}()
}

// wakeOpener tells the opener there is work. Callers hold m.mu.
func (m *Manager) wakeOpener() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

func (m *Manager) releaseWaiters() {
	m.mu.Lock()
	ws := m.waiters
	m.waiters = nil
	m.mu.Unlock()
	for _, w := range ws {
		close(w)
	}
}

// WaitOpened waits until the opener has tried every partition queued so
// far (each is then open or offline), or ctx ends.
func (m *Manager) WaitOpened(ctx context.Context) error {
	m.mu.Lock()
	if len(m.queue) == 0 && len(m.wanted) == 0 && len(m.toDelete) == 0 {
		m.mu.Unlock()
		return nil
	}
	w := make(chan struct{})
	m.waiters = append(m.waiters, w)
	m.wakeOpener()
	m.mu.Unlock()
	select {
	case <-w:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("partition: waiting for partitions to open: %w", ctx.Err())
	}
}

// openRound runs one batch of queued work; it reports whether there was any.
func (m *Manager) openRound(ctx context.Context) bool {
	m.mu.Lock()
	q, del := m.queue, m.toDelete
	m.queue, m.toDelete = nil, nil
	if len(q) == 0 && len(del) == 0 {
		ws := m.waiters
		m.waiters = nil
		m.mu.Unlock()
		for _, w := range ws {
			close(w)
		}
		return false
	}
	m.mu.Unlock()
	for _, p := range del {
		m.lg.Info("deleting partition", "topic", p.Topic, "partition", p.Index, "topic_id", p.TopicID)
		if m.cleaner != nil {
			m.cleaner.Remove(p.Log())
		}
		if err := p.Delete(); err != nil {
			m.lg.Warn("deleting partition", "topic", p.Topic, "partition", p.Index, "err", err)
		}
	}
	var reqs []openReq
	failed := map[Key]offlineErr{}
	n := len(*m.parts.Load())
	m.mu.Lock()
	for _, k := range q {
		r, ok := m.wanted[k]
		switch {
		case !ok: // no longer wanted
		case n >= m.capacity:
			failed[k] = offlineErr{r.id, fmt.Errorf("%w: %d partitions open or opening, capacity %d", ErrFDBudget, n, m.capacity)}
		default:
			reqs = append(reqs, r)
			n++
		}
	}
	m.mu.Unlock()
	m.openAll(ctx, reqs, failed)
	return true
}

// openers is how many partitions the opener opens at once: opening is
// mostly waiting for fsync (partition.metadata, checkpoints).
const openers = 8

// openAll opens reqs on up to openers goroutines (owned by openAll, which
// waits for them) and publishes the results in chunks that double with
// the map. After ctx ends nothing more is started; what is open is
// published and closed by Close.
func (m *Manager) openAll(ctx context.Context, reqs []openReq, failed map[Key]offlineErr) {
	type result struct {
		r   openReq
		p   *Partition
		err error
	}
	jobs, results := make(chan openReq), make(chan result)
	var wg sync.WaitGroup
	for range min(openers, len(reqs)) {
		wg.Go(func() {
			for r := range jobs {
				p, err := m.openOne(ctx, r)
				results <- result{r, p, err}
			}
		})
	}
	var opened []*Partition
	chunk := max(256, len(*m.parts.Load()))
	next, inflight := 0, 0
	for {
		var send chan openReq
		var r openReq
		if next < len(reqs) && ctx.Err() == nil {
			send, r = jobs, reqs[next]
		}
		if send == nil && inflight == 0 {
			break
		}
		select {
		case send <- r:
			next++
			inflight++
		case res := <-results:
			inflight--
			if res.err != nil {
				failed[res.r.key] = offlineErr{res.r.id, res.err}
			} else {
				opened = append(opened, res.p)
			}
			if len(opened)+len(failed) >= chunk {
				m.publish(opened, failed)
				opened, failed = nil, map[Key]offlineErr{}
				chunk = max(256, len(*m.parts.Load()))
			}
		}
	}
	close(jobs)
	wg.Wait()
	m.publish(opened, failed)
}

// openOne opens one partition. A directory that belongs to another topic
// id (a deleted and recreated topic, or data copied in) is set aside as a
// stray and the partition starts empty.
func (m *Manager) openOne(ctx context.Context, r openReq) (*Partition, error) {
	hw, ok := m.checkpointedHW(r.key)
	if !ok {
		hw = -1
	}
	st := r.state
	open := func(hw int64) (*Partition, error) {
		return Open(ctx, m.dataDir, r.key.Topic, r.key.Partition, r.cfg, Options{
			FS: m.fsys, Logger: m.lg, Clock: m.clock, CleanShutdown: m.clean,
			Self: m.nodeID, State: &st, HighWatermark: hw,
			ProducerIDExpirationMs: m.pidExpiryMs.Load(), TopicID: r.id,
			OnStorageError: m.failLogDir, Recompress: &m.recompress,
		})
	}
	p, err := open(hw)
	if !isMismatch(err) {
		return p, err
	}
	to, rerr := setAside(m.fsys, m.dataDir, r.key)
	if rerr != nil {
		return nil, errors.Join(err, rerr)
	}
	m.strays.Add(1)
	m.lg.Warn("set aside a partition directory of another topic id (kept, not deleted); the partition starts empty",
		"dir", DirName(r.key.Topic, r.key.Partition), "renamed_to", to, "topic_id", r.id, "reason", err)
	return open(-1)
}

// publish adds opened partitions to the map (one copy) with the latest
// wanted state, and records failures as offline (one copy). A partition no
// longer wanted, or wanted for another topic id, is closed instead.
func (m *Manager) publish(opened []*Partition, failed map[Key]offlineErr) {
	if len(opened) == 0 && len(failed) == 0 {
		return
	}
	now := m.clock.Now()
	var drop, added []*Partition
	m.mu.Lock()
	if len(opened) > 0 {
		cur := *m.parts.Load()
		next := make(map[Key]*Partition, len(cur)+len(opened))
		for k, p := range cur {
			next[k] = p
		}
		for _, p := range opened {
			k := Key{p.Topic, p.Index}
			r, ok := m.wanted[k]
			if !ok || r.id != p.TopicID {
				drop = append(drop, p)
				continue
			}
			delete(m.wanted, k)
			p.SetConfig(r.cfg)
			p.SetState(m.nodeID, r.state, now)
			next[k] = p
			added = append(added, p)
			if m.cleaner != nil {
				m.cleaner.Add(p.Log()) // the cleaner skips logs that are not compacted
			}
		}
		m.parts.Store(&next)
	}
	if len(failed) > 0 {
		cur := *m.offline.Load()
		next := make(map[Key]offlineErr, len(cur)+len(failed))
		for k, e := range cur {
			next[k] = e
		}
		for k, e := range failed {
			if r, ok := m.wanted[k]; !ok || r.id != e.id {
				continue
			}
			delete(m.wanted, k)
			next[k] = e
			m.lg.Warn("partition offline: could not open it", "topic", k.Topic, "partition", k.Partition, "err", e.err)
		}
		m.offline.Store(&next)
	}
	m.mu.Unlock()
	// In the map now: a log-dir failure from here on reaches them, and
	// one that happened while they opened is applied here.
	for _, p := range added {
		m.adoptOffline(p)
	}
	if fn := m.onOpened.Load(); fn != nil && len(opened) > len(drop) {
		(*fn)()
	}
	for _, p := range drop {
		m.lg.Info("closing a partition opened after it stopped being wanted", "topic", p.Topic, "partition", p.Index)
		if err := p.Close(); err != nil {
			m.lg.Warn("closing partition", "topic", p.Topic, "partition", p.Index, "err", err)
		}
	}
}

// OnOpened sets fn to be called, on the opener goroutine and holding no
// lock of the Manager, after partitions have been opened and published:
// what follows images and looks only at open partitions (the coordinator
// runtime) looks again.
func (m *Manager) OnOpened(fn func()) { m.onOpened.Store(&fn) }

// Offline says why this broker could not open a partition it hosts; nil
// when the partition is not offline.
func (m *Manager) Offline(topic string, part int32) error {
	return (*m.offline.Load())[Key{topic, part}].err
}

// OfflineCount is the number of hosted partitions that could not be opened.
func (m *Manager) OfflineCount() int { return len(*m.offline.Load()) }

// Strays is the number of partition directories set aside since start-up.
func (m *Manager) Strays() int64 { return m.strays.Load() }

// Capacity is the number of partitions this broker can keep open within
// its file-descriptor budget: (RLIMIT_NOFILE - reserve) / FDsPerPartition,
// the reserve being a quarter of the limit, at most 1024, for connections,
// the metadata log, checkpoints and older segments.
func (m *Manager) Capacity() int { return m.capacity }

// CheckCapacity refuses adding add partitions to this broker when its
// hosted partitions (hosted, as the image counts them) would not fit in
// its file-descriptor budget.
func (m *Manager) CheckCapacity(hosted, add int) error {
	if add <= 0 || hosted+add <= m.capacity {
		return nil
	}
	return fmt.Errorf("%w: broker %d hosts %d partition(s) and would host %d, but RLIMIT_NOFILE %d (less a reserve of %d, at %d file descriptors per partition) allows %d",
		ErrFDBudget, m.nodeID, hosted, hosted+add, m.fdLimit, fdReserve(m.fdLimit), FDsPerPartition, m.capacity)
}

// fdReserve is what the budget keeps for everything but partitions.
func fdReserve(limit int64) int64 { return min(1024, limit/4) }

// nofileLimit is the process's RLIMIT_NOFILE soft limit (the Go runtime
// raises it to the hard limit at start-up).
func nofileLimit() int64 {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Cur > 1<<40 {
		return 1 << 20
	}
	return int64(rl.Cur)
}

func capacityFor(limit int64) int {
	return int(max(0, (limit-fdReserve(limit))/FDsPerPartition))
}
