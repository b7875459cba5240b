package protocol

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
)

// Protocol versions and subprotocol names of the "connect" protocol type.
const (
	VersionDefault    int16 = 0 // "default": eager rebalancing
	VersionCompatible int16 = 1 // "compatible": incremental cooperative
	VersionSessioned  int16 = 2 // "sessioned": cooperative + session keys

	ProtocolType = "connect"
)

// Assignment error codes.
const (
	ErrNone           int16 = 0
	ErrConfigMismatch int16 = 1 // the leader is behind the config topic
)

// connectorTask is the task number standing for the connector itself.
const connectorTask int32 = -1

// ProtocolName returns the subprotocol name of a version.
func ProtocolName(version int16) string {
	switch version {
	case VersionDefault:
		return "default"
	case VersionCompatible:
		return "compatible"
	default:
		return "sessioned"
	}
}

// ProtocolVersion returns the version of a subprotocol name.
func ProtocolVersion(name string) (int16, error) {
	switch name {
	case "default", "eager":
		return VersionDefault, nil
	case "compatible":
		return VersionCompatible, nil
	case "sessioned":
		return VersionSessioned, nil
	}
	return 0, fmt.Errorf("protocol: unknown connect protocol %q", name)
}

// TaskID names one task of a connector.
type TaskID struct {
	Connector string
	Task      int32
}

func (t TaskID) String() string { return fmt.Sprintf("%s-%d", t.Connector, t.Task) }

// Less orders task ids by connector, then task number (Java's order).
func (t TaskID) Less(o TaskID) bool {
	if t.Connector != o.Connector {
		return t.Connector < o.Connector
	}
	return t.Task < o.Task
}

// SortTasks sorts task ids in place by connector then number.
func SortTasks(ts []TaskID) { sort.Slice(ts, func(i, j int) bool { return ts[i].Less(ts[j]) }) }

// Metadata is what a member sends in JoinGroup: its REST URL, the offset
// of the config topic it has read to and, for versions 1 and 2, what it
// currently owns (nil: nothing, encoded as a null allocation).
type Metadata struct {
	URL          string
	ConfigOffset int64
	Owned        *Assignment
}

// Assignment is what the leader hands a member in SyncGroup. For
// versions 1 and 2 the connectors and tasks are what to start in
// addition, the revoked ones what to stop; Delay (ms) is when to rejoin
// for a scheduled rebalance.
type Assignment struct {
	Error             int16
	Leader, LeaderURL string
	ConfigOffset      int64
	Connectors        []string
	Tasks             []TaskID
	RevokedConnectors []string
	RevokedTasks      []TaskID
	Delay             int32
}

// Empty reports whether the assignment assigns and revokes nothing.
func (a Assignment) Empty() bool {
	return len(a.Connectors) == 0 && len(a.Tasks) == 0 && len(a.RevokedConnectors) == 0 && len(a.RevokedTasks) == 0
}

// EncodeMetadata encodes m as the JoinGroup metadata of the given
// version (0 default, 1 compatible, 2 sessioned).
func EncodeMetadata(version int16, m Metadata) []byte {
	var w writer
	w.i16(version)
	w.str(m.URL)
	w.i64(m.ConfigOffset)
	if version >= VersionCompatible {
		if m.Owned == nil {
			w.i32(-1)
		} else {
			alloc := EncodeAssignment(version, *m.Owned)
			w.i32(int32(len(alloc)))
			w.b = append(w.b, alloc...)
		}
	}
	return w.b
}

// DecodeMetadata decodes JoinGroup metadata of any version.
func DecodeMetadata(b []byte) (version int16, m Metadata, err error) {
	r := reader{b: b}
	version = r.i16()
	m.URL = r.str()
	m.ConfigOffset = r.i64()
	if r.err == nil && version < 0 {
		return version, m, fmt.Errorf("protocol: unsupported metadata version %d", version)
	}
	if r.err == nil && len(r.b) >= 4 {
		if alloc := r.nullableBytes(); alloc != nil && r.err == nil {
			_, a, err := DecodeAssignment(alloc)
			if err != nil {
				return version, m, fmt.Errorf("protocol: metadata allocation: %w", err)
			}
			m.Owned = &a
		}
	}
	if r.err != nil {
		return version, m, fmt.Errorf("protocol: decode metadata: %w", r.err)
	}
	return version, m, nil
}

// EncodeAssignment encodes a as a SyncGroup assignment of the given
// version; version 0 carries no revocations nor delay.
func EncodeAssignment(version int16, a Assignment) []byte {
	var w writer
	w.i16(version)
	w.i16(a.Error)
	w.str(a.Leader)
	w.str(a.LeaderURL)
	w.i64(a.ConfigOffset)
	w.connectorTasks(a.Connectors, a.Tasks)
	if version >= VersionCompatible {
		w.connectorTasks(a.RevokedConnectors, a.RevokedTasks)
		w.i32(a.Delay)
	}
	return w.b
}

