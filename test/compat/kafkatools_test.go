package compat

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// Kafka's own administration tools against Samsa: kafka-acls
// (org.apache.kafka.tools.AclCommand) and kafka-configs
// (org.apache.kafka.tools.ConfigCommand) from the Apache Kafka jars that
// make kafka-dist puts in .cache/kafka/libs (SAMSA_COMPAT_KAFKA_LIBS
// overrides the directory). Every change a tool makes is checked with
// `samsa acl list`, `samsa user list` and `samsa quota describe` (the real
// binary), and the tool's own listing where it has one.

// toolsNodeConfig is a node whose one listener is SASL_PLAINTEXT, with the
// StandardAuthorizer and User:admin as super user; clustertest's readiness
// probe (ApiVersions) needs no login.
const toolsNodeConfig = `listener.security.protocol.map=PLAINTEXT:SASL_PLAINTEXT
sasl.enabled.mechanisms=SCRAM-SHA-512,SCRAM-SHA-256
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:admin
`

// toolsLog4j keeps the tools' stdout for their output: log4j2 at WARN to
// stderr.
const toolsLog4j = `status = warn
appender.err.type = Console
appender.err.name = STDERR
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.err.ref = STDERR
`

// toolJVM are JVM options for short-lived command-line tools.
var toolJVM = []string{"-Xmx256M", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true"}

const (
	aclCommand    = "org.apache.kafka.tools.AclCommand"
	configCommand = "org.apache.kafka.tools.ConfigCommand"
)

// toolsEnv is one secured node and what it takes to run Kafka's tools and
// the samsa CLI against it.
type toolsEnv struct {
	node  *clustertest.Node
	java  string
	libs  string
	log4j string
	samsa string
	dir   string
	admin string // client config of the super user
}

// kafkaLibs finds java and Kafka's jars (make kafka-dist).
func kafkaLibs(t *testing.T) (java, libs string) {
	t.Helper()
	clustertest.SkipInShort(t, "runs Kafka's tools")
	java, err := exec.LookPath("java")
	requireTool(t, "java", err, "make kafka-dist")
	libs = os.Getenv("SAMSA_COMPAT_KAFKA_LIBS")
	if libs == "" {
		libs = filepath.Join(moduleRoot(t), ".cache", "kafka", "libs")
	}
	jars, err := filepath.Glob(filepath.Join(libs, "kafka-tools-*.jar"))
	if err == nil && len(jars) == 0 {
		err = fmt.Errorf("no kafka-tools-*.jar in %s", libs)
	}
	requireTool(t, "Apache Kafka's tools", err, "make kafka-dist")
	return java, libs
}

// startToolsEnv starts the node with the SCRAM-SHA-512 super user admin.
func startToolsEnv(t *testing.T) *toolsEnv {
	t.Helper()
	java, libs := kafkaLibs(t)
	e := &toolsEnv{java: java, libs: libs, samsa: clustertest.Binary(t), dir: t.TempDir()}
	e.log4j = e.write(t, "log4j2.properties", toolsLog4j)
	e.admin = e.clientConfig(t, "admin", "admin-secret")
	e.node = clustertest.Start(t, clustertest.Options{
		Config: toolsNodeConfig,
		Args:   []string{"--add-scram", "SCRAM-SHA-512=[name=admin,password=admin-secret]"},
	})
	return e
}

func (e *toolsEnv) write(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(e.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// clientConfig writes a --command-config file logging in as user over
// SCRAM-SHA-512.
func (e *toolsEnv) clientConfig(t *testing.T, user, pass string) string {
	t.Helper()
	return e.write(t, user+".properties", "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-512\n"+
		"sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required \\\n"+
		fmt.Sprintf("    username=\"%s\" password=\"%s\";\n", user, pass))
}

// scramClient is a franz-go client of the node logging in as user.
func (e *toolsEnv) scramClient(t *testing.T, mech, user, pass string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	auth := scram.Auth{User: user, Pass: pass}
	m := auth.AsSha512Mechanism()
	if mech == "SCRAM-SHA-256" {
		m = auth.AsSha256Mechanism()
	}
	return e.node.Client(t, append([]kgo.Opt{kgo.SASL(m), kgo.DisableIdempotentWrite(),
		kgo.RequestRetries(1), kgo.RetryTimeout(5 * time.Second)}, opts...)...)
}

// toolResult is one run of a tool.
type toolResult struct {
	cmd    string
	out    string // stdout
	errOut string // stderr
	err    error
}

func (r toolResult) String() string {
	return fmt.Sprintf("%s: %v\nstdout:\n%s\nstderr:\n%s", r.cmd, r.err, r.out, r.errOut)
}

// tool runs one of Kafka's tools against the node with the client config
// config.
func (e *toolsEnv) tool(t *testing.T, class, config string, args ...string) toolResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	all := append(slices.Clone(toolJVM), "-Dlog4j2.configurationFile="+e.log4j, "-cp", filepath.Join(e.libs, "*"), class,
		"--bootstrap-server", e.node.Addr, "--command-config", config)
	all = append(all, args...)
	cmd := exec.CommandContext(ctx, e.java, all...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	short := class[strings.LastIndex(class, ".")+1:]
	return toolResult{cmd: short + " " + strings.Join(args, " "), out: stdout.String(), errOut: stderr.String(), err: err}
}

// toolOK is tool that must exit 0.
func (e *toolsEnv) toolOK(t *testing.T, class, config string, args ...string) string {
	t.Helper()
	r := e.tool(t, class, config, args...)
	if r.err != nil {
		t.Fatalf("%s", r)
	}
	return r.out
}

// toolDenied runs a tool that must fail with an authorization error.
func (e *toolsEnv) toolDenied(t *testing.T, class, config string, args ...string) {
	t.Helper()
	r := e.tool(t, class, config, args...)
	if r.err == nil || !strings.Contains(r.out+r.errOut, "AuthorizationException") {
		t.Fatalf("want an authorization failure; %s", r)
	}
}

// samsaOK runs the samsa CLI as admin; it must succeed.
func (e *toolsEnv) samsaOK(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args = append(args, "-b", e.node.Addr, "--command-config", e.admin, "--timeout", "10s")
	cmd := exec.CommandContext(ctx, e.samsa, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("samsa %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// samsaTable runs a samsa listing and returns its rows (fields joined by
// one space, sorted) after checking its header.
func (e *toolsEnv) samsaTable(t *testing.T, header string, args ...string) []string {
	t.Helper()
	out := e.samsaOK(t, "", args...)
	var rows []string
	for line := range strings.Lines(out) {
		if f := strings.Fields(line); len(f) > 0 {
			rows = append(rows, strings.Join(f, " "))
		}
	}
	if len(rows) == 0 || rows[0] != header {
		t.Fatalf("samsa %s: want header %q:\n%s", strings.Join(args, " "), header, out)
	}
	rows = rows[1:]
	slices.Sort(rows)
	return rows
}

// wantRows fails unless got (sorted) equals want in any order.
func wantRows(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	want = slices.Clone(want)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("%s:\ngot\n  %s\nwant\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

const aclHeader = "PRINCIPAL HOST OPERATION PERMISSION RESOURCE-TYPE NAME PATTERN"

var (
	aclResourceLine = regexp.MustCompile("^Current ACLs for resource `ResourcePattern\\(resourceType=(\\w+), name=(.*), patternType=(\\w+)\\)`:$")
	aclEntryLine    = regexp.MustCompile(`^\(principal=(.*), host=(.*), operation=(\w+), permissionType=(\w+)\)$`)
)

// parseACLList turns kafka-acls --list output into samsa acl list rows.
func parseACLList(t *testing.T, out string) []string {
	t.Helper()
	var rows []string
	var res []string
	for line := range strings.Lines(out) {
		line = strings.TrimSpace(line)
		if m := aclResourceLine.FindStringSubmatch(line); m != nil {
			res = m[1:]
			continue
		}
		if m := aclEntryLine.FindStringSubmatch(line); m != nil && res != nil {
			rows = append(rows, strings.Join([]string{m[1], m[2], m[3], m[4], res[0], res[1], res[2]}, " "))
			continue
		}
		if line != "" {
			t.Fatalf("kafka-acls --list: unexpected line %q in:\n%s", line, out)
		}
	}
	slices.Sort(rows)
	return rows
}

// TestKafkaToolsACLs: kafka-acls adds, lists and removes LITERAL and
// PREFIXED ACLs as the super user, `samsa acl list` agrees after each step;
// a user who is not a super user is refused and changes nothing.
func TestKafkaToolsACLs(t *testing.T) {
	t.Parallel()
	e := startToolsEnv(t)
	acls := func(args ...string) string { t.Helper(); return e.toolOK(t, aclCommand, e.admin, args...) }
	samsaACLs := func() []string { t.Helper(); return e.samsaTable(t, aclHeader, "acl", "list") }
	// check compares both listings of everything with want.
	check := func(step string, want ...string) {
		t.Helper()
		wantRows(t, step+": samsa acl list", samsaACLs(), want...)
		wantRows(t, step+": kafka-acls --list", parseACLList(t, acls("--list")), want...)
	}

	out := acls("--add", "--allow-principal", "User:alice", "--operation", "Read", "--operation", "Write", "--topic", "orders")
	if !strings.Contains(out, "Adding ACLs for resource `ResourcePattern(resourceType=TOPIC, name=orders, patternType=LITERAL)`") {
		t.Fatalf("kafka-acls --add:\n%s", out)
	}
	acls("--add", "--allow-principal", "User:bob", "--operation", "Describe", "--operation", "Read",
		"--resource-pattern-type", "prefixed", "--topic", "logs-")
	acls("--add", "--allow-principal", "User:alice", "--operation", "Read", "--group", "g1")
	acls("--add", "--deny-principal", "User:mallory", "--deny-host", "10.0.0.9", "--operation", "All",
		"--resource-pattern-type", "prefixed", "--group", "team-")
	acls("--add", "--allow-principal", "User:carol", "--consumer", "--topic", "events", "--group", "readers")
	all := []string{
		"User:alice * READ ALLOW TOPIC orders LITERAL",
		"User:alice * WRITE ALLOW TOPIC orders LITERAL",
		"User:bob * DESCRIBE ALLOW TOPIC logs- PREFIXED",
		"User:bob * READ ALLOW TOPIC logs- PREFIXED",
		"User:alice * READ ALLOW GROUP g1 LITERAL",
		"User:mallory 10.0.0.9 ALL DENY GROUP team- PREFIXED",
		"User:carol * READ ALLOW TOPIC events LITERAL",
		"User:carol * DESCRIBE ALLOW TOPIC events LITERAL",
		"User:carol * READ ALLOW GROUP readers LITERAL",
	}
	check("after --add", all...)

	// Listings of one resource: exact, prefixed, and every pattern that
	// matches a name.
	wantRows(t, "kafka-acls --list --topic orders", parseACLList(t, acls("--list", "--topic", "orders")), all[0], all[1])
	wantRows(t, "kafka-acls --list --resource-pattern-type prefixed --topic logs-",
		parseACLList(t, acls("--list", "--resource-pattern-type", "prefixed", "--topic", "logs-")), all[2], all[3])
	wantRows(t, "kafka-acls --list --resource-pattern-type match --group team-a",
		parseACLList(t, acls("--list", "--resource-pattern-type", "match", "--group", "team-a")), all[5])

	// carol is a SCRAM user but not a super user: kafka-acls is refused
	// and nothing changes.
	e.samsaOK(t, "carol-secret\n", "user", "create", "carol", "--password", "-")
	carol := e.clientConfig(t, "carol", "carol-secret")
	e.toolDenied(t, aclCommand, carol, "--add", "--allow-principal", "User:carol", "--operation", "All", "--topic", "orders")
	e.toolDenied(t, aclCommand, carol, "--remove", "--force", "--topic", "orders")
	e.toolDenied(t, aclCommand, carol, "--list")
	wantRows(t, "after carol's attempts: samsa acl list", samsaACLs(), all...)

	// --remove with a principal and an operation removes only that ACL.
	acls("--remove", "--force", "--allow-principal", "User:alice", "--operation", "Write", "--topic", "orders")
	rest := slices.DeleteFunc(slices.Clone(all), func(s string) bool { return s == all[1] })
	check("after removing alice's WRITE", rest...)

	acls("--remove", "--force", "--topic", "orders")
	acls("--remove", "--force", "--resource-pattern-type", "prefixed", "--topic", "logs-")
	acls("--remove", "--force", "--group", "g1")
	acls("--remove", "--force", "--resource-pattern-type", "prefixed", "--group", "team-")
	acls("--remove", "--force", "--allow-principal", "User:carol", "--consumer", "--topic", "events", "--group", "readers")
	check("after --remove")
}

// TestKafkaToolsConfigs: kafka-configs creates, describes and deletes
// SCRAM users and sets and deletes user and client-id quotas;
// `samsa user list` and `samsa quota describe` agree, and the users log
// in with franz-go.
func TestKafkaToolsConfigs(t *testing.T) {
	t.Parallel()
	e := startToolsEnv(t)
	const userHeader = "USER MECHANISM ITERATIONS"

	t.Run("scram", func(t *testing.T) {
		configs := func(args ...string) string { t.Helper(); return e.toolOK(t, configCommand, e.admin, args...) }
		out := configs("--alter", "--add-config", "SCRAM-SHA-512=[iterations=8192,password=alice-secret]", "--entity-type", "users", "--entity-name", "alice")
		if !strings.Contains(out, "Completed updating config for user alice.") {
			t.Fatalf("kafka-configs --alter alice:\n%s", out)
		}
		configs("--alter", "--add-config", "SCRAM-SHA-256=[iterations=4096,password=bob-256],SCRAM-SHA-512=[password=bob-512]",
			"--entity-type", "users", "--entity-name", "bob")
		wantRows(t, "samsa user list", e.samsaTable(t, userHeader, "user", "list"),
			"admin SCRAM-SHA-512 4096", "alice SCRAM-SHA-512 8192", "bob SCRAM-SHA-256 4096", "bob SCRAM-SHA-512 4096")

		// alice, created by kafka-configs, logs in and produces (with
		// the ACLs a producer needs, as she is no super user).
		adm := kadm.NewClient(e.scramClient(t, "SCRAM-SHA-512", "admin", "admin-secret"))
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		if _, err := adm.CreateTopic(ctx, 1, 1, nil, "alice-topic"); err != nil {
			t.Fatalf("create alice-topic: %v", err)
		}
		res, err := adm.CreateACLs(ctx, kadm.NewACLs().Allow("User:alice").Topics("alice-topic").
			Operations(kadm.OpWrite, kadm.OpDescribe).ResourcePatternType(kadm.ACLPatternLiteral))
		if err == nil {
			for _, r := range res {
				if r.Err != nil {
					err = r.Err
				}
			}
		}
		if err != nil {
			t.Fatalf("grant alice Write on alice-topic: %v", err)
		}
		alice := e.scramClient(t, "SCRAM-SHA-512", "alice", "alice-secret")
		r, err := alice.ProduceSync(ctx, &kgo.Record{Topic: "alice-topic", Key: []byte("k"), Value: []byte("from alice")}).First()
		if err != nil {
			t.Fatalf("alice's produce over SCRAM-SHA-512: %v", err)
		}
		if r.Offset != 0 {
			t.Fatalf("alice's record at offset %d, want 0", r.Offset)
		}
		if err := e.scramClient(t, "SCRAM-SHA-512", "alice", "wrong").Ping(ctx); err == nil {
			t.Fatal("alice logged in with a wrong password")
		}
		if err := e.scramClient(t, "SCRAM-SHA-256", "bob", "bob-256").Ping(ctx); err != nil {
			t.Fatalf("bob over SCRAM-SHA-256: %v", err)
		}

		configs("--alter", "--delete-config", "SCRAM-SHA-512", "--entity-type", "users", "--entity-name", "bob")
		wantRows(t, "samsa user list after deleting bob's SCRAM-SHA-512", e.samsaTable(t, userHeader, "user", "list"),
			"admin SCRAM-SHA-512 4096", "alice SCRAM-SHA-512 8192", "bob SCRAM-SHA-256 4096")
		if err := e.scramClient(t, "SCRAM-SHA-512", "bob", "bob-512").Ping(ctx); err == nil {
			t.Fatal("bob logged in over SCRAM-SHA-512 after its credential was deleted")
		}
		if err := e.scramClient(t, "SCRAM-SHA-256", "bob", "bob-256").Ping(ctx); err != nil {
			t.Fatalf("bob over SCRAM-SHA-256 after deleting his SCRAM-SHA-512: %v", err)
		}

		// A user who is not a super user cannot create users.
		e.toolDenied(t, configCommand, e.clientConfig(t, "alice", "alice-secret"),
			"--alter", "--add-config", "SCRAM-SHA-512=[password=eve-secret]", "--entity-type", "users", "--entity-name", "eve")
		wantRows(t, "samsa user list after alice's attempt", e.samsaTable(t, userHeader, "user", "list"),
			"admin SCRAM-SHA-512 4096", "alice SCRAM-SHA-512 8192", "bob SCRAM-SHA-256 4096")

		// kafka-configs --describe of users shows their quotas and
		// credentials (DescribeClientQuotas and
		// DescribeUserScramCredentials).
		out = configs("--describe", "--entity-type", "users", "--entity-name", "alice")
		wantLinesIn(t, "kafka-configs --describe alice", out,
			"SCRAM credential configs for user-principal 'alice' are SCRAM-SHA-512=iterations=8192")
		out = configs("--describe", "--entity-type", "users")
		wantLinesIn(t, "kafka-configs --describe users", out,
			"SCRAM credential configs for user-principal 'admin' are SCRAM-SHA-512=iterations=4096",
			"SCRAM credential configs for user-principal 'alice' are SCRAM-SHA-512=iterations=8192",
			"SCRAM credential configs for user-principal 'bob' are SCRAM-SHA-256=iterations=4096")
	})

	t.Run("quotas", func(t *testing.T) {
		configs := func(args ...string) string { t.Helper(); return e.toolOK(t, configCommand, e.admin, args...) }
		const quotaHeader = "ENTITY KEY VALUE"
		out := configs("--alter", "--add-config", "producer_byte_rate=1024,consumer_byte_rate=2048", "--entity-type", "users", "--entity-name", "alice")
		if !strings.Contains(out, "Completed updating config for user alice.") {
			t.Fatalf("kafka-configs --alter alice:\n%s", out)
		}
		configs("--alter", "--add-config", "producer_byte_rate=4096", "--entity-type", "clients", "--entity-name", "app")
		configs("--alter", "--add-config", "consumer_byte_rate=512", "--entity-type", "clients", "--entity-default")
		configs("--alter", "--add-config", "request_percentage=50", "--entity-type", "users", "--entity-default")
		configs("--alter", "--add-config", "producer_byte_rate=100", "--entity-type", "users", "--entity-name", "alice",
			"--entity-type", "clients", "--entity-name", "app")
		all := []string{
			"user=alice consumer_byte_rate 2048",
			"user=alice producer_byte_rate 1024",
			"client-id=app producer_byte_rate 4096",
			"client-id=<default> consumer_byte_rate 512",
			"user=<default> request_percentage 50",
			"user=alice,client-id=app producer_byte_rate 100",
		}
		wantRows(t, "samsa quota describe", e.samsaTable(t, quotaHeader, "quota", "describe"), all...)
		wantRows(t, "samsa quota describe --user alice", e.samsaTable(t, quotaHeader, "quota", "describe", "--user", "alice"), all[:2]...)

		wantLinesIn(t, "kafka-configs --describe alice", configs("--describe", "--entity-type", "users", "--entity-name", "alice"),
			"Quota configs for user-principal 'alice' are consumer_byte_rate=2048.0, producer_byte_rate=1024.0")
		wantLinesIn(t, "kafka-configs --describe clients", configs("--describe", "--entity-type", "clients"),
			"Quota configs for client-id 'app' are producer_byte_rate=4096.0",
			"Quota configs for the default client-id are consumer_byte_rate=512.0")
		wantLinesIn(t, "kafka-configs --describe users --entity-default", configs("--describe", "--entity-type", "users", "--entity-default"),
			"Quota configs for the default user-principal are request_percentage=50.0")
		wantLinesIn(t, "kafka-configs --describe alice/app",
			configs("--describe", "--entity-type", "users", "--entity-name", "alice", "--entity-type", "clients", "--entity-name", "app"),
			"Quota configs for user-principal 'alice', client-id 'app' are producer_byte_rate=100.0")

		// A user who is not a super user cannot set quotas.
		e.samsaOK(t, "dave-secret\n", "user", "create", "dave", "--password", "-")
		e.toolDenied(t, configCommand, e.clientConfig(t, "dave", "dave-secret"),
			"--alter", "--add-config", "producer_byte_rate=1", "--entity-type", "users", "--entity-name", "dave")

		configs("--alter", "--delete-config", "consumer_byte_rate", "--entity-type", "users", "--entity-name", "alice")
		configs("--alter", "--delete-config", "consumer_byte_rate", "--entity-type", "clients", "--entity-default")
		configs("--alter", "--delete-config", "producer_byte_rate", "--entity-type", "users", "--entity-name", "alice",
			"--entity-type", "clients", "--entity-name", "app")
		wantRows(t, "samsa quota describe after --delete-config", e.samsaTable(t, quotaHeader, "quota", "describe"),
			"user=alice producer_byte_rate 1024", "client-id=app producer_byte_rate 4096", "user=<default> request_percentage 50")
	})
}

// wantLinesIn fails unless out has each of want as a whole line.
func wantLinesIn(t *testing.T, what, out string, want ...string) {
	t.Helper()
	have := map[string]bool{}
	for line := range strings.Lines(out) {
		have[strings.TrimSpace(line)] = true
	}
	for _, w := range want {
		if !have[w] {
			t.Fatalf("%s lacks %q:\n%s", what, w, out)
		}
	}
}
