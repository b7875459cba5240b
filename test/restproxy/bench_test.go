package restproxy

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// The REST proxy's benchmarks (issue #15, Performance) run against a real
// `samsa serve` and measure, in the same iterations, the proxy and native
// franz-go moving the same records: 1 KiB values, 100 records a request
// (a ProduceSync of 100 records natively). Each reports records/s and
// MB/s (value bytes) for both, and the ratio proxy/native.

const (
	benchRecordSize = 1024
	benchBatch      = 100
)

// meter adds up records, value bytes and time.
type meter struct {
	records, bytes int64
	dur            time.Duration
}

func (m *meter) add(records, bytes int, d time.Duration) {
	m.records += int64(records)
	m.bytes += int64(bytes)
	m.dur += d
}

func (m *meter) rate() float64 { return float64(m.records) / m.dur.Seconds() }
func (m *meter) mbs() float64  { return float64(m.bytes) / 1e6 / m.dur.Seconds() }

// report puts the proxy's and native numbers and their ratio on b.
func report(b *testing.B, proxy, native *meter) {
	if proxy.dur == 0 || native.dur == 0 {
		b.Fatal("nothing measured")
	}
	b.ReportMetric(proxy.rate(), "rest_records/s")
	b.ReportMetric(proxy.mbs(), "rest_MB/s")
	b.ReportMetric(native.rate(), "native_records/s")
	b.ReportMetric(native.mbs(), "native_MB/s")
	b.ReportMetric(proxy.rate()/native.rate(), "rest/native")
}

// benchValues are benchBatch values of benchRecordSize bytes: random
// bytes, or JSON objects {"i":…,"payload":"…"} for json.
func benchValues(json bool) [][]byte {
	rng := rand.New(rand.NewSource(1))
	out := make([][]byte, benchBatch)
	for i := range out {
		if json {
			prefix := fmt.Sprintf(`{"i":%d,"payload":"`, i)
			pad := make([]byte, benchRecordSize-len(prefix)-2)
			for j := range pad {
				pad[j] = 'a' + byte(rng.Intn(26))
			}
			out[i] = []byte(prefix + string(pad) + `"}`)
		} else {
			out[i] = make([]byte, benchRecordSize)
			rng.Read(out[i])
		}
	}
	return out
}

