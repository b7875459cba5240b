package node

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-streaming/samsa/internal/httpserve"
	"github.com/samsa-streaming/samsa/internal/tlsconf/tlstest"
)

// TestServiceLoginListener: the HTTP services' logins prefer a loopback
// SASL_PLAINTEXT listener, else go over SASL_SSL trusting the listener's
// own certificate (no trust store configured), and that TLS checks the
// host name and refuses a server whose certificate the node does not
// serve.
func TestServiceLoginListener(t *testing.T) {
	f := tlstest.WriteFiles(t, t.TempDir(), pkix.Name{CommonName: "client"})
	cfg := singleConfig(t, t.TempDir())
	cfg.Broker = brokerWith(t, map[string]string{
		"listeners": "SASL_SSL://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0",
		"listener.name.sasl_ssl.ssl.keystore.type":     "PEM",
		"listener.name.sasl_ssl.ssl.keystore.location": f.ServerKeystore,
		"sasl.enabled.mechanisms":                      "SCRAM-SHA-512",
	})
	cfg.AddScram = []string{"SCRAM-SHA-512=[name=alice,password=alice-secret]"}
	n, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()

	addr, opts, err := n.loginListener()
	if err != nil || addr != n.ListenerAddr("SASL_PLAINTEXT") || opts != nil {
		t.Fatalf("with a loopback SASL_PLAINTEXT listener: %s %v %v, want %s without TLS", addr, opts, err, n.ListenerAddr("SASL_PLAINTEXT"))
	}
	var bl *boundListener
	for i := range n.listeners {
		if n.listeners[i].cfg.Name == "SASL_SSL" {
			bl = &n.listeners[i]
		}
	}
	dial, err := n.loginTLS(bl)
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(bl.ln.Addr().(*net.TCPAddr).Port)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	// The certificate names 127.0.0.1 and localhost: both verify.
	for _, host := range []string{"127.0.0.1", "localhost"} {
		c, err := dial(ctx, "tcp", net.JoinHostPort(host, port))
		if err != nil {
			t.Fatalf("TLS to the node's own listener as %s: %v", host, err)
		}
		c.Close()
	}
	// A server for 127.0.0.1 whose certificate, from the same CA, names
	// another host: refused for the name; one from another CA: refused.
	named := f.CA.Issue(t, tlstest.Options{Subject: pkix.Name{CommonName: "elsewhere"}, DNSNames: []string{"elsewhere.example"}, Server: true})
	var hostErr x509.HostnameError
	if err := dialServer(ctx, t, dial, named); !errors.As(err, &hostErr) {
		t.Fatalf("TLS to a certificate for another host: %v, want a host name error", err)
	}
	var authErr x509.UnknownAuthorityError
	if err := dialServer(ctx, t, dial, tlstest.NewCA(t, "other").Server(t)); !errors.As(err, &authErr) {
		t.Fatalf("TLS to another CA's certificate: %v, want an unknown authority error", err)
	}

	// A login over SASL_SSL succeeds, a wrong password does not.
	a, err := httpserve.New(httpserve.Config{Brokers: []string{net.JoinHostPort("127.0.0.1", port)}, ClientOpts: []kgo.Opt{kgo.Dialer(dial)}, Mechanism: "SCRAM-SHA-512"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := a.Login(ctx, "alice", "alice-secret"); err != nil {
		t.Fatalf("alice over SASL_SSL: %v", err)
	}
	if _, err := a.Login(ctx, "alice", "wrong"); !errors.Is(err, httpserve.ErrUnauthenticated) {
		t.Fatalf("a wrong password over SASL_SSL: %v", err)
	}
}

// dialServer serves leaf on a TLS listener of its own and dials it with
// dial, returning the dial's error.
func dialServer(ctx context.Context, t *testing.T, dial func(context.Context, string, string) (net.Conn, error), leaf *tlstest.Leaf) error {
	t.Helper()
	cert, err := tls.X509KeyPair([]byte(leaf.ChainPEM), []byte(leaf.KeyPEM))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan struct{})
	defer func() { ln.Close(); <-accepted }()
	go func() { // ends when ln closes
		defer close(accepted)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	c, err := dial(ctx, "tcp", ln.Addr().String())
	if err == nil {
		c.Close()
	}
	return err
}

// TestAdminMetricsAuth: with samsa.admin.authentication.metrics=true,
// /metrics needs a user with DESCRIBE_CONFIGS on the Cluster on the admin
// listener and on the metrics listener, while /healthz stays open; the
// metrics listener serves no /admin/*.
func TestAdminMetricsAuth(t *testing.T) {
	cfg := singleConfig(t, t.TempDir())
	cfg.Broker = brokerWith(t, map[string]string{
		"listeners":                          "SASL_PLAINTEXT://127.0.0.1:0",
		"sasl.enabled.mechanisms":            "SCRAM-SHA-512",
		"authorizer.class.name":              "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
		"super.users":                        "User:admin",
		"samsa.admin.authentication.method":  "BASIC",
		"samsa.admin.authentication.metrics": "true",
	})
	cfg.AddScram = []string{"SCRAM-SHA-512=[name=admin,password=admin-secret]", "SCRAM-SHA-512=[name=alice,password=alice-secret]"}
	cfg.AdminListen, cfg.MetricsListen = "127.0.0.1:0", "127.0.0.1:0"
	n, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	get := func(url, user string) int {
		req, err := http.NewRequest("GET", url, nil)
		if err != nil {
			t.Fatal(err)
		}
		if user != "" {
			req.SetBasicAuth(user, user+"-secret")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == 401 && resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("GET %s: 401 without a challenge", url)
		}
		return resp.StatusCode
	}
	for _, base := range []string{"http://" + n.AdminAddr(), "http://" + n.MetricsAddr()} {
		for user, want := range map[string]int{"": 401, "alice": 403, "admin": 200} {
			if got := get(base+"/metrics", user); got != want {
				t.Errorf("GET %s/metrics as %q: %d, want %d", base, user, got, want)
			}
		}
		if got := get(base+"/healthz", ""); got != 200 {
			t.Errorf("GET %s/healthz: %d", base, got)
		}
	}
	if got := get("http://"+n.MetricsAddr()+"/admin/loggers", "admin"); got != 404 {
		t.Errorf("GET /admin/loggers on the metrics listener: %d, want 404", got)
	}
}
