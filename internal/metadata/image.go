package metadata

import (
	"fmt"
	"maps"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"
)

// ClusterDefault is the BrokerConfigs key (and AlterBrokerConfig.BrokerID)
// of the cluster-wide default dynamic broker configs.
const ClusterDefault int32 = -1

// NoLeader is Partition.Leader when the partition has no leader.
const NoLeader int32 = -1

// MaxProducerIDBlock bounds AllocateProducerIDs.Count.
const MaxProducerIDBlock = 1 << 20

// maxTopicNameLen is Kafka's limit (249).
const maxTopicNameLen = 249

// Image is the cluster metadata at one log offset.
//
// An Image is immutable once published: never modify it, nor anything
// reachable from it (maps, topics, partitions, slices). Apply returns a new
// image that shares every unchanged topic and partition with its parent.
// All maps are non-nil.
type Image struct {
	ClusterID      string
	Offset         int64 // raft index of the last applied entry
	Topics         map[string]*Topic
	TopicsByID     map[Uuid]*Topic
	Brokers        map[int32]*Broker
	BrokerConfigs  map[int32]map[string]string // key ClusterDefault (-1) = cluster-wide defaults
	NextProducerID int64
	// Security state (security.go); nil when empty. Copy-on-write like
	// the rest: a record replaces the maps it changes.
	Scram  map[string]map[string]ScramCredential // user → mechanism → credential
	ACLs   map[Uuid]ACL
	Quotas map[string]QuotaConfig // QuotaEntityKey → the entity's quotas
}

// Topic is one topic. Configs holds only the dynamic (per-topic) configs.
type Topic struct {
	Name       string            `json:"name"`
	ID         Uuid              `json:"id"`
	Partitions []*Partition      `json:"partitions"`
	Configs    map[string]string `json:"configs"`
}

// Partition is one partition's replica set and leadership state. Topic and
// TopicID repeat the owning topic's name and id.
type Partition struct {
	Topic          string  `json:"-"`
	TopicID        Uuid    `json:"-"`
	Index          int32   `json:"index"`
	Replicas       []int32 `json:"replicas"`
	ISR            []int32 `json:"isr"`
	Leader         int32   `json:"leader"`
	LeaderEpoch    int32   `json:"leader_epoch"`
	PartitionEpoch int32   `json:"partition_epoch"`
	// ELR is KIP-966's eligible leader replicas: replicas that left the
	// ISR while it was below min.insync.replicas and so still hold every
	// committed record; a leader may be elected from them when the ISR
	// has no live member.
	ELR []int32 `json:"elr,omitempty"`
	// AddingReplicas and RemovingReplicas describe an ongoing
	// reassignment (both subsets of Replicas). The reassignment completes
	// when every adding replica is in the ISR: Replicas then loses the
	// removing ones.
	AddingReplicas   []int32 `json:"adding_replicas,omitempty"`
	RemovingReplicas []int32 `json:"removing_replicas,omitempty"`
}

// Reassigning reports whether a reassignment is in progress.
func (p *Partition) Reassigning() bool {
	return len(p.AddingReplicas) > 0 || len(p.RemovingReplicas) > 0
}

// Broker is a registered broker.
type Broker struct {
	ID            int32  `json:"id"`
	Host          string `json:"host"`
	Port          int32  `json:"port"`
	Rack          string `json:"rack,omitempty"`
	IncarnationID Uuid   `json:"incarnation_id"`
	Fenced        bool   `json:"fenced,omitempty"`
	// ShuttingDown is set by a controlled shutdown (FenceBroker with
	// Shutdown): the broker stays fenced, and is not elected, until it
	// registers again.
	ShuttingDown bool `json:"shutting_down,omitempty"`
	// ReplicationHost and ReplicationPort are the endpoint followers fetch
	// from (Kafka's inter-broker listener); empty means Host and Port.
	ReplicationHost string `json:"replication_host,omitempty"`
	ReplicationPort int32  `json:"replication_port,omitempty"`
	// Epoch is the broker epoch (KIP-903): the log offset of the
	// registration of this incarnation. A follower's fetch carries it, and
	// a fetch of an older incarnation is refused.
	Epoch int64 `json:"epoch,omitempty"`
	// Listener and Endpoints: see RegisterBroker.
	Listener  string     `json:"listener,omitempty"`
	Endpoints []Endpoint `json:"endpoints,omitempty"`
}

