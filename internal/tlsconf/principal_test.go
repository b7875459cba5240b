package tlsconf

import (
	"errors"
	"testing"
)

// Kafka's SslPrincipalMapperTest cases, and more checked against
// kafka-clients 4.4's SslPrincipalMapper.

func TestRulesValid(t *testing.T) {
	for _, rules := range []string{
		"DEFAULT",
		"RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/",
		"RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L, DEFAULT",
		"RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/",
		"RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/L",
		"RULE:^cn=(.?),ou=(.?),dc=(.?),dc=(.?)$/$1@$2/U",
		"RULE:^CN=([^,ADEFLTU,]+)(,.*|$)/$1/",
		"RULE:^CN=([^,DEFAULT,]+)(,.*|$)/$1/",
	} {
		if _, err := ParsePrincipalMappingRules(rules); err != nil {
			t.Errorf("%q: %v", rules, err)
		}
	}
}

func TestRulesInvalid(t *testing.T) {
	for _, rules := range []string{
		"default",
		"DEFAUL",
		"DEFAULT/L",
		"DEFAULT/U",
		"RULE:CN=(.*?),OU=ServiceUsers.*/$1",
		"rule:^CN=(.*?),OU=ServiceUsers.*$/$1/",
		"RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L/U",
		"RULE:^CN=(.*?),OU=ServiceUsers.*$/L",
		"RULE:^CN=(.*?),OU=ServiceUsers.*$/U",
		"RULE:^CN=(.*?),OU=ServiceUsers.*$/LU",
		// Go-specific: RE2 refuses Java-only syntax.
		`RULE:^CN=(\w+)\1$/$1/`,
		"RULE:^(?=CN).*$/x/",
		// A group reference with no group at all (Kafka fails at use).
		"RULE:^CN=.*$/$1/",
		`RULE:^CN=(.*)$/$1\/`,
		"RULE:^CN=(.*)$/${nope}/",
		"RULE:^CN=(.*)$/a$b/",
		"RULE:a/b/\nDEFAULT",
	} {
		if _, err := ParsePrincipalMappingRules(rules); !errors.Is(err, ErrInvalidRule) && err == nil {
			t.Errorf("%q: parsed", rules)
		} else if err == nil {
			t.Errorf("%q: %v is not ErrInvalidRule", rules, err)
		}
	}
}

func TestRulesMapping(t *testing.T) {
	m, err := ParsePrincipalMappingRules("RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L, " +
		"RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L, " +
		"RULE:^cn=(.*?),ou=(.*?),dc=(.*?),dc=(.*?)$/$1@$2/U, " +
		"RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/U, " +
		"DEFAULT")
	if err != nil {
		t.Fatal(err)
	}
	for dn, want := range map[string]string{
		"CN=Duke,OU=ServiceUsers,O=Org,C=US":        "duke",
		"CN=Duke,OU=SME,O=mycp,L=Fulton,ST=MD,C=US": "duke@sme",
		"cn=duke,ou=sme,dc=mycp,dc=com":             "DUKE@SME",
		"cN=duke,OU=JavaSoft,O=Sun Microsystems":    "DUKE",
		"OU=JavaSoft,O=Sun Microsystems,C=US":       "OU=JavaSoft,O=Sun Microsystems,C=US",
	} {
		got, err := m.Name(dn)
		if err != nil || got != want {
			t.Errorf("%q: %q, %v; want %q", dn, got, err, want)
		}
	}
}

func TestRulesSplitting(t *testing.T) {
	for _, c := range []struct{ rules, want string }{
		{"", "[]"},
		{"DEFAULT", "[DEFAULT]"},
		{"RULE://", "[RULE:/]"},
		{"RULE:/.*/", "[RULE:/.*]"},
		{"RULE:/.*/L", "[RULE:/.*/L]"},
		{"RULE://,DEFAULT", "[RULE:/, DEFAULT]"},
		{"  RULE:// ,  DEFAULT  ", "[RULE:/, DEFAULT]"},
		{"  RULE:   /     / ,  DEFAULT  ", "[RULE:   /     , DEFAULT]"},
		{"  RULE:  /     /U   ,DEFAULT  ", "[RULE:  /     /U, DEFAULT]"},
		{"  RULE:([A-Z]*)/$1/U   ,RULE:([a-z]+)/$1/,   DEFAULT  ", "[RULE:([A-Z]*)/$1/U, RULE:([a-z]+)/$1, DEFAULT]"},
		{",   , , ,      , , ,   ", "[]"},
		{",,RULE://,,,DEFAULT,,", "[RULE:/, DEFAULT]"},
		{",  , RULE: /   /    ,,,   DEFAULT, ,   ", "[RULE: /   , DEFAULT]"},
		{"     ,  , RULE:   /  /U    ,,  ,DEFAULT, ,", "[RULE:   /  /U, DEFAULT]"},
		{`RULE:\/\\\(\)\n\t/\/\//`, `[RULE:\/\\\(\)\n\t/\/\/]`},
		{`RULE:\**\/+/*/L,RULE:\/*\**/**/`, `[RULE:\**\/+/*/L, RULE:\/*\**/**]`},
		{`RULE:,RULE:,/,RULE:,\//U,RULE:,/RULE:,/,RULE:,RULE:,/L,RULE:,/L,RULE:, DEFAULT, /DEFAULT/,DEFAULT`,
			`[RULE:,RULE:,/,RULE:,\//U, RULE:,/RULE:,, RULE:,RULE:,/L,RULE:,/L, RULE:, DEFAULT, /DEFAULT, DEFAULT]`},
	} {
		m, err := ParsePrincipalMappingRules(c.rules)
		if err != nil {
			t.Errorf("%q: %v", c.rules, err)
			continue
		}
		if got := m.String(); got != c.want {
			t.Errorf("%q: %s; want %s", c.rules, got, c.want)
		}
	}
}

