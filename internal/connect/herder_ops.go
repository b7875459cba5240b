package connect

import (
	"context"
	"fmt"
	"maps"
	"sort"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"

	pub "github.com/samsa-streaming/samsa/connect"
)

// Connectors lists the connectors' names, sorted.
func (h *Herder) Connectors() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]string, 0, len(h.configs))
	for n := range h.configs {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func (h *Herder) exists(name string) error {
	if _, ok := h.configs[name]; !ok {
		return notFound("Connector %s not found", name)
	}
	return nil
}

// Info is GET /connectors/{c}.
func (h *Herder) Info(name string) (ConnectorInfo, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.exists(name); err != nil {
		return ConnectorInfo{}, err
	}
	return h.info(name), nil
}

// ConnectorConfig is GET /connectors/{c}/config.
func (h *Herder) ConnectorConfig(name string) (map[string]string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.exists(name); err != nil {
		return nil, err
	}
	return maps.Clone(h.configs[name]), nil
}

// Put creates or replaces a connector's configuration. With replace
// unset an existing connector is a conflict; initial is the target state
// of a new connector (STARTED when empty). created says whether it is
// new.
func (h *Herder) Put(name string, cfg map[string]string, replace bool, initial TargetState) (bool, ConnectorInfo, error) {
	if err := h.checkConfig(cfg); err != nil {
		return false, ConnectorInfo{}, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	_, had := h.configs[name]
	if had && !replace {
		return false, ConnectorInfo{}, conflict("Connector %s already exists", name)
	}
	if !had && initial == "" {
		initial = TargetStarted
	}
	if had {
		initial = ""
	}
	if err := h.saveConnector(name, cfg, initial); err != nil {
		return false, ConnectorInfo{}, err
	}
	h.reconcile(name, false)
	return !had, h.info(name), nil
}

// Patch is PATCH /connectors/{c}/config: set the given keys, remove
// those given as null.
func (h *Herder) Patch(name string, patch map[string]*string) (ConnectorInfo, error) {
	h.mu.Lock()
	cur, ok := h.configs[name]
	h.mu.Unlock()
	if !ok {
		return ConnectorInfo{}, notFound("Connector %s not found", name)
	}
	next := maps.Clone(cur)
	for k, v := range patch {
		if v == nil {
			delete(next, k)
		} else {
			next[k] = *v
		}
	}
	if err := h.checkConfig(next); err != nil {
		return ConnectorInfo{}, err
	}
	_, info, err := h.Put(name, next, true, "")
	return info, err
}

// Delete removes a connector (its offsets stay, as in Java).
func (h *Herder) Delete(name string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.exists(name); err != nil {
		return err
	}
	if err := h.saveDelete(name); err != nil {
		return err
	}
	h.reconcile(name, false)
	return nil
}

// saveConnector stores a connector's config, and its target state when
// initial is set (caller holds mu).
func (h *Herder) saveConnector(name string, cfg map[string]string, initial TargetState) error {
	if h.dist != nil {
		return h.dist.writeConnector(name, cfg, initial)
	}
	h.configs[name] = maps.Clone(cfg)
	if initial != "" {
		h.targets[name] = initial
		if initial == TargetStopped {
			h.taskCfgs[name] = []map[string]string{}
		}
	}
	return nil
}

func (h *Herder) saveDelete(name string) error {
	if h.dist != nil {
		return h.dist.writeDelete(name)
	}
	delete(h.configs, name)
	delete(h.targets, name)
	return nil
}

func (h *Herder) saveTarget(name string, ts TargetState) error {
	if h.dist != nil {
		return h.dist.writeTarget(name, ts)
	}
	h.targets[name] = ts
	return nil
}

// Status is GET /connectors/{c}/status.
func (h *Herder) Status(name string) (ConnectorStatus, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.configs[name]; !ok {
		return ConnectorStatus{}, notFound("No status found for connector %s", name)
	}
	if h.dist != nil {
		return h.withVersion(h.dist.status(name, h.typeOf(h.configs[name]))), nil
	}
	return h.withVersion(h.status(name)), nil
}

// pluginVersion is the version of a connector's plugin (caller holds
// mu).
func (h *Herder) pluginVersion(name string) string {
	if p, ok := lookupPlugin(h.cfg.Plugins, h.configs[name]["connector.class"]); ok && p.Version != "" {
		return p.Version
	}
	return Version
}

// withVersion fills the versions of a status (caller holds mu).
func (h *Herder) withVersion(st ConnectorStatus) ConnectorStatus {
	v := h.pluginVersion(st.Name)
	st.Connector.Version = v
	for i := range st.Tasks {
		st.Tasks[i].Version = v
	}
	return st
}

// TaskStatus is GET /connectors/{c}/tasks/{n}/status.
func (h *Herder) TaskStatus(id TaskID) (StateInfo, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.dist != nil {
		if _, ok := h.configs[id.Connector]; ok {
			if st, ok := h.dist.taskStatus(id); ok {
				st.Version = h.pluginVersion(id.Connector)
				return st, nil
			}
		}
		return StateInfo{}, notFound("No status found for task %s", id)
	}
	h.stMu.Lock()
	defer h.stMu.Unlock()
	st, ok := h.taskStatus[id]
	if !ok {
		return StateInfo{}, notFound("No status found for task %s", id)
	}
	st.Version = h.pluginVersion(id.Connector)
	return st, nil
}

// Tasks is GET /connectors/{c}/tasks.
func (h *Herder) Tasks(name string) ([]TaskInfo, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.exists(name); err != nil {
		return nil, err
	}
	out := []TaskInfo{}
	for i, tc := range h.taskCfgs[name] {
		out = append(out, TaskInfo{ID: TaskID{name, int32(i)}, Config: maps.Clone(tc)})
	}
	return out, nil
}

// SetTarget pauses, resumes or stops a connector.
func (h *Herder) SetTarget(name string, ts TargetState) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.exists(name); err != nil {
		return err
	}
	if h.targets[name] == ts {
		return nil
	}
	if err := h.saveTarget(name, ts); err != nil {
		return err
	}
	h.reconcile(name, false)
	return nil
}

// RestartConnector restarts the connector instance only (POST restart
// without parameters).
func (h *Herder) RestartConnector(name string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.exists(name); err != nil {
		return err
	}
	if h.dist != nil && !h.ownsConnector(name) {
		return h.dist.requestRestart(name, false, false)
	}
	h.reconcile(name, true)
	return nil
}

// Restart restarts the connector and (includeTasks) its tasks, or only
// the failed ones (onlyFailed), and returns the status as it was when the
// restart began, with what restarts marked RESTARTING. Distributed, the
// request goes through the config topic to the workers owning them.
func (h *Herder) Restart(name string, includeTasks, onlyFailed bool) (ConnectorStatus, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.configs[name]; !ok {
		return ConnectorStatus{}, notFound("Unknown connector: %s", name)
	}
	st := h.status(name)
	if h.dist != nil {
		st = h.dist.status(name, h.typeOf(h.configs[name]))
	}
	restartConn := !onlyFailed || st.Connector.State == StateFailed
	if restartConn {
		st.Connector.State, st.Connector.Trace = StateRestarting, ""
	}
	if includeTasks {
		for i, t := range st.Tasks {
			if !onlyFailed || t.State == StateFailed {
				st.Tasks[i].State, st.Tasks[i].Trace = StateRestarting, ""
			}
		}
	}
	st = h.withVersion(st)
	if h.dist != nil {
		return st, h.dist.requestRestart(name, includeTasks, onlyFailed)
	}
	h.restartOwned(name, includeTasks, onlyFailed)
	return st, nil
}

// restartOwned restarts what this worker owns of a restart request
// (caller holds mu).
func (h *Herder) restartOwned(name string, includeTasks, onlyFailed bool) {
	h.stMu.Lock()
	connFailed := h.connStatus[name].State == StateFailed
	var tasks []TaskID
	for id, t := range h.taskStatus {
		if id.Connector == name && includeTasks && (!onlyFailed || t.State == StateFailed) {
			tasks = append(tasks, id)
		}
	}
	h.stMu.Unlock()
	restartConn := h.ownsConnector(name) && (!onlyFailed || connFailed)
	if restartConn {
		h.w.startConnector(h, name, h.configs[name], h.targets[name])
	}
	for _, id := range tasks {
		h.w.stopTask(id)
		h.forgetTask(id)
	}
	h.reconcileTasks(name, restartConn)
}

// RestartTask is POST /connectors/{c}/tasks/{n}/restart.
func (h *Herder) RestartTask(id TaskID) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.configs[id.Connector]; !ok {
		return notFound("Connector %s not found", id.Connector)
	}
	tcs := h.taskCfgs[id.Connector]
	if id.Task < 0 || int(id.Task) >= len(tcs) {
		return notFound("Task %s not found", id)
	}
	if !h.ownsTask(id) {
		st, ok := h.dist.taskStatus(id)
		if !ok || st.WorkerID == "" {
			return errRebalance
		}
		return &notLeader{leaderURL: "http://" + st.WorkerID}
	}
	h.w.stopTask(id)
	h.forgetTask(id)
	h.startTask(id, h.configs[id.Connector], tcs[id.Task], h.targets[id.Connector])
	return nil
}

