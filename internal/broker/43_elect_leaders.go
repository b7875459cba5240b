package broker

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/acl"
	"github.com/samsa-streaming/samsa/internal/controller"
	"github.com/samsa-streaming/samsa/internal/metadata"
	"github.com/samsa-streaming/samsa/internal/partition"
)

// ElectLeaders, versions 0-2.
//
// Version notes:
//   - v0: preferred replica elections only
//   - v1: ElectionType, preferred or unclean (KIP-460); top-level ErrorCode
//   - v2: flexible versions
func init() { register(int16(kmsg.ElectLeaders), 0, 2, (*Broker).handleElectLeaders) }

// Election types (v1+; v0 always elects the preferred replica).
const (
	electPreferred int8 = 0
	electUnclean   int8 = 1
)

// maxParallelProposals bounds the metadata proposals one admin request
// keeps in flight; raft commits them in batches.
const maxParallelProposals = 32

// proposeAttempts bounds how often a partition change is recomputed after
// losing a race (ErrStalePartitionEpoch) with another change.
const proposeAttempts = 3

// electTarget is one partition named by the request, with its answer.
type electTarget struct {
	topic     string
	partition int32
	err       error
}

// handleElectLeaders is Kafka's ElectLeaders: PREFERRED moves leadership to
// each partition's first replica if it is live and in sync; UNCLEAN elects
// a leader for a leaderless partition from the ELR or, failing that, from
// any live replica. Null topics means every partition; then, as Kafka does,
// partitions that need no election are left out of the answer.
func (b *Broker) handleElectLeaders(ctx context.Context, c *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.ElectLeadersRequest)
	resp := req.ResponseKind().(*kmsg.ElectLeadersResponse)
	if !c.canCluster(acl.OpAlter) {
		return electLeadersDenied(req, resp), nil
	}
	ctx, cancel := adminContext(ctx, req.TimeoutMillis)
	defer cancel()

	typ := req.ElectionType
	if req.Version == 0 {
		typ = electPreferred
	}
	if typ != electPreferred && typ != electUnclean {
		resp.ErrorCode = kerr.InvalidRequest.Code
		return resp, nil
	}

	img := b.image()
	all := req.Topics == nil
	var targets []electTarget
	var topicOrder []string
	if all {
		for name, t := range img.Topics {
			topicOrder = append(topicOrder, name)
			for _, p := range t.Partitions {
				targets = append(targets, electTarget{topic: name, partition: p.Index})
			}
		}
		sort.Strings(topicOrder)
		sort.Slice(targets, func(i, j int) bool {
			a, c := targets[i], targets[j]
			return a.topic < c.topic || a.topic == c.topic && a.partition < c.partition
		})
	} else {
		for _, rt := range req.Topics {
			topicOrder = append(topicOrder, rt.Topic)
			for _, p := range rt.Partitions {
				targets = append(targets, electTarget{topic: rt.Topic, partition: p})
			}
		}
	}

	changed := false
	var mu sync.Mutex
	eachPartitionChange(len(targets), func(i int) {
		tg := &targets[i]
		tg.err = proposeChange(ctx, b, func(img *metadata.Image) (metadata.ChangePartition, bool, error) {
			ch, err := b.election(img, typ, tg.topic, tg.partition)
			return ch, err == nil, err
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

	byTopic := map[string]int{} // index in resp.Topics
	for _, name := range topicOrder {
		if _, ok := byTopic[name]; ok {
			continue
		}
		st := kmsg.NewElectLeadersResponseTopic()
		st.Topic = name
		byTopic[name] = len(resp.Topics)
		resp.Topics = append(resp.Topics, st)
	}
	for _, tg := range targets {
		if all && errors.Is(tg.err, kerr.ElectionNotNeeded) {
			continue
		}
		sp := kmsg.NewElectLeadersResponseTopicPartition()
		sp.Partition = tg.partition
		if tg.err != nil {
			sp.ErrorCode = errorCode(tg.err)
			sp.ErrorMessage = errMessage(tg.err)
		}
		st := &resp.Topics[byTopic[tg.topic]]
		st.Partitions = append(st.Partitions, sp)
	}
	return resp, nil
}

// election computes the change an election of type typ makes to topic's
// partition in img, or the per-partition error Kafka answers.
func (b *Broker) election(img *metadata.Image, typ int8, topic string, idx int32) (metadata.ChangePartition, error) {
	t, ok := img.Topics[topic]
	if !ok {
		return metadata.ChangePartition{}, newTopicError(kerr.UnknownTopicOrPartition, "No such topic as %s", topic)
	}
	p, ok := partitionOf(t, idx)
	if !ok {
		return metadata.ChangePartition{}, newTopicError(kerr.UnknownTopicOrPartition, "No such partition as %s-%d", topic, idx)
	}
	if typ == electPreferred {
		if len(p.Replicas) > 0 && p.Leader == p.Replicas[0] {
			return metadata.ChangePartition{}, kerrError(kerr.ElectionNotNeeded)
		}
		ch, ok := controller.PreferredElection(img, p)
		if !ok {
			return metadata.ChangePartition{}, kerrError(kerr.PreferredLeaderNotAvailable)
		}
		return ch, nil
	}
	if p.Leader != metadata.NoLeader {
		return metadata.ChangePartition{}, kerrError(kerr.ElectionNotNeeded)
	}
	eff := b.settings().ResolveTopic(partition.DynamicSettings(img, b.cfg.NodeID), t.Configs)
	pol := controller.ElectionPolicy{MinISR: int(eff.MinInsyncReplicas), Unclean: true}
	ch, ok := controller.ElectPartition(img, p, pol)
	if !ok || ch.Leader == metadata.NoLeader {
		return metadata.ChangePartition{}, kerrError(kerr.EligibleLeadersNotAvailable)
	}
	return ch, nil
}

// kerrError is code with Kafka's message for it.
func kerrError(code *kerr.Error) error {
	return newTopicError(code, "%s.", code.Description)
}

// proposeChange computes a partition change from the current image and
// proposes it (unless compute says none is needed), recomputing from the
// newer image if another change to the partition got in first.
func proposeChange(ctx context.Context, b *Broker, compute func(img *metadata.Image) (ch metadata.ChangePartition, needed bool, err error)) error {
	var err error
	for range proposeAttempts {
		ch, needed, cerr := compute(b.image())
		if cerr != nil || !needed {
			return cerr
		}
		if _, err = b.ctl.Propose(ctx, ch); !errors.Is(err, metadata.ErrStalePartitionEpoch) {
			return err
		}
	}
	return fmt.Errorf("partition changed concurrently %d times: %w", proposeAttempts, err)
}

// eachPartitionChange calls fn(0..n-1), at most maxParallelProposals at a
// time, and returns when all calls have.
func eachPartitionChange(n int, fn func(i int)) {
	sem := make(chan struct{}, maxParallelProposals)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			fn(i)
		})
	}
	wg.Wait()
}

// electLeadersDenied answers an ElectLeaders without Alter on the cluster:
// CLUSTER_AUTHORIZATION_FAILED at the top (v1+) and for every partition.
func electLeadersDenied(req *kmsg.ElectLeadersRequest, resp *kmsg.ElectLeadersResponse) *kmsg.ElectLeadersResponse {
	if req.Version >= 1 {
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
	}
	for _, rt := range req.Topics {
		st := kmsg.NewElectLeadersResponseTopic()
		st.Topic = rt.Topic
		for _, p := range rt.Partitions {
			sp := kmsg.NewElectLeadersResponseTopicPartition()
			sp.Partition, sp.ErrorCode = p, kerr.ClusterAuthorizationFailed.Code
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}
