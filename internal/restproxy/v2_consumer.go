package restproxy

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// v2 consumer instances: creation, deletion, expiry and the set that holds
// them. Subscriptions, assignments, positions and offsets are in
// v2_consumer_ops.go; reading records in v2_records.go.

// consumerSet holds the v2 consumer instances, by group and name.
type consumerSet struct {
	s *Server

	mu        sync.Mutex
	instances map[instanceKey]*consumerInstance
}

type instanceKey struct{ group, name string }

func newConsumerSet(s *Server) *consumerSet {
	return &consumerSet{s: s, instances: map[instanceKey]*consumerInstance{}}
}

// consumerMode is how an instance gets its partitions.
type consumerMode int

const (
	modeNone       consumerMode = iota // neither subscribed nor assigned
	modeSubscribed                     // a group member (topics or pattern)
	modeAssigned                       // partitions assigned by the client
)

// consumerInstance is one v2 consumer: a franz-go client (a group member
// when subscribed, a direct consumer when assigned) made at subscribe or
// assign time. mu serializes the requests on it.
type consumerInstance struct {
	set      *consumerSet
	group    string
	name     string
	format   format
	reset    kgo.Offset
	autoComm bool
	minBytes int32
	timeout  time.Duration // consumer.request.timeout.ms

	lastUsed atomic.Int64 // unix nanoseconds of the last request

	owner     string    // the principal that created it ("" anonymous; auth.go)
	ownerOpts []kgo.Opt // the base options of its clients, acting as owner

	// ctx ends when the instance closes, so that a GET records waiting
	// under mu stops at once.
	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	closed   bool
	cl       *kgo.Client
	mode     consumerMode
	topics   []string // subscription topics (or the pattern alone)
	pattern  string
	buf      []*kgo.Record              // polled, not yet returned
	consumed map[string]map[int32]int64 // offset after the last returned record

	amu      sync.Mutex
	assigned map[string]map[int32]bool // current partitions
}

func (c *consumerInstance) touch() { c.lastUsed.Store(time.Now().UnixNano()) }

// instance finds the request's instance, locked; unlock it when done.
func (cs *consumerSet) instance(r *http.Request) (*consumerInstance, error) {
	cs.mu.Lock()
	c := cs.instances[instanceKey{r.PathValue("group"), r.PathValue("instance")}]
	cs.mu.Unlock()
	if c == nil {
		return nil, errInstanceNotFound()
	}
	if !c.ownedBy(r.Context()) {
		return nil, errNotOwner(userOf(r.Context()))
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, errInstanceNotFound()
	}
	c.touch()
	return c, nil
}

// reap closes instances idle longer than ConsumerInstanceTimeout, until
// ctx ends.
func (cs *consumerSet) reap(ctx context.Context) {
	every := min(max(cs.s.cfg.ConsumerInstanceTimeout/10, 50*time.Millisecond), 10*time.Second)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		deadline := time.Now().Add(-cs.s.cfg.ConsumerInstanceTimeout).UnixNano()
		var expired []*consumerInstance
		cs.mu.Lock()
		for k, c := range cs.instances {
			if c.lastUsed.Load() < deadline {
				expired = append(expired, c)
				delete(cs.instances, k)
			}
		}
		cs.mu.Unlock()
		for _, c := range expired {
			cs.s.lg.Info("rest proxy: consumer instance expired", "group", c.group, "instance", c.name)
			c.close()
		}
	}
}

// closeAll closes every instance.
func (cs *consumerSet) closeAll() {
	cs.mu.Lock()
	all := make([]*consumerInstance, 0, len(cs.instances))
	for k, c := range cs.instances {
		all = append(all, c)
		delete(cs.instances, k)
	}
	cs.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range all {
		wg.Add(1)
		go func() { // waited below
			defer wg.Done()
			c.close()
		}()
	}
	wg.Wait()
}

// close ends the instance: its client leaves the group.
func (c *consumerInstance) close() {
	c.cancel()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	c.dropClient()
}

