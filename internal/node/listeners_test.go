package node

import (
	"context"
	"net"
	"strconv"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/config"
)

// TestSeveralListeners serves two named PLAINTEXT listeners: a client is
// told the brokers' addresses on the listener it connected through, as
// Kafka answers Metadata, and records flow through either.
func TestSeveralListeners(t *testing.T) {
	b := config.Broker{}.Defaults()
	for k, v := range map[string]string{
		"listeners":                      "EXTERNAL://127.0.0.1:0,INTERNAL://127.0.0.1:0",
		"listener.security.protocol.map": "EXTERNAL:PLAINTEXT,INTERNAL:PLAINTEXT",
		"inter.broker.listener.name":     "INTERNAL",
	} {
		if err := b.SetValue(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Resolve(); err != nil {
		t.Fatal(err)
	}
	cfg := singleConfig(t, t.TempDir())
	cfg.Broker = &b
	n, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	ext, in := n.ListenerAddr("EXTERNAL"), n.ListenerAddr("INTERNAL")
	if ext == "" || in == "" || ext == in || ext != n.Addr() {
		t.Fatalf("listeners EXTERNAL %q INTERNAL %q (Addr %q)", ext, in, n.Addr())
	}
	for _, addr := range []string{ext, in} {
		cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := kmsg.NewPtrMetadataRequest().RequestWith(context.Background(), cl)
		cl.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Brokers) != 1 {
			t.Fatalf("metadata through %s: brokers %+v", addr, resp.Brokers)
		}
		got := resp.Brokers[0]
		if want := addr; net.JoinHostPort(got.Host, strconv.Itoa(int(got.Port))) != want {
			t.Fatalf("metadata through %s answers %s:%d", addr, got.Host, got.Port)
		}
	}
	if net.JoinHostPort(n.reg.ReplicationHost, strconv.Itoa(int(n.reg.ReplicationPort))) != in {
		t.Fatalf("followers fetch from %s:%d, want the INTERNAL listener %s", n.reg.ReplicationHost, n.reg.ReplicationPort, in)
	}
	createTopic(t, []string{in}, "via-internal", 1, 1)
	produce(t, []string{ext}, "via-internal", "v", 20)
	if got := consumeAll(t, []string{in}, "via-internal", 20); len(got) != 20 {
		t.Fatalf("consumed %d through INTERNAL", len(got))
	}
}
