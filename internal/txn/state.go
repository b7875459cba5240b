package txn

import (
	"encoding/binary"
	"fmt"
	"math"
	"sort"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// State is a transaction's state, with Kafka's ids (the value's State byte).
type State int8

// Kafka's transaction states.
const (
	Empty             State = 0
	Ongoing           State = 1
	PrepareCommit     State = 2
	PrepareAbort      State = 3
	CompleteCommit    State = 4
	CompleteAbort     State = 5
	Dead              State = 6
	PrepareEpochFence State = 7
)

var stateNames = [...]string{"Empty", "Ongoing", "PrepareCommit", "PrepareAbort", "CompleteCommit", "CompleteAbort", "Dead", "PrepareEpochFence"}

// String is the state's name as DescribeTransactions and ListTransactions
// report it.
func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("Unknown(%d)", int8(s))
}

// ParseState is the state of a name, for ListTransactions filters.
func ParseState(name string) (State, bool) {
	for i, n := range stateNames {
		if n == name {
			return State(i), true
		}
	}
	return 0, false
}

// Producer id and epoch sentinels, as in Kafka's RecordBatch.
const (
	noProducerID    int64 = -1
	noProducerEpoch int16 = -1
)

// epochExhausted is Kafka's TransactionMetadata.isEpochExhausted: clients
// never get math.MaxInt16, so that the coordinator can always fence.
func epochExhausted(e int16) bool { return e >= math.MaxInt16-1 }

// meta is one transactional id's state. Fields persisted in the log come
// first.
type meta struct {
	id        string
	pid       int64
	prevPID   int64 // PreviousProducerID
	nextPID   int64 // NextProducerID: set while a TV2 end overflows the epoch
	epoch     int16
	timeoutMs int32
	state     State
	parts     map[TopicPartition]struct{}
	startMs   int64 // first AddPartitions of the transaction; -1 when none
	updateMs  int64
	tv        int16 // ClientTransactionVersion of the last transition

	// lastEpoch is the epoch before the last bump (Kafka keeps it only in
	// memory too): a retried InitProducerId or EndTxn is recognised by it.
	lastEpoch int16
	// finishing is set while markers are being written.
	finishing bool
}

func (m *meta) clone() *meta {
	n := *m
	n.parts = make(map[TopicPartition]struct{}, len(m.parts))
	for tp := range m.parts {
		n.parts[tp] = struct{}{}
	}
	n.finishing = false
	return &n
}

// partitions lists the transaction's partitions in order.
func (m *meta) partitions() []TopicPartition {
	out := make([]TopicPartition, 0, len(m.parts))
	for tp := range m.parts {
		out = append(out, tp)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Topic != out[j].Topic {
			return out[i].Topic < out[j].Topic
		}
		return out[i].Partition < out[j].Partition
	})
	return out
}

func (m *meta) hasPartitions(tps []TopicPartition) bool {
	for _, tp := range tps {
		if _, ok := m.parts[tp]; !ok {
			return false
		}
	}
	return true
}

// Record versions Samsa writes: key v0, value v1 (flexible, with the
// KIP-890 fields), as Kafka 4 does once transaction.version >= 1.
const (
	keyVersion   = 0
	valueVersion = 1
)

func txnKey(id string) []byte {
	k := kmsg.TxnMetadataKey{Version: keyVersion, TransactionalID: id}
	return k.AppendTo(nil)
}

// record is the state as a __transaction_state record.
func (m *meta) record() Record {
	v := kmsg.NewTxnMetadataValue()
	v.Version = valueVersion
	v.ProducerID = m.pid
	v.ProducerEpoch = m.epoch
	v.TimeoutMillis = m.timeoutMs
	v.State = kmsg.TransactionState(m.state)
	if m.state != Empty {
		// Kafka writes a null partition list for Empty.
		v.Topics = []kmsg.TxnMetadataValueTopic{}
		for _, tp := range m.partitions() {
			if n := len(v.Topics); n == 0 || v.Topics[n-1].Topic != tp.Topic {
				v.Topics = append(v.Topics, kmsg.TxnMetadataValueTopic{Topic: tp.Topic})
			}
			t := &v.Topics[len(v.Topics)-1]
			t.Partitions = append(t.Partitions, tp.Partition)
		}
	}
	v.LastUpdateTimestamp = m.updateMs
	v.StartTimestamp = m.startMs
	v.PreviousProducerID = m.prevPID
	v.NextProducerID = m.nextPID
	v.ClientTransactionVersion = m.tv
	return Record{Key: txnKey(m.id), Value: v.AppendTo(nil)}
}

func tombstone(id string) Record { return Record{Key: txnKey(id)} }

// decodeKey returns the transactional id of a key, and false for keys of
// unknown versions (Kafka skips them).
func decodeKey(key []byte) (string, bool, error) {
	if len(key) < 2 {
		return "", false, fmt.Errorf("key of %d bytes", len(key))
	}
	if binary.BigEndian.Uint16(key) != keyVersion {
		return "", false, nil
	}
	var k kmsg.TxnMetadataKey
	if err := k.ReadFrom(key); err != nil {
		return "", false, err
	}
	return k.TransactionalID, true, nil
}

// decodeValue rebuilds a transaction's state from a value of version 0 or 1.
func decodeValue(id string, value []byte) (*meta, error) {
	if len(value) < 2 {
		return nil, fmt.Errorf("value of %d bytes", len(value))
	}
	if ver := int16(binary.BigEndian.Uint16(value)); ver < 0 || ver > 1 {
		return nil, fmt.Errorf("unknown value version %d", ver)
	}
	var v kmsg.TxnMetadataValue
	if err := v.ReadFrom(value); err != nil {
		return nil, err
	}
	st := State(v.State)
	if st < Empty || st > PrepareEpochFence {
		return nil, fmt.Errorf("unknown state %d", v.State)
	}
	m := &meta{
		id: id, pid: v.ProducerID, prevPID: v.PreviousProducerID, nextPID: v.NextProducerID,
		epoch: v.ProducerEpoch, lastEpoch: noProducerEpoch, timeoutMs: v.TimeoutMillis, state: st,
		parts: make(map[TopicPartition]struct{}), startMs: v.StartTimestamp, updateMs: v.LastUpdateTimestamp,
		tv: v.ClientTransactionVersion,
	}
	if st != Empty {
		for _, t := range v.Topics {
			for _, p := range t.Partitions {
				m.parts[TopicPartition{t.Topic, p}] = struct{}{}
			}
		}
	}
	return m, nil
}
