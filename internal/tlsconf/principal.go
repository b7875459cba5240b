package tlsconf

import (
	"crypto/tls"
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/language"
)

var (
	// ErrNoMatchingRule is returned when no mapping rule applies to a DN
	// (Kafka's NoMatchingRule: the connection is refused).
	ErrNoMatchingRule = errors.New("tlsconf: no ssl.principal.mapping.rules rule applies")
	// ErrInvalidRule wraps every error of ParsePrincipalMappingRules.
	ErrInvalidRule = errors.New("tlsconf: invalid principal mapping rule")
	// ErrUnverifiedPeer is returned for a client certificate crypto/tls
	// did not verify (a server config with tls.RequestClientCert).
	ErrUnverifiedPeer = errors.New("tlsconf: the client certificate was not verified")
)

// Kafka's principal type and name for a client without a certificate.
const (
	PrincipalTypeUser = "User"
	AnonymousName     = "ANONYMOUS"
)

// Principal is a Kafka principal (KafkaPrincipal).
type Principal struct {
	Type, Name string
}

// String is Kafka's form, "User:alice".
func (p Principal) String() string { return p.Type + ":" + p.Name }

// PrincipalMapper maps a certificate's distinguished name to a principal
// name by Kafka's ssl.principal.mapping.rules. Safe for concurrent use.
type PrincipalMapper struct {
	rules []*mappingRule
}

// mappingRule is DEFAULT (re == nil) or RULE:pattern/replacement/[LU].
type mappingRule struct {
	pattern, replacement string // as written
	re                   *regexp.Regexp
	whole                *regexp.Regexp // matches all of a DN
	afterRune            *regexp.Regexp // the match right after one rune
	tmpl                 []piece
	lower, upper         bool
}

// piece is literal text or, group >= 0, a capture group.
type piece struct {
	text  string
	group int
}

// ParsePrincipalMappingRules parses ssl.principal.mapping.rules the way
// Kafka's SslPrincipalMapper does: rules are DEFAULT or
// RULE:pattern/replacement/ with an optional L or U (lower- or upper-case
// the result), separated by commas and white space; a comma inside a
// pattern or replacement belongs to it, and "\" escapes the next
// character (so "\/" is a slash). Empty rules are skipped. Patterns are
// Go (RE2) regular expressions: Java-only syntax (back references,
// look-around) is an error here.
func ParsePrincipalMappingRules(rules string) (*PrincipalMapper, error) {
	texts, err := splitRules(rules)
	if err != nil {
		return nil, err
	}
	m := &PrincipalMapper{}
	for _, text := range texts {
		r, err := parseRule(text)
		if err != nil {
			return nil, err
		}
		if r != nil {
			m.rules = append(m.rules, r)
		}
	}
	return m, nil
}

// javaSpace is Java's \s.
func javaSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// lineBreak reports whether s[i:] starts with a character Java's "." does
// not match.
func lineBreak(s string, i int) bool {
	r, _ := utf8.DecodeRuneInString(s[i:])
	return r == '\n' || r == '\r' || r == '\u0085' || r == '\u2028' || r == '\u2029'
}

// separator reports whether s[k:] starts with white space then a comma or
// the end, and where the next rule starts.
func separator(s string, k int) (int, bool) {
	for k < len(s) && javaSpace(s[k]) {
		k++
	}
	if k == len(s) {
		return k, true
	}
	if s[k] != ',' {
		return 0, false
	}
	k++
	for k < len(s) && javaSpace(s[k]) {
		k++
	}
	return k, true
}

// toSeparator finds the first separator at or after k that no line break
// comes before: the end of a rule's text, and where the next starts.
func toSeparator(s string, k int) (end, next int, ok bool) {
	for {
		if n, ok := separator(s, k); ok {
			return k, n, true
		}
		if lineBreak(s, k) {
			return 0, 0, false
		}
		_, size := utf8.DecodeRuneInString(s[k:])
		k += size
	}
}

// escapedText reads a pattern or replacement up to an unescaped "/" and
// returns the index of that slash.
func escapedText(s string, i int) (int, bool) {
	for i < len(s) {
		switch s[i] {
		case '/':
			return i, true
		case '\\':
			if i+1 == len(s) || lineBreak(s, i+1) {
				return 0, false
			}
			_, size := utf8.DecodeRuneInString(s[i+1:])
			i += 1 + size
		default:
			_, size := utf8.DecodeRuneInString(s[i:])
			i += size
		}
	}
	return 0, false
}

