package restproxy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// javaPartitions asks kafka-clients 4.4.0 (test/compat/java's jar,
// io.samsa.compat.Partition) which partition of n each key goes to.
func javaPartitions(t testing.TB, keys []string, n int) []int32 {
	t.Helper()
	clustertest.SkipInShort(t, "runs the Java driver")
	java, err := exec.LookPath("java")
	requireDep(t, "java", err, "make deps-java")
	jar := os.Getenv("SAMSA_COMPAT_JAR")
	if jar == "" {
		jar = filepath.Join(moduleRoot(t), "test", "compat", "java", "target", "samsa-compat.jar")
	}
	_, err = os.Stat(jar)
	requireDep(t, "Java kafka-clients driver", err, "make deps-java")
	out := runDriver(t, []byte(strings.Join(keys, "\n")+"\n"), nil, java, "-cp", jar, "io.samsa.compat.Partition", strconv.Itoa(n))
	lines := strings.Fields(string(out))
	if len(lines) != len(keys) {
		t.Fatalf("Partition printed %d lines for %d keys", len(lines), len(keys))
	}
	ps := make([]int32, len(lines))
	for i, l := range lines {
		p, err := strconv.Atoi(l)
		if err != nil || p < 0 || p >= n {
			t.Fatalf("Partition line %d: %q", i, l)
		}
		ps[i] = int32(p)
	}
	return ps
}

// partitionKeys are 1,000 distinct keys: ASCII, digits, multi-byte UTF-8
// and lengths from 1 to 40 bytes (murmur2's tail cases 0-3 all occur).
func partitionKeys() []string {
	rng := rand.New(rand.NewSource(15))
	alphabet := []rune("abcXYZ0189-_ .:/éü→日本")
	seen := map[string]bool{}
	var keys []string
	for len(keys) < 1000 {
		var k string
		switch len(keys) % 3 {
		case 0:
			k = fmt.Sprintf("key-%d", len(keys))
		case 1:
			k = strconv.Itoa(rng.Int())
		default:
			r := make([]rune, 1+rng.Intn(20))
			for i := range r {
				r[i] = alphabet[rng.Intn(len(alphabet))]
			}
			k = strings.TrimSpace(string(r))
		}
		if k != "" && !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	return keys
}

// TestKeyedPartitioningMatchesJava: 1,000 keyed records produced through
// v2 (binary, 100 a request) and through v3 (one streaming request) land
// in the partition kafka-clients' default partitioner picks for the same
// key bytes; the answers' partitions and franz-go's read-back agree.
func TestKeyedPartitioningMatchesJava(t *testing.T) {
	const parts = 7
	keys := partitionKeys()
	want := javaPartitions(t, keys, parts)
	n := startRESTNode(t)
	createTopic(t, n.Bootstrap, "keyed", parts, nil)

	got := make([]int32, 0, len(keys))
	for i := 0; i < len(keys); i += 100 {
		var recs []any
		for _, k := range keys[i : i+100] {
			recs = append(recs, map[string]any{"key": b64(k), "value": b64("v-" + k)})
		}
		a := call(t, "POST", n.URL+"/topics/keyed", mustJSON(t, map[string]any{"records": recs}), ctBinary, "")
		for _, o := range offsetsOf(t, "v2 keyed produce", a, 100) {
			got = append(got, int32(o["partition"].(float64)))
		}
	}
	checkPartitions(t, "v2 answer", keys, got, want)

	byKey := map[string]int32{}
	for _, r := range readAll(t, n.Bootstrap, "keyed", len(keys)) {
		if string(r.Value) != "v-"+string(r.Key) {
			t.Fatalf("record %q = %q", r.Key, r.Value)
		}
		if _, dup := byKey[string(r.Key)]; dup {
			t.Fatalf("key %q read twice", r.Key)
		}
		byKey[string(r.Key)] = r.Partition
	}
	read := make([]int32, len(keys))
	for i, k := range keys {
		p, ok := byKey[k]
		if !ok {
			t.Fatalf("key %q not read back", k)
		}
		read[i] = p
	}
	checkPartitions(t, "v2 read back", keys, read, want)

	// v3: the same keys in one streaming request to a second topic, one
	// delivery report per record, in order.
	createTopic(t, n.Bootstrap, "keyed3", parts, nil)
	cid := clusterID(t, n.URL)
	var body strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&body, `{"key":{"type":"BINARY","data":%q},"value":{"type":"STRING","data":%q}}`, b64(k), "v-"+k)
	}
	a := call(t, "POST", n.URL+"/v3/clusters/"+cid+"/topics/keyed3/records", body.String(), "application/json", "")
	if a.Status != 200 {
		t.Fatalf("v3 streaming produce: %s", a)
	}
	got = got[:0]
	dec := json.NewDecoder(bytes.NewReader(a.Body))
	for dec.More() {
		var rep struct {
			ErrorCode   int   `json:"error_code"`
			PartitionID int32 `json:"partition_id"`
		}
		if err := dec.Decode(&rep); err != nil || rep.ErrorCode != 200 {
			t.Fatalf("v3 report %d: %v %+v", len(got), err, rep)
		}
		got = append(got, rep.PartitionID)
	}
	checkPartitions(t, "v3 reports", keys, got, want)
	for _, r := range readAll(t, n.Bootstrap, "keyed3", len(keys)) {
		if p := byKey[string(r.Key)]; p != r.Partition || string(r.Value) != "v-"+string(r.Key) {
			t.Fatalf("v3 record %q = %q in partition %d, v2 put it in %d", r.Key, r.Value, r.Partition, p)
		}
	}
}

// clusterID reads the cluster id from GET /v3/clusters.
func clusterID(t testing.TB, url string) string {
	t.Helper()
	a := call(t, "GET", url+"/v3/clusters", "", "", "")
	if d, _ := a.Map()["data"].([]any); len(d) == 1 {
		if cid, _ := d[0].(map[string]any)["cluster_id"].(string); cid != "" {
			return cid
		}
	}
	t.Fatalf("GET /v3/clusters: %s", a)
	return ""
}

// checkPartitions compares partitions key by key and checks that the keys
// spread over every partition.
func checkPartitions(t testing.TB, what string, keys []string, got, want []int32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d partitions for %d keys", what, len(got), len(want))
	}
	used := map[int32]int{}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: key %q in partition %d, kafka-clients chooses %d", what, keys[i], got[i], want[i])
		}
		used[got[i]]++
	}
	if len(used) < 2 {
		t.Fatalf("%s: all keys in one partition: %v", what, used)
	}
	t.Logf("%s: %d keys agree with kafka-clients; per partition %v", what, len(keys), used)
}
