package metadata

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// RecordType identifies a record kind in the encoding (the first byte).
// Values are part of the on-disk format: never renumber or reuse them.
type RecordType uint8

// Record types.
const (
	TypeSetClusterID        RecordType = 1
	TypeRegisterBroker      RecordType = 2
	TypeCreateTopic         RecordType = 3
	TypeDeleteTopic         RecordType = 4
	TypeCreatePartitions    RecordType = 5
	TypeAlterTopicConfig    RecordType = 6
	TypeAlterBrokerConfig   RecordType = 7
	TypeAllocateProducerIDs RecordType = 8
	TypeChangePartition     RecordType = 9
	TypeFenceBroker         RecordType = 10
	TypeUnfenceBroker       RecordType = 11
	TypeUnregisterBroker    RecordType = 12
)

func (t RecordType) String() string {
	switch t {
	case TypeSetClusterID:
		return "SetClusterID"
	case TypeRegisterBroker:
		return "RegisterBroker"
	case TypeCreateTopic:
		return "CreateTopic"
	case TypeDeleteTopic:
		return "DeleteTopic"
	case TypeCreatePartitions:
		return "CreatePartitions"
	case TypeAlterTopicConfig:
		return "AlterTopicConfig"
	case TypeAlterBrokerConfig:
		return "AlterBrokerConfig"
	case TypeAllocateProducerIDs:
		return "AllocateProducerIDs"
	case TypeChangePartition:
		return "ChangePartition"
	case TypeFenceBroker:
		return "FenceBroker"
	case TypeUnfenceBroker:
		return "UnfenceBroker"
	case TypeUnregisterBroker:
		return "UnregisterBroker"
	}
	if n, ok := securityTypeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("RecordType(%d)", uint8(t))
}

// Record is one change to the cluster metadata. The concrete types are the
// value structs below (SetClusterID, RegisterBroker, ...); DecodeRecord
// returns them by value, EncodeRecord and Image.Apply also accept pointers
// to them.
type Record interface {
	Type() RecordType
}

// SetClusterID names the cluster. It must be the first record of the log;
// re-applying the same id is a no-op, a different id is ErrClusterIDMismatch.
type SetClusterID struct {
	ID string `json:"id"`
}

// RegisterBroker adds or replaces a broker registration. The broker is
// registered unfenced. A new incarnation of a registered broker is a
// restarted process: partitions it hosts get a new partition epoch (ISR
// changes based on the old process's fetches fail), partitions it leads
// get a new leader epoch (its log
// may differ from the one it led with), and after an unclean stop it
// leaves ISRs and ELRs where another candidate exists, or everywhere with
// StrictELR.
type RegisterBroker struct {
	ID            int32  `json:"id"`
	Host          string `json:"host"`
	Port          int32  `json:"port"`
	Rack          string `json:"rack,omitempty"`
	IncarnationID Uuid   `json:"incarnation_id"`
	// ReplicationHost/Port: the endpoint followers fetch from; empty
	// means Host/Port.
	ReplicationHost string `json:"replication_host,omitempty"`
	ReplicationPort int32  `json:"replication_port,omitempty"`
	// Listener names the listener of Host/Port ("": unnamed, every
	// listener's clients get Host/Port); Endpoints are the broker's other
	// listeners, so that a client is told the addresses of the listener
	// it connected through, as Kafka does.
	Listener  string     `json:"listener,omitempty"`
	Endpoints []Endpoint `json:"endpoints,omitempty"`
	// CleanShutdown says the broker's previous run stopped cleanly. After
	// an unclean stop its logs may have lost unflushed records, so it
	// leaves the ISR and ELR of partitions that have another candidate
	// (KIP-966).
	CleanShutdown bool `json:"clean_shutdown,omitempty"`
	// StrictELR applies KIP-966's strict rule to an unclean stop: the
	// broker leaves every ISR and ELR, even as a partition's last
	// candidate, which then stays leaderless until an unclean election.
	// The proposing controller sets it from eligible.leader.replicas.strict
	// (controller.Config.StrictELR), so every node applies the same rule.
	StrictELR bool `json:"strict_elr,omitempty"`
}

