package connect

import (
	"context"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Herder owns the connectors' configurations, target states and task
// configurations, keeps the worker running what they say, and keeps the
// statuses the REST API shows. Every change runs under mu, one at a time
// (Java's herder thread); statuses have their own lock because tasks
// report from their goroutines.
//
// Standalone (dist nil), the cluster is this worker: the configurations
// live in memory (loaded from property files or created over REST) and
// offsets in the offset file. Distributed (distributed.go), configs,
// target states and task configs mirror the config topic, statuses live
// in the status topic, and the worker runs what the group assigns it.
type Herder struct {
	cfg      *Config
	lg       interface{ Warn(string, ...any) }
	w        *worker
	offsets  offsetBackend
	workerID string
	url      string       // this worker's REST URL (group metadata, forwarding)
	admin    *kgo.Client  // group offsets of sink connectors
	dist     *distributed // nil for a standalone worker

	mu       sync.Mutex
	configs  map[string]map[string]string
	targets  map[string]TargetState
	taskCfgs map[string][]map[string]string

	stMu       sync.Mutex
	connStatus map[string]StateInfo
	taskStatus map[TaskID]StateInfo
	topics     map[string]map[string]bool

	reconf chan string // connectors asking for new task configs
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newHerder(cfg *Config, url string, offsets offsetBackend, admin *kgo.Client) *Herder {
	workerID := strings.TrimPrefix(strings.TrimPrefix(url, "http://"), "https://")
	h := &Herder{cfg: cfg, lg: cfg.Logger, offsets: offsets, workerID: workerID, url: url, admin: admin,
		configs: map[string]map[string]string{}, targets: map[string]TargetState{},
		taskCfgs: map[string][]map[string]string{}, connStatus: map[string]StateInfo{},
		taskStatus: map[TaskID]StateInfo{}, topics: map[string]map[string]bool{},
		reconf: make(chan string, 64)}
	h.w = newWorker(workerID, cfg, offsets, h)
	return h
}

// start runs the loop that serves task reconfiguration requests.
func (h *Herder) start() {
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	if h.dist != nil {
		h.wg.Add(1)
		go func() { // stopped by close (cancel)
			defer h.wg.Done()
			h.dist.run(ctx)
		}()
	}
	h.wg.Add(1)
	go func() { // stopped by close (cancel)
		defer h.wg.Done()
		for {
			select {
			case <-ctx.Done():
				return
			case name := <-h.reconf:
				h.mu.Lock()
				if _, ok := h.configs[name]; ok {
					h.reconcileTasks(name, true)
				}
				h.mu.Unlock()
			}
		}
	}()
}

// close stops every task and connector.
func (h *Herder) close() {
	if h.cancel != nil {
		h.cancel()
	}
	h.wg.Wait()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.w.close()
	if h.dist != nil {
		h.dist.close()
	}
}

func (h *Herder) requestReconfigure(name string) {
	select {
	case h.reconf <- name:
	default:
	}
}

// connectorState and taskState record what the worker reports.
func (h *Herder) connectorState(name string, st State, trace string) {
	h.stMu.Lock()
	h.connStatus[name] = StateInfo{State: st, WorkerID: h.workerID, Trace: trace}
	h.stMu.Unlock()
	if h.dist != nil {
		h.dist.putConnectorStatus(name, st, trace)
	}
}

func (h *Herder) taskState(id TaskID, st State, trace string) {
	h.stMu.Lock()
	defer h.stMu.Unlock()
	if _, ok := h.taskStatus[id]; !ok { // stopped and forgotten
		return
	}
	n := id.Task
	h.taskStatus[id] = StateInfo{ID: &n, State: st, WorkerID: h.workerID, Trace: trace}
	if h.dist != nil {
		h.dist.putTaskStatus(id, st, trace)
	}
}

func (h *Herder) topicUsed(connector, topic string) {
	h.stMu.Lock()
	defer h.stMu.Unlock()
	m := h.topics[connector]
	if m == nil {
		m = map[string]bool{}
		h.topics[connector] = m
	}
	if !m[topic] && h.dist != nil {
		h.dist.putTopic(connector, topic)
	}
	m[topic] = true
}

func (h *Herder) ownsConnector(name string) bool { return h.dist == nil || h.dist.ownsConnector(name) }
func (h *Herder) ownsTask(id TaskID) bool        { return h.dist == nil || h.dist.ownsTask(id) }

// reconcile makes the worker run connector name as its configuration and
// target state say (caller holds mu). restart forces a new instance.
func (h *Herder) reconcile(name string, restart bool) {
	cfg, ok := h.configs[name]
	if !ok {
		for _, id := range h.w.runningTasks(name) {
			h.w.stopTask(id)
		}
		h.w.stopConnector(name)
		h.stMu.Lock()
		delete(h.connStatus, name)
		for id := range h.taskStatus {
			if id.Connector == name {
				delete(h.taskStatus, id)
			}
		}
		delete(h.topics, name)
		h.stMu.Unlock()
		delete(h.taskCfgs, name)
		return
	}
	ts := h.targets[name]
	cr := h.w.connector(name)
	if !h.ownsConnector(name) {
		if cr != nil {
			h.w.stopConnector(name)
		}
		h.reconcileTasks(name, false)
		return
	}
	fresh := restart || cr == nil || !maps.Equal(cr.props, cfg)
	if fresh {
		h.w.startConnector(h, name, cfg, ts)
	} else {
		h.w.setConnectorTarget(name, ts)
	}
	// Regenerating is harmless (tasks restart only when their configs
	// change) and needed after a resume from STOPPED.
	h.reconcileTasks(name, fresh || ts == TargetStarted)
}

// reconcileTasks regenerates the task configs of a started connector
// this worker owns when regen is set, and runs the owned tasks the
// configs describe (caller holds mu).
func (h *Herder) reconcileTasks(name string, regen bool) {
	ts := h.targets[name]
	cfg := h.configs[name]
	cr := h.w.connector(name)
	switch {
	case ts == TargetStopped && h.ownsConnector(name) && len(h.taskCfgs[name]) > 0:
		h.saveTasks(name, []map[string]string{})
	case regen && ts == TargetStarted && cr != nil && cr.inst != nil:
		max := int(intProp(cfg, "tasks.max", 1))
		if max < 1 {
			max = 1
		}
		tcs, err := h.w.taskConfigs(name, max)
		if err == nil && (!equalConfigs(tcs, h.taskCfgs[name]) || h.taskCfgs[name] == nil) {
			h.saveTasks(name, tcs)
		}
	}
	tcs := h.taskCfgs[name]
	running := map[int32]bool{}
	var stop []TaskID
	for _, id := range h.w.runningTasks(name) {
		props, _ := h.w.taskProps(id)
		if int(id.Task) >= len(tcs) || ts == TargetStopped || !h.ownsTask(id) || !maps.Equal(props, tcs[id.Task]) {
			stop = append(stop, id)
			continue
		}
		running[id.Task] = true
		h.w.setTaskTarget(id, ts)
	}
	h.w.stopTasks(stop)
	for _, id := range stop {
		h.forgetTask(id)
	}
	if ts == TargetStopped {
		return
	}
	for i, tc := range tcs {
		id := TaskID{name, int32(i)}
		if !running[int32(i)] && h.ownsTask(id) {
			h.startTask(id, cfg, tc, ts)
		}
	}
}

// saveTasks stores new task configs (caller holds mu).
func (h *Herder) saveTasks(name string, tcs []map[string]string) {
	if h.dist == nil {
		h.taskCfgs[name] = tcs
		return
	}
	if err := h.dist.writeTasks(name, tcs); err != nil {
		h.lg.Warn("writing task configs", "connector", name, "err", err)
	}
}

func (h *Herder) startTask(id TaskID, cfg, tc map[string]string, ts TargetState) {
	st := StateRunning
	if ts == TargetPaused {
		st = StatePaused
	}
	n := id.Task
	h.stMu.Lock()
	h.taskStatus[id] = StateInfo{ID: &n, State: st, WorkerID: h.workerID}
	h.stMu.Unlock()
	h.w.startTask(id, cfg, tc, ts)
}

func (h *Herder) forgetTask(id TaskID) {
	h.stMu.Lock()
	delete(h.taskStatus, id)
	h.stMu.Unlock()
}

func equalConfigs(a, b []map[string]string) bool {
	return slices.EqualFunc(a, b, func(x, y map[string]string) bool { return maps.Equal(x, y) })
}

// status builds a connector's status (caller holds mu).
func (h *Herder) status(name string) ConnectorStatus {
	h.stMu.Lock()
	defer h.stMu.Unlock()
	cs, ok := h.connStatus[name]
	if !ok {
		cs = StateInfo{State: StateUnassigned, WorkerID: h.workerID}
	}
	out := ConnectorStatus{Name: name, Connector: cs, Tasks: []StateInfo{}, Type: h.typeOf(h.configs[name])}
	for id, st := range h.taskStatus {
		if id.Connector == name {
			out.Tasks = append(out.Tasks, st)
		}
	}
	sort.Slice(out.Tasks, func(i, j int) bool { return *out.Tasks[i].ID < *out.Tasks[j].ID })
	return out
}

// typeOf is "source", "sink" or "unknown".
func (h *Herder) typeOf(cfg map[string]string) string {
	p, ok := lookupPlugin(h.cfg.Plugins, cfg["connector.class"])
	if !ok {
		return "unknown"
	}
	return connectorType(string(p.Kind))
}

// info builds a connector's ConnectorInfo (caller holds mu).
func (h *Herder) info(name string) ConnectorInfo {
	tasks := []TaskID{}
	for i := range h.taskCfgs[name] {
		tasks = append(tasks, TaskID{Connector: name, Task: int32(i)})
	}
	return ConnectorInfo{Name: name, Config: maps.Clone(h.configs[name]), Tasks: tasks, Type: h.typeOf(h.configs[name])}
}
