package controller

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/proto"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/samsa-streaming/samsa/internal/metadata"
)

// Errors returned by the controller.
var (
	// ErrClosed: the controller is closed (or stopped after a fatal error,
	// which is wrapped alongside).
	ErrClosed = errors.New("controller: closed")
	// ErrProposalDropped: raft refused the proposal, typically because no
	// leader is known. Retrying later may succeed.
	ErrProposalDropped = errors.New("controller: proposal dropped (no leader?)")
	// ErrClusterIDMismatch: Config.ClusterID differs from the log's.
	ErrClusterIDMismatch = errors.New("controller: cluster id does not match the metadata log")
)

// Entry payload envelope, wrapping metadata.EncodeRecord:
//
//	version:u8 (1) proposer:i32be proposal-id:u64be record...
//	version:u8 (2) proposer:i32be proposal-id:u64be leader-term:u64be record...
//
// The proposer and id route the apply result back to the waiting Propose
// call on the proposing node; other nodes ignore them. A version 2 entry is
// a decision of the active controller of leader-term (ProposeAsLeader): it
// applies only if raft appended it in that term, so a controller that lost
// its leadership (paused, cut off) cannot act on its stale view through
// proposal forwarding.
const (
	envelopeVersion   = 1
	envelopeHeader    = 1 + 4 + 8
	envelopeVersionV2 = 2
	envelopeHeaderV2  = envelopeHeader + 8
)

// ErrNotActiveController: ProposeAsLeader on a node that is not (or is no
// longer) the active controller of the term it proposed in.
var ErrNotActiveController = errors.New("controller: not the active controller")

const (
	electionTicks  = 10
	heartbeatTicks = 1
	maxBatch       = 256 // proposals taken per loop iteration
)

type proposal struct {
	id    uint64
	data  []byte
	retry chan error // buffered; receives ErrProposalDropped
}

type result struct {
	img *metadata.Image
	err error
}

// Controller is one node of the metadata quorum. Its methods are safe for
// concurrent use.
type Controller struct {
	cfg       Config
	log       *slog.Logger
	raftID    uint64
	transport Transport
	storage   *raft.MemoryStorage
	wal       *wal

	image    atomic.Pointer[metadata.Image]
	leader   atomic.Uint64 // raft id of the known leader, 0 = none
	term     atomic.Uint64 // raft term of the last hard state
	stats    raftStats     // metrics.go
	nextProp atomic.Uint64
	// multiNode: the membership has more than one node (voters or
	// learners), so dropped proposals are retried.
	multiNode atomic.Bool

	propc chan proposal
	// transferc asks the loop to transfer raft leadership.
	transferc chan int32
	recvc     chan *raftpb.Message
	reportc   chan report            // delivery failures from the transport
	statusc   chan chan QuorumStatus // Status requests, answered by the loop
	stopc     chan struct{}          // closed by Close
	donec     chan struct{}          // closed when the loop has exited
	readc     chan struct{}          // closed once a leader is known and the log replayed

	ctx    context.Context // ends at Close; passed to Transport.Send
	cancel context.CancelFunc

	mu       sync.Mutex
	pending  map[uint64]chan result
	heard    map[uint64]time.Time // last message received from each raft id
	subs     []func(old, new *metadata.Image)
	stopErr  error // why the loop stopped; set before donec closes
	closeErr error
	closing  sync.Once

	// Owned by the loop goroutine.
	rn           *raft.RawNode
	confState    *raftpb.ConfState
	hardState    *raftpb.HardState
	snapIndex    uint64
	applied      uint64
	replayTarget uint64
	readySignal  bool

	livenessWG sync.WaitGroup // the fencing goroutine (liveness.go)

	members memberState // learners and joining (learner.go)
}

// report is one delivery outcome from the transport.
type report struct {
	id       uint64
	snapshot bool // a MsgSnap outcome (else: unreachable)
	failed   bool
}

