// Package cluster holds end-to-end tests of multi-node Samsa clusters: real
// processes started by internal/clustertest.StartCluster, forming a metadata
// quorum over loopback TCP. They cover the quorum, membership, failover of
// the active controller and broker fencing; partition replication is tested
// elsewhere once it exists.
package cluster
