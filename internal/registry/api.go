package registry

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/samsa-streaming/samsa/internal/httpserve"
)

// contentType is what every answer is sent as.
const contentType = "application/vnd.schemaregistry.v1+json"

// contentTypeHeader is contentType as a header value, shared (never
// modified) so the hot GET path sets it without allocating.
var contentTypeHeader = []string{contentType}

// routes is the HTTP API (shared/reference/ecosystem-apis.md A1).
func (r *Registry) routes() http.Handler {
	mux := http.NewServeMux()
	h := func(pattern string, f func(*http.Request) (any, error)) {
		mux.Handle(pattern, r.endpoint(r.authorize(httpserve.OpDescribe, f)))
	}
	w := func(pattern string, f func(*http.Request) (any, error)) {
		mux.Handle(pattern, r.endpoint(r.authorize(httpserve.OpWrite, r.leaderOnly(f))))
	}
	h("GET /{$}", func(*http.Request) (any, error) { return map[string]any{}, nil })
	h("GET /schemas", r.getSchemas)
	h("GET /schemas/types", r.getTypes)
	h("GET /schemas/ids/{id}", r.getSchemaByID)
	h("GET /schemas/ids/{id}/schema", r.getRawSchemaByID)
	h("GET /schemas/ids/{id}/subjects", r.getSubjectsByID)
	h("GET /schemas/ids/{id}/versions", r.getVersionsByID)
	h("GET /schemas/guids/{guid}", r.getSchemaByGUID)
	h("GET /schemas/guids/{guid}/ids", r.getSchemaByGUID)
	h("DELETE /contexts/{context}", r.deleteContext)
	// franz-go's sr joins "/contexts/." into "/contexts": the default context.
	h("DELETE /contexts", r.deleteContext)
	h("GET /contexts", func(*http.Request) (any, error) { return []string{"."}, nil })
	h("GET /subjects", r.getSubjects)
	h("POST /subjects/{subject}", r.lookup)
	w("DELETE /subjects/{subject}", r.deleteSubject)
	h("GET /subjects/{subject}/versions", r.getVersions)
	w("POST /subjects/{subject}/versions", r.register)
	h("GET /subjects/{subject}/versions/{version}", r.getVersion)
	h("GET /subjects/{subject}/versions/{version}/schema", r.getRawVersion)
	h("GET /subjects/{subject}/versions/{version}/referencedby", r.getReferencedBy)
	w("DELETE /subjects/{subject}/versions/{version}", r.deleteVersion)
	h("GET /subjects/{subject}/metadata", r.getByMetadata)
	h("POST /compatibility/subjects/{subject}/versions", r.checkAll)
	h("POST /compatibility/subjects/{subject}/versions/{version}", r.checkOne)
	h("GET /config", r.getConfig)
	w("PUT /config", r.putConfig)
	w("DELETE /config", r.deleteConfig)
	h("GET /config/{subject}", r.getConfig)
	w("PUT /config/{subject}", r.putConfig)
	w("DELETE /config/{subject}", r.deleteConfig)
	h("GET /mode", r.getMode)
	w("PUT /mode", r.putMode)
	w("DELETE /mode", r.deleteMode)
	h("GET /mode/{subject}", r.getMode)
	w("PUT /mode/{subject}", r.putMode)
	w("DELETE /mode/{subject}", r.deleteMode)
	h("GET /v1/metadata/id", r.getClusterID)
	mux.Handle("/", r.endpoint(func(req *http.Request) (any, error) {
		return nil, apiErr(404, codeNotFound, "HTTP 404 Not Found: no endpoint %s %s", req.Method, req.URL.Path)
	}))
	return mux
}

// authorize wraps f with Config.Auth's checks: 401 without valid Kafka
// credentials, 403 when the broker's ACLs do not give the user op on the
// store topic. Without Auth it is f.
func (r *Registry) authorize(op int, f func(*http.Request) (any, error)) func(*http.Request) (any, error) {
	a := r.cfg.Auth
	if a == nil {
		return f
	}
	return func(req *http.Request) (any, error) {
		s, err := a.FromRequest(req)
		if errors.Is(err, httpserve.ErrUnauthenticated) {
			return nil, apiErr(401, 401, "Unauthorized: send the HTTP basic credentials of a Kafka user")
		}
		if err != nil {
			return nil, apiErr(500, codeStoreError, "%v", err)
		}
		ok, err := a.TopicAllows(req.Context(), s, r.cfg.Topic, op)
		if err != nil {
			return nil, apiErr(500, codeStoreError, "%v", err)
		}
		if !ok {
			what := "read schemas (DESCRIBE"
			if op == httpserve.OpWrite {
				what = "change schemas (WRITE"
			}
			return nil, apiErr(403, 40301, "User:%s may not %s on topic %s is needed)", s.User, what, r.cfg.Topic)
		}
		return f(req)
	}
}

