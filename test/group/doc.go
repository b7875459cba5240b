// Package group holds end-to-end tests of the group coordinator: real
// franz-go consumer groups against the samsa binary started by
// internal/clustertest, with members joining, leaving and crashing, broker
// restarts (SIGTERM and kill -9), admin views (DescribeGroups, ListGroups)
// and the records of __consumer_offsets decoded with Kafka's schemas. It
// also measures and logs rebalance times. It has no non-test code.
package group
