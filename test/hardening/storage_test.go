package hardening

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/batch"
	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// Storage errors on the real binary (issue #11 item 8): a full data disk
// takes the log directory offline (KAFKA_STORAGE_ERROR, logged at ERROR,
// partitions reported offline, the broker fenced, the process alive), and
// a full metadata-log disk stops the process with a non-zero exit.

// stMount mounts a tmpfs of size at dir (created) and unmounts it when
// the test ends, after the cleanups registered later (the node's).
func stMount(t *testing.T, dir, size string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("mount tmpfs at %s (these tests need root): %v: %s", dir, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
}

// stRemount resizes the tmpfs at dir.
func stRemount(t *testing.T, dir, size string) {
	t.Helper()
	if out, err := exec.Command("mount", "-o", "remount,size="+size, dir).CombinedOutput(); err != nil {
		t.Fatalf("remount %s: %v: %s", dir, err, out)
	}
}

func stCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// stProduce sends one batch of n records of size bytes to partition 0 of
// topic with acks=1 and returns the partition's error code.
func stProduce(t *testing.T, cl *kgo.Client, topic string, id [16]byte, n, size int) int16 {
	t.Helper()
	recs := make([]batch.Record, n)
	for i := range recs {
		recs[i].Value = []byte(strings.Repeat("x", size))
	}
	b, err := batch.Build(batch.CodecNone, recs, batch.BuildOptions{BaseTimestamp: time.Now().UnixMilli(), ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1})
	if err != nil {
		t.Fatal(err)
	}
	req := kmsg.NewPtrProduceRequest()
	req.Acks, req.TimeoutMillis = 1, 10000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic, rt.TopicID = topic, id // by id from v13
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Partition, rp.Records = 0, b
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(stCtx(t, 20*time.Second), cl)
	if err != nil {
		t.Fatalf("produce: %v", err)
	}
	return resp.Topics[0].Partitions[0].ErrorCode
}

// stOffline is the OfflineReplicas of partition 0 of topic in Metadata and
// in DescribeTopicPartitions.
func stOffline(t *testing.T, cl *kgo.Client, topic string) (md, dtp []int32) {
	t.Helper()
	mreq := kmsg.NewPtrMetadataRequest()
	mt := kmsg.NewMetadataRequestTopic()
	mt.Topic = kmsg.StringPtr(topic)
	mreq.Topics = append(mreq.Topics, mt)
	mresp, err := mreq.RequestWith(stCtx(t, 10*time.Second), cl)
	if err != nil {
		t.Fatalf("metadata: %v", err)
	}
	dreq := kmsg.NewPtrDescribeTopicPartitionsRequest()
	dt := kmsg.NewDescribeTopicPartitionsRequestTopic()
	dt.Topic = topic
	dreq.Topics = append(dreq.Topics, dt)
	dreq.ResponsePartitionLimit = 10
	dresp, err := dreq.RequestWith(stCtx(t, 10*time.Second), cl)
	if err != nil {
		t.Fatalf("DescribeTopicPartitions: %v", err)
	}
	return mresp.Topics[0].Partitions[0].OfflineReplicas, dresp.Topics[0].Partitions[0].OfflineReplicas
}

// A full data disk: the produce that hits it answers KAFKA_STORAGE_ERROR
// (not UNKNOWN_SERVER_ERROR) and is logged at ERROR with the partition and
// path; the process stays up; the partition is offline (later produces
// too answer KAFKA_STORAGE_ERROR, Metadata and DescribeTopicPartitions
// list the broker in OfflineReplicas, DescribeLogDirs flags the dir) and
// the broker is fenced so it leads nothing. With room again, a restart
// brings the partition back.
func TestStorageFullDataDir(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the samsa binary")
	}
	// Format a data dir, then move it onto an 8 MiB disk, its metadata log
	// onto a disk of its own that keeps room.
	formatted := clustertest.Start(t, clustertest.Options{})
	formatted.Stop()
	data := filepath.Join(t.TempDir(), "data")
	stMount(t, data, "8m")
	stCopyFiles(t, formatted.DataDir, data)
	metaDir := filepath.Join(data, "__cluster_metadata-0")
	stMount(t, metaDir, "32m")
	stCopyFiles(t, filepath.Join(formatted.DataDir, "__cluster_metadata-0"), metaDir)
	n := clustertest.Start(t, clustertest.Options{DataDir: data})
	cl := n.Client(t)
	adm := kadm.NewClient(cl)
	const topic = "st-full"
	r, err := adm.CreateTopic(stCtx(t, 20*time.Second), 1, 1, nil, topic)
	if err != nil || r.Err != nil {
		t.Fatalf("create: %v %v", err, r.Err)
	}
	id := r.ID
	code := int16(0)
	for i := 0; i < 200 && code == 0; i++ { // 8 MiB at 100 KiB a batch: full well before 200
		code = stProduce(t, cl, topic, id, 10, 10<<10)
	}
	if code != kerr.KafkaStorageError.Code {
		t.Fatalf("produce to a full disk: code %d (%v), want KAFKA_STORAGE_ERROR", code, kerr.ErrorForCode(code))
	}
	if !n.Running() {
		t.Fatal("the broker exited after a full data disk")
	}
	if c := stProduce(t, cl, topic, id, 1, 10); c != kerr.KafkaStorageError.Code {
		t.Fatalf("produce to the offline partition: %v", kerr.ErrorForCode(c))
	}
	logText, _ := os.ReadFile(n.LogPath)
	if !strings.Contains(string(logText), "ERROR") || !strings.Contains(string(logText), "storage error") ||
		!strings.Contains(string(logText), filepath.Join(data, topic+"-0")) || !strings.Contains(string(logText), "no space left on device") {
		t.Fatalf("no ERROR naming the partition's path and ENOSPC in the log:\n%s", logText)
	}
	md, dtp := stOffline(t, cl, topic)
	if !slices.Contains(md, 1) || !slices.Contains(dtp, 1) {
		t.Fatalf("OfflineReplicas: Metadata %v, DescribeTopicPartitions %v; want broker 1 in both", md, dtp)
	}
	// The fenced broker is in no broker list: ask the seed itself, unsharded.
	kresp, err := cl.SeedBrokers()[0].Request(stCtx(t, 10*time.Second), kmsg.NewPtrDescribeLogDirsRequest())
	if err != nil {
		t.Fatal(err)
	}
	dresp := kresp.(*kmsg.DescribeLogDirsResponse)
	if len(dresp.Dirs) != 1 || dresp.Dirs[0].ErrorCode != kerr.KafkaStorageError.Code {
		t.Fatalf("DescribeLogDirs: %+v, want the dir with KAFKA_STORAGE_ERROR", dresp.Dirs)
	}
	stWaitFenced(t, cl)

	// Room again and a restart: the partition is back and takes writes.
	n.Kill()
	stRemount(t, data, "64m")
	n.Restart(t)
	cl2 := n.Client(t)
	deadline := time.Now().Add(30 * time.Second)
	for {
		c := stProduce(t, cl2, topic, id, 1, 10)
		if c == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("produce after the restart: %v", kerr.ErrorForCode(c))
		}
		time.Sleep(200 * time.Millisecond)
	}
	n.Kill() // its shutdown after a log directory failure is unclean, by design
}