// Topics is GET /connectors/{c}/topics (as Java, an unknown connector
// has no topics rather than a 404).
func (h *Herder) Topics(name string) ([]string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.dist != nil {
		return h.dist.topics(name), nil
	}
	h.stMu.Lock()
	defer h.stMu.Unlock()
	out := []string{}
	for t := range h.topics[name] {
		out = append(out, t)
	}
	sort.Strings(out)
	return out, nil
}

// ResetTopics is PUT /connectors/{c}/topics/reset (as Java, also for a
// connector that does not exist).
func (h *Herder) ResetTopics(name string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stMu.Lock()
	delete(h.topics, name)
	h.stMu.Unlock()
	if h.dist != nil {
		return h.dist.resetTopics(name)
	}
	return nil
}

// Offsets is GET /connectors/{c}/offsets: the source offsets, or a sink's
// consumer group offsets ({kafka_topic, kafka_partition} → {kafka_offset}).
func (h *Herder) Offsets(ctx context.Context, name string) (Offsets, error) {
	h.mu.Lock()
	cfg, ok := h.configs[name]
	h.mu.Unlock()
	if !ok {
		return Offsets{}, notFound("Connector %s not found", name)
	}
	if h.typeOf(cfg) == "sink" {
		return h.sinkOffsets(ctx, name)
	}
	es, err := h.offsets.All(name)
	if err != nil {
		return Offsets{}, err
	}
	if es == nil {
		es = []OffsetEntry{}
	}
	return Offsets{Offsets: es}, nil
}