// Open replays the snapshot and WAL in cfg.DataDir (creating them on first
// use), starts the raft loop and returns once a leader is known (a single
// voter campaigns at once and is the leader) and every entry present at
// open has been applied. On a fresh log the leader then writes SetClusterID.
func Open(ctx context.Context, cfg Config) (*Controller, error) {
	cfg = cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := cfg.FS.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("controller: %w", err)
	}
	// The directory's own entry must be durable before a vote is.
	if err := cfg.FS.SyncDir(filepath.Dir(cfg.DataDir)); err != nil {
		return nil, fmt.Errorf("controller: %w", err)
	}
	if err := removeTempFiles(cfg.FS, cfg.DataDir); err != nil {
		return nil, err
	}
	c := &Controller{
		cfg:       cfg,
		log:       cfg.Logger.With("component", "controller", "node", cfg.NodeID),
		raftID:    RaftID(cfg.NodeID),
		transport: cfg.Transport,
		storage:   raft.NewMemoryStorage(),
		propc:     make(chan proposal),
		transferc: make(chan int32),
		recvc:     make(chan *raftpb.Message, 256),
		reportc:   make(chan report, 256),
		statusc:   make(chan chan QuorumStatus),
		heard:     map[uint64]time.Time{},
		stopc:     make(chan struct{}),
		donec:     make(chan struct{}),
		readc:     make(chan struct{}),
		pending:   map[uint64]chan result{},
	}
	if c.transport == nil {
		c.transport = noopTransport{}
	}
	c.nextProp.Store(rand.Uint64() >> 1) // fresh ids per incarnation
	if err := c.initMembers(); err != nil {
		return nil, err
	}
	if err := c.recover(); err != nil {
		if c.wal != nil {
			c.wal.close()
		}
		return nil, err
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.attachTransport()
	c.transport.Start(c.Step)
	go c.run()

	select {
	case <-c.readc:
	case <-c.donec:
		err := c.Close()
		return nil, fmt.Errorf("controller: stopped during open: %w", err)
	case <-ctx.Done():
		c.Close()
		return nil, ctx.Err()
	}
	if err := c.ensureClusterID(ctx); err != nil {
		c.Close()
		return nil, err
	}
	c.startLiveness()
	c.startElections() // elect_loop.go; waited with livenessWG in Close
	return c, nil
}

// recover loads the snapshot and WAL into storage and builds the RawNode.
func (c *Controller) recover() error {
	img := metadata.NewImage()
	snap, err := loadLatestSnapshot(c.cfg.FS, c.cfg.DataDir)
	if err != nil {
		return err
	}
	if snap != nil {
		data, learners, err := decodeSnapshotData(snap.GetData())
		if err != nil {
			return fmt.Errorf("controller: snapshot %d: %w", snap.GetMetadata().GetIndex(), err)
		}
		img, err = metadata.DecodeImage(data)
		if err != nil {
			return fmt.Errorf("controller: snapshot %d: %w", snap.GetMetadata().GetIndex(), err)
		}
		if uint64(img.Offset) != snap.GetMetadata().GetIndex() {
			return fmt.Errorf("%w: snapshot %d holds an image at offset %d", ErrCorrupt, snap.GetMetadata().GetIndex(), img.Offset)
		}
		if err := c.storage.ApplySnapshot(snap); err != nil {
			return fmt.Errorf("controller: apply snapshot: %w", err)
		}
		c.snapIndex = snap.GetMetadata().GetIndex()
		c.confState = proto.Clone(snap.GetMetadata().GetConfState()).(*raftpb.ConfState)
		c.setLearnerAddrs(learners, c.confState)
	}
	c.applied = c.snapIndex
	c.image.Store(img)

	w, st, err := openWAL(c.cfg.FS, c.cfg.DataDir, c.snapIndex, c.log)
	if err != nil {
		return err
	}
	c.wal = w
	last := c.snapIndex + uint64(len(st.entries))
	if hs := st.hardState; hs != nil {
		// A compaction may have outrun the last synced commit index, and a
		// torn tail may have lost entries the commit index covered.
		commit := min(max(hs.GetCommit(), c.snapIndex), last)
		if commit != hs.GetCommit() {
			c.log.Warn("adjusting recovered commit index", "was", hs.GetCommit(), "now", commit)
		}
		c.hardState = &raftpb.HardState{Term: new(hs.GetTerm()), Vote: new(hs.GetVote()), Commit: new(commit)}
		if err := c.storage.SetHardState(c.hardState); err != nil {
			return err
		}
	}
	if err := c.storage.Append(st.entries); err != nil {
		return fmt.Errorf("controller: load WAL entries: %w", err)
	}
	fresh := snap == nil && len(st.entries) == 0 && raft.IsEmptyHardState(st.hardState)
	if !fresh {
		if err := c.checkMembership(snap, st.entries); err != nil {
			return err
		}
	}

	c.rn, err = raft.NewRawNode(&raft.Config{
		ID:                        c.raftID,
		ElectionTick:              electionTicks,
		HeartbeatTick:             heartbeatTicks,
		Storage:                   c.storage,
		MaxSizePerMsg:             1 << 20,
		MaxCommittedSizePerReady:  16 << 20,
		MaxUncommittedEntriesSize: 64 << 20,
		MaxInflightMsgs:           256,
		CheckQuorum:               true,
		PreVote:                   true,
		Logger:                    raftLogger{c.log.With("component", "raft")},
	})
	if err != nil {
		return fmt.Errorf("controller: raft: %w", err)
	}
	switch {
	case fresh && c.members.learner:
		// The leader sends a joining learner the log from the start (or a
		// snapshot) once it has added it (learner.go).
		c.log.Info("new metadata log; joining the quorum as an observer", "controller.listener", c.members.advertised)
	case fresh:
		if err := c.rn.Bootstrap(c.peers()); err != nil {
			return fmt.Errorf("controller: bootstrap: %w", err)
		}
		c.log.Info("bootstrapped a new metadata log", "voters", len(c.peers()))
	}
	c.replayTarget = last
	c.multiNode.Store(c.isMultiVoterConfig() || c.members.learner)
	if (c.isMultiVoterConfig() || c.members.learner) && c.hardState != nil {
		// A follower's unreplicated tail may be truncated by the leader.
		c.replayTarget = c.hardState.GetCommit()
	}
	c.log.Info("recovered metadata log", "snapshot", c.snapIndex, "last_index", last, "image_offset", img.Offset)
	return nil
}