// equal reports whether b and o register the same.
func (b *Broker) equal(o *Broker) bool {
	return b.ID == o.ID && b.Host == o.Host && b.Port == o.Port && b.Rack == o.Rack &&
		b.IncarnationID == o.IncarnationID && b.Fenced == o.Fenced && b.ShuttingDown == o.ShuttingDown &&
		b.ReplicationHost == o.ReplicationHost && b.ReplicationPort == o.ReplicationPort &&
		b.Listener == o.Listener && slices.Equal(b.Endpoints, o.Endpoints) && b.Epoch == o.Epoch
}

// Endpoint returns the broker's advertised address on the named
// listener: Host/Port for its primary listener (or any name when the
// broker registered none), else the matching Endpoints entry.
func (b *Broker) Endpoint(listener string) (string, int32, bool) {
	if b.Listener == "" || listener == "" || listener == b.Listener {
		return b.Host, b.Port, true
	}
	for _, e := range b.Endpoints {
		if e.Name == listener {
			return e.Host, e.Port, true
		}
	}
	return "", 0, false
}

// ReplicationAddr is the host:port followers fetch from.
func (b *Broker) ReplicationAddr() string {
	if b.ReplicationHost != "" && b.ReplicationPort > 0 {
		return net.JoinHostPort(b.ReplicationHost, strconv.Itoa(int(b.ReplicationPort)))
	}
	return net.JoinHostPort(b.Host, strconv.Itoa(int(b.Port)))
}

// Live reports whether the broker is registered and unfenced.
func (im *Image) Live(id int32) bool {
	b, ok := im.Brokers[id]
	return ok && !b.Fenced
}

// NewImage returns the empty image (offset 0, before any record).
func NewImage() *Image {
	return &Image{
		Topics:        map[string]*Topic{},
		TopicsByID:    map[Uuid]*Topic{},
		Brokers:       map[int32]*Broker{},
		BrokerConfigs: map[int32]map[string]string{},
	}
}

// WithOffset returns a copy of im whose Offset is offset and whose content is
// otherwise identical (sharing everything). It is used for log entries that
// carry no record. If offset does not advance, im itself is returned.
func (im *Image) WithOffset(offset int64) *Image {
	if offset <= im.Offset {
		return im
	}
	n := *im
	n.Offset = offset
	return &n
}

// Apply returns the image after applying r at log offset offset.
//
// On success the result has Offset == offset. If r is invalid against im,
// Apply returns im.WithOffset(offset) (same content, offset advanced: the
// entry is consumed but changes nothing) and an error wrapping one of the
// package sentinels. The returned image is never nil. im is never modified.
func (im *Image) Apply(offset int64, r Record) (*Image, error) {
	if offset <= im.Offset {
		return im, fmt.Errorf("%w: offset %d, image at %d", ErrOffsetNotIncreasing, offset, im.Offset)
	}
	next, err := im.apply(offset, derefRecord(r))
	if err != nil {
		return im.WithOffset(offset), err
	}
	return next, nil
}

// draft is an image under construction. The maps of next start out shared
// with the parent and are cloned on first write.
type draft struct {
	next                        *Image
	topicsCloned, brokersCloned bool
	brokerConfigsCloned         bool
}

func (d *draft) mutTopics() {
	if !d.topicsCloned {
		d.next.Topics = maps.Clone(d.next.Topics)
		d.next.TopicsByID = maps.Clone(d.next.TopicsByID)
		d.topicsCloned = true
	}
}

func (d *draft) putTopic(t *Topic) {
	d.mutTopics()
	d.next.Topics[t.Name] = t
	d.next.TopicsByID[t.ID] = t
}