// ruleText reads RULE:pattern/replacement/ at s[i:] and returns where its
// flags start.
func ruleText(s string, i int) (int, bool) {
	if !strings.HasPrefix(s[i:], "RULE:") {
		return 0, false
	}
	slash, ok := escapedText(s, i+len("RULE:"))
	if !ok {
		return 0, false
	}
	slash, ok = escapedText(s, slash+1)
	if !ok {
		return 0, false
	}
	return slash + 1, true
}

// splitRules cuts the rules value into rule texts as Kafka's splitter does.
// Where Kafka would silently drop text before a line break inside a rule,
// this is an error.
func splitRules(s string) ([]string, error) {
	s = strings.TrimFunc(s, func(r rune) bool { return r <= ' ' })
	var out []string
	for pos := 0; pos < len(s); {
		for pos < len(s) && javaSpace(s[pos]) {
			pos++
		}
		if strings.HasPrefix(s[pos:], "DEFAULT") {
			if next, ok := separator(s, pos+len("DEFAULT")); ok {
				out, pos = append(out, "DEFAULT"), next
				continue
			}
		}
		start := pos
		if flags, ok := ruleText(s, pos); ok {
			start = flags
		}
		end, next, ok := toSeparator(s, start)
		if !ok && start != pos {
			end, next, ok = toSeparator(s, pos)
		}
		if !ok {
			return nil, fmt.Errorf("%w: a line break inside the rule at %q", ErrInvalidRule, s[pos:])
		}
		out, pos = append(out, s[pos:end]), next
	}
	return out, nil
}

// parseRule parses one rule's text; nil for an empty one.
func parseRule(text string) (*mappingRule, error) {
	switch {
	case text == "":
		return nil, nil
	case text == "DEFAULT":
		return &mappingRule{}, nil
	}
	flags, ok := ruleText(text, 0)
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrInvalidRule, text)
	}
	r := &mappingRule{}
	switch text[flags:] {
	case "":
	case "L":
		r.lower = true
	case "U":
		r.upper = true
	default:
		return nil, fmt.Errorf("%w: %q, unmatched substring %q", ErrInvalidRule, text, text[flags:])
	}
	first, _ := escapedText(text, len("RULE:"))
	r.pattern, r.replacement = text[len("RULE:"):first], text[first+1:flags-1]
	if err := r.compile(); err != nil {
		return nil, fmt.Errorf("%w: %q: %w", ErrInvalidRule, text, err)
	}
	return r, nil
}

func (r *mappingRule) compile() error {
	pattern, err := javaDot(r.pattern)
	if err != nil {
		return err
	}
	if r.re, err = regexp.Compile(pattern); err != nil {
		return err
	}
	// pattern is a well-formed expression, so wrapping it is safe.
	r.whole = regexp.MustCompile(`\A(?:` + pattern + `)\z`)
	r.afterRune = regexp.MustCompile(`\A(?s:.)(?:` + pattern + `)`)
	r.tmpl, err = parseReplacement(r.replacement, r.re)
	return err
}

// javaDot rewrites each "." that does not match a line break as Java's:
// any character but \n, \r, U+0085, U+2028 and U+2029 (Go's excludes only
// \n).
func javaDot(pattern string) (string, error) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return "", err
	}
	var fix func(*syntax.Regexp)
	fix = func(re *syntax.Regexp) {
		if re.Op == syntax.OpAnyCharNotNL {
			re.Op = syntax.OpCharClass
			re.Rune = []rune{0, '\n' - 1, '\n' + 1, '\r' - 1, '\r' + 1, 0x84, 0x86, 0x2027, 0x202a, unicode.MaxRune}
		}
		for _, sub := range re.Sub {
			fix(sub)
		}
	}
	fix(re)
	return re.String(), nil
}

// parseReplacement reads a replacement as Java's Matcher does: "\c" is c,
// "$n" is group n (further digits join n while it stays a group number),
// "${name}" a named group. As Kafka intends, "$n" whose first digit is
// past the pattern's groups is literal text; with no groups at all it is
// an error here (Kafka fails every connection the rule matches).
func parseReplacement(s string, re *regexp.Regexp) ([]piece, error) {
	groups := re.NumSubexp()
	var out []piece
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			out = append(out, piece{text: lit.String(), group: -1})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == '\\':
			if i+1 == len(s) {
				return nil, errors.New("the replacement ends with an escaping backslash")
			}
			_, size := utf8.DecodeRuneInString(s[i+1:])
			lit.WriteString(s[i+1 : i+1+size])
			i += 1 + size
		case c == '$':
			g, next, err := groupRef(s, i+1, re, groups)
			if err != nil {
				return nil, err
			}
			if g < 0 {
				lit.WriteByte('$')
			} else {
				flush()
				out = append(out, piece{group: g})
			}
			i = next
		default:
			lit.WriteByte(c)
			i++
		}
	}
	flush()
	return out, nil
}

