package protocol

import (
	"log/slog"
	"math"
	"sort"
	"time"
)

// Snapshot is the leader's view of the config topic for an assignment:
// the offset it has read to (the next offset, as Java's snapshot) and
// the connectors to place with their committed task counts.
type Snapshot struct {
	Offset     int64
	Connectors map[string]int
}

// Assignor computes a group's assignments on the leader. Assign follows
// Kafka's IncrementalCooperativeAssignor (revoke before reassigning,
// connectors of departed members held for up to MaxDelay, then handed to
// the members that joined meanwhile or the least loaded); AssignEager
// follows EagerAssignor (round-robin of everything, protocol v0). The
// zero value is ready to use; it keeps history between calls, so one
// Assignor serves one leader over its generations. It reads no clock.
type Assignor struct {
	// MaxDelay is scheduled.rebalance.max.delay.ms.
	MaxDelay time.Duration
	// Logger receives debug lines; nil discards them.
	Logger *slog.Logger

	prev              work // what the previous round left assigned (plus lost)
	prevRevocation    work
	started           bool
	revokedInPrevious bool
	candidates        []string // empty members when a delay started
	scheduled         int64    // ms since epoch; 0 = no scheduled rebalance
	delay             int32
	prevGen           int32
	prevMembers       map[string]bool
	successive        int
}

func (a *Assignor) init() {
	if !a.started {
		a.started = true
		a.prev, a.prevRevocation = newWork(), newWork()
		a.prevGen = -1
	}
}

func (a *Assignor) log() *slog.Logger {
	if a.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return a.Logger
}

// Assign computes incremental cooperative assignments for members (by
// member id, with their JoinGroup metadata). When the leader's snapshot
// is behind a member's config offset every member gets CONFIG_MISMATCH.
func (a *Assignor) Assign(now time.Time, leaderID string, members map[string]Metadata, snap Snapshot) map[string]Assignment {
	return a.assign(now, leaderID, members, snap, -1, -1)
}

// AssignGeneration is Assign for a leader that knows the generation
// being formed and the last one it completed: when they disagree with
// the previous round the history is dropped, as Java does when a round
// did not complete.
func (a *Assignor) AssignGeneration(now time.Time, leaderID string, lastCompleted, gen int32, members map[string]Metadata, snap Snapshot) map[string]Assignment {
	return a.assign(now, leaderID, members, snap, lastCompleted, gen)
}

// mismatch fills CONFIG_MISMATCH assignments if the leader is behind.
func mismatch(leaderID string, members map[string]Metadata, snap Snapshot) (map[string]Assignment, int64, bool) {
	maxOffset := int64(math.MinInt64)
	for _, m := range members {
		maxOffset = max(maxOffset, m.ConfigOffset)
	}
	if snap.Offset >= maxOffset {
		return nil, snap.Offset, false
	}
	out := make(map[string]Assignment, len(members))
	for id := range members {
		out[id] = Assignment{Error: ErrConfigMismatch, Leader: leaderID, LeaderURL: members[leaderID].URL, ConfigOffset: maxOffset}
	}
	return out, maxOffset, true
}

func configured(snap Snapshot) work {
	w := newWork()
	for c, n := range snap.Connectors {
		w.conns[c] = true
		for i := 0; i < n; i++ {
			w.tasks[TaskID{c, int32(i)}] = true
		}
	}
	return w
}