func (c *Controller) peers() []raft.Peer {
	if len(c.cfg.Voters) == 0 {
		return []raft.Peer{{ID: c.raftID}}
	}
	var ps []raft.Peer
	for _, id := range slices.Sorted(maps.Keys(c.cfg.Voters)) {
		ps = append(ps, raft.Peer{ID: RaftID(id)})
	}
	return ps
}

func (c *Controller) isMultiVoterConfig() bool {
	if c.confState != nil {
		return len(c.confState.GetVoters()) > 1
	}
	return len(c.cfg.Voters) > 1
}

// ensureClusterID writes SetClusterID on a fresh log (leader only) and
// checks the configured id against the log's.
func (c *Controller) ensureClusterID(ctx context.Context) error {
	img := c.Image()
	if img.ClusterID == "" && c.IsLeader() {
		id := c.cfg.ClusterID
		if id == "" {
			id = metadata.RandomUuid().String()
		}
		var err error
		next, err := c.Propose(ctx, metadata.SetClusterID{ID: id})
		switch {
		case err == nil:
			img = next
			c.log.Info("metadata log initialized", "cluster_id", img.ClusterID)
		case errors.Is(err, metadata.ErrClusterIDMismatch) && c.cfg.ClusterID == "":
			// An earlier leader already chose a random id.
			img = c.Image()
		default:
			return fmt.Errorf("controller: write cluster id: %w", err)
		}
	}
	if img.ClusterID != "" && c.cfg.ClusterID != "" && img.ClusterID != c.cfg.ClusterID {
		return fmt.Errorf("%w: configured %q, log has %q", ErrClusterIDMismatch, c.cfg.ClusterID, img.ClusterID)
	}
	return nil
}

// Image returns the latest published image. It is never nil; treat it as
// read-only.
func (c *Controller) Image() *metadata.Image { return c.image.Load() }

// IsLeader reports whether this node is the raft leader.
func (c *Controller) IsLeader() bool { return c.leader.Load() == c.raftID }

// LeaderID returns the node id of the known leader, or -1.
func (c *Controller) LeaderID() int32 { return NodeID(c.leader.Load()) }

// Subscribe registers fn to run after each newly published image, in apply
// order, on the controller's loop goroutine. Every applied entry publishes an
// image, so some calls differ only in Offset (metadata.Diff is empty). fn must be quick and must not
// call Propose and wait (the loop that would commit it is busy running fn);
// hand slow work to another goroutine.
func (c *Controller) Subscribe(fn func(old, new *metadata.Image)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.subs = append(c.subs, fn)
}

