package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"
)

// This file reads the client security settings: a Java properties file
// (--command-config, as Kafka's tools take it, or $SAMSA_CLIENT_CONFIG) and
// repeated -X key=value (as kcat takes them), with Kafka's and librdkafka's
// key names; and the JAAS text of sasl.jaas.config. clientsecurity.go turns
// them into franz-go options.

const clientConfigEnv = "SAMSA_CLIENT_CONFIG"

// clientKeys are the settings the client commands understand, with the
// librdkafka aliases mapped to one name. A key outside this table is an
// error.
var clientKeys = map[string]string{
	"security.protocol":                     "security.protocol",
	"sasl.mechanism":                        "sasl.mechanism",
	"sasl.mechanisms":                       "sasl.mechanism", // librdkafka
	"sasl.jaas.config":                      "sasl.jaas.config",
	"sasl.username":                         "sasl.username",
	"sasl.password":                         "sasl.password",
	"sasl.oauthbearer.token":                "sasl.oauthbearer.token",
	"ssl.truststore.location":               "ssl.truststore.location",
	"ssl.truststore.type":                   "ssl.truststore.type",
	"ssl.truststore.certificates":           "ssl.truststore.certificates",
	"ssl.truststore.password":               "ssl.truststore.password",
	"ssl.ca.location":                       "ssl.ca.location",
	"ssl.keystore.location":                 "ssl.keystore.location",
	"ssl.keystore.type":                     "ssl.keystore.type",
	"ssl.keystore.certificate.chain":        "ssl.keystore.certificate.chain",
	"ssl.keystore.key":                      "ssl.keystore.key",
	"ssl.keystore.password":                 "ssl.keystore.password",
	"ssl.key.password":                      "ssl.key.password",
	"ssl.certificate.location":              "ssl.certificate.location",
	"ssl.key.location":                      "ssl.key.location",
	"ssl.endpoint.identification.algorithm": "ssl.endpoint.identification.algorithm",
	"ssl.enabled.protocols":                 "ssl.enabled.protocols",
}

// secretKeys are settings whose values never appear in an error.
var secretKeys = map[string]bool{
	"sasl.jaas.config": true, "sasl.password": true, "sasl.oauthbearer.token": true,
	"ssl.keystore.key": true, "ssl.key.password": true,
	"ssl.truststore.password": true, "ssl.keystore.password": true,
}

// clientConfig holds the security settings given, by canonical key, and
// where each came from ("client.properties line 3", "-X").
type clientConfig struct {
	values map[string]string
	origin map[string]string
}

func newClientConfig() *clientConfig {
	return &clientConfig{values: map[string]string{}, origin: map[string]string{}}
}

// set records key=value from origin; a later set of a key wins.
func (c *clientConfig) set(key, value, origin string) error {
	canon, ok := clientKeys[key]
	if !ok {
		return fmt.Errorf("unknown client setting %q (%s): see samsa help client-config", key, origin)
	}
	c.values[canon] = value
	c.origin[canon] = origin
	return nil
}

// get returns a setting's value and whether it was given.
func (c *clientConfig) get(key string) (string, bool) {
	v, ok := c.values[key]
	return v, ok
}

// has reports whether any of keys was given.
func (c *clientConfig) has(keys ...string) bool {
	for _, k := range keys {
		if _, ok := c.values[k]; ok {
			return true
		}
	}
	return false
}

// given returns the first of keys that was given, or "".
func (c *clientConfig) given(keys ...string) string {
	for _, k := range keys {
		if _, ok := c.values[k]; ok {
			return k
		}
	}
	return ""
}

// errorf returns an error about key, naming where it came from.
func (c *clientConfig) errorf(key, format string, args ...any) error {
	return fmt.Errorf("invalid %s (%s): %s", key, c.origin[key], fmt.Sprintf(format, args...))
}

// badValue is errorf for a value outside want; secret values are not shown.
func (c *clientConfig) badValue(key, want string) error {
	if secretKeys[key] {
		return c.errorf(key, "want %s", want)
	}
	return c.errorf(key, "%q: want %s", c.values[key], want)
}

// addProperties parses a Java properties text (name is the file's, for
// errors) into c.
func (c *clientConfig) addProperties(text, name string) error {
	props, err := parseProperties(text)
	if err != nil {
		return fmt.Errorf("cannot read %s: %w", name, err)
	}
	for _, p := range props {
		if err := c.set(p.key, p.value, fmt.Sprintf("%s line %d", name, p.line)); err != nil {
			return err
		}
	}
	return nil
}

