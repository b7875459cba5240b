package restproxy

import (
	"bytes"
	"context"
	"net"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// authConfig: StandardAuthorizer with admin as super user, SCRAM on a
// second listener (as test/security).
const authConfig = `authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:admin
sasl.enabled.mechanisms=SCRAM-SHA-256
group.initial.rebalance.delay.ms=0
`

// syncBuffer is a bytes.Buffer safe to read while a process writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var aloneAddrRE = regexp.MustCompile(`rest proxy listening.*addr=(\S+:[0-9]+)`)

// startAlone runs `samsa rest` with args and returns the address it
// listens on; it is stopped when the test ends.
func startAlone(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(clustertest.Binary(t), append([]string{"rest", "--listen", "127.0.0.1:0"}, args...)...)
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { // ends with the process, waited by the cleanup
		cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("samsa rest %v output:\n%s", args, out.String())
		}
	})
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if m := aloneAddrRE.FindStringSubmatch(out.String()); m != nil {
			return "http://" + m[1]
		}
		select {
		case <-done:
			t.Fatalf("samsa rest exited: %s", out.String())
		default:
		}
	}
	t.Fatalf("samsa rest never listened: %s", out.String())
	return ""
}

// TestV2AloneAuthExpiry runs `samsa rest` against a node with SCRAM and
// ACLs: a wrong password is 401/40101, a user without ACLs 403/40301; an
// idle consumer instance expires and leaves its group; base_uri uses the
// advertised URL; the request limit answers 413.
func TestV2AloneAuthExpiry(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	saslAddr := l.Addr().String()
	l.Close()
	clustertest.Start(t, clustertest.Options{
		Config:    authConfig,
		Listeners: []string{"SASL_PLAINTEXT://" + saslAddr},
		Args: []string{"--admin-listen", "none", "--registry-listen", "none", "--rest-listen", "none",
			"--add-scram", "SCRAM-SHA-256=[name=admin,password=admin-secret]",
			"--add-scram", "SCRAM-SHA-256=[name=alice,password=alice-secret]"},
	})

	adminCl, err := kgo.NewClient(kgo.SeedBrokers(saslAddr),
		kgo.SASL(scram.Auth{User: "admin", Pass: "admin-secret"}.AsSha256Mechanism()))
	if err != nil {
		t.Fatal(err)
	}
	defer adminCl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := kadm.NewClient(adminCl).CreateTopic(ctx, 1, 1, nil, "secret"); err != nil {
		t.Fatal(err)
	}
	sasl := func(user, pass string) []string {
		return []string{"--brokers", saslAddr, "-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanism=SCRAM-SHA-256",
			"-X", "sasl.username=" + user, "-X", "sasl.password=" + pass}
	}
	adminURL := startAlone(t, append(sasl("admin", "admin-secret"), "--consumer-instance-timeout", "1500ms",
		"--advertised-url", "http://rest.example:18082", "--max-request-bytes", "2000")...)
	aliceURL := startAlone(t, sasl("alice", "alice-secret")...)
	wrongURL := startAlone(t, append(sasl("alice", "wrong"), "--timeout", "5s")...)
	wild := startAlone(t, append(sasl("admin", "admin-secret"), "--listen", "0.0.0.0:0")...)
	wildURL := "http://127.0.0.1:" + wild[strings.LastIndexByte(wild, ':')+1:]

	// The admin proxy works; produce within the limit, 413 above it.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if a := call(t, "GET", adminURL+"/topics/secret", "", "", ""); a.Status == 200 || time.Now().After(deadline) {
			expect(t, "admin GET /topics/secret", a, 200, ctV2, 0, "name")
			break
		}
	}
	offsetsOf(t, "admin produce", call(t, "POST", adminURL+"/topics/secret", `{"records":[{"value":"`+b64("x")+`"}]}`, ctBinary, ""), 1)
	big := `{"records":[{"value":"` + strings.Repeat("A", 3000) + `"}]}`
	expect(t, "over --max-request-bytes", call(t, "POST", adminURL+"/topics/secret", big, ctBinary, ""), 413, ctV2, 413)

	// alice has no ACLs: 403/40301.
	expect(t, "alice GET /topics/secret", call(t, "GET", aliceURL+"/topics/secret", "", "", ""), 403, ctV2, 40301)
	expect(t, "alice produce", call(t, "POST", aliceURL+"/topics/secret", `{"records":[{"value":"eA=="}]}`, ctBinary, ""), 403, ctV2, 40301)
	// A wrong password: 401/40101.
	expect(t, "wrong password", call(t, "GET", wrongURL+"/brokers", "", "", ""), 401, ctV2, 40101)

	// base_uri is advertised; an idle instance expires and leaves.
	a := call(t, "POST", adminURL+"/consumers/gx", `{"name":"idle","auto.offset.reset":"earliest"}`, ctV2, "")
	expect(t, "create", a, 200, ctV2, 0, "base_uri")
	if a.Map()["base_uri"] != "http://rest.example:18082/consumers/gx/instances/idle" {
		t.Fatalf("base_uri: %s", a)
	}
	// On a wildcard listener without --advertised-url, base_uri uses the
	// host the client asked for.
	a = call(t, "POST", wildURL+"/consumers/gw", `{"name":"w"}`, ctV2, "")
	if a.Map()["base_uri"] != wildURL+"/consumers/gw/instances/w" {
		t.Fatalf("wildcard base_uri: %s (asked %s)", a, wildURL)
	}
	inst := adminURL + "/consumers/gx/instances/idle"
	call(t, "POST", inst+"/subscription", `{"topics":["secret"]}`, ctV2, "")
	if r := call(t, "GET", inst+"/records?timeout=10000", "", "", ""); r.Status != 200 || len(r.List()) != 1 {
		t.Fatalf("records: %s", r)
	}
	if n := membersOf(t, adminCl, "gx"); n != 1 {
		t.Fatalf("gx has %d members, want 1", n)
	}
	time.Sleep(3 * time.Second)
	expect(t, "expired instance", call(t, "GET", inst+"/records", "", "", ""), 404, ctV2, 40403)
	if n := membersOf(t, adminCl, "gx"); n != 0 {
		t.Fatalf("gx has %d members after expiry", n)
	}
}

func membersOf(t *testing.T, cl *kgo.Client, group string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	gs, err := kadm.NewClient(cl).DescribeGroups(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	return len(gs[group].Members)
}
