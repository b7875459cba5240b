package registry

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// TestRegistryBasicAuth: `samsa registry --basic-auth-mechanism` takes
// the broker's SCRAM users as its users and the broker's ACLs on the store
// topic as their rights: no or wrong credentials are 401 with a
// WWW-Authenticate challenge, a user without ACLs is 403, DESCRIBE lets a
// user read and WRITE lets it register; a super user may do everything.
func TestRegistryBasicAuth(t *testing.T) {
	t.Run("samsa registry", func(t *testing.T) {
		n, saslAddr := startAuthNode(t, "--registry-listen", "none")
		// The registry's own client uses the plaintext listener (ANONYMOUS
		// is a super user here); users log in on the SASL one.
		reg := startRegistry(t, "--brokers", n.Addr, "--basic-auth-mechanism", "SCRAM-SHA-512", "--basic-auth-brokers", saslAddr)
		testBasicAuth(t, reg.URL, saslAddr)
	})
	t.Run("samsa serve", func(t *testing.T) {
		n, saslAddr := startAuthNode(t, "--registry-listen", "127.0.0.1:0")
		testBasicAuth(t, "http://"+registryAddrFromLog(t, n.LogPath, 1), saslAddr)
	})
}

// startAuthNode starts a node with SCRAM users on a SASL_PLAINTEXT
// listener, the StandardAuthorizer, and (in server.properties) the
// registry's basic authentication.
func startAuthNode(t *testing.T, args ...string) (*clustertest.Node, string) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	saslAddr := l.Addr().String()
	l.Close()
	n := clustertest.Start(t, clustertest.Options{
		Config: `authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:admin;User:ANONYMOUS
sasl.enabled.mechanisms=SCRAM-SHA-512
group.initial.rebalance.delay.ms=0
samsa.registry.authentication.method=BASIC
`,
		Listeners: []string{"SASL_PLAINTEXT://" + saslAddr},
		Args: append([]string{"--admin-listen", "none", "--rest-listen", "none",
			"--add-scram", "SCRAM-SHA-512=[name=admin,password=admin-secret]",
			"--add-scram", "SCRAM-SHA-512=[name=reader,password=reader-secret]",
			"--add-scram", "SCRAM-SHA-512=[name=writer,password=writer-secret]",
			"--add-scram", "SCRAM-SHA-512=[name=nobody,password=nobody-secret]"}, args...),
	})
	return n, saslAddr
}

// testBasicAuth checks the rights of the four users through the registry
// at url.
func testBasicAuth(t *testing.T, url, saslAddr string) {
	admin, err := kgo.NewClient(kgo.SeedBrokers(saslAddr), kgo.SASL(scram.Auth{User: "admin", Pass: "admin-secret"}.AsSha512Mechanism()))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	adm := kadm.NewClient(admin)
	for user, ops := range map[string][]kadm.ACLOperation{"reader": {kadm.OpDescribe}, "writer": {kadm.OpDescribe, kadm.OpWrite}} {
		b := kadm.NewACLs().Topics("_schemas").ResourcePatternType(kadm.ACLPatternLiteral).Allow("User:" + user).AllowHosts().Operations(ops...)
		res, err := adm.CreateACLs(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			if r.Err != nil {
				t.Fatal(r.Err)
			}
		}
	}

	do := func(method, path, user, pass, body string) answer {
		t.Helper()
		req, _ := http.NewRequest(method, url+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/vnd.schemaregistry.v1+json")
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		a := answer{Status: resp.StatusCode}
		_ = decodeJSON(resp, &a)
		if resp.StatusCode == 401 && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic ") {
			t.Errorf("%s %s: 401 without a Basic challenge", method, path)
		}
		return a
	}
	waitFor := func(what string, f func() bool) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); !f(); time.Sleep(200 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s never happened", what)
			}
		}
	}
	body := schemaBody(`{"type":"record","name":"A","fields":[{"name":"x","type":"int"}]}`, "")

	waitFor("registry ready", func() bool { return do("GET", "/subjects", "admin", "admin-secret", "").Status == 200 })
	if a := do("GET", "/subjects", "", "", ""); a.Status != 401 || a.ErrorCode() != 401 {
		t.Fatalf("no credentials: %d %s", a.Status, a.Body)
	}
	if a := do("GET", "/subjects", "reader", "wrong", ""); a.Status != 401 {
		t.Fatalf("wrong password: %d %s", a.Status, a.Body)
	}
	if a := do("GET", "/subjects", "nobody", "nobody-secret", ""); a.Status != 403 || a.ErrorCode() != 40301 {
		t.Fatalf("user without ACLs reading: %d %s", a.Status, a.Body)
	}
	if a := do("POST", "/subjects/a-value/versions", "reader", "reader-secret", body); a.Status != 403 || !strings.Contains(string(a.Body), "WRITE") {
		t.Fatalf("reader registering: %d %s", a.Status, a.Body)
	}
	a := do("POST", "/subjects/a-value/versions", "writer", "writer-secret", body)
	if a.Status != 200 {
		t.Fatalf("writer registering: %d %s", a.Status, a.Body)
	}
	if a := do("GET", "/subjects/a-value/versions/latest", "reader", "reader-secret", ""); a.Status != 200 {
		t.Fatalf("reader reading: %d %s", a.Status, a.Body)
	}
	if a := do("DELETE", "/subjects/a-value", "admin", "admin-secret", ""); a.Status != 200 {
		t.Fatalf("super user deleting: %d %s", a.Status, a.Body)
	}
	// The process is still up and answers after every refusal.
	if a := do("GET", "/schemas/types", "reader", "reader-secret", ""); a.Status != 200 {
		t.Fatalf("after: %d %s", a.Status, a.Body)
	}
}
