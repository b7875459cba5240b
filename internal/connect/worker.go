package connect

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	pub "github.com/samsa-streaming/samsa/connect"
)

// stateSink hears about state changes of connectors and tasks (the
// herder, which keeps and publishes them).
type stateSink interface {
	connectorState(name string, st State, trace string)
	taskState(id TaskID, st State, trace string)
	topicUsed(connector, topic string)
}

// worker runs connectors and tasks: each connector instance is called
// from the herder's goroutine; each task runs in a goroutine of its own,
// owned by the worker and stopped by stopTask or close.
type worker struct {
	id      string
	cfg     *Config
	lg      *slog.Logger
	offsets offsetBackend
	states  stateSink

	mu    sync.Mutex
	conns map[string]*connRun
	tasks map[TaskID]*taskRun
}

// connRun is one running (or paused, failed) connector instance.
type connRun struct {
	name   string
	props  map[string]string
	plugin *pub.Plugin
	inst   pub.Connector // nil when not started (paused, stopped, failed)
	state  State
	err    error
	herder *Herder
}

func newWorker(id string, cfg *Config, offsets offsetBackend, states stateSink) *worker {
	return &worker{id: id, cfg: cfg, lg: cfg.Logger, offsets: offsets, states: states,
		conns: map[string]*connRun{}, tasks: map[TaskID]*taskRun{}}
}

// safeCall runs f, turning a panic into an error carrying the stack
// (the trace a FAILED status shows).
func safeCall(what string, f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s panicked: %v\n%s", what, r, debug.Stack())
		}
	}()
	return f()
}

// trace renders err as a status trace.
func trace(err error) string {
	if err == nil {
		return ""
	}
	return "org.apache.kafka.connect.errors.ConnectException: " + err.Error()
}

// lookupConnector finds the plugin of a connector configuration.
func lookupConnector(reg *pub.Registry, props map[string]string) (*pub.Plugin, error) {
	class := props["connector.class"]
	p, ok := lookupPlugin(reg, class)
	if !ok || (p.Kind != pub.KindSource && p.Kind != pub.KindSink) {
		return nil, badRequest("Failed to find any class that implements Connector and which name matches %s, available connectors are: %s", class, connectorNames(reg))
	}
	return p, nil
}

func connectorNames(reg *pub.Registry) string {
	var names []string
	for _, p := range reg.Plugins(pub.KindSource, pub.KindSink) {
		names = append(names, p.Class)
	}
	sort.Strings(names)
	return fmt.Sprint(names)
}

// startConnector (re)starts a connector with props in target state ts;
// a PAUSED or STOPPED connector's instance is not started.
func (w *worker) startConnector(h *Herder, name string, props map[string]string, ts TargetState) {
	w.stopConnector(name)
	cr := &connRun{name: name, props: props, herder: h}
	w.mu.Lock()
	w.conns[name] = cr
	w.mu.Unlock()
	w.setConnectorTarget(name, ts)
}

// setConnectorTarget moves a connector to ts.
func (w *worker) setConnectorTarget(name string, ts TargetState) {
	w.mu.Lock()
	cr := w.conns[name]
	w.mu.Unlock()
	if cr == nil {
		return
	}
	switch ts {
	case TargetPaused, TargetStopped:
		w.stopInstance(cr)
		cr.state = StatePaused
		if ts == TargetStopped {
			cr.state = StateStopped
		}
		cr.err = nil
		w.states.connectorState(name, cr.state, "")
		return
	}
	if cr.inst != nil {
		return
	}
	err := w.startInstance(cr)
	if err != nil {
		cr.state, cr.err = StateFailed, err
		w.lg.Warn("connector failed to start", "connector", name, "err", err)
		w.states.connectorState(name, StateFailed, trace(err))
		return
	}
	cr.state, cr.err = StateRunning, nil
	w.states.connectorState(name, StateRunning, "")
}

func (w *worker) startInstance(cr *connRun) error {
	p, err := lookupConnector(w.cfg.Plugins, cr.props)
	if err != nil {
		return err
	}
	cr.plugin = p
	inst, ok := p.New().(pub.Connector)
	if !ok {
		return fmt.Errorf("plugin %s is not a connector", p.Class)
	}
	ctx := &connContext{w: w, name: cr.name, lg: w.lg.With("connector", cr.name)}
	if err := safeCall("connector start", func() error { return inst.Start(ctx, cr.props) }); err != nil {
		return err
	}
	cr.inst = inst
	return nil
}

func (w *worker) stopInstance(cr *connRun) {
	if cr.inst == nil {
		return
	}
	inst := cr.inst
	cr.inst = nil
	if err := safeCall("connector stop", inst.Stop); err != nil {
		w.lg.Warn("connector stop failed", "connector", cr.name, "err", err)
	}
}

// stopConnector stops and forgets a connector instance (not its tasks).
func (w *worker) stopConnector(name string) {
	w.mu.Lock()
	cr := w.conns[name]
	delete(w.conns, name)
	w.mu.Unlock()
	if cr != nil {
		w.stopInstance(cr)
	}
}

// connector returns a connector's run, or nil.
func (w *worker) connector(name string) *connRun {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.conns[name]
}