func (im *Image) apply(offset int64, r Record) (*Image, error) {
	if r == nil {
		return nil, fmt.Errorf("%w: nil record", ErrUnknownRecordType)
	}
	if _, ok := r.(SetClusterID); !ok && im.ClusterID == "" {
		return nil, fmt.Errorf("%w: %v before SetClusterID", ErrNoClusterID, r.Type())
	}
	n := *im
	n.Offset = offset
	d := &draft{next: &n}
	var err error
	switch r := r.(type) {
	case SetClusterID:
		err = d.setClusterID(r)
	case RegisterBroker:
		err = d.registerBroker(r)
	case CreateTopic:
		err = d.createTopic(r)
	case DeleteTopic:
		err = d.deleteTopic(r)
	case CreatePartitions:
		err = d.createPartitions(r)
	case AlterTopicConfig:
		err = d.alterTopicConfig(r)
	case AlterBrokerConfig:
		err = d.alterBrokerConfig(r)
	case AllocateProducerIDs:
		err = d.allocateProducerIDs(r)
	case ChangePartition:
		err = d.changePartition(r)
	case FenceBroker:
		err = d.setFenced(r.ID, r.IncarnationID, true, r.Shutdown)
	case UnfenceBroker:
		err = d.setFenced(r.ID, r.IncarnationID, false, false)
	case UnregisterBroker:
		err = d.unregisterBroker(r)
	case UpsertScram:
		err = d.upsertScram(r)
	case RemoveScram:
		err = d.removeScram(r)
	case CreateACL:
		err = d.createACL(r)
	case RemoveACL:
		err = d.removeACL(r)
	case ClientQuota:
		err = d.clientQuota(r)
	default:
		err = fmt.Errorf("%w: %T", ErrUnknownRecordType, r)
	}
	if err != nil {
		return nil, err
	}
	return d.next, nil
}

func (d *draft) setClusterID(r SetClusterID) error {
	switch {
	case r.ID == "":
		return fmt.Errorf("%w: empty", ErrInvalidClusterID)
	case d.next.ClusterID == r.ID:
		return nil
	case d.next.ClusterID != "":
		return fmt.Errorf("%w: have %q, record has %q", ErrClusterIDMismatch, d.next.ClusterID, r.ID)
	}
	d.next.ClusterID = r.ID
	return nil
}

func (d *draft) registerBroker(r RegisterBroker) error {
	switch {
	case r.ID < 0:
		return fmt.Errorf("%w: broker id %d", ErrInvalidBroker, r.ID)
	case r.Host == "":
		return fmt.Errorf("%w: broker %d has no host", ErrInvalidBroker, r.ID)
	case r.Port <= 0 || r.Port > math.MaxUint16:
		return fmt.Errorf("%w: broker %d port %d", ErrInvalidBroker, r.ID, r.Port)
	}
	old, existed := d.next.Brokers[r.ID]
	if !d.brokersCloned {
		d.next.Brokers = maps.Clone(d.next.Brokers)
		d.brokersCloned = true
	}
	d.next.Brokers[r.ID] = &Broker{ID: r.ID, Host: r.Host, Port: r.Port, Rack: r.Rack, IncarnationID: r.IncarnationID,
		ReplicationHost: r.ReplicationHost, ReplicationPort: r.ReplicationPort,
		Listener: r.Listener, Endpoints: slices.Clone(r.Endpoints), Epoch: d.next.Offset}
	if existed && old.IncarnationID != r.IncarnationID {
		d.restarted(r.ID, !r.CleanShutdown, r.StrictELR)
	}
	return nil
}

