package sasl

import (
	"bytes"
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/sasl/scram"
)

func newScramServer(t *testing.T, mech string, store ScramStore, seed byte) Mechanism {
	t.Helper()
	m, err := NewScram(ScramConfig{Mechanism: mech, Store: store, Rand: seededRand(seed), FakeSecret: []byte("test secret")})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestScramFranzClient(t *testing.T) {
	store := scramMap{}
	for _, mech := range []string{MechanismScramSHA256, MechanismScramSHA512} {
		store.add(t, mech, "alice", "alice-secret")
		store.add(t, mech, "a,b=c", "odd-secret")
	}
	for _, mech := range []string{MechanismScramSHA256, MechanismScramSHA512} {
		srv := newScramServer(t, mech, store, 1)
		for _, tc := range []struct {
			name string
			auth scram.Auth
			want string
		}{
			{"plain user", scram.Auth{User: "alice", Pass: "alice-secret"}, "alice"},
			{"authzid equal to user", scram.Auth{Zid: "alice", User: "alice", Pass: "alice-secret"}, "alice"},
			{"escaped user name", scram.Auth{User: "a,b=c", Pass: "odd-secret"}, "a,b=c"},
		} {
			t.Run(mech+"/"+tc.name, func(t *testing.T) {
				r, err := pump(t, asMech(mech, tc.auth), srv)
				if err != nil {
					t.Fatal(err)
				}
				if r.Principal != (Principal{Type: "User", Name: tc.want}) || !r.Expiry.IsZero() {
					t.Fatalf("result %+v", r)
				}
			})
		}
	}
}

func asMech(mech string, a scram.Auth) kafMech {
	if mech == MechanismScramSHA512 {
		return a.AsSha512Mechanism()
	}
	return a.AsSha256Mechanism()
}

func TestScramFailures(t *testing.T) {
	store := scramMap{}
	store.add(t, MechanismScramSHA256, "alice", "alice-secret")
	srv256 := newScramServer(t, MechanismScramSHA256, store, 2)
	srv512 := newScramServer(t, MechanismScramSHA512, store, 3)
	for _, tc := range []struct {
		name string
		srv  Mechanism
		auth scram.Auth
	}{
		{"wrong password", srv256, scram.Auth{User: "alice", Pass: "wrong"}},
		{"unknown user", srv256, scram.Auth{User: "mallory", Pass: "alice-secret"}},
		{"credential only for SHA-256", srv512, scram.Auth{User: "alice", Pass: "alice-secret"}},
		{"authzid differs", srv256, scram.Auth{Zid: "admin", User: "alice", Pass: "alice-secret"}},
		{"tokenauth", srv256, scram.Auth{User: "alice", Pass: "alice-secret", IsToken: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := pump(t, asMech(tc.srv.Name(), tc.auth), tc.srv)
			wantFail(t, err)
		})
	}
}

// scramRecord runs a successful exchange and returns the client's messages.
func scramRecord(t *testing.T, srv Mechanism, a scram.Auth) (first, final []byte, ex Exchange) {
	t.Helper()
	sess, first, err := asMech(srv.Name(), a).Authenticate(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	ex = srv.Start()
	sf, done, err := ex.Step(first)
	if err != nil || done {
		t.Fatalf("client-first: done=%v err=%v", done, err)
	}
	_, final, err = sess.Challenge(sf)
	if err != nil {
		t.Fatal(err)
	}
	return first, final, ex
}

func TestScramClientFinalTampering(t *testing.T) {
	store := scramMap{}
	store.add(t, MechanismScramSHA256, "alice", "alice-secret")
	srv := newScramServer(t, MechanismScramSHA256, store, 4)
	auth := scram.Auth{User: "alice", Pass: "alice-secret"}

	t.Run("untouched succeeds", func(t *testing.T) {
		_, final, ex := scramRecord(t, srv, auth)
		if _, done, err := ex.Step(final); err != nil || !done {
			t.Fatalf("done=%v err=%v", done, err)
		}
		if _, _, err := ex.Step(final); err == nil {
			t.Fatalf("Step after done succeeded")
		}
	})
	mutations := map[string]func(string) string{
		"nonce truncated": func(m string) string {
			i := strings.Index(m, ",p=")
			return m[:i-1] + m[i:]
		},
		"nonce extended": func(m string) string { return strings.Replace(m, ",p=", "x,p=", 1) },
		"nonce only the client's": func(m string) string {
			r := strings.Split(m, ",")[1]
			return strings.Replace(m, r, r[:len(r)-32], 1)
		},
		"channel binding p flag":    func(m string) string { return strings.Replace(m, "c=biws", "c="+b64("p=tls-unique,,"), 1) },
		"channel binding other zid": func(m string) string { return strings.Replace(m, "c=biws", "c="+b64("n,a=alice,"), 1) },
		"bad base64 proof":          func(m string) string { return m[:strings.Index(m, ",p=")] + ",p=!!!!" },
		"bad base64 channel":        func(m string) string { return strings.Replace(m, "c=biws", "c=b*ws", 1) },
		"short proof":               func(m string) string { return m[:strings.Index(m, ",p=")] + ",p=" + b64("short") },
		"flipped proof bit": func(m string) string {
			i := strings.Index(m, ",p=")
			p, _ := base64.StdEncoding.DecodeString(m[i+3:])
			p[0] ^= 1
			return m[:i] + ",p=" + base64.StdEncoding.EncodeToString(p)
		},
		"no proof":        func(m string) string { return m[:strings.Index(m, ",p=")] },
		"extension added": func(m string) string { return strings.Replace(m, ",p=", ",x=1,p=", 1) },
		"oversized":       func(m string) string { return m + strings.Repeat("A", MaxMessageBytes) },
	}
	for name, mutate := range mutations {
		t.Run(name, func(t *testing.T) {
			_, final, ex := scramRecord(t, srv, auth)
			_, _, err := ex.Step([]byte(mutate(string(final))))
			wantFail(t, err)
		})
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// TestScramReplay: the client-final message of a successful exchange fails
// on a new exchange, whose server nonce differs.
func TestScramReplay(t *testing.T) {
	store := scramMap{}
	store.add(t, MechanismScramSHA256, "alice", "alice-secret")
	srv := newScramServer(t, MechanismScramSHA256, store, 5)
	first, final, ex := scramRecord(t, srv, scram.Auth{User: "alice", Pass: "alice-secret", Nonce: []byte("fixed client nonce")})
	if _, done, err := ex.Step(final); err != nil || !done {
		t.Fatalf("original exchange: done=%v err=%v", done, err)
	}
	ex2 := srv.Start()
	sf2, _, err := ex2.Step(first)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(final, []byte(strings.Split(string(sf2), ",")[0])) {
		t.Fatalf("the new exchange reused the server nonce")
	}
	_, _, err = ex2.Step(final)
	wantFail(t, err)
}

func TestScramClientFirstRejects(t *testing.T) {
	store := scramMap{}
	store.add(t, MechanismScramSHA256, "alice", "alice-secret")
	srv := newScramServer(t, MechanismScramSHA256, store, 6)
	for name, msg := range map[string]string{
		"channel binding p":        "p=tls-unique,,n=alice,r=abcdef",
		"channel binding y":        "y,,n=alice,r=abcdef",
		"no gs2 header":            "n=alice,r=abcdef",
		"mandatory extension":      "n,,m=ext,n=alice,r=abcdef",
		"bad escape":               "n,,n=al=2Xice,r=abcdef",
		"empty user":               "n,,n=,r=abcdef",
		"no nonce":                 "n,,n=alice",
		"empty nonce":              "n,,n=alice,r=",
		"nonce with space":         "n,,n=alice,r=ab cd",
		"bad extension":            "n,,n=alice,r=abcdef,=x",
		"duplicate extension":      "n,,n=alice,r=abcdef,x=1,x=2",
		"authzid mismatch":         "n,a=bob,n=alice,r=abcdef",
		"tokenauth":                "n,,n=alice,r=abcdef,tokenauth=TRUE",
		"invalid utf-8":            "n,,n=al\xffice,r=abcdef",
		"NUL":                      "n,,n=al\x00ice,r=abcdef",
		"too many attributes":      "n,,n=alice,r=abcdef" + strings.Repeat(",x=1", maxScramAttributes),
		"oversized":                "n,,n=alice,r=" + strings.Repeat("a", MaxMessageBytes),
		"empty":                    "",
		"authzid without terminus": "n,a=alice",
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := srv.Start().Step([]byte(msg))
			wantFail(t, err)
		})
	}
	for name, msg := range map[string]string{
		"tokenauth=false is a normal login": "n,,n=alice,r=abcdef,tokenauth=false",
		"authzid equal, escaped":            "n,a=alice,n=alice,r=abcdef",
	} {
		t.Run(name, func(t *testing.T) {
			if _, _, err := srv.Start().Step([]byte(msg)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestScramUnknownUserLooksKnown: an unknown user's server-first message
// has the shape of a known user's, and its salt is stable per user.
func TestScramUnknownUserLooksKnown(t *testing.T) {
	store := scramMap{}
	store.add(t, MechanismScramSHA512, "alice", "alice-secret")
	srv := newScramServer(t, MechanismScramSHA512, store, 7)
	first := func(user string) (salt, iters string) {
		t.Helper()
		sf, done, err := srv.Start().Step([]byte("n,,n=" + user + ",r=clientnonce"))
		if err != nil || done {
			t.Fatalf("%s: done=%v err=%v", user, done, err)
		}
		f := strings.Split(string(sf), ",")
		if len(f) != 3 || !strings.HasPrefix(f[0], "r=clientnonce") || len(f[0]) != len("r=clientnonce")+32 {
			t.Fatalf("server-first %q", sf)
		}
		return f[1], f[2]
	}
	s1, i1 := first("alice")
	s2, i2 := first("mallory")
	s3, _ := first("mallory")
	s4, _ := first("eve")
	if len(s1) != len(s2) || i1 != i2 || i1 != "i=4096" {
		t.Fatalf("known %s %s vs unknown %s %s", s1, i1, s2, i2)
	}
	if s2 != s3 || s2 == s4 {
		t.Fatalf("fake salts: mallory %s then %s, eve %s", s2, s3, s4)
	}
	// Another broker with the same secret answers the same salt.
	other := newScramServer(t, MechanismScramSHA512, store, 8)
	sf, _, _ := other.Start().Step([]byte("n,,n=mallory,r=clientnonce"))
	if strings.Split(string(sf), ",")[1] != s2 {
		t.Fatalf("fake salt differs between mechanisms sharing a secret")
	}
}

// TestScramRFC7677 replays RFC 7677's SCRAM-SHA-256 example, with the server
// nonce fixed.
func TestScramRFC7677(t *testing.T) {
	salt, _ := base64.StdEncoding.DecodeString("W22ZaJ0SNY7soEsUEjb6gQ==")
	cred, err := NewScramCredential(MechanismScramSHA256, "pencil", salt, 4096)
	if err != nil {
		t.Fatal(err)
	}
	srv := newScramServer(t, MechanismScramSHA256, scramMap{"user": {MechanismScramSHA256: cred}}, 9)
	srv.(*scramMechanism).nonce = func() (string, error) { return "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0", nil }
	ex := srv.Start()
	sf, _, err := ex.Step([]byte("n,,n=user,r=rOprNGfwEbeRWgbNEkqO"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"; string(sf) != want {
		t.Fatalf("server-first %q, want %q", sf, want)
	}
	sfin, done, err := ex.Step([]byte("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="))
	if err != nil || !done {
		t.Fatalf("done=%v err=%v", done, err)
	}
	if want := "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="; string(sfin) != want {
		t.Fatalf("server-final %q, want %q", sfin, want)
	}
}

// TestScramNonceFromInjectedRand: the server nonce is the base64 of 24
// bytes read from ScramConfig.Rand.
func TestScramNonceFromInjectedRand(t *testing.T) {
	store := scramMap{}
	store.add(t, MechanismScramSHA256, "alice", "alice-secret")
	raw := bytes.Repeat([]byte{0xfb}, scramNonceBytes)
	srv, err := NewScram(ScramConfig{Mechanism: MechanismScramSHA256, Store: store, Rand: bytes.NewReader(raw), FakeSecret: []byte("s")})
	if err != nil {
		t.Fatal(err)
	}
	sf, _, err := srv.Start().Step([]byte("n,,n=alice,r=abc"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "r=abc" + base64.RawStdEncoding.EncodeToString(raw) + ","; !strings.HasPrefix(string(sf), want) {
		t.Fatalf("server-first %q, want prefix %q", sf, want)
	}
	// The reader is exhausted: the next exchange fails rather than reuse a nonce.
	_, _, err = srv.Start().Step([]byte("n,,n=alice,r=abc"))
	wantFail(t, err)
}

func TestScramCredentials(t *testing.T) {
	salt := []byte("0123456789abcdef")
	c, err := NewScramCredential(MechanismScramSHA512, "pw", salt, 8192)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil || len(c.StoredKey) != 64 || c.Iterations != 8192 {
		t.Fatalf("%+v: %v", c, err)
	}
	for _, it := range []int32{0, 4095, 16385} {
		if _, err := NewScramCredential(MechanismScramSHA256, "pw", salt, it); err == nil {
			t.Fatalf("iterations %d accepted", it)
		}
	}
	if _, err := NewScramCredential("SCRAM-SHA-1", "pw", salt, 4096); err == nil {
		t.Fatalf("SCRAM-SHA-1 accepted")
	}
	if _, err := NewScramCredential(MechanismScramSHA256, "pw", nil, 4096); err == nil {
		t.Fatalf("empty salt accepted")
	}
	if _, err := ScramCredentialFromSalted(MechanismScramSHA256, salt, []byte("short"), 4096); err == nil {
		t.Fatalf("short salted password accepted")
	}
	// A stored credential below the minimum is treated as absent.
	weak := c
	weak.Mechanism, weak.Iterations = MechanismScramSHA512, 1000
	srv := newScramServer(t, MechanismScramSHA512, scramMap{"bob": {MechanismScramSHA512: weak}}, 10)
	_, err = pump(t, scram.Auth{User: "bob", Pass: "pw"}.AsSha512Mechanism(), srv)
	wantFail(t, err)
}

func TestParseAddScram(t *testing.T) {
	user, c, err := ParseAddScram("SCRAM-SHA-256=[name=admin,password=admin-secret]", seededRand(11))
	if err != nil {
		t.Fatal(err)
	}
	salt := make([]byte, scramSaltBytes)
	seededRand(11).Read(salt)
	want, _ := NewScramCredential(MechanismScramSHA256, "admin-secret", salt, 4096)
	if user != "admin" || !bytes.Equal(c.Salt, want.Salt) || !bytes.Equal(c.StoredKey, want.StoredKey) || !bytes.Equal(c.ServerKey, want.ServerKey) || c.Iterations != 4096 {
		t.Fatalf("%s %+v", user, c)
	}
	// The parsed credential authenticates a real client.
	srv := newScramServer(t, MechanismScramSHA256, scramMap{user: {c.Mechanism: c}}, 12)
	if _, err := pump(t, scram.Auth{User: "admin", Pass: "admin-secret"}.AsSha256Mechanism(), srv); err != nil {
		t.Fatal(err)
	}

	user, c, err = ParseAddScram(` SCRAM-SHA-512=[name="alice",iterations=8192,salt="c2FsdHNhbHQ=",password="a=b"] `, nil)
	if err != nil || user != "alice" || c.Iterations != 8192 || string(c.Salt) != "saltsalt" {
		t.Fatalf("%s %+v %v", user, c, err)
	}
	srv = newScramServer(t, MechanismScramSHA512, scramMap{user: {c.Mechanism: c}}, 13)
	if _, err := pump(t, scram.Auth{User: "alice", Pass: "a=b"}.AsSha512Mechanism(), srv); err != nil {
		t.Fatal(err)
	}

	salted := want.Salt // any 32 bytes serve as a SHA-256 salted password
	spec := "SCRAM-SHA-256=[name=carol,salt=" + base64.StdEncoding.EncodeToString(salt) + ",saltedpassword=" + base64.StdEncoding.EncodeToString(salted) + "]"
	_, c2, err := ParseAddScram(spec, nil)
	want2, _ := ScramCredentialFromSalted(MechanismScramSHA256, salt, salted, 4096)
	if err != nil || !bytes.Equal(c2.StoredKey, want2.StoredKey) {
		t.Fatalf("%+v %v", c2, err)
	}

	for _, bad := range []string{
		"",
		"SCRAM-SHA-256",
		"SCRAM-SHA-1=[name=a,password=b]",
		"SCRAM-SHA-256=name=a,password=b",
		"SCRAM-SHA-256=[name=a,password=b",
		"SCRAM-SHA-256=[password=b]",
		"SCRAM-SHA-256=[name=,password=b]",
		"SCRAM-SHA-256=[name=a]",
		"SCRAM-SHA-256=[name=a,password=b,iterations=1000]",
		"SCRAM-SHA-256=[name=a,password=b,iterations=20000]",
		"SCRAM-SHA-256=[name=a,password=b,iterations=x]",
		"SCRAM-SHA-256=[name=a,password=b,color=red]",
		"SCRAM-SHA-256=[name=a,password=b,novalue]",
		"SCRAM-SHA-256=[name=a,password=b,salt=***]",
		"SCRAM-SHA-256=[name=a,saltedpassword=YCE=]",
		`SCRAM-SHA-512=[name=alice,iterations=8192,salt="N3E=",saltedpassword="YCE="]`, // 2-byte salted password
	} {
		if _, _, err := ParseAddScram(bad, seededRand(1)); err == nil {
			t.Errorf("ParseAddScram(%q) accepted", bad)
		}
	}
}
