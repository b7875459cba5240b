// Package quota holds Kafka's client quotas as a deterministic core: the
// configured quotas (Store: entities user, client-id, user+client-id and
// ip with producer_byte_rate, consumer_byte_rate, request_percentage,
// controller_mutation_rate and connection_creation_rate), their
// resolution for a client, the DescribeClientQuotas and AlterClientQuotas
// semantics, and the measurement that turns a client's usage into a
// throttle time (Manager). It has no wire or disk format of its own:
// Describe and Alter take and give franz-go kmsg structures, and
// ParseEntity / ParseQuotas read the kafka-configs forms
// (users/alice/clients/<default>, producer_byte_rate=1024,...).
//
// Resolution is Kafka's ClientQuotaManager with the default callback, per
// quota key, most specific first: /config/users/<user>/clients/<client-id>,
// users/<user>/clients/<default>, users/<user>,
// users/<default>/clients/<client-id>, users/<default>/clients/<default>,
// users/<default>, clients/<client-id>, clients/<default>. The level that
// matched names the sensor, as Kafka's metric tags: (user, client-id) for
// the user+client-id levels, (user, "") for users/<user> and
// users/<default> (the client-ids of a user share one rate), ("",
// client-id) for the client-id levels. A client no quota applies to is
// not measured at all (Kafka measures every client once any quota of the
// type exists; throttles are the same, but a quota added later starts
// here from no history).
//
// Measurement is Kafka's: a Rate over quota.window.num windows of
// quota.window.size.seconds (samples+1 kept; the span is the time since
// the oldest window started, at least samples-1 windows). Produce records
// the request's size, fetch the response's size, request_percentage the
// handler-thread nanoseconds × 100/1e9. Past the quota the throttle is
// (rate - quota) / quota × span (QuotaUtils.throttleTime): uncapped for
// the byte rates, as Kafka, and capped at one window for
// request_percentage and the connection rates, as Kafka's
// ClientRequestQuotaManager and ConnectionQuotas. controller_mutation_rate
// is a token bucket (KIP-599) of burst quota × controller.quota.window.num
// × controller.quota.window.size.seconds, strict (refuse while below zero)
// for the versions StrictMutations names and permissive before.
//
// Throttling on the wire (see ClientThrottles): the broker answers at
// once with throttle_time_ms and stops reading the connection until the
// throttle has passed, whatever the request's version; KIP-219 clients
// also wait on their own.
//
// Memory: a sensor unused for SensorExpiry (1 hour, as Kafka) is dropped,
// lazily as new sensors are made and on Manager.Expire; at most
// Config.MaxSensors (100,000 by default) are held, the least recently
// used going first (exactly below 16,384 sensors; above, within each of
// 16 shards). Kafka has no such cap: an evicted client that comes back
// starts with no history, as one whose sensor expired.
//
// Concurrency: a Store is immutable and safe to share; Alter returns a
// new one. Manager's methods are safe for concurrent use: the Store is
// swapped atomically (SetStore) and sensors live in a table sharded by
// key, each shard behind its own mutex held only for one recording. Time
// comes from the injected Clock only; the package starts no goroutines.
package quota
