package httpsink

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/connect"
)

// endpoint is a real HTTP server that answers each request with the
// status its plan gives for the request's number, and keeps the bodies
// it accepted.
type endpoint struct {
	mu       sync.Mutex
	n        int
	plan     func(n int) int // 0: hang until the client gives up
	accepted [][]byte
	headers  []http.Header
	srv      *httptest.Server
}

func newEndpoint(t *testing.T, plan func(n int) int) *endpoint {
	e := &endpoint{plan: plan}
	e.srv = httptest.NewServer(http.HandlerFunc(e.serve))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *endpoint) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	e.mu.Lock()
	e.n++
	code := e.plan(e.n)
	if code == http.StatusOK {
		e.accepted = append(e.accepted, body)
		e.headers = append(e.headers, r.Header.Clone())
	}
	e.mu.Unlock()
	if code == 0 {
		<-r.Context().Done()
		return
	}
	w.WriteHeader(code)
	_, _ = io.WriteString(w, "plan says "+http.StatusText(code))
}

func (e *endpoint) count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.n
}

// values decodes the accepted bodies into their elements, in order.
func (e *endpoint) values(t *testing.T) []any {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []any
	for _, b := range e.accepted {
		var arr []any
		if err := json.Unmarshal(b, &arr); err != nil {
			t.Fatalf("body %s: %v", b, err)
		}
		out = append(out, arr...)
	}
	return out
}

type sinkCtx struct{}

func (sinkCtx) Assignment() []connect.TopicPartition                      { return nil }
func (sinkCtx) ResetOffset(connect.TopicPartition, int64)                 {}
func (sinkCtx) Pause(...connect.TopicPartition)                           {}
func (sinkCtx) Resume(...connect.TopicPartition)                          {}
func (sinkCtx) RequestCommit()                                            {}
func (sinkCtx) ReportError(context.Context, *connect.Record, error) error { return nil }
func (sinkCtx) Logger() *slog.Logger                                      { return slog.New(slog.DiscardHandler) }

func startTask(t *testing.T, props map[string]string) connect.SinkTask {
	t.Helper()
	c := Plugins()[0].New().(connect.SinkConnector)
	if err := c.Start(nil, props); err != nil {
		t.Fatal(err)
	}
	cfgs, _ := c.TaskConfigs(1)
	task := c.NewTask()
	if err := task.Start(sinkCtx{}, cfgs[0]); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = task.Stop() })
	return task
}

func records(from, to int64) []*connect.Record {
	var out []*connect.Record
	for i := from; i < to; i++ {
		out = append(out, &connect.Record{Topic: "in", Partition: int32(i % 2), Offset: i / 2,
			ValueSchema: connect.SchemaInt64, Value: i})
	}
	return out
}

