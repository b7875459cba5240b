package connect

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// State is a connector's or task's runtime state, as the status topic and
// GET …/status name it.
type State string

// Runtime states.
const (
	StateUnassigned State = "UNASSIGNED"
	StateRunning    State = "RUNNING"
	StatePaused     State = "PAUSED"
	StateStopped    State = "STOPPED"
	StateFailed     State = "FAILED"
	StateRestarting State = "RESTARTING"
)

// TargetState is what a connector is asked to be (config topic
// target-state-<c>).
type TargetState string

// Target states.
const (
	TargetStarted TargetState = "STARTED"
	TargetPaused  TargetState = "PAUSED"
	TargetStopped TargetState = "STOPPED"
)

// TaskID names a task.
type TaskID struct {
	Connector string `json:"connector"`
	Task      int32  `json:"task"`
}

func (t TaskID) String() string { return t.Connector + "-" + strconv.Itoa(int(t.Task)) }

// ConnectorInfo is Java's ConnectorInfo entity.
type ConnectorInfo struct {
	Name   string            `json:"name"`
	Config map[string]string `json:"config"`
	Tasks  []TaskID          `json:"tasks"`
	Type   string            `json:"type"`
}

// StateInfo is one connector's or task's state in a status answer.
type StateInfo struct {
	ID       *int32 `json:"id,omitempty"`
	State    State  `json:"state"`
	WorkerID string `json:"worker_id"`
	Trace    string `json:"trace,omitempty"`
	// Version is the plugin's version (Kafka 4.x shows it).
	Version string `json:"version,omitempty"`
}

// ConnectorStatus is Java's ConnectorStateInfo entity.
type ConnectorStatus struct {
	Name      string      `json:"name"`
	Connector StateInfo   `json:"connector"`
	Tasks     []StateInfo `json:"tasks"`
	Type      string      `json:"type"`
}

// TaskInfo is one entry of GET …/tasks.
type TaskInfo struct {
	ID     TaskID            `json:"id"`
	Config map[string]string `json:"config"`
}

// OffsetEntry is one source partition's offset (GET/PATCH …/offsets). A
// nil Offset removes the partition's offset.
type OffsetEntry struct {
	Partition map[string]any `json:"partition"`
	Offset    map[string]any `json:"offset"`
}

// Offsets is the body of GET/PATCH …/offsets.
type Offsets struct {
	Offsets []OffsetEntry `json:"offsets"`
}

// Error is an error the REST API answers with its HTTP status and
// message ({"error_code","message"}).
type Error struct {
	Code int
	Msg  string
	Err  error
}

func (e *Error) Error() string { return e.Msg }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

func errorf(code int, format string, args ...any) *Error {
	err := fmt.Errorf(format, args...)
	return &Error{Code: code, Msg: err.Error(), Err: errors.Unwrap(err)}
}

func notFound(format string, args ...any) *Error {
	return errorf(http.StatusNotFound, format, args...)
}

func badRequest(format string, args ...any) *Error {
	return errorf(http.StatusBadRequest, format, args...)
}

func conflict(format string, args ...any) *Error {
	return errorf(http.StatusConflict, format, args...)
}

// errRebalance is answered while the worker's view of the cluster is
// changing (Java's RebalanceNeededException, 409).
var errRebalance = &Error{Code: http.StatusConflict, Msg: "Request cannot be completed because a rebalance is expected"}

// notLeader is a write a follower must forward to leaderURL.
type notLeader struct {
	leaderURL string
}

func (e *notLeader) Error() string { return "not the leader; the leader is at " + e.leaderURL }

// connectorType names a plugin kind the way the REST API does.
func connectorType(k string) string {
	switch k {
	case "source", "sink":
		return k
	}
	return "unknown"
}

// taskKey parses "<connector>-<n>" (the status and config topics' task
// suffix).
func taskKey(s string) (TaskID, bool) {
	i := strings.LastIndexByte(s, '-')
	if i <= 0 {
		return TaskID{}, false
	}
	n, err := strconv.ParseInt(s[i+1:], 10, 32)
	if err != nil || n < 0 {
		return TaskID{}, false
	}
	return TaskID{Connector: s[:i], Task: int32(n)}, true
}
