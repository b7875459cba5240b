package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// These tests run the client commands in-process against a real node
// (started by clustertest) whose one listener is SASL_PLAINTEXT (the
// PLAINTEXT listener mapped to it), with SCRAM and PLAIN, the
// StandardAuthorizer, and User:admin as super user: SASL logins, ACL,
// quota and SCRAM user administration. security_tls_e2e_test.go covers SSL
// and SASL_SSL listeners; testdata/e2e_security_test.go.txt holds a test
// that waits on a broker feature still being built (ACL checks on produce
// and fetch).

// secureNodeConfig is the node's server.properties.
const secureNodeConfig = `listener.security.protocol.map=PLAINTEXT:SASL_PLAINTEXT
sasl.enabled.mechanisms=SCRAM-SHA-512,SCRAM-SHA-256,PLAIN
sasl.plain.plaintext.enable=true
listener.name.plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required \
    user_alice="alice-secret";
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:admin
`

// secureNode starts the node and returns its address and the path of an
// admin client config (SCRAM-SHA-512, as Kafka's tools take it).
func secureNode(t *testing.T) (string, string) {
	t.Helper()
	t.Setenv(clientConfigEnv, "")
	node := clustertest.Start(t, clustertest.Options{
		Config: secureNodeConfig,
		Args:   []string{"--add-scram", "SCRAM-SHA-512=[name=admin,password=admin-secret]"},
	})
	admin := filepath.Join(t.TempDir(), "admin.properties")
	writeFile(t, admin, "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-512\n"+
		"sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required \\\n"+
		"    username=\"admin\" password=\"admin-secret\";\n")
	return node.Addr, admin
}

// cli runs samsa with args against addr and returns the result.
func cli(t *testing.T, addr string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return runSamsaStdin(ctx, "", append(args, "-b", addr, "--timeout", "10s")...)
}

// cliOK is cli that must succeed.
func cliOK(t *testing.T, addr string, args ...string) string {
	t.Helper()
	r := cli(t, addr, args...)
	if r.err != nil {
		t.Fatalf("samsa %s: %v\nstdout:\n%s", strings.Join(args, " "), r.err, r.stdout)
	}
	return r.stdout
}

// wantLines checks that out has every line (fields separated by any white
// space) of want.
func wantLines(t *testing.T, out string, want ...string) {
	t.Helper()
	have := map[string]bool{}
	for line := range strings.Lines(out) {
		have[strings.Join(strings.Fields(line), " ")] = true
	}
	for _, w := range want {
		if !have[w] {
			t.Fatalf("output lacks %q:\n%s", w, out)
		}
	}
}

// TestSecureClusterSASL: no credentials and a wrong password fail; the
// admin's SCRAM (--command-config) and alice's PLAIN (-X) work.
func TestSecureClusterSASL(t *testing.T) {
	addr, admin := secureNode(t)
	if r := cli(t, addr, "topic", "list"); r.err == nil {
		t.Fatal("a client without SASL listed topics")
	}
	bad := cli(t, addr, "topic", "list", "-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanism=SCRAM-SHA-512",
		"-X", "sasl.username=admin", "-X", "sasl.password=wrong")
	if bad.err == nil || !strings.Contains(bad.err.Error(), "SASL_AUTHENTICATION_FAILED") || strings.Contains(bad.err.Error(), "\n") {
		t.Fatalf("wrong password: %v", bad.err)
	}
	out := cliOK(t, addr, "topic", "create", "orders", "-p", "1", "--command-config", admin)
	if !strings.HasPrefix(out, "created topic orders") {
		t.Fatalf("create as admin: %q", out)
	}
	if out := cliOK(t, addr, "topic", "list", "--command-config", admin); !strings.Contains(out, "orders") {
		t.Fatalf("list as admin:\n%s", out)
	}
	alice := []string{"-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanism=PLAIN", "-X", "sasl.username=alice", "-X", "sasl.password=alice-secret", "-b", addr, "--timeout", "10s"}
	// The authorizer is on: alice produces and consumes once granted.
	cliOK(t, addr, "acl", "create", "--allow-principal", "User:alice", "--producer", "--topic", "orders", "--command-config", admin)
	cliOK(t, addr, "acl", "create", "--allow-principal", "User:alice", "--consumer", "--topic", "orders", "--group", "*", "--command-config", admin)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if r := runSamsaStdin(ctx, "k:v\n", append([]string{"produce", "orders"}, alice...)...); r.err != nil {
		t.Fatalf("alice's produce over PLAIN: %v", r.err)
	}
	if r := runSamsaStdin(ctx, "", append([]string{"consume", "orders", "--from", "beginning", "-n", "1"}, alice...)...); r.err != nil || !strings.Contains(r.stdout, "k:v") {
		t.Fatalf("alice's consume over PLAIN: %v\n%s", r.err, r.stdout)
	}
}

