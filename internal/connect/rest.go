package connect

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	pub "github.com/samsa-streaming/samsa/connect"
)

// maxBody bounds a request body.
const maxBody = 8 << 20

// Version is what GET / reports: the Kafka Connect release whose REST API
// this worker speaks.
const Version = "4.4.0"

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.root)
	mux.HandleFunc("GET /connectors", s.listConnectors)
	mux.HandleFunc("POST /connectors", s.leaderOnly(s.createConnector))
	mux.HandleFunc("GET /connectors/{c}", s.getConnector)
	mux.HandleFunc("DELETE /connectors/{c}", s.leaderOnly(s.deleteConnector))
	mux.HandleFunc("GET /connectors/{c}/config", s.getConfig)
	mux.HandleFunc("PUT /connectors/{c}/config", s.leaderOnly(s.putConfig))
	mux.HandleFunc("PATCH /connectors/{c}/config", s.leaderOnly(s.patchConfig))
	mux.HandleFunc("GET /connectors/{c}/status", s.getStatus)
	mux.HandleFunc("POST /connectors/{c}/restart", s.leaderOnly(s.restart))
	mux.HandleFunc("PUT /connectors/{c}/pause", s.target(TargetPaused, http.StatusAccepted))
	mux.HandleFunc("PUT /connectors/{c}/resume", s.target(TargetStarted, http.StatusAccepted))
	mux.HandleFunc("PUT /connectors/{c}/stop", s.leaderOnly(s.target(TargetStopped, http.StatusNoContent)))
	mux.HandleFunc("GET /connectors/{c}/tasks", s.getTasks)
	mux.HandleFunc("GET /connectors/{c}/tasks/{n}/status", s.getTaskStatus)
	mux.HandleFunc("POST /connectors/{c}/tasks/{n}/restart", s.restartTask)
	mux.HandleFunc("GET /connectors/{c}/topics", s.getTopics)
	mux.HandleFunc("PUT /connectors/{c}/topics/reset", s.resetTopics)
	mux.HandleFunc("GET /connectors/{c}/offsets", s.getOffsets)
	mux.HandleFunc("PATCH /connectors/{c}/offsets", s.leaderOnly(s.alterOffsets))
	mux.HandleFunc("DELETE /connectors/{c}/offsets", s.leaderOnly(s.resetOffsets))
	mux.HandleFunc("GET /connector-plugins", s.listPlugins)
	mux.HandleFunc("GET /connector-plugins/{p}/config", s.pluginConfig)
	mux.HandleFunc("PUT /connector-plugins/{p}/config/validate", s.validate)
	mux.HandleFunc("GET /admin/loggers", s.getLoggers)
	mux.HandleFunc("GET /admin/loggers/{$}", s.getLoggers)
	mux.HandleFunc("GET /admin/loggers/{l}", s.getLogger)
	mux.HandleFunc("PUT /admin/loggers/{l}", s.setLogger)
	return s.notFound(mux)
}

