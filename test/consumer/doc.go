// Package consumer holds end-to-end tests of KIP-848 consumer groups
// ("consumer" group type, ConsumerGroupHeartbeat) against the real samsa
// binary, driven by franz-go's server-side-balancer consumer.
package consumer
