// Package admin drives the admin APIs of a real samsa binary (topic
// create/delete/partitions, configs, delete records, cluster, log dirs,
// topic partitions, producers) over TCP with franz-go's kadm and kgo,
// started through internal/clustertest. It has no non-test code.
package admin
