// Package chaos holds fault-injection tests of multi-node Samsa clusters
// (issue #5): real processes started by internal/clustertest, with kill -9,
// SIGSTOP/SIGCONT, rolling SIGTERM restarts and network cuts through the
// harness's TCP proxies, under an acks=all idempotent workload whose
// history is checked afterwards (clustertest.History: no acknowledged write
// lost, no duplicate, one value per offset, producer order kept, every
// partition led again after healing).
//
// Scenarios:
//
//  1. TestKillLeaderLoop: kill -9 a partition leader every 10s and restart
//     it, with a group consumer; logs the failover time of each kill.
//  2. TestPauseLeaderPastSession: SIGSTOP a leader past
//     broker.session.timeout.ms, then SIGCONT; it acknowledges nothing
//     under its stale epoch.
//  3. TestPartitionLeaderFromFollowersAndControllers: cut a leader off from
//     its followers and the controllers but not from clients; acks=all
//     writes sent to it are not acknowledged.
//  4. TestGuarantee3Split / TestGuarantee3Combined: RF=3,
//     min.insync.replicas=1, two brokers killed: produce and consume work
//     and every acknowledged record is readable.
//  5. TestPauseActiveControllerDuringTopicChurn: the metadata survives a
//     paused active controller while topics are created and deleted.
//  6. TestKillCoordinatorUnderGroupAndTransactions: committed offsets never
//     go back and a transactional pipeline's output has each input once.
//  7. TestRollingRestartUnderLoad: zero producer errors and no anomaly.
//  8. TestSecure{KillLeaderLoop,PauseLeaderPastSession,
//     PartitionLeaderFromFollowersAndControllers,RollingRestartUnderLoad}:
//     scenarios 1, 2, 3 and 7 on a secured cluster (secure_test.go): raft
//     over the SSL CONTROLLER listener and replication over the SSL
//     INTERNAL listener (inter.broker.listener.name), both with client
//     certificates (CN=broker, a super user) and through the proxies;
//     StandardAuthorizer with no access without an ACL. The workload's
//     clients stay on the PLAINTEXT listener as User:ANONYMOUS, with ACLs
//     on chaos-* topics and groups and Describe and IdempotentWrite on the
//     cluster, created by an admin certificate (CN=admin, a super user)
//     through INTERNAL; a topic outside chaos-* and a follower's fetch on
//     the client listener are checked to be refused first.
//  9. TestSecureSASL{KillLeaderLoop,RollingRestartUnderLoad}: scenarios 1
//     and 7 with the cluster's own traffic over SASL instead
//     (secure_sasl_test.go): raft over the SASL_PLAINTEXT CONTROLLER
//     listener with PLAIN, replication over the SASL_PLAINTEXT INTERNAL
//     listener with SCRAM-SHA-512 (--add-scram), both as User:broker.
//
// Each runs for a short, fixed number of faults by default; set
// SAMSA_CHAOS_DURATION (e.g. 10m, as `make chaos` does) to repeat faults
// for that long.
package chaos