// TestSecureClusterACLs creates, lists and deletes ACLs as the super user;
// alice, without Describe on the cluster, cannot list them.
func TestSecureClusterACLs(t *testing.T) {
	addr, admin := secureNode(t)
	asAdmin := func(args ...string) string {
		t.Helper()
		return cliOK(t, addr, append(args, "--command-config", admin)...)
	}

	wantLines(t, asAdmin("acl", "create", "--allow-principal", "User:alice", "--producer", "--idempotent", "--topic", "orders", "--transactional-id", "tx"), "created 6 ACLs")
	wantLines(t, asAdmin("acl", "create", "--allow-principal", "User:alice", "--consumer", "--topic", "orders", "--group", "billing"), "created 3 ACLs")
	wantLines(t, asAdmin("acl", "create", "--deny-principal", "User:mallory", "--deny-host", "10.0.0.9", "--operation", "All", "--topic", "pay-", "--resource-pattern-type", "prefixed"), "created 1 ACL")
	wantLines(t, asAdmin("acl", "create", "--allow-principal", "User:admin", "--operation", "CreateTokens", "--user-principal", "User:alice"), "created 1 ACL")
	wantLines(t, asAdmin("acl", "list", "--topic", "orders"),
		"PRINCIPAL HOST OPERATION PERMISSION RESOURCE-TYPE NAME PATTERN",
		"User:alice * READ ALLOW TOPIC orders LITERAL",
		"User:alice * WRITE ALLOW TOPIC orders LITERAL",
		"User:alice * CREATE ALLOW TOPIC orders LITERAL",
		"User:alice * DESCRIBE ALLOW TOPIC orders LITERAL")
	wantLines(t, asAdmin("acl", "list"),
		"User:alice * IDEMPOTENT_WRITE ALLOW CLUSTER kafka-cluster LITERAL",
		"User:alice * READ ALLOW GROUP billing LITERAL",
		"User:alice * WRITE ALLOW TRANSACTIONAL_ID tx LITERAL",
		"User:mallory 10.0.0.9 ALL DENY TOPIC pay- PREFIXED",
		"User:admin * CREATE_TOKENS ALLOW USER User:alice LITERAL")
	wantLines(t, asAdmin("acl", "list", "--topic", "pay-orders", "--resource-pattern-type", "match"), "User:mallory 10.0.0.9 ALL DENY TOPIC pay- PREFIXED")

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	alice := runSamsaStdin(ctx, "", "acl", "list", "-b", addr, "-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanism=PLAIN",
		"-X", "sasl.username=alice", "-X", "sasl.password=alice-secret")
	if alice.err == nil || !strings.Contains(alice.err.Error(), "CLUSTER_AUTHORIZATION_FAILED") {
		t.Fatalf("alice listed ACLs: %v", alice.err)
	}

	wantLines(t, asAdmin("acl", "delete", "--allow-principal", "User:alice", "--topic", "orders", "--operation", "Write"),
		"User:alice * WRITE ALLOW TOPIC orders LITERAL", "dry run: no ACLs deleted; add --force to delete these 1 ACL")
	wantLines(t, asAdmin("acl", "delete", "--allow-principal", "User:alice", "--topic", "orders", "--operation", "Write", "--force"),
		"User:alice * WRITE ALLOW TOPIC orders LITERAL", "deleted 1 ACL")
	wantLines(t, asAdmin("acl", "delete", "--topic", "orders", "--force"), "deleted 3 ACLs")
	if out := asAdmin("acl", "list", "--topic", "orders"); strings.Contains(out, "User:alice") {
		t.Fatalf("ACLs left after delete:\n%s", out)
	}
}

