// Command samsa is the Samsa broker and its command-line client in one
// binary.
//
//	samsa serve                    run a broker (serve.go)
//	samsa topic …                  create, list, describe, delete, alter-config
//	samsa produce / consume        lines from stdin / records to stdout
//	samsa group …                  list, describe, delete, lag, reset-offsets
//	samsa txn …                    list, describe, abort
//	samsa cluster info             brokers, controller, cluster id
//	samsa cluster brokers          id, address, rack, fenced, controller role
//	samsa cluster quorum           metadata quorum: leader, epoch, voters, lag
//	samsa cluster remove-broker ID move a broker's replicas away, unregister it
//	samsa partition reassign       move replicas (Kafka's reassignment JSON or flags)
//	samsa partition list-reassignments  reassignments in progress
//	samsa partition elect-leaders  preferred or unclean leader election
//	samsa bench produce|consume|e2e  load generator with latency percentiles
//	samsa user create|delete|list  SCRAM credentials (user.go)
//	samsa acl create|list|delete   ACLs with kafka-acls' options (acl.go, acl_run.go)
//	samsa quota describe|alter     client quotas (quota.go)
//	samsa connect [worker.properties]  a Kafka Connect worker, REST on :8083 (connect.go)
//
// Every client command takes TLS and SASL settings with Kafka's client
// names from --command-config FILE, $SAMSA_CLIENT_CONFIG or -X key=value
// (clientconfig.go, clientsecurity.go; samsa help client-config).
//
// The client commands are built on franz-go (kgo, kadm) and print one clear
// line on error.
package main
