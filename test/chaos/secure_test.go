package chaos_test

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
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/clustertest"
	"github.com/samsa-streaming/samsa/internal/tlsconf/tlstest"
)

// The scenarios again on a secured cluster (startSecureCluster): the
// fault harness must find nothing new when the cluster's own traffic is
// mutual TLS and every request is authorized.

func TestSecureKillLeaderLoop(t *testing.T) { killLeaderLoop(t, startSecureCluster) }

func TestSecurePauseLeaderPastSession(t *testing.T) {
	pauseLeaderPastSession(t, startSecureCluster)
}

func TestSecurePartitionLeaderFromFollowersAndControllers(t *testing.T) {
	partitionLeader(t, startSecureCluster)
}

func TestSecureRollingRestartUnderLoad(t *testing.T) { rollingRestart(t, startSecureCluster) }

// clientPrincipal is the scenarios' own clients: they connect to the
// PLAINTEXT listener, unauthenticated.
const clientPrincipal = "User:ANONYMOUS"

// secureConfig secures a cluster (%[1]s: the nodes' keystore, %[2]s: the
// CA):
//   - raft: the CONTROLLER listener is SSL, client certificates required;
//   - between brokers: the INTERNAL listener (SSL, client certificates
//     required) is inter.broker.listener.name, so followers and the
//     inter-broker client present the node's certificate;
//   - StandardAuthorizer, nothing allowed without an ACL; the nodes'
//     certificate (CN=broker → User:broker) and the test's admin
//     certificate (CN=admin) are super users.
const secureConfig = `listener.security.protocol.map=PLAINTEXT:PLAINTEXT,INTERNAL:SSL,CONTROLLER:SSL
inter.broker.listener.name=INTERNAL
controller.listener.names=CONTROLLER
listener.name.internal.ssl.keystore.type=PEM
listener.name.internal.ssl.keystore.location=%[1]s
listener.name.internal.ssl.truststore.type=PEM
listener.name.internal.ssl.truststore.location=%[2]s
listener.name.internal.ssl.client.auth=required
listener.name.controller.ssl.keystore.type=PEM
listener.name.controller.ssl.keystore.location=%[1]s
listener.name.controller.ssl.truststore.type=PEM
listener.name.controller.ssl.truststore.location=%[2]s
ssl.principal.mapping.rules=RULE:^CN=([^,]+).*$/$1/,DEFAULT
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:broker;User:admin
allow.everyone.if.no.acl.found=false
`

// startSecureCluster is startCluster for a secured cluster (secureConfig),
// always Proxied: the raft proxies and the replication proxies (in front
// of the INTERNAL listeners) forward the TLS bytes. The admin certificate,
// on the INTERNAL listener, grants the scenarios' clients on the
// PLAINTEXT listener (clientPrincipal) what they use: everything on
// topics and groups named chaos-*, Describe (DescribeQuorum) and
// IdempotentWrite on the cluster. Before returning it checks that the
// authorizer refuses that principal what it was not granted.
func startSecureCluster(t *testing.T, n int, opts clustertest.ClusterOptions) *clustertest.Cluster {
	t.Helper()
	keystore, caFile, admin := writeSecureCerts(t)
	opts.Proxied = true
	opts.InterBrokerListener = "INTERNAL"
	opts.Config = fmt.Sprintf(secureConfig, keystore, caFile) + opts.Config
	c := startCluster(t, n, opts)
	for _, cn := range c.Nodes {
		if log, _ := os.ReadFile(cn.LogPath); !strings.Contains(string(log), "controller listener uses mutual TLS") {
			t.Fatalf("node %d does not log that its controller listener uses mutual TLS", cn.ID)
		}
	}
	grantClientACLs(t, c, kgo.DialTLSConfig(admin))
	checkRefused(t, c)
	t.Cleanup(func() { checkProxiedTLS(t, c) })
	return c
}