// loadClientConfig gathers the settings of --command-config (or
// $SAMSA_CLIENT_CONFIG) and then -X, which win over the file.
func (f *clientFlags) loadClientConfig(cmd *cobra.Command) (*clientConfig, error) {
	cfg := newClientConfig()
	path, source := f.commandConfig, "--command-config"
	if fl := cmd.Flags().Lookup("command-config"); fl == nil || !fl.Changed {
		path, source = strings.TrimSpace(os.Getenv(clientConfigEnv)), "$"+clientConfigEnv
	}
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("cannot read the client config file of %s: %w", source, err)
		}
		if err := cfg.addProperties(string(data), path); err != nil {
			return nil, err
		}
	}
	for _, x := range f.settings {
		k, v, err := splitKeyValue(x, "-X")
		if err != nil {
			return nil, err
		}
		if err := cfg.set(strings.TrimSpace(k), v, "-X"); err != nil {
			return nil, err
		}
	}
	return cfg, nil
}

// property is one key=value of a properties file, with its line.
type property struct {
	key, value string
	line       int
}

// parseProperties parses text the way java.util.Properties.load does:
// '#'/'!' comments, key and value separated by '=', ':' or white space,
// a trailing backslash continuing the line, and backslash escapes
// (\t \n \r \f \uXXXX; any other escaped character stands for itself).
func parseProperties(text string) ([]property, error) {
	if !utf8.ValidString(text) {
		return nil, errors.New("not UTF-8 text")
	}
	var out []property
	lines := splitNaturalLines(text)
	for i := 0; i < len(lines); i++ {
		start := i + 1
		line := strings.TrimLeft(lines[i], " \t\f")
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		for continues(line) && i+1 < len(lines) {
			i++
			line = line[:len(line)-1] + strings.TrimLeft(lines[i], " \t\f")
		}
		if continues(line) {
			line = line[:len(line)-1]
		}
		rawKey, rawValue := splitProperty(line)
		key, err := unescapeProperty(rawKey)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", start, err)
		}
		value, err := unescapeProperty(rawValue)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", start, err)
		}
		out = append(out, property{key: key, value: value, line: start})
	}
	return out, nil
}

// splitNaturalLines splits at \n, \r\n or \r.
func splitNaturalLines(text string) []string {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	return strings.Split(text, "\n")
}

// continues reports whether a line ends in an odd number of backslashes.
func continues(line string) bool {
	n := 0
	for i := len(line) - 1; i >= 0 && line[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

// splitProperty splits a logical line into its raw key and raw value.
func splitProperty(line string) (string, string) {
	end := len(line)
	for i := 0; i < len(line); i++ {
		c := line[i]
		if c == '\\' {
			i++
			continue
		}
		if c == '=' || c == ':' || c == ' ' || c == '\t' || c == '\f' {
			end = i
			break
		}
	}
	key, rest := line[:end], line[end:]
	rest = strings.TrimLeft(rest, " \t\f")
	if rest != "" && (rest[0] == '=' || rest[0] == ':') {
		rest = strings.TrimLeft(rest[1:], " \t\f")
	}
	return key, rest
}

// unescapeProperty resolves a properties file's backslash escapes.
func unescapeProperty(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch c := s[i]; c {
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			if i+5 > len(s) {
				return "", errors.New(`malformed \uXXXX escape`)
			}
			r, err := strconv.ParseUint(s[i+1:i+5], 16, 16)
			if err != nil {
				return "", errors.New(`malformed \uXXXX escape`)
			}
			b.WriteRune(rune(r))
			i += 4
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// jaasConfig is a parsed sasl.jaas.config: one login module, its control
// flag and its options.
type jaasConfig struct {
	module  string
	flag    string
	options map[string]string
}

// parseJAAS parses the one login module sasl.jaas.config holds:
//
//	org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="p";
//
// Values are quoted (with \" and \\ escapes) or bare words. Errors never
// quote values: they may be passwords.
func parseJAAS(s string) (jaasConfig, error) {
	toks, err := jaasTokens(s)
	if err != nil {
		return jaasConfig{}, err
	}
	if len(toks) > 0 && toks[len(toks)-1].kind == ';' {
		toks = toks[:len(toks)-1]
	}
	if len(toks) < 2 || toks[0].kind != 'w' || toks[1].kind != 'w' {
		return jaasConfig{}, errors.New(`want "LoginModuleClass required key=value ...;"`)
	}
	j := jaasConfig{module: toks[0].text, flag: toks[1].text, options: map[string]string{}}
	switch j.flag {
	case "required", "requisite", "sufficient", "optional":
	default:
		return jaasConfig{}, fmt.Errorf("login module %s has control flag %q: want required", j.module, j.flag)
	}
	for rest := toks[2:]; len(rest) > 0; rest = rest[3:] {
		if rest[0].kind == ';' {
			return jaasConfig{}, errors.New("it holds more than one login module; give one")
		}
		if rest[0].kind != 'w' || len(rest) < 3 || rest[1].kind != '=' || (rest[2].kind != 'w' && rest[2].kind != 'q') {
			return jaasConfig{}, fmt.Errorf("options of %s: want key=value or key=\"value\"", j.module)
		}
		key := rest[0].text
		if _, dup := j.options[key]; dup {
			return jaasConfig{}, fmt.Errorf("option %s is given twice", key)
		}
		j.options[key] = rest[2].text
	}
	return j, nil
}

// jaasToken is a word ('w'), a quoted string ('q'), '=' or ';'.
type jaasToken struct {
	kind byte
	text string
}

// jaasTokens splits JAAS text into tokens; /* */ and // comments are
// skipped, as Kafka's tokenizer does.
func jaasTokens(s string) ([]jaasToken, error) {
	var toks []jaasToken
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			i++
		case strings.HasPrefix(s[i:], "//"):
			n := strings.IndexByte(s[i:], '\n')
			if n < 0 {
				n = len(s) - i
			}
			i += n
		case strings.HasPrefix(s[i:], "/*"):
			n := strings.Index(s[i+2:], "*/")
			if n < 0 {
				return nil, errors.New("unterminated /* comment")
			}
			i += n + 4
		case c == '=' || c == ';':
			toks = append(toks, jaasToken{kind: c})
			i++
		case c == '"':
			text, n, err := jaasQuoted(s[i:])
			if err != nil {
				return nil, err
			}
			toks = append(toks, jaasToken{kind: 'q', text: text})
			i += n
		default:
			n := strings.IndexAny(s[i:], " \t\n\r\f=;\"")
			if n < 0 {
				n = len(s) - i
			}
			toks = append(toks, jaasToken{kind: 'w', text: s[i : i+n]})
			i += n
		}
	}
	return toks, nil
}

// jaasQuoted reads the quoted string s starts with, returning its text and
// the bytes it took.
func jaasQuoted(s string) (string, int, error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '"':
			return b.String(), i + 1, nil
		case '\\':
			if i+1 == len(s) {
				break
			}
			i++
			switch s[i] {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			default:
				b.WriteByte(s[i])
			}
		default:
			b.WriteByte(s[i])
		}
	}
	return "", 0, errors.New("a quoted value is not closed")
}

