package restproxy

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// restNode is a running `samsa serve` with its REST proxy and schema
// registry.
type restNode struct {
	*clustertest.Node
	Bootstrap string // Kafka host:port
	URL       string // http://host:port of the REST proxy
	Registry  string // http://host:port of the schema registry
}

// startNode starts `samsa serve` with the REST proxy and the registry on
// free loopback ports and returns the Kafka bootstrap address and the
// proxy's URL.
func startNode(t testing.TB, args ...string) (bootstrap, proxyURL string) {
	t.Helper()
	n := startRESTNode(t, args...)
	return n.Bootstrap, n.URL
}

// startRESTNode is startNode returning the whole node (with the registry's
// URL and the process, for Stop/Restart and its log).
func startRESTNode(t testing.TB, args ...string) *restNode {
	t.Helper()
	return startRESTNodeOpts(t, clustertest.Options{Args: args})
}

// startRESTNodeOpts is startRESTNode with clustertest's options (Args
// after the REST proxy's and the registry's).
func startRESTNodeOpts(t testing.TB, opts clustertest.Options) *restNode {
	t.Helper()
	opts.Args = append([]string{"--admin-listen", "none", "--registry-listen", "127.0.0.1:0",
		"--rest-listen", "127.0.0.1:0"}, opts.Args...)
	n := clustertest.Start(t, opts)
	rn := &restNode{Node: n, Bootstrap: n.Addr,
		URL:      "http://" + addrFromLog(t, n.LogPath, restAddrRE),
		Registry: "http://" + addrFromLog(t, n.LogPath, registryAddrRE)}
	waitHTTP(t, rn.URL+"/")
	waitHTTP(t, rn.Registry+"/subjects")
	return rn
}

var (
	restAddrRE     = regexp.MustCompile(`rest proxy listening.*addr=([0-9.]+:[0-9]+)`)
	registryAddrRE = regexp.MustCompile(`schema registry listening.*addr=([0-9.]+:[0-9]+)`)
)

// addrFromLog waits for the last line of the node's log matching re and
// returns its first group.
func addrFromLog(t testing.TB, path string, re *regexp.Regexp) string {
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

// waitHTTP waits until url answers 200 to GET.
func waitHTTP(t testing.TB, url string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
	}
	t.Fatalf("%s never answered 200", url)
}

// answer is an HTTP answer: status, content type, body and the body
// decoded as JSON (nil if it is not JSON).
type answer struct {
	Status      int
	ContentType string
	Body        []byte
	JSON        any
}

// ErrorCode is the body's error_code, 0 if none.
func (a answer) ErrorCode() int {
	if m, ok := a.JSON.(map[string]any); ok {
		if c, ok := m["error_code"].(float64); ok {
			return int(c)
		}
	}
	return 0
}

// Map is the body as a JSON object (nil if it is not one).
func (a answer) Map() map[string]any {
	m, _ := a.JSON.(map[string]any)
	return m
}

// List is the body as a JSON array (nil if it is not one).
func (a answer) List() []any {
	l, _ := a.JSON.([]any)
	return l
}

// String shows the answer in failure messages.
func (a answer) String() string {
	return http.StatusText(a.Status) + " " + a.ContentType + " " + string(a.Body)
}

// call sends one request: method, url, body ("" sends none), its
// Content-Type ("" sends none) and Accept ("" sends none).
func call(t testing.TB, method, url, body, contentType, accept string) answer {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
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
	a := answer{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Body: b}
	if len(bytes.TrimSpace(b)) > 0 {
		_ = json.Unmarshal(b, &a.JSON)
	}
	return a
}

// mustJSON encodes v.
func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
