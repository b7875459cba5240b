package hardening

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// Issue #11 items 1 and 7 on the real binary: data is never deleted
// because metadata is missing or disagrees, and partition counts are
// capped without breaking the broker.

func strayStart(t *testing.T, dataDir string) (*clustertest.Node, *kadm.Client) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts the samsa binary")
	}
	n := clustertest.Start(t, clustertest.Options{DataDir: dataDir})
	return n, kadm.NewClient(n.Client(t))
}

func strayCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func strayCreate(t *testing.T, adm *kadm.Client, name string, partitions int32) {
	t.Helper()
	resp, err := adm.CreateTopic(strayCtx(t), partitions, 1, nil, name)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
}

func strayProduce(t *testing.T, n *clustertest.Node, topic string, count int) {
	t.Helper()
	cl := n.Client(t, kgo.DefaultProduceTopic(topic))
	for i := range count {
		if err := cl.ProduceSync(strayCtx(t), &kgo.Record{Value: fmt.Appendf(nil, "%s-%d", topic, i)}).FirstErr(); err != nil {
			t.Fatalf("produce to %s: %v", topic, err)
		}
	}
}

// strayEndOffset is partition 0's log end offset.
func strayEndOffset(t *testing.T, adm *kadm.Client, topic string) int64 {
	t.Helper()
	offs, err := adm.ListEndOffsets(strayCtx(t), topic)
	if err != nil {
		t.Fatal(err)
	}
	o, ok := offs.Lookup(topic, 0)
	if !ok || o.Err != nil {
		t.Fatalf("end offset of %s-0: %v %v", topic, ok, o.Err)
	}
	return o.Offset
}

