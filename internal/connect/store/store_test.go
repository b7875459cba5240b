package store

import (
	"reflect"
	"testing"

	"github.com/samsa-streaming/samsa/internal/connect/protocol"
)

// TestConfigValuesGolden: the bytes Java's KafkaConfigBackingStore writes
// through JsonConverter with schemas.enable=false (fields in the order of
// its schemas, compact Jackson output). The want strings are what
// connect-runtime and connect-json 4.4.0 printed for the same values.
func TestConfigValuesGolden(t *testing.T) {
	cases := []struct {
		name string
		got  []byte
		want string
	}{
		{"connector", EncodeConnectorConfig(map[string]string{"name": "fs", "connector.class": "FileStreamSource", "tasks.max": "1"}),
			`{"properties":{"connector.class":"FileStreamSource","name":"fs","tasks.max":"1"}}`},
		{"empty props", EncodeConnectorConfig(nil), `{"properties":{}}`},
		{"escapes", EncodeConnectorConfig(map[string]string{"q": "a\"b\\c\n<&>é\x01"}), `{"properties":{"q":"a\"b\\c\n<&>é\u0001"}}`},
		{"commit", EncodeTaskCommit(3), `{"tasks":3}`},
		{"started", EncodeTargetState(TargetStarted), `{"state":"STARTED","state.v2":"STARTED"}`},
		{"paused", EncodeTargetState(TargetPaused), `{"state":"PAUSED","state.v2":"PAUSED"}`},
		{"stopped", EncodeTargetState(TargetStopped), `{"state":"PAUSED","state.v2":"STOPPED"}`},
		{"task count", EncodeTaskCount(2), `{"task-count":2}`},
		{"session key", EncodeSessionKey(SessionKey{Key: []byte{1, 2, 3}, Algorithm: "HmacSHA256", Created: 1700000000000}),
			`{"key":"AQID","algorithm":"HmacSHA256","creation-timestamp":1700000000000}`},
		{"restart", EncodeRestartRequest(RestartRequest{Connector: "c", IncludeTasks: true}), `{"include-tasks":true,"only-failed":false}`},
		{"logger", EncodeLoggerLevel("DEBUG"), `{"level":"DEBUG"}`},
		{"status", EncodeStatus(Status{State: "RUNNING", WorkerID: "10.0.0.1:8083", Generation: 4}),
			`{"state":"RUNNING","trace":null,"worker_id":"10.0.0.1:8083","generation":4}`},
		{"status trace", EncodeStatus(Status{State: "FAILED", Trace: "boom\n\tat x", WorkerID: "w", Generation: 1}),
			`{"state":"FAILED","trace":"boom\n\tat x","worker_id":"w","generation":1}`},
		{"topic status", EncodeTopicStatus(TopicStatus{Topic: "t", Connector: "c", Task: 0, DiscoverTimestamp: 1}),
			`{"topic":{"name":"t","connector":"c","task":0,"discoverTimestamp":1}}`},
		{"offset key", EncodeOffsetKey("fs", map[string]any{"filename": "/tmp/in.txt"}), `["fs",{"filename":"/tmp/in.txt"}]`},
		{"offset value", EncodeOffsetValue(map[string]any{"position": int64(42), "ratio": 1.0, "lsn": 2.5}), `{"lsn":2.5,"position":42,"ratio":1.0}`},
	}
	for _, c := range cases {
		if string(c.got) != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, c.got, c.want)
		}
	}
	keys := map[string]string{
		ConnectorKey("a-b"): "connector-a-b", TaskKey(protocol.TaskID{Connector: "a-b", Task: 2}): "task-a-b-2",
		CommitKey("a"): "commit-a", TargetStateKey("a"): "target-state-a", TaskCountKey("a"): "tasks-fencing-a",
		RestartKey("a"): "restart-connector-a", LoggerKey("org.x"): "logger-cluster-org.x", SessionKeyKey: "session-key",
		StatusConnectorKey("a"): "status-connector-a", StatusTaskKey(protocol.TaskID{Connector: "a", Task: 0}): "status-task-a-0",
		StatusTopicKey("t", "a"): "status-topic-t:connector-a",
	}
	for got, want := range keys {
		if got != want {
			t.Errorf("key %q, want %q", got, want)
		}
	}
}

