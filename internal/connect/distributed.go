package connect

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sort"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-streaming/samsa/internal/connect/protocol"
	"github.com/samsa-streaming/samsa/internal/connect/store"
)

// distributed is a distributed worker's part of the herder: the three
// internal topics (internal/connect/store), membership of the connect
// group (internal/connect/protocol), and what the group assigned this
// worker. The herder's configs, targets and taskCfgs mirror the config
// topic (refresh); statuses are read from the status topic, so any
// worker answers for every connector.
type distributed struct {
	h      *Herder
	lg     *slog.Logger
	cfgs   *store.ConfigStore
	offs   *store.OffsetStore
	stats  *store.StatusStore
	member *protocol.Member
	cl     *kgo.Client // the member's client
	// stopStores ends the stores' tailing (their start context).
	stopStores context.CancelFunc

	mu          sync.Mutex // assignment, leader; never held while taking h.mu
	assigned    bool
	conns       map[string]bool
	tasks       map[TaskID]bool
	leaderURL   string
	leader      bool
	lastRestart int64 // offset of the last restart request handled

	prevSnap protocol.Snapshot // the leader's last view, to rejoin on changes

	loggers *loggers          // cluster-scoped levels are applied here
	levels  map[string]string // the cluster-scoped levels applied so far
}

// putLoggerLevel writes a cluster-scoped logger level.
func (d *distributed) putLoggerLevel(namespace, level string) error {
	ctx, cancel := d.ctx()
	defer cancel()
	if err := d.cfgs.PutLoggerLevel(ctx, namespace, level); err != nil {
		return fmt.Errorf("writing the level of %s: %w", namespace, err)
	}
	return nil
}

// applyLevels applies cluster-scoped logger levels not yet applied.
func (d *distributed) applyLevels(snap store.ConfigState) {
	if d.loggers == nil {
		return
	}
	for ns, lv := range snap.LoggerLevels {
		if d.levels[ns] != lv {
			d.levels[ns] = lv
			d.loggers.set(ns, lv)
		}
	}
}

// newDistributed opens the stores (creating the topics when missing) and
// reads them to the end.
func newDistributed(ctx context.Context, h *Herder, opts []kgo.Opt) (*distributed, error) {
	cfg := h.cfg
	d := &distributed{h: h, lg: cfg.Logger, conns: map[string]bool{}, tasks: map[TaskID]bool{}, lastRestart: -1,
		levels: map[string]string{}}
	var err error
	rf := func(k string) int16 { return int16(intProp(cfg.Props, k, 0)) }
	parts := func(k string) int32 { return int32(intProp(cfg.Props, k, 0)) }
	if d.cfgs, err = store.NewConfigStore(opts, store.ConfigStoreConfig{Logger: cfg.Logger, TopicConfig: store.TopicConfig{
		Topic: cfg.ConfigTopic, ReplicationFactor: rf("config.storage.replication.factor")}}); err != nil {
		return nil, err
	}
	if d.offs, err = store.NewOffsetStore(opts, store.OffsetStoreConfig{Logger: cfg.Logger, TopicConfig: store.TopicConfig{
		Topic: cfg.OffsetTopic, Partitions: parts("offset.storage.partitions"), ReplicationFactor: rf("offset.storage.replication.factor")}}); err != nil {
		return nil, err
	}
	if d.stats, err = store.NewStatusStore(opts, store.StatusStoreConfig{Logger: cfg.Logger, TopicConfig: store.TopicConfig{
		Topic: cfg.StatusTopic, Partitions: parts("status.storage.partitions"), ReplicationFactor: rf("status.storage.replication.factor")}}); err != nil {
		return nil, err
	}
	if err := d.cfgs.Start(ctx); err != nil {
		return nil, fmt.Errorf("config topic: %w", err)
	}
	if err := d.offs.Start(ctx); err != nil {
		d.cfgs.Close()
		return nil, fmt.Errorf("offsets topic: %w", err)
	}
	if err := d.stats.Start(ctx); err != nil {
		d.cfgs.Close()
		d.offs.Close()
		return nil, fmt.Errorf("status topic: %w", err)
	}
	if d.cl, err = kgo.NewClient(opts...); err != nil {
		d.closeStores()
		return nil, fmt.Errorf("group client: %w", err)
	}
	d.lastRestart = d.cfgs.Snapshot().Offset // older restart requests were for workers before us
	d.member = protocol.NewMember(d.cl, protocol.MemberConfig{GroupID: cfg.GroupID, URL: h.url,
		Protocol: cfg.Props["connect.protocol"], MaxDelay: cfg.RebalanceDelay, Logger: cfg.Logger,
		SessionTimeout:    time.Duration(intProp(cfg.Props, "session.timeout.ms", 0)) * time.Millisecond,
		HeartbeatInterval: time.Duration(intProp(cfg.Props, "heartbeat.interval.ms", 0)) * time.Millisecond,
		RebalanceTimeout:  time.Duration(intProp(cfg.Props, "rebalance.timeout.ms", 0)) * time.Millisecond,
	}, protocol.Callbacks{Metadata: d.metadata, Snapshot: d.snapshot, Revoked: d.revoked, Assigned: d.assignedCB})
	return d, nil
}