func (h *Herder) sinkOffsets(ctx context.Context, name string) (Offsets, error) {
	out := Offsets{Offsets: []OffsetEntry{}}
	resp, err := kadm.NewClient(h.admin).FetchOffsets(ctx, "connect-"+name)
	if err != nil {
		return out, fmt.Errorf("fetch offsets of group connect-%s: %w", name, err)
	}
	resp.Each(func(o kadm.OffsetResponse) {
		if o.Err != nil || o.At < 0 {
			return
		}
		out.Offsets = append(out.Offsets, OffsetEntry{
			Partition: map[string]any{"kafka_topic": o.Topic, "kafka_partition": o.Partition},
			Offset:    map[string]any{"kafka_offset": o.At}})
	})
	return out, nil
}

// stoppedForOffsets checks that a connector may have its offsets changed
// (caller holds mu).
func (h *Herder) stoppedForOffsets(name string) error {
	if err := h.exists(name); err != nil {
		return err
	}
	if h.targets[name] != TargetStopped || len(h.taskCfgs[name]) != 0 {
		return badRequest("Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/%s/stop' endpoint", name)
	}
	return nil
}

// AlterOffsets is PATCH /connectors/{c}/offsets.
func (h *Herder) AlterOffsets(ctx context.Context, name string, o Offsets) (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.stoppedForOffsets(name); err != nil {
		return "", err
	}
	if h.typeOf(h.configs[name]) == "sink" {
		return h.alterSinkOffsets(ctx, name, o.Offsets)
	}
	for _, e := range o.Offsets {
		if e.Partition == nil {
			return "", badRequest("Source partitions may not be null")
		}
	}
	known, err := h.alterSource(name, o.Offsets)
	if err != nil {
		return "", err
	}
	if err := h.offsets.Put(ctx, name, o.Offsets); err != nil {
		return "", err
	}
	return offsetsMsg(known, "altered"), nil
}

// alterSource asks a source connector implementing SourceOffsetAlterer
// whether the change is right (an error is a 400) and whether it knows
// the offsets are now in effect.
func (h *Herder) alterSource(name string, es []OffsetEntry) (bool, error) {
	p, err := lookupConnector(h.cfg.Plugins, h.configs[name])
	if err != nil {
		return false, err
	}
	a, ok := p.New().(pub.SourceOffsetAlterer)
	if !ok {
		return false, nil
	}
	in := make([]pub.SourcePartitionOffset, len(es))
	for i, e := range es {
		in[i] = pub.SourcePartitionOffset{Partition: e.Partition, Offset: e.Offset}
	}
	var known bool
	err = safeCall("connector alterOffsets", func() (err error) {
		known, err = a.AlterSourceOffsets(maps.Clone(h.configs[name]), in)
		return err
	})
	if err != nil {
		return false, badRequest("Failed to alter offsets for connector %s: %s", name, err.Error())
	}
	return known, nil
}

