package restproxy

// The v3 part of the OpenAPI document (application/json).

// v3Schemas are the component schemas of v3.
func v3Schemas() obj {
	out := v3ResourceSchemas()
	for k, v := range v3RequestSchemas() {
		out[k] = v
	}
	return out
}

// v3ResourceSchemas are the schemas of the resources v3 answers with.
func v3ResourceSchemas() obj {
	rel := oaRef("Relationship")
	nrel := oaNullable(rel)
	meta := oaRef("ResourceMetadata")
	res := func(props obj, required ...string) obj {
		props["kind"] = oaStr()
		props["metadata"] = meta
		props["cluster_id"] = oaStr()
		return oaObject(props, append([]string{"kind", "metadata", "cluster_id"}, required...)...)
	}
	config := res(obj{
		"name": oaStr(), "value": oaNullable(oaStr()), "is_default": oaBool(), "is_read_only": oaBool(),
		"is_sensitive": oaBool(), "source": oaStr(),
		"synonyms":   oaArray(oaObject(obj{"name": oaStr(), "value": oaNullable(oaStr()), "source": oaStr()})),
		"topic_name": oaStr(), "broker_id": oaInt(), "config_type": oaStr(),
	}, "name", "value", "is_default", "is_read_only", "is_sensitive", "source", "synonyms")
	return obj{
		"Error":                      oaObject(obj{"error_code": oaInt(), "message": oaStr()}, "error_code", "message"),
		"Relationship":               oaObject(obj{"related": oaStr()}, "related"),
		"ResourceMetadata":           oaObject(obj{"self": oaStr(), "resource_name": oaStr()}, "self"),
		"ResourceCollectionMetadata": oaObject(obj{"self": oaStr(), "next": oaNullable(oaStr())}, "self"),
		"Cluster": res(obj{
			"controller": nrel, "acls": rel, "brokers": rel, "broker_configs": rel,
			"consumer_groups": rel, "topics": rel, "partition_reassignments": rel,
		}, "acls", "brokers", "topics"),
		"Broker": res(obj{
			"broker_id": oaInt(), "host": oaStr(), "port": oaInt(), "rack": oaNullable(oaStr()),
			"configs": rel, "partition_replicas": rel,
		}, "broker_id", "host", "port"),
		"Config": config,
		"Topic": res(obj{
			"topic_name": oaStr(), "is_internal": oaBool(), "replication_factor": oaInt(), "partitions_count": oaInt(),
			"partitions": rel, "configs": rel, "partition_reassignments": rel, "authorized_operations": oaArray(oaStr()),
		}, "topic_name", "is_internal", "replication_factor", "partitions_count"),
		"Partition": res(obj{
			"topic_name": oaStr(), "partition_id": oaInt(), "leader": nrel, "replicas": rel, "reassignment": rel,
		}, "topic_name", "partition_id"),
		"Replica": res(obj{
			"topic_name": oaStr(), "partition_id": oaInt(), "broker_id": oaInt(), "is_leader": oaBool(),
			"is_in_sync": oaBool(), "broker": rel,
		}, "topic_name", "partition_id", "broker_id", "is_leader", "is_in_sync"),
		"Reassignment": res(obj{
			"topic_name": oaStr(), "partition_id": oaInt(), "adding_replicas": oaArray(oaInt()),
			"removing_replicas": oaArray(oaInt()), "replicas": rel,
		}, "topic_name", "partition_id", "adding_replicas", "removing_replicas"),
		"ConsumerGroup": res(obj{
			"consumer_group_id": oaStr(), "is_simple": oaBool(), "partition_assignor": oaStr(), "state": oaStr(),
			"type": oaStr(), "coordinator": rel, "consumers": rel, "lag_summary": rel,
		}, "consumer_group_id", "state"),
		"Consumer": res(obj{
			"consumer_group_id": oaStr(), "consumer_id": oaStr(), "instance_id": oaNullable(oaStr()), "client_id": oaStr(),
			"assignments": rel,
		}, "consumer_group_id", "consumer_id", "client_id"),
		"ConsumerAssignment": res(obj{
			"consumer_group_id": oaStr(), "consumer_id": oaStr(), "topic_name": oaStr(), "partition_id": oaInt(),
			"partition": rel, "lag": rel,
		}, "consumer_group_id", "consumer_id", "topic_name", "partition_id"),
		"ConsumerLag": res(obj{
			"consumer_group_id": oaStr(), "topic_name": oaStr(), "partition_id": oaInt(), "current_offset": oaInt(),
			"log_end_offset": oaInt(), "lag": oaInt(), "consumer_id": oaStr(), "instance_id": oaNullable(oaStr()),
			"client_id": oaStr(),
		}, "consumer_group_id", "topic_name", "partition_id", "current_offset", "log_end_offset", "lag"),
		"ConsumerGroupLagSummary": res(obj{
			"consumer_group_id": oaStr(), "max_lag_consumer_id": oaStr(), "max_lag_instance_id": oaNullable(oaStr()),
			"max_lag_client_id": oaStr(), "max_lag_topic_name": oaStr(), "max_lag_partition_id": oaInt(),
			"max_lag": oaInt(), "total_lag": oaInt(), "max_lag_consumer": nrel, "max_lag_partition": nrel,
		}, "consumer_group_id", "max_lag", "total_lag"),
		"Acl": res(obj{
			"resource_type": oaStr(), "resource_name": oaStr(), "pattern_type": oaStr(), "principal": oaStr(),
			"host": oaStr(), "operation": oaStr(), "permission": oaStr(),
		}, "resource_type", "resource_name", "pattern_type", "principal", "host", "operation", "permission"),
	}
}

