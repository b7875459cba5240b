package security_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/samsa-streaming/samsa/internal/clustertest"
	"github.com/samsa-streaming/samsa/internal/tlsconf/tlstest"
)

// The cluster's own traffic over SASL: followers and the inter-broker
// client log in to the INTERNAL listener (SASL_PLAINTEXT) with
// SCRAM-SHA-512 as User:broker (bootstrapped by --add-scram), and the raft
// transport logs in to the CONTROLLER listener (SASL_PLAINTEXT) with
// PLAIN, whose users are its JAAS user_ entries. The test's clients are
// User:broker on INTERNAL (a super user) and User:alice there (no ACLs),
// and User:ANONYMOUS on the PLAINTEXT listener.

const (
	ibPassword  = "broker-secret"
	ctlPassword = "controller-secret"
)

// saslClusterConfig is the nodes' server.properties, with the password
// the broker logs in to INTERNAL with.
func saslClusterConfig(ibPass string) string {
	return saslClusterConfigCtl(ibPass, ctlPassword)
}

// saslClusterConfigCtl is saslClusterConfig with the password the node
// logs in to CONTROLLER with (the logins it accepts stay ctlPassword).
func saslClusterConfigCtl(ibPass, ctlPass string) string {
	return `listener.security.protocol.map=PLAINTEXT:PLAINTEXT,INTERNAL:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT
inter.broker.listener.name=INTERNAL
controller.listener.names=CONTROLLER
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
sasl.mechanism.controller.protocol=PLAIN
listener.name.internal.sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.internal.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="broker" password="` + ibPass + `";
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.sasl.plain.plaintext.enable=true
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="broker" password="` + ctlPass + `" user_broker="` + ctlPassword + `";
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:broker
allow.everyone.if.no.acl.found=false
replica.lag.time.max.ms=3000
`
}

func startSASLCluster(t *testing.T) *clustertest.Cluster {
	t.Helper()
	c := clustertest.StartCluster(t, 3, clustertest.ClusterOptions{
		InterBrokerListener: "INTERNAL",
		Config:              saslClusterConfig(ibPassword),
		Args: []string{
			"--add-scram", "SCRAM-SHA-512=[name=broker,password=" + ibPassword + "]",
			"--add-scram", "SCRAM-SHA-512=[name=alice,password=alice-secret]",
		},
	})
	for _, cn := range c.Nodes {
		log, _ := os.ReadFile(cn.LogPath)
		for _, want := range []string{"controller listener uses SASL", "inter-broker listener uses SASL"} {
			if !strings.Contains(string(log), want) {
				t.Fatalf("node %d does not log %q", cn.ID, want)
			}
		}
	}
	return c
}

