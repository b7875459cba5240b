package chaos_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// Scenarios on a cluster whose own traffic is SASL (startSASLCluster)
// instead of mutual TLS: the fault harness must find nothing new there
// either.

func TestSecureSASLKillLeaderLoop(t *testing.T) { killLeaderLoop(t, startSASLCluster) }

func TestSecureSASLRollingRestartUnderLoad(t *testing.T) { rollingRestart(t, startSASLCluster) }

// saslSecureConfig secures a cluster with SASL (%[1]s: the brokers'
// SCRAM password, %[2]s: the controller listener's PLAIN password):
//   - raft: the CONTROLLER listener is SASL_PLAINTEXT, the nodes log in
//     with PLAIN as User:broker (the JAAS user_broker entry);
//   - between brokers: the INTERNAL listener (SASL_PLAINTEXT,
//     SCRAM-SHA-512) is inter.broker.listener.name, the brokers log in as
//     User:broker (--add-scram);
//   - StandardAuthorizer, nothing allowed without an ACL; User:broker and
//     User:admin (SCRAM, the test's admin) are super users.
const saslSecureConfig = `listener.security.protocol.map=PLAINTEXT:PLAINTEXT,INTERNAL:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT
inter.broker.listener.name=INTERNAL
controller.listener.names=CONTROLLER
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
sasl.mechanism.controller.protocol=PLAIN
listener.name.internal.sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.internal.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="broker" password="%[1]s";
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.sasl.plain.plaintext.enable=true
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="broker" password="%[2]s" user_broker="%[2]s";
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:broker;User:admin
allow.everyone.if.no.acl.found=false
`

// startSASLCluster is startSecureCluster with SASL (saslSecureConfig) for
// the cluster's own traffic, Proxied: the proxies forward the SASL
// exchanges with the rest.
func startSASLCluster(t *testing.T, n int, opts clustertest.ClusterOptions) *clustertest.Cluster {
	t.Helper()
	opts.Proxied = true
	opts.InterBrokerListener = "INTERNAL"
	opts.Config = fmt.Sprintf(saslSecureConfig, "broker-secret", "controller-secret") + opts.Config
	opts.Args = append(opts.Args,
		"--add-scram", "SCRAM-SHA-512=[name=broker,password=broker-secret]",
		"--add-scram", "SCRAM-SHA-512=[name=admin,password=admin-secret]")
	c := startCluster(t, n, opts)
	for _, cn := range c.Nodes {
		log, _ := os.ReadFile(cn.LogPath)
		for _, want := range []string{"controller listener uses SASL", "inter-broker listener uses SASL"} {
			if !strings.Contains(string(log), want) {
				t.Fatalf("node %d does not log %q", cn.ID, want)
			}
		}
	}
	grantClientACLs(t, c, kgo.SASL(scram.Auth{User: "admin", Pass: "admin-secret"}.AsSha512Mechanism()))
	checkRefused(t, c)
	t.Cleanup(func() { checkProxiedTLS(t, c) })
	return c
}