// v3RequestSchemas are the schemas of request bodies and of produce and
// consume answers.
func v3RequestSchemas() obj {
	keyValueInfo := oaNullable(oaObject(obj{
		"type": oaStr(), "size": oaInt(), "subject": oaStr(), "schema_id": oaInt(), "schema_version": oaInt(),
	}, "type", "size"))
	data := oaObject(obj{
		"type": oaNullable(obj{"type": "string", "enum": []string{
			"BINARY", "JSON", "STRING", "AVRO", "JSONSCHEMA", "PROTOBUF",
			"binary", "json", "string", "avro", "jsonschema", "protobuf"}}),
		"data": oaAny(), "subject": oaNullable(oaStr()), "subject_name_strategy": oaNullable(obj{"type": "string",
			"enum": []string{"TOPIC_NAME", "RECORD_NAME", "TOPIC_RECORD_NAME"}}),
		"schema_id": oaNullable(oaIntRange(0, 1<<31-1)), "schema_version": oaNullable(oaIntRange(-1, 1<<31-1)), "schema": oaNullable(oaStr()),
	})
	record := obj{
		"partition_id": oaNullable(oaIntRange(0, 1<<31-1)),
		"headers":      oaNullable(oaArray(oaObject(obj{"name": obj{"type": "string", "minLength": 1}, "value": oaNullable(obj{"type": "string", "format": "byte"})}, "name"))),
		"key":          oaNullable(oaRef("ProduceData")),
		"value":        oaNullable(oaRef("ProduceData")),
		"timestamp":    oaNullable(obj{"type": "string", "format": "date-time"}),
	}
	produceResponse := oaObject(obj{
		"error_code": oaInt(), "message": oaStr(), "cluster_id": oaStr(), "topic_name": oaStr(),
		"partition_id": oaInt(), "offset": oaInt(), "timestamp": oaStr(), "key": keyValueInfo, "value": keyValueInfo,
	}, "error_code")
	batchSuccess := oaObject(obj{
		"id": oaStr(), "cluster_id": oaStr(), "topic_name": oaStr(),
		"partition_id": oaInt(), "offset": oaInt(), "timestamp": oaStr(), "key": keyValueInfo, "value": keyValueInfo,
	}, "id", "partition_id", "offset")
	batchEntry := obj{"id": obj{"type": "string", "minLength": 1}}
	for k, v := range record {
		batchEntry[k] = v
	}
	return obj{
		"CreateTopicRequest": oaObject(obj{
			"topic_name":         topicName(),
			"partitions_count":   oaNullable(oaIntRange(1, maxPartitions)),
			"replication_factor": oaNullable(oaIntRange(1, 32767)),
			"replicas_assignments": oaNullable(oaArray(oaObject(obj{
				"partition_id": oaIntRange(0, 1<<31-1),
				"broker_ids":   oaArray(oaIntRange(0, 1<<31-1)),
			}, "partition_id", "broker_ids"))),
			"configs":       oaNullable(oaArray(oaObject(obj{"name": oaStr(), "value": oaNullable(oaStr())}, "name"))),
			"validate_only": oaNullable(oaBool()),
		}, "topic_name"),
		"UpdateTopicRequest":  oaObject(obj{"partitions_count": oaIntRange(1, maxPartitions)}, "partitions_count"),
		"UpdateConfigRequest": oaObject(obj{"value": oaStr()}, "value"),
		"AlterConfigsRequest": oaObject(obj{
			"data": oaNullable(oaArray(oaObject(obj{
				"name":      oaStr(),
				"value":     oaNullable(oaStr()),
				"operation": oaNullable(obj{"type": "string", "enum": []string{"SET", "DELETE", "set", "delete"}}),
			}, "name"))),
			"validate_only": oaNullable(oaBool()),
		}),
		"CreateAclRequest": oaObject(obj{
			"resource_type": obj{"type": "string", "enum": []string{"TOPIC", "GROUP", "CLUSTER", "TRANSACTIONAL_ID", "DELEGATION_TOKEN", "USER"}},
			"resource_name": oaStr(),
			"pattern_type":  obj{"type": "string", "enum": []string{"LITERAL", "PREFIXED"}},
			"principal":     oaStr(),
			"host":          oaNullable(oaStr()),
			"operation": obj{"type": "string", "enum": []string{"ALL", "READ", "WRITE", "CREATE", "DELETE", "ALTER",
				"DESCRIBE", "CLUSTER_ACTION", "DESCRIBE_CONFIGS", "ALTER_CONFIGS", "IDEMPOTENT_WRITE"}},
			"permission": obj{"type": "string", "enum": []string{"ALLOW", "DENY"}},
		}, "resource_type", "resource_name", "pattern_type", "principal", "operation", "permission"),
		"ProduceData":     data,
		"ProduceRequest":  oaObject(record),
		"ProduceResponse": produceResponse,
		"ProduceBatchRequest": oaObject(obj{
			"entries": obj{"type": "array", "minItems": 1, "items": oaObject(batchEntry, "id")},
		}, "entries"),
		"ProduceBatchResponse": oaObject(obj{
			"successes": oaArray(batchSuccess),
			"failures":  oaArray(oaObject(obj{"id": oaStr(), "error_code": oaInt(), "message": oaStr()}, "id", "error_code", "message")),
		}, "successes", "failures"),
		"ConsumedRecord": oaObject(obj{
			"cluster_id": oaStr(), "topic_name": oaStr(), "partition_id": oaInt(), "offset": oaInt(),
			"timestamp": oaStr(), "headers": oaArray(oaObject(obj{"name": oaStr(), "value": oaNullable(oaStr())})),
			"key":   oaNullable(oaObject(obj{"type": oaStr(), "data": oaAny(), "schema_id": oaInt()})),
			"value": oaNullable(oaObject(obj{"type": oaStr(), "data": oaAny(), "schema_id": oaInt()})),
		}),
	}
}