func TestRetriesOn503KeepOrder(t *testing.T) {
	ctx := context.Background()
	// Requests 3 to 7 fail with 503: the third batch is tried three
	// times in the task, then handed back to the runtime, which delivers
	// the same records again.
	e := newEndpoint(t, func(n int) int {
		if n >= 3 && n <= 7 {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	task := startTask(t, map[string]string{"http.api.url": e.srv.URL, "batch.max.size": "4",
		"max.retries": "2", "retry.backoff.ms": "1", "headers": "X-A: 1|Authorization-Ext:b"})
	recs := records(0, 10)
	if err := task.Put(ctx, recs[:2]); err != nil {
		t.Fatal(err)
	}
	err := task.Put(ctx, recs[2:])
	if !errors.Is(err, connect.ErrRetriable) || !strings.Contains(err.Error(), "503") {
		t.Fatalf("put during the outage: %v, want a retriable 503 error", err)
	}
	if got := len(e.values(t)); got != 6 {
		t.Fatalf("%d records accepted during the outage, want 6 (the batch before it)", got)
	}
	// The runtime's redelivery: request 6 and 7 fail once more, 8 on pass.
	if err := task.Put(ctx, recs[2:]); err != nil {
		t.Fatalf("redelivery: %v", err)
	}
	var want []any
	for i := range 10 {
		want = append(want, float64(i))
	}
	if got := e.values(t); !reflect.DeepEqual(got, want) {
		t.Fatalf("endpoint got %v, want %v (in order, once)", got, want)
	}
	// Redelivering what was accepted sends nothing.
	n := e.count()
	if err := task.Put(ctx, recs[5:]); err != nil || e.count() != n {
		t.Fatalf("redelivery of accepted records: %v, %d requests", err, e.count()-n)
	}
	h := e.headers[0]
	if h.Get("X-A") != "1" || h.Get("Authorization-Ext") != "b" || h.Get("Content-Type") != "application/json" {
		t.Fatalf("headers %v", h)
	}
	if cur, err := task.PreCommit(ctx, map[connect.TopicPartition]int64{{Topic: "in"}: 5}); err != nil || cur[connect.TopicPartition{Topic: "in"}] != 5 {
		t.Fatalf("precommit %v %v", cur, err)
	}
}

func TestTimeoutIsRetried(t *testing.T) {
	e := newEndpoint(t, func(n int) int {
		if n == 1 {
			return 0 // hang
		}
		return http.StatusOK
	})
	task := startTask(t, map[string]string{"http.api.url": e.srv.URL, "http.request.timeout.ms": "200",
		"retry.backoff.ms": "1"})
	if err := task.Put(context.Background(), records(0, 3)); err != nil {
		t.Fatal(err)
	}
	if got := e.values(t); len(got) != 3 || e.count() != 2 {
		t.Fatalf("after a timeout: %v in %d requests", got, e.count())
	}
}

func TestBehaviorOnError(t *testing.T) {
	ctx := context.Background()
	e := newEndpoint(t, func(n int) int {
		if n == 1 {
			return http.StatusBadRequest
		}
		return http.StatusOK
	})
	task := startTask(t, map[string]string{"http.api.url": e.srv.URL, "batch.max.size": "2"})
	err := task.Put(ctx, records(0, 4))
	if err == nil || errors.Is(err, connect.ErrRetriable) || !strings.Contains(err.Error(), "400 Bad Request: plan says Bad Request") {
		t.Fatalf("fail on 400: %v", err)
	}
	for _, behavior := range []string{"log", "ignore"} {
		e.mu.Lock()
		e.n, e.accepted = 0, nil
		e.mu.Unlock()
		task := startTask(t, map[string]string{"http.api.url": e.srv.URL, "batch.max.size": "2",
			"behavior.on.error": behavior})
		if err := task.Put(ctx, records(0, 4)); err != nil {
			t.Fatalf("%s: %v", behavior, err)
		}
		if got := e.values(t); !reflect.DeepEqual(got, []any{2.0, 3.0}) {
			t.Fatalf("%s: endpoint got %v, want the second batch only", behavior, got)
		}
	}
}

func TestEnvelopeStructsAndAuth(t *testing.T) {
	var got []byte
	var user, pass string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = io.ReadAll(r.Body)
		user, pass, _ = r.BasicAuth()
	}))
	defer srv.Close()
	task := startTask(t, map[string]string{"http.api.url": srv.URL, "http.record.envelope": "true",
		"auth.type": "BASIC", "connection.user": "u", "connection.password": "p", "request.method": "put"})
	s := &connect.Schema{Type: connect.StructT, Fields: []connect.Field{
		{Name: "id", Index: 0, Schema: connect.SchemaInt32},
		{Name: "price", Index: 1, Schema: &connect.Schema{Type: connect.Bytes, Name: connect.DecimalName}},
		{Name: "tags", Index: 2, Schema: &connect.Schema{Type: connect.Array, Value: connect.SchemaString}},
		{Name: "raw", Index: 3, Schema: connect.OptionalBytes}}}
	st := connect.NewStruct(s)
	st.Values = []any{int32(7), connect.Decimal{Unscaled: big.NewInt(1999), Scale: 2}, []any{"a", "b"}, []byte("hi")}
	ts := time.UnixMilli(1700000000123)
	r := &connect.Record{Topic: "t", Partition: 1, Offset: 9, Timestamp: ts, KeySchema: connect.SchemaString, Key: "k",
		ValueSchema: s, Value: st, Headers: []connect.Header{{Key: "h", Value: "v"}}}
	if err := task.Put(context.Background(), []*connect.Record{r}); err != nil {
		t.Fatal(err)
	}
	want := `[{"topic":"t","partition":1,"offset":9,"timestamp":1700000000123,"key":"k",` +
		`"value":{"id":7,"price":19.99,"tags":["a","b"],"raw":"aGk="},"headers":[{"key":"h","value":"v"}]}]`
	if string(got) != want || user != "u" || pass != "p" {
		t.Fatalf("body %s (user %q %q), want %s", got, user, pass, want)
	}
}

func TestStringFormatAndConfig(t *testing.T) {
	var got []byte
	var ct string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = io.ReadAll(r.Body)
		ct = r.Header.Get("Content-Type")
	}))
	defer srv.Close()
	task := startTask(t, map[string]string{"http.api.url": srv.URL, "request.body.format": "string",
		"batch.prefix": "<", "batch.suffix": ">", "batch.separator": ";"})
	if err := task.Put(context.Background(), []*connect.Record{{Value: "a"}, {Value: int64(2)}, {Value: nil}}); err != nil {
		t.Fatal(err)
	}
	if string(got) != "<a;2;null>" || !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("body %q, content type %q", got, ct)
	}
	for _, bad := range []map[string]string{{}, {"http.api.url": "ftp://x"}, {"http.api.url": "http://x", "headers": "nocolon"},
		{"http.api.url": "http://x", "retry.on.status.codes": "5xx"}, {"http.api.url": "http://x", "behavior.on.error": "explode"}} {
		if _, err := ParseConfig(bad); err == nil {
			t.Errorf("config %v accepted", bad)
		}
	}
	c, err := ParseConfig(map[string]string{"http.api.url": "http://x", "retry.on.status.codes": "400-404, 503"})
	if err != nil || !c.retryStatus(404) || c.retryStatus(500) || !c.retryStatus(503) {
		t.Fatalf("retry codes: %v", err)
	}
}