// endpoint adapts f to http.Handler: it answers f's value as JSON, or the
// error as {"error_code","message"}, and 503 until the store is caught up.
func (r *Registry) endpoint(f func(*http.Request) (any, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if !r.Ready() {
			msg := "the schema registry is starting: catching up with its store"
			r.mu.Lock()
			if r.initErr != nil {
				msg += ": " + r.initErr.Error()
			}
			r.mu.Unlock()
			writeError(w, apiErr(503, codeTimeout, "%s", msg))
			return
		}
		v, err := f(req)
		if err != nil {
			writeError(w, asAPIError(err))
			return
		}
		if raw, ok := v.(rawAnswer); ok {
			w.Header()["Content-Type"] = contentTypeHeader
			w.Write(raw)
			return
		}
		if fw, ok := v.(forwarded); ok {
			fw.write(w)
			return
		}
		if la, ok := v.(leaderAnswer); ok {
			w.Header().Set(headerOffset, strconv.FormatInt(la.offset, 10))
			v = la.v
		}
		writeJSON(w, http.StatusOK, v)
	})
}

// rawAnswer is an answer already encoded as JSON.
type rawAnswer []byte

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, asAPIError(err))
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	w.Write(b)
}

func writeError(w http.ResponseWriter, e *apiError) {
	if e.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="samsa-schema-registry", charset="UTF-8"`)
	}
	b, _ := json.Marshal(map[string]any{"error_code": e.code, "message": e.message})
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(e.status)
	w.Write(b)
}

// readBody decodes a JSON request body into v. A missing content type or
// application/octet-stream is JSON; other non-JSON types are a 415. The
// body is bounded (a larger one is a 42209); unknown fields are ignored.
func (r *Registry) readBody(req *http.Request, v any) error {
	if ct := req.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || !(mt == "application/octet-stream" || mt == "application/json" || strings.HasSuffix(mt, "+json")) {
			return apiErr(415, codeUnsupportedMediaType, "unsupported Content-Type %q: send application/vnd.schemaregistry.v1+json", ct)
		}
	}
	limit := int64(r.cfg.MaxSchemaBytes)*2 + 64<<10
	b, err := io.ReadAll(io.LimitReader(req.Body, limit+1))
	if err != nil {
		return apiErr(400, codeBadRequest, "reading the request body: %v", err)
	}
	if int64(len(b)) > limit {
		return apiErr(422, codeSchemaTooLarge, "request body larger than %d bytes: the schema is too large (at most %d bytes)", limit, r.cfg.MaxSchemaBytes)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return apiErr(400, codeBadRequest, "empty request body: send a JSON object")
	}
	if err := json.Unmarshal(b, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return apiErr(422, 422, "Unrecognized field type: field %q must be %s, not %s", te.Field, te.Type, te.Value)
		}
		return apiErr(400, codeBadRequest, "malformed JSON in the request body: %v", err)
	}
	return nil
}

// boolParam reads a boolean query parameter (absent: false).
func boolParam(req *http.Request, name string) bool {
	v, _ := strconv.ParseBool(req.URL.Query().Get(name))
	return v
}

// subjectParam validates the {subject} path segment.
func subjectParam(req *http.Request) (string, error) {
	s := req.PathValue("subject")
	if s == "" || strings.ContainsFunc(s, func(c rune) bool { return c < 0x20 || c == 0x7f }) {
		return "", apiErr(422, codeInvalidSubject, "Invalid subject %q: it must not be empty or contain control characters", s)
	}
	if rest, ok := strings.CutPrefix(s, ":.:"); ok && rest != "" {
		return rest, nil // the default context, spelled out
	}
	return s, nil
}

// versionParam parses {version}: a number in [1, 2^31-1], or latest/-1
// (returned as -1).
func versionParam(req *http.Request) (int, error) {
	v := req.PathValue("version")
	if v == "latest" || v == "-1" {
		return -1, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 1<<31-1 {
		return 0, apiErr(422, codeInvalidVersion, "The specified version '%s' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\"", v)
	}
	return n, nil
}

// idParam parses {id}.
func idParam(req *http.Request) (int, error) {
	n, err := strconv.Atoi(req.PathValue("id"))
	if err != nil || n < 0 {
		return 0, apiErr(404, codeSchemaNotFound, "Schema %s not found", req.PathValue("id"))
	}
	return n, nil
}