// strayTree hashes every file under the partition directories of dir.
func strayTree(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	out := map[string][32]byte{}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if !e.IsDir() || strings.HasPrefix(e.Name(), "__cluster_metadata") {
			continue
		}
		root := filepath.Join(dir, e.Name())
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			out[strings.TrimPrefix(p, dir)] = sha256.Sum256(b)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// strayDirs lists the -stray directories of dir.
func strayDirs(t *testing.T, dir, prefix string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, prefix+".*-stray"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// (1) Losing __cluster_metadata-0 does not delete anything: the broker
// refuses to start, with a clear message, and every partition directory
// stays byte for byte.
func TestStrayMetadataLogLostRefusesStart(t *testing.T) {
	n, adm := strayStart(t, "")
	for _, name := range []string{"keep-a", "keep-b"} {
		strayCreate(t, adm, name, 3)
		strayProduce(t, n, name, 20)
	}
	n.Stop()
	before := strayTree(t, n.DataDir)
	if len(before) == 0 {
		t.Fatal("no partition files")
	}
	if err := os.RemoveAll(filepath.Join(n.DataDir, "__cluster_metadata-0")); err != nil {
		t.Fatal(err)
	}
	for range 2 { // and again: the first refusal must not have made it "fine"
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		out, err := exec.CommandContext(ctx, clustertest.Binary(t), "serve", "--data-dir", n.DataDir,
			"--listen", "127.0.0.1:0", "--node-id", "1").CombinedOutput()
		timedOut := ctx.Err() != nil
		cancel()
		if err == nil || timedOut {
			t.Fatalf("samsa serve did not exit non-zero (err %v, timed out %v):\n%s", err, timedOut, out)
		}
		if !bytes.Contains(out, []byte("metadata log")) || !bytes.Contains(out, []byte("refusing to start")) {
			t.Fatalf("no clear message:\n%s", out)
		}
	}
	after := strayTree(t, n.DataDir)
	if len(after) != len(before) {
		t.Fatalf("%d files before, %d after", len(before), len(after))
	}
	for p, h := range before {
		if after[p] != h {
			t.Fatalf("%s changed or vanished", p)
		}
	}
}

// (2) A partition directory whose partition.metadata names another topic
// id is renamed -stray, not deleted, and the broker starts; the topic
// starts empty.
func TestStrayForeignTopicIDSetAside(t *testing.T) {
	n, adm := strayStart(t, "")
	strayCreate(t, adm, "foreign", 1)
	strayProduce(t, n, "foreign", 10)
	n.Stop()
	dir := filepath.Join(n.DataDir, "foreign-0")
	logBefore, err := os.ReadFile(filepath.Join(dir, "00000000000000000000.log"))
	if err != nil || len(logBefore) == 0 {
		t.Fatalf("log: %d bytes, %v", len(logBefore), err)
	}
	// Kafka's format, with an id from Kafka's own KRaftClusterTest.
	if err := os.WriteFile(filepath.Join(dir, "partition.metadata"), []byte("version: 0\ntopic_id: AAAAAAAAAAAAA7SrBWaJ7g\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	n.Restart(t)
	strays := strayDirs(t, n.DataDir, "foreign-0")
	if len(strays) != 1 {
		t.Fatalf("stray directories %v", strays)
	}
	logAfter, err := os.ReadFile(filepath.Join(strays[0], "00000000000000000000.log"))
	if err != nil || !bytes.Equal(logAfter, logBefore) {
		t.Fatalf("stray log differs or is missing: %v", err)
	}
	if got := strayEndOffset(t, adm, "foreign"); got != 0 {
		t.Fatalf("the topic adopted the foreign log: end offset %d", got)
	}
	strayProduce(t, n, "foreign", 1)
	if !strings.Contains(strayReadFile(t, n.LogPath), strays[0]) {
		t.Fatal("the stray directory is not reported in the log")
	}
}

func strayReadFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// (3) Deleting a topic and creating it again with the same name gives an
// empty topic: consumers read nothing old.
func TestStrayRecreatedTopicIsEmpty(t *testing.T) {
	n, adm := strayStart(t, "")
	strayCreate(t, adm, "again", 2)
	strayProduce(t, n, "again", 15)
	if _, err := adm.DeleteTopics(strayCtx(t), "again"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := adm.CreateTopic(strayCtx(t), 2, 1, nil, "again")
		if err == nil && resp.Err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("recreate: %v %v", err, resp.Err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, check := range []func(){func() {}, func() { n.Restart(t) }} {
		check()
		if got := strayEndOffset(t, adm, "again"); got != 0 {
			t.Fatalf("recreated topic has end offset %d", got)
		}
		cl := n.Client(t, kgo.ConsumeTopics("again"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		fetches := cl.PollFetches(ctx)
		cancel()
		if recs := fetches.Records(); len(recs) > 0 {
			t.Fatalf("read %d old records, first %q", len(recs), recs[0].Value)
		}
		cl.Close()
	}
}

// (4) One CreateTopics of 10,001 partitions is refused with KRaft's
// POLICY_VIOLATION and message; the broker keeps serving and restarts.
func TestStrayTooManyPartitionsRefused(t *testing.T) {
	n, adm := strayStart(t, "")
	cl := n.Client(t)
	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = 30_000
	for _, c := range []struct {
		name  string
		count int32
	}{{"huge-a", 5000}, {"huge-b", 5001}} {
		rt := kmsg.NewCreateTopicsRequestTopic()
		rt.Topic, rt.NumPartitions, rt.ReplicationFactor = c.name, c.count, 1
		req.Topics = append(req.Topics, rt)
	}
	resp, err := req.RequestWith(strayCtx(t), cl)
	if err != nil {
		t.Fatal(err)
	}
	for _, rt := range resp.Topics {
		if rt.ErrorCode != kerr.PolicyViolation.Code || rt.ErrorMessage == nil ||
			*rt.ErrorMessage != "Excessively large number of partitions per request." {
			t.Fatalf("%s: code %d message %v", rt.Topic, rt.ErrorCode, rt.ErrorMessage)
		}
	}
	one := kmsg.NewPtrCreateTopicsRequest()
	one.TimeoutMillis = 30_000
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = "huge-c", 10_001, 1
	one.Topics = append(one.Topics, rt)
	if resp, err := one.RequestWith(strayCtx(t), cl); err != nil || resp.Topics[0].ErrorCode != kerr.PolicyViolation.Code {
		t.Fatalf("10,001 partitions in one topic: %v %+v", err, resp)
	}
	strayCreate(t, adm, "small", 1)
	strayProduce(t, n, "small", 3)
	n.Restart(t)
	if got := strayEndOffset(t, adm, "small"); got != 3 {
		t.Fatalf("after restart: end offset %d", got)
	}
	td, err := adm.ListTopics(strayCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"huge-a", "huge-b", "huge-c"} {
		if td.Has(name) {
			t.Fatalf("%s was created", name)
		}
	}
}

// (5) A partition that cannot be opened (its .log replaced by a
// directory) is offline; the broker starts and the others work.
func TestStrayUnopenablePartitionOffline(t *testing.T) {
	n, adm := strayStart(t, "")
	for _, name := range []string{"healthy", "broken"} {
		strayCreate(t, adm, name, 1)
		strayProduce(t, n, name, 5)
	}
	n.Stop()
	seg := filepath.Join(n.DataDir, "broken-0", "00000000000000000000.log")
	if err := os.Remove(seg); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(seg, 0o755); err != nil {
		t.Fatal(err)
	}
	n.Restart(t)
	req := kmsg.NewPtrMetadataRequest()
	for _, name := range []string{"healthy", "broken"} {
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(name)
		req.Topics = append(req.Topics, rt)
	}
	resp, err := req.RequestWith(strayCtx(t), n.Client(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, mt := range resp.Topics {
		p := mt.Partitions[0]
		switch *mt.Topic {
		case "broken":
			if len(p.OfflineReplicas) != 1 || p.OfflineReplicas[0] != 1 || p.ErrorCode != kerr.LeaderNotAvailable.Code {
				t.Fatalf("broken-0: offline %v, error %d", p.OfflineReplicas, p.ErrorCode)
			}
		case "healthy":
			if len(p.OfflineReplicas) != 0 || p.ErrorCode != 0 {
				t.Fatalf("healthy-0: offline %v, error %d", p.OfflineReplicas, p.ErrorCode)
			}
		}
	}
	strayProduce(t, n, "healthy", 1)
	if got := strayEndOffset(t, adm, "healthy"); got != 6 {
		t.Fatalf("healthy end offset %d", got)
	}
	if !strings.Contains(strayReadFile(t, n.LogPath), "partition offline") {
		t.Fatal("the offline partition is not reported")
	}
}