// DecodeAssignment decodes a SyncGroup assignment of any version. As in
// Java, fields missing at the end take their defaults (no revocations,
// delay 0).
func DecodeAssignment(b []byte) (int16, Assignment, error) {
	var a Assignment
	r := reader{b: b}
	version := r.i16()
	if r.err == nil && version < 0 {
		return version, a, fmt.Errorf("protocol: unsupported assignment version %d", version)
	}
	a.Error = r.i16()
	a.Leader = r.str()
	a.LeaderURL = r.str()
	a.ConfigOffset = r.i64()
	if r.err == nil && len(r.b) > 0 {
		a.Connectors, a.Tasks = r.connectorTasks()
	}
	if r.err == nil && len(r.b) > 0 {
		a.RevokedConnectors, a.RevokedTasks = r.connectorTasks()
	}
	if r.err == nil && len(r.b) > 0 {
		a.Delay = r.i32()
	}
	if r.err != nil {
		return version, Assignment{}, fmt.Errorf("protocol: decode assignment: %w", r.err)
	}
	return version, a, nil
}

type writer struct{ b []byte }

func (w *writer) i16(v int16) { w.b = binary.BigEndian.AppendUint16(w.b, uint16(v)) }
func (w *writer) i32(v int32) { w.b = binary.BigEndian.AppendUint32(w.b, uint32(v)) }
func (w *writer) i64(v int64) { w.b = binary.BigEndian.AppendUint64(w.b, uint64(v)) }
func (w *writer) str(s string) {
	if len(s) > 0x7fff {
		s = s[:0x7fff]
	}
	w.i16(int16(len(s)))
	w.b = append(w.b, s...)
}

// connectorTasks writes the [connector, tasks] array the way Java groups
// it: one entry per connector, -1 for the connector itself first.
func (w *writer) connectorTasks(connectors []string, tasks []TaskID) {
	type entry struct {
		name  string
		tasks []int32
	}
	var order []*entry
	idx := map[string]*entry{}
	get := func(c string) *entry {
		if e, ok := idx[c]; ok {
			return e
		}
		e := &entry{name: c}
		idx[c] = e
		order = append(order, e)
		return e
	}
	for _, c := range connectors {
		e := get(c)
		if len(e.tasks) == 0 || e.tasks[0] != connectorTask {
			e.tasks = append([]int32{connectorTask}, e.tasks...)
		}
	}
	for _, t := range tasks {
		e := get(t.Connector)
		e.tasks = append(e.tasks, t.Task)
	}
	w.i32(int32(len(order)))
	for _, e := range order {
		w.str(e.name)
		w.i32(int32(len(e.tasks)))
		for _, t := range e.tasks {
			w.i32(t)
		}
	}
}

var errShort = errors.New("protocol: truncated")

type reader struct {
	b   []byte
	err error
}

func (r *reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b) {
		r.err = errShort
		r.b = nil
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) i16() int16 {
	if v := r.take(2); v != nil {
		return int16(binary.BigEndian.Uint16(v))
	}
	return 0
}

func (r *reader) i32() int32 {
	if v := r.take(4); v != nil {
		return int32(binary.BigEndian.Uint32(v))
	}
	return 0
}

func (r *reader) i64() int64 {
	if v := r.take(8); v != nil {
		return int64(binary.BigEndian.Uint64(v))
	}
	return 0
}

func (r *reader) str() string {
	n := r.i16()
	if r.err == nil && n < 0 {
		r.err = errors.New("protocol: null string")
		return ""
	}
	return string(r.take(int(n)))
}

func (r *reader) nullableBytes() []byte {
	n := r.i32()
	if r.err != nil || n == -1 {
		return nil
	}
	v := r.take(int(n))
	if v == nil && r.err == nil {
		return []byte{}
	}
	return v
}

// count reads an array length, nil-able (-1), bounded by the bytes left
// given the minimum size of one element.
func (r *reader) count(minElem int) (int, bool) {
	n := r.i32()
	if r.err != nil {
		return 0, false
	}
	if n == -1 {
		return 0, false
	}
	if n < 0 || int64(n)*int64(minElem) > int64(len(r.b)) {
		r.err = fmt.Errorf("protocol: array of %d elements exceeds %d bytes", n, len(r.b))
		return 0, false
	}
	return int(n), true
}

func (r *reader) connectorTasks() ([]string, []TaskID) {
	n, ok := r.count(2 + 4)
	if !ok {
		return nil, nil
	}
	var connectors []string
	var tasks []TaskID
	for i := 0; i < n && r.err == nil; i++ {
		name := r.str()
		m, ok := r.count(4)
		if !ok {
			if r.err == nil {
				r.err = errors.New("protocol: null task array")
			}
			break
		}
		for j := 0; j < m; j++ {
			t := r.i32()
			if t == connectorTask {
				connectors = append(connectors, name)
			} else {
				tasks = append(tasks, TaskID{Connector: name, Task: t})
			}
		}
	}
	return connectors, tasks
}
