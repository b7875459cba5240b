package store

import (
	"encoding/base64"
	"fmt"

	"github.com/samsa-streaming/samsa/internal/connect/protocol"
)

// Config topic keys.

// ConnectorKey is connector-<c>.
func ConnectorKey(c string) string { return keyConnector + c }

// TaskKey is task-<c>-<n>.
func TaskKey(id protocol.TaskID) string {
	return fmt.Sprintf("%s%s-%d", keyTask, id.Connector, id.Task)
}

// CommitKey is commit-<c>.
func CommitKey(c string) string { return keyCommit + c }

// TargetStateKey is target-state-<c>.
func TargetStateKey(c string) string { return keyTargetState + c }

// TaskCountKey is tasks-fencing-<c>.
func TaskCountKey(c string) string { return keyTaskCount + c }

// RestartKey is restart-connector-<c>.
func RestartKey(c string) string { return keyRestart + c }

// LoggerKey is logger-cluster-<namespace>.
func LoggerKey(ns string) string { return keyLogger + ns }

// SessionKeyKey is the session key's key.
const SessionKeyKey = keySessionKey

// Config topic values, byte for byte as Java's JsonConverter (schemas
// disabled) writes them.

// EncodeConnectorConfig is {"properties":{...}} (also a task's config).
func EncodeConnectorConfig(props map[string]string) []byte {
	if props == nil {
		props = map[string]string{}
	}
	return object("properties", props)
}

// EncodeTaskCommit is {"tasks":N}.
func EncodeTaskCommit(n int) []byte { return object("tasks", n) }

// EncodeTargetState is {"state":…,"state.v2":…}; STOPPED is written as
// PAUSED in the old field for workers that predate it.
func EncodeTargetState(state string) []byte {
	old := state
	if state == TargetStopped {
		old = TargetPaused
	}
	return object("state", old, "state.v2", state)
}

// EncodeTaskCount is {"task-count":N}.
func EncodeTaskCount(n int) []byte { return object("task-count", n) }

// EncodeSessionKey is {"key":base64,"algorithm":…,"creation-timestamp":ms}.
func EncodeSessionKey(k SessionKey) []byte {
	return object("key", base64.StdEncoding.EncodeToString(k.Key), "algorithm", k.Algorithm, "creation-timestamp", k.Created)
}

// EncodeRestartRequest is {"include-tasks":b,"only-failed":b}.
func EncodeRestartRequest(r RestartRequest) []byte {
	return object("include-tasks", r.IncludeTasks, "only-failed", r.OnlyFailed)
}

// EncodeLoggerLevel is {"level":…}.
func EncodeLoggerLevel(level string) []byte { return object("level", level) }
