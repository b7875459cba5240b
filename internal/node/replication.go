package node

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/samsa-streaming/samsa/internal/config"
	"github.com/samsa-streaming/samsa/internal/controller"
	"github.com/samsa-streaming/samsa/internal/metadata"
	"github.com/samsa-streaming/samsa/internal/partition"
	"github.com/samsa-streaming/samsa/internal/replication"
)

// newReplicator builds the follower fetchers and ISR loop from the
// replica.* settings.
func newReplicator(cfg *config.Broker, ctl *controller.Controller, parts *partition.Manager, lg *slog.Logger, dial func(context.Context, string) (net.Conn, error)) (*replication.Replicator, error) {
	ms := func(name string, def int64) time.Duration {
		return time.Duration(cfg.Int(name, def)) * time.Millisecond
	}
	return replication.New(replication.Config{
		NodeID: cfg.NodeID, Parts: parts, Image: ctl.Image,
		Propose: func(ctx context.Context, r metadata.Record) error {
			_, err := ctl.Propose(ctx, r)
			return err
		},
		Logger: lg.With("component", "replication"), Clock: wallClock{},
		FetchMaxBytes:         int32(cfg.Int("replica.fetch.max.bytes", 1<<20)),
		FetchResponseMaxBytes: int32(cfg.Int("replica.fetch.response.max.bytes", 10<<20)),
		FetchWait:             ms("replica.fetch.wait.max.ms", 500),
		FetchMinBytes:         int32(cfg.Int("replica.fetch.min.bytes", 1)),
		FetchBackoff:          ms("replica.fetch.backoff.ms", 1000),
		LagTimeMax:            ms("replica.lag.time.max.ms", 30000),
		Dial:                  dial,
	})
}

// controlledShutdownTimeout bounds how long a stopping broker waits for its
// leaderships to move.
const controlledShutdownTimeout = 15 * time.Second

// controlledShutdown asks the controller to move this broker's leaderships
// away (Kafka's controlled shutdown) and waits until no partition it leads
// has another live in-sync replica, so clients fail over before the broker
// stops answering. A single node, or controlled.shutdown.enable=false,
// skips it.
func controlledShutdown(ctl *controller.Controller, cfg *config.Broker, reg metadata.RegisterBroker, lg *slog.Logger) {
	if strings.EqualFold(cfg.Values["controlled.shutdown.enable"], "false") || len(ctl.Image().Brokers) < 2 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), controlledShutdownTimeout)
	defer cancel()
	start := time.Now()
	lg.Info("controlled shutdown: moving leaderships away")
	pctx, pcancel := context.WithTimeout(ctx, 5*time.Second)
	_, err := ctl.Propose(pctx, metadata.FenceBroker{ID: reg.ID, IncarnationID: reg.IncarnationID, Shutdown: true})
	pcancel()
	if err != nil && !errors.Is(err, metadata.ErrStaleBroker) {
		lg.Warn("controlled shutdown: could not tell the controller; stopping anyway", "err", err)
		return
	}
	noLeaderSince := time.Time{}
	for {
		// Without a metadata quorum nothing will move: do not wait it out.
		if ctl.LeaderID() < 0 {
			if noLeaderSince.IsZero() {
				noLeaderSince = time.Now()
			} else if time.Since(noLeaderSince) > 2*time.Second {
				lg.Warn("controlled shutdown: no active controller; stopping anyway")
				return
			}
		} else {
			noLeaderSince = time.Time{}
		}
		left := leadershipsToMove(ctl.Image(), reg.ID)
		if left == 0 {
			lg.Info("controlled shutdown: leaderships moved", "took", time.Since(start).Round(time.Millisecond))
			handOverController(ctx, ctl, reg.ID, lg)
			return
		}
		select {
		case <-ctx.Done():
			lg.Warn("controlled shutdown: timed out; stopping anyway", "partitions_still_led", left)
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// leadershipsToMove counts partitions id leads that another live ISR
// member could take over.
func leadershipsToMove(img *metadata.Image, id int32) int {
	n := 0
	for _, t := range img.Topics {
		for _, p := range t.Partitions {
			if p.Leader != id {
				continue
			}
			for _, r := range p.ISR {
				if r != id && img.Live(r) {
					n++
					break
				}
			}
		}
	}
	return n
}

// handOverController transfers the metadata quorum's leadership to another
// live voter when this node is the active controller, so the quorum does
// not sit out an election timeout after this node stops.
func handOverController(ctx context.Context, ctl *controller.Controller, self int32, lg *slog.Logger) {
	if !ctl.IsLeader() {
		return
	}
	img := ctl.Image()
	to := int32(-1)
	for id := range ctl.Voters() {
		if id != self && img.Live(id) && (to < 0 || id < to) {
			to = id
		}
	}
	if to < 0 {
		return
	}
	if err := ctl.TransferLeadership(ctx, to); err != nil {
		return
	}
	deadline := time.Now().Add(2 * time.Second)
	for ctl.LeaderID() == self && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	lg.Info("controlled shutdown: metadata leadership handed over", "to", ctl.LeaderID())
}

// selfUnfence asks the controller to unfence this broker's incarnation
// whenever the image shows it fenced (not shutting down): the broker was
// paused or cut off and is back. It runs until ctx ends; wake is signalled
// by the metadata subscriber.
func selfUnfence(ctx context.Context, ctl *controller.Controller, reg metadata.RegisterBroker, wake <-chan struct{}, lg *slog.Logger) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-t.C:
		}
		b, ok := ctl.Image().Brokers[reg.ID]
		if !ok || !b.Fenced || b.ShuttingDown || b.IncarnationID != reg.IncarnationID {
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := ctl.Propose(pctx, metadata.UnfenceBroker{ID: reg.ID, IncarnationID: reg.IncarnationID})
		cancel()
		if err == nil {
			lg.Info("this broker was fenced and is back: unfenced")
		} else if ctx.Err() == nil && !errors.Is(err, metadata.ErrStaleBroker) {
			lg.Debug("asking to be unfenced failed", "err", err)
		}
	}
}

// imageSource publishes metadata images; *controller.Controller is one.
type imageSource interface {
	Image() *metadata.Image
	Subscribe(fn func(old, new *metadata.Image))
}

// followImages applies every image after offset from, in order: it
// subscribes, then catches up with the current image, so an image
// published between the caller's start-up pass (at from) and the
// subscription is not missed (a leadership elected in that window would
// otherwise never reach the partition), and an older image never follows
// a newer one. After stop returns, apply is not running and never runs
// again (the controller has no unsubscribe).
func followImages(src imageSource, from int64, apply func(*metadata.Image)) (stop func() error) {
	var mu sync.Mutex
	at, stopped := from, false
	step := func(img *metadata.Image) {
		mu.Lock()
		defer mu.Unlock()
		if stopped || img.Offset <= at {
			return
		}
		at = img.Offset
		apply(img)
	}
	src.Subscribe(func(_, img *metadata.Image) { step(img) })
	step(src.Image())
	return func() error {
		mu.Lock()
		defer mu.Unlock()
		stopped = true
		return nil
	}
}

// waitClusterID waits until the metadata log names the cluster (the first
// leader writes it right after the quorum forms).
func waitClusterID(ctx context.Context, ctl *controller.Controller) (string, error) {
	for {
		if id := ctl.Image().ClusterID; id != "" {
			return id, nil
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// wallClock is the real time.
type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }
