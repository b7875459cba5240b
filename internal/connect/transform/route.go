package transform

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/samsa-streaming/samsa/connect"
)

// TimestampRouter is org.apache.kafka.connect.transforms.TimestampRouter.
type TimestampRouter struct {
	topicFormat string
	tsFormat    *dateFormat
}

// TimestampRouterConfig is TimestampRouter.CONFIG_DEF.
func TimestampRouterConfig() *connect.ConfigDef {
	return connect.NewConfigDef().
		Define(connect.ConfigKey{Name: "topic.format", Type: connect.TypeString, Default: "${topic}-${timestamp}", Importance: connect.High,
			Documentation: "Format string which can contain <code>${topic}</code> and <code>${timestamp}</code> as placeholders for the topic and timestamp, respectively."}).
		Define(connect.ConfigKey{Name: "timestamp.format", Type: connect.TypeString, Default: "yyyyMMdd", Importance: connect.High,
			Documentation: "Format string for the timestamp that is compatible with <code>java.text.SimpleDateFormat</code>."})
}

// Configure reads the settings.
func (t *TimestampRouter) Configure(props map[string]string) error {
	p, err := parseConfig(TimestampRouterConfig(), props)
	if err != nil {
		return err
	}
	t.topicFormat, _ = str(p, "topic.format")
	f, _ := str(p, "timestamp.format")
	if t.tsFormat, err = parseDateFormat(f); err != nil {
		return configErrValue("timestamp.format", f, err.Error())
	}
	return nil
}

// Apply renames the topic.
func (t *TimestampRouter) Apply(r *connect.Record) (*connect.Record, error) {
	if r.Timestamp.IsZero() {
		return nil, dataErr("Timestamp missing on record: %s", recordString(r))
	}
	ts := t.tsFormat.format(r.Timestamp.UTC())
	c := r.Copy()
	c.Topic = strings.ReplaceAll(strings.ReplaceAll(t.topicFormat, "${topic}", r.Topic), "${timestamp}", ts)
	return c, nil
}

func recordString(r *connect.Record) string {
	return fmt.Sprintf("ConnectRecord{topic='%s', kafkaPartition=%d, key=%v, value=%v}", r.Topic, r.Partition, r.Key, r.Value)
}

// Close releases nothing.
func (t *TimestampRouter) Close() error { return nil }

// dateFormat is a java.text.SimpleDateFormat pattern, compiled.
type dateFormat struct{ parts []datePart }

type datePart struct {
	letter  byte // 0 for literal text
	count   int
	literal string
}

