package acl

import "github.com/twmb/franz-go/pkg/kerr"

// apiTable is, by API key, what Kafka 4.x's KafkaApis (and ControllerApis
// for the controller's APIs) authorizes. Where the row departs from a
// plain reading of the API, or Kafka's behaviour was uncertain, Note says
// what was decided.
var apiTable = [...]API{
	0: {Name: "Produce", Requirements: []Requirement{
		need(FailRequest, kerr.TransactionalIDAuthorizationFailed, check(OpWrite, ResourceTransactionalID, NameTransactionalID)).
			when("transactional id set").note("checked first; the whole request fails"),
		need(FailEach, kerr.TopicAuthorizationFailed, check(OpWrite, ResourceTopic, NameEachTopic)).
			note("per partition; since Kafka 3.0 (KIP-679) an idempotent producer needs no IDEMPOTENT_WRITE here"),
	}},
	1: {Name: "Fetch", Requirements: []Requirement{
		need(FailEach, kerr.TopicAuthorizationFailed, check(OpClusterAction, ResourceCluster, NameCluster)).
			when("from a follower (replica id >= 0, or replica state set)").
			note("Kafka answers every partition TOPIC_AUTHORIZATION_FAILED, not CLUSTER_AUTHORIZATION_FAILED"),
		need(FailEach, kerr.TopicAuthorizationFailed, check(OpRead, ResourceTopic, NameEachTopic)).
			when("from a consumer").note("per partition; an unknown topic id is UNKNOWN_TOPIC_ID, before authorization"),
	}},
	2: {Name: "ListOffsets", Requirements: []Requirement{
		need(FailEach, kerr.TopicAuthorizationFailed, check(OpDescribe, ResourceTopic, NameEachTopic)).note("per partition"),
	}},
	3: {Name: "Metadata", Requirements: []Requirement{
		need(FailEach, kerr.TopicAuthorizationFailed, check(OpDescribe, ResourceTopic, NameEachTopic)).
			when("topics named (by name, or by id in v10+)").
			note("no partitions; by name the id is zero, by id the name is null; topic_authorized_operations is Set.AuthorizedOperations of each described topic"),
		need(Omit, nil, check(OpDescribe, ResourceTopic, NameEachResponseTopic)).
			when("all topics (null list, or empty in v0)"),
		need(FailEach, kerr.TopicAuthorizationFailed, check(OpCreate, ResourceCluster, NameCluster), check(OpCreate, ResourceTopic, NameEachCreatedTopic)).
			when("auto-creation: allow_auto_topic_creation, auto.create.topics.enable, topic unknown and described"),
		need(ZeroOperations, nil, check(OpDescribe, ResourceCluster, NameCluster)).versions(8, 10).
			when("include_cluster_authorized_operations"),
	}},
	4: {Name: "LeaderAndIsr", Requirements: []Requirement{clusterAction().note("ZooKeeper mode; removed in Kafka 4.0")}},
	5: {Name: "StopReplica", Requirements: []Requirement{clusterAction().note("ZooKeeper mode; removed in Kafka 4.0")}},
	6: {Name: "UpdateMetadata", Requirements: []Requirement{clusterAction().note("ZooKeeper mode; removed in Kafka 4.0")}},
	7: {Name: "ControlledShutdown", Requirements: []Requirement{clusterAction().note("ZooKeeper mode; removed in Kafka 4.0")}},
	8: {Name: "OffsetCommit", Requirements: []Requirement{
		need(FailRequest, kerr.GroupAuthorizationFailed, check(OpRead, ResourceGroup, NameGroupID)).note("every partition gets the error"),
		need(FailEach, kerr.TopicAuthorizationFailed, check(OpRead, ResourceTopic, NameEachTopic)).note("per partition"),
	}},
	9: {Name: "OffsetFetch", Requirements: []Requirement{
		need(FailEach, kerr.GroupAuthorizationFailed, check(OpDescribe, ResourceGroup, NameEachGroup)).
			note("v8+ per group; v0-7 the one group, top-level error (v2+) and every partition"),
		need(FailEach, kerr.TopicAuthorizationFailed, check(OpDescribe, ResourceTopic, NameEachTopic)).when("topics named").note("per partition"),
		need(Omit, nil, check(OpDescribe, ResourceTopic, NameEachResponseTopic)).when("all topics (null topics)"),
	}},
	10: {Name: "FindCoordinator", Requirements: []Requirement{
		need(FailEach, kerr.GroupAuthorizationFailed, check(OpDescribe, ResourceGroup, NameEachCoordinatorKey)).when("key type 0 (group)").
			note("v4+ per key; v0-3 the one key, top-level error"),
		need(FailEach, kerr.TransactionalIDAuthorizationFailed, check(OpDescribe, ResourceTransactionalID, NameEachCoordinatorKey)).when("key type 1 (transaction)"),
		need(FailEach, kerr.ClusterAuthorizationFailed, check(OpClusterAction, ResourceCluster, NameCluster)).when("key type 2 (share: group:topicId:partition)").
			note("uncertain: share-coordinator keys are looked up by brokers only; decided CLUSTER_ACTION as Kafka 4.x's inter-broker share RPCs"),
	}},
	11: {Name: "JoinGroup", Requirements: groupMember()},
	12: {Name: "Heartbeat", Requirements: groupMember()},
	13: {Name: "LeaveGroup", Requirements: groupMember()},
	14: {Name: "SyncGroup", Requirements: groupMember()},
	15: {Name: "DescribeGroups", Requirements: []Requirement{
		need(FailEach, kerr.GroupAuthorizationFailed, check(OpDescribe, ResourceGroup, NameEachGroup)).
			note("authorized_operations (v3+, when asked) is Set.AuthorizedOperations of the group"),
	}},
	16: {Name: "ListGroups", Requirements: []Requirement{
		need(Omit, nil, check(OpDescribe, ResourceCluster, NameCluster), check(OpDescribe, ResourceGroup, NameEachResponseGroup)).
			note("DESCRIBE on the cluster lists every group; else only groups the principal may DESCRIBE"),
	}},
	17: {Name: "SaslHandshake", Requirements: []Requirement{}},
	18: {Name: "ApiVersions", Requirements: []Requirement{}},
	19: {Name: "CreateTopics", Requirements: []Requirement{
		need(FailEach, kerr.TopicAuthorizationFailed, check(OpCreate, ResourceCluster, NameCluster), check(OpCreate, ResourceTopic, NameEachTopic)),
		need(FailEach, kerr.TopicAuthorizationFailed, check(OpDescribeConfigs, ResourceTopic, NameEachTopic)).versions(5, -1).
			note("in topic_config_error_code: the topic is created but its configs are left out"),
	}},
	20: {Name: "DeleteTopics", Requirements: []Requirement{
		need(FailEach, kerr.TopicAuthorizationFailed, check(OpDescribe, ResourceTopic, NameEachTopic)).versions(6, -1).when("topic given by id").
			note("the name is not returned"),
		need(FailEach, kerr.TopicAuthorizationFailed, check(OpDelete, ResourceTopic, NameEachTopic)),
	}},
	21: {Name: "DeleteRecords", Requirements: []Requirement{
		need(FailEach, kerr.TopicAuthorizationFailed, check(OpDelete, ResourceTopic, NameEachTopic)).note("per partition"),
	}},
	22: {Name: "InitProducerId", Requirements: []Requirement{
		need(FailRequest, kerr.TransactionalIDAuthorizationFailed, check(OpWrite, ResourceTransactionalID, NameTransactionalID)).when("transactional id set"),
		need(FailRequest, kerr.ClusterAuthorizationFailed, check(OpIdempotentWrite, ResourceCluster, NameCluster), check(OpWrite, ResourceTopic, NameAnyTopic)).
			when("no transactional id").note("WRITE on any topic since Kafka 3.0 (KIP-679)"),
	}},
	23: {Name: "OffsetForLeaderEpoch", Requirements: []Requirement{
		need(FailEach, kerr.TopicAuthorizationFailed, check(OpClusterAction, ResourceCluster, NameCluster), check(OpDescribe, ResourceTopic, NameEachTopic)).
			note("per partition; Kafka tries CLUSTER_ACTION first whatever the replica id, then DESCRIBE per topic"),
	}},
	24: {Name: "AddPartitionsToTxn", Requirements: []Requirement{
		need(FailRequest, kerr.TransactionalIDAuthorizationFailed, check(OpWrite, ResourceTransactionalID, NameTransactionalID)).versions(0, 3),
		need(FailAllNotAttempted, kerr.TopicAuthorizationFailed, check(OpWrite, ResourceTopic, NameEachTopic)).versions(0, 3).
			note("internal topics count as unauthorized"),
		need(FailRequest, kerr.ClusterAuthorizationFailed, check(OpClusterAction, ResourceCluster, NameCluster)).versions(4, -1).
			note("v4+ are the brokers' verification requests (KIP-890): top-level error; no transactional-id or topic checks"),
	}},
	25: {Name: "AddOffsetsToTxn", Requirements: []Requirement{
		need(FailRequest, kerr.TransactionalIDAuthorizationFailed, check(OpWrite, ResourceTransactionalID, NameTransactionalID)),
		need(FailRequest, kerr.GroupAuthorizationFailed, check(OpRead, ResourceGroup, NameGroupID)),
	}},
	26: {Name: "EndTxn", Requirements: []Requirement{
		need(FailRequest, kerr.TransactionalIDAuthorizationFailed, check(OpWrite, ResourceTransactionalID, NameTransactionalID)),
	}},
	27: {Name: "WriteTxnMarkers", Requirements: []Requirement{clusterAction()}},
	28: {Name: "TxnOffsetCommit", Requirements: []Requirement{
		need(FailRequest, kerr.TransactionalIDAuthorizationFailed, check(OpWrite, ResourceTransactionalID, NameTransactionalID)).note("every partition gets the error"),
		need(FailRequest, kerr.GroupAuthorizationFailed, check(OpRead, ResourceGroup, NameGroupID)).note("every partition gets the error"),
		need(FailEach, kerr.TopicAuthorizationFailed, check(OpRead, ResourceTopic, NameEachTopic)).note("per partition"),
	}},
	29: {Name: "DescribeAcls", Requirements: []Requirement{onCluster(OpDescribe)}},
	30: {Name: "CreateAcls", Requirements: []Requirement{onCluster(OpAlter).note("every creation gets the error")}},
	31: {Name: "DeleteAcls", Requirements: []Requirement{onCluster(OpAlter).note("every filter gets the error")}},
	32: {Name: "DescribeConfigs", Requirements: configs(OpDescribeConfigs)},
	33: {Name: "AlterConfigs", Requirements: configs(OpAlterConfigs)},
	34: {Name: "AlterReplicaLogDirs", Requirements: []Requirement{onCluster(OpAlter).note("every partition gets the error")}},
	35: {Name: "DescribeLogDirs", Requirements: []Requirement{onCluster(OpDescribe).note("v3+ top-level error; v0-2 an empty result")}},
	36: {Name: "SaslAuthenticate", Requirements: []Requirement{}},
	37: {Name: "CreatePartitions", Requirements: []Requirement{
		need(FailEach, kerr.TopicAuthorizationFailed, check(OpAlter, ResourceTopic, NameEachTopic)),
	}},
	38: {Name: "CreateDelegationToken", Requirements: []Requirement{
		need(FailRequest, kerr.DelegationTokenAuthorizationFailed, check(OpCreateTokens, ResourceUser, NameTokenOwner)).versions(3, -1).
			when("owner set and not the requester").
			note("a token-authenticated connection gets DELEGATION_TOKEN_REQUEST_NOT_ALLOWED, not an ACL"),
	}},
	39: {Name: "RenewDelegationToken", Requirements: []Requirement{}},
	40: {Name: "ExpireDelegationToken", Requirements: []Requirement{}},
	41: {Name: "DescribeDelegationToken", Requirements: []Requirement{
		need(Omit, nil, check(OpDescribe, ResourceDelegationToken, NameEachTokenID), check(OpDescribeTokens, ResourceUser, NameEachTokenOwner)).
			note("a token's owner, requester and renewers see it without ACLs"),
	}},
	42: {Name: "DeleteGroups", Requirements: []Requirement{
		need(FailEach, kerr.GroupAuthorizationFailed, check(OpDelete, ResourceGroup, NameEachGroup)),
	}},
	43: {Name: "ElectLeaders", Requirements: []Requirement{onCluster(OpAlter).note("v1+ top-level error, and every partition")}},
	44: {Name: "IncrementalAlterConfigs", Requirements: configs(OpAlterConfigs)},
	45: {Name: "AlterPartitionReassignments", Requirements: []Requirement{onCluster(OpAlter)}},
	46: {Name: "ListPartitionReassignments", Requirements: []Requirement{onCluster(OpDescribe)}},
	47: {Name: "OffsetDelete", Requirements: []Requirement{
		need(FailRequest, kerr.GroupAuthorizationFailed, check(OpDelete, ResourceGroup, NameGroupID)),
		need(FailEach, kerr.TopicAuthorizationFailed, check(OpRead, ResourceTopic, NameEachTopic)).note("per partition"),
	}},
	48: {Name: "DescribeClientQuotas", Requirements: []Requirement{onCluster(OpDescribeConfigs)}},
	49: {Name: "AlterClientQuotas", Requirements: []Requirement{onCluster(OpAlterConfigs)}},
	50: {Name: "DescribeUserScramCredentials", Requirements: []Requirement{onCluster(OpDescribe)}},
	51: {Name: "AlterUserScramCredentials", Requirements: []Requirement{onCluster(OpAlter)}},
	52: {Name: "Vote", Requirements: []Requirement{clusterAction()}},
	53: {Name: "BeginQuorumEpoch", Requirements: []Requirement{clusterAction()}},
	54: {Name: "EndQuorumEpoch", Requirements: []Requirement{clusterAction()}},
	55: {Name: "DescribeQuorum", Requirements: []Requirement{onCluster(OpDescribe)}},
	56: {Name: "AlterPartition", Requirements: []Requirement{clusterAction()}},
	57: {Name: "UpdateFeatures", Requirements: []Requirement{onCluster(OpAlter)}},
	58: {Name: "Envelope", Requirements: []Requirement{clusterAction().note("and only on a listener that accepts forwarding")}},
	59: {Name: "FetchSnapshot", Requirements: []Requirement{clusterAction()}},
	60: {Name: "DescribeCluster", Requirements: []Requirement{
		need(ZeroOperations, nil, check(OpDescribe, ResourceCluster, NameCluster)).when("include_cluster_authorized_operations").
			note("Kafka requires nothing else: any principal may describe the cluster"),
	}},
	61: {Name: "DescribeProducers", Requirements: []Requirement{
		need(FailEach, kerr.TopicAuthorizationFailed, check(OpRead, ResourceTopic, NameEachTopic)).note("per partition"),
	}},
	62: {Name: "BrokerRegistration", Requirements: []Requirement{clusterAction()}},
	63: {Name: "BrokerHeartbeat", Requirements: []Requirement{clusterAction()}},
	64: {Name: "UnregisterBroker", Requirements: []Requirement{onCluster(OpAlter)}},
	65: {Name: "DescribeTransactions", Requirements: []Requirement{
		need(FailEach, kerr.TransactionalIDAuthorizationFailed, check(OpDescribe, ResourceTransactionalID, NameEachTransactionalID)),
		need(Omit, nil, check(OpDescribe, ResourceTopic, NameEachResponseTopic)).note("partitions of topics not described are left out"),
	}},
	66: {Name: "ListTransactions", Requirements: []Requirement{
		need(Omit, nil, check(OpDescribe, ResourceTransactionalID, NameEachResponseTxnID)),
	}},
	67: {Name: "AllocateProducerIds", Requirements: []Requirement{clusterAction()}},
	68: {Name: "ConsumerGroupHeartbeat", Requirements: []Requirement{
		need(FailRequest, kerr.GroupAuthorizationFailed, check(OpRead, ResourceGroup, NameGroupID)),
		need(FailRequest, kerr.TopicAuthorizationFailed, check(OpDescribe, ResourceTopic, NameEachSubscribedTopic)).when("subscribed_topic_names set").
			note("any one subscribed name not described fails the heartbeat"),
		need(Omit, nil, check(OpDescribe, ResourceTopic, NameEachResponseTopic)).when("subscribed_topic_regex set").
			note("uncertain: decided that the regex resolves only to topics the member may DESCRIBE, as Kafka 4.x"),
	}},
	69: {Name: "ConsumerGroupDescribe", Requirements: []Requirement{
		need(FailEach, kerr.GroupAuthorizationFailed, check(OpDescribe, ResourceGroup, NameEachGroup)).
			note("authorized_operations (when asked) is Set.AuthorizedOperations of the group"),
		need(FailEach, kerr.TopicAuthorizationFailed, check(OpDescribe, ResourceTopic, NameEachAssignedTopic)).
			note("uncertain (Kafka 4.0+): a group whose assignments hold a topic the caller may not describe is answered TOPIC_AUTHORIZATION_FAILED"),
	}},
	70: {Name: "ControllerRegistration", Requirements: []Requirement{clusterAction()}},
	71: {Name: "GetTelemetrySubscriptions", Requirements: []Requirement{}},
	72: {Name: "PushTelemetry", Requirements: []Requirement{}},
	73: {Name: "AssignReplicasToDirs", Requirements: []Requirement{clusterAction()}},
	74: {Name: "ListConfigResources", Requirements: []Requirement{onCluster(OpDescribeConfigs).note("ListClientMetricsResources before Kafka 4.1")}},
	75: {Name: "DescribeTopicPartitions", Requirements: []Requirement{
		need(FailEach, kerr.TopicAuthorizationFailed, check(OpDescribe, ResourceTopic, NameEachTopic)).when("topics named").
			note("topic_authorized_operations is Set.AuthorizedOperations of each described topic"),
		need(Omit, nil, check(OpDescribe, ResourceTopic, NameEachResponseTopic)).when("all topics (empty list)"),
	}},
	76: {Name: "ShareGroupHeartbeat", Requirements: []Requirement{
		need(FailRequest, kerr.GroupAuthorizationFailed, check(OpRead, ResourceGroup, NameGroupID)),
		need(FailRequest, kerr.TopicAuthorizationFailed, check(OpDescribe, ResourceTopic, NameEachSubscribedTopic)).when("subscribed_topic_names set").
			note("DESCRIBE as ConsumerGroupHeartbeat (Kafka 4.x), not READ: reading is checked by ShareFetch"),
	}},
	77: {Name: "ShareGroupDescribe", Requirements: []Requirement{
		need(FailEach, kerr.GroupAuthorizationFailed, check(OpDescribe, ResourceGroup, NameEachGroup)),
		need(FailEach, kerr.TopicAuthorizationFailed, check(OpDescribe, ResourceTopic, NameEachAssignedTopic)).note("uncertain: as ConsumerGroupDescribe"),
	}},
	78: {Name: "ShareFetch", Requirements: shareRead()},
	79: {Name: "ShareAcknowledge", Requirements: shareRead()},
	80: {Name: "AddRaftVoter", Requirements: []Requirement{onCluster(OpAlter)}},
	81: {Name: "RemoveRaftVoter", Requirements: []Requirement{onCluster(OpAlter)}},
	82: {Name: "UpdateRaftVoter", Requirements: []Requirement{clusterAction()}},
	83: {Name: "InitializeShareGroupState", Requirements: []Requirement{shareState()}},
	84: {Name: "ReadShareGroupState", Requirements: []Requirement{shareState()}},
	85: {Name: "WriteShareGroupState", Requirements: []Requirement{shareState()}},
	86: {Name: "DeleteShareGroupState", Requirements: []Requirement{shareState()}},
	87: {Name: "ReadShareGroupStateSummary", Requirements: []Requirement{shareState()}},
	88: {Name: "StreamsGroupHeartbeat", Requirements: []Requirement{
		need(FailRequest, kerr.GroupAuthorizationFailed, check(OpRead, ResourceGroup, NameGroupID)),
		need(FailRequest, kerr.TopicAuthorizationFailed, check(OpDescribe, ResourceTopic, NameEachSubscribedTopic)).when("topology sent").
			note("each source, repartition and changelog topic of the topology"),
		need(Omit, nil, check(OpCreate, ResourceCluster, NameCluster), check(OpCreate, ResourceTopic, NameEachCreatedTopic)).
			when("internal topics missing").note("not created; reported in the response's status list, no error code"),
	}},
	89: {Name: "StreamsGroupDescribe", Requirements: []Requirement{
		need(FailEach, kerr.GroupAuthorizationFailed, check(OpDescribe, ResourceGroup, NameEachGroup)),
	}},
	90: {Name: "DescribeShareGroupOffsets", Requirements: []Requirement{
		need(FailEach, kerr.GroupAuthorizationFailed, check(OpDescribe, ResourceGroup, NameEachGroup)),
		need(FailEach, kerr.TopicAuthorizationFailed, check(OpDescribe, ResourceTopic, NameEachTopic)).when("topics named").note("per partition"),
		need(Omit, nil, check(OpDescribe, ResourceTopic, NameEachResponseTopic)).when("all topics (null topics)"),
	}},
	91: {Name: "AlterShareGroupOffsets", Requirements: []Requirement{
		need(FailRequest, kerr.GroupAuthorizationFailed, check(OpRead, ResourceGroup, NameGroupID)),
		need(FailEach, kerr.TopicAuthorizationFailed, check(OpRead, ResourceTopic, NameEachTopic)).note("per partition"),
	}},
	92: {Name: "DeleteShareGroupOffsets", Requirements: []Requirement{
		need(FailRequest, kerr.GroupAuthorizationFailed, check(OpDelete, ResourceGroup, NameGroupID)),
		need(FailEach, kerr.TopicAuthorizationFailed, check(OpRead, ResourceTopic, NameEachTopic)),
	}},
	93: {Name: "StreamsGroupTopologyDescriptionUpdate", Requirements: []Requirement{
		need(FailRequest, kerr.GroupAuthorizationFailed, check(OpRead, ResourceGroup, NameGroupID)).
			note("uncertain (KIP-1331): decided READ on the group, as the member's heartbeat"),
	}},
	94: {Name: "UnregisterController", Requirements: []Requirement{
		onCluster(OpAlter).note("uncertain: decided ALTER on the cluster, as UnregisterBroker"),
	}},
}

// shareRead is ShareFetch's and ShareAcknowledge's: READ on the group and
// on each topic.
func shareRead() []Requirement {
	return []Requirement{
		need(FailRequest, kerr.GroupAuthorizationFailed, check(OpRead, ResourceGroup, NameGroupID)),
		need(FailEach, kerr.TopicAuthorizationFailed, check(OpRead, ResourceTopic, NameEachTopic)).note("per partition"),
	}
}

// shareState is the share-group state RPCs' (KIP-932 persister, broker to
// share coordinator) requirement.
func shareState() Requirement {
	return clusterAction().note("broker-to-broker persister RPCs: CLUSTER_ACTION, not READ on group and topic")
}