// dropClient closes the Kafka client (leaving the group) and forgets the
// subscription or assignment (c.mu held).
func (c *consumerInstance) dropClient() {
	if c.cl != nil {
		c.cl.Close()
		c.cl = nil
	}
	c.mode, c.topics, c.pattern, c.buf = modeNone, nil, "", nil
	c.consumed = map[string]map[int32]int64{}
	c.amu.Lock()
	c.assigned = map[string]map[int32]bool{}
	c.amu.Unlock()
}

// createConsumerRequest is POST /consumers/{group}'s body. Values may be
// strings or JSON numbers and booleans, as clients send both.
type createConsumerRequest map[string]json.RawMessage

// str reads one member as a string ("" if absent or null).
func (b createConsumerRequest) str(k string) (string, bool) {
	raw, ok := b[k]
	if !ok || isNull(raw) {
		return "", true
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, true
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return "", false
	}
	switch v.(type) {
	case float64, bool:
		return strings.TrimSpace(string(raw)), true
	}
	return "", false
}

func errConsumerConfig(format string, args ...any) *apiError {
	return apiErr(http.StatusUnprocessableEntity, 42204, format, args...)
}

// POST /consumers/{group}: a new instance, {"instance_id","base_uri"}.
func (s *Server) createConsumer(w http.ResponseWriter, r *http.Request, _ v2Request) error {
	group := r.PathValue("group")
	var body createConsumerRequest
	if err := s.readBody(w, r, &body, true); err != nil {
		return err
	}
	c, err := s.newInstance(group, body)
	if err != nil {
		return err
	}
	c.adopt(r.Context())
	s.consumers.mu.Lock()
	if _, ok := s.consumers.instances[instanceKey{group, c.name}]; ok {
		s.consumers.mu.Unlock()
		return apiErr(http.StatusConflict, 40902, "Consumer with specified consumer ID already exists in the specified consumer group.")
	}
	c.touch()
	s.consumers.instances[instanceKey{group, c.name}] = c
	s.consumers.mu.Unlock()
	writeJSON(w, v2JSON, http.StatusOK, map[string]string{
		"instance_id": c.name,
		"base_uri":    s.advertisedBase(r) + "/consumers/" + url.PathEscape(group) + "/instances/" + url.PathEscape(c.name),
	})
	return nil
}

// advertisedBase is the base of the URLs handed out: the advertised URL,
// else the listener's, else (when the listener is a wildcard address)
// the host the client asked for.
func (s *Server) advertisedBase(r *http.Request) string {
	if s.cfg.AdvertisedURL != "" || r.Host == "" {
		return s.baseURL
	}
	if host, _, err := net.SplitHostPort(s.Addr()); err == nil && net.ParseIP(host).IsUnspecified() {
		if r.TLS != nil {
			return "https://" + r.Host
		}
		return "http://" + r.Host
	}
	return s.baseURL
}

// newInstance reads a creation body; what it cannot take is 42204.
func (s *Server) newInstance(group string, body createConsumerRequest) (*consumerInstance, error) {
	vals := map[string]string{}
	for _, k := range []string{"name", "id", "format", "auto.offset.reset", "auto.commit.enable", "fetch.min.bytes", "consumer.request.timeout.ms"} {
		v, ok := body.str(k)
		if !ok {
			return nil, errConsumerConfig("Invalid consumer configuration: %s must be a string", k)
		}
		vals[k] = v
	}
	c := &consumerInstance{set: s.consumers, group: group, reset: kgo.NewOffset().AtEnd(),
		autoComm: true, minBytes: 1, timeout: s.cfg.ConsumerRequestTimeout,
		consumed: map[string]map[int32]int64{}, assigned: map[string]map[int32]bool{}}
	c.name = vals["name"]
	if c.name == "" {
		c.name = vals["id"]
	}
	if c.name == "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		c.name = "rest-consumer-" + hex.EncodeToString(b[:])
	}
	if f := vals["format"]; f != "" {
		var ok bool
		if c.format, ok = parseFormat(f); !ok {
			return nil, errConsumerConfig("Invalid consumer configuration: unknown format %q", f)
		}
	}
	if err := c.configure(vals); err != nil {
		return nil, err
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c, nil
}

