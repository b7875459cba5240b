package tlsconf

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// ErrNoKeystore is returned by ServerConfig for a Config without a keystore.
var ErrNoKeystore = errors.New("tlsconf: no keystore (ssl.keystore.location, or ssl.keystore.key with ssl.keystore.certificate.chain)")

// checkEvery is the least time between two looks at the files' stamps.
const checkEvery = time.Second

// Reloader serves one Config's certificate and trust store to crypto/tls
// and re-reads their files when they change. Safe for concurrent use.
type Reloader struct {
	cfg    Config
	params params
	mapper *PrincipalMapper
	logger *slog.Logger
	now    func() time.Time // time.Now; tests replace it

	cur       atomic.Pointer[material]
	nextCheck atomic.Int64 // UnixNano before which handshakes do not stat
	lastErr   atomic.Pointer[error]

	mu   sync.Mutex // serializes loads; guards seen
	seen stamps     // the files as the last load attempt found them
}

// material is one load of the stores; never modified once published.
type material struct {
	cert   *tls.Certificate // nil: no keystore
	roots  *x509.CertPool   // nil: no trust store (clients use the system's)
	server *tls.Config      // what GetConfigForClient serves
}

// stamp identifies a file's version: its stat, or why stat failed.
type stamp struct {
	info os.FileInfo
	err  string
}

func (s stamp) same(o stamp) bool {
	if s.info == nil || o.info == nil {
		return s.info == nil && o.info == nil && s.err == o.err
	}
	return s.info.ModTime().Equal(o.info.ModTime()) && s.info.Size() == o.info.Size() && os.SameFile(s.info, o.info)
}

type stamps struct{ keystore, truststore stamp }

func (s stamps) same(o stamps) bool {
	return s.keystore.same(o.keystore) && s.truststore.same(o.truststore)
}

// NewReloader applies Defaults to cfg, validates it and reads its stores.
// logger (nil: discard) is told of every reload and every failed one.
func NewReloader(cfg Config, logger *slog.Logger) (*Reloader, error) {
	cfg = cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p, err := cfg.params()
	if err != nil {
		return nil, err
	}
	mapper, err := ParsePrincipalMappingRules(cfg.PrincipalMappingRules)
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	r := &Reloader{cfg: cfg, params: p, mapper: mapper, logger: logger, now: time.Now}
	r.seen = r.stat()
	m, err := r.load()
	if err != nil {
		return nil, err
	}
	r.cur.Store(m)
	r.nextCheck.Store(r.now().Add(checkEvery).UnixNano())
	return r, nil
}

// hasFiles reports whether any store is a file (inline PEM never changes).
func (r *Reloader) hasFiles() bool {
	return (r.cfg.KeystoreLocation != "" && r.cfg.KeystoreKey == "") ||
		(r.cfg.TruststoreLocation != "" && r.cfg.TruststoreCertificates == "")
}

func (r *Reloader) stat() stamps {
	one := func(path string) stamp {
		if path == "" {
			return stamp{}
		}
		info, err := os.Stat(path)
		if err != nil {
			return stamp{err: err.Error()}
		}
		return stamp{info: info}
	}
	return stamps{keystore: one(r.cfg.KeystoreLocation), truststore: one(r.cfg.TruststoreLocation)}
}

// load reads both stores.
func (r *Reloader) load() (*material, error) {
	cert, err := loadKeystore(r.cfg)
	if err != nil {
		return nil, err
	}
	roots, err := loadTruststore(r.cfg)
	if err != nil {
		return nil, err
	}
	m := &material{cert: cert, roots: roots}
	m.server = &tls.Config{
		MinVersion:   r.params.minVersion,
		MaxVersion:   r.params.maxVersion,
		CipherSuites: r.params.suites,
		ClientAuth:   r.cfg.ClientAuth.TLS(),
		ClientCAs:    roots,
		// A resumed session would skip verifying the client against a
		// reloaded trust store.
		SessionTicketsDisabled: r.cfg.ClientAuth != ClientAuthNone,
	}
	if cert != nil {
		m.server.Certificates = []tls.Certificate{*cert}
	}
	return m, nil
}