func TestSecureClusterQuotas(t *testing.T) {
	addr, admin := secureNode(t)
	asAdmin := func(args ...string) string {
		t.Helper()
		return cliOK(t, addr, append(args, "--command-config", admin)...)
	}

	wantLines(t, asAdmin("quota", "alter", "--user", "alice", "--add", "producer_byte_rate=1024,consumer_byte_rate=2048"),
		"altered the quotas of user=alice: set producer_byte_rate=1024, consumer_byte_rate=2048")
	asAdmin("quota", "alter", "--user-default", "--client-id", "app", "--add", "request_percentage=50")
	wantLines(t, asAdmin("quota", "describe", "--user", "alice"),
		"ENTITY KEY VALUE", "user=alice consumer_byte_rate 2048", "user=alice producer_byte_rate 1024")
	asAdmin("quota", "alter", "--user", "alice", "--delete", "consumer_byte_rate")
	out := asAdmin("quota", "describe")
	wantLines(t, out, "user=alice producer_byte_rate 1024", "user=<default>,client-id=app request_percentage 50")
	if strings.Contains(out, "consumer_byte_rate") {
		t.Fatalf("consumer_byte_rate not deleted:\n%s", out)
	}
}

// runSamsaStdin is runSamsa with stdin.
func runSamsaStdin(ctx context.Context, stdin string, args ...string) cliResult {
	root := newRootCmd()
	var stdout, stderr strings.Builder
	root.SetArgs(args)
	root.SetIn(strings.NewReader(stdin))
	root.SetOut(&stdout)
	root.SetErr(&stderr)
	err := root.ExecuteContext(ctx)
	return cliResult{stdout: stdout.String(), stderr: stderr.String(), err: err}
}

// TestSecureClusterSCRAMUsers creates, lists and deletes SCRAM users with
// `samsa user` and logs in as them.
func TestSecureClusterSCRAMUsers(t *testing.T) {
	addr, admin := secureNode(t)
	asAdmin := func(stdin string, args ...string) cliResult {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		return runSamsaStdin(ctx, stdin, append(args, "--command-config", admin, "-b", addr, "--timeout", "10s")...)
	}
	ok := func(r cliResult) string {
		t.Helper()
		if r.err != nil {
			t.Fatalf("%v\nstdout:\n%s", r.err, r.stdout)
		}
		return r.stdout
	}
	login := func(mech, pass string) error {
		t.Helper()
		return cli(t, addr, "topic", "list", "-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanism="+mech,
			"-X", "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"bob\" password=\""+pass+"\";").err
	}
	pwFile := filepath.Join(t.TempDir(), "pw")
	writeFile(t, pwFile, "bob-256\n")
	wantLines(t, ok(asAdmin("", "user", "create", "bob", "--mechanism", "SCRAM-SHA-256", "--iterations", "4096", "--password-file", pwFile)),
		"set the SCRAM-SHA-256 credential of user bob (4096 iterations)")
	wantLines(t, ok(asAdmin("bob-512\n", "user", "create", "bob", "--password", "-")),
		"set the SCRAM-SHA-512 credential of user bob (8192 iterations)")
	wantLines(t, ok(asAdmin("", "user", "list")),
		"USER MECHANISM ITERATIONS", "admin SCRAM-SHA-512 4096", "bob SCRAM-SHA-256 4096", "bob SCRAM-SHA-512 8192")
	if err := login("SCRAM-SHA-256", "bob-256"); err != nil {
		t.Fatalf("bob over SCRAM-SHA-256: %v", err)
	}
	if err := login("SCRAM-SHA-512", "bob-512"); err != nil {
		t.Fatalf("bob over SCRAM-SHA-512: %v", err)
	}
	if err := login("SCRAM-SHA-512", "bob-256"); err == nil {
		t.Fatal("bob logged in with the other mechanism's password")
	}

	wantLines(t, ok(asAdmin("", "user", "delete", "bob", "--mechanism", "SCRAM-SHA-256")), "deleted the SCRAM-SHA-256 credential of user bob")
	if err := login("SCRAM-SHA-256", "bob-256"); err == nil {
		t.Fatal("bob logged in over SCRAM-SHA-256 after its credential was deleted")
	}
	asAdmin("", "user", "delete", "bob", "--mechanism", "SCRAM-SHA-256").wantErr(t, "user bob has no SCRAM-SHA-256 credential")
	wantLines(t, ok(asAdmin("", "user", "delete", "bob")), "deleted the SCRAM-SHA-512 credential of user bob")
	asAdmin("", "user", "list", "bob").wantErr(t, "user bob has no SCRAM credentials")
	asAdmin("", "user", "delete", "bob").wantErr(t, "user bob has no SCRAM credentials")
	if err := login("SCRAM-SHA-512", "bob-512"); err == nil {
		t.Fatal("bob logged in after his credentials were deleted")
	}
}
