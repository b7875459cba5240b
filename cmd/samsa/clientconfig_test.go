package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

func TestParseProperties(t *testing.T) {
	text := "# a comment\n" +
		"! another\n" +
		"\n" +
		"security.protocol=SASL_SSL\n" +
		"  sasl.mechanism : SCRAM-SHA-512\r\n" +
		"ssl.truststore.location /etc/ca.pem\n" +
		"sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required \\\n" +
		"    username=\"alice\" \\\n" +
		"    password=\"a\\\\b\";\n" +
		"ssl.endpoint.identification.algorithm=\n" +
		"escaped\\=key=tab\\there\\u00e9\n" +
		"trailing.space = value  \n" +
		"even.backslashes=ends\\\\\n" +
		"next=line"
	got, err := parseProperties(text)
	if err != nil {
		t.Fatal(err)
	}
	want := []property{
		{"security.protocol", "SASL_SSL", 4},
		{"sasl.mechanism", "SCRAM-SHA-512", 5},
		{"ssl.truststore.location", "/etc/ca.pem", 6},
		{"sasl.jaas.config", `org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="a\b";`, 7},
		{"ssl.endpoint.identification.algorithm", "", 10},
		{"escaped=key", "tab\there\u00e9", 11},
		{"trailing.space", "value  ", 12},
		{"even.backslashes", `ends\`, 13},
		{"next", "line", 14},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("parseProperties:\n got %+v\nwant %+v", got, want)
	}
	for _, bad := range []string{"k=\\u12", "k=\\uzzzz", "k=\xff"} {
		if _, err := parseProperties(bad); err == nil {
			t.Errorf("parseProperties(%q): want an error", bad)
		}
	}
}

func TestClientConfigSourcesAndPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "client.properties")
	writeFile(t, file, "security.protocol=SSL\nsasl.mechanisms=PLAIN\n")
	envFile := filepath.Join(dir, "env.properties")
	writeFile(t, envFile, "security.protocol=SASL_PLAINTEXT\n")

	load := func(env string, args ...string) (*clientConfig, error) {
		t.Helper()
		t.Setenv(clientConfigEnv, env)
		cf := &clientFlags{}
		cmd := &cobra.Command{Use: "x"}
		cf.register(cmd)
		if err := cmd.ParseFlags(args); err != nil {
			t.Fatal(err)
		}
		return cf.loadClientConfig(cmd)
	}
	cfg, err := load("", "--command-config", file, "-X", "security.protocol=SASL_SSL", "-X", "sasl.username=u")
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := cfg.get("security.protocol"); v != "SASL_SSL" || cfg.origin["security.protocol"] != "-X" {
		t.Errorf("-X should win over the file: %q from %s", v, cfg.origin["security.protocol"])
	}
	if v, _ := cfg.get("sasl.mechanism"); v != "PLAIN" || cfg.origin["sasl.mechanism"] != file+" line 2" {
		t.Errorf("librdkafka's sasl.mechanisms = %q from %q", v, cfg.origin["sasl.mechanism"])
	}
	cfg, err = load(envFile)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := cfg.get("security.protocol"); v != "SASL_PLAINTEXT" {
		t.Errorf("$%s not read: %q", clientConfigEnv, v)
	}
	cfg, err = load(envFile, "--command-config", file)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := cfg.get("security.protocol"); v != "SSL" {
		t.Errorf("--command-config should win over $%s: %q", clientConfigEnv, v)
	}
	cfg, err = load("")
	if err != nil || len(cfg.values) != 0 {
		t.Errorf("nothing given: %v, %v", cfg.values, err)
	}

	for _, tc := range []struct {
		env  string
		args []string
		want string
	}{
		{"", []string{"-X", "bootstrap.servers=h:1"}, `unknown client setting "bootstrap.servers" (-X): see samsa help client-config`},
		{"", []string{"-X", "novalue"}, `invalid -X "novalue": want key=value`},
		{"", []string{"--command-config", filepath.Join(dir, "missing")}, "cannot read the client config file of --command-config: open " + filepath.Join(dir, "missing") + ": no such file or directory"},
		{filepath.Join(dir, "missing"), nil, "cannot read the client config file of $SAMSA_CLIENT_CONFIG: open " + filepath.Join(dir, "missing") + ": no such file or directory"},
	} {
		if _, err := load(tc.env, tc.args...); err == nil || err.Error() != tc.want {
			t.Errorf("load(%q, %q) error = %v, want %q", tc.env, tc.args, err, tc.want)
		}
	}
	bad := filepath.Join(dir, "bad.properties")
	writeFile(t, bad, "# ok\nsecurity.protocol=SSL\nacks=all\n")
	if _, err := load("", "--command-config", bad); err == nil || err.Error() != `unknown client setting "acks" (`+bad+` line 3): see samsa help client-config` {
		t.Errorf("unknown key in a file: %v", err)
	}
}

func TestParseJAAS(t *testing.T) {
	cases := []struct {
		in   string
		want jaasConfig
	}{
		{`org.apache.kafka.common.security.plain.PlainLoginModule required username="alice" password="s3cret";`,
			jaasConfig{plainModule, "required", map[string]string{"username": "alice", "password": "s3cret"}}},
		{"org.apache.kafka.common.security.scram.ScramLoginModule required\n  username=bob\n  password=\"with \\\"quotes\\\" and ; = signs\"\n  tokenauth=true",
			jaasConfig{scramModule, "required", map[string]string{"username": "bob", "password": `with "quotes" and ; = signs`, "tokenauth": "true"}}},
		{`/* c */ org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required // line comment
			unsecuredLoginStringClaim_sub="alice" unsecuredLoginListClaim_scope=",a,b";`,
			jaasConfig{oauthModule, "required", map[string]string{"unsecuredLoginStringClaim_sub": "alice", "unsecuredLoginListClaim_scope": ",a,b"}}},
		{`org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;`,
			jaasConfig{oauthModule, "required", map[string]string{}}},
		{`x.Y optional password="";`, jaasConfig{"x.Y", "optional", map[string]string{"password": ""}}},
	}
	for _, tc := range cases {
		got, err := parseJAAS(tc.in)
		if err != nil {
			t.Errorf("parseJAAS(%q): %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parseJAAS(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"", `want "LoginModuleClass required key=value ...;"`},
		{"PlainLoginModule", `want "LoginModuleClass required key=value ...;"`},
		{`m requird username="u";`, `login module m has control flag "requird": want required`},
		{`m required username="u"; n required;`, "it holds more than one login module; give one"},
		{`m required username "u";`, `options of m: want key=value or key="value"`},
		{`m required username=;`, `options of m: want key=value or key="value"`},
		{`m required password="p4ss" password="p4ss";`, "option password is given twice"},
		{`m required password="p4ss`, "a quoted value is not closed"},
		{`m required /* password="p4ss"`, "unterminated /* comment"},
	} {
		_, err := parseJAAS(tc.in)
		if err == nil || err.Error() != tc.want {
			t.Errorf("parseJAAS(%q) error = %v, want %q", tc.in, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "p4ss") {
			t.Errorf("parseJAAS(%q) error shows the password: %v", tc.in, err)
		}
	}
}

// FuzzClientConfig feeds arbitrary text through the properties parser and
// every sasl.jaas.config value it yields through the JAAS parser: neither
// may panic, and a parsed properties file must survive a round trip.
func FuzzClientConfig(f *testing.F) {
	for _, seed := range []string{
		"security.protocol=SASL_SSL\nsasl.mechanism=PLAIN\n",
		"sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required \\\n  username=\"u\" password=\"p\";\n",
		"k\\=ey : v\\u00e9\\\\\r\n! c\n# c\n  a b",
		"sasl.jaas.config=m required a=\"\\\"\" /* x */ b=c // y\n",
		"x=\\u12",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		props, err := parseProperties(text)
		if err != nil {
			return
		}
		for _, p := range props {
			_, _ = parseJAAS(p.value)
		}
		var b strings.Builder
		for _, p := range props {
			b.WriteString(escapeProperty(p.key, true) + "=" + escapeProperty(p.value, false) + "\n")
		}
		again, err := parseProperties(b.String())
		if err != nil {
			t.Fatalf("re-parse of %q: %v", b.String(), err)
		}
		if len(again) != len(props) {
			t.Fatalf("round trip of %q: %d properties, then %d", text, len(props), len(again))
		}
		for i := range props {
			if again[i].key != props[i].key || again[i].value != props[i].value {
				t.Fatalf("round trip of %q: %q=%q became %q=%q", text, props[i].key, props[i].value, again[i].key, again[i].value)
			}
		}
	})
}

// escapeProperty writes s so that parseProperties reads it back, as
// java.util.Properties.store does.
func escapeProperty(s string, key bool) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\f':
			b.WriteString(`\f`)
		case r == ' ' && (key || i == 0):
			b.WriteString(`\ `)
		case strings.ContainsRune("=:#!", r):
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}