// taskConfigs asks a running connector for at most max task configs.
func (w *worker) taskConfigs(name string, max int) ([]map[string]string, error) {
	cr := w.connector(name)
	if cr == nil || cr.inst == nil {
		return nil, fmt.Errorf("connector %s is not running", name)
	}
	var out []map[string]string
	err := safeCall("connector taskConfigs", func() (err error) {
		out, err = cr.inst.TaskConfigs(max)
		return err
	})
	if err != nil {
		cr.state, cr.err = StateFailed, err
		w.states.connectorState(name, StateFailed, trace(err))
		return nil, err
	}
	if len(out) > max {
		out = out[:max]
	}
	// As Java: task.class names the task, and sink tasks get the
	// connector's topics.
	taskClass := strings.TrimSuffix(cr.plugin.Class, "Connector") + "Task"
	for i := range out {
		if out[i] == nil {
			out[i] = map[string]string{}
		}
		out[i]["task.class"] = taskClass
		if cr.plugin.Kind == pub.KindSink {
			for _, k := range []string{"topics", "topics.regex"} {
				if v, ok := cr.props[k]; ok {
					out[i][k] = v
				}
			}
		}
	}
	return out, nil
}

// connContext is a connector's ConnectorContext.
type connContext struct {
	w    *worker
	name string
	lg   *slog.Logger
}

func (c *connContext) RequestTaskReconfiguration() {
	w := c.w
	if cr := w.connector(c.name); cr != nil && cr.herder != nil {
		cr.herder.requestReconfigure(c.name)
	}
}

func (c *connContext) RaiseError(err error) {
	if cr := c.w.connector(c.name); cr != nil {
		cr.state, cr.err = StateFailed, err
	}
	c.w.states.connectorState(c.name, StateFailed, trace(err))
}

func (c *connContext) Logger() *slog.Logger { return c.lg }

// taskRun is one running task: its goroutine, its pause switch.
type taskRun struct {
	id     TaskID
	props  map[string]string // task config
	conn   map[string]string // connector config
	cancel context.CancelFunc
	done   chan struct{}

	mu     sync.Mutex
	paused bool
	wake   chan struct{} // closed and replaced when paused changes
}

func (t *taskRun) setPaused(p bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.paused != p {
		t.paused = p
		close(t.wake)
		t.wake = make(chan struct{})
	}
}

// pausedNow says whether the task is paused and returns the channel that
// is closed when that changes.
func (t *taskRun) pausedNow() (bool, <-chan struct{}) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.paused, t.wake
}

// startTask starts a task with its config; the task's goroutine runs
// until stopTask or close.
func (w *worker) startTask(id TaskID, connProps, taskProps map[string]string, ts TargetState) {
	w.stopTask(id)
	ctx, cancel := context.WithCancel(context.Background())
	tr := &taskRun{id: id, props: taskProps, conn: connProps, cancel: cancel, done: make(chan struct{}),
		paused: ts == TargetPaused, wake: make(chan struct{})}
	w.mu.Lock()
	w.tasks[id] = tr
	w.mu.Unlock()
	go func() { // stopped by stopTask (cancel), waited on done
		defer close(tr.done)
		err := safeCall("task", func() error { return w.runTask(ctx, tr) })
		switch {
		case err != nil:
			w.lg.Warn("task failed", "task", id.String(), "err", err)
			w.states.taskState(id, StateFailed, trace(err))
		case ctx.Err() == nil:
			w.states.taskState(id, StateFailed, trace(fmt.Errorf("task %s exited", id)))
		}
	}()
}

// runTask builds and runs a source or sink task.
func (w *worker) runTask(ctx context.Context, tr *taskRun) error {
	p, err := lookupConnector(w.cfg.Plugins, tr.conn)
	if err != nil {
		return err
	}
	switch c := p.New().(type) {
	case pub.SourceConnector:
		return w.runSource(ctx, tr, c.NewTask())
	case pub.SinkConnector:
		return w.runSink(ctx, tr, c.NewTask())
	}
	return fmt.Errorf("plugin %s is neither a source nor a sink connector", p.Class)
}

// taskProps returns a running task's config.
func (w *worker) taskProps(id TaskID) (map[string]string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	tr := w.tasks[id]
	if tr == nil {
		return nil, false
	}
	return tr.props, true
}

// setTaskTarget pauses or resumes a task.
func (w *worker) setTaskTarget(id TaskID, ts TargetState) {
	w.mu.Lock()
	tr := w.tasks[id]
	w.mu.Unlock()
	if tr != nil {
		tr.setPaused(ts == TargetPaused)
	}
}

// stopTask stops a task and waits for it (at most the shutdown timeout;
// a task that does not return is abandoned with a warning).
func (w *worker) stopTask(id TaskID) {
	w.mu.Lock()
	tr := w.tasks[id]
	delete(w.tasks, id)
	w.mu.Unlock()
	if tr == nil {
		return
	}
	tr.cancel()
	select {
	case <-tr.done:
	case <-time.After(w.cfg.ShutdownTimeout):
		w.lg.Warn("task did not stop in time", "task", id.String(), "timeout", w.cfg.ShutdownTimeout)
	}
}

// runningTasks lists the tasks of a connector this worker runs.
func (w *worker) runningTasks(name string) []TaskID {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []TaskID
	for id := range w.tasks {
		if id.Connector == name {
			out = append(out, id)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Task < out[j].Task })
	return out
}

// close stops every task and connector.
func (w *worker) close() {
	w.mu.Lock()
	var ids []TaskID
	for id := range w.tasks {
		ids = append(ids, id)
	}
	var names []string
	for n := range w.conns {
		names = append(names, n)
	}
	w.mu.Unlock()
	w.stopTasks(ids)
	for _, n := range names {
		w.stopConnector(n)
	}
}

// stopTasks stops tasks in parallel, so that many slow ones take one
// shutdown timeout, not one each.
func (w *worker) stopTasks(ids []TaskID) {
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Add(1)
		go func() { // waited below
			defer wg.Done()
			w.stopTask(id)
		}()
	}
	wg.Wait()
}

// intProp reads an integer connector setting.
func intProp(props map[string]string, k string, def int64) int64 {
	if s, ok := props[k]; ok {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n
		}
	}
	return def
}