// restarted applies a broker's new incarnation to its partitions: every
// partition it hosts gets a new partition epoch, so that an ISR change a
// leader computed from the old process's fetch state is refused (the
// leader forgets that state when it sees the new incarnation); a
// partition it leads gets a new leader epoch; after an unclean stop it
// leaves the ISR and ELR wherever another candidate remains, or with
// strict (KIP-966's rule) everywhere, and a partition it led that way is
// left leaderless for the controller to elect from the rest (with strict,
// possibly nobody: the partition waits for an unclean election).
func (d *draft) restarted(id int32, unclean, strict bool) {
	for _, t := range d.next.Topics {
		var nt *Topic
		for i, p := range t.Partitions {
			if !slices.Contains(p.Replicas, id) {
				continue
			}
			np := *p
			others := 0 // other replicas that may hold every committed record
			for _, b := range slices.Concat(np.ISR, np.ELR) {
				if b != id {
					others++
				}
			}
			inISR, inELR := slices.Contains(np.ISR, id), slices.Contains(np.ELR, id)
			if unclean && (others > 0 || strict) && (inISR || inELR) {
				not := func(b int32) bool { return b == id }
				np.ISR = slices.DeleteFunc(slices.Clone(np.ISR), not)
				np.ELR = slices.DeleteFunc(slices.Clone(np.ELR), not)
				if len(np.ELR) == 0 {
					np.ELR = nil
				}
			}
			if np.Leader == id {
				if !slices.Contains(np.ISR, id) {
					np.Leader = NoLeader
				}
				np.LeaderEpoch++
			}
			if np.PartitionEpoch == math.MaxInt32 || np.LeaderEpoch < 0 {
				continue
			}
			np.PartitionEpoch++
			if nt == nil {
				c := *t
				c.Partitions = slices.Clone(t.Partitions)
				nt = &c
			}
			nt.Partitions[i] = &np
		}
		if nt != nil {
			d.putTopic(nt)
		}
	}
}

// unregisterBroker removes a broker that hosts no replica (Kafka's
// UnregisterBroker, after its replicas were moved away).
func (d *draft) unregisterBroker(r UnregisterBroker) error {
	if _, ok := d.next.Brokers[r.ID]; !ok {
		return fmt.Errorf("%w: broker %d is not registered", ErrStaleBroker, r.ID)
	}
	for _, t := range d.next.Topics {
		for _, p := range t.Partitions {
			if slices.Contains(p.Replicas, r.ID) {
				return fmt.Errorf("%w: broker %d still hosts %s-%d", ErrInvalidReplicaAssignment, r.ID, t.Name, p.Index)
			}
		}
	}
	if !d.brokersCloned {
		d.next.Brokers = maps.Clone(d.next.Brokers)
		d.brokersCloned = true
	}
	delete(d.next.Brokers, r.ID)
	return nil
}

// setFenced sets the fenced flag of broker id's incarnation inc.
func (d *draft) setFenced(id int32, inc Uuid, fenced, shutdown bool) error {
	b, ok := d.next.Brokers[id]
	switch {
	case !ok:
		return fmt.Errorf("%w: broker %d is not registered", ErrStaleBroker, id)
	case b.IncarnationID != inc:
		return fmt.Errorf("%w: broker %d is incarnation %v, record names %v", ErrStaleBroker, id, b.IncarnationID, inc)
	case !fenced && b.ShuttingDown:
		return fmt.Errorf("%w: broker %d is shutting down", ErrStaleBroker, id)
	case b.Fenced == fenced && b.ShuttingDown == (b.ShuttingDown || shutdown):
		return nil
	}
	if !d.brokersCloned {
		d.next.Brokers = maps.Clone(d.next.Brokers)
		d.brokersCloned = true
	}
	nb := *b
	nb.Fenced = fenced
	nb.ShuttingDown = nb.ShuttingDown || shutdown
	d.next.Brokers[id] = &nb
	return nil
}

// validTopicName applies Kafka's rules: 1..249 characters of [a-zA-Z0-9._-],
// not "." or "..".
func validTopicName(name string) error {
	if name == "" || name == "." || name == ".." || len(name) > maxTopicNameLen {
		return fmt.Errorf("%w: illegal name %q", ErrInvalidTopic, name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("%w: illegal character %q in %q", ErrInvalidTopic, c, name)
		}
	}
	return nil
}

// validateAssignments checks replica lists: non-empty, no duplicates,
// registered brokers, and all of replication factor rf (0 = take the first).
func (d *draft) validateAssignments(as [][]int32, rf int) error {
	for i, replicas := range as {
		if len(replicas) == 0 {
			return fmt.Errorf("%w: partition %d has no replicas", ErrInvalidReplicaAssignment, i)
		}
		if rf == 0 {
			rf = len(replicas)
		}
		if len(replicas) != rf {
			return fmt.Errorf("%w: partition %d has %d replicas, want %d", ErrInvalidReplicaAssignment, i, len(replicas), rf)
		}
		if err := d.validateReplicas(replicas); err != nil {
			return fmt.Errorf("partition %d: %w", i, err)
		}
	}
	return nil
}