// Propose appends r to the metadata log and waits until it is committed and
// applied. It returns the image right after r, or r's apply error (a
// metadata sentinel) with a nil image. If ctx ends first, Propose returns
// ctx.Err(); the record may still be committed later.
func (c *Controller) Propose(ctx context.Context, r metadata.Record) (*metadata.Image, error) {
	return c.proposeTerm(ctx, r, 0)
}

// ProposeAsLeader is Propose for decisions only the active controller may
// take (fencing, elections): the record applies only if this node is still
// the raft leader of the current term when the entry is appended; else it
// fails with ErrNotActiveController.
func (c *Controller) ProposeAsLeader(ctx context.Context, r metadata.Record) (*metadata.Image, error) {
	term := c.term.Load()
	if !c.IsLeader() || term == 0 {
		return nil, ErrNotActiveController
	}
	return c.proposeTerm(ctx, r, term)
}

// stamp returns r with this node's eligible.leader.replicas.strict set on
// a RegisterBroker, so that the rule travels in the record and every node
// applies the same change.
func (c *Controller) stamp(r metadata.Record) metadata.Record {
	switch reg := r.(type) {
	case metadata.RegisterBroker:
		reg.StrictELR = reg.StrictELR || c.cfg.StrictELR
		return reg
	case *metadata.RegisterBroker:
		if reg != nil && c.cfg.StrictELR && !reg.StrictELR {
			cp := *reg
			cp.StrictELR = true
			return cp
		}
	}
	return r
}

func (c *Controller) proposeTerm(ctx context.Context, r metadata.Record, term uint64) (*metadata.Image, error) {
	rec, err := metadata.EncodeRecord(c.stamp(r))
	if err != nil {
		return nil, err
	}
	id := c.nextProp.Add(1)
	hdr := envelopeHeader
	if term != 0 {
		hdr = envelopeHeaderV2
	}
	data := make([]byte, hdr, hdr+len(rec))
	data[0] = envelopeVersion
	binary.BigEndian.PutUint32(data[1:], uint32(c.cfg.NodeID))
	binary.BigEndian.PutUint64(data[5:], id)
	if term != 0 {
		data[0] = envelopeVersionV2
		binary.BigEndian.PutUint64(data[envelopeHeader:], term)
	}
	data = append(data, rec...)

	ch := make(chan result, 1)
	c.mu.Lock()
	if c.pending == nil {
		err := c.stopErr
		c.mu.Unlock()
		return nil, err
	}
	c.pending[id] = ch
	c.mu.Unlock()

	// In a multi-node quorum a proposal is dropped while no leader is
	// known (an election), and one forwarded to a leader that then loses
	// its leadership may be lost. Both are retried with the same id: the
	// first application answers this call, and a later duplicate is applied
	// (records are validated against the image, so a duplicate CreateTopic
	// fails harmlessly) but answers nobody.
	p := proposal{id: id, data: data, retry: make(chan error, 1)}
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	defer retry.Stop()
	began := time.Now()
	for {
		leader := c.leader.Load()
		select {
		case c.propc <- p:
		case res := <-ch: // loop stopped and failed us
			return res.img, res.err
		case <-ctx.Done():
			c.forget(id)
			return nil, ctx.Err()
		}
		retry.Reset(proposalRetry)
	wait:
		for {
			select {
			case res := <-ch:
				c.stats.noteCommit(time.Since(began))
				return res.img, res.err
			case err := <-p.retry: // dropped: no leader known yet
				if !c.multiNode.Load() {
					c.forget(id)
					return nil, err
				}
				select {
				case <-time.After(proposalRetry / 4):
				case <-ctx.Done():
					c.forget(id)
					return nil, ctx.Err()
				}
				break wait
			case <-retry.C:
				if cur := c.leader.Load(); cur != leader || cur == 0 {
					break wait // the leader changed: the proposal may be lost
				}
				retry.Reset(proposalRetry)
			case <-ctx.Done():
				c.forget(id)
				return nil, ctx.Err()
			}
		}
	}
}

// proposalRetry is how often a waiting proposal checks for a leader change.
const proposalRetry = 400 * time.Millisecond

func (c *Controller) forget(id uint64) {
	c.mu.Lock()
	if c.pending != nil {
		delete(c.pending, id)
	}
	c.mu.Unlock()
}

