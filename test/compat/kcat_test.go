package compat

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// kcatPath finds kcat (SAMSA_COMPAT_KCAT, else PATH).
func kcatPath(t testing.TB) string {
	t.Helper()
	clustertest.SkipInShort(t, "runs kcat")
	if p := os.Getenv("SAMSA_COMPAT_KCAT"); p != "" {
		return p
	}
	p, err := exec.LookPath("kcat")
	requireTool(t, "kcat", err, "make deps-kcat")
	return p
}

// kcatRecord is kcat's -J consumer output.
type kcatRecord struct {
	Partition int32    `json:"partition"`
	Offset    int64    `json:"offset"`
	TsType    string   `json:"tstype"`
	Ts        int64    `json:"ts"`
	Headers   []string `json:"headers"` // name, value, name, value...
	Key       *string  `json:"key"`
	Payload   *string  `json:"payload"`
}

func (k kcatRecord) consumed(t testing.TB) consumed {
	c := consumed{Partition: k.Partition, Offset: k.Offset, Timestamp: k.Ts, Key: k.Key, Value: k.Payload}
	switch k.TsType {
	case "create":
		c.TimestampType = "CreateTime"
	case "logappend":
		c.TimestampType = "LogAppendTime"
	default:
		c.TimestampType = k.TsType
	}
	if len(k.Headers)%2 != 0 {
		t.Errorf("kcat: odd header list %q", k.Headers)
	}
	for i := 0; i+1 < len(k.Headers); i += 2 {
		c.Headers = append(c.Headers, [2]string{k.Headers[i], k.Headers[i+1]})
	}
	return c
}

// TestKcat round-trips through kcat (Debian's, on its librdkafka) with every
// codec. kcat sets the same headers on every record of a run and cannot set
// timestamps, so headers are per run and timestamps are checked against the
// produce window.
func TestKcat(t *testing.T) {
	t.Parallel()
	kcat := kcatPath(t)
	node := startBroker(t)
	for _, codec := range codecs {
		t.Run(codec, func(t *testing.T) {
			topic := "compat-kcat-" + codec
			createTopic(t, node, topic)
			want := genRecords("kcat", codec, numRecords)
			headers := [][2]string{{"client", "kcat"}, {"codec", codec}, {"dup", "first"}, {"dup", "second"}}
			var stdin strings.Builder
			for i := range want {
				want[i].Headers = headers
				want[i].Timestamp = 0
				stdin.WriteString(want[i].Key + "\t" + want[i].Value + "\n")
			}
			args := []string{"-b", node.Addr, "-t", topic, "-P", "-K", "\t",
				"-X", "compression.codec=" + codec,
				"-X", "partitioner=murmur2_random",
				"-X", "acks=all",
			}
			for _, h := range headers {
				args = append(args, "-H", h[0]+"="+h[1])
			}
			from := time.Now().UnixMilli()
			runJSONLines[json.RawMessage](t, []byte(stdin.String()), kcat, args...)
			to := time.Now().UnixMilli()

			got := consumeKcat(t, kcat, node, topic)
			opts := checkOpts{tsFrom: from, tsTo: to}
			checkConsumed(t, "kcat", want, got, nil, opts)
			checkConsumed(t, "franz-go reading kcat", want, consumeKgo(t, node, topic, len(want), ""), nil, opts)
		})
	}
}

func consumeKcat(t testing.TB, kcat string, node *clustertest.Node, topic string) []consumed {
	t.Helper()
	recs := runJSONLines[kcatRecord](t, nil, kcat, "-b", node.Addr, "-t", topic, "-C", "-o", "beginning", "-e", "-J", "-q")
	out := make([]consumed, len(recs))
	for i, r := range recs {
		out[i] = r.consumed(t)
	}
	return out
}
