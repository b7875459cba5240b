package protocol

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// MemberConfig configures a Member; the names follow the Java worker's
// properties (group.id, session.timeout.ms, rebalance.timeout.ms,
// heartbeat.interval.ms, connect.protocol,
// scheduled.rebalance.max.delay.ms).
type MemberConfig struct {
	GroupID           string
	URL               string // this worker's advertised REST URL
	SessionTimeout    time.Duration
	RebalanceTimeout  time.Duration
	HeartbeatInterval time.Duration
	Protocol          string // sessioned | compatible | default
	MaxDelay          time.Duration
	Logger            *slog.Logger
}

// Defaults fills unset fields with the Java worker's defaults.
func (c *MemberConfig) Defaults() {
	if c.SessionTimeout == 0 {
		c.SessionTimeout = 10 * time.Second
	}
	if c.RebalanceTimeout == 0 {
		c.RebalanceTimeout = time.Minute
	}
	if c.HeartbeatInterval == 0 {
		c.HeartbeatInterval = 3 * time.Second
	}
	if c.Protocol == "" {
		c.Protocol = "sessioned"
	}
	if c.MaxDelay == 0 {
		c.MaxDelay = 5 * time.Minute
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Validate reports the first invalid setting.
func (c MemberConfig) Validate() error {
	if c.GroupID == "" {
		return errors.New("protocol: group.id is required")
	}
	if _, err := ProtocolVersion(c.Protocol); err != nil {
		return err
	}
	if c.HeartbeatInterval <= 0 || c.HeartbeatInterval >= c.SessionTimeout {
		return fmt.Errorf("protocol: heartbeat.interval.ms (%v) must be positive and below session.timeout.ms (%v)", c.HeartbeatInterval, c.SessionTimeout)
	}
	if c.RebalanceTimeout <= 0 || c.MaxDelay < 0 {
		return errors.New("protocol: rebalance.timeout.ms must be positive and scheduled.rebalance.max.delay.ms not negative")
	}
	return nil
}

// Callbacks connect a Member to its worker. They run on Run's goroutine
// and must return well within the session timeout.
type Callbacks struct {
	// Metadata returns the worker's config offset (and, optionally, what
	// it owns; nil Owned means the member's own record of its assignment
	// is sent).
	Metadata func() Metadata
	// Snapshot returns the leader's fresh view of the config topic.
	Snapshot func() Snapshot
	// Revoked is called with what to stop: in eager mode everything
	// owned, before rejoining; in cooperative mode the revocations of a
	// new assignment, before Assigned.
	Revoked func(Assignment)
	// Assigned is called after each completed rebalance with the full
	// assignment the worker now owns (what it kept plus what is new; the
	// Revoked fields repeat what was just revoked). An assignment whose
	// Error is ErrConfigMismatch asks the worker to read the config topic
	// to the end; the Member rejoins by itself.
	Assigned func(gen int32, a Assignment)
}

// Member is one worker's membership of the connect group. Its loop runs
// in Run; Rejoin, Generation, IsLeader, LeaderURL and MemberID are safe
// from any goroutine.
type Member struct {
	cl       *kgo.Client
	cfg      MemberConfig
	cb       Callbacks
	log      *slog.Logger
	assignor *Assignor
	rejoinCh chan struct{}

	// Run's goroutine only.
	memberID      string
	version       int16 // protocol of the current generation
	owned         *Assignment
	lastCompleted int32
	rejoinAt      time.Time // scheduled rebalance (delay), zero if none

	mu        sync.Mutex
	gen       int32
	leader    bool
	leaderURL string
	publicID  string
}

// NewMember returns a member of cfg.GroupID issuing its requests through
// cl (which finds and follows the group coordinator). cfg gets Defaults.
func NewMember(cl *kgo.Client, cfg MemberConfig, cb Callbacks) *Member {
	cfg.Defaults()
	return &Member{cl: cl, cfg: cfg, cb: cb, log: cfg.Logger, rejoinCh: make(chan struct{}, 1),
		assignor: &Assignor{MaxDelay: cfg.MaxDelay, Logger: cfg.Logger}, gen: -1, lastCompleted: -1}
}

// Rejoin asks for a rebalance (for example after a config change).
func (m *Member) Rejoin() {
	select {
	case m.rejoinCh <- struct{}{}:
	default:
	}
}

// Generation is the generation of the last completed rebalance, -1 before.
func (m *Member) Generation() int32 { m.mu.Lock(); defer m.mu.Unlock(); return m.gen }

// IsLeader reports whether this member led the last rebalance.
func (m *Member) IsLeader() bool { m.mu.Lock(); defer m.mu.Unlock(); return m.leader }

// LeaderURL is the REST URL of the last rebalance's leader.
func (m *Member) LeaderURL() string { m.mu.Lock(); defer m.mu.Unlock(); return m.leaderURL }

// MemberID is this member's id in the group ("" before joining).
func (m *Member) MemberID() string { m.mu.Lock(); defer m.mu.Unlock(); return m.publicID }

// Run joins the group and stays in it until ctx ends, then leaves the
// group and returns nil. Errors of single rounds are logged and retried.
func (m *Member) Run(ctx context.Context) error {
	if err := m.cfg.Validate(); err != nil {
		return err
	}
	defer m.leave()
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		if err := m.joinAndSync(ctx); err != nil {
			if ctx.Err() != nil {
				break
			}
			m.log.Warn("connect group: rebalance failed", "group", m.cfg.GroupID, "err", err)
			sleep(ctx, backoff)
			backoff = min(2*backoff, 2*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
		m.stable(ctx)
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// stable heartbeats until a rebalance is needed or ctx ends.
func (m *Member) stable(ctx context.Context) {
	tick := time.NewTicker(m.cfg.HeartbeatInterval)
	defer tick.Stop()
	var delay <-chan time.Time
	if !m.rejoinAt.IsZero() {
		t := time.NewTimer(time.Until(m.rejoinAt))
		defer t.Stop()
		delay = t.C
	}
	lastOK := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-m.rejoinCh:
			return
		case <-delay:
			m.rejoinAt = time.Time{}
			return
		case <-tick.C:
		}
		err := m.heartbeat(ctx)
		switch {
		case err == nil:
			lastOK = time.Now()
		case errors.Is(err, kerr.RebalanceInProgress):
			return
		case errors.Is(err, kerr.UnknownMemberID), errors.Is(err, kerr.IllegalGeneration), errors.Is(err, kerr.FencedInstanceID):
			m.resetMember()
			return
		default:
			m.log.Warn("connect group: heartbeat failed", "group", m.cfg.GroupID, "err", err)
			if time.Since(lastOK) > m.cfg.SessionTimeout {
				m.resetMember()
				return
			}
		}
	}
}

func (m *Member) resetMember() {
	m.memberID = ""
	m.mu.Lock()
	m.publicID = ""
	m.mu.Unlock()
}

func (m *Member) heartbeat(ctx context.Context) error {
	req := kmsg.NewPtrHeartbeatRequest()
	req.Group = m.cfg.GroupID
	req.Generation = m.Generation()
	req.MemberID = m.memberID
	resp, err := req.RequestWith(ctx, m.cl)
	if err != nil {
		return fmt.Errorf("protocol: heartbeat: %w", err)
	}
	return kerr.ErrorForCode(resp.ErrorCode)
}

func (m *Member) leave() {
	if m.memberID == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req := kmsg.NewPtrLeaveGroupRequest()
	req.Group = m.cfg.GroupID
	req.MemberID = m.memberID
	lm := kmsg.NewLeaveGroupRequestMember()
	lm.MemberID = m.memberID
	req.Members = []kmsg.LeaveGroupRequestMember{lm}
	if resp, err := req.RequestWith(ctx, m.cl); err != nil {
		m.log.Warn("connect group: leave failed", "group", m.cfg.GroupID, "err", err)
	} else if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		m.log.Warn("connect group: leave failed", "group", m.cfg.GroupID, "err", err)
	}
	m.resetMember()
}

// metadata is what this member sends for each of its protocols.
func (m *Member) protocols() []kmsg.JoinGroupRequestProtocol {
	md := Metadata{ConfigOffset: -1}
	if m.cb.Metadata != nil {
		md = m.cb.Metadata()
	}
	if md.URL == "" {
		md.URL = m.cfg.URL
	}
	if md.Owned == nil {
		md.Owned = m.owned
	}
	top, _ := ProtocolVersion(m.cfg.Protocol)
	var out []kmsg.JoinGroupRequestProtocol
	for v := top; v >= VersionDefault; v-- {
		p := kmsg.NewJoinGroupRequestProtocol()
		p.Name = ProtocolName(v)
		p.Metadata = EncodeMetadata(v, md)
		out = append(out, p)
	}
	return out
}
