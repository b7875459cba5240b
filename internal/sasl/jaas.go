package sasl

import (
	"strings"
)

// plainLoginModule is the login module a PLAIN listener's JAAS entry names.
const plainLoginModule = "org.apache.kafka.common.security.plain.PlainLoginModule"

// maxJAASBytes caps the JAAS text ParsePlainJAAS reads.
const maxJAASBytes = 1 << 20

// ParsePlainJAAS parses a PLAIN listener's JAAS entry (the value of
// listener.name.<listener>.plain.sasl.jaas.config) and returns its users:
// option user_<name>="<password>" gives user <name> that password. The
// broker's own username/password options (for inter-broker clients) are not
// users and are ignored.
//
// The syntax is Kafka's (JaasConfig, after Java's StreamTokenizer): exactly
// one entry `<LoginModule> <flag> [key=value]... ;`, the module being
// org.apache.kafka.common.security.plain.PlainLoginModule, the flag one of
// required, requisite, sufficient, optional; values double- or single-quoted
// (backslash escapes as in Java) or bare words; // and /* */ comments.
func ParsePlainJAAS(text string) (map[string]string, error) {
	if len(text) > maxJAASBytes {
		return nil, configErrorf("JAAS config of %d bytes exceeds %d", len(text), maxJAASBytes)
	}
	opts, err := parseJAAS(text, plainLoginModule)
	if err != nil {
		return nil, err
	}
	users := map[string]string{}
	for _, kv := range opts {
		name, ok := strings.CutPrefix(kv[0], "user_")
		if !ok {
			continue
		}
		if name == "" {
			return nil, configErrorf("JAAS option %q names no user", kv[0])
		}
		users[name] = kv[1]
	}
	return users, nil
}

// parseJAAS parses one JAAS entry for module and returns its options in
// order. Duplicate keys are an error.
func parseJAAS(text, module string) ([][2]string, error) {
	lx := jaasLexer{s: text}
	name, err := lx.expectWord("login module name")
	if err != nil {
		return nil, err
	}
	if name != module {
		return nil, configErrorf("JAAS login module %q, want %s", name, module)
	}
	flag, err := lx.expectWord("control flag")
	if err != nil {
		return nil, err
	}
	switch strings.ToLower(flag) {
	case "required", "requisite", "sufficient", "optional":
	default:
		return nil, configErrorf("JAAS control flag %q is not required, requisite, sufficient or optional", flag)
	}
	opts, err := lx.options()
	if err != nil {
		return nil, err
	}
	if tok, err := lx.next(); err != nil || tok.kind != 0 {
		return nil, configErrorf("JAAS config must hold exactly one login module")
	}
	return opts, nil
}

// options reads key=value options up to the entry's closing ';'.
func (lx *jaasLexer) options() ([][2]string, error) {
	var opts [][2]string
	seen := map[string]bool{}
	for {
		tok, err := lx.next()
		if err != nil {
			return nil, err
		}
		if tok.kind == ';' {
			break
		}
		if tok.kind != 'w' {
			return nil, configErrorf("JAAS config: expected an option or ';' at offset %d", lx.pos)
		}
		key := tok.text
		if eq, err := lx.next(); err != nil || eq.kind != '=' {
			return nil, configErrorf("JAAS config: value not specified for key %q", key)
		}
		val, err := lx.next()
		if err != nil {
			return nil, err
		}
		if val.kind != 'w' && val.kind != '"' {
			return nil, configErrorf("JAAS config: value not specified for key %q", key)
		}
		if seen[key] {
			return nil, configErrorf("JAAS config: option %q given twice", key)
		}
		seen[key] = true
		opts = append(opts, [2]string{key, val.text})
	}
	return opts, nil
}

// jaasToken is a lexeme: kind 'w' (word), '"' (quoted string), '=', ';', or
// 0 at the end of input.
type jaasToken struct {
	kind byte
	text string
}

type jaasLexer struct {
	s   string
	pos int
}

func (lx *jaasLexer) expectWord(what string) (string, error) {
	tok, err := lx.next()
	if err != nil {
		return "", err
	}
	if tok.kind != 'w' {
		return "", configErrorf("JAAS config: expected %s at offset %d", what, lx.pos)
	}
	return tok.text, nil
}

func isJAASWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == '-' || c == '$' || c == '.' || c >= 0x80
}