// internalClient logs in to the INTERNAL listeners with SCRAM-SHA-512.
func internalClient(t *testing.T, c *clustertest.Cluster, user, pass string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	var seeds []string
	for _, b := range c.Brokers() {
		seeds = append(seeds, b.ReplicationAddr)
	}
	opts = append([]kgo.Opt{kgo.SeedBrokers(seeds...), kgo.SASL(scram.Auth{User: user, Pass: pass}.AsSha512Mechanism())}, opts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// TestClusterSASL: a 3-node cluster whose inter-broker and controller
// listeners are SASL_PLAINTEXT replicates an RF=3 topic with acks=all and
// a full ISR; no client without ClusterAction is served a follower's
// fetch; a broker with a wrong inter-broker password logs an
// authentication error and stays out of the ISR until its password is
// right again.
func TestClusterSASL(t *testing.T) {
	c := startSASLCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	admin := internalClient(t, c, "broker", ibPassword, kgo.RequiredAcks(kgo.AllISRAcks()), kgo.ConsumeTopics("replicated"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	adm := kadm.NewClient(admin)
	if _, err := adm.CreateTopic(ctx, 3, 3, map[string]*string{"min.insync.replicas": new("2")}, "replicated"); err != nil {
		t.Fatalf("create topic: %v", err)
	}
	produce(ctx, t, admin, "replicated", 0, 30)
	waitISR(ctx, t, adm, "replicated", []int32{1, 2, 3})
	consumeN(ctx, t, admin, 30)

	refuseFollowerPosing(ctx, t, c, adm)

	// Node 3 with a wrong password for INTERNAL: it cannot fetch.
	n3 := c.Node(3)
	cfgPath := filepath.Join(filepath.Dir(n3.LogPath), "server.properties")
	writeConfig(t, cfgPath, saslClusterConfig("wrong-password"))
	n3.Restart(t)
	waitLog(ctx, t, n3.LogPath, "inter-broker SASL authentication failed")
	waitISR(ctx, t, adm, "replicated", []int32{1, 2})
	// Records node 3 would have to fetch to get back in.
	produce(ctx, t, internalClient(t, c, "broker", ibPassword, kgo.RequiredAcks(kgo.AllISRAcks())), "replicated", 30, 10)
	isr := isrOf(ctx, t, adm, "replicated")
	for p, ids := range isr {
		if slices.Contains(ids, 3) {
			t.Fatalf("partition %d: ISR %v holds node 3, which cannot authenticate to fetch", p, ids)
		}
	}
	// The right password again: node 3 catches up and rejoins every ISR.
	writeConfig(t, cfgPath, saslClusterConfig(ibPassword))
	n3.Restart(t)
	waitISR(ctx, t, adm, "replicated", []int32{1, 2, 3})

	// A wrong password for CONTROLLER: node 3's raft logins are refused,
	// so it cannot register and never becomes ready; the others log why.
	writeConfig(t, cfgPath, saslClusterConfigCtl(ibPassword, "wrong-password"))
	if err := n3.TryRestart(t); err == nil {
		t.Fatal("node 3 joined with a wrong controller password")
	}
	waitLog(ctx, t, n3.LogPath, "controller: SASL authentication failed: PLAIN")
	// Node 3 dials the nodes it has to talk to (at least the leader).
	refusal := `msg="refused a raft transport connection"`
	why := `node 3: SASL PLAIN: sasl: authentication failed: PLAIN: invalid username or password for \"broker\"`
	var refusedBy []int32
	for _, id := range []int32{1, 2} {
		for _, line := range strings.Split(readLog(t, c.Node(id).LogPath), "\n") {
			if strings.Contains(line, refusal) && strings.Contains(line, why) {
				refusedBy = append(refusedBy, id)
				break
			}
		}
	}
	if len(refusedBy) == 0 {
		t.Fatalf("neither node 1 nor node 2 logs %s with %s", refusal, why)
	}
	writeConfig(t, cfgPath, saslClusterConfig(ibPassword))
	n3.Restart(t)
	waitISR(ctx, t, adm, "replicated", []int32{1, 2, 3})
}

// refuseFollowerPosing: a replica fetch (ReplicaID 2) from User:ANONYMOUS
// on the PLAINTEXT listener closes the connection, and from User:alice on
// the INTERNAL listener is answered TOPIC_AUTHORIZATION_FAILED.
func refuseFollowerPosing(ctx context.Context, t *testing.T, c *clustertest.Cluster, adm *kadm.Client) {
	t.Helper()
	md, err := adm.Metadata(ctx, "replicated")
	if err != nil {
		t.Fatal(err)
	}
	td := md.Topics["replicated"]
	leader := td.Partitions[0].Leader
	req := kmsg.NewPtrFetchRequest()
	req.ReplicaID, req.ReplicaState.ID, req.ReplicaState.Epoch = 2, 2, -1
	req.MaxWaitMillis, req.MaxBytes = 10, 1<<20
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic, rt.TopicID = "replicated", td.ID
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.Partition, rp.PartitionMaxBytes, rp.CurrentLeaderEpoch, rp.LastFetchedEpoch = 0, 1<<20, -1, -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	if resp, err := c.Node(leader).Request(ctx, req); err == nil {
		t.Fatalf("node %d served a follower's fetch from User:ANONYMOUS on its client listener: %+v", leader, resp)
	}
	alice := internalClient(t, c, "alice", "alice-secret")
	resp, err := alice.Broker(int(leader)).Request(ctx, req)
	if err != nil {
		t.Fatalf("alice's replica fetch: %v", err)
	}
	fr := resp.(*kmsg.FetchResponse)
	if len(fr.Topics) != 1 || len(fr.Topics[0].Partitions) != 1 ||
		fr.Topics[0].Partitions[0].ErrorCode != kerr.TopicAuthorizationFailed.Code || len(fr.Topics[0].Partitions[0].RecordBatches) != 0 {
		t.Fatalf("alice (no ClusterAction) fetching as follower 2 got %+v, want TOPIC_AUTHORIZATION_FAILED and no records", fr.Topics)
	}
}

func produce(ctx context.Context, t *testing.T, cl *kgo.Client, topic string, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		r := &kgo.Record{Topic: topic, Value: fmt.Appendf(nil, "v%d", i)}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatalf("produce %d with acks=all: %v", i, err)
		}
	}
}

func consumeN(ctx context.Context, t *testing.T, cl *kgo.Client, n int) {
	t.Helper()
	seen := map[string]bool{}
	for len(seen) < n {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %d of %d records: %v", len(seen), n, err)
		}
		fs.EachError(func(_ string, _ int32, err error) { t.Logf("fetch: %v", err) })
		fs.EachRecord(func(r *kgo.Record) { seen[string(r.Value)] = true })
	}
	for i := range n {
		if !seen[fmt.Sprintf("v%d", i)] {
			t.Fatalf("record v%d not consumed", i)
		}
	}
}

func isrOf(ctx context.Context, t *testing.T, adm *kadm.Client, topic string) map[int32][]int32 {
	t.Helper()
	md, err := adm.Metadata(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int32][]int32{}
	for p, pd := range md.Topics[topic].Partitions {
		isr := slices.Clone(pd.ISR)
		slices.Sort(isr)
		out[p] = isr
	}
	return out
}

func waitISR(ctx context.Context, t *testing.T, adm *kadm.Client, topic string, want []int32) {
	t.Helper()
	for {
		isr := isrOf(ctx, t, adm, topic)
		full := len(isr) > 0
		for _, ids := range isr {
			full = full && slices.Equal(ids, want)
		}
		if full {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("ISR of %s is %v, want %v everywhere", topic, isr, want)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func waitLog(ctx context.Context, t *testing.T, path, want string) {
	t.Helper()
	for {
		if b, _ := os.ReadFile(path); strings.Contains(string(b), want) {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s never logged %q", path, want)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func writeConfig(t *testing.T, path, cfg string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(errors.Join(errors.New("rewrite node config"), err))
	}
}

// TestClusterSASLSSL: the same cluster over SASL_SSL (TLS without client
// certificates, then SASL), with PLAIN between brokers too: its users are
// the INTERNAL listener's JAAS user_ entries, plus a broker-only node. An
// RF=4 topic takes acks=all writes with a full ISR and its records are
// read back.
func TestClusterSASLSSL(t *testing.T) {
	dir := t.TempDir()
	ca := tlstest.NewCA(t, "Samsa SASL_SSL CA")
	leaf := ca.Issue(t, tlstest.Options{Subject: pkix.Name{CommonName: "node"},
		DNSNames: []string{"localhost"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
	keystore, caFile := filepath.Join(dir, "node.keystore.pem"), filepath.Join(dir, "ca.pem")
	tlstest.WriteFile(t, keystore, []byte(leaf.KeystorePEM()))
	tlstest.WriteFile(t, caFile, []byte(ca.CertPEM))
	plainJAAS := func(pw string) string {
		return `org.apache.kafka.common.security.plain.PlainLoginModule required username="broker" password="` + pw + `" user_broker="` + pw + `";`
	}
	var cfg strings.Builder
	cfg.WriteString(`listener.security.protocol.map=PLAINTEXT:PLAINTEXT,INTERNAL:SASL_SSL,CONTROLLER:SASL_SSL
inter.broker.listener.name=INTERNAL
controller.listener.names=CONTROLLER
sasl.mechanism.inter.broker.protocol=PLAIN
sasl.mechanism.controller.protocol=PLAIN
sasl.enabled.mechanisms=PLAIN
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:broker
allow.everyone.if.no.acl.found=false
`)
	for _, l := range []string{"internal", "controller"} {
		fmt.Fprintf(&cfg, "listener.name.%[1]s.ssl.keystore.type=PEM\nlistener.name.%[1]s.ssl.keystore.location=%[2]s\n", l, keystore)
		fmt.Fprintf(&cfg, "listener.name.%[1]s.ssl.truststore.type=PEM\nlistener.name.%[1]s.ssl.truststore.location=%[2]s\n", l, caFile)
		fmt.Fprintf(&cfg, "listener.name.%s.plain.sasl.jaas.config=%s\n", l, plainJAAS("pw-"+l))
	}
	// A broker-only node too: it follows the log as a raft learner, over
	// the same SASL_SSL controller listener.
	c := clustertest.StartCluster(t, 3, clustertest.ClusterOptions{InterBrokerListener: "INTERNAL", Config: cfg.String(), Brokers: 1})
	for _, cn := range c.Nodes {
		log, _ := os.ReadFile(cn.LogPath)
		for _, want := range []string{`msg="controller listener uses SASL" listener=CONTROLLER protocol=SASL_SSL`, `msg="inter-broker listener uses SASL" listener=INTERNAL protocol=SASL_SSL mechanism=PLAIN`} {
			if !strings.Contains(string(log), want) {
				t.Fatalf("node %d does not log %q", cn.ID, want)
			}
		}
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	var seeds []string
	for _, b := range c.Brokers() {
		seeds = append(seeds, b.ReplicationAddr)
	}
	admin, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.DialTLSConfig(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}),
		kgo.SASL(plain.Auth{User: "broker", Pass: "pw-internal"}.AsMechanism()), kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ConsumeTopics("replicated-tls"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	adm := kadm.NewClient(admin)
	// RF=4: every partition on every node, the broker-only one included.
	if _, err := adm.CreateTopic(ctx, 4, 4, map[string]*string{"min.insync.replicas": new("4")}, "replicated-tls"); err != nil {
		t.Fatalf("create topic: %v", err)
	}
	produce(ctx, t, admin, "replicated-tls", 0, 30)
	waitISR(ctx, t, adm, "replicated-tls", []int32{1, 2, 3, 4})
	consumeN(ctx, t, admin, 30)
}

func readLog(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
