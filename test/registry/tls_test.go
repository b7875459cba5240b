package registry

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/clustertest"
	"github.com/samsa-streaming/samsa/internal/tlsconf/tlstest"
)

// TestRegistryTLS: --registry-listen https://… serves the registry over
// TLS with the listener.name.registry.ssl.* settings (as a Kafka
// listener's); with ssl.client.auth=required only clients holding a
// certificate from the trust store get in, and plain HTTP gets no answer
// from the registry.
func TestRegistryTLS(t *testing.T) {
	f := tlstest.WriteFiles(t, t.TempDir(), pkix.Name{CommonName: "registry-client"})
	var cfg strings.Builder
	for k, v := range f.ServerProperties() {
		cfg.WriteString("listener.name.registry." + k + "=" + v + "\n")
	}
	cfg.WriteString("listener.name.registry.ssl.client.auth=required\n")
	n := clustertest.Start(t, clustertest.Options{
		Config: cfg.String(),
		Args:   []string{"--admin-listen", "none", "--rest-listen", "none", "--registry-listen", "https://127.0.0.1:0"},
	})
	url := "https://" + registryAddrFromLog(t, n.LogPath, 1)

	roots := x509.NewCertPool()
	ca, err := os.ReadFile(f.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	roots.AppendCertsFromPEM(ca)
	cert, err := tls.LoadX509KeyPair(f.ClientCertFile, f.ClientKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	withCert := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{cert}}}}
	noCert := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}

	var resp *http.Response
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		resp, err = withCert.Post(url+"/subjects/tls-value/versions", "application/json", strings.NewReader(schemaBody(`"string"`, "")))
		if err == nil && resp.StatusCode == 200 {
			resp.Body.Close()
			break
		}
		if resp != nil {
			resp.Body.Close()
		}
		if time.Now().After(deadline) {
			t.Fatalf("register over TLS with a client certificate: %v", err)
		}
	}
	if resp, err := noCert.Get(url + "/subjects"); err == nil {
		resp.Body.Close()
		t.Fatalf("a client without a certificate got %d", resp.StatusCode)
	}
	plain := "http://" + strings.TrimPrefix(url, "https://")
	if resp, err := http.Get(plain + "/subjects"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Fatal("plain HTTP was served")
		}
	}
	resp, err = withCert.Get(url + "/subjects")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET /subjects over TLS: %d", resp.StatusCode)
	}
}
