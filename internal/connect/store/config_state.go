package store

import (
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"sort"
	"strconv"
	"strings"

	"github.com/samsa-streaming/samsa/internal/connect/protocol"
)

// Target states of a connector.
const (
	TargetStarted = "STARTED"
	TargetPaused  = "PAUSED"
	TargetStopped = "STOPPED"
)

// Config topic key prefixes (Java's KafkaConfigBackingStore).
const (
	keyConnector   = "connector-"
	keyTask        = "task-"
	keyCommit      = "commit-"
	keyTargetState = "target-state-"
	keyTaskCount   = "tasks-fencing-"
	keySessionKey  = "session-key"
	keyRestart     = "restart-connector-"
	keyLogger      = "logger-cluster-"
)

// RestartRequest is a restart-connector-<c> record.
type RestartRequest struct {
	Connector    string
	OnlyFailed   bool
	IncludeTasks bool
	Offset       int64 // offset of the record in the config topic
}

// SessionKey is the key workers sign internal REST requests with.
type SessionKey struct {
	Key       []byte
	Algorithm string
	Created   int64 // creation-timestamp, ms since epoch
}

// ConfigState is the fold of the config topic, an immutable value: Apply
// returns a new state and never changes the receiver's maps. Offset is
// the next offset to read (the last applied record's plus one; -1 before
// any), as Java's ClusterConfigState.offset.
type ConfigState struct {
	Offset       int64
	Connectors   map[string]map[string]string
	Tasks        map[protocol.TaskID]map[string]string
	TaskCounts   map[string]int
	TargetStates map[string]string
	Inconsistent map[string]bool
	// Restarts holds the latest restart request per connector.
	Restarts map[string]RestartRequest
	// TaskCountRecords are the tasks-fencing-<c> records (exactly-once
	// source), PendingFencing the connectors whose task configs came
	// after their latest one.
	TaskCountRecords map[string]int
	PendingFencing   map[string]bool
	SessionKey       *SessionKey
	LoggerLevels     map[string]string

	deferred map[string]map[int32]map[string]string // task configs awaiting their commit
}

// NewConfigState returns the state of an empty config topic.
func NewConfigState() ConfigState {
	return ConfigState{
		Offset: -1, Connectors: map[string]map[string]string{}, Tasks: map[protocol.TaskID]map[string]string{},
		TaskCounts: map[string]int{}, TargetStates: map[string]string{}, Inconsistent: map[string]bool{},
		Restarts: map[string]RestartRequest{}, TaskCountRecords: map[string]int{}, PendingFencing: map[string]bool{},
		LoggerLevels: map[string]string{}, deferred: map[string]map[int32]map[string]string{},
	}
}

// clone copies the top-level maps; the per-connector and per-task
// property maps are never mutated, only replaced, so they are shared.
func (s ConfigState) clone() ConfigState {
	if s.Connectors == nil {
		return NewConfigState()
	}
	c := s
	c.Connectors = maps.Clone(s.Connectors)
	c.Tasks = maps.Clone(s.Tasks)
	c.TaskCounts = maps.Clone(s.TaskCounts)
	c.TargetStates = maps.Clone(s.TargetStates)
	c.Inconsistent = maps.Clone(s.Inconsistent)
	c.Restarts = maps.Clone(s.Restarts)
	c.TaskCountRecords = maps.Clone(s.TaskCountRecords)
	c.PendingFencing = maps.Clone(s.PendingFencing)
	c.LoggerLevels = maps.Clone(s.LoggerLevels)
	c.deferred = make(map[string]map[int32]map[string]string, len(s.deferred))
	for k, v := range s.deferred {
		c.deferred[k] = maps.Clone(v)
	}
	return c
}

// Apply folds one config record (value nil = tombstone) at offset into a
// new state. A record that cannot be used still advances Offset; the
// error says why it was ignored.
func (s ConfigState) Apply(key string, value []byte, offset int64) (ConfigState, error) {
	n := s.clone()
	err := n.apply(key, value, offset)
	return n, err
}