// parseDateFormat compiles a SimpleDateFormat pattern: letters
// G y Y M L d D E u a H k K h m s S z Z X, text quoted in single quotes.
func parseDateFormat(p string) (*dateFormat, error) {
	f := &dateFormat{}
	for i := 0; i < len(p); {
		c := p[i]
		switch {
		case c == '\'':
			j := i + 1
			var lit strings.Builder
			for ; j < len(p); j++ {
				if p[j] == '\'' {
					if j+1 < len(p) && p[j+1] == '\'' {
						lit.WriteByte('\'')
						j++
						continue
					}
					break
				}
				lit.WriteByte(p[j])
			}
			if j >= len(p) {
				return nil, fmt.Errorf("Unterminated quote")
			}
			if j == i+1 {
				lit.WriteByte('\'')
			}
			f.parts = append(f.parts, datePart{literal: lit.String()})
			i = j + 1
		case (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'):
			if !strings.ContainsRune("GyYMLdDEuaHkKhmsSzZXwWF", rune(c)) {
				return nil, fmt.Errorf("Illegal pattern character '%c'", c)
			}
			j := i
			for j < len(p) && p[j] == c {
				j++
			}
			f.parts = append(f.parts, datePart{letter: c, count: j - i})
			i = j
		default:
			f.parts = append(f.parts, datePart{literal: string(c)})
			i++
		}
	}
	return f, nil
}

func (f *dateFormat) format(t time.Time) string {
	var b strings.Builder
	for _, p := range f.parts {
		if p.letter == 0 {
			b.WriteString(p.literal)
			continue
		}
		b.WriteString(formatPart(t, p.letter, p.count))
	}
	return b.String()
}

func pad(n, width int) string {
	s := strconv.Itoa(n)
	for len(s) < width {
		s = "0" + s
	}
	return s
}

func formatPart(t time.Time, letter byte, n int) string {
	switch letter {
	case 'G':
		return "AD"
	case 'y', 'Y':
		if n == 2 {
			return pad(t.Year()%100, 2)
		}
		return pad(t.Year(), n)
	case 'M', 'L':
		switch {
		case n >= 4:
			return t.Month().String()
		case n == 3:
			return t.Month().String()[:3]
		}
		return pad(int(t.Month()), n)
	case 'd':
		return pad(t.Day(), n)
	case 'D':
		return pad(t.YearDay(), n)
	case 'E':
		if n >= 4 {
			return t.Weekday().String()
		}
		return t.Weekday().String()[:3]
	case 'u':
		wd := int(t.Weekday())
		if wd == 0 {
			wd = 7
		}
		return pad(wd, n)
	case 'a':
		if t.Hour() < 12 {
			return "AM"
		}
		return "PM"
	case 'H':
		return pad(t.Hour(), n)
	case 'k':
		h := t.Hour()
		if h == 0 {
			h = 24
		}
		return pad(h, n)
	case 'K':
		return pad(t.Hour()%12, n)
	case 'h':
		h := t.Hour() % 12
		if h == 0 {
			h = 12
		}
		return pad(h, n)
	case 'm':
		return pad(t.Minute(), n)
	case 's':
		return pad(t.Second(), n)
	case 'S':
		return pad(t.Nanosecond()/1e6, n)
	case 'z':
		if n >= 4 {
			return "Coordinated Universal Time"
		}
		return "UTC"
	case 'Z':
		return "+0000"
	case 'X':
		return "Z"
	case 'w':
		_, w := t.ISOWeek()
		return pad(w, n)
	case 'W':
		return pad((t.Day()-1)/7+1, n)
	case 'F':
		return pad((t.Day()-1)/7+1, n)
	}
	return ""
}

// RegexRouter is org.apache.kafka.connect.transforms.RegexRouter.
type RegexRouter struct {
	re          *regexp.Regexp
	replacement string // in Go's Expand syntax
}

// RegexRouterConfig is RegexRouter.CONFIG_DEF.
func RegexRouterConfig() *connect.ConfigDef {
	return connect.NewConfigDef().
		Define(connect.ConfigKey{Name: "regex", Type: connect.TypeString, Required: true, Importance: connect.High, Documentation: "Regular expression to use for matching."}).
		Define(connect.ConfigKey{Name: "replacement", Type: connect.TypeString, Required: true, Importance: connect.High, Documentation: "Replacement string."})
}

// compileJavaRegex compiles a Java regular expression that must match a
// whole string (Matcher.matches). Go's RE2 syntax covers the common
// subset; look-around and backreferences are refused.
func compileJavaRegex(name, expr string) (*regexp.Regexp, error) {
	re, err := regexp.Compile(`^(?:` + expr + `)$`)
	if err != nil {
		return nil, configErrValue(name, expr, "entry must be a Java-compatible regular expression: "+err.Error())
	}
	return re, nil
}

// Configure reads the settings.
func (t *RegexRouter) Configure(props map[string]string) error {
	p, err := parseConfig(RegexRouterConfig(), props)
	if err != nil {
		return err
	}
	expr, _ := str(p, "regex")
	if t.re, err = compileJavaRegex("regex", expr); err != nil {
		return err
	}
	rep, _ := str(p, "replacement")
	t.replacement = javaReplacement(rep, t.re.NumSubexp())
	return nil
}

// javaReplacement translates a Java Matcher replacement ($1, ${name},
// \x escapes) to Go's Expand template.
func javaReplacement(rep string, groups int) string {
	var b strings.Builder
	for i := 0; i < len(rep); i++ {
		c := rep[i]
		switch {
		case c == '\\' && i+1 < len(rep):
			i++
			if rep[i] == '$' {
				b.WriteString("$$")
			} else {
				b.WriteByte(rep[i])
			}
		case c == '$' && i+1 < len(rep) && rep[i+1] >= '0' && rep[i+1] <= '9':
			n := int(rep[i+1] - '0')
			j := i + 2
			for j < len(rep) && rep[j] >= '0' && rep[j] <= '9' && n*10+int(rep[j]-'0') <= groups {
				n = n*10 + int(rep[j]-'0')
				j++
			}
			b.WriteString("${" + strconv.Itoa(n) + "}")
			i = j - 1
		case c == '$' && i+1 < len(rep) && rep[i+1] == '{':
			end := strings.IndexByte(rep[i:], '}')
			if end < 0 {
				b.WriteString("$$")
				continue
			}
			b.WriteString(rep[i : i+end+1])
			i += end
		case c == '$':
			b.WriteString("$$")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Apply renames a matching topic.
func (t *RegexRouter) Apply(r *connect.Record) (*connect.Record, error) {
	m := t.re.FindStringSubmatchIndex(r.Topic)
	if m == nil {
		return r, nil
	}
	c := r.Copy()
	c.Topic = string(t.re.ExpandString(nil, t.replacement, r.Topic, m))
	return c, nil
}

// Close releases nothing.
func (t *RegexRouter) Close() error { return nil }

// Filter is org.apache.kafka.connect.transforms.Filter: it drops every
// record (use it with a predicate).
type Filter struct{}

// Configure accepts any settings.
func (Filter) Configure(map[string]string) error { return nil }

// Apply drops the record.
func (Filter) Apply(*connect.Record) (*connect.Record, error) { return nil, nil }

// Close releases nothing.
func (Filter) Close() error { return nil }
