package sasl

import (
	"errors"
	"strings"
	"testing"
)

// TestParseLoginJAAS: a broker's own login is the username and password
// options of the mechanism's login module; anything else is a
// configuration error naming the problem.
func TestParseLoginJAAS(t *testing.T) {
	ok := []struct{ text, mech, user, pass string }{
		{`org.apache.kafka.common.security.scram.ScramLoginModule required username="broker" password="s3cr\"t";`, MechanismScramSHA512, "broker", `s3cr"t`},
		{`org.apache.kafka.common.security.scram.ScramLoginModule required username=broker password='';`, MechanismScramSHA256, "broker", ""},
		{`org.apache.kafka.common.security.plain.PlainLoginModule required username="b" password="p" user_b="p" user_alice="a";`, MechanismPlain, "b", "p"},
	}
	for _, c := range ok {
		u, p, err := ParseLoginJAAS(c.text, c.mech)
		if err != nil || u != c.user || p != c.pass {
			t.Errorf("%s: got %q %q %v, want %q %q", c.text, u, p, err, c.user, c.pass)
		}
	}
	bad := []struct{ text, mech, want string }{
		{`org.apache.kafka.common.security.plain.PlainLoginModule required username="b" password="p";`, MechanismScramSHA512, "ScramLoginModule"},
		{`org.apache.kafka.common.security.scram.ScramLoginModule required username="b";`, MechanismScramSHA512, "no username and password"},
		{`org.apache.kafka.common.security.plain.PlainLoginModule required user_b="p";`, MechanismPlain, "no username and password"},
		{`org.apache.kafka.common.security.plain.PlainLoginModule required username="b" password="p"`, MechanismPlain, "JAAS config"},
	}
	for _, c := range bad {
		_, _, err := ParseLoginJAAS(c.text, c.mech)
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: err = %v, want a configuration error mentioning %q", c.text, err, c.want)
		}
	}
}
