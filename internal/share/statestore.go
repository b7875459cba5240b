package share

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Rec is one __share_group_state record to append; a nil Value is a
// tombstone.
type Rec struct{ Key, Value []byte }

// StateStore is the share coordinator's state for one __share_group_state
// partition (Kafka's ShareCoordinatorShard): every share partition's
// snapshot with the updates since folded in. Its methods decide and return
// the records a request needs; the caller appends them durably and then
// hands each to Apply, so the log order is the order of changes (as the
// group coordinator does). Loading replays the partition through Apply.
// Not safe for concurrent use.
type StateStore struct {
	// UpdatesPerSnapshot is
	// share.coordinator.snapshot.update.records.per.snapshot: after that
	// many ShareUpdate records a write is a full ShareSnapshot instead.
	UpdatesPerSnapshot int
	states             map[PartKey]*stored
}

type stored struct {
	v       StateValue
	updates int
}

// NewStateStore returns an empty store.
func NewStateStore(updatesPerSnapshot int) *StateStore {
	return &StateStore{UpdatesPerSnapshot: max(updatesPerSnapshot, 1), states: map[PartKey]*stored{}}
}

// Apply folds one record in: a snapshot replaces the state, an update
// merges its batches (and start offset, unless -1) into it, a tombstone
// of either key deletes it. Malformed records are refused, the state
// unchanged.
func (s *StateStore) Apply(r Rec) error {
	typ, k, err := ParseKey(r.Key)
	if err != nil {
		return err
	}
	if r.Value == nil {
		delete(s.states, k)
		return nil
	}
	v, err := ParseValue(typ, r.Value)
	if err != nil {
		return err
	}
	cur, ok := s.states[k]
	if typ == RecordSnapshot || !ok {
		s.states[k] = &stored{v: v}
		return nil
	}
	start := cur.v.StartOffset
	if v.StartOffset != -1 {
		start = v.StartOffset
	}
	cur.v.Batches = MergeBatches(cur.v.Batches, v.Batches, start)
	cur.v.StartOffset, cur.v.LeaderEpoch, cur.v.SnapshotEpoch = start, v.LeaderEpoch, v.SnapshotEpoch
	if v.DeliveryCompleteCount != -1 {
		cur.v.DeliveryCompleteCount = v.DeliveryCompleteCount
	}
	cur.updates++
	return nil
}

// Get returns a share partition's state.
func (s *StateStore) Get(k PartKey) (StateValue, bool) {
	st, ok := s.states[k]
	if !ok {
		return StateValue{}, false
	}
	return st.v, true
}

// Initialize is InitializeShareGroupState: a snapshot at stateEpoch and
// startOffset with no batches; FENCED_STATE_EPOCH below the current state
// epoch.
func (s *StateStore) Initialize(k PartKey, stateEpoch int32, startOffset, now int64) ([]Rec, error) {
	v := StateValue{StateEpoch: stateEpoch, StartOffset: startOffset, LeaderEpoch: -1, CreateTimestamp: now, WriteTimestamp: now, DeliveryCompleteCount: -1}
	if cur, ok := s.states[k]; ok {
		if stateEpoch < cur.v.StateEpoch {
			return nil, fmt.Errorf("share: state epoch %d below %d: %w", stateEpoch, cur.v.StateEpoch, kerr.FencedStateEpoch)
		}
		v.SnapshotEpoch, v.LeaderEpoch = cur.v.SnapshotEpoch+1, cur.v.LeaderEpoch
	}
	return []Rec{{Key: AppendKey(nil, RecordSnapshot, k), Value: AppendValue(nil, RecordSnapshot, &v)}}, nil
}

// Write is WriteShareGroupState: FENCED_LEADER_EPOCH from an older
// partition leader, FENCED_STATE_EPOCH for an older state epoch; else a
// ShareUpdate, or a ShareSnapshot of the merged state every
// UpdatesPerSnapshot writes (or when there is no state yet).
func (s *StateStore) Write(k PartKey, stateEpoch, leaderEpoch int32, startOffset int64, batches []StateBatch, deliveryComplete int32, now int64) ([]Rec, error) {
	cur, ok := s.states[k]
	if ok && leaderEpoch < cur.v.LeaderEpoch {
		return nil, fmt.Errorf("share: leader epoch %d below %d: %w", leaderEpoch, cur.v.LeaderEpoch, kerr.FencedLeaderEpoch)
	}
	if ok && stateEpoch < cur.v.StateEpoch {
		return nil, fmt.Errorf("share: state epoch %d below %d: %w", stateEpoch, cur.v.StateEpoch, kerr.FencedStateEpoch)
	}
	if !ok || cur.updates+1 >= s.UpdatesPerSnapshot {
		v := StateValue{StateEpoch: stateEpoch, LeaderEpoch: leaderEpoch, StartOffset: startOffset, CreateTimestamp: now, WriteTimestamp: now, DeliveryCompleteCount: deliveryComplete, Batches: batches}
		if ok {
			if startOffset == -1 {
				v.StartOffset = cur.v.StartOffset
			}
			v.SnapshotEpoch, v.CreateTimestamp = cur.v.SnapshotEpoch+1, cur.v.CreateTimestamp
			v.Batches = MergeBatches(cur.v.Batches, batches, v.StartOffset)
		}
		return []Rec{{Key: AppendKey(nil, RecordSnapshot, k), Value: AppendValue(nil, RecordSnapshot, &v)}}, nil
	}
	v := StateValue{SnapshotEpoch: cur.v.SnapshotEpoch, LeaderEpoch: leaderEpoch, StartOffset: startOffset, Batches: batches, DeliveryCompleteCount: deliveryComplete}
	return []Rec{{Key: AppendKey(nil, RecordUpdate, k), Value: AppendValue(nil, RecordUpdate, &v)}}, nil
}

// Delete is DeleteShareGroupState: tombstones for both keys.
func (s *StateStore) Delete(k PartKey) []Rec {
	if _, ok := s.states[k]; !ok {
		return nil
	}
	return []Rec{{Key: AppendKey(nil, RecordSnapshot, k)}, {Key: AppendKey(nil, RecordUpdate, k)}}
}