// benchBody is the v2 produce body of values in format binary or json.
func benchBody(values [][]byte, json bool) []byte {
	var b bytes.Buffer
	b.WriteString(`{"records":[`)
	for i, v := range values {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"value":`)
		if json {
			b.Write(v)
		} else {
			b.WriteByte('"')
			b.WriteString(base64.StdEncoding.EncodeToString(v))
			b.WriteByte('"')
		}
		b.WriteByte('}')
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

// benchNode starts the node and a topic with one partition, and returns
// a keep-alive HTTP client and a franz-go client.
func benchNode(b *testing.B, topic string) (*restNode, *http.Client, *kgo.Client) {
	b.Helper()
	var args []string
	if addr := os.Getenv("SAMSA_BENCH_PPROF"); addr != "" {
		// For profiling the node: curl http://ADDR/debug/pprof/profile
		// while the benchmark runs.
		args = append(args, "--pprof", addr)
	}
	n := startRESTNode(b, args...)
	createTopic(b, n.Bootstrap, topic, 1, nil)
	tr := &http.Transport{MaxIdleConnsPerHost: 4}
	b.Cleanup(tr.CloseIdleConnections)
	cl, err := kgo.NewClient(kgo.SeedBrokers(n.Bootstrap), kgo.DefaultProduceTopic(topic), kgo.ProducerLinger(0))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(cl.Close)
	return n, &http.Client{Transport: tr, Timeout: time.Minute}, cl
}

// benchWave is how many requests (or native ProduceSyncs) are in flight
// at once: a single request waits out the proxy's 5 ms linger, so the
// proxy's throughput shows with several clients, as it is used.
const benchWave = 8

// wave runs f benchWave times concurrently and returns how long the
// slowest took.
func wave(b *testing.B, f func() error) time.Duration {
	errs := make(chan error, benchWave)
	start := time.Now()
	for i := 0; i < benchWave; i++ {
		go func() { errs <- f() }() // waited below
	}
	for i := 0; i < benchWave; i++ {
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	}
	return time.Since(start)
}

// BenchmarkRESTV2Produce: v2 batch produce, 8 requests of 100 × 1 KiB
// records in flight, in binary (base64) and json, next to 8 concurrent
// franz-go ProduceSyncs of the same 100 values, alternating in every
// iteration (an iteration is one wave of each: 800 records each way).
func BenchmarkRESTV2Produce(b *testing.B) {
	for _, format := range []string{"binary", "json"} {
		b.Run(format, func(b *testing.B) {
			isJSON := format == "json"
			n, hc, cl := benchNode(b, "bench-"+format)
			values := benchValues(isJSON)
			body := benchBody(values, isJSON)
			ct := map[bool]string{false: ctBinary, true: ctJSON}[isJSON]
			url := n.URL + "/topics/bench-" + format
			const per = benchWave * benchBatch
			var proxy, native meter
			b.SetBytes(2 * per * benchRecordSize)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				proxy.add(per, per*benchRecordSize, wave(b, func() error { return postProduce(hc, url, ct, body) }))
				native.add(per, per*benchRecordSize, wave(b, func() error { return nativeProduce(cl, values) }))
			}
			b.StopTimer()
			report(b, &proxy, &native)
		})
	}
}

// postProduce sends one v2 produce request and checks every record's
// answer.
func postProduce(hc *http.Client, url, ct string, body []byte) error {
	resp, err := hc.Post(url, ct, bytes.NewReader(body))
	if err != nil {
		return err
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var ans struct {
		Offsets []struct {
			ErrorCode *int `json:"error_code"`
		} `json:"offsets"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(out, &ans) != nil || len(ans.Offsets) != benchBatch {
		return fmt.Errorf("POST %s: %d %.300s", url, resp.StatusCode, out)
	}
	for _, o := range ans.Offsets {
		if o.ErrorCode != nil {
			return fmt.Errorf("POST %s: %.300s", url, out)
		}
	}
	return nil
}

// nativeProduce produces values with one ProduceSync.
func nativeProduce(cl *kgo.Client, values [][]byte) error {
	recs := make([]*kgo.Record, len(values))
	for i, v := range values {
		recs[i] = &kgo.Record{Value: v}
	}
	return cl.ProduceSync(context.Background(), recs...).FirstErr()
}

// consumeBacklog bounds the records BenchmarkRESTV2Consume produces
// (100 MiB): a larger b.N reads them again, from the beginning, instead of
// filling the disk.
const consumeBacklog = 100 * 1024

// BenchmarkRESTV2Consume: b.N × 100 records of 1 KiB read by a v2
// consumer instance (binary, GET after GET) and by a franz-go consumer,
// from a backlog of at most consumeBacklog records produced natively
// (untimed) first and read again from its start (untimed seeks) until
// b.N × 100 are read: throughput over the reads.
func BenchmarkRESTV2Consume(b *testing.B) {
	n, hc, cl := benchNode(b, "bench-consume")
	values := benchValues(false)
	base := newConsumer(b, n.URL, "bench-g", `{"format":"binary","auto.offset.reset":"earliest","auto.commit.enable":"false"}`)
	if a := call(b, "POST", base+"/subscription", `{"topics":["bench-consume"]}`, ctV2, ""); a.Status != 204 {
		b.Fatalf("subscribe: %s", a)
	}
	reader, err := kgo.NewClient(kgo.SeedBrokers(n.Bootstrap),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"bench-consume": {0: kgo.NewOffset().AtStart()}}))
	if err != nil {
		b.Fatal(err)
	}
	defer reader.Close()
	// Warm up: the instance's first GET joins the group.
	if err := nativeProduce(cl, values); err != nil {
		b.Fatal(err)
	}
	restRead(b, hc, base, benchBatch)
	nativeRead(b, reader, benchBatch)

	b.StopTimer()
	total := b.N * benchBatch
	backlog := min(total, consumeBacklog) // after the warm-up's records
	for i := 0; i < backlog/benchBatch; i++ {
		if err := nativeProduce(cl, values); err != nil {
			b.Fatal(err)
		}
	}
	var proxy, native meter
	b.SetBytes(2 * benchBatch * benchRecordSize)
	b.ResetTimer()
	b.StartTimer()
	for done := 0; done < total; {
		want := backlog
		if done > 0 { // read the backlog again, and the warm-up's records before it
			b.StopTimer()
			rewind(b, base, reader)
			b.StartTimer()
			want += benchBatch
		}
		start := time.Now()
		restRead(b, hc, base, want)
		proxy.add(want, want*benchRecordSize, time.Since(start))
		start = time.Now()
		nativeRead(b, reader, want)
		native.add(want, want*benchRecordSize, time.Since(start))
		done += want
	}
	b.StopTimer()
	report(b, &proxy, &native)
}

