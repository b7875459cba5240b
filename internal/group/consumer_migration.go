package group

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// This file is the online migration between the classic and the consumer
// group types under group.consumer.migration.policy, after Kafka's
// GroupMetadataManager: a classic group with members becomes a consumer
// group when a member sends ConsumerGroupHeartbeat (upgrade), and a
// consumer group whose last member using the consumer protocol leaves or is
// fenced becomes a classic group again (downgrade). Each conversion is one
// append: the old type's tombstones, then the new type's records. Empty
// groups convert in ConsumerGroupHeartbeat and maybeDowngrade.

// upgradeRefusal is why a classic group with members cannot become a
// consumer group (Kafka's validateOnlineUpgrade), "" if it can. Unlike
// Kafka, Samsa also waits for a Stable group: the assignments of a
// rebalancing group are not the ones its members hold.
func upgradeRefusal(cg *classicGroup, set *ConsumerSettings) string {
	switch {
	case !set.upgradeAllowed():
		return "the online upgrade is disabled"
	case cg.protocolType != "consumer":
		return "the group does not use the consumer embedded protocol"
	case len(cg.members) > set.MaxSize:
		return "the group size exceeds the consumer group maximum size"
	case cg.state != stateStable:
		return "the group is rebalancing"
	}
	return ""
}

// classicToConsumer is Kafka's ConsumerGroup.fromClassicGroup plus
// createConsumerGroupRecords: every classic member becomes a member with
// classic metadata, at the group's generation, Stable, keeping the
// partitions of its last assignment, which is also its target. The
// records are emitted on the returned group.
func classicToConsumer(old *classicGroup, id string, now time.Time, set *ConsumerSettings, img TopicImage) (*consumerGroup, error) {
	cg := newConsumerGroup(id, now)
	cg.epoch, cg.assignmentEpoch = old.generation, old.generation
	for _, om := range old.sortedMembers() {
		var sub kmsg.ConsumerMemberMetadata
		if err := sub.ReadFrom(om.metadataFor(old.protocol)); err != nil {
			return nil, fmt.Errorf("subscription of member %s: %w", om.id, err)
		}
		assigned := Assignment{}
		if len(om.assignment) > 0 {
			var a kmsg.ConsumerMemberAssignment
			if err := a.ReadFrom(om.assignment); err != nil {
				return nil, fmt.Errorf("assignment of member %s: %w", om.id, err)
			}
			for _, t := range a.Topics {
				at, ok := img.Topic(t.Topic)
				if !ok {
					continue // deleted since: nothing to keep
				}
				for _, p := range t.Partitions {
					if p >= 0 && p < at.Partitions && !assigned.Has(at.ID, p) {
						assigned.add(at.ID, p)
					}
				}
			}
		}
		m := &consumerMember{
			id: om.id, instanceID: deref(om.instanceID), rackID: deref(sub.Rack),
			clientID: om.clientID, clientHost: om.clientHost,
			topics:             slices.Compact(slices.Sorted(slices.Values(sub.Topics))),
			rebalanceTimeoutMs: int32(om.rebalance / time.Millisecond),
			classic: &ClassicMemberMetadata{
				SessionTimeoutMs:   int32(om.session / time.Millisecond),
				SupportedProtocols: classicProtocols(om.protocols),
			},
			epoch: old.generation, prevEpoch: old.generation, state: MemberStable,
			assigned: assigned, pending: Assignment{},
		}
		cg.members[m.id] = m
		if m.instanceID != "" {
			cg.static[m.instanceID] = m.id
		}
		cg.target[m.id] = assigned.Clone()
		cg.setOwnership(m, true)
		cg.sessionDeadline[m.id] = now.Add(m.sessionTimeout(set))
	}
	cg.emitAll()
	cg.lastState, cg.stateTime = cg.state(), now
	return cg, nil
}

// upgrade replaces the classic group g by its consumer group form, for a
// ConsumerGroupHeartbeat; the new group is not installed. pre are the
// records of the conversion, to be written with the heartbeat's.
func (s *shard) upgrade(g *group, set *ConsumerSettings, img TopicImage) (ng *group, pre []Record, refusal string) {
	if why := upgradeRefusal(g.classic, set); why != "" {
		return nil, nil, why
	}
	cg, err := classicToConsumer(g.classic, g.id, s.now(), set, img)
	if err != nil {
		return nil, nil, "the embedded consumer protocol is malformed: " + err.Error()
	}
	pre = append(pre, groupTombstone(g.id))
	for _, r := range cg.takeRecords() {
		pre = append(pre, r.encode())
	}
	return &group{id: g.id, s: s, typ: TypeConsumer, offsets: g.offsets, consumer: cg}, pre, ""
}