// v3List is the schema of a collection of kind items.
func oaList(item string) obj {
	return oaObject(obj{"kind": oaStr(), "metadata": oaRef("ResourceCollectionMetadata"), "data": oaArray(oaRef(item))},
		"kind", "metadata", "data")
}

const (
	v3Base     = "/v3/clusters/{cluster_id}"
	tagCluster = "v3 cluster"
)

// v3 params.
func cidParam() obj { return oaPath("cluster_id", oaStr(), "The cluster id (GET /v3/clusters)") }
func topicParam() obj {
	return oaPath("topic_name", topicName(), "A topic")
}

// topicName is the schema of a topic name Kafka takes.
func topicName() obj {
	return obj{"type": "string", "pattern": "^[a-zA-Z0-9._-]{1,249}$", "not": obj{"enum": []string{".", ".."}}}
}
func partParam() obj {
	return oaPath("partition_id", oaIntRange(0, 1<<31-1), "A partition")
}
func brokerParam() obj {
	return oaPath("broker_id", oaIntRange(0, 1<<31-1), "A broker")
}
func nameParam() obj  { return oaPath("name", oaStr(), "A config name") }
func groupParam() obj { return oaPath("consumer_group_id", oaStr(), "A consumer group") }

// v3ok is a 200 JSON answer of schema s.
func oaOK(desc string, s obj) obj { return obj{"200": oaResp(desc, s, v3JSON)} }