func (d *draft) validateReplicas(replicas []int32) error {
	for j, b := range replicas {
		if slices.Contains(replicas[:j], b) {
			return fmt.Errorf("%w: duplicate replica %d", ErrInvalidReplicaAssignment, b)
		}
		if _, ok := d.next.Brokers[b]; !ok {
			return fmt.Errorf("%w: replica %d is not a registered broker", ErrInvalidReplicaAssignment, b)
		}
	}
	return nil
}

func validateConfigChange(set map[string]string, del []string) error {
	for k := range set {
		if k == "" {
			return fmt.Errorf("%w: empty key", ErrInvalidConfig)
		}
	}
	for _, k := range del {
		if k == "" {
			return fmt.Errorf("%w: empty key", ErrInvalidConfig)
		}
		if _, ok := set[k]; ok {
			return fmt.Errorf("%w: key %q both set and deleted", ErrInvalidConfig, k)
		}
	}
	return nil
}

// applyConfigChange returns a new map; old is not modified.
func applyConfigChange(old, set map[string]string, del []string) map[string]string {
	out := make(map[string]string, len(old)+len(set))
	maps.Copy(out, old)
	maps.Copy(out, set)
	for _, k := range del {
		delete(out, k)
	}
	return out
}

func newPartitions(name string, id Uuid, first int, as [][]int32) []*Partition {
	ps := make([]*Partition, len(as))
	for i, replicas := range as {
		ps[i] = &Partition{
			Topic:    name,
			TopicID:  id,
			Index:    int32(first + i),
			Replicas: slices.Clone(replicas),
			ISR:      slices.Clone(replicas),
			Leader:   replicas[0],
		}
	}
	return ps
}

// collisionKey maps names that Kafka considers colliding to one key.
func collisionKey(name string) string { return strings.ReplaceAll(name, ".", "_") }

// MaxRecordsPerUserOp caps the partitions one user operation (a
// CreateTopics or CreatePartitions request, an auto-creation) may create:
// Kafka's QuorumController.MAX_RECORDS_PER_USER_OP (= MAX_RECORDS_PER_BATCH,
// 10000), which ReplicationControlManager.MAX_PARTITIONS_PER_BATCH also is.
const MaxRecordsPerUserOp = 10_000

// MaxTopicPartitions is Samsa's cap on one topic's partition count, applied
// to automatic and manual assignments alike. Kafka has none below
// Integer.MAX_VALUE beyond the per-operation cap; one topic with more
// partitions than this would need more file descriptors than a broker is
// usually given.
const MaxTopicPartitions = 1 << 16

func (d *draft) createTopic(r CreateTopic) error {
	if err := validTopicName(r.Name); err != nil {
		return err
	}
	if r.ID.IsZero() || r.ID == metadataTopicUuid {
		return fmt.Errorf("%w: reserved topic id %v", ErrInvalidTopic, r.ID)
	}
	if _, ok := d.next.Topics[r.Name]; ok {
		return fmt.Errorf("%w: %q", ErrTopicExists, r.Name)
	}
	if t, ok := d.next.TopicsByID[r.ID]; ok {
		return fmt.Errorf("%w: %v is topic %q", ErrTopicIDExists, r.ID, t.Name)
	}
	if strings.ContainsAny(r.Name, "._") {
		key := collisionKey(r.Name)
		for name := range d.next.Topics {
			if collisionKey(name) == key {
				return fmt.Errorf("%w: %q collides with %q", ErrTopicNameCollision, r.Name, name)
			}
		}
	}
	if len(r.Assignments) == 0 || len(r.Assignments) > math.MaxInt32 {
		return fmt.Errorf("%w: %d partitions", ErrInvalidPartitions, len(r.Assignments))
	}
	if len(r.Assignments) > MaxRecordsPerUserOp {
		return fmt.Errorf("%w: %d partitions, limit %d", ErrTooManyPartitions, len(r.Assignments), MaxRecordsPerUserOp)
	}
	if err := d.validateAssignments(r.Assignments, 0); err != nil {
		return err
	}
	if err := validateConfigChange(r.Configs, nil); err != nil {
		return err
	}
	d.putTopic(&Topic{
		Name:       r.Name,
		ID:         r.ID,
		Partitions: newPartitions(r.Name, r.ID, 0, r.Assignments),
		Configs:    applyConfigChange(nil, r.Configs, nil),
	})
	return nil
}