// Reload re-reads the stores' files now. On error the current material
// stays in use, and LastError reports the error until a reload succeeds.
func (r *Reloader) Reload() error {
	if !r.hasFiles() {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reloadLocked()
}

// LastError is the error of the last reload, nil if it succeeded.
func (r *Reloader) LastError() error {
	if p := r.lastErr.Load(); p != nil {
		return *p
	}
	return nil
}

func (r *Reloader) reloadLocked() error {
	r.seen = r.stat()
	m, err := r.load()
	if err == nil {
		err = r.identityChange(r.cur.Load().cert, m.cert)
	}
	if err != nil {
		err = fmt.Errorf("tlsconf: reload refused, keeping the current certificate and trust store: %w", err)
		r.lastErr.Store(&err)
		r.logger.Error("TLS reload failed", "err", err)
		return err
	}
	r.cur.Store(m)
	r.lastErr.Store(nil)
	if m.cert != nil {
		subject, _ := FormatDN(m.cert.Leaf.RawSubject)
		r.logger.Info("TLS certificate and trust store reloaded", "subject", subject,
			"serial", m.cert.Leaf.SerialNumber.Text(16), "not_after", m.cert.Leaf.NotAfter)
	} else {
		r.logger.Info("TLS trust store reloaded")
	}
	return nil
}

// identityChange refuses a new certificate whose subject or subject
// alternative names differ, unless ssl.allow.dn.changes or
// ssl.allow.san.changes allow it (Kafka's check on keystore updates).
func (r *Reloader) identityChange(old, next *tls.Certificate) error {
	if old == nil || next == nil {
		return nil
	}
	if !r.cfg.AllowDNChanges && !bytes.Equal(old.Leaf.RawSubject, next.Leaf.RawSubject) {
		return fmt.Errorf("the new certificate's subject differs (%s allows it)", r.cfg.name("ssl.allow.dn.changes"))
	}
	if !r.cfg.AllowSANChanges && !slices.Equal(sans(old.Leaf), sans(next.Leaf)) {
		return fmt.Errorf("the new certificate's subject alternative names differ (%s allows it)", r.cfg.name("ssl.allow.san.changes"))
	}
	return nil
}

// sans lists a certificate's subject alternative names, sorted.
func sans(c *x509.Certificate) []string {
	var out []string
	for _, n := range c.DNSNames {
		out = append(out, "dns:"+n)
	}
	for _, n := range c.EmailAddresses {
		out = append(out, "email:"+n)
	}
	for _, ip := range c.IPAddresses {
		out = append(out, "ip:"+ip.String())
	}
	for _, u := range c.URIs {
		out = append(out, "uri:"+u.String())
	}
	slices.Sort(out)
	return out
}

// maybeReload, on a handshake, looks at the files at most once per
// checkEvery and reloads if their stamps changed since the last attempt.
// It never waits for a reload another goroutine is doing.
func (r *Reloader) maybeReload() {
	if !r.hasFiles() {
		return
	}
	now := r.now().UnixNano()
	next := r.nextCheck.Load()
	if now < next || !r.nextCheck.CompareAndSwap(next, now+int64(checkEvery)) {
		return
	}
	if !r.mu.TryLock() {
		return
	}
	defer r.mu.Unlock()
	if r.stat().same(r.seen) {
		return
	}
	_ = r.reloadLocked() // logged and kept for LastError
}

// Leaf is the certificate served now; nil without a keystore.
func (r *Reloader) Leaf() *x509.Certificate {
	if c := r.cur.Load().cert; c != nil {
		return c.Leaf
	}
	return nil
}

// ServerConfig is a tls.Config for a listener: GetConfigForClient serves
// the current certificate, trust store and ssl.client.auth policy (and
// GetCertificate the current certificate, for callers that use only it).
func (r *Reloader) ServerConfig() (*tls.Config, error) {
	if r.cur.Load().cert == nil {
		return nil, ErrNoKeystore
	}
	return &tls.Config{
		MinVersion:   r.params.minVersion,
		MaxVersion:   r.params.maxVersion,
		CipherSuites: r.params.suites,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			r.maybeReload()
			return r.cur.Load().cert, nil
		},
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			r.maybeReload()
			return r.cur.Load().server, nil
		},
	}, nil
}

// ClientConfig is a tls.Config for one connection to serverName (a host
// name or IP address) with the current trust store (the system's without
// one) and, with a keystore, the current client certificate. Call it per
// connection: a reloaded trust store applies to later calls.
func (r *Reloader) ClientConfig(serverName string) *tls.Config {
	r.maybeReload()
	m := r.cur.Load()
	c := &tls.Config{
		ServerName:   serverName,
		MinVersion:   r.params.minVersion,
		MaxVersion:   r.params.maxVersion,
		CipherSuites: r.params.suites,
		RootCAs:      m.roots,
	}
	if m.cert != nil {
		c.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			r.maybeReload()
			return r.cur.Load().cert, nil
		}
	}
	if r.cfg.SkipHostnameVerification {
		// Verified below, as crypto/tls would, minus the name.
		c.InsecureSkipVerify = true
		c.VerifyConnection = func(cs tls.ConnectionState) error {
			return verifyChain(cs.PeerCertificates, m.roots)
		}
	}
	return c
}

// verifyChain verifies a server's chain against roots without its name.
func verifyChain(certs []*x509.Certificate, roots *x509.CertPool) error {
	if len(certs) == 0 {
		return errors.New("tlsconf: the server sent no certificate")
	}
	opts := x509.VerifyOptions{Roots: roots, Intermediates: x509.NewCertPool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	for _, c := range certs[1:] {
		opts.Intermediates.AddCert(c)
	}
	if _, err := certs[0].Verify(opts); err != nil {
		return fmt.Errorf("tlsconf: server certificate: %w", err)
	}
	return nil
}

// Principal is the Kafka principal of a connection's client, by the
// configured ssl.principal.mapping.rules (see PrincipalMapper.Principal).
func (r *Reloader) Principal(state tls.ConnectionState) (Principal, error) {
	return r.mapper.Principal(state)
}
