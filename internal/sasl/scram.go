package sasl

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"hash"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// SCRAM iteration bounds, as Kafka's ScramMechanism: credentials outside
// them are refused when created and never used.
const (
	MinScramIterations = 4096
	MaxScramIterations = 16384
)

// DefaultScramIterations is the iteration count ParseAddScram uses when the
// spec gives none (kafka-storage's default).
const DefaultScramIterations = 4096

// scramSaltBytes is the length of the salts this package generates (in
// ParseAddScram, and the fake salts of unknown users).
const scramSaltBytes = 32

// ScramCredential is what the broker stores for one user and one SCRAM
// mechanism (Kafka's ScramCredential / UserScramCredentialRecord). The
// password itself is not kept.
type ScramCredential struct {
	Mechanism  string // MechanismScramSHA256 or MechanismScramSHA512
	Salt       []byte
	StoredKey  []byte // H(ClientKey)
	ServerKey  []byte // HMAC(SaltedPassword, "Server Key")
	Iterations int32
}

// ScramStore looks up SCRAM credentials. The broker backs it with its
// metadata (UserScramCredentialRecords).
type ScramStore interface {
	// ScramCredential returns user's credential for mechanism, if any.
	ScramCredential(mechanism, user string) (ScramCredential, bool)
}

// scramHash returns the hash of a SCRAM mechanism, or nil if it is not one.
func scramHash(mechanism string) func() hash.Hash {
	switch mechanism {
	case MechanismScramSHA256:
		return sha256.New
	case MechanismScramSHA512:
		return sha512.New
	}
	return nil
}

// NewScramCredential derives a credential from a password:
// SaltedPassword = Hi(password, salt, iterations) (PBKDF2 with HMAC-H),
// then the stored and server keys as in RFC 5802.
func NewScramCredential(mechanism, password string, salt []byte, iterations int32) (ScramCredential, error) {
	h := scramHash(mechanism)
	if h == nil {
		return ScramCredential{}, configErrorf("%q is not a SCRAM mechanism", mechanism)
	}
	if err := checkScramParams(salt, iterations); err != nil {
		return ScramCredential{}, err
	}
	salted, err := pbkdf2.Key(h, password, salt, int(iterations), h().Size())
	if err != nil {
		return ScramCredential{}, configWrap("PBKDF2", err)
	}
	return ScramCredentialFromSalted(mechanism, salt, salted, iterations)
}

// ScramCredentialFromSalted builds a credential from an already salted
// password, as AlterUserScramCredentials and kafka-storage's saltedpassword=
// carry it.
func ScramCredentialFromSalted(mechanism string, salt, saltedPassword []byte, iterations int32) (ScramCredential, error) {
	h := scramHash(mechanism)
	if h == nil {
		return ScramCredential{}, configErrorf("%q is not a SCRAM mechanism", mechanism)
	}
	if err := checkScramParams(salt, iterations); err != nil {
		return ScramCredential{}, err
	}
	if len(saltedPassword) != h().Size() {
		return ScramCredential{}, configErrorf("%s salted password is %d bytes, want %d", mechanism, len(saltedPassword), h().Size())
	}
	clientKey := hmacSum(h, saltedPassword, []byte("Client Key"))
	stored := h()
	stored.Write(clientKey)
	return ScramCredential{
		Mechanism:  mechanism,
		Salt:       append([]byte(nil), salt...),
		StoredKey:  stored.Sum(nil),
		ServerKey:  hmacSum(h, saltedPassword, []byte("Server Key")),
		Iterations: iterations,
	}, nil
}

// Validate checks a stored credential before use: a known mechanism, a
// salt, keys of the hash's size and iterations within Kafka's bounds.
func (c ScramCredential) Validate() error {
	h := scramHash(c.Mechanism)
	if h == nil {
		return configErrorf("%q is not a SCRAM mechanism", c.Mechanism)
	}
	if err := checkScramParams(c.Salt, c.Iterations); err != nil {
		return err
	}
	if n := h().Size(); len(c.StoredKey) != n || len(c.ServerKey) != n {
		return configErrorf("%s keys must be %d bytes", c.Mechanism, n)
	}
	return nil
}

func checkScramParams(salt []byte, iterations int32) error {
	if len(salt) == 0 {
		return configErrorf("SCRAM salt is empty")
	}
	if iterations < MinScramIterations || iterations > MaxScramIterations {
		return configErrorf("SCRAM iterations %d outside [%d, %d]", iterations, MinScramIterations, MaxScramIterations)
	}
	return nil
}

func hmacSum(h func() hash.Hash, key, msg []byte) []byte {
	m := hmac.New(h, key)
	m.Write(msg)
	return m.Sum(nil)
}

