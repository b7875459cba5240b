package hardening

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// ibFreeAddr is a free loopback address for --replication-listen.
func ibFreeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestInterBrokerRequestsRefusedOnClientListener: with a replication
// listener of its own, the broker refuses on the client listener a plain
// client posing as follower 2 (a replica Fetch that would move the high
// watermark), a replica OffsetForLeaderEpoch and a forged WriteTxnMarkers
// (an ABORT that would fence producers): the connection is closed, and
// the follower-only requests are still served on the replication
// listener.
func TestInterBrokerRequestsRefusedOnClientListener(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the samsa binary")
	}
	repl := ibFreeAddr(t)
	n := clustertest.Start(t, clustertest.Options{Args: []string{"--replication-listen", repl}})
	cl := n.Client(t)
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if r, err := adm.CreateTopic(ctx, 1, 1, nil, "ib"); err != nil || r.Err != nil {
		t.Fatalf("create topic: %v %v", err, r.Err)
	}
	fetch := kmsg.NewPtrFetchRequest()
	fetch.Version, fetch.ReplicaID, fetch.MaxWaitMillis, fetch.MaxBytes = 12, 2, 10, 1<<20
	fetch.ReplicaState.ID, fetch.ReplicaState.Epoch = 2, -1 // kgo may send v15+
	ft := kmsg.NewFetchRequestTopic()
	ft.Topic = "ib"
	fp := kmsg.NewFetchRequestTopicPartition()
	fp.PartitionMaxBytes = 1 << 20
	ft.Partitions = append(ft.Partitions, fp)
	fetch.Topics = append(fetch.Topics, ft)
	oep := kmsg.NewPtrOffsetForLeaderEpochRequest()
	oep.Version, oep.ReplicaID = 4, 2
	markers := kmsg.NewPtrWriteTxnMarkersRequest()
	m := kmsg.NewWriteTxnMarkersRequestMarker()
	m.ProducerID, m.ProducerEpoch, m.Committed = 1000, 0, false
	markers.Markers = append(markers.Markers, m)

	for _, req := range []kmsg.Request{fetch, oep, markers} {
		c, err := kgo.NewClient(kgo.SeedBrokers(n.Addr), kgo.RequestRetries(0))
		if err != nil {
			t.Fatal(err)
		}
		rctx, rcancel := context.WithTimeout(ctx, 10*time.Second)
		_, err = c.Request(rctx, req)
		rcancel()
		c.Close()
		if err == nil {
			t.Fatalf("%s from a client on the client listener was answered", kmsg.NameForKey(req.Key()))
		}
	}
	// The replication listener serves a follower's fetch.
	rc, err := kgo.NewClient(kgo.SeedBrokers(repl), kgo.RequestRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, err := rc.Request(ctx, fetch); err != nil {
		t.Fatalf("replica fetch on the replication listener %s: %v", repl, err)
	}
	// KIP-903: a follower's fetch naming a broker epoch that is not its
	// current registration's (an older incarnation) is refused.
	stale := *fetch
	stale.Version, stale.ReplicaState.ID, stale.ReplicaState.Epoch = 15, 1, 1<<40
	sc, err := kgo.NewClient(kgo.SeedBrokers(repl), kgo.RequestRetries(0), kgo.MaxVersions(kversion.V4_0_0()))
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	resp, err := sc.Request(ctx, &stale)
	if err != nil {
		t.Fatal(err)
	}
	if code := resp.(*kmsg.FetchResponse).ErrorCode; code != kerr.StaleBrokerEpoch.Code {
		t.Fatalf("fetch with a stale broker epoch: error %d, want STALE_BROKER_EPOCH", code)
	}
	// Consumers on the client listener are unaffected.
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "ib", Value: []byte(strconv.Itoa(1))}).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
}
