// Package txn holds end-to-end tests of transactions against the real
// samsa binary (internal/clustertest): franz-go transactional producers
// committing and aborting, zombie fencing, transaction timeouts, restarts,
// and the admin APIs (DescribeTransactions, ListTransactions).
package txn
