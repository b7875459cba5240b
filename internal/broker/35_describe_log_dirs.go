package broker

import (
	"context"
	"math"
	"path/filepath"
	"sort"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/acl"
	"github.com/samsa-streaming/samsa/internal/partition"
)

// DescribeLogDirs, versions 1-4.
//
// Version notes:
//   - v1: same as v0 (throttling behavior only; v0 went with Kafka 4.0)
//   - v2: flexible versions
//   - v3: top-level ErrorCode (KIP-784)
//   - v4: TotalBytes and UsableBytes per log dir (KIP-827)
func init() { register(int16(kmsg.DescribeLogDirs), 1, 4, (*Broker).handleDescribeLogDirs) }

// handleDescribeLogDirs reports Samsa's single log directory as Kafka's
// ReplicaManager.describeLogDirs does: the hosted partitions asked for
// (all of them for a null topic list), topics with none left out.
func (b *Broker) handleDescribeLogDirs(_ context.Context, c *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.DescribeLogDirsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeLogDirsResponse)
	if !c.canCluster(acl.OpDescribe) {
		// Kafka: v3+ a top-level error, below an empty result.
		if req.Version >= 3 {
			resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
		}
		return resp, nil
	}

	var wanted map[partition.Key]bool
	if req.Topics != nil {
		wanted = make(map[partition.Key]bool)
		for _, rt := range req.Topics {
			for _, p := range rt.Partitions {
				wanted[partition.Key{Topic: rt.Topic, Partition: p}] = true
			}
		}
	}
	byTopic := map[string][]kmsg.DescribeLogDirsResponseDirTopicPartition{}
	for _, p := range b.parts.All() {
		if wanted != nil && !wanted[partition.Key{Topic: p.Topic, Partition: p.Index}] {
			continue
		}
		rp := kmsg.NewDescribeLogDirsResponseDirTopicPartition()
		rp.Partition = p.Index
		rp.Size = p.Log().Size()
		rp.OffsetLag = 0
		rp.IsFuture = false
		byTopic[p.Topic] = append(byTopic[p.Topic], rp)
	}
	topics := make([]string, 0, len(byTopic))
	for t := range byTopic {
		topics = append(topics, t)
	}
	sort.Strings(topics)

	rd := kmsg.NewDescribeLogDirsResponseDir()
	dir, err := filepath.Abs(b.settings().DataDir)
	if err != nil {
		dir = b.settings().DataDir
	}
	rd.Dir = dir
	if b.parts.LogDirOffline() != nil { // Kafka lists an offline dir with this code only
		rd.ErrorCode = kerr.KafkaStorageError.Code
		rd.TotalBytes, rd.UsableBytes = -1, -1
		resp.Dirs = append(resp.Dirs, rd)
		return resp, nil
	}
	if rd.TotalBytes, rd.UsableBytes, err = diskSpace(dir); err != nil {
		b.lg.Warn("reading the log dir's disk space failed", "dir", dir, "err", err)
		rd.ErrorCode = kerr.KafkaStorageError.Code
		rd.TotalBytes, rd.UsableBytes = -1, -1
		resp.Dirs = append(resp.Dirs, rd)
		return resp, nil
	}
	for _, t := range topics {
		ps := byTopic[t]
		sort.Slice(ps, func(i, j int) bool { return ps[i].Partition < ps[j].Partition })
		rt := kmsg.NewDescribeLogDirsResponseDirTopic()
		rt.Topic = t
		rt.Partitions = ps
		rd.Topics = append(rd.Topics, rt)
	}
	resp.Dirs = append(resp.Dirs, rd)
	return resp, nil
}

// spaceBytes multiplies a block count by the block size, saturating at
// MaxInt64 as Kafka's adjustForLargeFileSystems does.
func spaceBytes(blocks uint64, bsize int64) int64 {
	if bsize <= 0 {
		return 0
	}
	if blocks > uint64(math.MaxInt64/bsize) {
		return math.MaxInt64
	}
	return int64(blocks) * bsize
}
