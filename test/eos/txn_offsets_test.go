package eos_test

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// TestTxnOffsetCommitStableAcrossRestarts drives TxnOffsetCommit by hand:
// while the transaction is open, OffsetFetch with require_stable answers
// UNSTABLE_OFFSET_COMMIT, also after a SIGKILL restart of the broker (the
// pending offsets are rebuilt from __consumer_offsets); once the
// transaction commits, the offset is visible, again after a restart.
func TestTxnOffsetCommitStableAcrossRestarts(t *testing.T) {
	node := startNode(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const topic, group, txnID = "offsets-src", "txn-offsets-group", "txn-offsets"
	createTopic(t, node, topic, 1)
	cl := node.Client(t, kgo.RetryTimeout(30*time.Second))

	init := kmsg.NewPtrInitProducerIDRequest()
	init.TransactionalID = kmsg.StringPtr(txnID)
	init.TransactionTimeoutMillis = 60000
	initResp, err := init.RequestWith(ctx, cl)
	if err == nil {
		err = kerr.ErrorForCode(initResp.ErrorCode)
	}
	if err != nil {
		t.Fatalf("InitProducerId: %v", err)
	}
	pid, epoch := initResp.ProducerID, initResp.ProducerEpoch

	add := kmsg.NewPtrAddOffsetsToTxnRequest()
	add.TransactionalID, add.ProducerID, add.ProducerEpoch, add.Group = txnID, pid, epoch, group
	addResp, err := add.RequestWith(ctx, cl)
	if err == nil {
		err = kerr.ErrorForCode(addResp.ErrorCode)
	}
	if err != nil {
		t.Fatalf("AddOffsetsToTxn: %v", err)
	}

	commit := kmsg.NewPtrTxnOffsetCommitRequest()
	commit.TransactionalID, commit.Group, commit.ProducerID, commit.ProducerEpoch = txnID, group, pid, epoch
	p := kmsg.NewTxnOffsetCommitRequestTopicPartition()
	p.Partition, p.Offset = 0, 42
	commit.Topics = []kmsg.TxnOffsetCommitRequestTopic{{Topic: topic, Partitions: []kmsg.TxnOffsetCommitRequestTopicPartition{p}}}
	commitResp, err := commit.RequestWith(ctx, cl)
	if err == nil {
		err = kerr.ErrorForCode(commitResp.Topics[0].Partitions[0].ErrorCode)
	}
	if err != nil {
		t.Fatalf("TxnOffsetCommit: %v", err)
	}

	fetch := func(when string, wantOffset int64, wantErr error) {
		t.Helper()
		c := node.Client(t, kgo.RetryTimeout(30*time.Second))
		req := kmsg.NewPtrOffsetFetchRequest()
		req.Version = 8
		req.RequireStable = true
		rg := kmsg.NewOffsetFetchRequestGroup()
		rg.Group = group
		rg.Topics = []kmsg.OffsetFetchRequestGroupTopic{{Topic: topic, Partitions: []int32{0}}}
		req.Groups = []kmsg.OffsetFetchRequestGroup{rg}
		for {
			resp, err := req.RequestWith(ctx, c)
			if err != nil {
				t.Fatalf("%s: OffsetFetch: %v", when, err)
			}
			g := resp.Groups[0]
			if kerr.ErrorForCode(g.ErrorCode) == kerr.CoordinatorLoadInProgress && ctx.Err() == nil {
				time.Sleep(100 * time.Millisecond)
				continue
			}
			if g.ErrorCode != 0 {
				t.Fatalf("%s: OffsetFetch: %v", when, kerr.ErrorForCode(g.ErrorCode))
			}
			sp := g.Topics[0].Partitions[0]
			if got := kerr.ErrorForCode(sp.ErrorCode); got != wantErr || sp.Offset != wantOffset {
				t.Errorf("%s: offset %d error %v, want %d %v", when, sp.Offset, got, wantOffset, wantErr)
			}
			return
		}
	}
	restart := func(n *clustertest.Node) {
		n.Kill()
		n.Restart(t)
	}
	fetch("open", -1, kerr.UnstableOffsetCommit)
	restart(node)
	fetch("open, after a restart", -1, kerr.UnstableOffsetCommit)

	end := kmsg.NewPtrEndTxnRequest()
	end.TransactionalID, end.ProducerID, end.ProducerEpoch, end.Commit = txnID, pid, epoch, true
	c2 := node.Client(t, kgo.RetryTimeout(30*time.Second))
	for {
		endResp, err := end.RequestWith(ctx, c2)
		if err == nil {
			err = kerr.ErrorForCode(endResp.ErrorCode)
		}
		if err == nil {
			break
		}
		if !kerr.IsRetriable(err) || ctx.Err() != nil {
			t.Fatalf("EndTxn: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Markers are written asynchronously after EndTxn returns.
	deadline := time.Now().Add(10 * time.Second)
	for {
		req := kmsg.NewPtrOffsetFetchRequest()
		req.Version = 8
		req.RequireStable = true
		rg := kmsg.NewOffsetFetchRequestGroup()
		rg.Group = group
		rg.Topics = []kmsg.OffsetFetchRequestGroupTopic{{Topic: topic, Partitions: []int32{0}}}
		req.Groups = []kmsg.OffsetFetchRequestGroup{rg}
		resp, err := req.RequestWith(ctx, c2)
		if err == nil && resp.Groups[0].ErrorCode == 0 && resp.Groups[0].Topics[0].Partitions[0].ErrorCode == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("offsets still unstable 10s after EndTxn: %v %+v", err, resp)
		}
		time.Sleep(50 * time.Millisecond)
	}
	fetch("committed", 42, nil)
	restart(node)
	fetch("committed, after a restart", 42, nil)
}
