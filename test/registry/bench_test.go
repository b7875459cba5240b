package registry

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// benchClient is an HTTP client that keeps its connections, as a
// serializer's registry client does.
var benchClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}}

// BenchmarkRegistryGetByID is GET /schemas/ids/{id} with a warm cache,
// from 8 concurrent keep-alive connections: requests per second (goal ≥
// 50,000/s on 2 cores). The load generator is a minimal HTTP/1.1 client
// (one request in flight per connection, as a serializer's client), so
// that the machine's two cores go to the registry rather than to
// net/http's client.
func BenchmarkRegistryGetByID(b *testing.B) {
	n := startBenchNode(b)
	const schemas = 100
	for i := range schemas {
		benchRegister(b, n.URL, fmt.Sprintf("bench-%d", i), benchRecord(i, 0))
	}
	addr := strings.TrimPrefix(n.URL, "http://")
	var next atomic.Int64
	b.SetParallelism(4) // 4 × GOMAXPROCS(2) = 8 connections
	cpu0 := cpuTimeOf(b, n.PID())
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			b.Error(err)
			return
		}
		defer c.Close()
		br := bufio.NewReaderSize(c, 16<<10)
		req := make([]byte, 0, 128)
		for pb.Next() {
			id := next.Add(1)%schemas + 1
			req = append(req[:0], "GET /schemas/ids/"...)
			req = strconv.AppendInt(req, id, 10)
			req = append(req, " HTTP/1.1\r\nHost: registry\r\n\r\n"...)
			if _, err := c.Write(req); err != nil {
				b.Error(err)
				return
			}
			if err := readHTTPAnswer(br); err != nil {
				b.Errorf("GET id %d: %v", id, err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
	// The node's own CPU per request: what the registry would need with
	// the load generator elsewhere (1e6 / this = requests/s per core).
	b.ReportMetric(float64((cpuTimeOf(b, n.PID())-cpu0).Microseconds())/float64(b.N), "server-µs/req")
}

// cpuTimeOf is the user+system CPU time pid has used (/proc/PID/stat,
// in clock ticks of 10 ms).
func cpuTimeOf(tb testing.TB, pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		tb.Fatal(err)
	}
	// Fields after the command name (which may hold spaces): utime is
	// the 12th and stime the 13th after ")".
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// readHTTPAnswer reads one HTTP/1.1 answer with a Content-Length and
// fails unless its status is 200.
func readHTTPAnswer(br *bufio.Reader) error {
	status, err := br.ReadSlice('\n')
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(status, []byte("HTTP/1.1 200 ")) {
		return fmt.Errorf("status %q", bytes.TrimSpace(status))
	}
	length := -1
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return err
		}
		if len(line) <= 2 {
			break
		}
		if v, ok := bytes.CutPrefix(line, []byte("Content-Length: ")); ok {
			length, _ = strconv.Atoi(string(bytes.TrimSpace(v)))
		}
	}
	if length < 0 {
		return fmt.Errorf("no Content-Length")
	}
	_, err = br.Discard(length)
	return err
}