// finish delivers a result to the waiting proposer, if still waiting.
func (c *Controller) finish(id uint64, img *metadata.Image, err error) {
	c.mu.Lock()
	ch, ok := c.pending[id]
	delete(c.pending, id)
	c.mu.Unlock()
	if ok {
		ch <- result{img: img, err: err}
	}
}

// Step hands a raft message received by a Transport to the raft loop.
func (c *Controller) Step(ctx context.Context, m *raftpb.Message) error {
	select {
	case c.recvc <- m:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-c.donec:
		return ErrClosed
	}
}

// Close stops the raft loop, fails pending proposals with ErrClosed, and
// syncs and closes the WAL. It returns the error that stopped the loop, if
// any, or the WAL's close error.
func (c *Controller) Close() error {
	c.closing.Do(func() {
		close(c.stopc)
		<-c.donec
		c.livenessWG.Wait()
		c.cancel()
		err := c.wal.close()
		c.mu.Lock()
		if c.stopErr != ErrClosed { // the loop died of a storage error
			err = c.stopErr
		}
		c.closeErr = err
		c.mu.Unlock()
	})
	return c.closeErr
}

// run is the loop goroutine: it owns rn, storage writes, the WAL and the
// image. It exits on Close or on a storage error.
func (c *Controller) run() {
	err := c.loop()
	if err != nil {
		c.log.Error("metadata log failed: the controller stopped for good", "dir", c.cfg.DataDir, "err", err)
		err = fmt.Errorf("%w: %w", ErrClosed, err)
	} else {
		err = ErrClosed
	}
	c.leader.Store(0)
	c.mu.Lock()
	c.stopErr = err
	pending := c.pending
	c.pending = nil
	c.mu.Unlock()
	for _, ch := range pending {
		ch <- result{err: err}
	}
	close(c.donec)
}

func (c *Controller) loop() error {
	ticker := time.NewTicker(c.cfg.TickInterval)
	defer ticker.Stop()
	for {
		for c.rn.HasReady() {
			if err := c.handleReady(); err != nil {
				return err
			}
		}
		if c.maybeCampaign() {
			continue
		}
		c.maybeSignalReady()
		select {
		case <-c.stopc:
			return nil
		case now := <-ticker.C:
			c.rn.Tick()
			c.maybeJoin(now)
		case p := <-c.propc:
			c.propose(p)
			for range maxBatch - 1 {
				select {
				case p := <-c.propc:
					c.propose(p)
					continue
				default:
				}
				break
			}
		case m := <-c.recvc:
			if err := c.checkRemote(m); err != nil {
				c.log.Warn("dropping raft message", "type", m.GetType().String(), "from", NodeID(m.GetFrom()), "err", err)
				continue
			}
			c.noteHeard(m.GetFrom())
			if err := c.rn.Step(m); err != nil {
				c.log.Debug("raft rejected message", "type", m.GetType().String(), "from", m.GetFrom(), "err", err)
			}
		case r := <-c.reportc:
			if r.snapshot {
				st := raft.SnapshotFinish
				if r.failed {
					st = raft.SnapshotFailure
				}
				c.rn.ReportSnapshot(r.id, st)
			} else {
				c.rn.ReportUnreachable(r.id)
			}
		case reply := <-c.statusc:
			reply <- c.quorumStatus()
		case to := <-c.transferc:
			if c.IsLeader() {
				c.rn.TransferLeader(RaftID(to))
			}
		}
	}
}

