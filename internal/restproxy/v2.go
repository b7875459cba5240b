package restproxy

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// The v2 API: metadata (v2_meta.go), produce (v2_produce.go) and consumer
// instances (v2_consumer.go, v2_records.go), with Confluent's content
// negotiation (content.go) and error bodies.

// bodyReadTimeout bounds reading a (non-streamed) request body.
const bodyReadTimeout = 30 * time.Second

// bodyKind says what a v2 endpoint takes as its request body.
type bodyKind int

const (
	bodyNone    bodyKind = iota // none expected; Content-Type ignored
	bodyJSON                    // a v2 JSON body (consumer endpoints)
	bodyProduce                 // records; the Content-Type picks the format
)

// v2Request is what a v2 handler gets besides the HTTP request.
type v2Request struct {
	format      format // bodyProduce: the request's embedded format
	accept      format // the format Accept names, if acceptNamed
	acceptNamed bool
}

// v2Handler handles a v2 request; an error answers as an error body.
type v2Handler func(w http.ResponseWriter, r *http.Request, req v2Request) error

// v2 wraps h with content negotiation and error bodies.
func (s *Server) v2(kind bodyKind, h v2Handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req v2Request
		var ok bool
		if req.accept, req.acceptNamed, ok = acceptable(r.Header.Get("Accept")); !ok {
			writeError(w, v2JSON, errNotAcceptable())
			return
		}
		ct := r.Header.Get("Content-Type")
		switch kind {
		case bodyProduce:
			if req.format, ok = produceFormat(ct); !ok {
				writeError(w, v2JSON, errUnsupportedType())
				return
			}
		case bodyJSON:
			if !bodyTypeOK(ct) {
				writeError(w, v2JSON, errUnsupportedType())
				return
			}
		}
		if err := retryGET(r, func(r *http.Request) error { return h(w, r, req) }); err != nil {
			e := asAPIError(err)
			if e.status >= 500 {
				s.lg.Warn("rest proxy: v2 request failed", "method", r.Method, "path", r.URL.Path, "err", err)
			}
			writeError(w, v2JSON, e)
		}
	}
}

// routesV2 registers the v2 API.
func (s *Server) routesV2(mux *http.ServeMux) {
	mux.HandleFunc("GET /topics", s.v2(bodyNone, s.listTopics))
	mux.HandleFunc("GET /topics/{topic}", s.v2(bodyNone, s.getTopic))
	mux.HandleFunc("POST /topics/{topic}", s.v2(bodyProduce, s.produceTopic))
	mux.HandleFunc("GET /topics/{topic}/partitions", s.v2(bodyNone, s.listPartitions))
	mux.HandleFunc("GET /topics/{topic}/partitions/{partition}", s.v2(bodyNone, s.getPartition))
	mux.HandleFunc("POST /topics/{topic}/partitions/{partition}", s.v2(bodyProduce, s.producePartition))
	mux.HandleFunc("GET /topics/{topic}/partitions/{partition}/offsets", s.v2(bodyNone, s.partitionOffsets))
	mux.HandleFunc("GET /brokers", s.v2(bodyNone, s.listBrokers))

	const inst = "/consumers/{group}/instances/{instance}"
	mux.HandleFunc("POST /consumers/{group}", s.v2(bodyJSON, s.createConsumer))
	mux.HandleFunc("DELETE "+inst, s.v2(bodyNone, s.deleteConsumer))
	mux.HandleFunc("POST "+inst+"/subscription", s.v2(bodyJSON, s.subscribe))
	mux.HandleFunc("GET "+inst+"/subscription", s.v2(bodyNone, s.getSubscription))
	mux.HandleFunc("DELETE "+inst+"/subscription", s.v2(bodyNone, s.unsubscribe))
	mux.HandleFunc("POST "+inst+"/assignments", s.v2(bodyJSON, s.assign))
	mux.HandleFunc("GET "+inst+"/assignments", s.v2(bodyNone, s.getAssignments))
	mux.HandleFunc("POST "+inst+"/positions", s.v2(bodyJSON, s.seek))
	mux.HandleFunc("POST "+inst+"/positions/beginning", s.v2(bodyJSON, s.seekBeginning))
	mux.HandleFunc("POST "+inst+"/positions/end", s.v2(bodyJSON, s.seekEnd))
	mux.HandleFunc("GET "+inst+"/records", s.v2(bodyNone, s.readRecords))
	mux.HandleFunc("POST "+inst+"/offsets", s.v2(bodyJSON, s.commitOffsets))
	mux.HandleFunc("GET "+inst+"/offsets", s.v2(bodyJSON, s.committedOffsets))
}

