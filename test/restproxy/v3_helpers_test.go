package restproxy

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// v3Node is a running `samsa serve` with its REST proxy (and the registry).
type v3Node struct {
	*clustertest.Node
	Bootstrap string // Kafka host:port
	URL       string // http://host:port of the REST proxy
	CID       string // the cluster id
	Registry  string // http://host:port of the schema registry
}

// v3Start starts `samsa serve` with the REST proxy on a free port, with
// ACLs on (everyone allowed without an ACL) and reads the cluster id.
func v3Start(t testing.TB) *v3Node {
	t.Helper()
	n := clustertest.Start(t, clustertest.Options{
		Args: []string{"--admin-listen", "none", "--registry-listen", "127.0.0.1:0", "--rest-listen", "127.0.0.1:0"},
		Config: "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer\n" +
			"allow.everyone.if.no.acl.found=true\n",
	})
	vn := &v3Node{Node: n, Bootstrap: n.Addr, URL: "http://" + v3AddrFromLog(t, n.LogPath, v3RestAddrRE),
		Registry: "http://" + v3AddrFromLog(t, n.LogPath, v3RegistryAddrRE)}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		a := v3Call(t, "GET", vn.URL+"/v3/clusters", "")
		if a.Status == 200 {
			d, _ := a.Map()["data"].([]any)
			if len(d) == 1 {
				vn.CID, _ = d[0].(map[string]any)["cluster_id"].(string)
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /v3/clusters never answered a cluster: %v", a)
		}
	}
	return vn
}

var (
	v3RestAddrRE     = regexp.MustCompile(`rest proxy listening.*addr=([0-9.]+:[0-9]+)`)
	v3RegistryAddrRE = regexp.MustCompile(`schema registry listening.*addr=([0-9.]+:[0-9]+)`)
)

func v3AddrFromLog(t testing.TB, path string, re *regexp.Regexp) string {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		b, _ := os.ReadFile(path)
		if m := re.FindAllSubmatch(b, -1); len(m) > 0 {
			return string(m[len(m)-1][1])
		}
	}
	t.Fatalf("no %s in %s", re, path)
	return ""
}

// C is the URL of a path under /v3/clusters/{cid}.
func (n *v3Node) C(path string) string { return n.URL + "/v3/clusters/" + n.CID + path }

// Client is a franz-go client of the node.
func (n *v3Node) Client(t testing.TB, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(n.Bootstrap)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// v3Answer is an HTTP answer.
type v3Answer struct {
	Status      int
	ContentType string
	Body        []byte
	JSON        any
}

func (a v3Answer) Map() map[string]any {
	m, _ := a.JSON.(map[string]any)
	return m
}

// Data is the body's data list.
func (a v3Answer) Data() []map[string]any {
	var out []map[string]any
	l, _ := a.Map()["data"].([]any)
	for _, x := range l {
		m, _ := x.(map[string]any)
		out = append(out, m)
	}
	return out
}

func (a v3Answer) String() string {
	return http.StatusText(a.Status) + " " + a.ContentType + " " + string(a.Body)
}

// v3Call sends a request with an application/json body ("" sends none).
func v3Call(t testing.TB, method, url, body string) v3Answer {
	t.Helper()
	return v3CallWith(t, method, url, body, "application/json", "")
}

// v3CallWith sends a request with a body ("" sends none) of contentType,
// and an Accept ("" sends none).
func v3CallWith(t testing.TB, method, url, body, contentType, accept string) v3Answer {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" && contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	a := v3Answer{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Body: b}
	if len(bytes.TrimSpace(b)) > 0 {
		_ = json.Unmarshal(b, &a.JSON)
	}
	return a
}

// v3Expect checks an answer's status, that it is application/json (unless
// 204) and that its body has the keys given.
func v3Expect(t testing.TB, a v3Answer, status int, keys ...string) map[string]any {
	t.Helper()
	if a.Status != status {
		t.Fatalf("status %d, want %d: %v", a.Status, status, a)
	}
	if status == 204 {
		if len(a.Body) != 0 {
			t.Fatalf("204 with a body: %v", a)
		}
		return nil
	}
	if a.ContentType != "application/json" {
		t.Fatalf("content type %q, want application/json: %v", a.ContentType, a)
	}
	m := a.Map()
	if m == nil {
		t.Fatalf("body is not a JSON object: %v", a)
	}
	for _, k := range keys {
		if _, found := m[k]; !found {
			t.Fatalf("body has no %q: %v", k, a)
		}
	}
	return m
}

// v3ExpectError checks an error answer: status, error_code == status, a
// message.
func v3ExpectError(t testing.TB, a v3Answer, status int) {
	t.Helper()
	m := v3Expect(t, a, status, "error_code", "message")
	if c, _ := m["error_code"].(float64); int(c) != status {
		t.Fatalf("error_code %v, want %d: %v", m["error_code"], status, a)
	}
}

// v3ReadAll reads n records of topic from the start with franz-go.
func v3ReadAll(t testing.TB, n *v3Node, topic string, want int) []*kgo.Record {
	t.Helper()
	cl := n.Client(t, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d records of %s, want %d", len(out), topic, want)
		}
		for _, e := range fs.Errors() {
			t.Fatalf("fetch %s: %v", topic, e.Err)
		}
		out = append(out, fs.Records()...)
	}
	return out
}
