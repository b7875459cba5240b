package sasl

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
)

// PlainStore checks PLAIN credentials.
type PlainStore interface {
	// CheckPlain reports whether password is user's password. It must not
	// take noticeably longer or shorter for an unknown user.
	CheckPlain(user, password string) bool
}

// PlainUsers is a PlainStore backed by a map of user name to password, as
// ParsePlainJAAS returns it. Passwords are compared in constant time (as
// SHA-256 digests, so their lengths do not show either).
type PlainUsers map[string]string

// CheckPlain implements PlainStore.
func (u PlainUsers) CheckPlain(user, password string) bool {
	want, ok := u[user]
	got := sha256.Sum256([]byte(password))
	exp := sha256.Sum256([]byte(want))
	eq := subtle.ConstantTimeCompare(got[:], exp[:]) == 1
	return ok && eq
}

// NewPlain returns the PLAIN mechanism (RFC 4616) checking passwords against
// store.
func NewPlain(store PlainStore) Mechanism { return plainMechanism{store: store} }

type plainMechanism struct{ store PlainStore }

func (plainMechanism) Name() string { return MechanismPlain }

func (m plainMechanism) Start() Exchange { return &plainExchange{store: m.store} }

type plainExchange struct {
	store    PlainStore
	finished bool
	result   Result
	ok       bool
}

func (e *plainExchange) Step(msg []byte) ([]byte, bool, error) {
	if e.finished {
		return finishedStep()
	}
	e.finished = true
	user, password, err := parsePlain(msg)
	if err != nil {
		return nil, false, err
	}
	if !e.store.CheckPlain(user, password) {
		return nil, false, failf("PLAIN: invalid username or password for %q", user)
	}
	e.result = Result{Principal: Principal{Type: PrincipalTypeUser, Name: user}}
	e.ok = true
	return nil, true, nil
}

func (e *plainExchange) Result() (Result, bool) { return e.result, e.ok }

// parsePlain splits "[authzid] NUL authcid NUL passwd" and applies Kafka's
// rules: exactly three fields, a user and a password, and an authzid that is
// empty or the user.
func parsePlain(msg []byte) (user, password string, err error) {
	if len(msg) > MaxMessageBytes {
		return "", "", failf("PLAIN: message of %d bytes exceeds %d", len(msg), MaxMessageBytes)
	}
	if bytes.Count(msg, []byte{0}) != 2 {
		return "", "", failf("PLAIN: expected 3 NUL-separated tokens")
	}
	f := bytes.SplitN(msg, []byte{0}, 3)
	authzid, authcid, passwd := string(f[0]), string(f[1]), string(f[2])
	switch {
	case authcid == "":
		return "", "", failf("PLAIN: username not specified")
	case passwd == "":
		return "", "", failf("PLAIN: password not specified")
	case authzid != "" && authzid != authcid:
		return "", "", failf("PLAIN: authorization id %q differs from username %q", authzid, authcid)
	}
	return authcid, passwd, nil
}