func (d *draft) topic(id Uuid) (*Topic, error) {
	t, ok := d.next.TopicsByID[id]
	if !ok {
		return nil, fmt.Errorf("%w: id %v", ErrUnknownTopic, id)
	}
	return t, nil
}

func (d *draft) deleteTopic(r DeleteTopic) error {
	t, err := d.topic(r.ID)
	if err != nil {
		return err
	}
	d.mutTopics()
	delete(d.next.Topics, t.Name)
	delete(d.next.TopicsByID, t.ID)
	return nil
}

func (d *draft) createPartitions(r CreatePartitions) error {
	t, err := d.topic(r.TopicID)
	if err != nil {
		return err
	}
	if len(r.Assignments) == 0 || len(t.Partitions)+len(r.Assignments) > MaxTopicPartitions {
		return fmt.Errorf("%w: topic %q has %d partitions, cannot add %d (at most %d per topic)", ErrInvalidPartitions, t.Name, len(t.Partitions), len(r.Assignments), MaxTopicPartitions)
	}
	if len(r.Assignments) > MaxRecordsPerUserOp {
		return fmt.Errorf("%w: %d partitions, limit %d", ErrTooManyPartitions, len(r.Assignments), MaxRecordsPerUserOp)
	}
	rf := 0
	if len(t.Partitions) > 0 {
		rf = len(t.Partitions[0].Replicas)
	}
	if err := d.validateAssignments(r.Assignments, rf); err != nil {
		return err
	}
	nt := *t
	nt.Partitions = slices.Concat(t.Partitions, newPartitions(t.Name, t.ID, len(t.Partitions), r.Assignments))
	d.putTopic(&nt)
	return nil
}

func (d *draft) alterTopicConfig(r AlterTopicConfig) error {
	t, err := d.topic(r.TopicID)
	if err != nil {
		return err
	}
	if err := validateConfigChange(r.Set, r.Delete); err != nil {
		return err
	}
	nt := *t
	nt.Configs = applyConfigChange(t.Configs, r.Set, r.Delete)
	d.putTopic(&nt)
	return nil
}

func (d *draft) alterBrokerConfig(r AlterBrokerConfig) error {
	if r.BrokerID < ClusterDefault {
		return fmt.Errorf("%w: broker id %d", ErrInvalidConfig, r.BrokerID)
	}
	if err := validateConfigChange(r.Set, r.Delete); err != nil {
		return err
	}
	if !d.brokerConfigsCloned {
		d.next.BrokerConfigs = maps.Clone(d.next.BrokerConfigs)
		d.brokerConfigsCloned = true
	}
	cfg := applyConfigChange(d.next.BrokerConfigs[r.BrokerID], r.Set, r.Delete)
	if len(cfg) == 0 {
		delete(d.next.BrokerConfigs, r.BrokerID)
	} else {
		d.next.BrokerConfigs[r.BrokerID] = cfg
	}
	return nil
}

func (d *draft) allocateProducerIDs(r AllocateProducerIDs) error {
	if r.Count <= 0 || r.Count > MaxProducerIDBlock {
		return fmt.Errorf("%w: %d", ErrInvalidProducerIDCount, r.Count)
	}
	if d.next.NextProducerID > math.MaxInt64-int64(r.Count) {
		return fmt.Errorf("%w: next id %d", ErrProducerIDsExhausted, d.next.NextProducerID)
	}
	d.next.NextProducerID += int64(r.Count)
	return nil
}

