package controller

import (
	"context"
	"errors"
	"time"

	"github.com/samsa-streaming/samsa/internal/metadata"
)

// Broker liveness (Kafka's broker heartbeats and session timeout).
//
// Every member of the quorum answers the raft leader's heartbeats (one per
// tick), so the active controller hears from every live node several times
// a second over the controller listener; those messages are the brokers'
// heartbeats. Every Config.HeartbeatInterval (broker.heartbeat.interval.ms)
// the active controller proposes FenceBroker for each registered, unfenced
// broker it has not heard from for Config.SessionTimeout
// (broker.session.timeout.ms). Unfencing is the broker's own request
// (UnfenceBroker with its incarnation, from serve): a process that was
// stopped or cut off and came back asks, and a message from a dead
// incarnation can never unfence the registration of a restarted one. A
// restarted broker re-registers with a new incarnation, which unfences it. A newly elected controller gives every broker a full session
// timeout before fencing it. The controller never fences its own node.

// startLiveness starts the fencing goroutine if SessionTimeout is set. It
// is stopped by Close.
func (c *Controller) startLiveness() {
	if c.cfg.SessionTimeout <= 0 {
		return
	}
	c.livenessWG.Go(c.livenessLoop)
}

func (c *Controller) livenessLoop() {
	t := time.NewTicker(c.cfg.HeartbeatInterval)
	defer t.Stop()
	var leaderSince time.Time
	for {
		select {
		case <-c.stopc:
			return
		case <-t.C:
		}
		if !c.IsLeader() {
			leaderSince = time.Time{}
			continue
		}
		now := time.Now()
		if leaderSince.IsZero() {
			leaderSince = now
		}
		for _, r := range c.livenessChanges(now, leaderSince) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*c.cfg.HeartbeatInterval+time.Second)
			_, err := c.ProposeAsLeader(ctx, r)
			cancel()
			switch {
			case err == nil:
				c.log.Info("broker liveness changed", "record", r.Type().String(), "broker", brokerOf(r))
			case errors.Is(err, ErrClosed):
				return
			case errors.Is(err, ErrNotActiveController):
				// Leadership moved while deciding: the new leader decides.
			case !errors.Is(err, metadata.ErrStaleBroker):
				c.log.Warn("broker liveness record failed", "record", r.Type().String(), "broker", brokerOf(r), "err", err)
			}
		}
	}
}

// livenessChanges lists the fence and unfence records due at now.
func (c *Controller) livenessChanges(now, leaderSince time.Time) []metadata.Record {
	var out []metadata.Record
	img := c.Image()
	for id, b := range img.Brokers {
		if id == c.cfg.NodeID {
			// The active controller hears itself: it never fences its
			// own broker, and unfences it if a deposed controller did.
			continue
		}
		heard := c.lastHeard(id)
		last := heard
		if last.Before(leaderSince) {
			last = leaderSince
		}
		if !b.Fenced && now.Sub(last) > c.cfg.SessionTimeout {
			out = append(out, metadata.FenceBroker{ID: id, IncarnationID: b.IncarnationID})
		}
	}
	return out
}

func brokerOf(r metadata.Record) int32 {
	switch r := r.(type) {
	case metadata.FenceBroker:
		return r.ID
	case metadata.UnfenceBroker:
		return r.ID
	}
	return -1
}