// clientConfigHelp is `samsa help client-config`.
const clientConfigHelp = `The client commands (topic, produce, consume, group, txn, cluster,
partition, bench, user, acl, quota) connect in plaintext unless given
security settings, with the names Kafka's clients (and librdkafka/kcat)
use:

  --command-config FILE   a Java properties file, as Kafka's tools take it
                          (env ` + clientConfigEnv + ` names one too)
  -X key=value            one setting, repeatable; wins over the file

Settings:

  security.protocol       PLAINTEXT (default), SSL, SASL_PLAINTEXT, SASL_SSL
  sasl.mechanism          PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER
                          (librdkafka's sasl.mechanisms too)
  sasl.jaas.config        one login module, e.g.
      org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="p";
      org.apache.kafka.common.security.scram.ScramLoginModule required username="u" password="p";
      org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="alice";
  sasl.username, sasl.password   librdkafka's PLAIN/SCRAM credentials
  sasl.oauthbearer.token         a static OAUTHBEARER token
  ssl.truststore.location        PEM file of trusted CA certificates
  ssl.truststore.type            PEM (the only type read)
  ssl.truststore.certificates    the same, inline
  ssl.ca.location                librdkafka's name for the CA file
  ssl.keystore.location          one PEM file holding the client key and chain
  ssl.keystore.type              PEM
  ssl.keystore.certificate.chain, ssl.keystore.key   the same, inline
  ssl.certificate.location, ssl.key.location         librdkafka's client certificate and key
  ssl.endpoint.identification.algorithm  https (default) checks the broker's
                          name; empty skips that check (the chain is still verified)
  ssl.enabled.protocols   TLSv1.2,TLSv1.3 (default) or one of them, e.g.
                          TLSv1.3 to refuse a broker that offers only TLS 1.2

An unknown setting, or one samsa cannot honour (JKS stores, encrypted keys,
GSSAPI, OAuth token endpoints, ssl.* without TLS, sasl.* without SASL), is
an error: samsa never falls back to plaintext.

Example (client.properties):

  security.protocol=SASL_SSL
  sasl.mechanism=SCRAM-SHA-512
  sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required \
      username="alice" password="alice-secret";
  ssl.truststore.location=/etc/kafka/ca.pem
  ssl.truststore.type=PEM

  samsa topic list --command-config client.properties
  samsa topic list -X security.protocol=SASL_PLAINTEXT -X sasl.mechanism=PLAIN \
      -X sasl.username=alice -X sasl.password=alice-secret`

// newClientConfigHelpCmd is a help topic: `samsa help client-config`.
func newClientConfigHelpCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "client-config",
		Short: "Security settings of the client commands: TLS, SASL (--command-config, -X)",
		Long:  clientConfigHelp,
	}
}
