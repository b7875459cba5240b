package replication

import (
	"container/heap"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/batch"
	"github.com/samsa-streaming/samsa/internal/config"
	"github.com/samsa-streaming/samsa/internal/controller"
	"github.com/samsa-streaming/samsa/internal/metadata"
	"github.com/samsa-streaming/samsa/internal/partition"
)

// The simulated cluster of sim_test.go: brokers, controller and network,
// all driven by one seeded event queue. See TestSim for the model.

const (
	simNodes  = 3
	simCtl    = int32(-1) // the controller's network address
	simTopic  = "sim"
	simMinISR = 2

	simHeartbeat             = 100 * time.Millisecond // broker.heartbeat.interval.ms
	simSession               = 600 * time.Millisecond // broker.session.timeout.ms
	simLagMax                = 500 * time.Millisecond // replica.lag.time.max.ms
	simISREvery              = simLagMax / 4          // the Replicator's ISR loop period
	simFetchIdle             = 30 * time.Millisecond  // an empty fetch answer comes after the leader's long poll
	simFetchBackoff          = 100 * time.Millisecond // replica.fetch.backoff.ms
	simRequestTimeout        = 300 * time.Millisecond
	simProposeTimeout        = 500 * time.Millisecond
	simProduceTimeout        = time.Second
	simHWCheckpoint          = 250 * time.Millisecond // replica.high.watermark.checkpoint.interval.ms
	simFetchMaxBytes         = 2048                   // replica.fetch.max.bytes, small so catching up takes rounds
	simFetchResponseMaxBytes = 10 << 20               // replica.fetch.response.max.bytes
	simRecoverEvery          = 300 * time.Millisecond // how often the operator looks for offline partitions (Strict)
)

// simConfig selects the run's size and faults.
type simConfig struct {
	Partitions int
	Steps      int // events before the faults stop and the cluster settles
	// PowerLoss lets a crash lose unsynced data (on one broker at a time).
	PowerLoss bool
	// QuickRestart lets a crashed broker come back before the controller
	// fenced its previous incarnation.
	QuickRestart bool
	// Strict applies eligible.leader.replicas.strict (KIP-966's strict
	// rule) to every registration after a crash, and runs the operator's
	// unclean recovery of partitions left without a candidate
	// (recoverOffline).
	Strict bool
}

// simFailure is an invariant violation; it stops the run.
type simFailure struct{ msg string }

func (f *simFailure) Error() string { return f.msg }

type simEvent struct {
	at    time.Time
	seq   uint64
	what  string
	valid func() bool // nil: always; false: dropped without counting as a step
	fn    func()
}

type simQueue []*simEvent

