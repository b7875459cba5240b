package restproxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
)

// v3 is the v3 API (application/json): clusters, brokers, topics,
// partitions, configs, consumer groups, ACLs (v3_admin*.go), produce
// (v3_produce.go) and consume (v3_consume.go). Its error bodies are
// {"error_code","message"} with error_code the HTTP status.
type v3 struct {
	s *Server

	mu  sync.Mutex
	cid string // the cluster id, once known

	versions versionCache // subject versions (v3_schema.go)
}

const v3JSON = "application/json"

// routesV3 registers the v3 API.
func (s *Server) routesV3(mux *http.ServeMux) {
	a := &v3{s: s}
	h := func(pattern string, f func(http.ResponseWriter, *http.Request) error) {
		mux.HandleFunc(pattern, a.wrap(f))
	}
	h("GET /v3/clusters", a.listClusters)
	h("GET /v3/clusters/{cid}", a.getCluster)
	a.routesBrokers(h)
	a.routesTopics(h)
	a.routesGroups(h)
	a.routesACLs(h)
	h("POST /v3/clusters/{cid}/topics/{t}/records", a.produce)
	h("POST /v3/clusters/{cid}/topics/{t}/records:batch", a.produceBatch)
	h("GET /v3/clusters/{cid}/topics/{t}/records", a.consume)
	h("/v3/", func(w http.ResponseWriter, r *http.Request) error {
		return notRouted(mux, w, r)
	})
	mux.HandleFunc("GET /openapi.json", openAPIHandler())
}

// v3Handler is a v3 handler: it answers itself, or returns the error to
// answer.
type v3Handler = func(http.ResponseWriter, *http.Request) error

// wrap turns a v3 handler into an http.HandlerFunc answering its error.
func (a *v3) wrap(f v3Handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := retryGET(r, func(r *http.Request) error { return f(w, r) }); err != nil {
			e := v3Error(err)
			if e.status == http.StatusForbidden && e.code == http.StatusForbidden {
				e = &apiError{status: e.status, code: v3Code(e.status), message: e.message}
			}
			if e.status >= 500 {
				a.s.lg.Warn("rest proxy: v3", "method", r.Method, "path", r.URL.Path, "err", err)
			}
			writeError(w, v3JSON, e)
		}
	}
}

// v3Error maps err to an answer: API errors as they are, Kafka errors by
// kind, the rest 503 (the cluster could not be reached).
func v3Error(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	var ke *kerr.Error
	if errors.As(err, &ke) {
		st := kafkaStatus(ke)
		return &apiError{status: st, code: v3Code(st), message: ke.Message + ": " + ke.Description}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &apiError{status: 504, code: 504, message: "timed out talking to Kafka: " + err.Error()}
	}
	return &apiError{status: 503, code: 503, message: "Kafka: " + err.Error()}
}

// kafkaStatus is the HTTP status for a Kafka error code.
func kafkaStatus(ke *kerr.Error) int {
	switch ke {
	case kerr.UnknownTopicOrPartition, kerr.GroupIDNotFound, kerr.UnknownTopicID,
		kerr.NoReassignmentInProgress, kerr.ResourceNotFound, kerr.BrokerNotAvailable:
		return 404
	case kerr.TopicAlreadyExists:
		return 409
	case kerr.TopicAuthorizationFailed, kerr.ClusterAuthorizationFailed, kerr.GroupAuthorizationFailed,
		kerr.TransactionalIDAuthorizationFailed, kerr.SecurityDisabled:
		return 403
	case kerr.SaslAuthenticationFailed:
		return 401
	case kerr.MessageTooLarge, kerr.RecordListTooLarge:
		return 413
	case kerr.NonEmptyGroup:
		return 409
	}
	if ke.Retriable {
		return 503
	}
	return 400
}

// clusterID is the cluster's id, from Metadata, asked once.
func (a *v3) clusterID(ctx context.Context) (string, error) {
	a.mu.Lock()
	cid := a.cid
	a.mu.Unlock()
	if cid != "" {
		return cid, nil
	}
	m, err := a.s.kadm(ctx).BrokerMetadata(ctx)
	if err != nil {
		return "", fmt.Errorf("metadata: %w", err)
	}
	if m.Cluster == "" {
		return "", apiErr(503, 503, "the cluster has no id")
	}
	a.mu.Lock()
	a.cid = m.Cluster
	a.mu.Unlock()
	return m.Cluster, nil
}

// cluster checks the request's {cid} names this cluster.
func (a *v3) cluster(r *http.Request) (string, error) {
	cid, err := a.clusterID(r.Context())
	if err != nil {
		return "", err
	}
	if want := r.PathValue("cid"); want != cid {
		return "", apiErr(404, 404, "Cluster %s cannot be found.", want)
	}
	return cid, nil
}

// obj is a JSON object of a response.
type obj = map[string]any

// url is the absolute URL of a path under this proxy.
func (a *v3) url(parts ...string) string {
	var b strings.Builder
	b.WriteString(a.s.baseURL)
	for _, p := range parts {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(p))
	}
	return b.String()
}

// curl is the URL of a path under /v3/clusters/{cid}.
func (a *v3) curl(cid string, parts ...string) string {
	return a.url(append([]string{"v3", "clusters", cid}, parts...)...)
}

// meta is a resource's metadata: its URL and its CRN.
func v3Meta(self, crn string) obj {
	m := obj{"self": self}
	if crn != "" {
		m["resource_name"] = crn
	}
	return m
}

// rel is a link to a related resource.
func v3Rel(u string) obj { return obj{"related": u} }