func (a *Assignor) assign(now time.Time, leaderID string, members map[string]Metadata, snap Snapshot, lastGen, gen int32) map[string]Assignment {
	a.init()
	if out, _, bad := mismatch(leaderID, members, snap); bad {
		return out
	}
	if lastGen >= 0 && a.prevGen != lastGen {
		a.prev = newWork()
	}
	ids := sortedKeys(members)
	owned := make(map[string]work, len(ids))
	active := newWork()
	for _, id := range ids {
		w := newWork()
		if o := members[id].Owned; o != nil {
			w.addLists(o.Connectors, o.Tasks)
		}
		owned[id] = w
		active.add(w)
	}
	conf := configured(snap)
	if !a.prevRevocation.empty() {
		if len(a.prevRevocation.minus(active).conns) != len(a.prevRevocation.conns) ||
			len(a.prevRevocation.minus(active).tasks) != len(a.prevRevocation.tasks) {
			a.prev = active.minus()
		}
		a.prevRevocation = newWork()
	}
	deleted := a.prev.minus(conf)
	duplicated := duplicates(ids, owned)
	lost := a.prev.minus(active, deleted)
	created := conf.minus(a.prev, active)

	current := loads(ids, members)
	next := loads(ids, members)
	toRevoke := map[string]work{}
	for i, id := range ids {
		current[i].remove(deleted)
		rv := newWork()
		rv.add(intersect(owned[id], deleted))
		rv.add(intersect(owned[id], duplicated))
		if !rv.empty() {
			toRevoke[id] = rv
			next[i].remove(rv)
		}
	}
	toReassign := a.handleLost(now, lost, next)
	a.balance(now, conf, next, toRevoke)

	toReassign.add(created)
	assignConnectors(next, toReassign.sortedConns())
	assignTasks(next, toReassign.sortedTasks())

	a.prev = newWork()
	for _, l := range next {
		a.prev.add(l.work())
	}
	for _, id := range ids {
		if rv, ok := toRevoke[id]; ok {
			a.prev = a.prev.minus(rv)
			a.prevRevocation.add(rv)
		}
	}
	a.prev.add(lost)
	a.prevGen = gen
	a.prevMembers = map[string]bool{}
	for _, id := range ids {
		a.prevMembers[id] = true
	}
	return a.fill(leaderID, members, snap.Offset, ids, current, next, toRevoke)
}

// balance revokes load from overloaded members, unless a delayed
// rebalance is pending or revocations keep repeating (then it backs off).
func (a *Assignor) balance(now time.Time, conf work, next []*load, toRevoke map[string]work) {
	if a.delay != 0 {
		a.revokedInPrevious = false
		return
	}
	lb := balancingRevocations(conf, next)
	switch {
	case a.revokedInPrevious && len(lb) > 0:
		a.successive++
		a.delay = a.backoff(a.successive)
		if a.delay != 0 {
			a.scheduled = now.UnixMilli() + int64(a.delay)
			return
		}
		a.applyRevocations(lb, next, toRevoke)
	case len(lb) > 0:
		a.applyRevocations(lb, next, toRevoke)
		a.revokedInPrevious = true
	case a.revokedInPrevious:
		a.revokedInPrevious = false
		a.successive = 0
	}
}

func (a *Assignor) applyRevocations(lb map[string]work, next []*load, toRevoke map[string]work) {
	for _, l := range next {
		rv, ok := lb[l.worker]
		if !ok {
			continue
		}
		if toRevoke[l.worker].conns == nil {
			toRevoke[l.worker] = newWork()
		}
		toRevoke[l.worker].add(rv)
		l.remove(rv)
	}
}

// backoff is Java's ExponentialBackoff(1ms, x40, MaxDelay, no jitter).
func (a *Assignor) backoff(attempts int) int32 {
	maxMs := float64(a.MaxDelay.Milliseconds())
	if maxMs <= 0 {
		return 0
	}
	expMax := 0.0
	if maxMs > 1 {
		expMax = math.Log(maxMs) / math.Log(40)
	}
	exp := math.Min(float64(attempts), expMax)
	return int32(math.Min(math.Pow(40, exp), maxMs))
}

