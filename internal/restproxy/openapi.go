package restproxy

import (
	"encoding/json"
	"net/http"
	"strings"
)

// The OpenAPI 3 document of the whole REST API (v2, v3 and consuming over
// v3), served at GET /openapi.json. It is built here from small helpers;
// openapi_v2.go and openapi_v3.go list the operations.

// openAPIHandler answers the document, built once.
func openAPIHandler() http.HandlerFunc {
	doc, err := json.Marshal(openAPIDoc())
	return func(w http.ResponseWriter, _ *http.Request) {
		if err != nil {
			writeError(w, v3JSON, asAPIError(err))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(doc)
	}
}

// apiDoc collects the paths of the document.
type apiDoc struct{ paths obj }

// openAPIDoc is the whole document.
func openAPIDoc() obj {
	v2Paths, v2Schemas := openAPIV2() // v2_openapi.go
	d := &apiDoc{paths: obj{}}
	for path, item := range v2Paths {
		ops, _ := item.(map[string]any)
		for method, op := range ops {
			if o, isOp := op.(map[string]any); isOp && o["operationId"] == nil {
				o["operationId"] = opID(method, path)
			}
		}
		d.paths[path] = item
	}
	d.v3Admin()
	d.v3Groups()
	d.v3Records()
	d.op("GET", "/openapi.json", "This document", "meta", nil, nil, obj{
		"200": obj{"description": "The OpenAPI 3 document", "content": obj{"application/json": obj{"schema": obj{"type": "object"}}}},
	})
	schemas := obj{}
	for k, v := range v2Schemas {
		schemas[k] = v
	}
	for k, v := range v3Schemas() {
		schemas[k] = v
	}
	return obj{
		"openapi": "3.1.0",
		"info": obj{
			"title":       "Samsa REST Proxy",
			"version":     "1",
			"description": "Confluent REST Proxy's v2 and v3 APIs, and consuming over v3, served by Samsa (a Kafka client of the cluster).",
		},
		"paths":      d.paths,
		"components": obj{"schemas": schemas},
	}
}

// op adds an operation: method, path, summary, tag, parameters, request
// body (nil for none) and responses.
func (d *apiDoc) op(method, path, summary, tag string, params []obj, body obj, responses obj) {
	item, _ := d.paths[path].(obj)
	if item == nil {
		item = obj{}
		d.paths[path] = item
	}
	o := obj{
		"summary":     summary,
		"operationId": opID(method, path),
		"tags":        []string{tag},
		"responses":   responses,
	}
	if len(params) > 0 {
		o["parameters"] = params
	}
	if body != nil {
		o["requestBody"] = body
	}
	item[strings.ToLower(method)] = o
}

// opID is an operation id made of the method and the path.
func opID(method, path string) string {
	r := strings.NewReplacer("/", "_", "{", "", "}", "", "-", "", ":", "_", ".", "_", "$", "")
	return strings.ToLower(method) + r.Replace(path)
}

// arrayOf is an array schema.
func oaArray(items obj) obj { return obj{"type": "array", "items": items} }

// str, integer, boolean, nullable: scalar schemas.
func oaStr() obj  { return obj{"type": "string"} }
func oaInt() obj  { return obj{"type": "integer"} }
func oaBool() obj { return obj{"type": "boolean"} }
func oaAny() obj  { return obj{} }

// oaNullable is s or null (OpenAPI 3.1: a type list, or anyOf for a
// reference).
func oaNullable(s obj) obj {
	t, isStr := s["type"].(string)
	if !isStr {
		return obj{"anyOf": []obj{s, {"type": "null"}}}
	}
	c := obj{}
	for k, v := range s {
		c[k] = v
	}
	c["type"] = []string{t, "null"}
	if e, isEnum := s["enum"].([]string); isEnum {
		c["enum"] = append(append([]any{}, anyStrings(e)...), nil)
	}
	return c
}

// anyStrings is ss as []any.
func anyStrings(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// object is an object schema with properties and the required ones.
func oaObject(props obj, required ...string) obj {
	o := obj{"type": "object", "properties": props}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

// pathParam is a path parameter.
func oaPath(name string, schema obj, desc string) obj {
	return obj{"name": name, "in": "path", "required": true, "schema": schema, "description": desc}
}

// queryParam is an optional query parameter.
func oaQuery(name string, schema obj, desc string) obj {
	return obj{"name": name, "in": "query", "required": false, "schema": schema, "description": desc}
}

// headerParam is an optional header parameter.
func oaHeader(name string, schema obj, desc string) obj {
	return obj{"name": name, "in": "header", "required": false, "schema": schema, "description": desc}
}

// jsonBody is a required request body in the content types given.
func oaBody(schema obj, types ...string) obj {
	return obj{"required": true, "content": oaContent(schema, types...)}
}

// resp is a response with a body in the content types given.
func oaResp(desc string, schema obj, types ...string) obj {
	return obj{"description": desc, "content": oaContent(schema, types...)}
}

// noBody is a response without a body.
func oaNoBody(desc string) obj { return obj{"description": desc} }

// responses merges responses with error responses (their statuses, and
// a default) in the error content type.
func oaResponses(errType string, ok obj, errStatuses ...string) obj {
	out := obj{}
	for k, v := range ok {
		out[k] = v
	}
	for _, s := range errStatuses {
		out[s] = oaResp(errDescription(s), oaRef("Error"), errType)
	}
	out["default"] = oaResp("An error", oaRef("Error"), errType)
	return out
}

func errDescription(status string) string {
	switch status {
	case "400":
		return "Bad request: malformed JSON, a bad value or parameter"
	case "404":
		return "Not found: the cluster, topic, partition or other resource"
	case "406":
		return "Not acceptable: the Accept header names no type this answers with"
	case "408":
		return "The schema registry refused or could not register the schema"
	case "409":
		return "Conflict: the resource exists, or the state forbids the request"
	case "413":
		return "The body is larger than allowed"
	case "415":
		return "Unsupported media type"
	case "422":
		return "Unprocessable: the data does not match its schema, or an invalid configuration"
	}
	return "An error"
}

// plus is params and more, in a new slice.
func oaPlus(params []obj, more ...obj) []obj {
	return append(append(make([]obj, 0, len(params)+len(more)), params...), more...)
}

// oaIntRange is an integer schema from min to max.
func oaIntRange(min, max int) obj {
	return obj{"type": "integer", "minimum": min, "maximum": max}
}
