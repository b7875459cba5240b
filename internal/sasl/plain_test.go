package sasl

import (
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/sasl/plain"
)

const sampleJAAS = `org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret" user_alice="alice-secret";`

func TestParsePlainJAAS(t *testing.T) {
	users, err := ParsePlainJAAS(sampleJAAS)
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 2 || users["admin"] != "admin-secret" || users["alice"] != "alice-secret" {
		t.Fatalf("users %v", users)
	}
	users, err = ParsePlainJAAS(`
		// broker credentials
		org.apache.kafka.common.security.plain.PlainLoginModule Required
		  /* users */ user_bob='b\"o\tb\101' user_carol = carol-pw
		  user_dan="a;b=c // not a comment";`)
	if err != nil {
		t.Fatal(err)
	}
	if users["bob"] != "b\"o\tbA" || users["carol"] != "carol-pw" || users["dan"] != "a;b=c // not a comment" {
		t.Fatalf("users %q", users)
	}
	for name, bad := range map[string]string{
		"empty":             "",
		"other module":      `com.example.Login required user_a="b";`,
		"bad flag":          `org.apache.kafka.common.security.plain.PlainLoginModule mandatory user_a="b";`,
		"no semicolon":      `org.apache.kafka.common.security.plain.PlainLoginModule required user_a="b"`,
		"two modules":       sampleJAAS + " " + sampleJAAS,
		"unterminated":      `org.apache.kafka.common.security.plain.PlainLoginModule required user_a="b;`,
		"newline in string": "org.apache.kafka.common.security.plain.PlainLoginModule required user_a=\"b\n\";",
		"no value":          `org.apache.kafka.common.security.plain.PlainLoginModule required user_a=;`,
		"no equals":         `org.apache.kafka.common.security.plain.PlainLoginModule required user_a "b";`,
		"empty user":        `org.apache.kafka.common.security.plain.PlainLoginModule required user_="b";`,
		"duplicate":         `org.apache.kafka.common.security.plain.PlainLoginModule required user_a="b" user_a="c";`,
		"open comment":      `org.apache.kafka.common.security.plain.PlainLoginModule required /* user_a="b";`,
		"stray character":   `org.apache.kafka.common.security.plain.PlainLoginModule required user_a="b" @;`,
		"oversized":         strings.Repeat(" ", maxJAASBytes+1),
	} {
		if _, err := ParsePlainJAAS(bad); err == nil {
			t.Errorf("%s: ParsePlainJAAS(%.60q) accepted", name, bad)
		}
	}
}

func TestPlainFranzClient(t *testing.T) {
	users, err := ParsePlainJAAS(sampleJAAS)
	if err != nil {
		t.Fatal(err)
	}
	srv := NewPlain(PlainUsers(users))
	for _, a := range []plain.Auth{
		{User: "alice", Pass: "alice-secret"},
		{Zid: "alice", User: "alice", Pass: "alice-secret"},
	} {
		r, err := pump(t, a.AsMechanism(), srv)
		if err != nil {
			t.Fatal(err)
		}
		if r.Principal.String() != "User:alice" {
			t.Fatalf("principal %v", r.Principal)
		}
	}
	for _, a := range []plain.Auth{
		{User: "alice", Pass: "admin-secret"},
		{User: "alice", Pass: "alice-secret2"},
		{User: "mallory", Pass: "alice-secret"},
		{Zid: "admin", User: "alice", Pass: "alice-secret"},
	} {
		_, err := pump(t, a.AsMechanism(), srv)
		wantFail(t, err)
	}
}

func TestPlainMalformed(t *testing.T) {
	srv := NewPlain(PlainUsers{"alice": "pw"})
	for name, msg := range map[string]string{
		"empty":      "",
		"two tokens": "alice\x00pw",
		"four":       "\x00alice\x00pw\x00",
		"no user":    "\x00\x00pw",
		"no pass":    "\x00alice\x00",
		"oversized":  "\x00alice\x00" + strings.Repeat("p", MaxMessageBytes),
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := srv.Start().Step([]byte(msg))
			wantFail(t, err)
		})
	}
	ex := srv.Start()
	if _, done, err := ex.Step([]byte("\x00alice\x00pw")); err != nil || !done {
		t.Fatalf("done=%v err=%v", done, err)
	}
	if _, _, err := ex.Step([]byte("\x00alice\x00pw")); err == nil {
		t.Fatalf("second Step succeeded")
	}
	if !(PlainUsers{"a": "x"}).CheckPlain("a", "x") || (PlainUsers{"a": ""}).CheckPlain("b", "") {
		t.Fatalf("CheckPlain")
	}
}
