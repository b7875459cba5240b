package node

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/samsa-streaming/samsa/internal/tlsconf/tlstest"
)

// clientTLS is a TLS client configuration trusting the test CA, with the
// client certificate when withCert.
func clientTLS(t *testing.T, f *tlstest.Files, withCert bool) *tls.Config {
	t.Helper()
	pool := x509.NewCertPool()
	ca, err := os.ReadFile(f.CAFile)
	if err != nil || !pool.AppendCertsFromPEM(ca) {
		t.Fatalf("CA file: %v", err)
	}
	c := &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	if withCert {
		cert, err := tls.LoadX509KeyPair(f.ClientCertFile, f.ClientKeyFile)
		if err != nil {
			t.Fatal(err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c
}

// TestTLSListenersAndACLs serves an SSL listener with ssl.client.auth=required
// (the certificate's DN mapped to a principal) and a SASL_SSL listener with
// SCRAM, under the StandardAuthorizer: the mapped principal is denied until
// an ACL allows it, a client without a certificate is refused, and the
// SCRAM super user administers ACLs.
func TestTLSListenersAndACLs(t *testing.T) {
	dir := t.TempDir()
	f := tlstest.WriteFiles(t, dir, pkix.Name{CommonName: "alice", OrganizationalUnit: []string{"eng"}})
	props := map[string]string{
		"listeners":                              "SSL://127.0.0.1:0,SASL_SSL://127.0.0.1:0",
		"ssl.client.auth":                        "required",
		"ssl.principal.mapping.rules":            "RULE:^CN=([a-z]+),OU=.*$/$1/,DEFAULT",
		"listener.name.sasl_ssl.ssl.client.auth": "none",
		"sasl.enabled.mechanisms":                "SCRAM-SHA-512",
		"authorizer.class.name":                  "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
		"super.users":                            "User:admin",
	}
	for k, v := range f.ServerProperties() {
		props[k] = v
	}
	cfg := singleConfig(t, t.TempDir())
	cfg.Broker = brokerWith(t, props)
	cfg.AddScram = []string{"SCRAM-SHA-512=[name=admin,password=admin-secret]"}
	n, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	sslAddr, saslAddr := n.ListenerAddr("SSL"), n.ListenerAddr("SASL_SSL")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	admin, err := kgo.NewClient(kgo.SeedBrokers(saslAddr), kgo.DialTLSConfig(clientTLS(t, f, false)),
		kgo.SASL(scram.Auth{User: "admin", Pass: "admin-secret"}.AsSha512Mechanism()))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	adm := kadm.NewClient(admin)
	if r, err := adm.CreateTopic(ctx, 1, 1, nil, "orders"); err != nil || r.Err != nil {
		t.Fatalf("admin creates a topic: %v %v", err, r.Err)
	}

	alice, err := kgo.NewClient(kgo.SeedBrokers(sslAddr), kgo.DialTLSConfig(clientTLS(t, f, true)),
		kgo.DefaultProduceTopic("orders"), kgo.RequestRetries(1), kgo.RecordRetries(1))
	if err != nil {
		t.Fatal(err)
	}
	defer alice.Close()
	err = alice.ProduceSync(ctx, &kgo.Record{Value: []byte("v")}).FirstErr()
	if !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Fatalf("alice without ACLs: %v, want TOPIC_AUTHORIZATION_FAILED", err)
	}
	acl := kadm.NewACLs().Allow("User:alice").Topics("orders").Operations(kadm.OpWrite, kadm.OpDescribe).ResourcePatternType(kadm.ACLPatternLiteral)
	if res, err := adm.CreateACLs(ctx, acl); err != nil || res[0].Err != nil {
		t.Fatalf("create ACL: %v %+v", err, res)
	}
	if err := alice.ProduceSync(ctx, &kgo.Record{Value: []byte("v")}).FirstErr(); err != nil {
		t.Fatalf("alice with Write on orders: %v", err)
	}
	dreq := kmsg.NewPtrDescribeACLsRequest()
	dreq.ResourceType, dreq.ResourcePatternType = kmsg.ACLResourceTypeAny, kmsg.ACLResourcePatternTypeAny
	dreq.Operation, dreq.PermissionType = kmsg.ACLOperationAny, kmsg.ACLPermissionTypeAny
	described, err := dreq.RequestWith(ctx, admin)
	if err != nil || described.ErrorCode != 0 || len(described.Resources) != 1 || len(described.Resources[0].ACLs) != 2 || described.Resources[0].ACLs[0].Principal != "User:alice" {
		t.Fatalf("describe ACLs: %v %+v", err, described)
	}

	noCert, err := kgo.NewClient(kgo.SeedBrokers(sslAddr), kgo.DialTLSConfig(clientTLS(t, f, false)), kgo.RequestRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	defer noCert.Close()
	pctx, pcancel := context.WithTimeout(ctx, 5*time.Second)
	defer pcancel()
	if err := noCert.Ping(pctx); err == nil {
		t.Fatal("a client without a certificate was served on ssl.client.auth=required")
	}
}