// writeSecureCerts writes the nodes' keystore (CN=broker, for 127.0.0.1
// and localhost, server and client use) and the CA, and returns their
// paths and the TLS configuration of an admin client (CN=admin).
func writeSecureCerts(t *testing.T) (keystore, caFile string, admin *tls.Config) {
	t.Helper()
	dir := t.TempDir()
	ca := tlstest.NewCA(t, "Samsa Chaos CA")
	node := ca.Issue(t, tlstest.Options{Subject: pkix.Name{CommonName: "broker"},
		DNSNames: []string{"localhost"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
	keystore, caFile = filepath.Join(dir, "broker.keystore.pem"), filepath.Join(dir, "ca.pem")
	tlstest.WriteFile(t, keystore, []byte(node.KeystorePEM()))
	tlstest.WriteFile(t, caFile, []byte(ca.CertPEM))
	leaf := ca.Client(t, pkix.Name{CommonName: "admin"})
	cert, err := tls.X509KeyPair([]byte(leaf.ChainPEM), []byte(leaf.KeyPEM))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	return keystore, caFile, &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool, MinVersion: tls.VersionTLS12}
}

// grantClientACLs creates clientPrincipal's ACLs as the admin (a client
// with the admin options: its TLS or SASL), through the brokers' INTERNAL
// listeners, and waits until every broker applies them.
func grantClientACLs(t *testing.T, c *clustertest.Cluster, admin ...kgo.Opt) {
	t.Helper()
	var seeds []string
	for _, b := range c.Brokers() {
		seeds = append(seeds, b.ReplicationAddr)
	}
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(seeds...)}, admin...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// The cluster's ACL last: the metadata log is applied in order, so a
	// broker that lets the client describe the quorum has them all.
	for _, b := range []*kadm.ACLBuilder{
		kadm.NewACLs().Allow(clientPrincipal).AllowHosts().Topics("chaos-").Groups("chaos-").
			ResourcePatternType(kadm.ACLPatternPrefixed).Operations(kadm.OpAll),
		kadm.NewACLs().Allow(clientPrincipal).AllowHosts().Clusters().
			Operations(kadm.OpDescribe, kadm.OpIdempotentWrite),
	} {
		res, err := adm.CreateACLs(ctx, b)
		if err == nil {
			for _, r := range res {
				err = errors.Join(err, r.Err)
			}
		}
		if err != nil {
			t.Fatalf("create ACLs as User:admin: %v", err)
		}
	}
	anon := c.Client(t)
	for _, b := range c.Brokers() {
		for {
			rctx, rcancel := context.WithTimeout(ctx, 3*time.Second)
			_, err := clustertest.DescribeQuorum(rctx, anon, b.ID)
			rcancel()
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("node %d: %s cannot describe the quorum 30s after its ACL: %v", b.ID, clientPrincipal, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// checkRefused: the scenarios' clients hold ACLs, not rights: a topic
// outside chaos-* is refused, and so is a follower's fetch (ClusterAction)
// on the client listener.
func checkRefused(t *testing.T, c *clustertest.Cluster) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := createTopicVia(ctx, c.Client(t), c.Brokers()[0].ID, "denied-topic", 1, 3, nil)
	if !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Fatalf("%s creating a topic it has no ACL for: %v, want TOPIC_AUTHORIZATION_FAILED", clientPrincipal, err)
	}
	req := kmsg.NewPtrFetchRequest()
	req.ReplicaID, req.ReplicaState.ID, req.ReplicaState.Epoch = 2, 2, -1
	req.MaxWaitMillis = 10
	for _, b := range c.Brokers() {
		resp, err := b.Request(ctx, req)
		if err == nil {
			t.Fatalf("node %d served a follower's fetch from %s on its client listener: %+v", b.ID, clientPrincipal, resp)
		}
	}
}

// checkProxiedTLS: the raft links and the followers' fetches went through
// the proxies, that is over the secured (SSL or SASL) listeners.
func checkProxiedTLS(t *testing.T, c *clustertest.Cluster) {
	t.Helper()
	var raft, repl int
	for _, from := range c.Nodes {
		for _, to := range c.Nodes {
			if p := c.RaftProxy(from.ID, to.ID); p != nil {
				raft += p.Accepted()
			}
		}
		if p := c.ReplicationProxy(from.ID); p != nil {
			repl += p.Accepted()
		}
	}
	if raft == 0 || repl == 0 {
		t.Errorf("the proxies carried %d raft and %d replication connections; want both above 0", raft, repl)
	}
}
