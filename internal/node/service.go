package node

import (
	"context"
	"log/slog"
)

// Service is something a node starts after its broker serves and stops
// first: the Kafka and replication listeners, pprof, and whatever
// Config.Services adds (an admin or metrics HTTP listener, a schema
// registry, a REST proxy, Connect, each a Kafka client of the node).
type Service interface {
	// Name names the service in logs and errors.
	Name() string
	// Start starts the service and returns once it is ready (listening).
	// ctx bounds the start only: the service runs until Close.
	Start(ctx context.Context) error
	// Close stops the service and waits for everything it started.
	Close() error
}

// ServiceEnv is what a ServiceFactory gets: the node as a Kafka client
// sees it, once its Kafka listener is bound.
type ServiceEnv struct {
	// Bootstrap is the node's advertised Kafka address ("" on a
	// controller-only node).
	Bootstrap string
	// ClusterID and NodeID name the cluster and this node.
	ClusterID string
	NodeID    int32
	// DataDir is the node's data directory; a service keeps its files in
	// a directory of its own under it.
	DataDir string
	// Logger is the node's logger.
	Logger *slog.Logger
}

// ServiceFactory builds a service. Returning a nil Service (and no error)
// leaves the service out on this node (e.g. one that needs a broker, on a
// controller-only node). An error fails Start.
type ServiceFactory func(env ServiceEnv) (Service, error)

// startService starts svc and pushes its closer.
func (n *Node) startService(ctx context.Context, svc Service, critical bool) error {
	if err := svc.Start(ctx); err != nil {
		return err
	}
	n.stack.push(svc.Name(), critical, svc.Close)
	return nil
}