// notFound answers what the mux does not route with Java's JSON 404 or
// 405 instead of Go's text.
func (s *Server) notFound(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
			r2 := r.Clone(r.Context())
			r2.Method = m
			if _, p := mux.Handler(r2); p != "" {
				writeError(w, &Error{Code: http.StatusMethodNotAllowed, Msg: "HTTP 405 Method Not Allowed"})
				return
			}
		}
		writeError(w, &Error{Code: http.StatusNotFound, Msg: "HTTP 404 Not Found"})
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code, b = http.StatusInternalServerError, []byte(`{"error_code":500,"message":"cannot encode the answer"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(b)
}

// writeError answers err as {"error_code","message"}: its own status for
// an *Error, 500 otherwise.
func writeError(w http.ResponseWriter, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = &Error{Code: http.StatusInternalServerError, Msg: err.Error()}
	}
	writeJSON(w, e.Code, map[string]any{"error_code": e.Code, "message": e.Msg})
}

// readJSON decodes the body into v (400 on malformed JSON).
func readJSON(r *http.Request, v any) error {
	b, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
	if err != nil {
		return &Error{Code: http.StatusRequestEntityTooLarge, Msg: "request body too large or unreadable"}
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return badRequest("Request body is empty")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		return badRequest("Cannot deserialize the request body: %s", err.Error())
	}
	return nil
}

// stringMap decodes a JSON object of strings; numbers and booleans are
// accepted as their text (Jackson coerces them too); null values are an
// error unless nullable.
func stringMap(r *http.Request, nullable bool) (map[string]*string, error) {
	var raw map[string]any
	if err := readJSON(r, &raw); err != nil {
		return nil, err
	}
	if raw == nil {
		return nil, badRequest("Request body must be a JSON object")
	}
	return toStrings(raw, nullable)
}

func toStrings(raw map[string]any, nullable bool) (map[string]*string, error) {
	out := make(map[string]*string, len(raw))
	for k, v := range raw {
		var s string
		switch x := v.(type) {
		case nil:
			if !nullable {
				return nil, badRequest("Null value can not be supplied as the configuration value for %s", k)
			}
			out[k] = nil
			continue
		case string:
			s = x
		case float64, bool:
			s = fmt.Sprint(x)
		default:
			return nil, badRequest("Configuration value of %s must be a string", k)
		}
		out[k] = &s
	}
	return out, nil
}

func deref(m map[string]*string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		if v != nil {
			out[k] = *v
		}
	}
	return out
}

func (s *Server) root(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"version": Version, "commit": "samsa", "kafka_cluster_id": s.kafkaClusterID(r.Context())})
}

func (s *Server) listConnectors(w http.ResponseWriter, r *http.Request) {
	names := s.h.Connectors()
	expand := r.URL.Query()["expand"]
	if len(expand) == 0 {
		writeJSON(w, http.StatusOK, names)
		return
	}
	out := map[string]map[string]any{}
	for _, n := range names {
		e := map[string]any{}
		for _, x := range expand {
			switch x {
			case "status":
				if st, err := s.h.Status(n); err == nil {
					e["status"] = st
				}
			case "info":
				if in, err := s.h.Info(n); err == nil {
					e["info"] = in
				}
			}
		}
		out[n] = e
	}
	writeJSON(w, http.StatusOK, out)
}

// createRequest is POST /connectors' body.
type createRequest struct {
	Name         *string        `json:"name"`
	Config       map[string]any `json:"config"`
	InitialState string         `json:"initial_state"`
}

func (s *Server) createConnector(w http.ResponseWriter, r *http.Request) {
	var req createRequest
	if err := readJSON(r, &req); err != nil {
		writeError(w, err)
		return
	}
	name := ""
	if req.Name != nil {
		name = strings.TrimSpace(*req.Name)
	}
	var initial TargetState
	switch strings.ToUpper(req.InitialState) {
	case "":
	case "RUNNING":
		initial = TargetStarted
	case "PAUSED":
		initial = TargetPaused
	case "STOPPED":
		initial = TargetStopped
	default:
		writeError(w, badRequest("Cannot deserialize value of type InitialState from String %q: not one of the values accepted for Enum class: [RUNNING, PAUSED, STOPPED]", req.InitialState))
		return
	}
	if req.Config == nil {
		writeError(w, badRequest("Connector config must be specified"))
		return
	}
	cfgp, err := toStrings(req.Config, false)
	if err != nil {
		writeError(w, err)
		return
	}
	cfg, err := withName(name, deref(cfgp))
	if err != nil {
		writeError(w, err)
		return
	}
	_, info, err := s.h.Put(name, cfg, false, initial)
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Location", "/connectors/"+name)
	writeJSON(w, http.StatusCreated, info)
}

// withName checks the config's name against the URL's (Java's
// checkAndPutConnectorConfigName).
func withName(name string, cfg map[string]string) (map[string]string, error) {
	if n, ok := cfg["name"]; ok {
		if n != name {
			return nil, badRequest("Connector name configuration (%s) doesn't match connector name in the URL (%s)", n, name)
		}
	} else {
		cfg["name"] = name
	}
	return cfg, nil
}

func (s *Server) getConnector(w http.ResponseWriter, r *http.Request) {
	info, err := s.h.Info(r.PathValue("c"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, info)
}

func (s *Server) deleteConnector(w http.ResponseWriter, r *http.Request) {
	if err := s.h.Delete(r.PathValue("c")); err != nil {
		writeError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) getConfig(w http.ResponseWriter, r *http.Request) {
	cfg, err := s.h.ConnectorConfig(r.PathValue("c"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, cfg)
}

func (s *Server) putConfig(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("c")
	m, err := stringMap(r, false)
	if err != nil {
		writeError(w, err)
		return
	}
	cfg, err := withName(name, deref(m))
	if err != nil {
		writeError(w, err)
		return
	}
	created, info, err := s.h.Put(name, cfg, true, "")
	if err != nil {
		writeError(w, err)
		return
	}
	code := http.StatusOK
	if created {
		w.Header().Set("Location", "/connectors/"+name)
		code = http.StatusCreated
	}
	writeJSON(w, code, info)
}

func (s *Server) patchConfig(w http.ResponseWriter, r *http.Request) {
	m, err := stringMap(r, true)
	if err != nil {
		writeError(w, err)
		return
	}
	info, err := s.h.Patch(r.PathValue("c"), m)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, info)
}

func (s *Server) getStatus(w http.ResponseWriter, r *http.Request) {
	st, err := s.h.Status(r.PathValue("c"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// boolParam reads a boolean query parameter as JAX-RS does (anything but
// "true" is false).
func boolParam(r *http.Request, k string) bool {
	return strings.EqualFold(r.URL.Query().Get(k), "true")
}

func (s *Server) restart(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("c")
	includeTasks, onlyFailed := boolParam(r, "includeTasks"), boolParam(r, "onlyFailed")
	if !includeTasks && !onlyFailed {
		if err := s.h.RestartConnector(name); err != nil {
			writeError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	st, err := s.h.Restart(name, includeTasks, onlyFailed)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, st)
}

func (s *Server) target(ts TargetState, code int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := s.h.SetTarget(r.PathValue("c"), ts); err != nil {
			writeError(w, err)
			return
		}
		w.WriteHeader(code)
	}
}

func (s *Server) getTasks(w http.ResponseWriter, r *http.Request) {
	ts, err := s.h.Tasks(r.PathValue("c"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, ts)
}

// taskID reads {c} and {n}; a task number that is not one is a 404, as
// in Java (its path parameter does not match).
func taskID(r *http.Request) (TaskID, error) {
	n, err := strconv.ParseInt(r.PathValue("n"), 10, 32)
	if err != nil {
		return TaskID{}, notFound("HTTP 404 Not Found")
	}
	return TaskID{Connector: r.PathValue("c"), Task: int32(n)}, nil
}

func (s *Server) getTaskStatus(w http.ResponseWriter, r *http.Request) {
	id, err := taskID(r)
	if err == nil {
		var st StateInfo
		if st, err = s.h.TaskStatus(id); err == nil {
			writeJSON(w, http.StatusOK, st)
			return
		}
	}
	writeError(w, err)
}

func (s *Server) restartTask(w http.ResponseWriter, r *http.Request) {
	id, err := taskID(r)
	if err == nil {
		err = s.h.RestartTask(id)
	}
	var nl *notLeader
	if errors.As(err, &nl) && r.URL.Query().Get("forward") != "false" {
		s.proxy(w, r, nl.leaderURL)
		return
	}
	if err != nil {
		writeError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) getTopics(w http.ResponseWriter, r *http.Request) {
	if s.cfg.NoTopicTracking {
		writeError(w, &Error{Code: http.StatusForbidden, Msg: "Topic tracking is disabled."})
		return
	}
	name := r.PathValue("c")
	ts, err := s.h.Topics(name)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{name: map[string]any{"topics": ts}})
}

func (s *Server) resetTopics(w http.ResponseWriter, r *http.Request) {
	switch {
	case s.cfg.NoTopicTracking:
		writeError(w, &Error{Code: http.StatusForbidden, Msg: "Topic tracking is disabled."})
		return
	case s.cfg.NoTopicReset:
		writeError(w, &Error{Code: http.StatusForbidden, Msg: "Topic tracking reset is disabled."})
		return
	}
	if err := s.h.ResetTopics(r.PathValue("c")); err != nil {
		writeError(w, err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

func (s *Server) getOffsets(w http.ResponseWriter, r *http.Request) {
	o, err := s.h.Offsets(r.Context(), r.PathValue("c"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, o)
}

func (s *Server) alterOffsets(w http.ResponseWriter, r *http.Request) {
	var o Offsets
	if err := readJSON(r, &o); err != nil {
		writeError(w, err)
		return
	}
	if len(o.Offsets) == 0 {
		writeError(w, badRequest("Partitions / offsets need to be provided for an alter offsets request"))
		return
	}
	msg, err := s.h.AlterOffsets(r.Context(), r.PathValue("c"), o)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"message": msg})
}

func (s *Server) resetOffsets(w http.ResponseWriter, r *http.Request) {
	msg, err := s.h.ResetOffsets(r.Context(), r.PathValue("c"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"message": msg})
}

// pluginInfo is one entry of GET /connector-plugins.
type pluginInfo struct {
	Class   string `json:"class"`
	Type    string `json:"type"`
	Version string `json:"version,omitempty"`
}

func (s *Server) listPlugins(w http.ResponseWriter, r *http.Request) {
	kinds := []pub.Kind{pub.KindSink, pub.KindSource}
	if r.URL.Query().Get("connectorsOnly") == "false" {
		kinds = append(kinds, pub.KindTransformation, pub.KindPredicate, pub.KindConverter, pub.KindHeaderConverter)
	}
	out := []pluginInfo{}
	for _, k := range kinds {
		for _, p := range s.cfg.Plugins.Plugins(k) {
			v := p.Version
			if v == "" {
				v = Version
			}
			out = append(out, pluginInfo{Class: p.Class, Type: string(p.Kind), Version: v})
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) pluginConfig(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("p")
	p, ok := lookupPlugin(s.cfg.Plugins, name)
	if !ok {
		writeError(w, notFound("Unknown plugin %s.", name))
		return
	}
	// The plugin's own settings first, then (connectors) the runtime's,
	// a name defined by both shown once, as the plugin has it.
	def := pub.NewConfigDef().Merge(pluginDef(p))
	if p.Kind == pub.KindSource || p.Kind == pub.KindSink {
		def.Merge(connectorDef(p.Kind))
	}
	out := []ConfigKeyInfo{}
	for _, k := range def.Keys() {
		out = append(out, keyInfo(k))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) validate(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("p")
	m, err := stringMap(r, false)
	if err != nil {
		writeError(w, err)
		return
	}
	cfg := deref(m)
	if inc, ok := cfg["connector.class"]; ok && !strings.HasSuffix(trimConnector(inc), trimConnector(name)) {
		writeError(w, badRequest("Included connector type %s does not match request type %s", inc, name))
		return
	}
	if _, ok := cfg["connector.class"]; !ok {
		cfg["connector.class"] = name
	}
	ci, err := s.h.Validate(cfg)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, ci)
}

func trimConnector(s string) string {
	if strings.HasSuffix(s, "Connector") && len(s) > len("Connector") {
		return strings.TrimSuffix(s, "Connector")
	}
	return s
}

func (s *Server) getLoggers(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.loggers.all())
}

func (s *Server) getLogger(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("l")
	l, ok := s.loggers.get(name)
	if !ok {
		writeError(w, notFound("Logger %s not found.", name))
		return
	}
	writeJSON(w, http.StatusOK, l)
}

func (s *Server) setLogger(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("l")
	m, err := stringMap(r, true)
	if err != nil {
		writeError(w, err)
		return
	}
	lv := m["level"]
	if lv == nil {
		writeError(w, badRequest("Desired 'level' parameter was not specified in request."))
		return
	}
	if _, ok := validLevels[strings.ToUpper(*lv)]; !ok {
		writeError(w, notFound("invalid log level '%s'.", *lv))
		return
	}
	if strings.EqualFold(r.URL.Query().Get("scope"), "cluster") {
		// Distributed, every worker applies it from the config topic.
		if d := s.h.dist; d != nil {
			if err := d.putLoggerLevel(name, strings.ToUpper(*lv)); err != nil {
				writeError(w, err)
				return
			}
		}
		s.loggers.set(name, *lv)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	changed := s.loggers.set(name, *lv)
	writeJSON(w, http.StatusOK, changed)
}
