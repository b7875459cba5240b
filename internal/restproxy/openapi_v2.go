package restproxy

// The v2 part of the OpenAPI document (application/vnd.kafka.v2+json),
// following the routes of v2.go.

// v2Schemas are the component schemas of v2.
func v2Schemas() obj {
	part32 := oaIntRange(0, 1<<31-1)
	off := oaIntRange(0, 1<<53-1)
	tp := oaObject(obj{"topic": oaStr(), "partition": part32}, "topic", "partition")
	numeric := obj{"anyOf": []obj{{"type": "string", "pattern": "^[0-9]{1,9}$"}, oaIntRange(0, 999999999)}}
	partition := oaObject(obj{
		"partition": oaInt(), "leader": oaInt(),
		"replicas": oaArray(oaObject(obj{"broker": oaInt(), "leader": oaBool(), "in_sync": oaBool()}, "broker", "leader", "in_sync")),
	}, "partition", "leader", "replicas")
	return obj{
		"V2Topic": oaObject(obj{
			"name":       oaStr(),
			"configs":    obj{"type": "object", "additionalProperties": oaNullable(oaStr())},
			"partitions": oaArray(partition),
		}, "name", "configs", "partitions"),
		"V2Partition": partition,
		"V2Offsets":   oaObject(obj{"beginning_offset": oaInt(), "end_offset": oaInt()}, "beginning_offset", "end_offset"),
		"V2Brokers":   oaObject(obj{"brokers": oaArray(oaInt())}, "brokers"),
		"V2ProduceRequest": oaObject(obj{
			"records": oaArray(oaObject(obj{
				"key": oaAny(), "value": oaAny(),
				"partition": oaIntRange(0, 1<<31-1),
			})),
			"key_schema": oaStr(), "key_schema_id": oaIntRange(0, 1<<31-1),
			"value_schema": oaStr(), "value_schema_id": oaIntRange(0, 1<<31-1),
		}, "records"),
		"V2ProduceResponse": oaObject(obj{
			"offsets": oaArray(oaObject(obj{
				"partition": oaNullable(oaInt()), "offset": oaNullable(oaInt()),
				"error_code": oaNullable(oaInt()), "error": oaNullable(oaStr()),
			})),
			"key_schema_id":   oaNullable(oaInt()),
			"value_schema_id": oaNullable(oaInt()),
		}, "offsets", "key_schema_id", "value_schema_id"),
		"V2CreateConsumerRequest": oaObject(obj{
			"name":                        oaStr(),
			"format":                      obj{"type": "string", "enum": []string{"binary", "json", "avro", "jsonschema", "protobuf"}},
			"auto.offset.reset":           obj{"type": "string", "enum": []string{"earliest", "latest", "none"}},
			"auto.commit.enable":          obj{"anyOf": []obj{{"type": "string", "enum": []string{"true", "false"}}, oaBool()}},
			"fetch.min.bytes":             numeric,
			"consumer.request.timeout.ms": numeric,
		}),
		"V2ConsumerInstance": oaObject(obj{"instance_id": oaStr(), "base_uri": oaStr()}, "instance_id", "base_uri"),
		"V2Subscription": oaObject(obj{
			"topics": oaArray(oaStr()), "topic_pattern": oaStr(),
		}),
		"V2TopicPartitions": oaObject(obj{"partitions": oaArray(tp)}, "partitions"),
		"V2Seek": oaObject(obj{
			"offsets": oaArray(oaObject(obj{"topic": oaStr(), "partition": part32, "offset": off},
				"topic", "partition", "offset")),
			"timestamps": oaArray(oaObject(obj{"topic": oaStr(), "partition": part32, "timestamp": obj{"type": "string", "format": "date-time"}},
				"topic", "partition", "timestamp")),
		}),
		"V2CommitOffsets": oaObject(obj{
			"offsets": oaArray(oaObject(obj{"topic": oaStr(), "partition": part32, "offset": off, "metadata": oaStr()},
				"topic", "partition", "offset")),
		}),
		"V2Records": oaArray(oaObject(obj{
			"topic": oaStr(), "key": oaAny(), "value": oaAny(), "partition": oaInt(), "offset": oaInt(),
			"timestamp": oaInt(), "headers": oaArray(oaObject(obj{"key": oaStr(), "value": oaNullable(oaStr())})),
		}, "topic", "key", "value", "partition", "offset")),
	}
}

// v2ProduceTypes are the request types produce takes.
func v2ProduceTypes() []string {
	return []string{
		"application/vnd.kafka.binary.v2+json", "application/vnd.kafka.json.v2+json",
		"application/vnd.kafka.avro.v2+json", "application/vnd.kafka.jsonschema.v2+json",
		"application/vnd.kafka.protobuf.v2+json", "application/vnd.kafka.binary.v1+json",
		"application/vnd.kafka.v1+json", "application/vnd.kafka+json", "application/json",
	}
}