// ParseAddScram parses one kafka-storage format --add-scram argument, such
// as `SCRAM-SHA-256=[name=alice,password=alice-secret]` or
// `SCRAM-SHA-512=[name=alice,iterations=8192,salt="N3E=",saltedpassword="YCE="]`,
// with Kafka's rules (ScramParser): components split on ',', a value in
// double quotes loses them, salt and saltedpassword are base64, iterations
// default to 4096, saltedpassword needs salt, unknown keys are an error. A
// missing salt is 32 bytes read from rnd (crypto/rand when rnd is nil).
// Unlike Kafka, a saltedpassword must be as long as the hash's output (what
// PBKDF2 gives any real client): a shorter one could never match.
func ParseAddScram(spec string, rnd io.Reader) (user string, cred ScramCredential, err error) {
	if len(spec) > MaxMessageBytes {
		return "", ScramCredential{}, configErrorf("add-scram argument of %d bytes exceeds %d", len(spec), MaxMessageBytes)
	}
	mech, body, ok := strings.Cut(strings.TrimSpace(spec), "=")
	if !ok {
		return "", ScramCredential{}, configErrorf("add-scram argument has no '='")
	}
	if scramHash(mech) == nil {
		return "", ScramCredential{}, configErrorf("add-scram mechanism %q is not supported", mech)
	}
	inner, ok := strings.CutPrefix(body, "[")
	if inner, ok = strings.CutSuffix(inner, "]"); !ok {
		return "", ScramCredential{}, configErrorf("add-scram configuration must be enclosed in [ ]")
	}
	comps := map[string]string{}
	for _, c := range strings.Split(inner, ",") {
		k, v, ok := strings.Cut(c, "=")
		if !ok {
			return "", ScramCredential{}, configErrorf("no '=' in add-scram component %q", c)
		}
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		comps[k] = v
	}
	return addScramCredential(mech, comps, rnd)
}

func addScramCredential(mech string, comps map[string]string, rnd io.Reader) (string, ScramCredential, error) {
	take := func(k string) (string, bool) {
		v, ok := comps[k]
		delete(comps, k)
		return v, ok
	}
	name, ok := take("name")
	if !ok || name == "" {
		return "", ScramCredential{}, configErrorf("add-scram needs name")
	}
	var salt []byte
	if s, ok := take("salt"); ok {
		b, err := decodeBase64(s)
		if err != nil || len(b) == 0 {
			return "", ScramCredential{}, configErrorf("add-scram salt %q is not base64", s)
		}
		salt = b
	}
	iterations := int64(DefaultScramIterations)
	if s, ok := take("iterations"); ok {
		n, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return "", ScramCredential{}, configErrorf("add-scram iterations %q is not a number", s)
		}
		iterations = n
	}
	password, hasPassword := take("password")
	saltedB64, hasSalted := take("saltedpassword")
	if len(comps) > 0 {
		// Name the keys only: a misspelt key may carry a password.
		return "", ScramCredential{}, configErrorf("unknown add-scram keys %q", slices.Sorted(maps.Keys(comps)))
	}
	if err := checkScramParams([]byte{0}, int32(iterations)); err != nil {
		return "", ScramCredential{}, err
	}
	var cred ScramCredential
	var err error
	switch {
	case hasPassword:
		cred, err = addScramFromPassword(mech, password, salt, int32(iterations), rnd)
	case hasSalted:
		cred, err = addScramFromSalted(mech, saltedB64, salt, int32(iterations))
	default:
		err = configErrorf("add-scram needs password or saltedpassword")
	}
	return name, cred, err
}

func addScramFromPassword(mech, password string, salt []byte, iterations int32, rnd io.Reader) (ScramCredential, error) {
	if salt == nil {
		salt = make([]byte, scramSaltBytes)
		if rnd == nil {
			rnd = rand.Reader
		}
		if _, err := io.ReadFull(rnd, salt); err != nil {
			return ScramCredential{}, configWrap("random salt", err)
		}
	}
	return NewScramCredential(mech, password, salt, iterations)
}

func addScramFromSalted(mech, saltedB64 string, salt []byte, iterations int32) (ScramCredential, error) {
	if salt == nil {
		return ScramCredential{}, configErrorf("add-scram saltedpassword needs salt")
	}
	salted, err := decodeBase64(saltedB64)
	if err != nil {
		return ScramCredential{}, configErrorf("add-scram saltedpassword is not base64")
	}
	return ScramCredentialFromSalted(mech, salt, salted, iterations)
}

// decodeBase64 decodes standard base64, padded or not (as Java's decoder).
func decodeBase64(s string) ([]byte, error) {
	if len(s)%4 == 0 {
		return base64.StdEncoding.DecodeString(s)
	}
	return base64.RawStdEncoding.DecodeString(s)
}
