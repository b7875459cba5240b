// Package httpsink holds Samsa's HTTP sink connector,
// io.samsa.connect.http.HttpSinkConnector (alias HttpSink): it sends the
// records it consumes to `http.api.url` in batches of up to
// `batch.max.size`, in order, one request at a time per task.
//
// Body: with `request.body.format=json` (the default) a JSON array with
// one element per record, the record's value as JSON (a STRUCT as an
// object in field order, BYTES as base64, Decimal as a number, Timestamp
// and Time as epoch / day milliseconds, Date as epoch days), or, with
// `http.record.envelope=true`, {"topic","partition","offset","timestamp",
// "key","value","headers"}; with `request.body.format=string` the
// values as text joined by `batch.separator` between `batch.prefix`
// and `batch.suffix`. `headers` ("Name:Value|Name2:Value2", split by
// `header.separator`) are added to every request, and `auth.type=BASIC`
// sends `connection.user` / `connection.password`.
//
// Errors: a timeout, a connection error or a status in
// `retry.on.status.codes` (408, 429 and 5xx by default) is retried
// `max.retries` times, waiting `retry.backoff.ms` doubled each time up
// to `retry.backoff.max.ms`; when that is exhausted Put returns an error
// wrapping connect.ErrRetriable, so the runtime delivers the same
// records again later. The task remembers, per partition, the records
// already accepted and does not send them twice. Any other failure (a
// 4xx, a value that cannot be encoded) follows `behavior.on.error`:
// `fail` (the task fails), `log` (logged and skipped) or `ignore`.
//
// Concurrency: a task is used by one goroutine, as connect.SinkTask
// says; it starts none of its own.
package httpsink