// canDowngrade is Kafka's validateOnlineDowngradeWithFencedMember: the
// leaving member is the last one using the consumer protocol, classic
// members remain, the policy allows it and they fit in group.max.size.
func (s *shard) canDowngrade(cg *consumerGroup, leaving string) bool {
	m := cg.members[leaving]
	if m == nil || m.classic != nil || len(cg.members) <= 1 {
		return false
	}
	for id, o := range cg.members {
		if id != leaving && o.classic == nil {
			return false
		}
	}
	if !s.c.consumerSettings().downgradeAllowed() {
		s.c.lg.Info("not downgrading the consumer group to a classic group: the online downgrade is disabled", "group", cg.id)
		return false
	}
	if len(cg.members)-1 > s.c.cfg.Settings.MaxSize {
		s.c.lg.Info("not downgrading the consumer group to a classic group: it has more members than group.max.size", "group", cg.id)
		return false
	}
	return true
}

// consumerToClassic is Kafka's ClassicGroup.fromConsumerGroup: a Stable
// classic group at the group epoch with every member but the leaving one,
// each assigned its target partitions in the consumer protocol's encoding.
func consumerToClassic(ng *group, ccg *consumerGroup, leaving string, now time.Time, img TopicImage) *classicGroup {
	cl := newClassicGroup(now)
	cl.g = ng
	cl.state = stateStable
	cl.generation = ccg.epoch
	cl.protocolType = "consumer"
	for id, m := range ccg.members {
		if id == leaving {
			continue
		}
		cm := &classicMember{
			id: id, instanceID: ptrOrNil(m.instanceID), clientID: m.clientID, clientHost: m.clientHost,
			protocolType: "consumer",
			session:      time.Duration(m.classic.SessionTimeoutMs) * time.Millisecond,
			rebalance:    time.Duration(m.rebalanceTimeoutMs) * time.Millisecond,
		}
		for _, p := range m.classic.SupportedProtocols {
			cm.protocols = append(cm.protocols, kmsg.JoinGroupRequestProtocol{Name: p.Name, Metadata: slices.Clone(p.Metadata)})
		}
		if cm.rebalance <= 0 {
			cm.rebalance = cm.session
		}
		cl.members[id] = cm
		if cm.instanceID != nil {
			cl.static[*cm.instanceID] = id
		}
	}
	if ms := cl.sortedMembers(); len(ms) > 0 {
		cl.leader = ms[0].id
	}
	cl.protocol = cl.selectProtocol()
	for _, cm := range cl.members {
		cm.assignment = encodeClassicAssignment(ccg, ccg.target[cm.id], cm.metadataFor(cl.protocol), img)
	}
	return cl
}

// downgrade converts the consumer group g into a classic group without the
// leaving member and starts a rebalance, as Kafka's convertToClassicGroup.
// pre are records the operation already emitted (other members fenced at
// the same time); they are written with the conversion, in one append.
func (s *shard) downgrade(ctx context.Context, g *group, leaving string, pre []Record) error {
	ccg := g.consumer
	ng := &group{id: g.id, s: s, typ: TypeClassic, offsets: g.offsets}
	ng.classic = consumerToClassic(ng, ccg, leaving, s.now(), s.imageFor(ccg))
	recs := append(slices.Clone(pre), g.consumerTombstones()...)
	recs = append(recs, ng.groupRecord())
	if err := s.write(ctx, recs); err != nil {
		return err
	}
	s.c.lg.Info("downgrading the consumer group to a classic group: its last member using the consumer protocol left",
		"group", g.id, "member", leaving, "classic_members", len(ng.classic.members), "generation", ng.classic.generation)
	g.shutdown()
	s.groups[g.id] = ng
	cl := ng.classic
	for _, m := range cl.members {
		cl.scheduleHeartbeat(m)
	}
	cl.prepareRebalance()
	return nil
}

// leavingMember is the member a ConsumerGroupHeartbeat leave (epoch -1)
// names, "" if it names none validly (the leave path then answers the
// error).
func (g *consumerGroup) leavingMember(req *kmsg.ConsumerGroupHeartbeatRequest) string {
	if req.InstanceID == nil {
		if _, ok := g.members[req.MemberID]; ok {
			return req.MemberID
		}
		return ""
	}
	if m := g.members[g.static[*req.InstanceID]]; m != nil && m.id == req.MemberID {
		return m.id
	}
	return ""
}
