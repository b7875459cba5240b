package tlsconf

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"
	"unicode"

	"github.com/youmark/pkcs8"
	"software.sslmate.com/src/go-pkcs12"
)

// ErrEncryptedKey is returned for an encrypted key without ssl.key.password.
var ErrEncryptedKey = errors.New("tlsconf: the private key is encrypted and ssl.key.password is not set")

// pemBlock is one -----BEGIN label----- … -----END label----- block.
type pemBlock struct {
	label string
	der   []byte
}

// parsePEM finds the PEM blocks of text; text outside them is ignored.
// Kafka lets PEM in a property arrive with its line breaks or on one line
// separated by spaces, so the base64 body is read with all white space
// removed. Headers (legacy OpenSSL key encryption) are refused.
func parsePEM(text string) ([]pemBlock, error) {
	var blocks []pemBlock
	for {
		i := strings.Index(text, "-----BEGIN ")
		if i < 0 {
			return blocks, nil
		}
		rest := text[i+len("-----BEGIN "):]
		j := strings.Index(rest, "-----")
		if j < 0 {
			return nil, errors.New("a PEM BEGIN line has no closing dashes")
		}
		label, rest := rest[:j], rest[j+len("-----"):]
		end := "-----END " + label + "-----"
		k := strings.Index(rest, end)
		if k < 0 {
			return nil, fmt.Errorf("no %q line", end)
		}
		body := rest[:k]
		text = rest[k+len(end):]
		if strings.Contains(body, ":") {
			return nil, fmt.Errorf("the %s block has PEM headers (legacy OpenSSL encryption): convert the key to PKCS#8 (openssl pkcs8 -topk8)", label)
		}
		der, err := base64.StdEncoding.DecodeString(strings.Map(dropSpace, body))
		if err != nil {
			return nil, fmt.Errorf("the %s block: %w", label, err)
		}
		blocks = append(blocks, pemBlock{label: label, der: der})
	}
}

func dropSpace(r rune) rune {
	if unicode.IsSpace(r) {
		return -1
	}
	return r
}

// isKeyLabel reports whether label is a private key block read here.
func isKeyLabel(label string) bool {
	switch label {
	case "PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY":
		return true
	}
	return false
}

