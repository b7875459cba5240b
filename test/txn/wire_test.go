package txn_test

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// pinned is a client that sends key at most at version max.
func pinned(t *testing.T, n *clustertest.Node, key kmsg.Key, max int16) *kgo.Client {
	v := kversion.Stable()
	v.SetMaxKeyVersion(key.Int16(), max)
	return n.Client(t, kgo.MaxVersions(v))
}

func initPID(t *testing.T, cl *kgo.Client, id string, timeoutMs int32, pid int64, epoch int16) *kmsg.InitProducerIDResponse {
	t.Helper()
	req := kmsg.NewPtrInitProducerIDRequest()
	req.TransactionalID = kmsg.StringPtr(id)
	req.TransactionTimeoutMillis = timeoutMs
	req.ProducerID, req.ProducerEpoch = pid, epoch
	resp, err := req.RequestWith(ctxT(t), cl)
	if err != nil {
		t.Fatalf("InitProducerId: %v", err)
	}
	return resp
}

func wantCode(t *testing.T, what string, got int16, want *kerr.Error) {
	t.Helper()
	wantCode := int16(0)
	if want != nil {
		wantCode = want.Code
	}
	if got != wantCode {
		t.Fatalf("%s: error %v, want %v", what, kerr.ErrorForCode(got), want)
	}
}

