package node

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/twmb/franz-go/pkg/kgo"
)

// batchOverhead is a v2 record batch's header: franz-go's batch metrics
// count the records only, Kafka's BytesIn the whole batch.
const batchOverhead = 61

// sentBytes counts what a producer sent per topic, from franz-go's hooks.
type sentBytes struct {
	mu      sync.Mutex
	bytes   map[string]int
	records map[string]int
}

func (s *sentBytes) OnProduceBatchWritten(_ kgo.BrokerMetadata, topic string, _ int32, m kgo.ProduceBatchMetrics) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bytes[topic] += m.CompressedBytes + batchOverhead
	s.records[topic] += m.NumRecords
}

// TestBrokerMetrics: after producing records of known size to two topics
// and consuming them, /metrics parses, passes promlint, and its values
// match the
// workload: BrokerTopicMetrics per topic and in total, the replica
// manager's counts, log sizes, request times, connections, the active
// controller and raft state.
func TestBrokerMetrics(t *testing.T) {
	cfg := singleConfig(t, t.TempDir())
	cfg.AdminListen = "127.0.0.1:0"
	n, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	boot := []string{n.Addr()}
	createTopic(t, boot, "ma", 2, 1)
	createTopic(t, boot, "mb", 1, 1)

	sent := &sentBytes{bytes: map[string]int{}, records: map[string]int{}}
	cl, err := kgo.NewClient(kgo.SeedBrokers(boot...), kgo.WithHooks(sent),
		kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	want := map[string]int{"ma": 300, "mb": 120}
	for topic, cnt := range want {
		var rs []*kgo.Record
		for i := range cnt {
			rs = append(rs, &kgo.Record{Topic: topic, Value: fmt.Appendf(nil, "%d-%s", i, strings.Repeat("x", 100+i%7))})
		}
		if err := cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	cl.Close()
	for topic, cnt := range want {
		consumeAll(t, boot, topic, cnt)
	}

	body := scrape(t, n.AdminAddr())
	fams := parseExposition(t, body)
	lintExposition(t, body)

	for topic, cnt := range want {
		if got := value(t, fams, "kafka_server_brokertopicmetrics_bytesin_total", "topic", topic); got != float64(sent.bytes[topic]) {
			t.Errorf("bytesin{topic=%s} = %v, sent %d", topic, got, sent.bytes[topic])
		}
		if got := value(t, fams, "kafka_server_brokertopicmetrics_messagesin_total", "topic", topic); got != float64(cnt) || sent.records[topic] != cnt {
			t.Errorf("messagesin{topic=%s} = %v, sent %d", topic, got, cnt)
		}
		if got := value(t, fams, "kafka_server_brokertopicmetrics_bytesout_total", "topic", topic); got < float64(sent.bytes[topic]) {
			t.Errorf("bytesout{topic=%s} = %v, below the %d bytes consumed", topic, got, sent.bytes[topic])
		}
		for _, name := range []string{"totalproducerequests", "totalfetchrequests"} {
			if got := value(t, fams, "kafka_server_brokertopicmetrics_"+name+"_total", "topic", topic); got <= 0 {
				t.Errorf("%s{topic=%s} = %v", name, topic, got)
			}
		}
		if got := value(t, fams, "kafka_server_brokertopicmetrics_failedproducerequests_total", "topic", topic); got != 0 {
			t.Errorf("failedproducerequests{topic=%s} = %v", topic, got)
		}
	}
	if got, w := value(t, fams, "kafka_server_brokertopicmetrics_bytesin_total"), sent.bytes["ma"]+sent.bytes["mb"]; got != float64(w) {
		t.Errorf("bytesin total = %v, want %d", got, w)
	}
	if got := value(t, fams, "kafka_server_brokertopicmetrics_messagesin_total"); got != 420 {
		t.Errorf("messagesin total = %v, want 420", got)
	}
	for name, w := range map[string]float64{
		"kafka_server_replicamanager_leadercount":                 1 * 3,
		"kafka_server_replicamanager_partitioncount":              3,
		"kafka_server_replicamanager_underreplicatedpartitions":   0,
		"kafka_controller_kafkacontroller_activecontrollercount":  1,
		"kafka_controller_kafkacontroller_offlinepartitionscount": 0,
		"kafka_controller_kafkacontroller_globaltopiccount":       2,
		"kafka_server_raftmetrics_current_leader":                 1,
	} {
		if got := value(t, fams, name); got != w {
			t.Errorf("%s = %v, want %v", name, got, w)
		}
	}
	for _, tp := range [][2]string{{"ma", "0"}, {"ma", "1"}, {"mb", "0"}} {
		if got := value(t, fams, "kafka_log_log_size", "topic", tp[0], "partition", tp[1]); got <= 0 {
			t.Errorf("log size of %s-%s = %v", tp[0], tp[1], got)
		}
		if got := value(t, fams, "kafka_cluster_partition_replicascount", "topic", tp[0], "partition", tp[1]); got != 1 {
			t.Errorf("replicascount of %s-%s = %v", tp[0], tp[1], got)
		}
		if got := value(t, fams, "kafka_cluster_partition_atminisr", "topic", tp[0], "partition", tp[1]); got != 1 {
			t.Errorf("atminisr of %s-%s = %v (min.insync.replicas 1, one replica)", tp[0], tp[1], got)
		}
	}
	for _, req := range []string{"Produce", "FetchConsumer", "Metadata"} {
		if got := value(t, fams, "kafka_network_requestmetrics_totaltimems", "request", req, "quantile", "0.99"); got <= 0 {
			t.Errorf("totaltimems{request=%s,quantile=0.99} = %v", req, got)
		}
		if got := value(t, fams, "kafka_network_requestmetrics_totaltimems_count", "request", req); got <= 0 {
			t.Errorf("totaltimems_count{request=%s} = %v", req, got)
		}
	}
	if got := value(t, fams, "kafka_server_raftmetrics_high_watermark"); got <= 0 {
		t.Errorf("raft high watermark = %v", got)
	}
	for _, name := range []string{"kafka_server_kafkarequesthandlerpool_requesthandleravgidle_percent", "kafka_network_socketserver_networkprocessoravgidle_percent"} {
		if got := value(t, fams, name); got <= 0 || got > 1 {
			t.Errorf("%s = %v, want in (0, 1]", name, got)
		}
	}
	value(t, fams, "kafka_server_socket_server_metrics_connection_count", "listener", "PLAINTEXT")
	value(t, fams, "kafka_server_kafkaserver_linux_disk_write_bytes")
	for _, h := range []string{"samsa_produce_latency_seconds", "samsa_fetch_latency_seconds", "samsa_fsync_latency_seconds"} {
		f := fams[h]
		if f == nil || f.GetType() != dto.MetricType_HISTOGRAM || f.Metric[0].GetHistogram().GetSampleCount() == 0 {
			t.Errorf("%s: missing or empty: %v", h, f)
		}
	}
	for _, name := range []string{
		"kafka_controller_controllerstats_uncleanleaderelections_total",
		"kafka_server_raftmetrics_current_epoch", "kafka_server_raftmetrics_current_vote",
		"kafka_server_raftmetrics_log_end_offset", "kafka_server_raftmetrics_commit_latency_avg",
		"kafka_server_raftmetrics_append_records_rate", "kafka_server_raftmetrics_fetch_records_rate",
		"kafka_server_raftchannelmetrics_incoming_byte_total", "kafka_server_raftchannelmetrics_outgoing_byte_total",
		"kafka_server_raftchannelmetrics_request_total", "kafka_server_raftchannelmetrics_response_total",
		"kafka_cluster_partition_underminisr", "kafka_server_kafkaserver_linux_disk_read_bytes",
	} {
		if fams[name] == nil {
			t.Errorf("%s missing", name)
		}
	}
}

func scrape(t testing.TB, addr string) string {
	t.Helper()
	code, body := httpGet(t.(*testing.T), "http://"+addr+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d %s", code, body)
	}
	return body
}

func parseExposition(t *testing.T, body string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("exposition does not parse: %v", err)
	}
	return fams
}

// lintExposition fails on any problem promlint (promtool check metrics'
// linter) finds. Kafka's names it would refuse for typed metrics (a
// quantile label outside a summary, a _count suffix outside a histogram)
// are exposed untyped (internal/metrics/doc.go).
func lintExposition(t *testing.T, body string) {
	t.Helper()
	problems, err := promlint.New(strings.NewReader(body)).Lint()
	if err != nil {
		t.Fatalf("promlint: %v", err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
}

// value is the one sample of name with exactly the given labels
// (name=value pairs).
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	t.Helper()
	f := fams[name]
	if f == nil {
		t.Fatalf("%s missing", name)
	}
next:
	for _, m := range f.Metric {
		if len(m.Label) != len(labels)/2 {
			continue
		}
		for i := 0; i < len(labels); i += 2 {
			found := false
			for _, l := range m.Label {
				found = found || l.GetName() == labels[i] && l.GetValue() == labels[i+1]
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Untyped != nil:
			return m.Untyped.GetValue()
		}
	}
	t.Fatalf("%s%v missing", name, fmt.Sprint(labels))
	return 0
}

// TestClusterMetrics: in a 3-node cluster exactly one node is the active
// controller, every node agrees on the raft leader and epoch, the raft
// transport counts traffic both ways, and the leaders of a replicated
// topic add up to its partitions, each reporting 3 replicas.
func TestClusterMetrics(t *testing.T) {
	nodes := startClusterWith(t, 3, func(c *Config) { c.AdminListen = "127.0.0.1:0" })
	boot := []string{nodes[0].Addr()}
	createTopic(t, boot, "mc", 3, 3)
	produce(t, boot, "mc", "r", 30)
	deadline := time.Now().Add(20 * time.Second)
	for {
		var active, leaders, replicas float64
		leader, epoch := map[float64]bool{}, map[float64]bool{}
		fams := make([]map[string]*dto.MetricFamily, len(nodes))
		for i, n := range nodes {
			fams[i] = parseExposition(t, scrape(t, n.AdminAddr()))
			f := fams[i]
			active += value(t, f, "kafka_controller_kafkacontroller_activecontrollercount")
			leaders += value(t, f, "kafka_server_replicamanager_leadercount")
			leader[value(t, f, "kafka_server_raftmetrics_current_leader")] = true
			epoch[value(t, f, "kafka_server_raftmetrics_current_epoch")] = true
			for p := range 3 {
				replicas += value(t, f, "kafka_cluster_partition_replicascount", "topic", "mc", "partition", fmt.Sprint(p))
			}
		}
		ok := active == 1 && leaders == 3 && replicas == 9 && len(leader) == 1 && len(epoch) == 1
		if ok {
			for i := range nodes {
				f := fams[i]
				if value(t, f, "kafka_server_replicamanager_partitioncount") != 3 ||
					value(t, f, "kafka_server_raftchannelmetrics_request_total") <= 0 ||
					value(t, f, "kafka_server_raftchannelmetrics_incoming_byte_total") <= 0 {
					t.Fatalf("node %d: partitions, or raft traffic, missing", i+1)
				}
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("active controllers %v, leaders %v, replicas on leaders %v, raft leaders %v, epochs %v", active, leaders, replicas, leader, epoch)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
