package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/samsa-streaming/samsa/internal/controller"
	"github.com/samsa-streaming/samsa/internal/metadata"
	"github.com/samsa-streaming/samsa/internal/partition"
)

// Storage failures the node reacts to (see doc.go):
//
//   - the metadata log cannot be written: the controller's raft loop
//     stops for good (controller.Done, Err). The node stops, without a
//     controlled shutdown, and Run returns the error, so `samsa serve`
//     exits non-zero (Kafka halts the process);
//   - the log directory went offline (partition.Manager.LogDirFailed):
//     the broker fences itself with FenceBroker{Shutdown}, so the
//     controller moves its leaderships away and its replicas count as
//     offline, and keeps running (answering KAFKA_STORAGE_ERROR for its
//     partitions) until restarted.

// watchController stops the node when the controller's raft loop dies of
// a metadata-log error. Its goroutine is owned by the node: the closer
// pushed here (run before the controller's) stops and waits for it.
func (n *Node) watchController(dir string) {
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		select {
		case <-stop:
		case <-n.ctl.Done():
			if err := n.ctl.Err(); err != nil {
				n.fail(fmt.Errorf("metadata log %s cannot be written; stopping: %w", dir, err))
			}
		}
	}()
	n.stack.push("metadata log watch", false, func() error {
		close(stop)
		<-done
		return nil
	})
}

// fail records a fatal error and tells Run to stop the node.
func (n *Node) fail(err error) {
	n.fatalMu.Lock()
	first := n.fatal == nil
	if first {
		n.fatal = err
	}
	n.fatalMu.Unlock()
	if first {
		n.lg.Error("fatal: stopping the node", "err", err)
	}
	n.stop()
}

// Err is the fatal error that stopped the node on its own (Done), or nil.
func (n *Node) Err() error {
	n.fatalMu.Lock()
	defer n.fatalMu.Unlock()
	return n.fatal
}

// fenceOnLogDirFailure waits until the log directory goes offline, then
// fences this broker's incarnation as a controlled shutdown does (its
// leaderships move, it is not elected, it stays fenced until it registers
// again), retrying until the controller takes it or ctx ends.
func fenceOnLogDirFailure(ctx context.Context, ctl *controller.Controller, parts *partition.Manager, reg metadata.RegisterBroker, lg *slog.Logger) {
	select {
	case <-ctx.Done():
		return
	case <-parts.LogDirFailed():
	}
	lg.Error("log directory offline: fencing this broker so that other replicas take its leaderships", "err", parts.LogDirOffline())
	for {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := ctl.Propose(pctx, metadata.FenceBroker{ID: reg.ID, IncarnationID: reg.IncarnationID, Shutdown: true})
		cancel()
		if err == nil || errors.Is(err, metadata.ErrStaleBroker) {
			lg.Info("fenced after the log directory failure; restart the broker once the disk is fixed")
			return
		}
		lg.Warn("fencing after the log directory failure failed; retrying", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}
