package broker

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/samsa-streaming/samsa/internal/config"
	"github.com/samsa-streaming/samsa/internal/controller"
	"github.com/samsa-streaming/samsa/internal/coordinator"
	"github.com/samsa-streaming/samsa/internal/metadata"
	"github.com/samsa-streaming/samsa/internal/partition"
)

// isInternalTopic: the topics Kafka marks internal in Metadata, and only
// coordinators write (coordinator.IsInternal).
func isInternalTopic(name string) bool { return coordinator.IsInternal(name) }

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
		if numPartitions > metadata.MaxTopicPartitions {
			return nil, newTopicError(kerr.InvalidPartitions, "number of partitions %d is larger than Samsa's limit of %d", numPartitions, metadata.MaxTopicPartitions)
		}
		if rf <= 0 {
			return nil, newTopicError(kerr.InvalidReplicationFactor, "replication factor must be larger than 0")
		}
		var err error
		if assignment, err = controller.AssignReplicas(img, 0, numPartitions, rf, len(name)); err != nil {
			return nil, err
		}
	}
	if len(assignment) > metadata.MaxRecordsPerUserOp {
		return nil, newTopicError(kerr.PolicyViolation, "%s", excessivePartitionsPerRequest)
	}
	if err := b.checkFDBudget(img, assignment); err != nil {
		return nil, err
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

// Kafka's messages for an operation over MaxRecordsPerUserOp partitions:
// ReplicationControlManager.validateTotalNumberOfPartitions (CreateTopics)
// and EventHandlerExceptionInfo's for a BoundedListTooLongException (any
// other operation), both POLICY_VIOLATION.
const (
	excessivePartitionsPerRequest = "Excessively large number of partitions per request."
	excessiveBatch                = "Unable to perform excessively large batch operation."
)

// checkFDBudget refuses an operation whose assignment would place more
// partitions on this broker than its file-descriptor budget allows
// (partition.Manager.CheckCapacity), with POLICY_VIOLATION: Kafka has no
// such check, and POLICY_VIOLATION is the code it gives operations refused
// for their size, which clients report as not retriable. Each broker knows
// only its own limit, so only the partitions placed here are counted.
func (b *Broker) checkFDBudget(img *metadata.Image, assignment [][]int32) error {
	add := 0
	for _, reps := range assignment {
		if slices.Contains(reps, b.cfg.NodeID) {
			add++
		}
	}
	if add == 0 {
		return nil
	}
	hosted := 0
	for _, t := range img.Topics {
		for _, p := range t.Partitions {
			if slices.Contains(p.Replicas, b.cfg.NodeID) {
				hosted++
			}
		}
	}
	if err := b.parts.CheckCapacity(hosted, add); err != nil {
		return newTopicError(kerr.PolicyViolation, "%v", err)
	}
	return nil
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
