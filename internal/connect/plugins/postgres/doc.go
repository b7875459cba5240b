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
// Changes are buffered per transaction and released when its Commit
// message arrives, so records leave in commit order. Every record carries
// the source partition {"server": topic.prefix} and the offset
// {"lsn": change LSN, "txId", "ts_usec", "lsn_commit": end LSN of its
// transaction, "tx_seq": index within the transaction, "tx_complete":
// whether it is the transaction's last record}. The slot's confirmed flush
// LSN moves only in SourceCommitter.Commit, to the end of the last
// transaction whose final record's offset the runtime has committed (read
// back through the task's OffsetReader), so PostgreSQL keeps every change
// not yet durable in Kafka. On restart streaming resumes from the
// committed offset and drops records at or before it: at-least-once, with
// duplicates only for what was produced but not yet committed when a worker
// died, as Debezium.
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