func (d *distributed) closeStores() {
	d.cfgs.Close()
	d.offs.Close()
	d.stats.Close()
}

// run runs the group membership and follows the config topic until ctx
// ends; it owns one goroutine besides its own.
func (d *distributed) run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // stopped by ctx
		defer wg.Done()
		if err := d.member.Run(ctx); err != nil && ctx.Err() == nil {
			d.lg.Error("connect group membership ended", "err", err)
		}
	}()
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			return
		case <-d.cfgs.Updates():
			d.onConfigUpdate()
		}
	}
}

// close stops what the worker runs and closes the stores and clients
// (after run has returned).
func (d *distributed) close() {
	d.cl.Close()
	d.closeStores()
	if d.stopStores != nil {
		d.stopStores()
	}
}

// onConfigUpdate applies the config topic's news: the mirror, restart
// requests, what the worker runs; the leader rejoins when the connectors
// or their task counts changed.
func (d *distributed) onConfigUpdate() {
	h := d.h
	h.mu.Lock()
	defer h.mu.Unlock()
	snap := d.refresh()
	d.handleRestarts(snap)
	d.applyLevels(snap)
	h.reconcileAll()
	as := snap.AssignorSnapshot()
	d.mu.Lock()
	rejoin := d.leader && !maps.Equal(as.Connectors, d.prevSnap.Connectors)
	d.prevSnap = as
	d.mu.Unlock()
	if rejoin {
		d.member.Rejoin()
	}
}

// refresh loads the config topic's state into the herder (caller holds
// h.mu).
func (d *distributed) refresh() store.ConfigState {
	h := d.h
	snap := d.cfgs.Snapshot()
	h.configs = map[string]map[string]string{}
	h.targets = map[string]TargetState{}
	h.taskCfgs = map[string][]map[string]string{}
	for c, props := range snap.Connectors {
		h.configs[c] = maps.Clone(props)
		h.targets[c] = TargetState(snap.TargetState(c))
		if tcs := snap.TaskConfigs(c); tcs != nil {
			h.taskCfgs[c] = tcs
		}
	}
	return snap
}

// handleRestarts runs the restart requests not yet seen (caller holds
// h.mu).
func (d *distributed) handleRestarts(snap store.ConfigState) {
	var reqs []store.RestartRequest
	for _, r := range snap.Restarts {
		if r.Offset > d.lastRestart {
			reqs = append(reqs, r)
		}
	}
	sort.Slice(reqs, func(i, j int) bool { return reqs[i].Offset < reqs[j].Offset })
	for _, r := range reqs {
		d.lastRestart = r.Offset
		if _, ok := d.h.configs[r.Connector]; ok {
			d.h.restartOwned(r.Connector, r.IncludeTasks, r.OnlyFailed)
		}
	}
}

// reconcileAll reconciles every connector configured or running here
// (caller holds mu).
func (h *Herder) reconcileAll() {
	names := map[string]bool{}
	for n := range h.configs {
		names[n] = true
	}
	h.w.mu.Lock()
	for n := range h.w.conns {
		names[n] = true
	}
	for id := range h.w.tasks {
		names[id.Connector] = true
	}
	h.w.mu.Unlock()
	for n := range names {
		h.reconcile(n, false)
	}
}

// Member callbacks (on the member's goroutine).

func (d *distributed) metadata() protocol.Metadata {
	return protocol.Metadata{URL: d.h.url, ConfigOffset: d.cfgs.Snapshot().Offset}
}

func (d *distributed) snapshot() protocol.Snapshot {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.cfgs.ReadToEnd(ctx); err != nil {
		d.lg.Warn("reading the config topic", "err", err)
	}
	s := d.cfgs.Snapshot().AssignorSnapshot()
	d.mu.Lock()
	d.prevSnap = s
	d.mu.Unlock()
	return s
}