// offsetsMsg is Java's answer to an offsets change.
func offsetsMsg(known bool, what string) string {
	if known {
		return "The offsets for this connector have been " + what + " successfully"
	}
	return frameworkMsg(what)
}

func frameworkMsg(what string) string {
	return "The Connect framework-managed offsets for this connector have been " + what +
		" successfully. However, if this connector manages offsets externally, they will need to be manually " +
		what + " in the system that the connector uses."
}

func (h *Herder) alterSinkOffsets(ctx context.Context, name string, es []OffsetEntry) (string, error) {
	adm := kadm.NewClient(h.admin)
	set := kadm.Offsets{}
	var del []string
	for _, e := range es {
		t, _ := e.Partition["kafka_topic"].(string)
		p, pok := e.Partition["kafka_partition"].(float64)
		if t == "" || !pok {
			return "", badRequest("Partitions must contain the keys kafka_topic and kafka_partition")
		}
		if e.Offset == nil {
			del = append(del, t)
			continue
		}
		o, ok := e.Offset["kafka_offset"].(float64)
		if !ok {
			return "", badRequest("Offsets must contain the key kafka_offset")
		}
		set.Add(kadm.Offset{Topic: t, Partition: int32(p), At: int64(o), LeaderEpoch: -1})
	}
	known, err := h.alterSink(name, es)
	if err != nil {
		return "", err
	}
	if len(set) > 0 {
		resp, err := adm.CommitOffsets(ctx, "connect-"+name, set)
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			return "", fmt.Errorf("alter offsets of group connect-%s: %w", name, err)
		}
	}
	if len(del) > 0 {
		ts := kadm.TopicsSet{}
		for _, e := range es {
			if e.Offset == nil {
				ts.Add(e.Partition["kafka_topic"].(string), int32(e.Partition["kafka_partition"].(float64)))
			}
		}
		if _, err := adm.DeleteOffsets(ctx, "connect-"+name, ts); err != nil {
			return "", fmt.Errorf("delete offsets of group connect-%s: %w", name, err)
		}
	}
	return offsetsMsg(known, "altered"), nil
}

// alterSink is alterSource for SinkOffsetAlterer (entries already
// checked).
func (h *Herder) alterSink(name string, es []OffsetEntry) (bool, error) {
	p, err := lookupConnector(h.cfg.Plugins, h.configs[name])
	if err != nil {
		return false, err
	}
	a, ok := p.New().(pub.SinkOffsetAlterer)
	if !ok {
		return false, nil
	}
	in := map[pub.TopicPartition]*int64{}
	for _, e := range es {
		tp := pub.TopicPartition{Topic: e.Partition["kafka_topic"].(string), Partition: int32(e.Partition["kafka_partition"].(float64))}
		in[tp] = nil
		if o, ok := e.Offset["kafka_offset"].(float64); ok {
			n := int64(o)
			in[tp] = &n
		}
	}
	var known bool
	err = safeCall("connector alterOffsets", func() (err error) {
		known, err = a.AlterSinkOffsets(maps.Clone(h.configs[name]), in)
		return err
	})
	if err != nil {
		return false, badRequest("Failed to alter offsets for connector %s: %s", name, err.Error())
	}
	return known, nil
}

// ResetOffsets is DELETE /connectors/{c}/offsets.
func (h *Herder) ResetOffsets(ctx context.Context, name string) (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.stoppedForOffsets(name); err != nil {
		return "", err
	}
	if h.typeOf(h.configs[name]) == "sink" {
		if _, err := kadm.NewClient(h.admin).DeleteGroup(ctx, "connect-"+name); err != nil && !strings.Contains(err.Error(), "GROUP_ID_NOT_FOUND") {
			return "", fmt.Errorf("reset offsets of group connect-%s: %w", name, err)
		}
		return "The offsets for this connector have been reset successfully", nil
	}
	es, err := h.offsets.All(name)
	if err != nil {
		return "", err
	}
	for i := range es {
		es[i].Offset = nil
	}
	known, err := h.alterSource(name, es)
	if err != nil {
		return "", err
	}
	if err := h.offsets.Put(ctx, name, es); err != nil {
		return "", err
	}
	return offsetsMsg(known, "reset"), nil
}