// readBody decodes r's JSON body into v, bounded by MaxRequestBytes. An
// empty body leaves v alone when emptyOK, else it is 422.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request, v any, emptyOK bool) error {
	// A body must arrive within bodyReadTimeout: a slow client gets 408
	// instead of holding the request open.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(bodyReadTimeout))
	body := http.MaxBytesReader(w, r.Body, s.cfg.MaxRequestBytes)
	b, err := io.ReadAll(body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return apiErr(http.StatusRequestEntityTooLarge, http.StatusRequestEntityTooLarge,
				"request body larger than %d bytes", s.cfg.MaxRequestBytes)
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return apiErr(http.StatusRequestTimeout, http.StatusRequestTimeout,
				"request body not received within %v", bodyReadTimeout)
		}
		return apiErr(http.StatusBadRequest, http.StatusBadRequest, "reading the request body: %v", err)
	}
	if len(b) == 0 || isBlank(b) {
		if emptyOK {
			return nil
		}
		return apiErr(http.StatusUnprocessableEntity, http.StatusUnprocessableEntity, "request body is empty")
	}
	if string(bytes.TrimSpace(b)) == "null" {
		return apiErr(http.StatusUnprocessableEntity, 42203, "request body: want a JSON object, not null")
	}
	if err := json.Unmarshal(b, v); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) && strings.HasPrefix(ute.Value, "number") {
			// 2.0 is an integer to JSON Schema (and Jackson), not to
			// encoding/json.
			if nb, ok := integralNumbers(b); ok && json.Unmarshal(nb, v) == nil {
				return nil
			}
		}
		if errors.As(err, &ute) {
			return apiErr(http.StatusUnprocessableEntity, 42203, "field %q: cannot take a JSON %s", ute.Field, ute.Value)
		}
		return apiErr(http.StatusBadRequest, http.StatusBadRequest, "malformed JSON body: %v", err)
	}
	return nil
}

// integralNumbers is the JSON document b with its integral numbers
// written as integers (2.0 and 2e3 as 2 and 2000); ok is false if there
// are none or b is not JSON. Bodies with records (whose keys and values
// must stay as they are) do not need it: their integers are jInt32.
func integralNumbers(b []byte) (out []byte, ok bool) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if d.Decode(&v) != nil {
		return nil, false
	}
	changed := false
	var walk func(v any) any
	walk = func(v any) any {
		switch t := v.(type) {
		case json.Number:
			if _, err := t.Int64(); err == nil {
				return t
			}
			f, err := t.Float64()
			if err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<63 {
				changed = true
				return json.Number(strconv.FormatInt(int64(f), 10))
			}
		case map[string]any:
			for k, e := range t {
				t[k] = walk(e)
			}
		case []any:
			for i, e := range t {
				t[i] = walk(e)
			}
		}
		return v
	}
	v = walk(v)
	if !changed {
		return nil, false
	}
	out, err := json.Marshal(v)
	return out, err == nil
}

func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return false
		}
	}
	return true
}

// pathPartition reads the {partition} path value; anything but a
// non-negative int32 is an unknown partition.
func pathPartition(r *http.Request) (int32, error) {
	p, err := strconv.ParseInt(r.PathValue("partition"), 10, 32)
	if err != nil || p < 0 {
		return 0, errPartitionNotFound(r.PathValue("partition"))
	}
	return int32(p), nil
}

func errTopicNotFound(topic string) *apiError {
	return apiErr(http.StatusNotFound, 40401, "Topic %s not found.", topic)
}

func errPartitionNotFound(p any) *apiError {
	return apiErr(http.StatusNotFound, 40402, "Partition %v not found.", p)
}

func errInstanceNotFound() *apiError {
	return apiErr(http.StatusNotFound, 40403, "Consumer instance not found.")
}

func errIllegalState(format string, args ...any) *apiError {
	e := apiErr(http.StatusConflict, 40903, format, args...)
	e.message = "Illegal state: " + e.message
	return e
}