func (d *distributed) revoked(a protocol.Assignment) {
	d.mu.Lock()
	for _, c := range a.RevokedConnectors {
		delete(d.conns, c)
	}
	for _, t := range a.RevokedTasks {
		delete(d.tasks, TaskID{t.Connector, t.Task})
	}
	d.mu.Unlock()
	h := d.h
	h.mu.Lock()
	defer h.mu.Unlock()
	h.reconcileAll()
}

func (d *distributed) assignedCB(gen int32, a protocol.Assignment) {
	if a.Error != 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		d.cfgs.ReadToEnd(ctx)
		cancel()
		return
	}
	d.mu.Lock()
	d.assigned = true
	d.leaderURL = a.LeaderURL
	d.leader = d.member.IsLeader()
	d.conns = map[string]bool{}
	for _, c := range a.Connectors {
		d.conns[c] = true
	}
	d.tasks = map[TaskID]bool{}
	for _, t := range a.Tasks {
		d.tasks[TaskID{t.Connector, t.Task}] = true
	}
	d.mu.Unlock()
	if a.ConfigOffset > d.cfgs.Snapshot().Offset {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		d.cfgs.ReadToEnd(ctx)
		cancel()
	}
	d.lg.Info("connect group assignment", "generation", gen, "leader", d.member.IsLeader(), "connectors", a.Connectors, "tasks", len(a.Tasks))
	h := d.h
	h.mu.Lock()
	defer h.mu.Unlock()
	d.refresh()
	h.reconcileAll()
}

func (d *distributed) ownsConnector(c string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.conns[c]
}

func (d *distributed) ownsTask(id TaskID) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.tasks[id]
}

// leaderNow says where writes go: this worker (leader), another URL, or
// nowhere yet (a rebalance is under way).
func (d *distributed) leaderNow() (self bool, url string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.assigned || d.leaderURL == "" {
		return false, ""
	}
	return d.leaderURL == d.h.url, d.leaderURL
}

// catchUp reads the config topic to the end and refreshes the mirror.
func (d *distributed) catchUp() {
	ctx, cancel := d.ctx()
	defer cancel()
	d.h.mu.Lock()
	defer d.h.mu.Unlock()
	if err := d.readBack(ctx); err != nil {
		d.lg.Warn("catching up with the config topic", "err", err)
	}
}

// Writes (caller holds h.mu): to the config topic, then read back so the
// mirror has them.

func (d *distributed) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 30*time.Second)
}

func (d *distributed) readBack(ctx context.Context) error {
	if err := d.cfgs.ReadToEnd(ctx); err != nil {
		return fmt.Errorf("reading the config topic: %w", err)
	}
	d.refresh()
	return nil
}

func (d *distributed) writeConnector(name string, cfg map[string]string, initial TargetState) error {
	ctx, cancel := d.ctx()
	defer cancel()
	if err := d.cfgs.PutConnectorConfig(ctx, name, cfg, string(initial)); err != nil {
		return fmt.Errorf("writing connector %s: %w", name, err)
	}
	return d.readBack(ctx)
}

func (d *distributed) writeTarget(name string, ts TargetState) error {
	ctx, cancel := d.ctx()
	defer cancel()
	if err := d.cfgs.PutTargetState(ctx, name, string(ts)); err != nil {
		return fmt.Errorf("writing target state of %s: %w", name, err)
	}
	return d.readBack(ctx)
}

func (d *distributed) writeDelete(name string) error {
	ctx, cancel := d.ctx()
	defer cancel()
	if err := d.cfgs.RemoveConnector(ctx, name); err != nil {
		return fmt.Errorf("deleting connector %s: %w", name, err)
	}
	if err := d.stats.DeleteConnector(ctx, name); err != nil {
		d.lg.Warn("deleting statuses", "connector", name, "err", err)
	}
	return d.readBack(ctx)
}

func (d *distributed) writeTasks(name string, tcs []map[string]string) error {
	ctx, cancel := d.ctx()
	defer cancel()
	if err := d.cfgs.PutTaskConfigs(ctx, name, tcs); err != nil {
		return fmt.Errorf("writing task configs of %s: %w", name, err)
	}
	return d.readBack(ctx)
}

func (d *distributed) requestRestart(name string, includeTasks, onlyFailed bool) error {
	ctx, cancel := d.ctx()
	defer cancel()
	return d.cfgs.RequestRestart(ctx, store.RestartRequest{Connector: name, IncludeTasks: includeTasks, OnlyFailed: onlyFailed})
}

// Statuses.

