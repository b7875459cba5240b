// Package httpserve is what Samsa's HTTP services (schema registry, REST
// proxy, and later Connect and SQL) share for security: HTTP basic
// authentication checked by logging in to Kafka with the same
// credentials, so the broker's users (SCRAM or PLAIN) are the services'
// users, and authorization by the broker's own ACLs, asked through the
// user's own connection (the authorized operations, KIP-430, of Metadata
// for a topic and of DescribeCluster for the Cluster). The admin listener
// uses it as well as the registry and the REST proxy.
//
// A BasicAuth keeps one Kafka client per user that logged in (at most
// MaxSessions, the least recently used closed first); a login is cached
// for TTL so that not every request pays a SASL exchange, and a failed one
// for a second so that a wrong password is not hammered into the broker.
//
// It is a Kafka client only (franz-go) and imports no broker internal.
package httpserve