func mustApply(t *testing.T, s ConfigState, off *int64, key string, value []byte) ConfigState {
	t.Helper()
	n, err := s.Apply(key, value, *off)
	if err != nil {
		t.Fatalf("apply %s: %v", key, err)
	}
	*off++
	return n
}

// TestConfigStateFold replays a config topic as Java writes it, including
// an envelope written by an old worker and a compacted (inconsistent)
// commit.
func TestConfigStateFold(t *testing.T) {
	var off int64
	s0 := NewConfigState()
	s := mustApply(t, s0, &off, "target-state-fs", EncodeTargetState(TargetPaused))
	s = mustApply(t, s, &off, "connector-fs", EncodeConnectorConfig(map[string]string{"tasks.max": "2"}))
	s = mustApply(t, s, &off, "task-fs-0", EncodeConnectorConfig(map[string]string{"t": "0"}))
	if s.TaskConfigs("fs") != nil {
		t.Fatal("task configs visible before their commit")
	}
	s = mustApply(t, s, &off, "task-fs-1", []byte(`{"schema":{"type":"struct"},"payload":{"properties":{"t":"1"}}}`))
	s = mustApply(t, s, &off, "commit-fs", EncodeTaskCommit(2))
	if got := s.TaskConfigs("fs"); len(got) != 2 || got[1]["t"] != "1" {
		t.Fatalf("task configs %v", got)
	}
	if s.TargetState("fs") != TargetPaused || s.Offset != off {
		t.Fatalf("target %s offset %d", s.TargetState("fs"), s.Offset)
	}
	if len(s0.Connectors) != 0 || s0.Offset != -1 {
		t.Fatal("Apply changed its receiver")
	}
	// A commit naming tasks that were compacted away: inconsistent.
	s = mustApply(t, s, &off, "connector-x", EncodeConnectorConfig(map[string]string{}))
	s = mustApply(t, s, &off, "task-x-1", EncodeConnectorConfig(map[string]string{}))
	s = mustApply(t, s, &off, "commit-x", EncodeTaskCommit(2))
	if !s.Inconsistent["x"] || s.TaskConfigs("x") != nil || s.TargetState("x") != TargetStarted {
		t.Fatalf("x: inconsistent=%v configs=%v", s.Inconsistent["x"], s.TaskConfigs("x"))
	}
	snap := s.AssignorSnapshot()
	if !reflect.DeepEqual(snap.Connectors, map[string]int{"fs": 2, "x": 0}) || snap.Offset != off {
		t.Fatalf("assignor snapshot %+v", snap)
	}
	// Old-format target state (no state.v2), restart, session key, STOPPED.
	s = mustApply(t, s, &off, "target-state-x", []byte(`{"state":"PAUSED"}`))
	s = mustApply(t, s, &off, "target-state-fs", EncodeTargetState(TargetStopped))
	s = mustApply(t, s, &off, "restart-connector-fs", EncodeRestartRequest(RestartRequest{OnlyFailed: true}))
	s = mustApply(t, s, &off, "session-key", EncodeSessionKey(SessionKey{Key: []byte("k"), Algorithm: "HmacSHA256", Created: 5}))
	s = mustApply(t, s, &off, "tasks-fencing-fs", EncodeTaskCount(2))
	if s.TargetState("x") != TargetPaused || s.TargetState("fs") != TargetStopped || !s.Restarts["fs"].OnlyFailed ||
		s.SessionKey == nil || string(s.SessionKey.Key) != "k" || s.TaskCountRecords["fs"] != 2 || s.PendingFencing["fs"] {
		t.Fatalf("state %+v", s)
	}
	// Deletion: tombstones for the config and the target state.
	s = mustApply(t, s, &off, "connector-fs", nil)
	s = mustApply(t, s, &off, "target-state-fs", nil)
	if _, ok := s.Connectors["fs"]; ok || s.TaskConfigs("fs") != nil || s.TargetState("fs") != "" {
		t.Fatal("connector survived its tombstone")
	}
	// A commit for a connector whose config is gone is ignored.
	s = mustApply(t, s, &off, "commit-fs", EncodeTaskCommit(1))
	if _, ok := s.TaskCounts["fs"]; ok {
		t.Fatal("commit of a deleted connector applied")
	}
}