// TestErrorsPerVersion checks the wire answers Kafka gives, per version:
// PRODUCER_FENCED for KIP-588 clients, INVALID_PRODUCER_EPOCH before.
func TestErrorsPerVersion(t *testing.T) {
	n := startNode(t)
	createTopic(t, n, "wire", 1)
	cl := n.Client(t)
	ctx := ctxT(t)

	// FindCoordinator for a transactional id creates __transaction_state.
	fc := kmsg.NewPtrFindCoordinatorRequest()
	fc.CoordinatorType = 1
	fc.CoordinatorKeys = []string{"wire-tx"}
	fresp, err := fc.RequestWith(ctx, cl)
	if err != nil || len(fresp.Coordinators) != 1 {
		t.Fatalf("FindCoordinator: %v %+v", err, fresp)
	}
	wantCode(t, "FindCoordinator", fresp.Coordinators[0].ErrorCode, nil)

	r := initPID(t, cl, "wire-tx", 1_000_000_000, -1, -1)
	wantCode(t, "timeout above transaction.max.timeout.ms", r.ErrorCode, kerr.InvalidTransactionTimeout)
	r = initPID(t, cl, "wire-tx", 60000, -1, -1)
	wantCode(t, "init", r.ErrorCode, nil)
	pid := r.ProducerID
	if r = initPID(t, cl, "wire-tx", 60000, -1, -1); r.ProducerID != pid || r.ProducerEpoch != 1 {
		t.Fatalf("second init: %+v", r)
	}
	// KIP-360 with a stale epoch.
	r = initPID(t, cl, "wire-tx", 60000, pid, 0)
	wantCode(t, "InitProducerId v5 stale epoch", r.ErrorCode, kerr.ProducerFenced)
	r = initPID(t, pinned(t, n, kmsg.InitProducerID, 3), "wire-tx", 60000, pid, 0)
	wantCode(t, "InitProducerId v3 stale epoch", r.ErrorCode, kerr.InvalidProducerEpoch)

	end := func(cl *kgo.Client, epoch int16) *kmsg.EndTxnResponse {
		t.Helper()
		req := kmsg.NewPtrEndTxnRequest()
		req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Commit = "wire-tx", pid, epoch, true
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			t.Fatalf("EndTxn: %v", err)
		}
		return resp
	}
	wantCode(t, "EndTxn v1 stale epoch", end(pinned(t, n, kmsg.EndTxn, 1), 0).ErrorCode, kerr.InvalidProducerEpoch)
	wantCode(t, "EndTxn v3 stale epoch", end(pinned(t, n, kmsg.EndTxn, 3), 0).ErrorCode, kerr.ProducerFenced)
	wantCode(t, "EndTxn v3 commit of nothing", end(pinned(t, n, kmsg.EndTxn, 3), 1).ErrorCode, kerr.InvalidTxnState)

	// AddPartitionsToTxn v3 (a client): unknown partitions fail the
	// request; then a real add.
	add := kmsg.NewPtrAddPartitionsToTxnRequest()
	add.TransactionalID, add.ProducerID, add.ProducerEpoch = "wire-tx", pid, 1
	add.Topics = []kmsg.AddPartitionsToTxnRequestTopic{{Topic: "wire", Partitions: []int32{0, 7}}}
	aresp, err := add.RequestWith(ctx, pinned(t, n, kmsg.AddPartitionsToTxn, 3))
	if err != nil {
		t.Fatal(err)
	}
	codes := map[int32]int16{}
	for _, p := range aresp.Topics[0].Partitions {
		codes[p.Partition] = p.ErrorCode
	}
	wantCode(t, "known partition beside an unknown one", codes[0], kerr.OperationNotAttempted)
	wantCode(t, "unknown partition", codes[7], kerr.UnknownTopicOrPartition)
	// A fresh request: franz-go fills the v4 fields of the one it sent.
	add = kmsg.NewPtrAddPartitionsToTxnRequest()
	add.TransactionalID, add.ProducerID, add.ProducerEpoch = "wire-tx", pid, 1
	add.Topics = []kmsg.AddPartitionsToTxnRequestTopic{{Topic: "wire", Partitions: []int32{0}}}
	if aresp, err = add.RequestWith(ctx, pinned(t, n, kmsg.AddPartitionsToTxn, 3)); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "add", aresp.Topics[0].Partitions[0].ErrorCode, nil)

	// AddPartitionsToTxn v4+ VerifyOnly (KIP-890 part 1), as brokers send it.
	ver := kmsg.NewPtrAddPartitionsToTxnRequest()
	ver.Transactions = []kmsg.AddPartitionsToTxnRequestTransaction{{TransactionalID: "wire-tx", ProducerID: pid, ProducerEpoch: 1, VerifyOnly: true,
		Topics: []kmsg.AddPartitionsToTxnRequestTransactionTopic{{Topic: "wire", Partitions: []int32{0}}, {Topic: "__consumer_offsets", Partitions: []int32{0}}}}}
	// __consumer_offsets may not exist: the partition is then unknown.
	vresp, err := ver.RequestWith(ctx, cl)
	if err != nil || len(vresp.Transactions) != 1 {
		t.Fatalf("verify: %v %+v", err, vresp)
	}
	for _, tt := range vresp.Transactions[0].Topics {
		for _, p := range tt.Partitions {
			if tt.Topic == "wire" && p.ErrorCode != 0 && p.ErrorCode != kerr.OperationNotAttempted.Code {
				t.Fatalf("verify of an added partition: %v", kerr.ErrorForCode(p.ErrorCode))
			}
		}
	}

	// WriteTxnMarkers, the inter-broker path (franz-go routes it to the
	// partition leader, so only known partitions are sent).
	wm := kmsg.NewPtrWriteTxnMarkersRequest()
	wm.Markers = []kmsg.WriteTxnMarkersRequestMarker{{ProducerID: pid, ProducerEpoch: 1, Committed: false,
		Topics: []kmsg.WriteTxnMarkersRequestMarkerTopic{{Topic: "wire", Partitions: []int32{0}}}}}
	wresp, err := wm.RequestWith(ctx, cl)
	if err != nil || len(wresp.Markers) != 1 || len(wresp.Markers[0].Topics) != 1 {
		t.Fatalf("WriteTxnMarkers: %v %+v", err, wresp)
	}
	wantCode(t, "marker", wresp.Markers[0].Topics[0].Partitions[0].ErrorCode, nil)

	// The transaction ends normally (its marker already written is harmless).
	wantCode(t, "abort", func() int16 {
		req := kmsg.NewPtrEndTxnRequest()
		req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Commit = "wire-tx", pid, 1, false
		resp, err := req.RequestWith(ctx, pinned(t, n, kmsg.EndTxn, 4))
		if err != nil {
			t.Fatal(err)
		}
		return resp.ErrorCode
	}(), nil)
	if d := describe(t, n, "wire-tx"); d.State != "CompleteAbort" {
		t.Fatalf("after abort: %+v", d)
	}
}