// Endpoint is one advertised listener of a broker.
type Endpoint struct {
	Name string `json:"name"`
	Host string `json:"host"`
	Port int32  `json:"port"`
}

// UnregisterBroker removes a broker that hosts no replica any more.
type UnregisterBroker struct {
	ID int32 `json:"id"`
}

// CreateTopic creates a topic. Assignments[i] lists the replicas of
// partition i; the first replica is the leader, with leader epoch 0, and the
// ISR is all replicas.
type CreateTopic struct {
	Name        string            `json:"name"`
	ID          Uuid              `json:"id"`
	Configs     map[string]string `json:"configs,omitempty"`
	Assignments [][]int32         `json:"assignments"`
}

// DeleteTopic removes a topic.
type DeleteTopic struct {
	ID Uuid `json:"id"`
}

// CreatePartitions appends partitions to a topic; Assignments lists the
// replicas of the new partitions only.
type CreatePartitions struct {
	TopicID     Uuid      `json:"topic_id"`
	Assignments [][]int32 `json:"assignments"`
}

// AlterTopicConfig sets and deletes dynamic topic configs. Deleting an
// absent key is a no-op.
type AlterTopicConfig struct {
	TopicID Uuid              `json:"topic_id"`
	Set     map[string]string `json:"set,omitempty"`
	Delete  []string          `json:"delete,omitempty"`
}

// AlterBrokerConfig sets and deletes dynamic broker configs; BrokerID -1
// (ClusterDefault) is the cluster-wide default.
type AlterBrokerConfig struct {
	BrokerID int32             `json:"broker_id"`
	Set      map[string]string `json:"set,omitempty"`
	Delete   []string          `json:"delete,omitempty"`
}

// AllocateProducerIDs reserves Count producer ids for BrokerID. The block
// is [img.NextProducerID-Count, img.NextProducerID) in the image returned by
// Apply.
type AllocateProducerIDs struct {
	BrokerID int32 `json:"broker_id"`
	Count    int32 `json:"count"`
}

// ChangePartition replaces the leadership state of one partition and bumps
// its PartitionEpoch. Leader and LeaderEpoch are the new values (Leader -1 =
// NoLeader). A nil ISR, ELR, Replicas, AddingReplicas or RemovingReplicas
// keeps the current list; a non-nil one (empty included) replaces it.
// LeaderEpoch may not go backwards and must increase when the leader
// changes. A non-nil ExpectedPartitionEpoch makes the change conditional
// (Kafka's AlterPartition): it applies only if the partition is still at
// that partition epoch, else ErrStalePartitionEpoch.
type ChangePartition struct {
	TopicID     Uuid    `json:"topic_id"`
	Partition   int32   `json:"partition"`
	Leader      int32   `json:"leader"`
	LeaderEpoch int32   `json:"leader_epoch"`
	ISR         []int32 `json:"isr"`
	Replicas    []int32 `json:"replicas"`
	// No omitempty on the lists: null (nil, keep) and [] (clear) differ.
	ELR                    []int32 `json:"elr"`
	AddingReplicas         []int32 `json:"adding_replicas"`
	RemovingReplicas       []int32 `json:"removing_replicas"`
	ExpectedPartitionEpoch *int32  `json:"expected_partition_epoch,omitempty"`
}

// FenceBroker marks a registered broker fenced: the active controller
// stopped hearing from it for broker.session.timeout.ms. It applies only to
// the named incarnation (a broker that re-registered since is not fenced:
// ErrStaleBroker). Fencing a fenced broker is a no-op.
//
// Shutdown marks a controlled shutdown (the broker asked to stop): the
// broker is fenced and stays so, even though it is still heard from, until
// it registers again; elections move its leaderships away.
type FenceBroker struct {
	ID            int32 `json:"id"`
	IncarnationID Uuid  `json:"incarnation_id"`
	Shutdown      bool  `json:"shutdown,omitempty"`
}