// handleLost decides what to do with work whose owner vanished: hand it
// out now, or wait (up to MaxDelay) for the owner to come back. It
// returns what is to be assigned like new work; work for the members
// that joined during the delay is placed on them directly.
func (a *Assignor) handleLost(now time.Time, lost work, next []*load) work {
	out := newWork()
	if lost.empty() && !a.revokedInPrevious {
		a.resetDelay()
		return out
	}
	nowMs := now.UnixMilli()
	activeMembers := map[string]bool{}
	for _, l := range next {
		activeMembers[l.worker] = true
	}
	allBack := true
	for m := range a.prevMembers {
		allBack = allBack && activeMembers[m]
	}
	if (a.scheduled <= 0 && allBack) || a.MaxDelay <= 0 {
		out.add(lost)
		return out
	}
	if a.scheduled > 0 && nowMs >= a.scheduled {
		var cands []*load
		for _, c := range a.candidates {
			for _, l := range next {
				if l.worker == c {
					cands = append(cands, l)
				}
			}
		}
		if len(cands) == 0 {
			out.add(lost)
		} else {
			for i, c := range lost.sortedConns() {
				cands[i%len(cands)].conns = append(cands[i%len(cands)].conns, c)
			}
			for i, t := range lost.sortedTasks() {
				cands[i%len(cands)].tasks = append(cands[i%len(cands)].tasks, t)
			}
		}
		a.resetDelay()
		a.revokedInPrevious = false
		return out
	}
	for _, l := range next {
		if l.empty() && !contains(a.candidates, l.worker) {
			a.candidates = append(a.candidates, l.worker)
		}
	}
	if nowMs < a.scheduled {
		a.delay = int32(min(a.scheduled-nowMs, a.MaxDelay.Milliseconds()))
	} else {
		a.delay = int32(a.MaxDelay.Milliseconds())
	}
	a.scheduled = nowMs + int64(a.delay)
	a.log().Debug("connect assignor: delaying reassignment of lost work", "delay_ms", a.delay)
	return out
}

