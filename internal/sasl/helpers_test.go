package sasl

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	kafsasl "github.com/twmb/franz-go/pkg/sasl"
)

// pump runs one exchange between a franz-go client mechanism and a server
// mechanism, as a broker would relay SaslAuthenticate requests.
func pump(t *testing.T, client kafsasl.Mechanism, server Mechanism) (Result, error) {
	t.Helper()
	sess, msg, err := client.Authenticate(context.Background(), "127.0.0.1:9092")
	if err != nil {
		t.Fatalf("client Authenticate: %v", err)
	}
	return pumpFrom(t, sess, msg, server.Start())
}

func pumpFrom(t *testing.T, sess kafsasl.Session, msg []byte, ex Exchange) (Result, error) {
	t.Helper()
	for range 8 {
		out, done, err := ex.Step(msg)
		if err != nil {
			if _, ok := ex.Result(); ok {
				t.Fatalf("Result ok after a failed Step")
			}
			return Result{}, err
		}
		cdone, next, cerr := sess.Challenge(out)
		if cerr != nil {
			return Result{}, fmt.Errorf("client rejected the server: %w", cerr)
		}
		if done {
			if !cdone {
				t.Fatalf("server done, client not")
			}
			r, ok := ex.Result()
			if !ok {
				t.Fatalf("server done but Result not ok")
			}
			return r, nil
		}
		msg = next
	}
	t.Fatalf("exchange did not finish")
	return Result{}, nil
}

func wantFail(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("authentication succeeded, want failure")
	}
	if !errors.Is(err, ErrAuthenticationFailed) {
		t.Fatalf("error %v does not wrap ErrAuthenticationFailed", err)
	}
}

// seededRand is a deterministic io.Reader.
func seededRand(seed byte) *rand.ChaCha8 {
	var s [32]byte
	s[0] = seed
	return rand.NewChaCha8(s)
}

// fakeClock is a settable Clock.
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

// scramMap is a ScramStore: user → mechanism → credential.
type scramMap map[string]map[string]ScramCredential

func (m scramMap) ScramCredential(mech, user string) (ScramCredential, bool) {
	c, ok := m[user][mech]
	return c, ok
}

func (m scramMap) add(t *testing.T, mech, user, password string) {
	t.Helper()
	salt := make([]byte, scramSaltBytes)
	seededRand(byte(len(user))).Read(salt)
	c, err := NewScramCredential(mech, password, salt, 4096)
	if err != nil {
		t.Fatal(err)
	}
	if m[user] == nil {
		m[user] = map[string]ScramCredential{}
	}
	m[user][mech] = c
}

type kafMech = kafsasl.Mechanism