// rewind moves the v2 consumer instance at base and the franz-go reader
// back to the start of bench-consume.
func rewind(b *testing.B, base string, reader *kgo.Client) {
	if a := call(b, "POST", base+"/positions/beginning", `{"partitions":[{"topic":"bench-consume","partition":0}]}`, ctV2, ""); a.Status != 204 {
		b.Fatalf("seek to beginning: %s", a)
	}
	reader.SetOffsets(map[string]map[int32]kgo.EpochOffset{"bench-consume": {0: {Epoch: -1, Offset: 0}}})
}

// restRead GETs records until it has read want (binary, 1 KiB values).
func restRead(b *testing.B, hc *http.Client, base string, want int) {
	for got := 0; got < want; {
		req, _ := http.NewRequest("GET", base+"/records?timeout=5000", nil)
		req.Header.Set("Accept", ctBinary)
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		var recs []struct {
			Value string `json:"value"`
		}
		err = json.NewDecoder(resp.Body).Decode(&recs)
		resp.Body.Close()
		if resp.StatusCode != 200 || err != nil {
			b.Fatalf("GET records: %d %v", resp.StatusCode, err)
		}
		for _, r := range recs {
			if base64.StdEncoding.DecodedLen(len(r.Value)) < benchRecordSize {
				b.Fatalf("a %d-character value", len(r.Value))
			}
		}
		got += len(recs)
		if got > want {
			b.Fatalf("read %d records, want %d", got, want)
		}
	}
}

// nativeRead polls until it has read want records.
func nativeRead(b *testing.B, cl *kgo.Client, want int) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for got := 0; got < want; {
		fs := cl.PollRecords(ctx, want-got)
		if err := ctx.Err(); err != nil {
			b.Fatalf("native read %d of %d: %v", got, want, err)
		}
		fs.EachError(func(t string, p int32, err error) { b.Fatalf("fetch %s/%d: %v", t, p, err) })
		got += fs.NumRecords()
	}
}

// streamRounds is how many times BenchmarkRESTV3StreamingProduce
// alternates between the proxy and native franz-go, so that both see the
// same load of a shared machine.
const streamRounds = 4

// BenchmarkRESTV3StreamingProduce: b.N × 100 records of 1 KiB (BINARY as
// base64, or JSON), in streamRounds chunked v3 requests reading the
// in-order delivery reports as they come, each next to franz-go producing
// as many records asynchronously (Produce, then Flush). Goal: the proxy
// at 50% of native or more.
func BenchmarkRESTV3StreamingProduce(b *testing.B) {
	for _, format := range []string{"binary", "json"} {
		b.Run(format, func(b *testing.B) {
			isJSON := format == "json"
			topic := "bench3-" + format
			n, hc, cl := benchNode(b, topic)
			values := benchValues(isJSON)
			lines := make([][]byte, len(values))
			for i, v := range values {
				if isJSON {
					lines[i] = []byte(`{"value":{"type":"JSON","data":` + string(v) + `}}`)
				} else {
					lines[i] = []byte(`{"value":{"type":"BINARY","data":"` + base64.StdEncoding.EncodeToString(v) + `"}}`)
				}
			}
			url := n.URL + "/v3/clusters/" + clusterID(b, n.URL) + "/topics/" + topic + "/records"
			var proxy, native meter
			var proxyCPU, nativeCPU [2]time.Duration // node, load generator
			b.SetBytes(2 * benchBatch * benchRecordSize)
			b.ResetTimer()
			for round := 0; round < streamRounds; round++ {
				total := b.N * benchBatch / streamRounds
				start, cpu := time.Now(), benchCPU(b, n)
				streamProduce(b, hc, url, lines, total)
				proxy.add(total, total*benchRecordSize, time.Since(start))
				proxyCPU = addCPU(proxyCPU, benchCPU(b, n), cpu)
				start, cpu = time.Now(), benchCPU(b, n)
				nativeStream(b, cl, values, total)
				native.add(total, total*benchRecordSize, time.Since(start))
				nativeCPU = addCPU(nativeCPU, benchCPU(b, n), cpu)
			}
			b.StopTimer()
			report(b, &proxy, &native)
			// CPU (node and load generator) per record: on a shared
			// machine, the ratio that wall-clock rates would show on
			// cores of their own.
			perRec := func(d time.Duration, m *meter) float64 { return float64(d.Nanoseconds()) / 1e3 / float64(m.records) }
			b.ReportMetric(perRec(proxyCPU[0], &proxy), "rest_node_cpu-µs/rec")
			b.ReportMetric(perRec(proxyCPU[0]+proxyCPU[1], &proxy), "rest_cpu-µs/rec")
			b.ReportMetric(perRec(nativeCPU[0], &native), "native_node_cpu-µs/rec")
			b.ReportMetric(perRec(nativeCPU[0]+nativeCPU[1], &native), "native_cpu-µs/rec")
			b.ReportMetric(perRec(nativeCPU[0]+nativeCPU[1], &native)/perRec(proxyCPU[0]+proxyCPU[1], &proxy), "rest/native_cpu")
		})
	}
}