func TestConfigStateRejectsGarbage(t *testing.T) {
	s, err := NewConfigState().Apply("connector-a", EncodeConnectorConfig(nil), 0)
	if err != nil {
		t.Fatal(err)
	}
	for key, v := range map[string]string{
		"connector-a":    `[1,2]`,
		"commit-a":       `{"tasks":"x"}`,
		"task-a":         `{"properties":{}}`,
		"target-state-a": `{"state":"DANCING"}`,
		"bogus":          `{}`,
		"connector-b":    `{"properties":`,
	} {
		n, err := s.Apply(key, []byte(v), 7)
		if err == nil {
			t.Errorf("%s=%s accepted", key, v)
		}
		if n.Offset != 8 {
			t.Errorf("%s: offset %d, want 8", key, n.Offset)
		}
	}
}

func TestStatusFold(t *testing.T) {
	s := NewStatusState()
	s, err := s.Apply("status-task-my-conn-3", EncodeStatus(Status{State: "FAILED", Trace: "x", WorkerID: "w", Generation: 2}))
	if err != nil {
		t.Fatal(err)
	}
	s, _ = s.Apply("status-connector-my-conn", []byte(`{"state":"RUNNING","trace":null,"worker_id":"w","generation":2}`))
	s, _ = s.Apply("status-topic-orders:connector-my-conn", EncodeTopicStatus(TopicStatus{Topic: "orders", Connector: "my-conn", DiscoverTimestamp: 9}))
	if st := s.Tasks[protocol.TaskID{Connector: "my-conn", Task: 3}]; st.State != "FAILED" || st.Trace != "x" || st.Generation != 2 {
		t.Fatalf("task status %+v", st)
	}
	if st := s.Connectors["my-conn"]; st.State != "RUNNING" || st.Trace != "" || st.WorkerID != "w" {
		t.Fatalf("connector status %+v", st)
	}
	if ts := s.Topics["my-conn"]["orders"]; ts.DiscoverTimestamp != 9 {
		t.Fatalf("topic status %+v", ts)
	}
	s, _ = s.Apply("status-connector-my-conn", nil)
	if _, ok := s.Connectors["my-conn"]; ok {
		t.Fatal("tombstone ignored")
	}
	if _, err := s.Apply("status-task-x", []byte(`{}`)); err == nil {
		t.Fatal("bad task key accepted")
	}
}

func TestOffsetKeyRoundTrip(t *testing.T) {
	c, p, err := DecodeOffsetKey([]byte(`["pg",{"server":"db1","slot":7,"lsn":1.5}]`))
	if err != nil || c != "pg" || p["slot"] != int64(7) || p["lsn"] != 1.5 {
		t.Fatalf("decode: %s %v %v", c, p, err)
	}
	if got := string(EncodeOffsetKey(c, p)); got != `["pg",{"lsn":1.5,"server":"db1","slot":7}]` {
		t.Fatalf("re-encoded %s", got)
	}
	for _, bad := range []string{`{}`, `["a"]`, `[1,{}]`, `["a",3]`, `["a",{}]x`} {
		if _, _, err := DecodeOffsetKey([]byte(bad)); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func FuzzConfigApply(f *testing.F) {
	f.Add("connector-a", []byte(`{"properties":{"a":"b"}}`))
	f.Add("commit-a", []byte(`{"tasks":2}`))
	f.Add("task-a-0", []byte(`{"schema":{},"payload":{"properties":{}}}`))
	f.Fuzz(func(t *testing.T, key string, value []byte) {
		s := NewConfigState()
		s, _ = s.Apply("connector-a", EncodeConnectorConfig(nil), 0)
		_, _ = s.Apply(key, value, 1)
		_, _ = NewStatusState().Apply(key, value)
		_, _, _ = DecodeOffsetKey(value)
	})
}