// v2RecordTypes are the types GET records answers in.
func v2RecordTypes() []string {
	return []string{
		"application/vnd.kafka.binary.v2+json", "application/vnd.kafka.json.v2+json",
		"application/vnd.kafka.avro.v2+json", "application/vnd.kafka.jsonschema.v2+json",
		"application/vnd.kafka.protobuf.v2+json",
	}
}

// v2 lists the v2 operations.
func (d *apiDoc) v2() {
	const tag = "v2"
	topic := oaPath("topic", topicName(), "A topic")
	part := oaPath("partition", oaIntRange(0, 1<<31-1), "A partition")
	get := func(path, summary string, params []obj, s obj, errs ...string) {
		d.op("GET", path, summary, tag, params, nil,
			oaResponses(v2JSON, obj{"200": oaResp(summary, s, v2JSON)}, append([]string{"406"}, errs...)...))
	}
	get("/topics", "List the topics", nil, oaArray(oaStr()))
	get("/topics/{topic}", "Get a topic", []obj{topic}, oaRef("V2Topic"), "404")
	get("/topics/{topic}/partitions", "List a topic's partitions", []obj{topic}, oaArray(oaRef("V2Partition")), "404")
	get("/topics/{topic}/partitions/{partition}", "Get a partition", []obj{topic, part}, oaRef("V2Partition"), "404")
	get("/topics/{topic}/partitions/{partition}/offsets", "Get a partition's first and end offsets",
		[]obj{topic, part}, oaRef("V2Offsets"), "404")
	get("/brokers", "List the broker ids", nil, oaRef("V2Brokers"))
	produce := func(path, summary string, params []obj) {
		d.op("POST", path, summary, tag, params, oaBody(oaRef("V2ProduceRequest"), v2ProduceTypes()...),
			oaResponses(v2JSON, obj{"200": oaResp("The offset of each record", oaRef("V2ProduceResponse"), v2JSON)},
				"400", "404", "406", "408", "413", "415", "422"))
	}
	produce("/topics/{topic}", "Produce records to a topic", []obj{topic})
	produce("/topics/{topic}/partitions/{partition}", "Produce records to a partition", []obj{topic, part})

	group := oaPath("group", oaStr(), "A consumer group")
	inst := []obj{group, oaPath("instance", oaStr(), "A consumer instance")}
	const base = "/consumers/{group}/instances/{instance}"
	body := func(s obj) obj { return oaBody(s, v2JSON, "application/json") }
	none := func(method, path, summary string, params []obj, b obj, errs ...string) {
		d.op(method, path, summary, tag, params, b,
			oaResponses(v2JSON, obj{"204": oaNoBody("Done")}, append([]string{"406", "415"}, errs...)...))
	}
	d.op("POST", "/consumers/{group}", "Create a consumer instance", tag, []obj{group},
		obj{"required": false, "content": oaContent(oaRef("V2CreateConsumerRequest"), v2JSON, "application/json")},
		oaResponses(v2JSON, obj{"200": oaResp("The instance", oaRef("V2ConsumerInstance"), v2JSON)},
			"400", "406", "409", "415", "422"))
	none("DELETE", base, "Delete a consumer instance", inst, nil, "404")
	none("POST", base+"/subscription", "Subscribe to topics or a pattern", inst, body(oaRef("V2Subscription")), "400", "404", "409", "422")
	get(base+"/subscription", "Get the subscription", inst, oaObject(obj{"topics": oaArray(oaStr())}, "topics"), "404")
	none("DELETE", base+"/subscription", "Unsubscribe", inst, nil, "404")
	none("POST", base+"/assignments", "Assign partitions", inst, body(oaRef("V2TopicPartitions")), "400", "404", "409", "422")
	get(base+"/assignments", "Get the assignment", inst, oaRef("V2TopicPartitions"), "404")
	none("POST", base+"/positions", "Seek to offsets or timestamps", inst, body(oaRef("V2Seek")), "400", "404", "409", "422")
	none("POST", base+"/positions/beginning", "Seek to the beginning", inst, body(oaRef("V2TopicPartitions")), "400", "404", "409", "422")
	none("POST", base+"/positions/end", "Seek to the end", inst, body(oaRef("V2TopicPartitions")), "400", "404", "409", "422")
	d.op("GET", base+"/records", "Fetch records", tag, oaPlus(inst,
		oaQuery("timeout", oaIntRange(0, 1e15), "How long to wait for records, in ms"),
		oaQuery("max_bytes", oaIntRange(0, 1e15), "At most this many bytes of keys and values")), nil,
		oaResponses(v2JSON, obj{"200": oaResp("The records", oaRef("V2Records"), v2RecordTypes()...)}, "400", "404", "406", "422"))
	none("POST", base+"/offsets", "Commit offsets (without a body: the positions consumed)", inst,
		obj{"required": false, "content": oaContent(oaRef("V2CommitOffsets"), v2JSON, "application/json")}, "400", "404", "422")
	get(base+"/offsets", "Get committed offsets", inst, oaObject(obj{
		"offsets": oaArray(oaObject(obj{"topic": oaStr(), "partition": oaInt(), "offset": oaInt(), "metadata": oaStr()})),
	}, "offsets"), "400", "404")
}