// UnfenceBroker clears the fenced flag of a registered broker's incarnation
// (the controller hears from it again). Unfencing an unfenced broker is a
// no-op; another incarnation is ErrStaleBroker.
type UnfenceBroker struct {
	ID            int32 `json:"id"`
	IncarnationID Uuid  `json:"incarnation_id"`
}

func (SetClusterID) Type() RecordType        { return TypeSetClusterID }
func (FenceBroker) Type() RecordType         { return TypeFenceBroker }
func (UnfenceBroker) Type() RecordType       { return TypeUnfenceBroker }
func (RegisterBroker) Type() RecordType      { return TypeRegisterBroker }
func (CreateTopic) Type() RecordType         { return TypeCreateTopic }
func (DeleteTopic) Type() RecordType         { return TypeDeleteTopic }
func (CreatePartitions) Type() RecordType    { return TypeCreatePartitions }
func (AlterTopicConfig) Type() RecordType    { return TypeAlterTopicConfig }
func (AlterBrokerConfig) Type() RecordType   { return TypeAlterBrokerConfig }
func (AllocateProducerIDs) Type() RecordType { return TypeAllocateProducerIDs }
func (ChangePartition) Type() RecordType     { return TypeChangePartition }
func (UnregisterBroker) Type() RecordType    { return TypeUnregisterBroker }

// recordVersion is the version this build writes for every record type;
// DecodeRecord accepts versions 0..recordVersion. Bump it (per type, by
// turning this into a table) when a record's JSON changes incompatibly.
const recordVersion = 0

// recordHeaderSize is the type byte plus the version byte.
const recordHeaderSize = 2

// EncodeRecord encodes r as [type u8][version u8][JSON body].
func EncodeRecord(r Record) ([]byte, error) {
	switch r.(type) {
	case SetClusterID, RegisterBroker, CreateTopic, DeleteTopic, CreatePartitions,
		AlterTopicConfig, AlterBrokerConfig, AllocateProducerIDs, ChangePartition,
		FenceBroker, UnfenceBroker, UnregisterBroker,
		UpsertScram, RemoveScram, CreateACL, RemoveACL, ClientQuota:
	case *SetClusterID, *RegisterBroker, *CreateTopic, *DeleteTopic, *CreatePartitions,
		*AlterTopicConfig, *AlterBrokerConfig, *AllocateProducerIDs, *ChangePartition,
		*FenceBroker, *UnfenceBroker, *UnregisterBroker,
		*UpsertScram, *RemoveScram, *CreateACL, *RemoveACL, *ClientQuota:
		if isNilRecord(r) {
			return nil, fmt.Errorf("%w: nil %T", ErrUnknownRecordType, r)
		}
	default:
		return nil, fmt.Errorf("%w: %T", ErrUnknownRecordType, r)
	}
	body, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("metadata: encode %v: %w", r.Type(), err)
	}
	out := make([]byte, 0, recordHeaderSize+len(body))
	out = append(out, byte(r.Type()), recordVersion)
	return append(out, body...), nil
}

func isNilRecord(r Record) bool {
	switch p := r.(type) {
	case *SetClusterID:
		return p == nil
	case *RegisterBroker:
		return p == nil
	case *CreateTopic:
		return p == nil
	case *DeleteTopic:
		return p == nil
	case *CreatePartitions:
		return p == nil
	case *AlterTopicConfig:
		return p == nil
	case *AlterBrokerConfig:
		return p == nil
	case *AllocateProducerIDs:
		return p == nil
	case *ChangePartition:
		return p == nil
	case *FenceBroker:
		return p == nil
	case *UnfenceBroker:
		return p == nil
	case *UnregisterBroker:
		return p == nil
	case *UpsertScram:
		return p == nil
	case *RemoveScram:
		return p == nil
	case *CreateACL:
		return p == nil
	case *RemoveACL:
		return p == nil
	case *ClientQuota:
		return p == nil
	}
	return false
}