// TransferLeadership asks raft to hand the leadership of the metadata
// quorum to voter to (a stopping active controller's courtesy, so the
// quorum does not wait out an election timeout). It returns once the
// request is queued; watch LeaderID for the result.
func (c *Controller) TransferLeadership(ctx context.Context, to int32) error {
	select {
	case c.transferc <- to:
		return nil
	case <-c.stopc:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *Controller) propose(p proposal) {
	if err := c.rn.Propose(p.data); err != nil {
		select {
		case p.retry <- fmt.Errorf("%w: %v", ErrProposalDropped, err):
		default:
		}
	}
}

// maybeCampaign makes a lone voter elect itself without waiting for an
// election timeout. It reports whether it started a campaign.
func (c *Controller) maybeCampaign() bool {
	voters := c.confState.GetVoters()
	if len(voters) != 1 || voters[0] != c.raftID {
		return false
	}
	st := c.rn.BasicStatus()
	if st.RaftState != raft.StateFollower || st.Applied < st.GetCommit() {
		return false
	}
	if err := c.rn.Campaign(); err != nil {
		c.log.Warn("campaign failed", "err", err)
		return false
	}
	return c.rn.HasReady()
}

func (c *Controller) maybeSignalReady() {
	if !c.readySignal && c.leader.Load() != 0 && c.applied >= c.replayTarget {
		c.readySignal = true
		close(c.readc)
	}
}

// handleReady persists, sends and applies one Ready, in that order.
func (c *Controller) handleReady() error {
	rd := c.rn.Ready()
	if rd.SoftState != nil {
		old := c.leader.Swap(rd.SoftState.Lead)
		if old != rd.SoftState.Lead {
			c.log.Info("metadata leader changed", "leader", NodeID(rd.SoftState.Lead), "state", rd.SoftState.RaftState.String())
		}
	}
	if !raft.IsEmptySnap(rd.Snapshot) {
		if err := c.installSnapshot(rd.Snapshot); err != nil {
			return err
		}
	}
	if rd.HardState != nil {
		c.hardState = rd.HardState
		c.term.Store(rd.HardState.GetTerm())
		c.stats.vote.Store(rd.HardState.GetVote())
		c.stats.commit.Store(rd.HardState.GetCommit())
	}
	if err := c.wal.append(rd.Entries, rd.HardState); err != nil {
		return err
	}
	if rd.HardState != nil {
		if err := c.storage.SetHardState(rd.HardState); err != nil {
			return err
		}
	}
	if err := c.storage.Append(rd.Entries); err != nil {
		return fmt.Errorf("controller: storage append: %w", err)
	}
	c.stats.noteAppend(c, len(rd.Entries))
	if len(rd.Messages) > 0 {
		c.refreshSnapshots(rd.Messages)
		c.transport.Send(c.ctx, rd.Messages)
	}
	for _, e := range rd.CommittedEntries {
		c.applyEntry(e)
	}
	c.rn.Advance(rd)
	return c.maybeSnapshot()
}

// installSnapshot persists a snapshot received from the leader and makes
// its image current.
func (c *Controller) installSnapshot(snap *raftpb.Snapshot) error {
	idx := snap.GetMetadata().GetIndex()
	data, learners, err := decodeSnapshotData(snap.GetData())
	if err != nil {
		return fmt.Errorf("controller: received snapshot %d: %w", idx, err)
	}
	img, err := metadata.DecodeImage(data)
	if err != nil {
		return fmt.Errorf("controller: received snapshot %d: %w", idx, err)
	}
	if err := writeSnapshot(c.cfg.FS, c.cfg.DataDir, snap); err != nil {
		return err
	}
	if err := c.storage.ApplySnapshot(snap); err != nil {
		return fmt.Errorf("controller: apply snapshot: %w", err)
	}
	if err := c.wal.rewrite(nil, c.hardState); err != nil {
		return err
	}
	if err := removeSnapshotsBefore(c.cfg.FS, c.cfg.DataDir, idx); err != nil {
		c.log.Warn("removing old snapshots", "err", err)
	}
	c.snapIndex, c.applied = idx, idx
	c.confState = proto.Clone(snap.GetMetadata().GetConfState()).(*raftpb.ConfState)
	c.setLearnerAddrs(learners, c.confState)
	c.publish(img)
	c.log.Info("installed metadata snapshot", "index", idx)
	return nil
}

// applyEntry applies one committed entry and answers its proposer.
func (c *Controller) applyEntry(e *raftpb.Entry) {
	idx := e.GetIndex()
	if idx <= c.applied {
		return
	}
	c.applied = idx
	cur := c.Image()
	switch e.GetType() {
	case raftpb.EntryConfChange:
		var cc raftpb.ConfChange
		if err := proto.Unmarshal(e.GetData(), &cc); err != nil {
			panic(fmt.Sprintf("controller: undecodable conf change at %d: %v", idx, err))
		}
		c.applyConfChange(idx, &cc)
		c.publish(cur.WithOffset(int64(idx)))
		return
	case raftpb.EntryConfChangeV2:
		var cc raftpb.ConfChangeV2
		if err := proto.Unmarshal(e.GetData(), &cc); err != nil {
			panic(fmt.Sprintf("controller: undecodable conf change at %d: %v", idx, err))
		}
		c.confState = c.rn.ApplyConfChange(&cc)
		c.publish(cur.WithOffset(int64(idx)))
		return
	}
	data := e.GetData()
	if len(data) == 0 { // a new leader's empty entry
		c.publish(cur.WithOffset(int64(idx)))
		return
	}
	hdr := envelopeHeader
	if len(data) > 0 && data[0] == envelopeVersionV2 {
		hdr = envelopeHeaderV2
	}
	if len(data) < hdr || data[0] != envelopeVersion && data[0] != envelopeVersionV2 {
		c.log.Error("skipping metadata entry with an unknown envelope", "index", idx, "bytes", len(data))
		c.publish(cur.WithOffset(int64(idx)))
		return
	}
	proposer := int32(binary.BigEndian.Uint32(data[1:]))
	propID := binary.BigEndian.Uint64(data[5:])
	rec, err := metadata.DecodeRecord(data[hdr:])
	var next *metadata.Image
	if hdr == envelopeHeaderV2 && err == nil {
		if term := binary.BigEndian.Uint64(data[envelopeHeader:]); term != e.GetTerm() {
			// Same check, same result, on every node.
			err = fmt.Errorf("%w: decided in term %d, appended in term %d", ErrNotActiveController, term, e.GetTerm())
			next = cur.WithOffset(int64(idx))
		}
	}
	switch {
	case next != nil: // a stale controller's decision
	case err != nil:
		// Same bytes fail the same way on every node of this version.
		c.log.Error("skipping undecodable metadata record", "index", idx, "err", err)
		next = cur.WithOffset(int64(idx))
	default:
		next, err = cur.Apply(int64(idx), rec)
	}
	c.publish(next)
	if proposer == c.cfg.NodeID {
		if err != nil {
			next = nil
		}
		c.finish(propID, next, err)
	}
}

// publish makes img current and runs the subscribers.
func (c *Controller) publish(img *metadata.Image) {
	old := c.image.Swap(img)
	if old == img {
		return
	}
	c.mu.Lock()
	subs := c.subs
	c.mu.Unlock()
	for _, fn := range subs {
		fn(old, img)
	}
}

// maybeSnapshot writes a snapshot every SnapshotEvery applied entries and
// compacts the log and WAL up to it.
func (c *Controller) maybeSnapshot() error {
	if c.applied-c.snapIndex < uint64(c.cfg.SnapshotEvery) {
		return nil
	}
	return c.snapshot()
}

func (c *Controller) snapshot() error {
	img := c.Image()
	idx := c.applied
	if len(c.confState.GetVoters()) == 0 {
		return nil // membership not applied yet; a snapshot would lose it
	}
	if uint64(img.Offset) != idx {
		return fmt.Errorf("controller: image offset %d != applied %d", img.Offset, idx)
	}
	imgData, err := metadata.EncodeImage(img)
	if err != nil {
		return err
	}
	data, err := encodeSnapshotData(imgData, c.Learners())
	if err != nil {
		return err
	}
	snap, err := c.storage.CreateSnapshot(idx, c.confState, data)
	if err != nil {
		return fmt.Errorf("controller: create snapshot: %w", err)
	}
	if err := writeSnapshot(c.cfg.FS, c.cfg.DataDir, snap); err != nil {
		return err
	}
	if err := c.storage.Compact(idx); err != nil && !errors.Is(err, raft.ErrCompacted) {
		return fmt.Errorf("controller: compact: %w", err)
	}
	last, _ := c.storage.LastIndex()
	var tail []*raftpb.Entry
	if last > idx {
		if tail, err = c.storage.Entries(idx+1, last+1, math.MaxUint64); err != nil {
			return fmt.Errorf("controller: read log tail: %w", err)
		}
	}
	if err := c.wal.rewrite(tail, c.hardState); err != nil {
		return err
	}
	c.snapIndex = idx
	if err := removeSnapshotsBefore(c.cfg.FS, c.cfg.DataDir, idx); err != nil {
		c.log.Warn("removing old snapshots", "err", err)
	}
	c.log.Info("wrote metadata snapshot", "index", idx, "bytes", len(data), "wal_entries", len(tail))
	return nil
}
