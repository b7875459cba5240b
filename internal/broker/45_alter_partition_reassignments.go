package broker

import (
	"context"
	"errors"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/acl"
	"github.com/samsa-streaming/samsa/internal/controller"
	"github.com/samsa-streaming/samsa/internal/metadata"
)

// AlterPartitionReassignments, versions 0-1 (KIP-455).
//
// Version notes:
//   - v0: flexible versions; may change the replication factor
//   - v1: AllowReplicationFactorChange (KIP-860), echoed in the response
func init() {
	register(int16(kmsg.AlterPartitionAssignments), 0, 1, (*Broker).handleAlterPartitionReassignments)
}

// reassignTarget is one partition of the request, with its answer.
type reassignTarget struct {
	topic     string
	partition int32
	replicas  []int32 // nil: cancel
	err       error
}

// handleAlterPartitionReassignments is Kafka's AlterPartitionReassignments
// (KIP-455): per partition, start a reassignment to the given replicas or,
// with null replicas, cancel the one in progress (controller.Reassign has
// the rules). It answers once the changes are applied to the metadata;
// the data moves afterwards, as the new replicas catch up. v1 (KIP-860)
// can forbid changing the replication factor.
func (b *Broker) handleAlterPartitionReassignments(ctx context.Context, c *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.AlterPartitionAssignmentsRequest)
	resp := req.ResponseKind().(*kmsg.AlterPartitionAssignmentsResponse)
	if !c.canCluster(acl.OpAlter) {
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
		return resp, nil
	}
	ctx, cancel := adminContext(ctx, req.TimeoutMillis)
	defer cancel()
	allowRF := req.Version < 1 || req.AllowReplicationFactorChange
	resp.AllowReplicationFactorChange = allowRF

	var targets []reassignTarget
	for _, rt := range req.Topics {
		for _, rp := range rt.Partitions {
			targets = append(targets, reassignTarget{topic: rt.Topic, partition: rp.Partition, replicas: rp.Replicas})
		}
	}
	changed := false
	var mu sync.Mutex
	eachPartitionChange(len(targets), func(i int) {
		tg := &targets[i]
		tg.err = proposeChange(ctx, b, func(img *metadata.Image) (metadata.ChangePartition, bool, error) {
			return reassignment(img, tg.topic, tg.partition, tg.replicas, allowRF)
		})
		if tg.err == nil {
			mu.Lock()
			changed = true
			mu.Unlock()
		}
	})
	if changed {
		b.syncPartitions(ctx)
	}

	i := 0
	for _, rt := range req.Topics {
		st := kmsg.NewAlterPartitionAssignmentsResponseTopic()
		st.Topic = rt.Topic
		for range rt.Partitions {
			tg := targets[i]
			i++
			sp := kmsg.NewAlterPartitionAssignmentsResponseTopicPartition()
			sp.Partition = tg.partition
			if tg.err != nil {
				sp.ErrorCode = errorCode(tg.err)
				sp.ErrorMessage = errMessage(tg.err)
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, nil
}

// reassignment computes one partition's change with Kafka's error codes.
func reassignment(img *metadata.Image, topic string, idx int32, replicas []int32, allowRF bool) (metadata.ChangePartition, bool, error) {
	ch, needed, err := controller.Reassign(img, topic, idx, replicas)
	if errors.Is(err, controller.ErrNoReassignmentInProgress) {
		return ch, false, newTopicError(kerr.NoReassignmentInProgress, "%v", err)
	}
	if err != nil || replicas == nil || allowRF {
		return ch, needed, err
	}
	p := img.Topics[topic].Partitions[idx]
	if cur := len(p.Replicas) - len(p.AddingReplicas); len(replicas) != cur {
		return ch, false, newTopicError(kerr.InvalidReplicationFactor, "The replication factor is changed from %d to %d", cur, len(replicas))
	}
	return ch, needed, nil
}
