// Package errcode is the one table from Samsa's errors to Kafka's error
// codes. Kafka's codes themselves (number, name, retriable) are franz-go's
// kerr table; here the errors of the partition, log, metadata and
// controller packages meet them. The broker's handlers and the leader side
// of replication (and so the replication simulation) map errors only
// through Code, so one error has one code everywhere.
//
// A *kerr.Error anywhere in the chain is its own code. context.Canceled
// and context.DeadlineExceeded are REQUEST_TIMED_OUT; an error the table
// does not know is UNKNOWN_SERVER_ERROR.
package errcode