// get adds a v3 GET answering s.
func (d *apiDoc) v3Get(path, summary, tag string, params []obj, s obj, errs ...string) {
	d.op("GET", path, summary, tag, params, nil, oaResponses(v3JSON, oaOK(summary, s), errs...))
}

// v3Admin lists clusters, brokers, configs, topics, partitions, replicas
// and reassignments.
func (d *apiDoc) v3Admin() {
	c := []obj{cidParam()}
	d.v3Get("/v3/clusters", "List the cluster (there is one)", tagCluster, nil, oaList("Cluster"))
	d.v3Get(v3Base, "Get the cluster", tagCluster, c, oaRef("Cluster"), "404")
	b := oaPlus(c, brokerParam())
	d.v3Get(v3Base+"/brokers", "List the brokers", tagCluster, c, oaList("Broker"), "404")
	d.v3Get(v3Base+"/brokers/{broker_id}", "Get a broker", tagCluster, b, oaRef("Broker"), "404")
	d.v3Get(v3Base+"/brokers/{broker_id}/partition-replicas", "List the replicas a broker hosts", tagCluster, b, oaList("Replica"), "404")
	d.v3Configs(v3Base+"/brokers/{broker_id}/configs", "v3 broker configs", b)
	d.v3Configs(v3Base+"/broker-configs", "v3 cluster-wide broker configs", c)

	const tags = "v3 topics"
	t := oaPlus(c, topicParam())
	d.v3Get(v3Base+"/topics", "List the topics", tags, c, oaList("Topic"), "404")
	d.op("POST", v3Base+"/topics", "Create a topic", tags, c, oaBody(oaRef("CreateTopicRequest"), v3JSON),
		oaResponses(v3JSON, obj{"201": oaResp("The topic", oaRef("Topic"), v3JSON),
			"200": oaResp("The topic that would be created (validate_only)", oaRef("Topic"), v3JSON)}, "400", "404", "409", "413"))
	d.v3Get(v3Base+"/topics/{topic_name}", "Get a topic", tags, t, oaRef("Topic"), "404")
	d.op("PATCH", v3Base+"/topics/{topic_name}", "Raise a topic's partition count", tags, t,
		oaBody(oaRef("UpdateTopicRequest"), v3JSON), oaResponses(v3JSON, oaOK("The topic", oaRef("Topic")), "400", "404", "413"))
	d.op("DELETE", v3Base+"/topics/{topic_name}", "Delete a topic", tags, t, nil,
		oaResponses(v3JSON, obj{"204": oaNoBody("Deleted")}, "404"))
	d.v3Configs(v3Base+"/topics/{topic_name}/configs", "v3 topic configs", t)
	p := oaPlus(t, partParam())
	d.v3Get(v3Base+"/topics/{topic_name}/partitions", "List a topic's partitions", tags, t, oaList("Partition"), "404")
	d.v3Get(v3Base+"/topics/{topic_name}/partitions/{partition_id}", "Get a partition", tags, p, oaRef("Partition"), "404")
	d.v3Get(v3Base+"/topics/{topic_name}/partitions/{partition_id}/replicas", "List a partition's replicas", tags, p, oaList("Replica"), "404")
	d.v3Get(v3Base+"/topics/{topic_name}/partitions/{partition_id}/replicas/{broker_id}", "Get a replica", tags,
		oaPlus(p, brokerParam()), oaRef("Replica"), "404")
	d.v3Get(v3Base+"/topics/{topic_name}/partitions/{partition_id}/reassignment", "Get a partition's ongoing reassignment", tags,
		p, oaRef("Reassignment"), "404")
	d.v3Get(v3Base+"/topics/{topic_name}/partitions/-/reassignment", "List a topic's ongoing reassignments", tags,
		t, oaList("Reassignment"), "404")
	d.v3Get(v3Base+"/topics/-/partitions/-/reassignment", "List every ongoing reassignment", tags,
		c, oaList("Reassignment"), "404")
}

