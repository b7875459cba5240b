package transform

import (
	"regexp"

	"github.com/samsa-streaming/samsa/connect"
)

// TopicNameMatches is org.apache.kafka.connect.transforms.predicates.TopicNameMatches.
type TopicNameMatches struct{ re *regexp.Regexp }

// TopicNameMatchesConfig is its CONFIG_DEF.
func TopicNameMatchesConfig() *connect.ConfigDef {
	return connect.NewConfigDef().Define(connect.ConfigKey{Name: "pattern", Type: connect.TypeString, Required: true, Validator: nonEmptyString,
		Importance: connect.Medium, Documentation: "A Java regular expression for matching against the name of a record's topic."})
}

// Configure reads pattern.
func (p *TopicNameMatches) Configure(props map[string]string) error {
	parsed, err := parseConfig(TopicNameMatchesConfig(), props)
	if err != nil {
		return err
	}
	pat, _ := str(parsed, "pattern")
	p.re, err = compileJavaRegex("pattern", pat)
	return err
}

// Test says whether the topic matches the whole pattern.
func (p *TopicNameMatches) Test(r *connect.Record) bool { return p.re.MatchString(r.Topic) }

// Close releases nothing.
func (p *TopicNameMatches) Close() error { return nil }

// HasHeaderKey is org.apache.kafka.connect.transforms.predicates.HasHeaderKey.
type HasHeaderKey struct{ name string }

// HasHeaderKeyConfig is its CONFIG_DEF.
func HasHeaderKeyConfig() *connect.ConfigDef {
	return connect.NewConfigDef().Define(connect.ConfigKey{Name: "name", Type: connect.TypeString, Required: true, Validator: nonEmptyString,
		Importance: connect.Medium, Documentation: "The header name."})
}

// Configure reads name.
func (p *HasHeaderKey) Configure(props map[string]string) error {
	parsed, err := parseConfig(HasHeaderKeyConfig(), props)
	if err != nil {
		return err
	}
	p.name, _ = str(parsed, "name")
	return nil
}

// Test says whether the record has at least one header with the name.
func (p *HasHeaderKey) Test(r *connect.Record) bool { return r.Header(p.name) != nil }

// Close releases nothing.
func (p *HasHeaderKey) Close() error { return nil }

// RecordIsTombstone is org.apache.kafka.connect.transforms.predicates.RecordIsTombstone.
type RecordIsTombstone struct{}

// Configure accepts any settings.
func (RecordIsTombstone) Configure(map[string]string) error { return nil }

// Test says whether the value is null.
func (RecordIsTombstone) Test(r *connect.Record) bool { return r.Value == nil }

// Close releases nothing.
func (RecordIsTombstone) Close() error { return nil }