// benchCPU is the user and system CPU time the node and this process
// (the load generator) have used (/proc/PID/stat, clock ticks of 10 ms).
func benchCPU(b *testing.B, n *restNode) [2]time.Duration {
	var out [2]time.Duration
	for i, pid := range []int{n.PID(), os.Getpid()} {
		st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			b.Fatal(err)
		}
		// utime and stime are the 12th and 13th fields after the command
		// name (which may hold spaces).
		f := strings.Fields(string(st[bytes.LastIndexByte(st, ')')+1:]))
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		sys, _ := strconv.ParseInt(f[12], 10, 64)
		out[i] = time.Duration(ut+sys) * 10 * time.Millisecond
	}
	return out
}

// addCPU adds the CPU used between from and to to sum.
func addCPU(sum, to, from [2]time.Duration) [2]time.Duration {
	return [2]time.Duration{sum[0] + to[0] - from[0], sum[1] + to[1] - from[1]}
}

// streamProduce sends total records (cycling through lines) in one
// streaming request and checks the total reports, in order, all 200.
func streamProduce(b *testing.B, hc *http.Client, url string, lines [][]byte, total int) {
	req, _ := http.NewRequest("POST", url, newStreamBody(lines, total))
	req.ContentLength = -1 // chunked
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		body, _ := io.ReadAll(resp.Body)
		b.Fatalf("streaming produce: %d %.300s", resp.StatusCode, body)
	}
	// A report is a line; a client that only needs to know each record
	// went through checks its error_code, without decoding the rest (the
	// load generator shares the cores with the node).
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	ok := []byte(`{"error_code":200,`)
	for i := 0; i < total; i++ {
		if !sc.Scan() || !bytes.HasPrefix(sc.Bytes(), ok) {
			b.Fatalf("report %d of %d: %v %.300s", i, total, sc.Err(), sc.Bytes())
		}
	}
	if sc.Scan() {
		b.Fatalf("more than %d reports: %.300s", total, sc.Bytes())
	}
}

// streamBody is the body of a streaming request: total records cycling
// through lines, which it holds back to back in one block. net/http's
// transport copies a body with its WriteTo, so each write is a whole pass
// through the lines (one chunk) straight from the block, as a client
// streaming records it has in memory would send them.
type streamBody struct {
	block []byte // the lines, back to back
	ends  []int  // where each line ends in block
	total int    // records to send
	done  int    // records sent
	off   int    // bytes of the next record sent already
}

func newStreamBody(lines [][]byte, total int) *streamBody {
	s := &streamBody{total: total}
	for _, l := range lines {
		s.block = append(s.block, l...)
		s.ends = append(s.ends, len(s.block))
	}
	return s
}

// rest is what remains of the current pass through the lines.
func (s *streamBody) rest() []byte {
	if s.done == s.total {
		return nil
	}
	i := s.done % len(s.ends)
	start := s.off
	if i > 0 {
		start += s.ends[i-1]
	}
	last := min(len(s.ends), i+s.total-s.done) - 1
	return s.block[start:s.ends[last]]
}

// advance marks n bytes of rest() sent.
func (s *streamBody) advance(n int) {
	for n > 0 {
		i := s.done % len(s.ends)
		size := s.ends[i]
		if i > 0 {
			size -= s.ends[i-1]
		}
		if step := size - s.off; n >= step {
			n -= step
			s.done++
			s.off = 0
		} else {
			s.off += n
			n = 0
		}
	}
}

func (s *streamBody) Read(p []byte) (int, error) {
	r := s.rest()
	if len(r) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r)
	s.advance(n)
	return n, nil
}

func (s *streamBody) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for r := s.rest(); len(r) > 0; r = s.rest() {
		n, err := w.Write(r)
		total += int64(n)
		s.advance(n)
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// nativeStream produces total records (cycling through values)
// asynchronously and flushes.
func nativeStream(b *testing.B, cl *kgo.Client, values [][]byte, total int) {
	ctx := context.Background()
	errs := make(chan error, 1)
	for i := 0; i < total; i++ {
		cl.Produce(ctx, &kgo.Record{Value: values[i%len(values)]}, func(_ *kgo.Record, err error) {
			if err != nil {
				select {
				case errs <- err:
				default:
				}
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
}