// v3Configs lists the config operations of a resource.
func (d *apiDoc) v3Configs(base, tag string, params []obj) {
	n := append(append([]obj{}, params...), nameParam())
	d.v3Get(base, "List the configs", tag, params, oaList("Config"), "404")
	d.v3Get(base+"/{name}", "Get a config", tag, n, oaRef("Config"), "404")
	d.op("PUT", base+"/{name}", "Set a config", tag, n, oaBody(oaRef("UpdateConfigRequest"), v3JSON),
		oaResponses(v3JSON, obj{"204": oaNoBody("Set")}, "400", "404", "413"))
	d.op("DELETE", base+"/{name}", "Reset a config to its default", tag, n, nil,
		oaResponses(v3JSON, obj{"204": oaNoBody("Reset")}, "400", "404"))
	d.op("POST", base+":alter", "Set and reset configs", tag, params, oaBody(oaRef("AlterConfigsRequest"), v3JSON),
		oaResponses(v3JSON, obj{"204": oaNoBody("Altered")}, "400", "404", "413"))
}

// v3Groups lists consumer groups and ACLs.
func (d *apiDoc) v3Groups() {
	const tag = "v3 consumer groups"
	c := []obj{cidParam()}
	g := oaPlus(c, groupParam())
	gc := oaPlus(g, oaPath("consumer_id", oaStr(), "A group member"))
	base := v3Base + "/consumer-groups"
	d.v3Get(base, "List the consumer groups", tag, c, oaList("ConsumerGroup"), "404")
	d.v3Get(base+"/{consumer_group_id}", "Get a consumer group", tag, g, oaRef("ConsumerGroup"), "404")
	d.v3Get(base+"/{consumer_group_id}/consumers", "List a group's consumers", tag, g, oaList("Consumer"), "404")
	d.v3Get(base+"/{consumer_group_id}/consumers/{consumer_id}", "Get a consumer", tag, gc, oaRef("Consumer"), "404")
	d.v3Get(base+"/{consumer_group_id}/consumers/{consumer_id}/assignments", "List a consumer's assignments", tag, gc,
		oaList("ConsumerAssignment"), "404")
	d.v3Get(base+"/{consumer_group_id}/lags", "List a group's lags", tag, g, oaList("ConsumerLag"), "404")
	d.v3Get(base+"/{consumer_group_id}/lags/{topic_name}/partitions/{partition_id}", "Get a group's lag on a partition", tag,
		oaPlus(g, topicParam(), partParam()), oaRef("ConsumerLag"), "404")
	d.v3Get(base+"/{consumer_group_id}/lag-summary", "Get a group's lag summary", tag, g, oaRef("ConsumerGroupLagSummary"), "404")
	d.op("POST", base+"/{consumer_group_id}/offsets", "Commit offsets for a group without members of its own (beyond Confluent)", tag, g,
		oaBody(oaObject(obj{"offsets": obj{"type": "array", "minItems": 1, "items": oaObject(obj{
			"topic_name": topicName(), "partition_id": oaIntRange(0, 1<<31-1), "offset": oaIntRange(0, 1<<53-1),
			"metadata": oaNullable(oaStr()),
		}, "topic_name", "partition_id", "offset")}}, "offsets"), v3JSON),
		oaResponses(v3JSON, obj{"204": oaNoBody("Committed")}, "400", "404", "409", "413"))

	const atag = "v3 acls"
	enum := func(vs ...string) obj { return obj{"type": "string", "enum": vs} }
	filter := oaPlus(c,
		oaQuery("resource_type", enum("ANY", "TOPIC", "GROUP", "CLUSTER", "TRANSACTIONAL_ID", "DELEGATION_TOKEN", "USER"), "Resource type"),
		oaQuery("resource_name", oaStr(), "Resource name"),
		oaQuery("pattern_type", enum("ANY", "MATCH", "LITERAL", "PREFIXED"), "Pattern type"),
		oaQuery("principal", oaStr(), "Principal, as User:name"),
		oaQuery("host", oaStr(), "Host"),
		oaQuery("operation", enum("ANY", "ALL", "READ", "WRITE", "CREATE", "DELETE", "ALTER", "DESCRIBE",
			"CLUSTER_ACTION", "DESCRIBE_CONFIGS", "ALTER_CONFIGS", "IDEMPOTENT_WRITE"), "Operation"),
		oaQuery("permission", enum("ANY", "ALLOW", "DENY"), "Permission"),
	)
	d.v3Get(v3Base+"/acls", "List the ACLs matching a filter", atag, filter, oaList("Acl"), "400", "404")
	d.op("POST", v3Base+"/acls", "Create an ACL", atag, c, oaBody(oaRef("CreateAclRequest"), v3JSON),
		oaResponses(v3JSON, obj{"201": oaResp("The ACL", oaRef("Acl"), v3JSON)}, "400", "404", "413"))
	d.op("DELETE", v3Base+"/acls", "Delete the ACLs matching a filter", atag, filter, nil,
		oaResponses(v3JSON, oaOK("The ACLs deleted", oaObject(obj{"data": oaArray(oaRef("Acl"))}, "data")), "400", "404"))
}

