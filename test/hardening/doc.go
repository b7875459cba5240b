// Package hardening holds hostile-client and damaged-disk tests against
// the real samsa binary (built and started through internal/clustertest or
// run directly): what a broker must refuse, survive or report when its
// clients, its configuration or its files are not what they should be.
package hardening
