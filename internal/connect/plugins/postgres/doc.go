// Package postgres holds Samsa Connect's PostgreSQL connectors:
//
//   - PostgresSinkConnector (io.samsa.connect.jdbc.PostgresSinkConnector,
//     alias PostgresSink): writes Struct records to tables, with the
//     Confluent JDBC sink's configuration names (connection.url,
//     insert.mode, pk.mode, pk.fields, auto.create, auto.evolve,
//     delete.enabled, batch.size, table.name.format). In upsert mode each
//     batch is one transaction of INSERT … ON CONFLICT … DO UPDATE, so a
//     batch redelivered after a worker crash leaves every row once; insert
//     mode is at-least-once (a redelivered batch inserts again, or fails on
//     a primary key).
//   - PostgresSourceConnector (io.samsa.connect.jdbc.PostgresSourceConnector,
//     alias PostgresSource): the query-based source of the Confluent JDBC
//     connector (mode bulk, incrementing, timestamp, timestamp+incrementing),
//     source partition {"table": t} (or {"query": q}), offset
//     {"incrementing": n, "timestamp": ms, "timestamp_nanos": ns}.
//   - PostgresCdcSourceConnector (io.samsa.connect.cdc.PostgresCdcSourceConnector,
//     also registered as io.debezium.connector.postgresql.PostgresConnector):
//     change data capture over logical replication (pgoutput) emitting
//     Debezium's change event envelope, key and tombstones.
//
// # CDC offsets and the replication slot
//
// pgoutput (protocol 1) sends each transaction whole, after it committed,
// in commit order; its changes become records as they arrive, so a
// transaction of any size needs no more memory than max.batch.size
// records. Every record carries the source partition {"server":
// topic.prefix} and the offset {"lsn": the change's LSN, "txId",
// "ts_usec": commit time, "lsn_commit": the LSN of its transaction's
// commit record, "tx_seq": its index within the transaction}. The slot's
// confirmed flush LSN moves only in SourceCommitter.Commit, to the
// lsn_commit of the offset the runtime has committed (read back through
// the task's OffsetReader): PostgreSQL then skips only the transactions
// committed before it, so every change not yet durable in Kafka is kept.
// On restart streaming resumes at the committed offset's lsn_commit and
// drops that transaction's first tx_seq+1 records: at-least-once, with
// duplicates only for what was produced but not committed when a worker
// died, as Debezium. A replication connection lost while running (e.g.
// to wal_sender_timeout while nobody polled) is replaced the same way,
// resuming after the last record Poll returned.
//
// # Tests
//
// The tests start a throwaway PostgreSQL 15 cluster (pgStartCluster in
// pg_helpers_test.go): initdb into a temporary directory, wal_level=logical,
// a free 127.0.0.1 port and the unix socket in that directory. initdb and
// postgres refuse to run as root, so as root the cluster runs as the
// Debian package's "postgres" user (runuser -u postgres), in a directory
// chowned to it; otherwise as the current user. mk/deps.mk's deps-postgres
// installs postgresql-15 when /usr/lib/postgresql/15/bin/initdb is missing.
package postgres
