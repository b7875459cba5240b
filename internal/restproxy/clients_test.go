package restproxy

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-streaming/samsa/internal/httpserve"
)

// closed says whether cl was closed: a closed client refuses a record at
// once; an open one (its broker is unreachable here) holds it until ctx
// ends.
func closed(t *testing.T, cl *kgo.Client) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err := cl.ProduceSync(ctx, &kgo.Record{Topic: "t", Value: []byte("v")}).FirstErr()
	return errors.Is(err, kgo.ErrClientClosed)
}

func testPool(t *testing.T, maxUsers int, idle time.Duration) *userPool {
	t.Helper()
	// kgo opens no connection before a request: nothing listens here.
	auth, err := httpserve.New(httpserve.Config{Brokers: []string{"127.0.0.1:1"}, Mechanism: "SCRAM-SHA-512"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Listen: "127.0.0.1:0", Brokers: []string{"127.0.0.1:1"}, Auth: auth, MaxUserClients: maxUsers, UserClientIdle: idle}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.lg = slog.New(slog.DiscardHandler)
	return newUserPool(s)
}

// TestUserPoolBound: the pool keeps at most MaxUserClients users, closing
// the least recently used one's clients once no request uses them; a new
// password gives new clients; after closeAll nothing is handed out.
func TestUserPoolBound(t *testing.T) {
	p := testPool(t, 2, time.Hour)
	a, err := p.acquire("a", "pa")
	if err != nil {
		t.Fatal(err)
	}
	prodA := a.producer()
	p.release(a)
	b, _ := p.acquire("b", "pb") // held until below
	prodB := b.producer()
	c, _ := p.acquire("c", "pc")
	if !closed(t, prodA) {
		t.Fatal("a, idle and least recently used, kept its clients above the bound")
	}
	if closed(t, prodB) {
		t.Fatal("b was closed while in use")
	}
	p.release(c)
	d, _ := p.acquire("d", "pd") // b is now the least recently used, but in use
	if closed(t, prodB) {
		t.Fatal("b was closed while a request used it")
	}
	p.release(b)
	if !closed(t, prodB) {
		t.Fatal("b, out of the pool, kept its clients after its last request")
	}
	if len(p.users) != 2 {
		t.Fatalf("%d users in a pool bound to 2", len(p.users))
	}
	prodD := d.producer()
	p.release(d)
	d2, _ := p.acquire("d", "new password")
	if d2 == d || !closed(t, prodD) {
		t.Fatal("a changed password kept the old clients")
	}
	p.release(d2)
	p.closeAll()
	if !closed(t, d2.producer()) {
		t.Fatal("closeAll left a client open")
	}
	if _, err := p.acquire("e", "pe"); err == nil {
		t.Fatal("acquire after closeAll")
	}
}

// TestUserPoolIdle: a user idle longer than UserClientIdle loses its
// clients to the reaper.
func TestUserPoolIdle(t *testing.T) {
	p := testPool(t, 10, 20*time.Millisecond)
	u, err := p.acquire("a", "pa")
	if err != nil {
		t.Fatal(err)
	}
	prod := u.producer()
	p.release(u)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // stopped below
		defer wg.Done()
		p.reap(ctx)
	}()
	defer func() { cancel(); wg.Wait() }()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		p.mu.Lock()
		n := len(p.users)
		p.mu.Unlock()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("an idle user was never reaped")
		}
	}
	if !closed(t, prod) {
		t.Fatal("a reaped user's clients are open")
	}
}
