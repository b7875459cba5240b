package tlsconf

import (
	"bytes"
	"crypto/tls"
	"crypto/x509/pkix"
	"errors"
	"log/slog"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/tlsconf/tlstest"
)

// fakeClock is a Reloader's clock for tests.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// syncBuffer is a log destination safe for the handshake goroutines.
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

// reloading is a server whose files a test rewrites.
type reloading struct {
	t       *testing.T
	f       *tlstest.Files
	r       *Reloader
	clock   *fakeClock
	log     *syncBuffer
	addr    string
	results <-chan served
}

func newReloading(t *testing.T, props ...string) *reloading {
	f := tlstest.WriteFiles(t, t.TempDir(), alice)
	cfg, err := FromProperties(with(f.ServerProperties(), props...), "SSL")
	if err != nil {
		t.Fatal(err)
	}
	log := &syncBuffer{}
	r, err := NewReloader(cfg, slog.New(slog.NewTextHandler(log, nil)))
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{now: time.Now()}
	r.now = clock.Now
	x := &reloading{t: t, f: f, r: r, clock: clock, log: log}
	x.addr, x.results = serve(t, r)
	return x
}

// serial is the serial number the server presents now (or the error).
func (x *reloading) serial(cfg *tls.Config) (*big.Int, error) {
	x.t.Helper()
	if cfg == nil {
		cfg = &tls.Config{RootCAs: pool(x.f.CA.Cert), ServerName: "localhost"}
	}
	state, err := dial(x.t, x.addr, cfg)
	s := result(x.t, x.results)
	if err != nil {
		return nil, err
	}
	if s.err != nil {
		return nil, s.err
	}
	return state.PeerCertificates[0].SerialNumber, nil
}

func (x *reloading) wantSerial(what string, want *big.Int) {
	x.t.Helper()
	got, err := x.serial(nil)
	if err != nil || got.Cmp(want) != 0 {
		x.t.Errorf("%s: serial %v, %v; want %v", what, got, err, want)
	}
}

func TestReloadOnChange(t *testing.T) {
	x := newReloading(t)
	first := x.f.Server.Cert.SerialNumber
	x.wantSerial("start", first)

	next := x.f.CA.Server(t)
	tlstest.WriteFile(t, x.f.ServerKeystore, []byte(next.KeystorePEM()))
	x.wantSerial("within the second", first)
	x.clock.Advance(time.Second)
	x.wantSerial("a second later", next.Cert.SerialNumber)

	// A half-written file: the old certificate stays, the error is kept.
	tlstest.WriteFile(t, x.f.ServerKeystore, []byte(next.KeystorePEM()[:200]))
	x.clock.Advance(time.Second)
	x.wantSerial("corrupt file", next.Cert.SerialNumber)
	if err := x.r.LastError(); err == nil {
		t.Error("LastError: nil after a corrupt file")
	}
	if !strings.Contains(x.log.String(), "TLS reload failed") {
		t.Errorf("not logged: %s", x.log.String())
	}
	// The same broken file is not read again on every handshake.
	logged := strings.Count(x.log.String(), "TLS reload failed")
	x.clock.Advance(time.Second)
	x.wantSerial("still corrupt", next.Cert.SerialNumber)
	if n := strings.Count(x.log.String(), "TLS reload failed"); n != logged {
		t.Errorf("an unchanged broken file was reloaded again (%d errors logged)", n)
	}

	third := x.f.CA.Server(t)
	tlstest.WriteFile(t, x.f.ServerKeystore, []byte(third.KeystorePEM()))
	x.clock.Advance(time.Second)
	x.wantSerial("repaired", third.Cert.SerialNumber)
	if err := x.r.LastError(); err != nil {
		t.Errorf("LastError after a good reload: %v", err)
	}
}

func TestReloadExplicit(t *testing.T) {
	x := newReloading(t)
	next := x.f.CA.Server(t)
	tlstest.WriteFile(t, x.f.ServerKeystore, []byte(next.KeystorePEM()))
	if err := x.r.Reload(); err != nil {
		t.Fatal(err)
	}
	x.wantSerial("after Reload", next.Cert.SerialNumber) // no clock advance
	tlstest.WriteFile(t, x.f.ServerKeystore, []byte("garbage"))
	if err := x.r.Reload(); err == nil || x.r.LastError() == nil {
		t.Errorf("Reload of garbage: %v", err)
	}
	x.wantSerial("after a failed Reload", next.Cert.SerialNumber)
}

func TestReloadIdentityChange(t *testing.T) {
	x := newReloading(t)
	renamed := x.f.CA.Issue(t, tlstest.Options{Subject: pkix.Name{CommonName: "broker-2"}, DNSNames: []string{"localhost"}, Server: true})
	tlstest.WriteFile(t, x.f.ServerKeystore, []byte(renamed.KeystorePEM()))
	if err := x.r.Reload(); err == nil || !strings.Contains(err.Error(), "ssl.allow.dn.changes") {
		t.Errorf("subject change: %v", err)
	}
	x.wantSerial("refused subject change", x.f.Server.Cert.SerialNumber)

	fewer := x.f.CA.Issue(t, tlstest.Options{Subject: pkix.Name{CommonName: "localhost"}, DNSNames: []string{"localhost"}, Server: true})
	tlstest.WriteFile(t, x.f.ServerKeystore, []byte(fewer.KeystorePEM()))
	if err := x.r.Reload(); err == nil || !strings.Contains(err.Error(), "ssl.allow.san.changes") {
		t.Errorf("SAN change: %v", err)
	}

	y := newReloading(t, "ssl.allow.dn.changes", "true", "ssl.allow.san.changes", "true")
	tlstest.WriteFile(t, y.f.ServerKeystore, []byte(renamed.KeystorePEM()))
	if err := y.r.Reload(); err != nil {
		t.Errorf("allowed change: %v", err)
	}
}

func TestReloadTruststore(t *testing.T) {
	x := newReloading(t, "ssl.client.auth", "required")
	other := tlstest.NewCA(t, "Other CA")
	leaf := other.Client(t, alice)
	cfg := &tls.Config{RootCAs: pool(x.f.CA.Cert), ServerName: "localhost", Certificates: clientCert(leaf)}
	if _, err := x.serial(cfg); err == nil {
		t.Fatal("a client of an untrusted CA was accepted")
	}
	tlstest.WriteFile(t, x.f.CAFile, []byte(x.f.CA.CertPEM+other.CertPEM))
	x.clock.Advance(time.Second)
	if _, err := x.serial(cfg); err != nil {
		t.Errorf("after adding its CA to the trust store: %v", err)
	}
}

// Handshakes from many goroutines while the keystore is rewritten: every
// one succeeds with one of the certificates written.
func TestReloadConcurrentHandshakes(t *testing.T) {
	x := newReloading(t)
	valid := map[string]bool{x.f.Server.Cert.SerialNumber.String(): true}
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				state, err := dial(t, x.addr, &tls.Config{RootCAs: pool(x.f.CA.Cert), ServerName: "localhost"})
				if err == nil {
					mu.Lock()
					if !valid[state.PeerCertificates[0].SerialNumber.String()] {
						err = errors.New("an unknown certificate was served")
					}
					mu.Unlock()
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for range 5 {
		next := x.f.CA.Server(t)
		mu.Lock()
		valid[next.Cert.SerialNumber.String()] = true
		mu.Unlock()
		tlstest.WriteFile(t, x.f.ServerKeystore, []byte(next.KeystorePEM()))
		x.clock.Advance(time.Second)
		time.Sleep(5 * time.Millisecond)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for len(x.results) > 0 {
		<-x.results
	}
}