func (d *draft) changePartition(r ChangePartition) error {
	t, err := d.topic(r.TopicID)
	if err != nil {
		return err
	}
	if r.Partition < 0 || int(r.Partition) >= len(t.Partitions) {
		return fmt.Errorf("%w: %q partition %d", ErrUnknownPartition, t.Name, r.Partition)
	}
	old := t.Partitions[r.Partition]
	if r.ExpectedPartitionEpoch != nil && *r.ExpectedPartitionEpoch != old.PartitionEpoch {
		return fmt.Errorf("%w: %q partition %d is at partition epoch %d, the change expects %d", ErrStalePartitionEpoch, t.Name, r.Partition, old.PartitionEpoch, *r.ExpectedPartitionEpoch)
	}
	p := *old
	if r.Replicas != nil {
		if len(r.Replicas) == 0 {
			return fmt.Errorf("%w: empty replicas", ErrInvalidReplicaAssignment)
		}
		if err := d.validateReplicas(r.Replicas); err != nil {
			return err
		}
		p.Replicas = slices.Clone(r.Replicas)
	}
	if r.ISR != nil {
		p.ISR = slices.Clone(r.ISR)
	}
	if r.ELR != nil {
		p.ELR = slices.Clone(r.ELR)
	}
	if r.AddingReplicas != nil {
		p.AddingReplicas = slices.Clone(r.AddingReplicas)
	}
	if r.RemovingReplicas != nil {
		p.RemovingReplicas = slices.Clone(r.RemovingReplicas)
	}
	for _, set := range []struct {
		name string
		ids  []int32
	}{{"ISR", p.ISR}, {"ELR", p.ELR}, {"adding replicas", p.AddingReplicas}, {"removing replicas", p.RemovingReplicas}} {
		for i, b := range set.ids {
			if !slices.Contains(p.Replicas, b) || slices.Contains(set.ids[:i], b) {
				return fmt.Errorf("%w: %s %v is not a set of replicas %v", ErrInvalidPartitionState, set.name, set.ids, p.Replicas)
			}
		}
	}
	for _, b := range p.ELR {
		if slices.Contains(p.ISR, b) {
			return fmt.Errorf("%w: replica %d is in both the ISR %v and the ELR %v", ErrInvalidPartitionState, b, p.ISR, p.ELR)
		}
	}
	if r.ExpectedPartitionEpoch != nil {
		// A leader's ISR expansion (AlterPartition) may not add a fenced
		// or shutting-down broker (Kafka's INELIGIBLE_REPLICA, KIP-841).
		for _, b := range p.ISR {
			if br, ok := d.next.Brokers[b]; !slices.Contains(old.ISR, b) && (!ok || br.Fenced) {
				return fmt.Errorf("%w: replica %d is fenced or shutting down and cannot join the ISR", ErrIneligibleReplica, b)
			}
		}
	}
	if len(p.ISR) == 0 && r.Leader != NoLeader {
		return fmt.Errorf("%w: leader %d with an empty ISR", ErrInvalidPartitionState, r.Leader)
	}
	if r.Leader < NoLeader {
		return fmt.Errorf("%w: leader %d", ErrInvalidPartitionState, r.Leader)
	}
	if r.Leader != NoLeader && !slices.Contains(p.ISR, r.Leader) {
		return fmt.Errorf("%w: leader %d not in ISR %v", ErrInvalidPartitionState, r.Leader, p.ISR)
	}
	if r.LeaderEpoch < old.LeaderEpoch || (r.Leader != old.Leader && r.LeaderEpoch == old.LeaderEpoch) {
		return fmt.Errorf("%w: leader %d epoch %d after leader %d epoch %d", ErrInvalidLeaderEpoch, r.Leader, r.LeaderEpoch, old.Leader, old.LeaderEpoch)
	}
	if old.PartitionEpoch == math.MaxInt32 {
		return fmt.Errorf("%w: partition epoch exhausted", ErrInvalidPartitionState)
	}
	p.Leader, p.LeaderEpoch = r.Leader, r.LeaderEpoch
	if len(p.ELR) == 0 {
		p.ELR = nil
	}
	if len(p.AddingReplicas) == 0 {
		p.AddingReplicas = nil
	}
	if len(p.RemovingReplicas) == 0 {
		p.RemovingReplicas = nil
	}
	p.PartitionEpoch++
	nt := *t
	nt.Partitions = slices.Clone(t.Partitions)
	nt.Partitions[r.Partition] = &p
	d.putTopic(&nt)
	return nil
}