// list is a collection of resources.
func v3Coll(kind, self string, data []obj) obj {
	if data == nil {
		data = []obj{}
	}
	return obj{"kind": kind, "metadata": obj{"self": self, "next": nil}, "data": data}
}

// ok answers v with status in application/json.
func v3OK(w http.ResponseWriter, status int, v any) error {
	writeJSON(w, v3JSON, status, v)
	return nil
}

// noContent answers 204.
func v3NoContent(w http.ResponseWriter) error {
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// decodeBody decodes a JSON request body (at most MaxRequestBytes) into v:
// 400 when it is not JSON of v's shape, 413 when it is too large.
func (a *v3) decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	body := http.MaxBytesReader(w, r.Body, a.s.cfg.MaxRequestBytes)
	dec := json.NewDecoder(body)
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return v3BadJSON(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil {
			return v3BadJSON(err)
		}
		return apiErr(400, 400, "request body: more than one JSON value")
	}
	if len(raw) == 0 || raw[0] != '{' {
		return apiErr(400, 400, "request body: want a JSON object")
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return v3BadJSON(err)
	}
	return nil
}

// badJSON is the answer to a body that could not be decoded.
func v3BadJSON(err error) *apiError {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return apiErr(413, 413, "request body larger than %d bytes", mbe.Limit)
	}
	if errors.Is(err, io.EOF) {
		return apiErr(400, 400, "request body: empty")
	}
	return apiErr(400, 400, "request body: %v", err)
}

// pathInt32 parses a path value as an int32 (404 if it is not one, as a
// resource that cannot exist).
func v3PathInt32(r *http.Request, name string) (int32, error) {
	n, err := strconv.ParseInt(r.PathValue(name), 10, 32)
	if err != nil || n < 0 {
		return 0, apiErr(404, 404, "%s %q not found", name, r.PathValue(name))
	}
	return int32(n), nil
}

func (a *v3) listClusters(w http.ResponseWriter, r *http.Request) error {
	cid, err := a.clusterID(r.Context())
	if err != nil {
		return err
	}
	c, err := a.clusterObj(r.Context(), cid)
	if err != nil {
		return err
	}
	return v3OK(w, 200, v3Coll("KafkaClusterList", a.url("v3", "clusters"), []obj{c}))
}

func (a *v3) getCluster(w http.ResponseWriter, r *http.Request) error {
	cid, err := a.cluster(r)
	if err != nil {
		return err
	}
	c, err := a.clusterObj(r.Context(), cid)
	if err != nil {
		return err
	}
	return v3OK(w, 200, c)
}

func (a *v3) clusterObj(ctx context.Context, cid string) (obj, error) {
	m, err := a.s.kadm(ctx).BrokerMetadata(ctx)
	if err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	c := obj{
		"kind":                    "KafkaCluster",
		"metadata":                v3Meta(a.curl(cid), "crn:///kafka="+cid),
		"cluster_id":              cid,
		"controller":              nil,
		"acls":                    v3Rel(a.curl(cid, "acls")),
		"brokers":                 v3Rel(a.curl(cid, "brokers")),
		"broker_configs":          v3Rel(a.curl(cid, "broker-configs")),
		"consumer_groups":         v3Rel(a.curl(cid, "consumer-groups")),
		"topics":                  v3Rel(a.curl(cid, "topics")),
		"partition_reassignments": v3Rel(a.curl(cid, "topics", "-", "partitions", "-", "reassignment")),
	}
	if m.Controller >= 0 {
		c["controller"] = v3Rel(a.curl(cid, "brokers", strconv.Itoa(int(m.Controller))))
	}
	return c, nil
}

// notRouted answers a /v3/ request no route took: 405 when the path has
// routes for other methods, else 404.
func notRouted(mux *http.ServeMux, w http.ResponseWriter, r *http.Request) error {
	var allow []string
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		if m == r.Method {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := mux.Handler(probe); pattern != "" && pattern != "/v3/" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		return apiErr(405, 405, "HTTP 405 Method Not Allowed")
	}
	return apiErr(404, 404, "HTTP 404 Not Found")
}

// onlyParams refuses query parameters other than those named.
func onlyParams(q url.Values, names ...string) error {
	for k := range q {
		if !slices.Contains(names, k) {
			return apiErr(400, 400, "unknown query parameter %q", k)
		}
	}
	return nil
}

// JSON integers that may be written as integral floats (1.0, 2e3), which
// JSON Schema counts as integers and encoding/json refuses.
type (
	jInt16 int16
	jInt32 int32
	jInt64 int64
)

func (n *jInt16) UnmarshalJSON(b []byte) error {
	v, err := jsonInt(b, 16)
	*n = jInt16(v)
	return err
}

func (n *jInt32) UnmarshalJSON(b []byte) error {
	v, err := jsonInt(b, 32)
	*n = jInt32(v)
	return err
}

func (n *jInt64) UnmarshalJSON(b []byte) error {
	v, err := jsonInt(b, 64)
	*n = jInt64(v)
	return err
}

// jsonInt reads a JSON number that is an integer of bits bits (null is 0);
// the error is an *json.UnmarshalTypeError, after which a stream goes on.
func jsonInt(b []byte, bits int) (int64, error) {
	s := string(b)
	if s == "null" {
		return 0, nil
	}
	if v, err := strconv.ParseInt(s, 10, bits); err == nil {
		return v, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	lim := math.Ldexp(1, bits-1)
	if err != nil || f != math.Trunc(f) || f < -lim || f >= lim {
		return 0, &json.UnmarshalTypeError{Value: "number " + s, Type: reflect.TypeFor[int64]()}
	}
	return int64(f), nil
}