func (a *Assignor) resetDelay() {
	a.candidates = nil
	a.scheduled = 0
	a.delay = 0
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func (a *Assignor) fill(leaderID string, members map[string]Metadata, offset int64, ids []string, current, next []*load, toRevoke map[string]work) map[string]Assignment {
	out := make(map[string]Assignment, len(ids))
	for i, id := range ids {
		as := Assignment{Leader: leaderID, LeaderURL: members[leaderID].URL, ConfigOffset: offset, Delay: a.delay}
		cur := current[i].work()
		for _, c := range next[i].conns {
			if !cur.conns[c] {
				as.Connectors = append(as.Connectors, c)
			}
		}
		for _, t := range next[i].tasks {
			if !cur.tasks[t] {
				as.Tasks = append(as.Tasks, t)
			}
		}
		if rv, ok := toRevoke[id]; ok {
			as.RevokedConnectors = rv.sortedConns()
			as.RevokedTasks = rv.sortedTasks()
		}
		out[id] = as
	}
	return out
}

func loads(ids []string, members map[string]Metadata) []*load {
	out := make([]*load, 0, len(ids))
	for _, id := range ids {
		l := &load{worker: id}
		if o := members[id].Owned; o != nil {
			l.conns = append([]string(nil), o.Connectors...)
			l.tasks = append([]TaskID(nil), o.Tasks...)
		}
		out = append(out, l)
	}
	return out
}

func duplicates(ids []string, owned map[string]work) work {
	seen, dup := newWork(), newWork()
	for _, id := range ids {
		for c := range owned[id].conns {
			if seen.conns[c] {
				dup.conns[c] = true
			}
			seen.conns[c] = true
		}
		for t := range owned[id].tasks {
			if seen.tasks[t] {
				dup.tasks[t] = true
			}
			seen.tasks[t] = true
		}
	}
	return dup
}

func intersect(a, b work) work {
	out := newWork()
	for c := range a.conns {
		if b.conns[c] {
			out.conns[c] = true
		}
	}
	for t := range a.tasks {
		if b.tasks[t] {
			out.tasks[t] = true
		}
	}
	return out
}

// balancingRevocations is what to take from overloaded members so that
// each ends with total/n or total/n+1 connectors and tasks.
func balancingRevocations(conf work, next []*load) map[string]work {
	allEmpty := true
	for _, l := range next {
		allEmpty = allEmpty && l.empty()
	}
	if allEmpty || conf.empty() || len(next) == 0 {
		return nil
	}
	out := map[string]work{}
	get := func(w string) work {
		if _, ok := out[w]; !ok {
			out[w] = newWork()
		}
		return out[w]
	}
	conns := revokeExcess(len(conf.conns), next, func(l *load) int { return len(l.conns) })
	for w, n := range conns {
		for _, l := range next {
			if l.worker == w {
				for _, c := range l.conns[:n] {
					get(w).conns[c] = true
				}
			}
		}
	}
	tasks := revokeExcess(len(conf.tasks), next, func(l *load) int { return len(l.tasks) })
	for w, n := range tasks {
		for _, l := range next {
			if l.worker == w {
				for _, t := range l.tasks[:n] {
					get(w).tasks[t] = true
				}
			}
		}
	}
	return out
}

// revokeExcess returns how many of one resource to revoke per worker.
func revokeExcess(total int, next []*load, size func(*load) int) map[string]int {
	n := len(next)
	minPer, extra := total/n, total%n
	atMin, atExtra := 0, 0
	for _, l := range next {
		switch size(l) {
		case minPer:
			atMin++
		case minPer + 1:
			atExtra++
		}
	}
	if atExtra == extra && atMin+atExtra == n {
		return nil
	}
	out := map[string]int{}
	given := 0
	for _, l := range next {
		s := size(l)
		if s <= minPer {
			continue
		}
		limit := minPer
		if given < extra {
			given++
			if s == minPer+1 {
				continue
			}
			limit = minPer + 1
		}
		out[l.worker] = s - limit
	}
	return out
}

// assignConnectors hands connectors out to the least loaded members,
// level by level (Java's assignConnectors).
func assignConnectors(next []*load, conns []string) {
	if len(next) == 0 || len(conns) == 0 {
		return
	}
	sort.SliceStable(next, func(i, j int) bool { return len(next[i].conns) < len(next[j].conns) })
	for i := 0; i < len(conns); {
		first := len(next[0].conns)
		upTo := len(next)
		for k, l := range next {
			if len(l.conns) > first {
				upTo = k
				break
			}
		}
		for _, l := range next[:upTo] {
			if i == len(conns) {
				break
			}
			l.conns = append(l.conns, conns[i])
			i++
		}
	}
	sort.SliceStable(next, func(i, j int) bool { return next[i].worker < next[j].worker })
}

func assignTasks(next []*load, tasks []TaskID) {
	if len(next) == 0 || len(tasks) == 0 {
		return
	}
	sort.SliceStable(next, func(i, j int) bool { return len(next[i].tasks) < len(next[j].tasks) })
	for i := 0; i < len(tasks); {
		first := len(next[0].tasks)
		upTo := len(next)
		for k, l := range next {
			if len(l.tasks) > first {
				upTo = k
				break
			}
		}
		for _, l := range next[:upTo] {
			if i == len(tasks) {
				break
			}
			l.tasks = append(l.tasks, tasks[i])
			i++
		}
	}
	sort.SliceStable(next, func(i, j int) bool { return next[i].worker < next[j].worker })
}

// AssignEager is EagerAssignor: everything round-robin over the members
// sorted by id, connectors first, then tasks, continuing the rotation.
func (a *Assignor) AssignEager(leaderID string, members map[string]Metadata, snap Snapshot) map[string]Assignment {
	out, offset, bad := mismatch(leaderID, members, snap)
	if bad {
		return out
	}
	ids := sortedKeys(members)
	out = make(map[string]Assignment, len(ids))
	for _, id := range ids {
		out[id] = Assignment{Leader: leaderID, LeaderURL: members[leaderID].URL, ConfigOffset: offset}
	}
	if len(ids) == 0 {
		return out
	}
	conns := sortedKeys(snap.Connectors)
	k := 0
	for _, c := range conns {
		as := out[ids[k%len(ids)]]
		as.Connectors = append(as.Connectors, c)
		out[ids[k%len(ids)]] = as
		k++
	}
	for _, c := range conns {
		for t := 0; t < snap.Connectors[c]; t++ {
			as := out[ids[k%len(ids)]]
			as.Tasks = append(as.Tasks, TaskID{c, int32(t)})
			out[ids[k%len(ids)]] = as
			k++
		}
	}
	return out
}