// parseKey reads a private key block: PKCS#8 (encrypted with password, or
// not), PKCS#1 RSA or SEC 1 EC.
func parseKey(b pemBlock, password string) (crypto.Signer, error) {
	if b.label != "ENCRYPTED PRIVATE KEY" && password != "" {
		return nil, fmt.Errorf("ssl.key.password is set but the %s is not encrypted", b.label)
	}
	var key any
	var err error
	switch b.label {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(b.der)
	case "ENCRYPTED PRIVATE KEY":
		if password == "" {
			return nil, ErrEncryptedKey
		}
		key, _, err = pkcs8.ParsePrivateKey(b.der, []byte(password))
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(b.der)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(b.der)
	default:
		return nil, fmt.Errorf("%s is not a private key", b.label)
	}
	if err != nil {
		return nil, fmt.Errorf("the %s: %w", b.label, err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("the %s holds a %T, which cannot sign", b.label, key)
	}
	return signer, nil
}

// pemKeystore reads a key and a chain (leaf first) from PEM text: exactly
// one key block and at least one certificate.
func pemKeystore(keyText, chainText, password string) (*tls.Certificate, error) {
	keyBlocks, err := parsePEM(keyText)
	if err != nil {
		return nil, err
	}
	chainBlocks := keyBlocks
	if chainText != keyText {
		if chainBlocks, err = parsePEM(chainText); err != nil {
			return nil, err
		}
	}
	var key crypto.Signer
	for _, b := range keyBlocks {
		if !isKeyLabel(b.label) {
			continue
		}
		if key != nil {
			return nil, errors.New("more than one private key")
		}
		if key, err = parseKey(b, password); err != nil {
			return nil, err
		}
	}
	if key == nil {
		return nil, errors.New("no private key (PRIVATE KEY, ENCRYPTED PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY block)")
	}
	var chain [][]byte
	for _, b := range chainBlocks {
		if b.label == "CERTIFICATE" {
			chain = append(chain, b.der)
		}
	}
	return keyPair(key, chain)
}

// keyPair checks that the first certificate is the key's and parses them.
func keyPair(key crypto.Signer, chain [][]byte) (*tls.Certificate, error) {
	if len(chain) == 0 {
		return nil, errors.New("no CERTIFICATE block")
	}
	leaf, err := x509.ParseCertificate(chain[0])
	if err != nil {
		return nil, fmt.Errorf("the first certificate: %w", err)
	}
	for i, der := range chain[1:] {
		if _, err := x509.ParseCertificate(der); err != nil {
			return nil, fmt.Errorf("certificate %d of the chain: %w", i+2, err)
		}
	}
	pub, ok := leaf.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(key.Public()) {
		return nil, errors.New("the first certificate of the chain is not the private key's")
	}
	return &tls.Certificate{Certificate: chain, PrivateKey: key, Leaf: leaf}, nil
}

// loadKeystore reads c's keystore; nil without one.
func loadKeystore(c Config) (*tls.Certificate, error) {
	switch {
	case c.KeystoreKey != "":
		cert, err := pemKeystore(c.KeystoreKey, c.KeystoreCertificateChain, c.KeyPassword)
		if err != nil {
			return nil, fmt.Errorf("%s/%s: %w", c.name("ssl.keystore.key"), c.name("ssl.keystore.certificate.chain"), err)
		}
		return cert, nil
	case c.KeystoreLocation == "":
		return nil, nil
	}
	data, err := os.ReadFile(c.KeystoreLocation)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.name("ssl.keystore.location"), err)
	}
	var cert *tls.Certificate
	if strings.ToUpper(c.KeystoreType) == TypePKCS12 {
		cert, err = pkcs12Keystore(data, c.KeystorePassword)
	} else {
		cert, err = pemKeystore(string(data), string(data), c.KeyPassword)
	}
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", c.name("ssl.keystore.location"), c.KeystoreLocation, err)
	}
	return cert, nil
}

func pkcs12Keystore(data []byte, password string) (*tls.Certificate, error) {
	key, leaf, cas, err := pkcs12.DecodeChain(data, password)
	if err != nil {
		return nil, err
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("the keystore holds a %T, which cannot sign", key)
	}
	chain := [][]byte{leaf.Raw}
	for _, ca := range cas {
		chain = append(chain, ca.Raw)
	}
	return keyPair(signer, chain)
}

// loadTruststore reads c's trusted certificates; nil without any.
func loadTruststore(c Config) (*x509.CertPool, error) {
	var certs []*x509.Certificate
	var err error
	setting := "ssl.truststore.location"
	switch {
	case c.TruststoreCertificates != "":
		setting = "ssl.truststore.certificates"
		certs, err = pemCertificates(c.TruststoreCertificates)
	case c.TruststoreLocation == "":
		return nil, nil
	default:
		var data []byte
		if data, err = os.ReadFile(c.TruststoreLocation); err != nil {
			return nil, fmt.Errorf("%s: %w", c.name(setting), err)
		}
		if strings.ToUpper(c.TruststoreType) == TypePKCS12 {
			certs, err = pkcs12.DecodeTrustStore(data, c.TruststorePassword)
		} else {
			certs, err = pemCertificates(string(data))
		}
		if err == nil && len(certs) == 0 {
			err = errors.New("no certificate")
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.name(setting), err)
	}
	pool := x509.NewCertPool()
	for _, cert := range certs {
		pool.AddCert(cert)
	}
	return pool, nil
}

// pemCertificates reads the CERTIFICATE blocks of text (at least one).
func pemCertificates(text string) ([]*x509.Certificate, error) {
	blocks, err := parsePEM(text)
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	for _, b := range blocks {
		if b.label != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(b.der)
		if err != nil {
			return nil, fmt.Errorf("certificate %d: %w", len(certs)+1, err)
		}
		certs = append(certs, cert)
	}
	if len(certs) == 0 {
		return nil, errors.New("no CERTIFICATE block")
	}
	return certs, nil
}