func (d *distributed) putConnectorStatus(name string, st State, trace string) {
	ctx, cancel := d.ctx()
	defer cancel()
	if err := d.stats.PutConnector(ctx, name, store.Status{State: string(st), Trace: trace, WorkerID: d.h.workerID, Generation: d.member.Generation()}); err != nil {
		d.lg.Warn("writing connector status", "connector", name, "err", err)
	}
}

func (d *distributed) putTaskStatus(id TaskID, st State, trace string) {
	ctx, cancel := d.ctx()
	defer cancel()
	pid := protocol.TaskID{Connector: id.Connector, Task: id.Task}
	if err := d.stats.PutTask(ctx, pid, store.Status{State: string(st), Trace: trace, WorkerID: d.h.workerID, Generation: d.member.Generation()}); err != nil {
		d.lg.Warn("writing task status", "task", id.String(), "err", err)
	}
}

func (d *distributed) putTopic(connector, topic string) {
	ctx, cancel := d.ctx()
	defer cancel()
	if err := d.stats.PutTopic(ctx, store.TopicStatus{Topic: topic, Connector: connector, DiscoverTimestamp: time.Now().UnixMilli()}); err != nil {
		d.lg.Warn("writing topic status", "connector", connector, "err", err)
	}
}

func (d *distributed) topics(name string) []string {
	out := []string{}
	for t := range d.stats.All().Topics[name] {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

func (d *distributed) resetTopics(name string) error {
	ctx, cancel := d.ctx()
	defer cancel()
	return d.stats.DeleteTopics(ctx, name)
}

func stateInfo(s store.Status, id *int32) StateInfo {
	return StateInfo{ID: id, State: State(s.State), WorkerID: s.WorkerID, Trace: s.Trace}
}

// status builds a connector's status from the status topic.
func (d *distributed) status(name, typ string) ConnectorStatus {
	all := d.stats.All()
	out := ConnectorStatus{Name: name, Type: typ, Tasks: []StateInfo{},
		Connector: StateInfo{State: StateUnassigned}}
	if s, ok := all.Connectors[name]; ok {
		out.Connector = stateInfo(s, nil)
	}
	n := len(d.h.taskCfgs[name])
	for id, s := range all.Tasks {
		if id.Connector == name && int(id.Task) < n {
			t := id.Task
			out.Tasks = append(out.Tasks, stateInfo(s, &t))
		}
	}
	sort.Slice(out.Tasks, func(i, j int) bool { return *out.Tasks[i].ID < *out.Tasks[j].ID })
	return out
}

func (d *distributed) taskStatus(id TaskID) (StateInfo, bool) {
	if int(id.Task) >= len(d.h.taskCfgs[id.Connector]) {
		return StateInfo{}, false
	}
	s, ok := d.stats.Task(protocol.TaskID{Connector: id.Connector, Task: id.Task})
	if !ok {
		return StateInfo{}, false
	}
	t := id.Task
	return stateInfo(s, &t), true
}

// offsetStore adapts store.OffsetStore to the worker's offsetBackend and
// to exactly-once sources' transactions.
type offsetStore struct{ s *store.OffsetStore }

func (o offsetStore) Get(connector string, partition map[string]any) (map[string]any, error) {
	v, _ := o.s.Get(connector, partition)
	return v, nil
}

func (o offsetStore) All(connector string) ([]OffsetEntry, error) {
	var out []OffsetEntry
	for _, e := range o.s.All(connector) {
		out = append(out, OffsetEntry{Partition: e.Partition, Offset: e.Offset})
	}
	return out, nil
}

func (o offsetStore) Put(ctx context.Context, connector string, es []OffsetEntry) error {
	so := make([]store.SourceOffset, len(es))
	for i, e := range es {
		so[i] = store.SourceOffset{Partition: e.Partition, Offset: e.Offset}
	}
	if err := o.s.Put(ctx, connector, so); err != nil {
		return err
	}
	return o.s.ReadToEnd(ctx)
}

func (o offsetStore) OffsetRecords(connector string, es []OffsetEntry) ([]*kgo.Record, error) {
	out := make([]*kgo.Record, 0, len(es))
	for _, e := range es {
		if e.Partition == nil {
			return nil, errors.New("source record without a source partition")
		}
		out = append(out, &kgo.Record{Topic: o.s.Topic(), Key: o.s.KeyFor(connector, e.Partition), Value: store.EncodeOffsetValue(e.Offset)})
	}
	return out, nil
}

func (o offsetStore) Committed(string, []OffsetEntry) {}