// stWaitFenced waits until DescribeCluster shows broker 1 fenced.
func stWaitFenced(t *testing.T, cl *kgo.Client) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		req := kmsg.NewPtrDescribeClusterRequest()
		req.IncludeFencedBrokers = true
		resp, err := req.RequestWith(stCtx(t, 10*time.Second), cl)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range resp.Brokers {
			if b.NodeID == 1 && b.IsFenced {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("broker 1 not fenced after its log directory failed: %+v", resp.Brokers)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// stProc is a samsa process run by the test itself (clustertest treats an
// exit on its own as a failure; here it is the point).
type stProc struct {
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error // valid once exited is closed
}

// stServe starts `samsa serve` on data and addr, logging to logPath, and
// waits until it answers. The process is killed when the test ends.
func stServe(t *testing.T, data, addr, logPath string) *stProc {
	t.Helper()
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	p := &stProc{cmd: exec.Command(clustertest.Binary(t), "serve", "--data-dir", data, "--listen", addr, "--node-id", "1"), exited: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { // owned by the test: killed at cleanup, waited through exited
		p.waitErr = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.exited
	})
	for deadline := time.Now().Add(30 * time.Second); ; {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return p
		}
		select {
		case <-p.exited:
			t.Fatalf("samsa exited while starting: %v\n%s", p.waitErr, stFileTail(logPath))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("samsa did not listen on %s", addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stMoveMetadataLogToTmpfs moves the metadata log of a formatted, stopped
// data dir onto a tmpfs of size mounted in its place.
func stMoveMetadataLogToTmpfs(t *testing.T, metaDir, size string) {
	t.Helper()
	saved := filepath.Join(t.TempDir(), "meta")
	if err := os.Rename(metaDir, saved); err != nil {
		t.Fatal(err)
	}
	stMount(t, metaDir, size)
	stCopyFiles(t, saved, metaDir)
}

// stCopyFiles copies the regular files of src into dst.
func stCopyFiles(t *testing.T, src, dst string) {
	t.Helper()
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err == nil {
			err = os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// A full metadata-log disk: once the controller cannot write its log, the
// process exits non-zero with an ERROR naming the metadata log's path and
// the error, instead of serving on without a controller.
func TestStorageFullMetadataLogExits(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the samsa binary")
	}
	data := filepath.Join(t.TempDir(), "data")
	metaDir := filepath.Join(data, "__cluster_metadata-0")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	logPath := filepath.Join(t.TempDir(), "samsa.log")

	// Format the data dir, stop cleanly, then put the metadata log on a
	// tiny disk of its own.
	first := stServe(t, data, addr, logPath)
	_ = first.cmd.Process.Signal(syscall.SIGTERM)
	<-first.exited
	if first.waitErr != nil {
		t.Fatalf("first run: %v\n%s", first.waitErr, stFileTail(logPath))
	}
	stMoveMetadataLogToTmpfs(t, metaDir, "96k")
	p := stServe(t, data, addr, logPath)

	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RetryTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	deadline := time.After(120 * time.Second)
	for i := 0; ; i++ {
		select {
		case <-p.exited:
		case <-deadline:
			t.Fatalf("the process still runs with a full metadata log disk\n%s", stFileTail(logPath))
		default:
			names := make([]string, 20)
			for j := range names {
				names[j] = fmt.Sprintf("st-meta-%d-%d-%s", i, j, strings.Repeat("m", 150))
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_, _ = adm.CreateTopics(ctx, 1, 1, nil, names...) // refused once the log is full
			cancel()
			continue
		}
		break
	}
	var ee *exec.ExitError
	if !errors.As(p.waitErr, &ee) || ee.ExitCode() == 0 {
		t.Fatalf("exit: %v, want a non-zero exit status\n%s", p.waitErr, stFileTail(logPath))
	}
	text := stFileTail(logPath)
	if !strings.Contains(text, "ERROR") || !strings.Contains(text, metaDir) || !strings.Contains(text, "no space left on device") {
		t.Fatalf("no ERROR naming the metadata log's path and ENOSPC:\n%s", text)
	}
}

// stFileTail is the last 16 KiB of a file.
func stFileTail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 16<<10 {
		b = b[len(b)-16<<10:]
	}
	return string(b)
}