func (lx *jaasLexer) next() (jaasToken, error) {
	if err := lx.skipSpaceAndComments(); err != nil {
		return jaasToken{}, err
	}
	if lx.pos >= len(lx.s) {
		return jaasToken{}, nil
	}
	c := lx.s[lx.pos]
	switch {
	case c == '=' || c == ';':
		lx.pos++
		return jaasToken{kind: c}, nil
	case c == '"' || c == '\'':
		return lx.quoted(c)
	case isJAASWordByte(c):
		start := lx.pos
		for lx.pos < len(lx.s) && isJAASWordByte(lx.s[lx.pos]) {
			lx.pos++
		}
		return jaasToken{kind: 'w', text: lx.s[start:lx.pos]}, nil
	}
	return jaasToken{}, configErrorf("JAAS config: unexpected %q at offset %d", c, lx.pos)
}

func (lx *jaasLexer) skipSpaceAndComments() error {
	for lx.pos < len(lx.s) {
		rest := lx.s[lx.pos:]
		switch {
		case rest[0] <= ' ':
			lx.pos++
		case strings.HasPrefix(rest, "//"):
			end := strings.IndexAny(rest, "\r\n")
			if end < 0 {
				end = len(rest)
			}
			lx.pos += end
		case strings.HasPrefix(rest, "/*"):
			end := strings.Index(rest[2:], "*/")
			if end < 0 {
				return configErrorf("JAAS config: unterminated comment")
			}
			lx.pos += end + 4
		default:
			return nil
		}
	}
	return nil
}

// quoted reads a string quoted with q, decoding Java's backslash escapes.
func (lx *jaasLexer) quoted(q byte) (jaasToken, error) {
	start := lx.pos
	lx.pos++
	var b strings.Builder
	for lx.pos < len(lx.s) {
		c := lx.s[lx.pos]
		lx.pos++
		switch {
		case c == q:
			return jaasToken{kind: '"', text: b.String()}, nil
		case c == '\n' || c == '\r':
			return jaasToken{}, configErrorf("JAAS config: newline in string at offset %d", start)
		case c == '\\' && lx.pos < len(lx.s):
			b.WriteByte(lx.escape())
		default:
			b.WriteByte(c)
		}
	}
	return jaasToken{}, configErrorf("JAAS config: unterminated string at offset %d", start)
}

// escape decodes the escape after a backslash as StreamTokenizer does.
func (lx *jaasLexer) escape() byte {
	c := lx.s[lx.pos]
	lx.pos++
	switch c {
	case 'a':
		return 7
	case 'b':
		return '\b'
	case 'f':
		return '\f'
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	case 'v':
		return '\v'
	}
	if c < '0' || c > '7' {
		return c
	}
	v := int(c - '0')
	maxDigits := 2
	if c > '3' {
		maxDigits = 1
	}
	for range maxDigits {
		if lx.pos >= len(lx.s) || lx.s[lx.pos] < '0' || lx.s[lx.pos] > '7' {
			break
		}
		v = v*8 + int(lx.s[lx.pos]-'0')
		lx.pos++
	}
	return byte(v)
}

// scramLoginModule is the login module of a SCRAM client's JAAS entry.
const scramLoginModule = "org.apache.kafka.common.security.scram.ScramLoginModule"

// ParseLoginJAAS parses the JAAS entry a broker logs in to other brokers
// (or controllers) with, for mechanism PLAIN (PlainLoginModule) or
// SCRAM-SHA-256/512 (ScramLoginModule), and returns its username and
// password options, both required. A PLAIN entry's user_<name> options
// (the listener's users) are allowed beside them.
func ParseLoginJAAS(text, mechanism string) (username, password string, err error) {
	if len(text) > maxJAASBytes {
		return "", "", configErrorf("JAAS config of %d bytes exceeds %d", len(text), maxJAASBytes)
	}
	module := scramLoginModule
	if mechanism == MechanismPlain {
		module = plainLoginModule
	}
	opts, err := parseJAAS(text, module)
	if err != nil {
		return "", "", err
	}
	var haveUser, havePass bool
	for _, kv := range opts {
		switch kv[0] {
		case "username":
			username, haveUser = kv[1], true
		case "password":
			password, havePass = kv[1], true
		}
	}
	if !haveUser || !havePass || username == "" {
		return "", "", configErrorf("JAAS config for %s names no username and password for this broker to log in with", mechanism)
	}
	return username, password, nil
}
