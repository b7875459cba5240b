package broker

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/samsa-streaming/samsa/internal/config"
	"github.com/samsa-streaming/samsa/internal/metadata"
	"github.com/samsa-streaming/samsa/internal/partition"
)

// internalTopics are the topics Kafka marks internal in Metadata.
func isInternalTopic(name string) bool {
	return name == "__consumer_offsets" || name == "__transaction_state"
}

// validTopicName checks a name as Kafka's Topic.validate does.
func validTopicName(name string) error {
	if name == "" {
		return fmt.Errorf("topic name is illegal, it can't be empty")
	}
	if name == "." || name == ".." {
		return fmt.Errorf("topic name cannot be \".\" or \"..\"")
	}
	if len(name) > 249 {
		return fmt.Errorf("topic name is illegal, it can't be longer than 249 characters, topic name: %s", name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("topic name %q is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'", name)
		}
	}
	return nil
}

// topicError is a per-topic failure with its Kafka code and message.
type topicError struct {
	code *kerr.Error
	msg  string
}

func (e *topicError) Error() string { return e.msg }
func (e *topicError) Unwrap() error { return e.code }

func newTopicError(code *kerr.Error, format string, args ...any) *topicError {
	return &topicError{code: code, msg: fmt.Sprintf(format, args...)}
}