// derefRecord turns pointer records into values so Apply handles one form.
func derefRecord(r Record) Record {
	if isNilRecord(r) {
		return nil
	}
	switch p := r.(type) {
	case *SetClusterID:
		return *p
	case *RegisterBroker:
		return *p
	case *CreateTopic:
		return *p
	case *DeleteTopic:
		return *p
	case *CreatePartitions:
		return *p
	case *AlterTopicConfig:
		return *p
	case *AlterBrokerConfig:
		return *p
	case *AllocateProducerIDs:
		return *p
	case *ChangePartition:
		return *p
	case *FenceBroker:
		return *p
	case *UnfenceBroker:
		return *p
	case *UnregisterBroker:
		return *p
	case *UpsertScram:
		return *p
	case *RemoveScram:
		return *p
	case *CreateACL:
		return *p
	case *RemoveACL:
		return *p
	case *ClientQuota:
		return *p
	}
	return r
}

// DecodeRecord decodes a record written by EncodeRecord. It never panics;
// errors wrap ErrMalformed, ErrUnknownRecordType or ErrUnsupportedVersion.
// Unknown JSON fields and trailing bytes are rejected: adding a field
// requires a version bump.
func DecodeRecord(b []byte) (Record, error) {
	if len(b) < recordHeaderSize {
		return nil, fmt.Errorf("%w: record of %d bytes is shorter than its %d-byte header", ErrMalformed, len(b), recordHeaderSize)
	}
	typ, version, body := RecordType(b[0]), b[1], b[recordHeaderSize:]
	var r Record
	var err error
	switch typ {
	case TypeSetClusterID:
		r, err = decodeBody[SetClusterID](body)
	case TypeRegisterBroker:
		r, err = decodeBody[RegisterBroker](body)
	case TypeCreateTopic:
		r, err = decodeBody[CreateTopic](body)
	case TypeDeleteTopic:
		r, err = decodeBody[DeleteTopic](body)
	case TypeCreatePartitions:
		r, err = decodeBody[CreatePartitions](body)
	case TypeAlterTopicConfig:
		r, err = decodeBody[AlterTopicConfig](body)
	case TypeAlterBrokerConfig:
		r, err = decodeBody[AlterBrokerConfig](body)
	case TypeAllocateProducerIDs:
		r, err = decodeBody[AllocateProducerIDs](body)
	case TypeChangePartition:
		r, err = decodeBody[ChangePartition](body)
	case TypeFenceBroker:
		r, err = decodeBody[FenceBroker](body)
	case TypeUnfenceBroker:
		r, err = decodeBody[UnfenceBroker](body)
	case TypeUnregisterBroker:
		r, err = decodeBody[UnregisterBroker](body)
	case TypeUpsertScram:
		r, err = decodeBody[UpsertScram](body)
	case TypeRemoveScram:
		r, err = decodeBody[RemoveScram](body)
	case TypeCreateACL:
		r, err = decodeBody[CreateACL](body)
	case TypeRemoveACL:
		r, err = decodeBody[RemoveACL](body)
	case TypeClientQuota:
		r, err = decodeBody[ClientQuota](body)
	default:
		return nil, fmt.Errorf("%w: %d", ErrUnknownRecordType, uint8(typ))
	}
	if version > recordVersion {
		return nil, fmt.Errorf("%w: %v record version %d, this build reads up to %d", ErrUnsupportedVersion, typ, version, recordVersion)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v record: %v", ErrMalformed, typ, err)
	}
	return r, nil
}

func decodeBody[T Record](body []byte) (Record, error) {
	var v T
	if err := strictUnmarshal(body, &v); err != nil {
		return nil, err
	}
	return v, nil
}

// strictUnmarshal decodes exactly one JSON object, rejecting unknown fields,
// null and trailing data.
func strictUnmarshal(b []byte, v any) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return fmt.Errorf("body is not a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data after JSON object")
	}
	if off := dec.InputOffset(); off != int64(len(b)) {
		return fmt.Errorf("trailing data at byte %d", off)
	}
	return nil
}
