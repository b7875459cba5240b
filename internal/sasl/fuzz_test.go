package sasl

import (
	"context"
	"errors"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// checkErr fails the fuzz run unless err is nil or wraps want.
func checkErr(t *testing.T, err, want error) {
	t.Helper()
	if err != nil && !errors.Is(err, want) {
		t.Fatalf("error %v does not wrap %v", err, want)
	}
}

func fuzzScramServer(t testing.TB) Mechanism {
	store := scramMap{}
	salt := []byte("fuzz salt")
	c, err := NewScramCredential(MechanismScramSHA256, "pw", salt, 4096)
	if err != nil {
		t.Fatal(err)
	}
	store["alice"] = map[string]ScramCredential{MechanismScramSHA256: c}
	m, err := NewScram(ScramConfig{Mechanism: MechanismScramSHA256, Store: store, Rand: seededRand(1), FakeSecret: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func FuzzScramClientFirst(f *testing.F) {
	for _, s := range []string{
		"n,,n=alice,r=abcdef", "n,a=alice,n=alice,r=abc,tokenauth=true", "p=x,,n=a,r=b",
		"n,,n=a=2Cb=3D,r=x,ext=1", "n,,m=x,n=a,r=b", "y,,n=a,r=b", "n,a=,n=a,r=b",
	} {
		f.Add([]byte(s))
	}
	srv := fuzzScramServer(f)
	f.Fuzz(func(t *testing.T, msg []byte) {
		cf, err := parseScramClientFirst(msg)
		checkErr(t, err, ErrAuthenticationFailed)
		if err == nil && (cf.user == "" || cf.nonce == "" || cf.gs2Header+cf.bare != string(msg)) {
			t.Fatalf("parsed %q as %+v", msg, cf)
		}
		out, done, err := srv.Start().Step(msg)
		checkErr(t, err, ErrAuthenticationFailed)
		if done || (err == nil) != (len(out) > 0) {
			t.Fatalf("done=%v out=%q err=%v", done, out, err)
		}
	})
}

func FuzzScramClientFinal(f *testing.F) {
	srv := fuzzScramServer(f)
	sess, first, err := scram.Auth{User: "alice", Pass: "pw", Nonce: []byte("nonce")}.AsSha256Mechanism().Authenticate(context.Background(), "")
	if err != nil {
		f.Fatal(err)
	}
	ex := srv.Start()
	sf, _, err := ex.Step(first)
	if err != nil {
		f.Fatal(err)
	}
	_, final, err := sess.Challenge(sf)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(final)
	f.Add([]byte("c=biws,r=x,p=AAAA"))
	f.Add([]byte("c=biws,r=x,e=1,p="))
	f.Fuzz(func(t *testing.T, msg []byte) {
		_, err := parseScramClientFinal(msg)
		checkErr(t, err, ErrAuthenticationFailed)
		ex := srv.Start()
		if _, _, err := ex.Step(first); err != nil {
			t.Fatal(err)
		}
		out, done, err := ex.Step(msg)
		checkErr(t, err, ErrAuthenticationFailed)
		if done != (err == nil) || (done && len(out) == 0) {
			t.Fatalf("done=%v out=%q err=%v", done, out, err)
		}
	})
}

func FuzzPlain(f *testing.F) {
	for _, s := range []string{"\x00alice\x00pw", "alice\x00alice\x00pw", "a\x00b", "\x00\x00"} {
		f.Add([]byte(s))
	}
	srv := NewPlain(PlainUsers{"alice": "pw"})
	f.Fuzz(func(t *testing.T, msg []byte) {
		out, done, err := srv.Start().Step(msg)
		checkErr(t, err, ErrAuthenticationFailed)
		if done != (err == nil) || out != nil {
			t.Fatalf("done=%v out=%q err=%v", done, out, err)
		}
	})
}

func FuzzOAuthBearerInitialResponse(f *testing.F) {
	keys := testKeysOnce()
	set, err := ParseJWKS(jwksJSON(f, keys, "ec256"))
	if err != nil {
		f.Fatal(err)
	}
	tok := signJWT(f, jose.ES256, keys["ec256"], "ec256", baseClaims())
	for _, s := range []string{
		"n,,\x01auth=Bearer " + tok + "\x01\x01",
		"n,a=alice,\x01auth=Bearer " + tok + "\x01k=v\x01\x01",
		"n,,\x01auth=Bearer x\x01\x01", "n,,\x01\x01",
	} {
		f.Add([]byte(s))
	}
	srv := NewOAuthBearer(newTestValidator(f, set, &fakeClock{now: testNow}))
	f.Fuzz(func(t *testing.T, msg []byte) {
		_, err := parseOAuthInitial(msg)
		checkErr(t, err, ErrAuthenticationFailed)
		ex := srv.Start()
		out, done, err := ex.Step(msg)
		checkErr(t, err, ErrAuthenticationFailed)
		if err == nil && !done {
			if string(out) != oauthInvalidToken {
				t.Fatalf("out %q", out)
			}
			_, _, err = ex.Step([]byte{1})
			if !errors.Is(err, ErrAuthenticationFailed) {
				t.Fatalf("after the error: %v", err)
			}
		}
	})
}

func FuzzJWT(f *testing.F) {
	keys := testKeysOnce()
	set, err := ParseJWKS(jwksJSON(f, keys, "rsa", "ec256", "ed"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(signJWT(f, jose.RS256, keys["rsa"], "rsa", baseClaims()))
	f.Add(signJWT(f, jose.ES256, keys["ec256"], "", baseClaims()))
	f.Add(signJWT(f, jose.EdDSA, keys["ed"], "ed", with("aud", "kafka", "scope", []string{"a"})))
	f.Add(unsignedJWT("none", "rsa", baseClaims()))
	f.Add("e30.e30.")
	v := newTestValidator(f, set, &fakeClock{now: testNow})
	f.Fuzz(func(t *testing.T, token string) {
		tok, err := v.Validate(token)
		checkErr(t, err, ErrAuthenticationFailed)
		if err == nil && (tok.Principal == "" || tok.Expiry.IsZero()) {
			t.Fatalf("accepted %+v", tok)
		}
	})
}

func FuzzParseAddScram(f *testing.F) {
	for _, s := range []string{
		"SCRAM-SHA-256=[name=admin,password=admin-secret]",
		`SCRAM-SHA-512=[name="alice",iterations=8192,salt="c2FsdA==",password="x"]`,
		"SCRAM-SHA-256=[name=a,salt=c2FsdA==,saltedpassword=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=]",
		"SCRAM-SHA-256=[]", "=[=]",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		_, c, err := ParseAddScram(spec, seededRand(1))
		checkErr(t, err, ErrInvalidConfig)
		if err == nil {
			if err := c.Validate(); err != nil {
				t.Fatalf("ParseAddScram(%q) gave an invalid credential: %v", spec, err)
			}
		}
	})
}

func FuzzParsePlainJAAS(f *testing.F) {
	f.Add(sampleJAAS)
	f.Add(`org.apache.kafka.common.security.plain.PlainLoginModule optional /* c */ user_a='\101\n' // x` + "\n;")
	f.Add("a b;")
	f.Fuzz(func(t *testing.T, text string) {
		_, err := ParsePlainJAAS(text)
		checkErr(t, err, ErrInvalidConfig)
	})
}
