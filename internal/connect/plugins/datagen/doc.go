// Package datagen holds Samsa's data generator source connector,
// io.samsa.connect.datagen.DataGenSourceConnector (alias DataGen),
// modelled on Confluent's kafka-connect-datagen quickstarts: it produces
// mock `users`, `orders` or `pageviews` records (STRUCT values named
// ksql.users, ksql.orders, ksql.pageviews) to `topic` (or `kafka.topic`).
//
// Settings: `quickstart`, `schema.keyfield` (the field whose value is the
// record key; the quickstart's natural key by default), `max.interval`
// (milliseconds; each record waits a random time up to it, 0 means as
// fast as possible in batches), `iterations` (records per task, negative
// for endless) and `random.seed`. With a seed, record n of task t is the
// same on every run and across restarts: its values are a function of
// (seed, t, n) only.
//
// Offsets: source partition {"task.id": t}, offset {"current.iteration":
// n} (the last record written); a restarted task continues at n+1.
//
// Concurrency: a task is driven by one goroutine; Stop may come from
// another and makes a waiting Poll return.
package datagen
