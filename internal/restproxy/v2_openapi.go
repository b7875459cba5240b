package restproxy

// The v2 API's part of the OpenAPI 3 document (/openapi.json): its paths
// and the component schemas they use, with every status each operation
// can answer. openAPIV2 returns them for the document's builder to merge.

// oaRef is a reference to a component schema.
func oaRef(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }

// oaObj is an object schema with properties (required ones named).
func oaObj(props map[string]any, required ...string) map[string]any {
	o := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

func oaArr(items any) map[string]any { return map[string]any{"type": "array", "items": items} }

// oaContent is a content map of the types with one schema.
func oaContent(schema any, types ...string) map[string]any {
	c := map[string]any{}
	for _, t := range types {
		c[t] = map[string]any{"schema": schema}
	}
	return c
}

// oaErrors are the error answers of an operation, by status.
func oaErrors(statuses ...string) map[string]any {
	desc := map[string]string{
		"400": "Malformed request (bad JSON, bad parameter) or a request Kafka refuses (40002)",
		"401": "Kafka authentication failed (40101)",
		"403": "Kafka authorization failed (40301)",
		"404": "Topic (40401, 40403 on GET /topics/{topic}), partition (40402), consumer instance or schema (40403) not found",
		"406": "Accept not satisfiable (406) or the format does not match the consumer's (40601)",
		"408": "Request body too slow (408), or the schema registry refused or failed (40801)",
		"409": "Consumer instance exists (40902) or illegal state (40903)",
		"413": "Request body over the configured limit",
		"415": "Request Content-Type not accepted",
		"422": "Unprocessable: schema missing (42201/42202), JSON conversion (42203), consumer config (42204), data not matching the schema (42205), record not deserializable (42207)",
		"500": "Kafka error (50002) or retriable Kafka error (50003)",
	}
	out := map[string]any{}
	for _, s := range statuses {
		out[s] = map[string]any{"description": desc[s], "content": oaContent(oaRef("V2Error"), v2JSON)}
	}
	return out
}

// oaOp is one operation: its summary, request body schema (nil: none) in
// reqTypes, success status and schema (nil: no body) and error statuses.
// The body is required; oaOptionalBody makes it optional.
func oaOp(summary string, params []any, req any, reqTypes []string, ok string, okSchema any, okTypes []string, errs ...string) map[string]any {
	resp := oaErrors(append([]string{"406", "500"}, errs...)...)
	okResp := map[string]any{"description": summary}
	if okSchema != nil {
		okResp["content"] = oaContent(okSchema, okTypes...)
	}
	resp[ok] = okResp
	op := map[string]any{"summary": summary, "tags": []string{"v2"}, "responses": resp}
	if len(params) > 0 {
		op["parameters"] = params
	}
	if req != nil {
		op["requestBody"] = map[string]any{"required": true, "content": oaContent(req, reqTypes...)}
		for _, s := range []string{"400", "408", "413", "415", "422"} {
			resp[s] = oaErrors(s)[s]
		}
	}
	return op
}

// oaOptionalBody marks op's request body optional (the endpoints that
// take an empty body: creating a consumer, committing what was read,
// the committed offsets of every partition).
func oaOptionalBody(op map[string]any) map[string]any {
	op["requestBody"].(map[string]any)["required"] = false
	return op
}

func oaPathParam(name string, schema map[string]any) map[string]any {
	return map[string]any{"name": name, "in": "path", "required": true, "schema": schema}
}

func oaQueryParam(name string, schema map[string]any) map[string]any {
	return map[string]any{"name": name, "in": "query", "required": false, "schema": schema}
}

// openAPIV2 is the v2 API's paths and component schemas.
func openAPIV2() (paths, schemas map[string]any) {
	str := map[string]any{"type": "string"}
	integer := map[string]any{"type": "integer"}
	anyv := map[string]any{}
	nullable := func(t string) map[string]any { return map[string]any{"type": []string{t, "null"}} }
	// What the proxy takes: Kafka topic names, int32 partitions and
	// schema ids, int64 offsets, none of them negative.
	int32s, int64s := oaIntRange(0, 1<<31-1), oaIntRange(0, 1<<63-1)
	tname := topicName()
	topic := oaPathParam("topic", tname)
	partition := oaPathParam("partition", int32s)
	inst := []any{oaPathParam("group", str), oaPathParam("instance", str)}
	v2 := []string{v2JSON}
	bodyTypes := []string{v2JSON, "application/json", "application/vnd.kafka+json"}
	produceTypes := []string{"application/json", "application/octet-stream", "application/vnd.kafka+json",
		"application/vnd.kafka.v1+json", "application/vnd.kafka.binary.v1+json"}
	recordTypes := []string{}
	for i := range formatNames {
		produceTypes = append(produceTypes, format(i).contentType())
		recordTypes = append(recordTypes, format(i).contentType())
	}
	tp := oaObj(map[string]any{"topic": tname, "partition": int32s}, "topic", "partition")
	offset := oaObj(map[string]any{"topic": tname, "partition": int32s, "offset": int64s, "metadata": str}, "topic", "partition", "offset")
	// null is taken as none (as an absent field) in these lists.
	parts := oaObj(map[string]any{"partitions": oaNullable(oaArr(tp))})

	schemas = map[string]any{
		"V2Error": oaObj(map[string]any{"error_code": integer, "message": str}, "error_code", "message"),
		"V2Partition": oaObj(map[string]any{"partition": integer, "leader": integer,
			"replicas": oaArr(oaObj(map[string]any{"broker": integer, "leader": map[string]any{"type": "boolean"}, "in_sync": map[string]any{"type": "boolean"}}))}),
		"V2ProduceRequest":       v2ProduceSchema(anyv, int32s),
		"V2BinaryProduceRequest": v2ProduceSchema(oaNullable(obj{"type": "string", "pattern": base64Pattern}), int32s),
		"V2TextProduceRequest":   v2ProduceSchema(nullable("string"), int32s),
		"V2ProduceResponse": oaObj(map[string]any{
			"offsets": oaArr(oaObj(map[string]any{"partition": nullable("integer"), "offset": nullable("integer"),
				"error_code": nullable("integer"), "error": nullable("string")})),
			"key_schema_id": nullable("integer"), "value_schema_id": nullable("integer")}, "offsets", "key_schema_id", "value_schema_id"),
		"V2Record": oaObj(map[string]any{"topic": str, "key": anyv, "value": anyv, "partition": integer, "offset": integer,
			"timestamp": integer, "headers": oaArr(oaObj(map[string]any{"key": str, "value": str}))}),
	}
	produce := func(extra ...any) map[string]any {
		op := oaOp("Produce records", extra, oaRef("V2ProduceRequest"), produceTypes, "200", oaRef("V2ProduceResponse"), v2,
			"401", "403", "404", "408")
		// Keys and values: base64 in the binary types, strings in
		// text's, any JSON in the others.
		content := op["requestBody"].(map[string]any)["content"].(map[string]any)
		for _, t := range produceTypes {
			if f, _ := produceFormat(t); f == fmtBinary {
				content[t] = map[string]any{"schema": oaRef("V2BinaryProduceRequest")}
			} else if f == fmtText {
				content[t] = map[string]any{"schema": oaRef("V2TextProduceRequest")}
			}
		}
		return op
	}
	paths = map[string]any{
		"/topics": map[string]any{"get": oaOp("List topics", nil, nil, nil, "200", oaArr(str), v2, "401", "403")},
		"/topics/{topic}": map[string]any{
			"get": oaOp("Describe a topic", []any{topic}, nil, nil, "200",
				oaObj(map[string]any{"name": str, "configs": map[string]any{"type": "object"}, "partitions": oaArr(oaRef("V2Partition"))}), v2, "400", "401", "403", "404"),
			"post": produce(topic),
		},
		"/topics/{topic}/partitions": map[string]any{"get": oaOp("List partitions", []any{topic}, nil, nil, "200", oaArr(oaRef("V2Partition")), v2, "400", "401", "403", "404")},
		"/topics/{topic}/partitions/{partition}": map[string]any{
			"get":  oaOp("Describe a partition", []any{topic, partition}, nil, nil, "200", oaRef("V2Partition"), v2, "400", "401", "403", "404"),
			"post": produce(topic, partition),
		},
		"/topics/{topic}/partitions/{partition}/offsets": map[string]any{"get": oaOp("A partition's offsets", []any{topic, partition}, nil, nil, "200",
			oaObj(map[string]any{"beginning_offset": integer, "end_offset": integer}), v2, "400", "401", "403", "404")},
		"/brokers": map[string]any{"get": oaOp("List brokers", nil, nil, nil, "200", oaObj(map[string]any{"brokers": oaArr(integer)}), v2, "401", "403")},
		"/consumers/{group}": map[string]any{"post": oaOptionalBody(oaOp("Create a consumer instance", []any{oaPathParam("group", str)},
			map[string]any{"type": "object"}, bodyTypes, "200", oaObj(map[string]any{"instance_id": str, "base_uri": str}), v2, "409"))},
		"/consumers/{group}/instances/{instance}": map[string]any{"delete": oaOp("Delete a consumer instance", inst, nil, nil, "204", nil, nil, "404")},
		"/consumers/{group}/instances/{instance}/subscription": map[string]any{
			"post":   oaOp("Subscribe", inst, oaObj(map[string]any{"topics": oaNullable(oaArr(tname)), "topic_pattern": oaNullable(map[string]any{"type": "string", "format": "regex"})}), bodyTypes, "204", nil, nil, "404", "409"),
			"get":    oaOp("The subscription", inst, nil, nil, "200", oaObj(map[string]any{"topics": oaArr(str)}), v2, "404"),
			"delete": oaOp("Unsubscribe", inst, nil, nil, "204", nil, nil, "404"),
		},
		"/consumers/{group}/instances/{instance}/assignments": map[string]any{
			"post": oaOp("Assign partitions", inst, parts, bodyTypes, "204", nil, nil, "401", "403", "404", "409"),
			"get":  oaOp("The assignment", inst, nil, nil, "200", parts, v2, "404"),
		},
		"/consumers/{group}/instances/{instance}/positions": map[string]any{"post": oaOp("Seek to offsets or timestamps", inst,
			oaObj(map[string]any{"offsets": oaNullable(oaArr(oaObj(map[string]any{"topic": tname, "partition": int32s, "offset": int64s}, "topic", "partition", "offset"))),
				"timestamps": oaNullable(oaArr(oaObj(map[string]any{"topic": tname, "partition": int32s, "timestamp": map[string]any{"type": "string", "format": "date-time"}},
					"topic", "partition", "timestamp")))}),
			bodyTypes, "204", nil, nil, "401", "403", "404", "409")},
		"/consumers/{group}/instances/{instance}/positions/beginning": map[string]any{"post": oaOp("Seek to the beginning", inst, parts, bodyTypes, "204", nil, nil, "401", "403", "404", "409")},
		"/consumers/{group}/instances/{instance}/positions/end":       map[string]any{"post": oaOp("Seek to the end", inst, parts, bodyTypes, "204", nil, nil, "401", "403", "404", "409")},
		"/consumers/{group}/instances/{instance}/records": map[string]any{"get": oaOp("Read records",
			append([]any{oaQueryParam("timeout", int64s), oaQueryParam("max_bytes", int64s)}, inst...), nil, nil, "200",
			oaArr(oaRef("V2Record")), recordTypes, "400", "401", "403", "404", "409", "422")},
		"/consumers/{group}/instances/{instance}/offsets": map[string]any{
			"post": oaOptionalBody(oaOp("Commit offsets", inst, oaObj(map[string]any{"offsets": oaNullable(oaArr(offset))}),
				bodyTypes, "200", nil, nil, "401", "403", "404")),
			"get": oaOptionalBody(oaOp("Committed offsets", inst, parts, bodyTypes, "200",
				oaObj(map[string]any{"offsets": oaArr(oaObj(map[string]any{"topic": str, "partition": integer, "offset": integer, "metadata": str}))}), v2, "401", "403", "404")),
		},
	}
	return paths, schemas
}

// base64Pattern is standard base64 with its padding, as binary keys and
// values are written.
const base64Pattern = "^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"

// v2ProduceSchema is a produce body whose keys and values are data.
func v2ProduceSchema(data, int32s map[string]any) map[string]any {
	nullable := func(t string) map[string]any { return map[string]any{"type": []string{t, "null"}} }
	return oaObj(map[string]any{
		"records":    oaArr(oaObj(map[string]any{"key": data, "value": data, "partition": oaNullable(int32s)})),
		"key_schema": nullable("string"), "key_schema_id": oaNullable(int32s),
		"value_schema": nullable("string"), "value_schema_id": oaNullable(int32s)}, "records")
}
