// Package share holds end-to-end tests of KIP-932 share groups against the
// samsa binary started by internal/clustertest, driven by franz-go's share
// consumer: acknowledgements that survive a kill -9 of the broker through
// __share_group_state. It has no non-test code.
package share