// v3Records lists produce, batch produce and consume.
func (d *apiDoc) v3Records() {
	const tag = "v3 records"
	t := []obj{cidParam(), topicParam()}
	d.op("POST", v3Base+"/topics/{topic_name}/records",
		"Produce records: one JSON record, or a stream of them (chunked) answered by one delivery report each, in order", tag, t,
		oaBody(oaRef("ProduceRequest"), v3JSON),
		oaResponses(v3JSON, oaOK("The delivery report of each record, concatenated", oaRef("ProduceResponse")),
			"400", "404", "408", "413", "422"))
	d.op("POST", v3Base+"/topics/{topic_name}/records:batch", "Produce a batch of records", tag, t,
		oaBody(oaRef("ProduceBatchRequest"), v3JSON),
		oaResponses(v3JSON, obj{"207": oaResp("The outcome of each entry", oaRef("ProduceBatchResponse"), v3JSON)}, "400", "404", "413"))
	// An empty id is no id (the stream starts over), as EventSource has it.
	eventID := obj{"type": "string", "pattern": "^([0-9]{1,9}:[0-9]{1,18}(,[0-9]{1,9}:[0-9]{1,18})*)?$"}
	fmtEnum := obj{"type": "string", "enum": []string{"BINARY", "STRING", "JSON", "AVRO", "JSONSCHEMA", "PROTOBUF"}}
	d.op("GET", v3Base+"/topics/{topic_name}/records",
		"Consume records as server-sent events (Accept: text/event-stream; each id is <partition>:<offset>[,...], "+
			"resumed by Last-Event-ID) or JSON lines (application/x-ndjson)", tag,
		oaPlus(t,
			oaQuery("partition_id", oaIntRange(0, 1<<31-1), "One partition (default: all)"),
			oaQuery("offset", obj{"type": "string", "pattern": "^([0-9]{1,18}|earliest|latest)$"}, "Where to start: an offset, earliest (default) or latest"),
			oaQuery("timestamp", obj{"type": "string", "pattern": "^[0-9]{1,15}$"}, "Where to start when offset is not given: Unix milliseconds (RFC 3339 is taken too)"),
			oaQuery("max_records", obj{"type": "integer", "format": "int64", "minimum": 0, "maximum": 1e15}, "Stop after this many records"),
			oaQuery("timeout_ms", oaIntRange(1, 5000), "Stop after this long without a record (default 5 s for events, 1 s for JSON lines); resume after it"),
			oaQuery("key_format", fmtEnum, "How keys are shown (default BINARY)"),
			oaQuery("value_format", fmtEnum, "How values are shown (default BINARY)"),
			oaQuery("last_event_id", eventID, "Resume after this event id (as Last-Event-ID)"),
			oaQuery("follow", obj{"type": "string", "enum": []string{"true", "false"}},
				"Go on past the end of the log until timeout_ms passes without a record (default: true for events, false for JSON lines)"),
			oaQuery("group_id", obj{"type": "string", "minLength": 1}, "Start where this group committed (POST .../consumer-groups/{consumer_group_id}/offsets)"),
			oaHeader("Last-Event-ID", eventID, "Resume after this event id"),
		), nil,
		oaResponses(v3JSON, obj{"200": obj{
			"description": "The records",
			"content": obj{
				sseType:    obj{"schema": oaStr()},
				ndjsonType: obj{"schema": oaStr()},
			},
		}}, "400", "404"))
}