func (q simQueue) Len() int { return len(q) }
func (q simQueue) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].seq < q[j].seq
}
func (q simQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *simQueue) Push(x any)   { *q = append(*q, x.(*simEvent)) }
func (q *simQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

type brokerState int

const (
	brokerDown brokerState = iota
	brokerStarting
	brokerUp
)

func (s brokerState) String() string {
	return [...]string{"down", "starting", "up"}[s]
}

type simBroker struct {
	id    int32
	fs    *simFS
	state brokerState
	inc   int // process incarnation, bumped at every crash and start
	incID metadata.Uuid
	img   *metadata.Image
	mgr   *partition.Manager
	// leader answers followers, as the broker's handlers do (leader.go).
	leader Leader

	follows map[partition.Key]*simFollow
	isrReq  map[partition.Key]*simISRReq
	mirrors map[partition.Key]*simMirror
	// dirty: partitions whose log lost records in a power loss; the value
	// is where the log ended before. Cleared when the log holds the
	// committed log that far.
	dirty map[partition.Key]int64
	// lostFrom: the logs before a power loss, until the restart.
	lostFrom map[partition.Key][]simRef
	// disk: the logs as they were when the broker last stopped running,
	// which its files still hold while it is down or starting (less what
	// a power loss took since, which lostFrom then records).
	disk map[partition.Key][]simRef
}

// simFollow is a follower's fetch state for one partition: the
// fetcher's followState plus the request in flight.
type simFollow struct {
	key       partition.Key
	leader    int32
	epoch     int32
	truncated int32
	backoff   time.Time
	ask       int32 // the epoch of the OffsetForLeaderEpoch walk in flight
	queries   int
	req       uint64 // request in flight, 0: none
	reqEpoch  int32  // st.epoch when the request was sent
	tok       uint64 // timer generation
}

type simISRReq struct {
	id       uint64
	deadline time.Time
}

type simProduce struct {
	key      partition.Key
	broker   int32
	inc      int
	p        *partition.Partition
	res      partition.AppendResult
	crc      uint32
	value    string
	deadline time.Time
}

type world struct {
	cfg   simConfig
	seed  uint64
	rng   *rand.Rand
	now   time.Time
	q     simQueue
	seq   uint64
	ids   uint64
	step  int
	trace *simTrace
	lg    *slog.Logger

	ctl     *metadata.Image
	heard   map[int32]time.Time
	brokers []*simBroker
	keys    []partition.Key
	topicID metadata.Uuid

	cut      map[[2]int32]bool
	slow     map[[2]int32]bool
	dropRate float64
	faultGap time.Duration
	faults   bool
	produce  bool

	pending                                                      []*simProduce
	track                                                        map[partition.Key]*simTrack
	produced, acked, failedAcks, crashes, powerLosses, lostBytes int
	failure                                                      *simFailure
}

// Now is the simulated clock, for partitions and logs.
func (w *world) Now() time.Time { return w.now }

func newWorld(seed uint64, cfg simConfig, trace *simTrace) *world {
	w := &world{
		cfg: cfg, seed: seed, rng: rand.New(rand.NewPCG(seed, seed^0x5eed)),
		now: time.UnixMilli(1_700_000_000_000), trace: trace,
		heard: map[int32]time.Time{}, cut: map[[2]int32]bool{}, slow: map[[2]int32]bool{},
		track: map[partition.Key]*simTrack{}, faults: true, produce: true,
	}
	w.lg = slog.New(&simLogHandler{w: w})
	w.dropRate = []float64{0, 0.01, 0.05}[w.rng.IntN(3)]
	w.faultGap = []time.Duration{100 * time.Millisecond, 300 * time.Millisecond, time.Second}[w.rng.IntN(3)]
	w.tracef("seed %d: drop rate %v, a fault every ~%v, power loss %v, quick restart %v", seed, w.dropRate, w.faultGap, cfg.PowerLoss, cfg.QuickRestart)
	w.topicID = w.uuid()
	w.ctl = metadata.NewImage()
	w.mustPropose(metadata.SetClusterID{ID: "sim"})
	for i := range simNodes {
		b := &simBroker{id: int32(i), fs: newSimFS()}
		w.brokers = append(w.brokers, b)
		b.incID = w.uuid()
		w.mustPropose(metadata.RegisterBroker{ID: b.id, Host: fmt.Sprintf("b%d", i), Port: 9092, IncarnationID: b.incID})
		w.heard[b.id] = w.now
	}
	var as [][]int32
	for i := range cfg.Partitions {
		as = append(as, []int32{int32(i % simNodes), int32((i + 1) % simNodes), int32((i + 2) % simNodes)})
		k := partition.Key{Topic: simTopic, Partition: int32(i)}
		w.keys = append(w.keys, k)
		w.track[k] = newTrack()
	}
	w.mustPropose(metadata.CreateTopic{Name: simTopic, ID: w.topicID, Assignments: as,
		Configs: map[string]string{"min.insync.replicas": fmt.Sprint(simMinISR)}})
	for _, b := range w.brokers {
		b.inc++
		w.startBroker(b, b.inc, w.ctl)
	}
	w.every(nil, 0, simHeartbeat, "ctl liveness", w.liveness)
	w.after(w.jitter(20*time.Millisecond), "produce", nil, w.produceOnce)
	w.after(w.faultGap, "fault", nil, w.injectFault)
	if cfg.Strict {
		w.every(nil, 0, simRecoverEvery, "operator: unclean recovery", w.recoverOffline)
	}
	return w
}

func (w *world) uuid() metadata.Uuid {
	var u metadata.Uuid
	for i := range u {
		u[i] = byte(w.rng.IntN(256))
	}
	return u
}

func (w *world) jitter(d time.Duration) time.Duration {
	return d/2 + time.Duration(w.rng.Int64N(int64(d)))
}

func (w *world) tracef(format string, args ...any) {
	w.trace.add(w.step, w.now, fmt.Sprintf(format, args...))
}

func (w *world) failf(format string, args ...any) {
	if w.failure == nil {
		w.failure = &simFailure{msg: fmt.Sprintf(format, args...)}
		w.tracef("FAILURE: %s", w.failure.msg)
	}
}

// after schedules fn in d; valid (nil: always) is asked again then.
func (w *world) after(d time.Duration, what string, valid func() bool, fn func()) {
	w.seq++
	heap.Push(&w.q, &simEvent{at: w.now.Add(d), seq: w.seq, what: what, valid: valid, fn: fn})
}

// every runs fn every period while b runs incarnation inc (b nil: always).
func (w *world) every(b *simBroker, inc int, period time.Duration, what string, fn func()) {
	alive := func() bool { return b == nil || b.inc == inc && b.state != brokerDown }
	var tick func()
	tick = func() {
		fn()
		w.after(period, what, alive, tick)
	}
	w.after(w.jitter(period), what, alive, tick)
}

// run processes events until steps of them ran (events no longer valid
// are dropped uncounted) or an invariant failed; check runs after each.
func (w *world) run(steps int, check func()) {
	for n := 0; n < steps && w.failure == nil && w.q.Len() > 0; {
		e := heap.Pop(&w.q).(*simEvent)
		if e.valid != nil && !e.valid() {
			continue
		}
		w.now = e.at
		w.step++
		n++
		w.tracef("%s", e.what)
		e.fn()
		if w.failure == nil {
			check()
		}
	}
}

// --- network ---

func link(a, b int32) [2]int32 { return [2]int32{min(a, b), max(a, b)} }

func (w *world) name(id int32) string {
	if id == simCtl {
		return "ctl"
	}
	return fmt.Sprintf("b%d", id)
}

// send delivers a message from one node to another after a random delay,
// unless the network drops it.
func (w *world) send(from, to int32, what string, deliver func()) {
	what = fmt.Sprintf("%s->%s %s", w.name(from), w.name(to), what)
	if w.cut[link(from, to)] {
		w.tracef("dropped (partitioned): %s", what)
		return
	}
	if w.rng.Float64() < w.dropRate {
		w.tracef("dropped: %s", what)
		return
	}
	d := time.Duration(500+w.rng.IntN(4000)) * time.Microsecond
	if w.rng.IntN(25) == 0 {
		d += time.Duration(w.rng.IntN(150)) * time.Millisecond
	}
	if w.slow[link(from, to)] {
		d += time.Duration(50+w.rng.IntN(250)) * time.Millisecond
	}
	w.after(d, what, nil, func() {
		if w.cut[link(from, to)] {
			w.tracef("lost in flight (partitioned)")
			return
		}
		deliver()
	})
}

// --- controller ---

func (w *world) mustPropose(r metadata.Record) {
	if err := w.propose(r); err != nil {
		panic(err)
	}
}

// propose applies r to the controller's image (the quorum is not
// simulated: a proposal commits at once), then runs elections and
// publishes the image.
func (w *world) propose(r metadata.Record) error {
	next, err := w.ctl.Apply(w.ctl.Offset+1, r)
	w.ctl = next
	if err != nil {
		w.tracef("ctl: %T refused: %v", r, err)
		return err
	}
	w.tracef("ctl: %s", describeRecord(r))
	w.elect()
	w.publish()
	return nil
}

// elect applies the changes controller.Elections asks for.
func (w *world) elect() {
	pol := func(*metadata.Topic) controller.ElectionPolicy {
		return controller.ElectionPolicy{MinISR: simMinISR}
	}
	for range 8 {
		chs := controller.Elections(w.ctl, pol)
		if len(chs) == 0 {
			return
		}
		for _, ch := range chs {
			next, err := w.ctl.Apply(w.ctl.Offset+1, ch)
			w.ctl = next
			if err != nil {
				w.tracef("ctl: election refused: %v", err)
				continue
			}
			w.tracef("ctl: election %s", describeRecord(ch))
		}
	}
}

func (w *world) publish() {
	img := w.ctl
	for _, b := range w.brokers {
		if b.state == brokerUp {
			w.send(simCtl, b.id, fmt.Sprintf("metadata@%d", img.Offset), func() { w.onImage(b, img) })
		}
	}
}

// liveness fences brokers not heard from for the session timeout
// (controller/liveness.go). Unfencing is the broker's own request, with its
// incarnation (heartbeat), as in serve's self-unfence.
func (w *world) liveness() {
	for _, id := range sortedIDs(w.ctl.Brokers) {
		b := w.ctl.Brokers[id]
		heard := w.heard[id]
		if !b.Fenced && w.now.Sub(heard) > simSession {
			_ = w.propose(metadata.FenceBroker{ID: id, IncarnationID: b.IncarnationID})
		}
	}
}

func sortedIDs[V any](m map[int32]V) []int32 {
	ids := make([]int32, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func describeRecord(r metadata.Record) string {
	switch r := r.(type) {
	case metadata.ChangePartition:
		exp := "-"
		if r.ExpectedPartitionEpoch != nil {
			exp = fmt.Sprint(*r.ExpectedPartitionEpoch)
		}
		return fmt.Sprintf("ChangePartition p%d leader=%d epoch=%d isr=%v elr=%v (expected pe %s)", r.Partition, r.Leader, r.LeaderEpoch, r.ISR, r.ELR, exp)
	case metadata.FenceBroker:
		return fmt.Sprintf("FenceBroker %d", r.ID)
	case metadata.UnfenceBroker:
		return fmt.Sprintf("UnfenceBroker %d", r.ID)
	case metadata.RegisterBroker:
		return fmt.Sprintf("RegisterBroker %d", r.ID)
	}
	return fmt.Sprintf("%T", r)
}

// --- brokers ---

func (w *world) broker(id int32) *simBroker { return w.brokers[id] }

// startBroker opens the partitions of b (incarnation inc) from img, as
// cmd/samsa does after registering, and starts its loops.
func (w *world) startBroker(b *simBroker, inc int, img *metadata.Image) {
	bc := config.Broker{}.Defaults()
	mgr, err := partition.NewManager(partition.ManagerOptions{
		DataDir: "/data", NodeID: b.id, Broker: &bc, FS: b.fs, Logger: w.lg.With("broker", b.id), Clock: w,
	})
	if err != nil {
		w.failf("b%d: partition manager: %v", b.id, err)
		return
	}
	b.mgr, b.img, b.state = mgr, img, brokerUp
	b.leader = Leader{Self: b.id, Parts: mgr, Throttle: &Throttle{}}
	b.follows, b.isrReq, b.mirrors = map[partition.Key]*simFollow{}, map[partition.Key]*simISRReq{}, map[partition.Key]*simMirror{}
	if err := mgr.Sync(context.Background(), img, true); err != nil {
		w.failf("b%d: opening partitions: %v", b.id, err)
		return
	}
	w.syncFollows(b)
	w.every(b, inc, simHeartbeat, fmt.Sprintf("b%d heartbeat", b.id), func() { w.heartbeat(b) })
	w.every(b, inc, simISREvery, fmt.Sprintf("b%d isr loop", b.id), func() { w.isrLoop(b) })
	w.every(b, inc, simHWCheckpoint, fmt.Sprintf("b%d hw checkpoint", b.id), func() {
		if err := b.mgr.WriteHWCheckpoint(); err != nil {
			w.failf("b%d: hw checkpoint: %v", b.id, err)
		}
	})
}

func (w *world) heartbeat(b *simBroker) {
	var known int64 = -1
	if b.img != nil {
		known = b.img.Offset
	}
	incID := b.incID
	w.send(b.id, simCtl, "heartbeat", func() {
		w.heard[b.id] = w.now
		if cur, ok := w.ctl.Brokers[b.id]; ok && cur.Fenced && !cur.ShuttingDown && cur.IncarnationID == incID {
			_ = w.propose(metadata.UnfenceBroker{ID: b.id, IncarnationID: incID})
		}
		if known < w.ctl.Offset && b.state == brokerUp {
			img := w.ctl
			w.send(simCtl, b.id, fmt.Sprintf("metadata@%d", img.Offset), func() { w.onImage(b, img) })
		}
	})
}

// onImage is the broker's metadata subscriber: partitions, then fetchers.
func (w *world) onImage(b *simBroker, img *metadata.Image) {
	if b.state != brokerUp || img.Offset <= b.img.Offset {
		return
	}
	b.img = img
	if err := b.mgr.Sync(context.Background(), img, false); err != nil {
		w.failf("b%d: partition sync: %v", b.id, err)
		return
	}
	w.syncFollows(b)
}

// crash kills b's process; with power, unsynced data is lost too.
func (w *world) crash(b *simBroker, power bool) {
	before := b.disk
	if b.state == brokerUp {
		w.refreshMirrors(b)
		before = map[partition.Key][]simRef{}
		for _, k := range w.keys {
			if m := b.mirrors[k]; m != nil {
				before[k] = m.refs
			}
		}
		b.disk = before
	}
	b.state = brokerDown
	b.inc++
	b.mgr, b.img, b.follows, b.isrReq, b.mirrors = nil, nil, nil, nil, nil
	b.leader = Leader{}
	w.crashes++
	kind := "process crash"
	if power {
		lost := b.fs.Crash(w.rng)
		w.powerLosses++
		w.lostBytes += lost
		kind = fmt.Sprintf("power loss, %d unsynced bytes lost", lost)
		if b.lostFrom == nil { // else it crashed again while starting
			b.lostFrom = map[partition.Key][]simRef{}
			maps.Copy(b.lostFrom, before)
		}
	}
	w.tracef("CRASH b%d (%s)", b.id, kind)
	down := time.Duration(50+w.rng.IntN(1500)) * time.Millisecond
	inc := b.inc
	w.after(down, fmt.Sprintf("b%d restart", b.id), func() bool { return b.inc == inc }, func() { w.restart(b) })
}

// restart starts a new incarnation of b: it registers with the
// controller and opens its partitions from the image it gets back.
func (w *world) restart(b *simBroker) {
	if b.state != brokerDown {
		return
	}
	if !w.cfg.QuickRestart {
		if cb, ok := w.ctl.Brokers[b.id]; ok && !cb.Fenced {
			inc := b.inc
			w.after(50*time.Millisecond, fmt.Sprintf("b%d restart (waiting to be fenced)", b.id), func() bool { return b.inc == inc }, func() { w.restart(b) })
			return
		}
	}
	b.inc++
	b.state = brokerStarting
	b.incID = w.uuid()
	inc := b.inc
	w.tracef("b%d starting (incarnation %d)", b.id, inc)
	w.every(b, inc, simHeartbeat, fmt.Sprintf("b%d heartbeat", b.id), func() {
		if b.state == brokerStarting {
			w.heartbeat(b)
		}
	})
	reg := metadata.RegisterBroker{ID: b.id, Host: fmt.Sprintf("b%d", b.id), Port: 9092, IncarnationID: b.incID, StrictELR: w.cfg.Strict}
	w.every(b, inc, 200*time.Millisecond, fmt.Sprintf("b%d register", b.id), func() {
		if b.state != brokerStarting {
			return
		}
		w.send(b.id, simCtl, "register", func() {
			if err := w.propose(reg); err != nil {
				return
			}
			img := w.ctl
			w.send(simCtl, b.id, "registered", func() {
				if b.inc != inc || b.state != brokerStarting {
					return
				}
				w.startBroker(b, inc, img)
				w.afterRestart(b)
			})
		})
	})
}

// afterRestart marks dirty the partitions whose log lost records in the
// power loss before the restart: until it holds the committed log up to
// where its log ended before, the leader may count it as holding records
// it does not have (its fetch offsets from before the crash).
func (w *world) afterRestart(b *simBroker) {
	if b.lostFrom == nil {
		return
	}
	w.refreshMirrors(b)
	for _, k := range w.keys {
		old := b.lostFrom[k]
		if len(old) == 0 {
			continue
		}
		m := b.mirrors[k]
		if m != nil && len(m.refs) >= len(old) && slices.Equal(m.refs[:len(old)], old) {
			continue
		}
		if b.dirty == nil {
			b.dirty = map[partition.Key]int64{}
		}
		b.dirty[k] = max(b.dirty[k], old[len(old)-1].next)
		w.tracef("b%d: p%d lost records in the power loss; dirty until it holds the committed log to %d", b.id, k.Partition, b.dirty[k])
	}
	b.lostFrom = nil
}

func sortedKeysOf[V any](m map[partition.Key]V) []partition.Key {
	ks := make([]partition.Key, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.SortFunc(ks, func(a, b partition.Key) int { return int(a.Partition - b.Partition) })
	return ks
}

// syncFollows is Replicator.Sync plus fetcher.refresh: one follow state
// per partition b follows, reset when the leader changes.
func (w *world) syncFollows(b *simBroker) {
	want := map[partition.Key]bool{}
	t := b.img.Topics[simTopic]
	for _, mp := range t.Partitions {
		if mp.Leader == b.id || mp.Leader < 0 || !slices.Contains(mp.Replicas, b.id) {
			continue
		}
		k := partition.Key{Topic: simTopic, Partition: mp.Index}
		want[k] = true
		f, ok := b.follows[k]
		if ok && f.leader == mp.Leader {
			if f.epoch != mp.LeaderEpoch {
				f.epoch = mp.LeaderEpoch
				f.backoff = time.Time{}
			}
		} else {
			f = &simFollow{key: k, leader: mp.Leader, epoch: mp.LeaderEpoch, truncated: -1}
			b.follows[k] = f
		}
		if f.req == 0 {
			w.schedFollow(b, f, 0, "fetch")
		}
	}
	for _, k := range sortedKeysOf(b.follows) {
		if !want[k] {
			delete(b.follows, k)
		}
	}
}

// schedFollow (re)arms f's one timer.
func (w *world) schedFollow(b *simBroker, f *simFollow, d time.Duration, what string) {
	f.tok++
	tok, inc := f.tok, b.inc
	w.after(d, fmt.Sprintf("b%d p%d %s", b.id, f.key.Partition, what),
		func() bool { return b.inc == inc && b.state == brokerUp && b.follows[f.key] == f && f.tok == tok },
		func() { w.followStep(b, f) })
}

// followStep is one round of the fetcher for f: a timed-out request is
// abandoned (the connection closes, the fetcher backs off); otherwise the
// log is reconciled with the leader's if the epoch changed, then fetched.
func (w *world) followStep(b *simBroker, f *simFollow) {
	if f.req != 0 {
		w.tracef("b%d p%d: request to b%d timed out", b.id, f.key.Partition, f.leader)
		f.req = 0
		w.schedFollow(b, f, simFetchBackoff, "fetch after backoff")
		return
	}
	if w.now.Before(f.backoff) {
		w.schedFollow(b, f, f.backoff.Sub(w.now), "fetch after backoff")
		return
	}
	p, ok := b.mgr.Get(f.key.Topic, f.key.Partition)
	if !ok || p.IsLeader() || p.State().LeaderEpoch != f.epoch {
		w.schedFollow(b, f, 100*time.Millisecond, "fetch (partition not ready)")
		return
	}
	if f.truncated != f.epoch {
		ask, done, err := firstAsk(p)
		if err != nil {
			w.failf("b%d p%d: truncation failed: %v", b.id, f.key.Partition, err)
			return
		}
		if !done {
			f.ask, f.queries = ask, 0
			w.sendEpochQuery(b, f, p)
			return
		}
		f.truncated = f.epoch
	}
	w.sendFetch(b, f, p)
}

func (w *world) request(b *simBroker, f *simFollow) uint64 {
	w.ids++
	f.req, f.reqEpoch = w.ids, f.epoch
	w.schedFollow(b, f, simRequestTimeout, "request timeout")
	return w.ids
}

// answered reports whether a response to request id of incarnation inc is
// still awaited, and clears it.
func (w *world) answered(b *simBroker, inc int, f *simFollow, id uint64) bool {
	if b.inc != inc || b.state != brokerUp || b.follows[f.key] != f || f.req != id {
		return false
	}
	f.req = 0
	return true
}

func (w *world) sendEpochQuery(b *simBroker, f *simFollow, p *partition.Partition) {
	f.queries++
	if f.queries > maxEpochQueries {
		w.failf("b%d p%d: leader epochs did not converge", b.id, f.key.Partition)
		return
	}
	id, inc, ask, cur := w.request(b, f), b.inc, f.ask, f.epoch
	w.send(b.id, f.leader, fmt.Sprintf("OffsetForLeaderEpoch p%d epoch %d (current %d)", f.key.Partition, ask, cur), func() {
		l := w.broker(f.leader)
		if l.state != brokerUp {
			return // connection refused: the request times out
		}
		le, end, code := l.leader.OffsetForLeaderEpoch(l.img, f.key.Topic, f.key.Partition, cur, ask, b.id)
		w.send(l.id, b.id, fmt.Sprintf("OffsetForLeaderEpoch p%d answer epoch %d end %d err %d", f.key.Partition, le, end, code), func() {
			if !w.answered(b, inc, f, id) {
				return
			}
			if code != 0 {
				f.backoff = w.now.Add(simFetchBackoff)
				w.schedFollow(b, f, simFetchBackoff, "fetch after backoff")
				return
			}
			next, done, err := applyEpochAnswer(p, ask, le, end)
			if err != nil {
				w.failf("b%d p%d: truncation failed: %v", b.id, f.key.Partition, err)
				return
			}
			if !done {
				f.ask = next
				w.sendEpochQuery(b, f, p)
				return
			}
			f.truncated = f.reqEpoch
			w.sendFetch(b, f, p)
		})
	})
}

// sendFetch sends f's replica Fetch, as fetcher.fetch builds it (v12,
// topics by name), and applies the leader's answer with applyFetch.
func (w *world) sendFetch(b *simBroker, f *simFollow, p *partition.Partition) {
	q := ReplicaFetch{Replica: b.id, MaxBytes: simFetchResponseMaxBytes, Partitions: []ReplicaFetchPartition{{
		Topic: f.key.Topic, Partition: f.key.Partition, CurrentLeaderEpoch: f.epoch,
		FetchOffset: p.LogEndOffset(), LastFetchedEpoch: p.Log().LatestEpoch(), MaxBytes: simFetchMaxBytes,
	}}}
	qp := q.Partitions[0]
	id, inc := w.request(b, f), b.inc
	w.send(b.id, f.leader, fmt.Sprintf("Fetch p%d offset %d epoch %d last fetched epoch %d", f.key.Partition, qp.FetchOffset, qp.CurrentLeaderEpoch, qp.LastFetchedEpoch), func() {
		l := w.broker(f.leader)
		if l.state != brokerUp {
			return
		}
		rp, ok := w.serveFetch(l, q)
		if !ok {
			return
		}
		w.send(l.id, b.id, fmt.Sprintf("Fetch p%d answer err %d hw %d diverging %d/%d, %d bytes", f.key.Partition, rp.ErrorCode, rp.HighWatermark, rp.DivergingEpoch.Epoch, rp.DivergingEpoch.EndOffset, len(rp.RecordBatches)), func() {
			if !w.answered(b, inc, f, id) {
				return
			}
			w.applyFetchAnswer(b, f, p, &rp)
		})
	})
}

// serveFetch is leader l's answer to q: Leader.ReplicaFetch, with the
// records copied out of the log's files as the broker's sendfile would.
func (w *world) serveFetch(l *simBroker, q ReplicaFetch) (kmsg.FetchResponseTopicPartition, bool) {
	res := l.leader.ReplicaFetch(l.img, w.now, q)
	if len(res) != 1 || res[0].Topic != q.Partitions[0].Topic || res[0].Partition != q.Partitions[0].Partition {
		w.failf("b%d: replica fetch answered %d partitions for one", l.id, len(res))
		return kmsg.FetchResponseTopicPartition{}, false
	}
	if res[0].ReadErr != nil {
		w.tracef("b%d: replica fetch read failed: %v", l.id, res[0].ReadErr)
	}
	rp := res[0].Response()
	for _, c := range res[0].Chunks {
		buf := make([]byte, c.Len)
		if _, err := c.File.ReadAt(buf, c.Pos); err != nil {
			w.failf("b%d: reading p%d for a fetch: %v", l.id, rp.Partition, err)
			return rp, false
		}
		rp.RecordBatches = append(rp.RecordBatches, buf...)
	}
	return rp, true
}

// applyFetchAnswer is fetcher.apply plus the fetcher's pacing: the next
// fetch right away after records, after the leader's long poll after an
// empty answer, after replica.fetch.backoff.ms after an error.
func (w *world) applyFetchAnswer(b *simBroker, f *simFollow, p *partition.Partition, rp *kmsg.FetchResponseTopicPartition) {
	out, err := applyFetch(w.lg, p, f.key, rp)
	if out&fetchRetruncate != 0 {
		f.truncated = -1
	}
	next := simFetchIdle
	if len(rp.RecordBatches) > 0 {
		next = time.Millisecond
	}
	if out&fetchBackoff != 0 {
		f.backoff = w.now.Add(simFetchBackoff)
		next = simFetchBackoff
	}
	if err != nil {
		// The fetcher closes the connection and backs off.
		w.tracef("b%d p%d: fetch failed: %v", b.id, f.key.Partition, err)
		next = simFetchBackoff
	}
	w.schedFollow(b, f, next, "fetch")
}

// isrLoop is the Replicator's ISR loop: leaders ask the controller for the
// ISR changes DesiredISR wants, as conditional ChangePartition records.
func (w *world) isrLoop(b *simBroker) {
	for _, k := range w.keys {
		p, ok := b.mgr.Get(k.Topic, k.Partition)
		if !ok {
			continue
		}
		if r := b.isrReq[k]; r != nil && !w.now.Before(r.deadline) {
			delete(b.isrReq, k) // the proposal timed out
			p.RetryISR()
		}
		ch, ok := p.DesiredISR(w.now, simLagMax, b.img.Live)
		if !ok {
			continue
		}
		topic, ok := b.img.Topics[p.Topic]
		if !ok {
			p.RetryISR()
			continue
		}
		pe := ch.PartitionEpoch
		rec := metadata.ChangePartition{
			TopicID: topic.ID, Partition: p.Index, Leader: b.id, LeaderEpoch: ch.LeaderEpoch,
			ISR: ch.ISR, ELR: ch.ELR, ExpectedPartitionEpoch: &pe,
		}
		w.ids++
		id, inc := w.ids, b.inc
		b.isrReq[k] = &simISRReq{id: id, deadline: w.now.Add(simProposeTimeout)}
		w.send(b.id, simCtl, fmt.Sprintf("AlterPartition %s", describeRecord(rec)), func() {
			err := w.propose(rec)
			w.send(simCtl, b.id, fmt.Sprintf("AlterPartition p%d answer: %v", k.Partition, err), func() {
				if b.inc != inc || b.state != brokerUp || b.isrReq[k] == nil || b.isrReq[k].id != id {
					return
				}
				delete(b.isrReq, k)
				if err != nil {
					p.RetryISR()
				}
			})
		})
	}
}

// --- producers ---

// produceOnce appends one batch with acks=all at the broker a client
// would pick (usually the controller's leader, sometimes a stale one).
func (w *world) produceOnce() {
	defer func() {
		if w.produce {
			w.after(time.Duration(2+w.rng.IntN(30))*time.Millisecond, "produce", nil, w.produceOnce)
		}
	}()
	k := w.keys[w.rng.IntN(len(w.keys))]
	target := w.ctl.Topics[simTopic].Partitions[k.Partition].Leader
	if target < 0 || w.rng.IntN(8) == 0 {
		target = int32(w.rng.IntN(simNodes))
	}
	b := w.broker(target)
	if b.state != brokerUp {
		return
	}
	p, ok := b.mgr.Get(k.Topic, k.Partition)
	if !ok {
		return
	}
	w.produced++
	value := fmt.Sprintf("p%d-v%d", k.Partition, w.produced)
	n := 1 + w.rng.IntN(3)
	recs := make([]batch.Record, n)
	for i := range recs {
		recs[i].Value = fmt.Appendf(nil, "%s-%d", value, i)
	}
	raw, err := batch.Build(batch.CodecNone, recs, batch.BuildOptions{BaseTimestamp: w.now.UnixMilli()})
	if err != nil {
		panic(err)
	}
	h, _ := batch.ParseHeader(raw)
	res, err := p.Append(raw, -1)
	if err != nil {
		w.tracef("produce %s to b%d: %v", value, b.id, err)
		return
	}
	w.tracef("produce %s to b%d: offsets %d-%d epoch %d", value, b.id, res.BaseOffset, res.LastOffset, res.LeaderEpoch)
	w.pending = append(w.pending, &simProduce{key: k, broker: b.id, inc: b.inc, p: p, res: res, crc: h.CRC, value: value, deadline: w.now.Add(simProduceTimeout)})
}

// --- faults ---

func (w *world) anyDirty() bool {
	for _, b := range w.brokers {
		if len(b.dirty) > 0 || b.lostFrom != nil {
			return true
		}
	}
	return false
}

func (w *world) injectFault() {
	if !w.faults {
		return
	}
	defer w.after(w.jitter(w.faultGap), "fault", nil, w.injectFault)
	b := w.broker(int32(w.rng.IntN(simNodes)))
	heal := time.Duration(100+w.rng.IntN(1400)) * time.Millisecond
	switch r := w.rng.IntN(100); {
	case r < 30:
		if b.state == brokerDown {
			return
		}
		// A power loss only while no other broker has lost committed
		// records it has not fetched back: see TestSim.
		power := w.cfg.PowerLoss && w.rng.IntN(2) == 0 && (len(b.dirty) > 0 || b.lostFrom != nil || !w.anyDirty())
		w.crash(b, power)
	case r < 55:
		w.tracef("FAULT: isolate b%d for %v", b.id, heal)
		var ls [][2]int32
		for _, o := range append([]int32{simCtl}, 0, 1, 2) {
			if o != b.id {
				ls = append(ls, link(b.id, o))
			}
		}
		w.cutLinks(ls, heal)
	case r < 70:
		w.tracef("FAULT: cut b%d from the controller for %v", b.id, heal)
		w.cutLinks([][2]int32{link(b.id, simCtl)}, heal)
	case r < 85:
		o := (b.id + 1 + int32(w.rng.IntN(simNodes-1))) % simNodes
		w.tracef("FAULT: cut b%d-b%d for %v", b.id, o, heal)
		w.cutLinks([][2]int32{link(b.id, o)}, heal)
	default:
		o := int32(w.rng.IntN(simNodes+1)) - 1
		if o == b.id {
			o = simCtl
		}
		l := link(b.id, o)
		w.tracef("FAULT: slow %s-%s for %v", w.name(l[0]), w.name(l[1]), heal)
		w.slow[l] = true
		w.after(heal, "heal slow link", nil, func() { delete(w.slow, l) })
	}
}

func (w *world) cutLinks(ls [][2]int32, d time.Duration) {
	for _, l := range ls {
		w.cut[l] = true
	}
	w.after(d, "heal partition", nil, func() {
		for _, l := range ls {
			delete(w.cut, l)
		}
	})
}

// recoverOffline is the operator's unclean recovery under
// eligible.leader.replicas.strict: a partition whose ISR and ELR are empty
// (its last candidate restarted after an unclean stop) waits until every
// replica is up and unfenced, then the replica with the most complete log
// (the latest last epoch, then the longest log) is made leader in a new
// leader epoch with itself as the ISR: what an unclean election does, with
// the replica chosen as KIP-966's "balanced" unclean recovery chooses it
// (an operator compares the replicas' logs, e.g. with OffsetForLeaderEpoch
// and ListOffsets, and leaves only that one live for ElectLeaders UNCLEAN).
func (w *world) recoverOffline() {
	for _, mp := range w.ctl.Topics[simTopic].Partitions {
		if mp.Leader != metadata.NoLeader || len(mp.ISR) > 0 || len(mp.ELR) > 0 {
			continue
		}
		best, bestEpoch, bestEnd := int32(-1), int32(-1), int64(-1)
		for _, r := range mp.Replicas {
			b := w.broker(r)
			cb, ok := w.ctl.Brokers[r]
			// (Not its incarnation: a dead process's registration that
			// arrives late may have replaced the running one's.)
			if b.state != brokerUp || !ok || cb.Fenced {
				return
			}
			p, ok := b.mgr.Get(simTopic, mp.Index)
			if !ok {
				return
			}
			epoch := int32(-1)
			if es := p.Log().Epochs(); len(es) > 0 {
				epoch = es[len(es)-1].Epoch
			}
			if end := p.LogEndOffset(); epoch > bestEpoch || epoch == bestEpoch && end > bestEnd {
				best, bestEpoch, bestEnd = r, epoch, end
			}
		}
		pe := mp.PartitionEpoch
		w.tracef("operator: p%d has no candidate; unclean election of b%d (last epoch %d, log end %d)", mp.Index, best, bestEpoch, bestEnd)
		_ = w.propose(metadata.ChangePartition{TopicID: mp.TopicID, Partition: mp.Index, Leader: best, LeaderEpoch: mp.LeaderEpoch + 1,
			ISR: []int32{best}, ELR: []int32{}, ExpectedPartitionEpoch: &pe})
	}
}

// quiesce stops the faults and the producer: every partition heals and
// every broker restarts, so the cluster can converge.
func (w *world) quiesce() {
	w.faults = false
	w.dropRate = 0
	clear(w.cut)
	clear(w.slow)
	for _, b := range w.brokers {
		if b.state == brokerDown {
			w.restart(b)
		}
	}
	w.after(time.Second, "stop producing", nil, func() { w.produce = false })
}
