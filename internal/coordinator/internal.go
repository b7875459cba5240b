package coordinator

// ShareGroupStateTopic is Kafka's share-group state topic. Samsa has no
// share groups, but Kafka counts the name as internal whether or not the
// topic exists, so a topic of that name is as protected here.
const ShareGroupStateTopic = "__share_group_state"

// IsInternal reports whether topic is one of the internal topics, the set
// Kafka's Topic.isInternal names (OffsetsTopic, TxnStateTopic,
// ShareGroupStateTopic). Only their coordinators write them: a client's
// Produce or DeleteRecords is refused with INVALID_TOPIC_EXCEPTION, as
// Kafka's ReplicaManager refuses them, and Metadata marks them IsInternal.
// A later internal topic is added here.
func IsInternal(topic string) bool {
	switch topic {
	case OffsetsTopic, TxnStateTopic, ShareGroupStateTopic:
		return true
	}
	return false
}
