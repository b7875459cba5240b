package restproxy

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/restproxy"
)

// TestV2Concurrency runs a proxy in this process (so that -race watches
// it) against a node: concurrent HTTP producers and a group of consumer
// instances; every record is read exactly once and committed.
func TestV2Concurrency(t *testing.T) {
	n := startRESTNode(t)
	createTopic(t, n.Bootstrap, "conc", 4, nil)
	srv, err := restproxy.New(restproxy.Config{Listen: "127.0.0.1:0", Brokers: []string{n.Bootstrap}, RegistryURL: n.Registry})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	url := srv.URL()

	const producers, requests, perRequest, consumers = 16, 20, 10, 4
	total := producers * requests * perRequest

	var bases []string
	for i := 0; i < consumers; i++ {
		b := newConsumer(t, url, "conc-g", `{"format":"binary","auto.offset.reset":"earliest","auto.commit.enable":"false"}`)
		if a := call(t, "POST", b+"/subscription", `{"topics":["conc"]}`, ctV2, ""); a.Status != 204 {
			t.Fatalf("subscribe: %s", a)
		}
		bases = append(bases, b)
	}

	// Produce once the group is stable (one partition each), so that no
	// rebalance moves a partition with records read but not committed.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		ones := 0
		for _, b := range bases {
			if l, ok := call(t, "GET", b+"/assignments", "", "", "").Map()["partitions"].([]any); ok && len(l) == 1 {
				ones++
			}
		}
		if ones == consumers {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the group never gave each instance one partition")
		}
	}

	errs := make(chan error, producers+consumers)
	var wg sync.WaitGroup
	for p := 0; p < producers; p++ {
		wg.Add(1)
		go func() { // waited below
			defer wg.Done()
			for r := 0; r < requests; r++ {
				var recs []string
				for i := 0; i < perRequest; i++ {
					v := base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("%d-%d-%d", p, r, i)))
					recs = append(recs, `{"key":"`+v+`","value":"`+v+`"}`)
				}
				resp, err := http.Post(url+"/topics/conc", ctBinary, strings.NewReader(`{"records":[`+strings.Join(recs, ",")+`]}`))
				if err != nil {
					errs <- err
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || strings.Contains(string(b), `"error_code":5`) {
					errs <- fmt.Errorf("produce: %d %s", resp.StatusCode, b)
					return
				}
			}
		}()
	}

	var mu sync.Mutex
	seen := map[string]int{}
	count := 0
	done := make(chan struct{})
	for _, b := range bases {
		wg.Add(1)
		go func() { // waited below; stops when everything was read
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				resp, err := http.Get(b + "/records?timeout=1000")
				if err != nil {
					errs <- err
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					errs <- fmt.Errorf("records: %d %s", resp.StatusCode, body)
					return
				}
				vals := valuesOf(body)
				mu.Lock()
				for _, v := range vals {
					seen[v]++
				}
				count += len(vals)
				if count >= total {
					select {
					case <-done:
					default:
						close(done)
					}
				}
				mu.Unlock()
				if len(vals) > 0 {
					if resp, err := http.Post(b+"/offsets", ctV2, nil); err == nil {
						resp.Body.Close()
					}
				}
			}
		}()
	}
	waited := make(chan struct{})
	go func() { // ends when the workers do
		wg.Wait()
		close(waited)
	}()
	select {
	case <-waited:
	case <-time.After(90 * time.Second):
		close(done)
		<-waited
		t.Fatalf("read %d of %d records in 90 s", count, total)
	}
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(seen) != total {
		t.Fatalf("%d distinct records of %d", len(seen), total)
	}
	for v, c := range seen {
		if c != 1 {
			t.Fatalf("record %s read %d times", v, c)
		}
	}
	for _, b := range bases {
		if a := call(t, "DELETE", b, "", "", ""); a.Status != 204 {
			t.Fatalf("delete: %s", a)
		}
	}
	var sum int64
	for _, o := range kafkaCommitted(t, n.Bootstrap, "conc-g") {
		sum += o
	}
	if sum != int64(total) {
		t.Fatalf("committed offsets add up to %d, want %d", sum, total)
	}
}

// valuesOf decodes the base64 values of a binary records answer.
func valuesOf(body []byte) []string {
	var out []string
	for _, part := range strings.Split(string(body), `"value":"`)[1:] {
		v, _ := base64.StdEncoding.DecodeString(part[:strings.IndexByte(part, '"')])
		out = append(out, string(v))
	}
	return out
}
