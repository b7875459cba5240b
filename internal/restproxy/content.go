package restproxy

import (
	"mime"
	"net/http"
	"strings"
)

// Content negotiation of the v2 API, after Confluent's REST Proxy: which
// request Content-Types and Accept values it takes.

// v2JSON is the type of every v2 response (records aside, which are typed
// by their embedded format).
const v2JSON = "application/vnd.kafka.v2+json"

// format is an embedded format of the v2 API: how keys and values are
// written in JSON bodies.
type format int

const (
	fmtBinary format = iota
	fmtJSON
	fmtAvro
	fmtJSONSchema
	fmtProtobuf
	fmtText // Strimzi Bridge's: keys and values are UTF-8 strings
)

// formatNames are the formats as content types and consumer configs name
// them.
var formatNames = [...]string{"binary", "json", "avro", "jsonschema", "protobuf", "text"}

func (f format) String() string { return formatNames[f] }

// contentType is the v2 content type of records in format f.
func (f format) contentType() string { return "application/vnd.kafka." + f.String() + ".v2+json" }

// schemaType is the registry's schema type of a schema'd format.
func (f format) schemaType() string {
	switch f {
	case fmtAvro:
		return "AVRO"
	case fmtJSONSchema:
		return "JSON"
	case fmtProtobuf:
		return "PROTOBUF"
	}
	return ""
}

// hasSchema says records in f are framed with a registry schema id.
func (f format) hasSchema() bool { return f.schemaType() != "" }

// parseFormat reads a format name ("binary", "AVRO", ...).
func parseFormat(s string) (format, bool) {
	for i, n := range formatNames {
		if strings.EqualFold(s, n) {
			return format(i), true
		}
	}
	return 0, false
}

// mediaType is the lower-cased media type of a header value without its
// parameters; "" if there is none or it does not parse.
func mediaType(v string) string {
	if strings.TrimSpace(v) == "" {
		return ""
	}
	mt, _, err := mime.ParseMediaType(v)
	if err != nil {
		return "?"
	}
	return strings.ToLower(mt)
}

// produceFormat is the format a produce request's Content-Type selects:
// the v2 format types; the v1 binary forms, application/vnd.kafka+json,
// application/json and application/octet-stream (and none, which servlet
// containers read as octet-stream) are binary. Anything else is refused.
func produceFormat(contentType string) (format, bool) {
	switch mt := mediaType(contentType); mt {
	case "", "application/vnd.kafka.binary.v1+json", "application/vnd.kafka.v1+json",
		"application/vnd.kafka+json", "application/json", "application/octet-stream":
		return fmtBinary, true
	default:
		for i := range formatNames {
			if mt == format(i).contentType() {
				return format(i), true
			}
		}
		return 0, false
	}
}

// bodyTypeOK says a non-produce request body (consumer instances,
// subscriptions, offsets, positions) may have this Content-Type: the v2
// types and the generic ones produce accepts.
func bodyTypeOK(contentType string) bool {
	if mediaType(contentType) == v2JSON {
		return true
	}
	_, ok := produceFormat(contentType)
	return ok
}

// acceptable reads an Accept header: it is fine when absent or when one
// of its ranges matches a JSON type the v2 API answers with (*/*,
// application/*, */json, application/json, application/vnd.kafka.v2+json,
// application/vnd.kafka+json, or a v2 format type). With a format type
// among them, want is that format and named is true.
func acceptable(accept string) (want format, named bool, ok bool) {
	if strings.TrimSpace(accept) == "" {
		return 0, false, true
	}
	for _, part := range strings.Split(accept, ",") {
		mt := mediaType(part)
		switch mt {
		case "*/*", "application/*", "*/json", "application/json", v2JSON, "application/vnd.kafka+json":
			ok = true
			continue
		}
		for i := range formatNames {
			if mt == format(i).contentType() && !named {
				want, named, ok = format(i), true, true
			}
		}
	}
	return want, named, ok
}

// errNotAcceptable is the answer to an Accept the v2 API cannot satisfy.
func errNotAcceptable() *apiError {
	return apiErr(http.StatusNotAcceptable, http.StatusNotAcceptable, "HTTP 406 Not Acceptable")
}

// errUnsupportedType is the answer to a request Content-Type it does not
// take.
func errUnsupportedType() *apiError {
	return apiErr(http.StatusUnsupportedMediaType, http.StatusUnsupportedMediaType, "HTTP 415 Unsupported Media Type")
}
