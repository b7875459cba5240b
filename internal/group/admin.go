package group

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// groupOperations is the AuthorizedOperations bit set of a group without
// ACLs: READ (3), DELETE (6), DESCRIBE (8).
const groupOperations = 1<<3 | 1<<6 | 1<<8

// ListGroups handles ListGroups v0-v5 for the partitions this coordinator
// leads. A partition still loading makes the answer
// COORDINATOR_LOAD_IN_PROGRESS, with the groups of the others.
func (c *Coordinator) ListGroups(_ context.Context, req *kmsg.ListGroupsRequest) *kmsg.ListGroupsResponse {
	resp := req.ResponseKind().(*kmsg.ListGroupsResponse)
	states := make(map[string]bool)
	for _, s := range req.StatesFilter {
		states[strings.ToLower(s)] = true
	}
	types := make(map[string]bool)
	for _, t := range req.TypesFilter {
		types[strings.ToLower(t)] = true
	}
	for _, s := range c.allShards() {
		s.mu.Lock()
		switch s.state {
		case shardLoading:
			resp.ErrorCode = kerr.CoordinatorLoadInProgress.Code
		case shardActive:
			for _, g := range s.groups {
				state := g.stateName()
				if state == "Dead" {
					continue
				}
				if len(states) > 0 && !states[strings.ToLower(state)] {
					continue
				}
				if len(types) > 0 && !types[g.typ.String()] {
					continue
				}
				lg := kmsg.NewListGroupsResponseGroup()
				lg.Group = g.id
				lg.ProtocolType = g.protocolType()
				lg.GroupState = state
				lg.GroupType = g.typ.String()
				resp.Groups = append(resp.Groups, lg)
			}
		}
		s.mu.Unlock()
	}
	sort.Slice(resp.Groups, func(i, j int) bool { return resp.Groups[i].Group < resp.Groups[j].Group })
	return resp
}

// DescribeGroups handles DescribeGroups v0-v6.
func (c *Coordinator) DescribeGroups(_ context.Context, req *kmsg.DescribeGroupsRequest) *kmsg.DescribeGroupsResponse {
	resp := req.ResponseKind().(*kmsg.DescribeGroupsResponse)
	for _, id := range req.Groups {
		resp.Groups = append(resp.Groups, c.describe(id, req))
	}
	return resp
}

func (c *Coordinator) describe(id string, req *kmsg.DescribeGroupsRequest) kmsg.DescribeGroupsResponseGroup {
	dg := kmsg.NewDescribeGroupsResponseGroup()
	dg.Group = id
	if req.Version >= 3 && req.IncludeAuthorizedOperations {
		dg.AuthorizedOperations = groupOperations
	}
	s, code := c.lockShard(id)
	if code != 0 {
		dg.ErrorCode = code
		return dg
	}
	defer s.mu.Unlock()
	g := s.groups[id]
	if g == nil || g.stateName() == "Dead" {
		dg.State = "Dead"
		if req.Version >= 6 {
			dg.ErrorCode = kerr.GroupIDNotFound.Code
			dg.ErrorMessage = kmsg.StringPtr(fmt.Sprintf("Group %s not found.", id))
		}
		return dg
	}
	if g.typ != TypeClassic {
		// KIP-848 groups are described by ConsumerGroupDescribe.
		dg.ErrorCode = kerr.GroupIDNotFound.Code
		if req.Version >= 6 {
			dg.ErrorMessage = kmsg.StringPtr(fmt.Sprintf("Group %s is not a classic group.", id))
		}
		return dg
	}
	cg := g.classic
	dg.State = cg.state.String()
	dg.ProtocolType = cg.protocolType
	stable := cg.state == stateStable
	if stable {
		dg.Protocol = cg.protocol
	}
	for _, m := range cg.sortedMembers() {
		dm := kmsg.NewDescribeGroupsResponseGroupMember()
		dm.MemberID = m.id
		dm.InstanceID = m.instanceID
		dm.ClientID = m.clientID
		dm.ClientHost = m.clientHost
		if stable {
			dm.ProtocolMetadata = nonNil(m.metadataFor(cg.protocol))
			dm.MemberAssignment = nonNil(m.assignment)
		} else {
			dm.ProtocolMetadata, dm.MemberAssignment = []byte{}, []byte{}
		}
		dg.Members = append(dg.Members, dm)
	}
	return dg
}

// DeleteGroups handles DeleteGroups v0-v2: an empty group's offsets and
// metadata are tombstoned.
func (c *Coordinator) DeleteGroups(ctx context.Context, req *kmsg.DeleteGroupsRequest) *kmsg.DeleteGroupsResponse {
	resp := req.ResponseKind().(*kmsg.DeleteGroupsResponse)
	for _, id := range req.Groups {
		dg := kmsg.NewDeleteGroupsResponseGroup()
		dg.Group = id
		dg.ErrorCode = c.deleteGroup(ctx, id)
		resp.Groups = append(resp.Groups, dg)
	}
	return resp
}

func (c *Coordinator) deleteGroup(ctx context.Context, id string) int16 {
	if id == "" {
		return kerr.InvalidGroupID.Code
	}
	s, code := c.lockShard(id)
	if code != 0 {
		return code
	}
	defer s.mu.Unlock()
	g := s.groups[id]
	if g == nil || g.stateName() == "Dead" {
		return kerr.GroupIDNotFound.Code
	}
	if !g.empty() {
		return kerr.NonEmptyGroup.Code
	}
	recs := make([]Record, 0, len(g.offsets)+1)
	tps := make([]topicPartition, 0, len(g.offsets))
	for tp := range g.offsets {
		tps = append(tps, tp)
	}
	sort.Slice(tps, func(i, j int) bool {
		if tps[i].topic != tps[j].topic {
			return tps[i].topic < tps[j].topic
		}
		return tps[i].partition < tps[j].partition
	})
	for _, tp := range tps {
		recs = append(recs, offsetTombstone(id, tp))
	}
	recs = append(recs, g.metadataTombstones()...)
	if err := s.write(ctx, recs); err != nil {
		return writeCode(err)
	}
	for _, tp := range tps {
		dropPendingOffset(s.pending, id, tp)
	}
	s.removeGroup(g)
	return 0
}