// apply mutates s; only for states the caller owns exclusively.
func (s *ConfigState) apply(key string, value []byte, offset int64) error {
	s.Offset = offset + 1
	var m map[string]any
	if value != nil {
		var err error
		if m, err = decodeObject(value); err != nil {
			return fmt.Errorf("store: config record %q: %w", key, err)
		}
	}
	switch {
	case strings.HasPrefix(key, keyTargetState):
		return s.applyTargetState(strings.TrimPrefix(key, keyTargetState), m)
	case strings.HasPrefix(key, keyConnector):
		return s.applyConnector(strings.TrimPrefix(key, keyConnector), m)
	case strings.HasPrefix(key, keyTaskCount):
		return s.applyTaskCount(strings.TrimPrefix(key, keyTaskCount), m)
	case strings.HasPrefix(key, keyTask):
		return s.applyTask(key, m)
	case strings.HasPrefix(key, keyCommit):
		return s.applyCommit(strings.TrimPrefix(key, keyCommit), m)
	case strings.HasPrefix(key, keyRestart):
		return s.applyRestart(strings.TrimPrefix(key, keyRestart), m, offset)
	case key == keySessionKey:
		return s.applySessionKey(m)
	case strings.HasPrefix(key, keyLogger):
		if lv, ok := stringField(m, "level"); ok {
			s.LoggerLevels[strings.TrimPrefix(key, keyLogger)] = lv
			return nil
		}
		return fmt.Errorf("store: logger record %q without a level", key)
	}
	return fmt.Errorf("store: config record with unknown key %q", key)
}

func (s *ConfigState) applyTargetState(c string, m map[string]any) error {
	if m == nil {
		delete(s.TargetStates, c)
		if _, ok := s.Connectors[c]; ok {
			s.TargetStates[c] = TargetStarted
		}
		return nil
	}
	st, ok := stringField(m, "state.v2")
	if !ok {
		if st, ok = stringField(m, "state"); !ok {
			return fmt.Errorf("store: target state of %q has no state", c)
		}
	}
	switch st {
	case TargetStarted, TargetPaused, TargetStopped:
		s.TargetStates[c] = st
		return nil
	}
	return fmt.Errorf("store: target state of %q is %q", c, st)
}

func properties(m map[string]any) (map[string]string, error) {
	raw, ok := m["properties"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("'properties' is %T, not a map", m["properties"])
	}
	props := make(map[string]string, len(raw))
	for k, v := range raw {
		switch x := v.(type) {
		case string:
			props[k] = x
		case nil:
			props[k] = ""
		default:
			props[k] = string(appendJSON(nil, x))
		}
	}
	return props, nil
}

func (s *ConfigState) applyConnector(c string, m map[string]any) error {
	if m == nil {
		s.removeConnector(c)
		return nil
	}
	props, err := properties(m)
	if err != nil {
		return fmt.Errorf("store: config of connector %q: %w", c, err)
	}
	s.Connectors[c] = props
	if _, ok := s.TargetStates[c]; !ok {
		s.TargetStates[c] = TargetStarted
	}
	return nil
}

func (s *ConfigState) removeConnector(c string) {
	delete(s.Connectors, c)
	delete(s.TaskCounts, c)
	delete(s.deferred, c)
	delete(s.Inconsistent, c)
	for id := range s.Tasks {
		if id.Connector == c {
			delete(s.Tasks, id)
		}
	}
}

// ParseTaskKey splits task-<connector>-<n>; connector names may hold '-'.
func ParseTaskKey(key string) (protocol.TaskID, bool) {
	rest, ok := strings.CutPrefix(key, keyTask)
	i := strings.LastIndexByte(rest, '-')
	if !ok || i <= 0 {
		return protocol.TaskID{}, false
	}
	n, err := strconv.ParseInt(rest[i+1:], 10, 32)
	if err != nil {
		return protocol.TaskID{}, false
	}
	return protocol.TaskID{Connector: rest[:i], Task: int32(n)}, true
}

func (s *ConfigState) applyTask(key string, m map[string]any) error {
	id, ok := ParseTaskKey(key)
	if !ok {
		return fmt.Errorf("store: bad task config key %q", key)
	}
	if m == nil {
		return fmt.Errorf("store: task config %q is unexpectedly null", key)
	}
	props, err := properties(m)
	if err != nil {
		return fmt.Errorf("store: config of task %s: %w", id, err)
	}
	d := s.deferred[id.Connector]
	if d == nil {
		d = map[int32]map[string]string{}
		s.deferred[id.Connector] = d
	}
	d[id.Task] = props
	return nil
}

