package quota

import (
	"math"
	"time"
)

// clientThrottleSince is the first version of each API whose response
// makes the client back off by itself when throttle_time_ms > 0 (KIP-219,
// Kafka's AbstractResponse.shouldClientThrottle overrides; 0: every
// version). APIs not listed never do: Kafka's default is false,
// and APIs added after KIP-219 mostly kept it.
var clientThrottleSince = map[int16]int16{
	0:  6, // Produce
	1:  8, // Fetch
	2:  3, // ListOffsets
	3:  6, // Metadata
	8:  4, // OffsetCommit
	9:  4, // OffsetFetch
	10: 2, // FindCoordinator
	11: 3, // JoinGroup
	12: 2, // Heartbeat
	13: 2, // LeaveGroup
	14: 2, // SyncGroup
	15: 2, // DescribeGroups
	16: 2, // ListGroups
	18: 2, // ApiVersions
	19: 3, // CreateTopics
	20: 2, // DeleteTopics
	21: 1, // DeleteRecords
	22: 1, // InitProducerId
	24: 1, // AddPartitionsToTxn
	25: 1, // AddOffsetsToTxn
	26: 1, // EndTxn
	28: 1, // TxnOffsetCommit
	29: 1, // DescribeAcls
	30: 1, // CreateAcls
	31: 1, // DeleteAcls
	32: 2, // DescribeConfigs
	33: 1, // AlterConfigs
	34: 1, // AlterReplicaLogDirs
	35: 1, // DescribeLogDirs
	37: 1, // CreatePartitions
	38: 1, // CreateDelegationToken
	39: 1, // RenewDelegationToken
	40: 1, // ExpireDelegationToken
	41: 1, // DescribeDelegationToken
	42: 1, // DeleteGroups
	43: 0, // ElectLeaders
	44: 0, // IncrementalAlterConfigs
	45: 0, // AlterPartitionReassignments
	46: 0, // ListPartitionReassignments
	47: 0, // OffsetDelete
	50: 0, // DescribeUserScramCredentials
	51: 0, // AlterUserScramCredentials
	62: 0, // BrokerRegistration
	63: 0, // BrokerHeartbeat
	64: 0, // UnregisterBroker
	75: 0, // DescribeTopicPartitions
}

// ClientThrottles reports whether a client that got this API's response
// at this version with throttle_time_ms > 0 waits that long before its
// next request to the broker (KIP-219). It changes nothing on the broker
// side: as Kafka since 2.0, the broker sends every response at once,
// throttled or not, with throttle_time_ms set, and stops reading the
// connection (mutes it) until the throttle has passed. A client that
// throttles itself sends nothing into the muted connection; an older
// one finds its next request unread until then.
func ClientThrottles(apiKey, version int16) bool {
	since, ok := clientThrottleSince[apiKey]
	return ok && version >= since
}

// StrictMutations reports whether a request gets the strict controller
// mutation quota (CheckMutation): CreateTopics v6+, DeleteTopics v5+,
// CreatePartitions v3+ (KIP-599); older versions of these get the
// permissive one (RecordMutation). Other APIs make no mutations.
func StrictMutations(apiKey, version int16) bool {
	switch apiKey {
	case 19:
		return version >= 6
	case 20:
		return version >= 5
	case 37:
		return version >= 3
	}
	return false
}

// ThrottleTimeMs is a throttle as a response's throttle_time_ms, rounded
// up to whole milliseconds and capped at math.MaxInt32.
func ThrottleTimeMs(d time.Duration) int32 {
	if d <= 0 {
		return 0
	}
	n := (d + time.Millisecond - 1) / time.Millisecond
	return int32(min(int64(n), math.MaxInt32))
}