func TestRulesCommaWithWhitespace(t *testing.T) {
	m, err := ParsePrincipalMappingRules(`RULE:^CN=((\\, *|\w)+)(,.*|$)/$1/,DEFAULT`)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := m.Name(`CN=Tkac\, Adam,OU=ITZ,DC=geodis,DC=cz`); err != nil || got != `Tkac\, Adam` {
		t.Errorf("%q, %v", got, err)
	}
}

func TestRulesFallThrough(t *testing.T) {
	m, err := ParsePrincipalMappingRules("RULE:^CN=([^,]*),OU=ops,.*$/ops-$1/, RULE:^CN=([^,]*),.*$/$1/L")
	if err != nil {
		t.Fatal(err)
	}
	for dn, want := range map[string]string{
		"CN=Bob,OU=ops,O=Example": "ops-Bob",
		"CN=Bob,OU=dev,O=Example": "bob", // first rule does not match: next one
	} {
		if got, err := m.Name(dn); err != nil || got != want {
			t.Errorf("%q: %q, %v; want %q", dn, got, err, want)
		}
	}
	if _, err := m.Name("O=Example"); !errors.Is(err, ErrNoMatchingRule) {
		t.Errorf("no rule matches: %v", err)
	}
	empty, err := ParsePrincipalMappingRules("")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := empty.Name("CN=x"); !errors.Is(err, ErrNoMatchingRule) {
		t.Errorf("no rules: %v", err)
	}
}

// Java's replaceAll and Matcher replacement syntax, checked against Java 17.
func TestRulesJavaReplacement(t *testing.T) {
	for _, c := range []struct{ rule, dn, want string }{
		{"RULE:.*/x/", "CN=a", "xx"}, // Java also replaces the empty match at the end
		{"RULE:(.*)/[$1]/", "CN=a", "[CN=a][]"},
		{"RULE:^(.*)$/[$1]/", "CN=a", "[CN=a]"},
		{"RULE:^CN=(.)(.)$/$2$1$3/", "CN=ab", "ba$3"},        // past the groups: literal
		{"RULE:^CN=(.)(.)$/$12/", "CN=ab", "a2"},             // $12 is $1 then "2" with 2 groups
		{`RULE:^CN=(?P<n>.*)$/${n}\$/`, "CN=ab", "ab$"},      // named group, escaped $
		{"RULE:^CN=(.*),O=(x)?.*$/$1:$2/", "CN=a,O=y", "a:"}, // unset group: nothing
		{"RULE:^CN=(.*)$/$0/U", "CN=straße", "CN=STRASSE"},
		{"RULE:[ab]*?/-/", "ab", "-a-b-"},
		{"RULE:a?b*/-/", "ab", "--"},
	} {
		m, err := ParsePrincipalMappingRules(c.rule)
		if err != nil {
			t.Errorf("%s: %v", c.rule, err)
			continue
		}
		if got, err := m.Name(c.dn); err != nil || got != c.want {
			t.Errorf("%s on %q: %q, %v; want %q", c.rule, c.dn, got, err, c.want)
		}
	}
}

// Java's "." matches no line terminator (\n, \r, U+0085, U+2028, U+2029).
func TestRulesJavaDot(t *testing.T) {
	for _, c := range []struct{ rule, dn, want string }{
		{"RULE:^CN=(.*)$/$1/", "CN=a\rb", ""},
		{"RULE:^CN=(.*)$/$1/", "CN=a\u2028b", ""},
		{"RULE:^CN=(.*)$/$1/", "CN=a\u0085b", ""},
		{"RULE:^CN=(.*)$/$1/", "CN=a\tb", "a\tb"},
		{"RULE:(?s)^CN=(.*)$/$1/", "CN=a\rb", "a\rb"},
		{`RULE:^CN=([^\r]*)\r(.*)$/$2/`, "CN=a\rb", "b"},
	} {
		m, err := ParsePrincipalMappingRules(c.rule)
		if err != nil {
			t.Fatal(err)
		}
		got, err := m.Name(c.dn)
		if c.want == "" && !errors.Is(err, ErrNoMatchingRule) || c.want != "" && (err != nil || got != c.want) {
			t.Errorf("%s on %q: %q, %v; want %q", c.rule, c.dn, got, err, c.want)
		}
	}
}
