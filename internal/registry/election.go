package registry

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The election: every instance joins the Kafka group GroupID with protocol
// type "sr" and its identity as metadata (Confluent's shape); the group's
// leader picks the registry leader among the eligible members (keeping the
// current one while it is a member) and hands every member the same
// assignment. A member that cannot reach the group has no leader, and
// writes then answer 50004.

const (
	srProtocolType   = "sr"
	srProtocol       = "v0"
	sessionTimeout   = 6 * time.Second // Kafka's group.min.session.timeout.ms: the quickest failover a group allows
	heartbeatEvery   = time.Second
	electionBackoff  = time.Second
	rebalanceTimeout = 10 * time.Second
)

// identity is a member's metadata.
type identity struct {
	Version           int    `json:"version"`
	Host              string `json:"host"`
	Port              int    `json:"port"`
	Scheme            string `json:"scheme"`
	LeaderEligibility bool   `json:"master_eligibility"`
}

func (i identity) url() string {
	return i.Scheme + "://" + net.JoinHostPort(i.Host, strconv.Itoa(i.Port))
}

// assignment is what the group leader sends every member.
type assignment struct {
	Version        int       `json:"version"`
	Error          int       `json:"error"`
	Leader         string    `json:"master,omitempty"`
	LeaderIdentity *identity `json:"master_identity,omitempty"`
}

func identityOf(advertised string, eligible bool) (identity, error) {
	u, err := url.Parse(advertised)
	if err != nil {
		return identity{}, err
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		return identity{}, errf("advertised URL %q has no port", advertised)
	}
	return identity{Version: 1, Host: u.Hostname(), Port: port, Scheme: u.Scheme, LeaderEligibility: eligible}, nil
}

// chooseLeader picks the registry leader from the members' metadata: the
// current leader while it is an eligible member, else the eligible member
// with the smallest URL. ok is false when no member is eligible.
func chooseLeader(members []kmsg.JoinGroupResponseMember, current string) (identity, bool) {
	var cands []identity
	for _, m := range members {
		var id identity
		if json.Unmarshal(m.ProtocolMetadata, &id) != nil || !id.LeaderEligibility {
			continue
		}
		if id.url() == current {
			return id, true
		}
		cands = append(cands, id)
	}
	if len(cands) == 0 {
		return identity{}, false
	}
	slices.SortFunc(cands, func(a, b identity) int {
		switch {
		case a.url() < b.url():
			return -1
		case a.url() > b.url():
			return 1
		}
		return 0
	})
	return cands[0], true
}

// elect runs the group membership until ctx ends. Owned by Registry.run.
func (r *Registry) elect(ctx context.Context) {
	meta, _ := json.Marshal(r.self)
	memberID := ""
	for ctx.Err() == nil {
		gen, newID, err := r.joinAndSync(ctx, meta, memberID)
		memberID = newID
		if err != nil {
			if ctx.Err() == nil {
				r.lg.Debug("registry: election", "err", err)
			}
			if errors.Is(err, kerr.UnknownMemberID) || errors.Is(err, kerr.FencedInstanceID) {
				memberID = ""
			}
			r.setLeader(ctx, nil)
			sleep(ctx, electionBackoff)
			continue
		}
		r.heartbeat(ctx, gen, memberID)
	}
	if memberID != "" {
		lctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		req := kmsg.NewPtrLeaveGroupRequest()
		req.Group = r.cfg.GroupID
		req.MemberID = memberID
		req.Members = []kmsg.LeaveGroupRequestMember{{MemberID: memberID}}
		_, _ = req.RequestWith(lctx, r.store.admin)
		cancel()
	}
}

// joinAndSync joins the group and syncs, then applies the assignment.
func (r *Registry) joinAndSync(ctx context.Context, meta []byte, memberID string) (int32, string, error) {
	for range 3 {
		join := kmsg.NewPtrJoinGroupRequest()
		join.Group = r.cfg.GroupID
		join.SessionTimeoutMillis = int32(sessionTimeout / time.Millisecond)
		join.RebalanceTimeoutMillis = int32(rebalanceTimeout / time.Millisecond)
		join.MemberID = memberID
		join.ProtocolType = srProtocolType
		join.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: srProtocol, Metadata: meta}}
		jr, err := join.RequestWith(ctx, r.store.admin)
		if err != nil {
			return 0, memberID, err
		}
		if err := kerr.ErrorForCode(jr.ErrorCode); err != nil {
			if errors.Is(err, kerr.MemberIDRequired) {
				memberID = jr.MemberID
				continue
			}
			return 0, memberID, err
		}
		memberID = jr.MemberID
		sync := kmsg.NewPtrSyncGroupRequest()
		sync.Group = r.cfg.GroupID
		sync.Generation = jr.Generation
		sync.MemberID = memberID
		pt, p := srProtocolType, srProtocol
		sync.ProtocolType, sync.Protocol = &pt, &p
		if jr.LeaderID == memberID {
			sync.GroupAssignment = r.assign(jr.Members)
		}
		sr, err := sync.RequestWith(ctx, r.store.admin)
		if err != nil {
			return 0, memberID, err
		}
		if err := kerr.ErrorForCode(sr.ErrorCode); err != nil {
			return 0, memberID, err
		}
		var a assignment
		if err := json.Unmarshal(sr.MemberAssignment, &a); err != nil {
			return 0, memberID, errf("assignment %q: %v", sr.MemberAssignment, err)
		}
		r.setLeader(ctx, a.LeaderIdentity)
		return jr.Generation, memberID, nil
	}
	return 0, memberID, errf("group %s kept asking for a member id", r.cfg.GroupID)
}

// assign is the group leader's assignment: one registry leader for all.
func (r *Registry) assign(members []kmsg.JoinGroupResponseMember) []kmsg.SyncGroupRequestGroupAssignment {
	a := assignment{Version: 1}
	if id, ok := chooseLeader(members, r.currentLeaderURL()); ok {
		a.Leader = id.Host + "_" + strconv.Itoa(id.Port)
		a.LeaderIdentity = &id
	} else {
		a.Error = 1 // no eligible leader
	}
	b, _ := json.Marshal(a)
	out := make([]kmsg.SyncGroupRequestGroupAssignment, len(members))
	for i, m := range members {
		out[i] = kmsg.SyncGroupRequestGroupAssignment{MemberID: m.MemberID, MemberAssignment: b}
	}
	return out
}

// heartbeat heartbeats until the group rebalances, an error, or ctx ends.
func (r *Registry) heartbeat(ctx context.Context, gen int32, memberID string) {
	t := time.NewTicker(heartbeatEvery)
	defer t.Stop()
	lastOK := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.store.writerLost:
			// A write failed and closed the writer: this instance no
			// longer leads until a new election says so (and it fences
			// anew).
			r.mu.Lock()
			r.isLeader = false
			r.signalLocked()
			r.mu.Unlock()
			r.lg.Warn("schema registry: a write failed; rejoining the election")
			return
		case <-t.C:
		}
		req := kmsg.NewPtrHeartbeatRequest()
		req.Group = r.cfg.GroupID
		req.Generation = gen
		req.MemberID = memberID
		hctx, cancel := context.WithTimeout(ctx, sessionTimeout/2)
		resp, err := req.RequestWith(hctx, r.store.admin)
		cancel()
		if err != nil {
			r.lg.Debug("registry: heartbeat", "err", err)
			if time.Since(lastOK) > sessionTimeout {
				return // the group has dropped us by now: rejoin
			}
			continue
		}
		lastOK = time.Now()
		if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
			r.lg.Debug("registry: heartbeat", "err", err)
			return
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
