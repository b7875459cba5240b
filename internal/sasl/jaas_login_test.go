package sasl

import "testing"

// TestParseLoginJAAS: a client's SCRAM or PLAIN entry gives its username
// and password; another module, or no username, is refused.
func TestParseLoginJAAS(t *testing.T) {
	for _, c := range []struct{ text, user, pass string }{
		{`org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="a\"b";`, "admin", `a"b`},
		{`org.apache.kafka.common.security.plain.PlainLoginModule required username='bob' password=secret;`, "bob", "secret"},
	} {
		user, pass, err := ParseLoginJAAS(c.text)
		if err != nil || user != c.user || pass != c.pass {
			t.Errorf("%s: %q %q %v", c.text, user, pass, err)
		}
	}
	for _, bad := range []string{
		`org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;`,
		`org.apache.kafka.common.security.scram.ScramLoginModule required password="x";`,
		`org.apache.kafka.common.security.scram.ScramLoginModule required username="a"`,
	} {
		if _, _, err := ParseLoginJAAS(bad); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}
