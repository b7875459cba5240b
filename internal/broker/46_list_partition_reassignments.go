package broker

import (
	"context"
	"slices"
	"sort"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/acl"
	"github.com/samsa-streaming/samsa/internal/metadata"
	"github.com/twmb/franz-go/pkg/kerr"
)

// ListPartitionReassignments, version 0 (KIP-455).
//
// Version notes:
//   - v0: flexible versions
func init() {
	register(int16(kmsg.ListPartitionReassignments), 0, 0, (*Broker).handleListPartitionReassignments)
}

// handleListPartitionReassignments is Kafka's ListPartitionReassignments:
// the partitions under reassignment among those named (null topics: all),
// with their full replica list and the replicas being added and removed.
// Unknown topics and partitions, and partitions not being reassigned, are
// left out.
func (b *Broker) handleListPartitionReassignments(_ context.Context, c *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.ListPartitionReassignmentsRequest)
	resp := req.ResponseKind().(*kmsg.ListPartitionReassignmentsResponse)
	if !c.canCluster(acl.OpDescribe) {
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
		return resp, nil
	}
	img := b.image()

	list := func(t *metadata.Topic, ids []int32) {
		st := kmsg.NewListPartitionReassignmentsResponseTopic()
		st.Topic = t.Name
		for _, id := range ids {
			p, ok := partitionOf(t, id)
			if !ok || !p.Reassigning() {
				continue
			}
			sp := kmsg.NewListPartitionReassignmentsResponseTopicPartition()
			sp.Partition = p.Index
			sp.Replicas = slices.Clone(p.Replicas)
			sp.AddingReplicas = append([]int32{}, p.AddingReplicas...)
			sp.RemovingReplicas = append([]int32{}, p.RemovingReplicas...)
			st.Partitions = append(st.Partitions, sp)
		}
		if len(st.Partitions) > 0 {
			resp.Topics = append(resp.Topics, st)
		}
	}

	if req.Topics == nil {
		names := make([]string, 0, len(img.Topics))
		for name := range img.Topics {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			t := img.Topics[name]
			ids := make([]int32, len(t.Partitions))
			for i, p := range t.Partitions {
				ids[i] = p.Index
			}
			list(t, ids)
		}
		return resp, nil
	}
	for _, rt := range req.Topics {
		if t, ok := img.Topics[rt.Topic]; ok {
			list(t, rt.Partitions)
		}
	}
	return resp, nil
}
