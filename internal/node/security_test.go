package node

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/samsa-streaming/samsa/internal/config"
	"github.com/samsa-streaming/samsa/internal/metadata"
)

// brokerWith returns Kafka's defaults with props set.
func brokerWith(t testing.TB, props map[string]string) *config.Broker {
	t.Helper()
	b := config.Broker{}.Defaults()
	for k, v := range props {
		if err := b.SetValue(k, v); err != nil {
			if b.Unknown == nil {
				b.Unknown = map[string]string{}
			}
			b.Unknown[k] = v // listener-prefixed security settings
		}
	}
	if err := b.Resolve(); err != nil {
		t.Fatal(err)
	}
	return &b
}

// TestSCRAMListener bootstraps a SCRAM user with --add-scram on a new
// metadata log and authenticates franz-go's SCRAM client on a
// SASL_PLAINTEXT listener; a wrong password and an unknown user fail with
// SASL_AUTHENTICATION_FAILED; a second start does not recreate the user.
func TestSCRAMListener(t *testing.T) {
	cfg := singleConfig(t, t.TempDir())
	cfg.Broker = brokerWith(t, map[string]string{
		"listeners":               "SASL_PLAINTEXT://127.0.0.1:0",
		"sasl.enabled.mechanisms": "SCRAM-SHA-256,SCRAM-SHA-512",
	})
	cfg.AddScram = []string{"SCRAM-SHA-512=[name=alice,password=alice-secret]", "SCRAM-SHA-256=[name=alice,password=alice-secret,iterations=8192]"}
	n, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { n.Close() }()
	if c := n.ctl.Image().Scram["alice"]; len(c) != 2 || c["SCRAM-SHA-256"].Iterations != 8192 {
		t.Fatalf("credentials %+v", c)
	}
	ok := func(m kgo.Opt) {
		t.Helper()
		cl, err := kgo.NewClient(kgo.SeedBrokers(n.Addr()), m, kgo.DefaultProduceTopic("scram"), kgo.AllowAutoTopicCreation())
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte("v")}).FirstErr(); err != nil {
			t.Fatalf("produce over SCRAM: %v", err)
		}
	}
	ok(kgo.SASL(scram.Auth{User: "alice", Pass: "alice-secret"}.AsSha512Mechanism()))
	ok(kgo.SASL(scram.Auth{User: "alice", Pass: "alice-secret"}.AsSha256Mechanism()))
	for _, bad := range []scram.Auth{{User: "alice", Pass: "wrong"}, {User: "mallory", Pass: "alice-secret"}} {
		cl, err := kgo.NewClient(kgo.SeedBrokers(n.Addr()), kgo.SASL(bad.AsSha512Mechanism()), kgo.RequestRetries(0))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = cl.Ping(ctx)
		cancel()
		cl.Close()
		if !errors.Is(err, kerr.SaslAuthenticationFailed) {
			t.Fatalf("%s/%s: %v, want SASL_AUTHENTICATION_FAILED", bad.User, bad.Pass, err)
		}
	}
	// KIP-554's admin APIs through kadm: create bob, who then logs in;
	// describe shows mechanisms and iterations; delete, and bob is gone.
	admCl, err := kgo.NewClient(kgo.SeedBrokers(n.Addr()), kgo.SASL(scram.Auth{User: "alice", Pass: "alice-secret"}.AsSha512Mechanism()))
	if err != nil {
		t.Fatal(err)
	}
	defer admCl.Close()
	adm := kadm.NewClient(admCl)
	ctx := context.Background()
	altered, err := adm.AlterUserSCRAMs(ctx, nil, []kadm.UpsertSCRAM{{User: "bob", Mechanism: kadm.ScramSha256, Iterations: 4096, Password: "bob-secret"}})
	if err != nil || altered.Error() != nil {
		t.Fatalf("alter: %v %v", err, altered.Error())
	}
	ok(kgo.SASL(scram.Auth{User: "bob", Pass: "bob-secret"}.AsSha256Mechanism()))
	described, err := adm.DescribeUserSCRAMs(ctx, "bob", "nobody")
	if err != nil {
		t.Fatal(err)
	}
	if d := described["bob"]; d.Err != nil || len(d.CredInfos) != 1 || d.CredInfos[0].Iterations != 4096 || d.CredInfos[0].Mechanism != kadm.ScramSha256 {
		t.Fatalf("describe bob: %+v", d)
	}
	if d := described["nobody"]; !errors.Is(d.Err, kerr.ResourceNotFound) {
		t.Fatalf("describe nobody: %+v", d)
	}
	bad, err := adm.AlterUserSCRAMs(ctx, []kadm.DeleteSCRAM{{User: "nobody", Mechanism: kadm.ScramSha256}}, []kadm.UpsertSCRAM{{User: "carol", Mechanism: kadm.ScramSha256, Iterations: 100, Password: "x"}})
	if err == nil && (bad["nobody"].Err == nil || bad["carol"].Err == nil) {
		t.Fatalf("bad alterations accepted: %+v", bad)
	}
	if _, err := adm.AlterUserSCRAMs(ctx, []kadm.DeleteSCRAM{{User: "bob", Mechanism: kadm.ScramSha256}}, nil); err != nil {
		t.Fatal(err)
	}
	if _, ok := n.ctl.Image().Scram["bob"]; ok {
		t.Fatal("bob's credential survived its deletion")
	}

	// A restart with the same --add-scram leaves a deleted credential
	// deleted: the log is not new.
	if _, err := n.ctl.Propose(context.Background(), metadata.RemoveScram{User: "alice", Mechanism: "SCRAM-SHA-512"}); err != nil {
		t.Fatal(err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if n, err = Start(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	if c := n.ctl.Image().Scram["alice"]; len(c) != 1 {
		t.Fatalf("after restart: credentials %+v", c)
	}
}
