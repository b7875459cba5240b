package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// mib is the "MB" of Kafka's perf tools; the tables use MB = 10^6 bytes.
const mib = 1 << 20

// producerPerf is the final summary line of ProducerPerformance:
//
//	N records sent, X records/sec (Y MB/sec), A ms avg latency, M ms max latency, P ms 50th, P ms 95th, P ms 99th, P ms 99.9th.
type producerPerf struct {
	records                     int64
	recordsPerSec, mibPerSec    float64
	avgMs, maxMs                float64
	p50Ms, p95Ms, p99Ms, p999Ms float64
}

var producerPerfLine = regexp.MustCompile(`(\d+) records sent, ([\d.]+) records/sec \(([\d.]+) MB/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max latency, ([\d.]+) ms 50th, ([\d.]+) ms 95th, ([\d.]+) ms 99th, ([\d.]+) ms 99\.9th`)

// parseProducerPerf finds the summary line (the last one that matches) in
// ProducerPerformance's output.
func parseProducerPerf(out []byte) (producerPerf, error) {
	var p producerPerf
	m := producerPerfLine.FindAllSubmatch(out, -1)
	if len(m) == 0 {
		return p, errors.New("no ProducerPerformance summary line in its output")
	}
	s := m[len(m)-1]
	f := make([]float64, len(s)-1)
	for i := range f {
		v, err := strconv.ParseFloat(string(s[i+1]), 64)
		if err != nil {
			return p, err
		}
		f[i] = v
	}
	p = producerPerf{
		records: int64(f[0]), recordsPerSec: f[1], mibPerSec: f[2], avgMs: f[3], maxMs: f[4],
		p50Ms: f[5], p95Ms: f[6], p99Ms: f[7], p999Ms: f[8],
	}
	return p, nil
}

// consumerPerf is ConsumerPerformance's result line, keyed by its header:
// start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg,
// nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec.
type consumerPerf map[string]float64

func parseConsumerPerf(out []byte) (consumerPerf, error) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	var header []string
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "start.time,") {
			header = splitCSV(line)
			continue
		}
		if header == nil || line == "" {
			continue
		}
		vals := splitCSV(line)
		if len(vals) != len(header) {
			continue // a log line between header and result
		}
		c := consumerPerf{}
		for i, h := range header {
			if h == "start.time" || h == "end.time" {
				continue
			}
			v, err := strconv.ParseFloat(vals[i], 64)
			if err != nil {
				return nil, fmt.Errorf("ConsumerPerformance %s=%q: %w", h, vals[i], err)
			}
			c[h] = v
		}
		for _, k := range []string{"data.consumed.in.MB", "MB.sec", "data.consumed.in.nMsg", "nMsg.sec", "fetch.MB.sec", "fetch.nMsg.sec"} {
			if _, ok := c[k]; !ok {
				return nil, fmt.Errorf("ConsumerPerformance output lacks %s", k)
			}
		}
		return c, nil
	}
	return nil, errors.New("no ConsumerPerformance result line in its output")
}

func splitCSV(line string) []string {
	f := strings.Split(line, ",")
	for i := range f {
		f[i] = strings.TrimSpace(f[i])
	}
	return f
}

// createTopic creates topic with partitions partitions (replication factor 1)
// through the admin API, for clients that do not create topics themselves.
func createTopic(ctx context.Context, addr, topic string, partitions int32) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	resp, err := adm.CreateTopic(cctx, partitions, 1, nil, topic)
	if err != nil {
		return err
	}
	return resp.Err
}

// prewarmTopic creates topic and writes one record to each of its
// partitions, waiting for every acknowledgement, so that partition set-up
// (log files, leadership) is done before a measured run.
func prewarmTopic(ctx context.Context, addr, topic string, partitions int32) error {
	if err := createTopic(ctx, addr, topic, partitions); err != nil {
		return fmt.Errorf("creating topic %s: %w", topic, err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.RecordDeliveryTimeout(3*time.Minute), kgo.ProduceRequestTimeout(time.Minute))
	if err != nil {
		return err
	}
	defer cl.Close()
	recs := make([]*kgo.Record, partitions)
	for i := range recs {
		recs[i] = &kgo.Record{Topic: topic, Partition: int32(i), Value: []byte("prewarm")}
	}
	pctx, cancel := context.WithTimeout(ctx, 4*time.Minute)
	defer cancel()
	return cl.ProduceSync(pctx, recs...).FirstErr()
}

// runJavaTool runs a Kafka tool main class with the perf-test scripts' JVM
// options, its output going to logPath as well as being returned. A run longer
// than timeout is killed.
func (o *options) runJavaTool(ctx context.Context, timeout time.Duration, logPath, class string, args ...string) ([]byte, error) {
	log4j := filepath.Join(filepath.Dir(logPath), "tools-log4j2.properties")
	if err := os.WriteFile(log4j, []byte(log4j2Properties(filepath.Join(filepath.Dir(logPath), "tools.log"))), 0o644); err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := o.kafkaJava(toolJVMOpts, log4j, class, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-cctx.Done():
		_ = cmd.Process.Kill()
		err = fmt.Errorf("%s: %w", class, cctx.Err())
		<-done
	}
	_ = os.WriteFile(logPath, out.Bytes(), 0o644)
	if err != nil {
		return out.Bytes(), fmt.Errorf("%s: %w\n%s", class, err, lastLines(out.String(), 15))
	}
	return out.Bytes(), nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// producerPerfArgs and consumerPerfArgs are the tools' command lines.
func producerPerfArgs(addr, topic string, records int) []string {
	return []string{"--bootstrap-server", addr, "--topic", topic,
		"--num-records", strconv.Itoa(records), "--record-size", "1024", "--throughput", "-1",
		"--command-property", "acks=all"}
}

func consumerPerfArgs(addr, topic string, records int) []string {
	return []string{"--bootstrap-server", addr, "--topic", topic,
		"--num-records", strconv.Itoa(records), "--timeout", "60000"}
}