// assignReplicas places rf replicas per partition over the live brokers
// (registered, unfenced, not in controlled shutdown). Without racks it goes
// round robin from a start that depends on the topic, as Kafka's
// non-rack-aware placement does; when brokers have racks (broker.rack) it
// uses Kafka's rack-aware placement (rackAwareReplicas).
func assignReplicas(img *metadata.Image, first, count int32, rf int16, seed int) ([][]int32, error) {
	var ids []int32
	racks := false
	for id, br := range img.Brokers {
		if !br.Fenced && !br.ShuttingDown {
			ids = append(ids, id)
			racks = racks || br.Rack != ""
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	if int(rf) > len(ids) || rf <= 0 {
		return nil, newTopicError(kerr.InvalidReplicationFactor, "replication factor: %d larger than available brokers: %d", rf, len(ids))
	}
	if racks {
		return rackAwareReplicas(img, ids, first, count, int(rf), seed), nil
	}
	out := make([][]int32, 0, count)
	for p := first; p < first+count; p++ {
		reps := make([]int32, rf)
		for r := range reps {
			reps[r] = ids[(int(p)+seed+r)%len(ids)]
		}
		out = append(out, reps)
	}
	return out, nil
}

// rackAwareReplicas is Kafka's rack-aware assignment
// (AdminUtils.assignReplicasToBrokersRackAware) over the sorted broker ids,
// with seed in place of its random start and shift. The brokers are listed
// alternating between racks (racks and the brokers of each rack sorted);
// partition p's first replica, its leader, is the ((p+start) mod n)-th of
// that list, which spreads leaders evenly; each further replica is the
// next broker, at a shift that grows every n partitions, that is on a rack
// without a replica of the partition yet, until every rack has one.
// Brokers without a rack count as one rack.
func rackAwareReplicas(img *metadata.Image, ids []int32, first, count int32, rf, seed int) [][]int32 {
	byRack := map[string][]int32{}
	for _, id := range ids {
		rack := img.Brokers[id].Rack
		byRack[rack] = append(byRack[rack], id)
	}
	racks := make([]string, 0, len(byRack))
	for rack := range byRack {
		racks = append(racks, rack)
	}
	sort.Strings(racks)
	var arranged []int32
	for i := 0; len(arranged) < len(ids); i++ {
		for _, rack := range racks {
			if i < len(byRack[rack]) {
				arranged = append(arranged, byRack[rack][i])
			}
		}
	}

	n, numRacks := len(arranged), len(racks)
	start, shift := seed%n, seed%n
	out := make([][]int32, 0, count)
	for p := int(first); p < int(first+count); p++ {
		if p > 0 && p%n == 0 {
			shift++
		}
		firstIdx := (p + start) % n
		leader := arranged[firstIdx]
		reps := []int32{leader}
		racksUsed := map[string]bool{img.Brokers[leader].Rack: true}
		used := map[int32]bool{leader: true}
		for k := 0; len(reps) < rf; k++ {
			// n > 1 here: rf <= n.
			b := arranged[(firstIdx+1+(shift*numRacks+k)%(n-1))%n]
			rack := img.Brokers[b].Rack
			if (!racksUsed[rack] || len(racksUsed) == numRacks) && !used[b] {
				reps = append(reps, b)
				racksUsed[rack] = true
				used[b] = true
			}
		}
		out = append(out, reps)
	}
	return out
}

// createTopic validates and creates a topic through the metadata log.
// numPartitions -1 and rf -1 mean the broker defaults.
func (b *Broker) createTopic(ctx context.Context, name string, numPartitions int32, rf int16, assignment [][]int32, configs map[string]string, validateOnly bool) (*metadata.Topic, error) {
	if err := validTopicName(name); err != nil {
		return nil, newTopicError(kerr.InvalidTopicException, "%v", err)
	}
	img := b.image()
	if _, ok := img.Topics[name]; ok {
		return nil, newTopicError(kerr.TopicAlreadyExists, "Topic '%s' already exists.", name)
	}
	if err := config.ValidateTopicConfigs(configs); err != nil {
		return nil, newTopicError(kerr.InvalidConfig, "%v", err)
	}
	if len(assignment) > 0 {
		if numPartitions != -1 || rf != -1 {
			return nil, newTopicError(kerr.InvalidRequest, "both numPartitions or replicationFactor and replicasAssignments were set; both cannot be used at the same time")
		}
		for i, reps := range assignment {
			if len(reps) == 0 || len(reps) != len(assignment[0]) {
				return nil, newTopicError(kerr.InvalidReplicaAssignment, "partition %d: all partitions must have the same, non-zero number of replicas", i)
			}
			seen := map[int32]bool{}
			for _, r := range reps {
				if _, ok := img.Brokers[r]; !ok {
					return nil, newTopicError(kerr.InvalidReplicaAssignment, "partition %d: broker %d is not registered", i, r)
				}
				if seen[r] {
					return nil, newTopicError(kerr.InvalidReplicaAssignment, "partition %d: duplicate replica %d", i, r)
				}
				seen[r] = true
			}
		}
	} else {
		if numPartitions == -1 {
			numPartitions = int32(b.settingInt(img, "num.partitions"))
		}
		if rf == -1 {
			rf = int16(b.settingInt(img, "default.replication.factor"))
		}
		if numPartitions <= 0 {
			return nil, newTopicError(kerr.InvalidPartitions, "number of partitions must be larger than 0")
		}
		if numPartitions > 1<<16 {
			return nil, newTopicError(kerr.InvalidPartitions, "number of partitions %d is larger than Samsa's limit of 65536", numPartitions)
		}
		if rf <= 0 {
			return nil, newTopicError(kerr.InvalidReplicationFactor, "replication factor must be larger than 0")
		}
		var err error
		if assignment, err = assignReplicas(img, 0, numPartitions, rf, len(name)); err != nil {
			return nil, err
		}
	}
	if validateOnly {
		return &metadata.Topic{Name: name, Partitions: make([]*metadata.Partition, len(assignment)), Configs: configs}, nil
	}
	rec := metadata.CreateTopic{Name: name, ID: metadata.RandomUuid(), Configs: configs, Assignments: assignment}
	after, err := b.ctl.Propose(ctx, rec)
	if err != nil {
		return nil, err
	}
	t, ok := after.Topics[name]
	if !ok {
		return nil, fmt.Errorf("topic %s vanished after creation", name)
	}
	b.syncPartitions(ctx)
	return t, nil
}

// syncPartitions makes the partition manager follow the current image now,
// so that a handler that just changed metadata can use the result at once.
func (b *Broker) syncPartitions(ctx context.Context) {
	if err := b.parts.Sync(ctx, b.image(), false); err != nil {
		b.lg.Warn("partition sync", "err", err)
	}
}

// topicByName looks a topic up in img.
func topicByName(img *metadata.Image, name string) (*metadata.Topic, bool) {
	t, ok := img.Topics[name]
	return t, ok
}

func partitionOf(t *metadata.Topic, p int32) (*metadata.Partition, bool) {
	if p < 0 || int(p) >= len(t.Partitions) {
		return nil, false
	}
	return t.Partitions[p], true
}

// setting is a broker setting's effective value, dynamic changes included.
func (b *Broker) setting(img *metadata.Image, name string) string {
	return b.settings().Setting(name, partition.DynamicSettings(img, b.cfg.NodeID))
}

func (b *Broker) settingInt(img *metadata.Image, name string) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(b.setting(img, name)), 10, 64)
	if err != nil {
		n, _ = strconv.ParseInt(b.settings().Values[name], 10, 64)
	}
	return n
}
