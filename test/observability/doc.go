// Package observability tests Samsa's metrics, dashboards and their tools
// against real processes: a node (or a 3-node cluster) started through
// internal/clustertest with its admin listener on a free loopback port, a
// small franz-go workload, and Debian's prometheus and promtool (2.42),
// which `make deps` unpacks into .cache/prometheus (mk/prometheus.mk).
//
//   - promtool_test.go: /metrics after a workload passes `promtool check
//     metrics`, and carries every metric name of the observability issue
//     with its labels.
//   - dashboards_test.go: a Prometheus on loopback scrapes a 3-node cluster
//     under load every second; every PromQL query of every dashboard in
//     deploy/grafana/dashboards (panels and template variables), with its
//     variables substituted, must succeed and return data.
//
// A test whose tool is missing skips locally and fails when CI is set.
package observability