// configure applies the Kafka consumer settings of a creation body.
func (c *consumerInstance) configure(vals map[string]string) error {
	switch strings.ToLower(vals["auto.offset.reset"]) {
	case "", "latest", "largest":
	case "earliest", "smallest":
		c.reset = kgo.NewOffset().AtStart()
	case "none":
		c.reset = kgo.NewOffset().AtCommitted()
	default:
		return errConsumerConfig("Invalid consumer configuration: auto.offset.reset %q", vals["auto.offset.reset"])
	}
	switch strings.ToLower(vals["auto.commit.enable"]) {
	case "", "true":
	case "false":
		c.autoComm = false
	default:
		return errConsumerConfig("Invalid consumer configuration: auto.commit.enable %q", vals["auto.commit.enable"])
	}
	if v := vals["fetch.min.bytes"]; v != "" {
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil || n < 0 {
			return errConsumerConfig("Invalid consumer configuration: fetch.min.bytes %q", v)
		}
		c.minBytes = int32(max(n, 1))
	}
	if v := vals["consumer.request.timeout.ms"]; v != "" {
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil || n < 0 {
			return errConsumerConfig("Invalid consumer configuration: consumer.request.timeout.ms %q", v)
		}
		c.timeout = time.Duration(n) * time.Millisecond
	}
	return nil
}

// DELETE /consumers/{group}/instances/{instance}: the instance leaves its
// group and is gone.
func (s *Server) deleteConsumer(w http.ResponseWriter, r *http.Request, _ v2Request) error {
	key := instanceKey{r.PathValue("group"), r.PathValue("instance")}
	s.consumers.mu.Lock()
	c := s.consumers.instances[key]
	if c != nil && !c.ownedBy(r.Context()) {
		s.consumers.mu.Unlock()
		return errNotOwner(userOf(r.Context()))
	}
	delete(s.consumers.instances, key)
	s.consumers.mu.Unlock()
	if c == nil {
		return errInstanceNotFound()
	}
	c.close()
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// clientOpts are the options of the instance's Kafka client.
func (c *consumerInstance) clientOpts(extra ...kgo.Opt) []kgo.Opt {
	opts := []kgo.Opt{kgo.ConsumeResetOffset(c.reset), kgo.FetchMinBytes(c.minBytes),
		kgo.FetchMaxBytes(16 << 20), kgo.FetchMaxWait(500 * time.Millisecond)}
	if c.ownerOpts == nil {
		return c.set.s.clientOpts(append(opts, extra...)...)
	}
	return append(append(c.ownerOpts[:len(c.ownerOpts):len(c.ownerOpts)], opts...), extra...)
}

// onAssigned and onRevoked keep c.assigned up to date (franz-go group
// callbacks; they take only amu).
func (c *consumerInstance) onAssigned(_ context.Context, _ *kgo.Client, added map[string][]int32) {
	c.amu.Lock()
	defer c.amu.Unlock()
	for t, ps := range added {
		if c.assigned[t] == nil {
			c.assigned[t] = map[int32]bool{}
		}
		for _, p := range ps {
			c.assigned[t][p] = true
		}
	}
}

func (c *consumerInstance) onRevoked(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
	c.amu.Lock()
	defer c.amu.Unlock()
	for t, ps := range lost {
		for _, p := range ps {
			delete(c.assigned[t], p)
		}
		if len(c.assigned[t]) == 0 {
			delete(c.assigned, t)
		}
	}
}

// isAssigned says whether partition p of t is the instance's now.
func (c *consumerInstance) isAssigned(t string, p int32) bool {
	c.amu.Lock()
	defer c.amu.Unlock()
	return c.assigned[t][p]
}

// assignment is a copy of the current partitions.
func (c *consumerInstance) assignment() map[string][]int32 {
	c.amu.Lock()
	defer c.amu.Unlock()
	out := map[string][]int32{}
	for t, ps := range c.assigned {
		for p := range ps {
			out[t] = append(out[t], p)
		}
	}
	return out
}