// BenchmarkRegistryRegister is POST /subjects/{s}/versions of a new
// compatible version, one at a time: p50 and p99 latency. Each write is a
// Kafka transaction on _schemas that the registry reads back before
// answering.
func BenchmarkRegistryRegister(b *testing.B) {
	n := startBenchNode(b)
	benchRegister(b, n.URL, "warm", benchRecord(0, 0)) // the election and topic
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		t0 := time.Now()
		benchRegister(b, n.URL, "lat", benchRecord(0, i+1))
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkRegistryRSS is the resident memory of a `samsa registry`
// process that has loaded 10,000 subjects × 5 versions from _schemas
// (written there in Confluent's record format, as a mirrored _schemas
// would be), against an idle one.
func BenchmarkRegistryRSS(b *testing.B) {
	n := startBenchNode(b)
	const subjects, versions = 10000, 5
	cl := n.Client(b)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := benchCreateSchemasTopic(ctx, cl); err != nil {
		b.Fatal(err)
	}
	idle := benchRegistryProcess(b, n.Addr, "idle-registry", 0)
	id := 0
	var recs []*kgo.Record
	for s := range subjects {
		for v := 1; v <= versions; v++ {
			id++
			subject := fmt.Sprintf("subject-%05d-value", s)
			key, _ := json.Marshal(map[string]any{"keytype": "SCHEMA", "subject": subject, "version": v, "magic": 1})
			val, _ := json.Marshal(map[string]any{"subject": subject, "version": v, "id": id, "schema": benchRecord(s, v), "deleted": false})
			recs = append(recs, &kgo.Record{Topic: "_schemas", Key: key, Value: val})
		}
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		b.Fatal(err)
	}
	// One load whatever b.N is: the figure is memory, not time.
	b.ResetTimer()
	rss := benchRegistryProcess(b, n.Addr, "loaded-registry", id)
	b.ReportMetric(float64(rss)/(1<<20), "MiB-loaded")
	b.ReportMetric(float64(idle)/(1<<20), "MiB-idle")
}

func startBenchNode(b *testing.B) *node {
	b.Helper()
	cn := clustertest.Start(b, clustertest.Options{
		Args: []string{"--admin-listen", "none", "--registry-listen", "127.0.0.1:0"},
	})
	return &node{Node: cn, URL: "http://" + registryAddrFromLogTB(b, cn.LogPath)}
}

// registryAddrFromLogTB is registryAddrFromLog for benchmarks.
func registryAddrFromLogTB(tb testing.TB, path string) string {
	tb.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		data, _ := os.ReadFile(path)
		if m := registryAddrRE.FindAllSubmatch(data, -1); len(m) > 0 {
			return string(m[len(m)-1][1])
		}
	}
	tb.Fatalf("no schema registry address in %s", path)
	return ""
}

// benchRecord is an Avro record schema; version v adds v optional fields.
func benchRecord(i, v int) string {
	fields := []string{`{"name":"id","type":"long"}`, `{"name":"name","type":"string"}`}
	for f := range v {
		fields = append(fields, fmt.Sprintf(`{"name":"f%d","type":["null","string"],"default":null}`, f))
	}
	return fmt.Sprintf(`{"type":"record","name":"Rec%d","namespace":"bench","fields":[%s]}`, i, strings.Join(fields, ","))
}

func benchRegister(tb testing.TB, url, subject, schema string) {
	body, _ := json.Marshal(map[string]string{"schema": schema})
	resp, err := benchClient.Post(url+"/subjects/"+subject+"/versions", "application/vnd.schemaregistry.v1+json", strings.NewReader(string(body)))
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		tb.Fatalf("register %s: %d %s", subject, resp.StatusCode, rb)
	}
}

func benchCreateSchemasTopic(ctx context.Context, cl *kgo.Client) error {
	resp := cl.RequestSharded(ctx, createTopicReq("_schemas"))
	for _, r := range resp {
		if r.Err != nil {
			return r.Err
		}
	}
	return nil
}

// benchRegistryProcess runs `samsa registry` against addr until it has
// loaded wantSchemas schemas (GET /schemas/ids/{wantSchemas} answers), and
// returns its resident memory.
func benchRegistryProcess(b *testing.B, addr, name string, wantSchemas int) int64 {
	b.Helper()
	dir := b.TempDir()
	logPath := filepath.Join(dir, name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		b.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(clustertest.Binary(b), "registry", "--brokers", addr, "--listen", "127.0.0.1:0", "--group-id", name)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	url := "http://" + registryAddrFromLogTB(b, logPath)
	path := "/subjects"
	if wantSchemas > 0 {
		path = "/schemas/ids/" + strconv.Itoa(wantSchemas)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		resp, err := benchClient.Get(url + path)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			b.Fatalf("%s never loaded %d schemas", name, wantSchemas)
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(time.Second) // let the heap settle
	return rssOf(b, cmd.Process.Pid)
}

// rssOf reads VmRSS of pid from /proc.
func rssOf(tb testing.TB, pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	tb.Fatalf("no VmRSS for %d", pid)
	return 0
}

// createTopicReq is a CreateTopics request for a compacted one-partition
// topic, as the registry makes _schemas.
func createTopicReq(name string) *kmsg.CreateTopicsRequest {
	req := kmsg.NewPtrCreateTopicsRequest()
	t := kmsg.NewCreateTopicsRequestTopic()
	t.Topic, t.NumPartitions, t.ReplicationFactor = name, 1, 1
	v := "compact"
	t.Configs = []kmsg.CreateTopicsRequestTopicConfig{{Name: "cleanup.policy", Value: &v}}
	req.Topics = append(req.Topics, t)
	req.TimeoutMillis = 10000
	return req
}
