package store

import (
	"fmt"
	"maps"
	"strconv"
	"strings"

	"github.com/samsa-streaming/samsa/internal/connect/protocol"
)

// Status topic key prefixes (Java's KafkaStatusBackingStore).
const (
	keyStatusConnector = "status-connector-"
	keyStatusTask      = "status-task-"
	keyStatusTopic     = "status-topic-"
	topicSeparator     = ":connector-"
)

// Status is a connector's or task's state as a worker reported it:
// State is UNASSIGNED, RUNNING, PAUSED, STOPPED, FAILED, RESTARTING or
// DESTROYED; Trace is the failure's trace ("" is written as null).
type Status struct {
	State      string
	Trace      string
	WorkerID   string
	Generation int32
}

// TopicStatus records that a connector's task used a topic.
type TopicStatus struct {
	Topic             string
	Connector         string
	Task              int32
	DiscoverTimestamp int64
}

// StatusConnectorKey is status-connector-<c>.
func StatusConnectorKey(c string) string { return keyStatusConnector + c }

// StatusTaskKey is status-task-<c>-<n>.
func StatusTaskKey(id protocol.TaskID) string {
	return fmt.Sprintf("%s%s-%d", keyStatusTask, id.Connector, id.Task)
}

// StatusTopicKey is status-topic-<t>:connector-<c>.
func StatusTopicKey(topic, connector string) string {
	return keyStatusTopic + topic + topicSeparator + connector
}

// EncodeStatus is {"state":…,"trace":…|null,"worker_id":…,"generation":N}.
func EncodeStatus(s Status) []byte {
	var trace any
	if s.Trace != "" {
		trace = s.Trace
	}
	return object("state", s.State, "trace", trace, "worker_id", s.WorkerID, "generation", s.Generation)
}

// EncodeTopicStatus is {"topic":{"name","connector","task","discoverTimestamp"}}.
func EncodeTopicStatus(t TopicStatus) []byte {
	inner := object("name", t.Topic, "connector", t.Connector, "task", t.Task, "discoverTimestamp", t.DiscoverTimestamp)
	return append(append([]byte(`{"topic":`), inner...), '}')
}

// StatusState is the fold of the status topic, an immutable value.
type StatusState struct {
	Connectors map[string]Status
	Tasks      map[protocol.TaskID]Status
	Topics     map[string]map[string]TopicStatus // connector -> topic -> status
}

// NewStatusState returns the state of an empty status topic.
func NewStatusState() StatusState {
	return StatusState{Connectors: map[string]Status{}, Tasks: map[protocol.TaskID]Status{},
		Topics: map[string]map[string]TopicStatus{}}
}

func (s StatusState) clone() StatusState {
	if s.Connectors == nil {
		return NewStatusState()
	}
	c := StatusState{Connectors: maps.Clone(s.Connectors), Tasks: maps.Clone(s.Tasks),
		Topics: make(map[string]map[string]TopicStatus, len(s.Topics))}
	for k, v := range s.Topics {
		c.Topics[k] = maps.Clone(v)
	}
	return c
}

// Apply folds one status record (nil value = tombstone) into a new state.
func (s StatusState) Apply(key string, value []byte) (StatusState, error) {
	n := s.clone()
	err := n.apply(key, value)
	return n, err
}

func (s *StatusState) apply(key string, value []byte) error {
	switch {
	case strings.HasPrefix(key, keyStatusConnector):
		c := strings.TrimPrefix(key, keyStatusConnector)
		if c == "" {
			return fmt.Errorf("store: bad status key %q", key)
		}
		if value == nil {
			delete(s.Connectors, c)
			return nil
		}
		st, err := DecodeStatus(value)
		if err != nil {
			return err
		}
		s.Connectors[c] = st
	case strings.HasPrefix(key, keyStatusTask):
		rest := strings.TrimPrefix(key, keyStatusTask)
		i := strings.LastIndexByte(rest, '-')
		n, err := strconv.ParseInt(rest[i+1:], 10, 32)
		if i <= 0 || err != nil {
			return fmt.Errorf("store: bad status key %q", key)
		}
		id := protocol.TaskID{Connector: rest[:i], Task: int32(n)}
		if value == nil {
			delete(s.Tasks, id)
			return nil
		}
		st, err := DecodeStatus(value)
		if err != nil {
			return err
		}
		s.Tasks[id] = st
	case strings.HasPrefix(key, keyStatusTopic):
		return s.applyTopic(key, value)
	default:
		return fmt.Errorf("store: status record with unknown key %q", key)
	}
	return nil
}

func (s *StatusState) applyTopic(key string, value []byte) error {
	rest := strings.TrimPrefix(key, keyStatusTopic)
	i := strings.Index(rest, topicSeparator)
	if i <= 0 || i+len(topicSeparator) == len(rest) {
		return fmt.Errorf("store: bad topic status key %q", key)
	}
	topic, conn := rest[:i], rest[i+len(topicSeparator):]
	if value == nil {
		delete(s.Topics[conn], topic)
		return nil
	}
	m, err := decodeObject(value)
	if err != nil {
		return fmt.Errorf("store: topic status %q: %w", key, err)
	}
	inner, ok := m["topic"].(map[string]any)
	if !ok {
		return fmt.Errorf("store: topic status %q has no topic object", key)
	}
	ts := TopicStatus{Topic: topic, Connector: conn}
	if n, ok := stringField(inner, "name"); ok {
		ts.Topic = n
	}
	if n, ok := stringField(inner, "connector"); ok {
		ts.Connector = n
	}
	if t, err := intField(inner, "task"); err == nil {
		ts.Task = int32(t)
	}
	if d, err := intField(inner, "discoverTimestamp"); err == nil {
		ts.DiscoverTimestamp = d
	}
	if s.Topics[conn] == nil {
		s.Topics[conn] = map[string]TopicStatus{}
	}
	s.Topics[conn][topic] = ts
	return nil
}

// DecodeStatus parses a connector or task status value.
func DecodeStatus(value []byte) (Status, error) {
	m, err := decodeObject(value)
	if err != nil {
		return Status{}, err
	}
	var st Status
	var ok bool
	if st.State, ok = stringField(m, "state"); !ok {
		return Status{}, fmt.Errorf("store: status without a state")
	}
	st.Trace, _ = stringField(m, "trace")
	st.WorkerID, _ = stringField(m, "worker_id")
	if g, err := intField(m, "generation"); err == nil {
		st.Generation = int32(g)
	}
	return st, nil
}