// groupRef reads the group reference after a "$" at s[i:]: the group (-1
// for a literal "$") and where the text continues.
func groupRef(s string, i int, re *regexp.Regexp, groups int) (int, int, error) {
	switch {
	case i < len(s) && s[i] == '{':
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return 0, 0, errors.New("the replacement has an unclosed ${")
		}
		name := s[i+1 : i+end]
		g := re.SubexpIndex(name)
		if g < 0 {
			return 0, 0, fmt.Errorf("the replacement names group %q, which the pattern lacks", name)
		}
		return g, i + end + 1, nil
	case i < len(s) && s[i] >= '0' && s[i] <= '9':
		g := int(s[i] - '0')
		if g > groups {
			if groups == 0 {
				return 0, 0, fmt.Errorf("the replacement refers to group %d but the pattern has no groups", g)
			}
			return -1, i, nil
		}
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' && g*10+int(s[i]-'0') <= groups {
			g = g*10 + int(s[i]-'0')
			i++
		}
		return g, i, nil
	}
	return 0, 0, errors.New(`the replacement has a "$" that is not a group reference (write \$)`)
}

// String lists the rules as Kafka's SslPrincipalMapper.toString does.
func (m *PrincipalMapper) String() string {
	parts := make([]string, len(m.rules))
	for i, r := range m.rules {
		parts[i] = r.String()
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func (r *mappingRule) String() string {
	if r.re == nil {
		return "DEFAULT"
	}
	s := "RULE:" + r.pattern + "/" + r.replacement
	switch {
	case r.lower:
		s += "/L"
	case r.upper:
		s += "/U"
	}
	return s
}

// Name maps a distinguished name (as FormatDN writes it) by the first rule
// that applies: DEFAULT gives the DN itself; a RULE applies when its
// pattern matches the whole DN, and gives the DN with every match of the
// pattern replaced (Java's String.replaceAll), then lower- or upper-cased.
func (m *PrincipalMapper) Name(dn string) (string, error) {
	for _, r := range m.rules {
		if r.re == nil {
			return dn, nil
		}
		if !r.whole.MatchString(dn) {
			continue
		}
		name := r.replaceAll(dn)
		switch {
		case r.lower:
			name = cases.Lower(language.English).String(name)
		case r.upper:
			name = cases.Upper(language.English).String(name)
		}
		return name, nil
	}
	return "", fmt.Errorf("%w to %q (rules %s)", ErrNoMatchingRule, dn, m)
}

// replaceAll is Java's replaceAll. Go's FindAll skips an empty match
// right after a match; Java takes it (".*" replaces "abc" twice), so
// those are found with afterRune and put back.
func (r *mappingRule) replaceAll(s string) string {
	var b strings.Builder
	last := 0
	emit := func(m []int) {
		b.WriteString(s[last:m[0]])
		for _, p := range r.tmpl {
			if p.group < 0 {
				b.WriteString(p.text)
			} else if m[2*p.group] >= 0 {
				b.WriteString(s[m[2*p.group]:m[2*p.group+1]])
			}
		}
		last = m[1]
	}
	for _, m := range r.re.FindAllStringSubmatchIndex(s, -1) {
		emit(m)
		if m[1] > m[0] {
			if e := r.emptyMatchAt(s, m[1]); e != nil {
				emit(e)
			}
		}
	}
	b.WriteString(s[last:])
	return b.String()
}

// emptyMatchAt returns the match at s[e:] if the pattern's preferred match
// there is empty (with the rune before e as context for ^ and \b).
func (r *mappingRule) emptyMatchAt(s string, e int) []int {
	_, size := utf8.DecodeLastRuneInString(s[:e])
	from := e - size
	m := r.afterRune.FindStringSubmatchIndex(s[from:])
	if m == nil || m[1] != size {
		return nil
	}
	for i := range m {
		if m[i] >= 0 {
			m[i] += from
		}
	}
	m[0] = e
	return m
}

// Principal is the Kafka principal of a TLS connection's client: User:
// and the mapped name of its verified certificate's subject, or
// User:ANONYMOUS without a certificate.
func (m *PrincipalMapper) Principal(state tls.ConnectionState) (Principal, error) {
	if len(state.PeerCertificates) == 0 {
		return Principal{Type: PrincipalTypeUser, Name: AnonymousName}, nil
	}
	if len(state.VerifiedChains) == 0 {
		return Principal{}, ErrUnverifiedPeer
	}
	dn, err := FormatDN(state.PeerCertificates[0].RawSubject)
	if err != nil {
		return Principal{}, err
	}
	name, err := m.Name(dn)
	if err != nil {
		return Principal{}, err
	}
	return Principal{Type: PrincipalTypeUser, Name: name}, nil
}