func (s *ConfigState) applyCommit(c string, m map[string]any) error {
	if _, ok := s.Connectors[c]; !ok {
		// Deleted connector whose config compaction already removed.
		s.removeConnector(c)
		return nil
	}
	if m == nil {
		return fmt.Errorf("store: task commit of %q is null", c)
	}
	n64, err := intField(m, "tasks")
	if err != nil {
		return fmt.Errorf("store: task commit of %q: %w", c, err)
	}
	n := int(n64)
	d := s.deferred[c]
	complete := n >= 0
	for i := 0; i < n && complete; i++ {
		_, complete = d[int32(i)]
	}
	if !complete {
		s.Inconsistent[c] = true
	} else {
		for id := range s.Tasks {
			if id.Connector == c && int(id.Task) >= n {
				delete(s.Tasks, id)
			}
		}
		for t, props := range d {
			s.Tasks[protocol.TaskID{Connector: c, Task: t}] = props
		}
		delete(s.Inconsistent, c)
	}
	delete(s.deferred, c)
	s.TaskCounts[c] = n
	s.PendingFencing[c] = true
	return nil
}

func (s *ConfigState) applyRestart(c string, m map[string]any, offset int64) error {
	if m == nil {
		delete(s.Restarts, c)
		return nil
	}
	r := RestartRequest{Connector: c, Offset: offset}
	r.OnlyFailed, _ = m["only-failed"].(bool)
	r.IncludeTasks, _ = m["include-tasks"].(bool)
	s.Restarts[c] = r
	return nil
}

func (s *ConfigState) applyTaskCount(c string, m map[string]any) error {
	if m == nil {
		delete(s.TaskCountRecords, c)
		return nil
	}
	n, err := intField(m, "task-count")
	if err != nil {
		return fmt.Errorf("store: task count record of %q: %w", c, err)
	}
	s.TaskCountRecords[c] = int(n)
	delete(s.PendingFencing, c)
	return nil
}

func (s *ConfigState) applySessionKey(m map[string]any) error {
	if m == nil {
		return errors.New("store: session key is unexpectedly null")
	}
	k, ok1 := stringField(m, "key")
	alg, ok2 := stringField(m, "algorithm")
	ts, err := intField(m, "creation-timestamp")
	if !ok1 || !ok2 || err != nil {
		return errors.New("store: malformed session key record")
	}
	raw, err := base64.StdEncoding.DecodeString(k)
	if err != nil {
		return fmt.Errorf("store: session key: %w", err)
	}
	s.SessionKey = &SessionKey{Key: raw, Algorithm: alg, Created: ts}
	return nil
}

// TaskConfigs returns a connector's committed task configs in task
// order, or nil when it has none or they are inconsistent.
func (s ConfigState) TaskConfigs(c string) []map[string]string {
	n, ok := s.TaskCounts[c]
	if !ok || s.Inconsistent[c] {
		return nil
	}
	out := make([]map[string]string, 0, n)
	for i := 0; i < n; i++ {
		p, ok := s.Tasks[protocol.TaskID{Connector: c, Task: int32(i)}]
		if !ok {
			return nil
		}
		out = append(out, p)
	}
	return out
}

// TargetState is a connector's target state ("" if it has no config).
func (s ConfigState) TargetState(c string) string {
	if _, ok := s.Connectors[c]; !ok {
		return ""
	}
	if st, ok := s.TargetStates[c]; ok {
		return st
	}
	return TargetStarted
}

// ConnectorNames returns the configured connectors, sorted.
func (s ConfigState) ConnectorNames() []string {
	out := make([]string, 0, len(s.Connectors))
	for c := range s.Connectors {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// AssignorSnapshot is what the group leader assigns from: every
// configured connector (as Java, STOPPED ones too: their worker reports
// them STOPPED) with its committed task count (0 while inconsistent).
func (s ConfigState) AssignorSnapshot() protocol.Snapshot {
	snap := protocol.Snapshot{Offset: s.Offset, Connectors: make(map[string]int, len(s.Connectors))}
	for c := range s.Connectors {
		snap.Connectors[c] = len(s.TaskConfigs(c))
	}
	return snap
}
