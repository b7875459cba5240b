package httpsink

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/samsa-streaming/samsa/connect"
)

// Class name, alias and settings.
const (
	Class   = "io.samsa.connect.http.HttpSinkConnector"
	Alias   = "HttpSink"
	Version = "1.0.0"

	URLConfig            = "http.api.url"
	MethodConfig         = "request.method"
	HeadersConfig        = "headers"
	HeaderSepConfig      = "header.separator"
	AuthTypeConfig       = "auth.type"
	UserConfig           = "connection.user"
	PasswordConfig       = "connection.password"
	BatchMaxSizeConfig   = "batch.max.size"
	BodyFormatConfig     = "request.body.format"
	EnvelopeConfig       = "http.record.envelope"
	BatchPrefixConfig    = "batch.prefix"
	BatchSuffixConfig    = "batch.suffix"
	BatchSepConfig       = "batch.separator"
	MaxRetriesConfig     = "max.retries"
	BackoffConfig        = "retry.backoff.ms"
	BackoffMaxConfig     = "retry.backoff.max.ms"
	RetryCodesConfig     = "retry.on.status.codes"
	BehaviorConfig       = "behavior.on.error"
	ConnectTimeoutConfig = "http.connect.timeout.ms"
	RequestTimeoutConfig = "http.request.timeout.ms"
)

// ConfigDef is the connector's configuration.
func ConfigDef() *connect.ConfigDef {
	d := connect.NewConfigDef()
	add := func(group string, order int, k connect.ConfigKey) {
		k.Group, k.OrderInGroup = group, order
		d.Define(k)
	}
	add("Connection", 1, connect.ConfigKey{Name: URLConfig, Type: connect.TypeString, Required: true,
		Importance: connect.High, Validator: validURL, Documentation: "URL the records are sent to"})
	add("Connection", 2, connect.ConfigKey{Name: MethodConfig, Type: connect.TypeString, Default: "POST",
		Importance: connect.Medium, Validator: connect.InList(true, "POST", "PUT", "PATCH"),
		Documentation: "HTTP method: POST, PUT or PATCH"})
	add("Connection", 3, connect.ConfigKey{Name: HeadersConfig, Type: connect.TypeString, Importance: connect.Medium,
		Documentation: "Headers of every request, Name:Value, separated by header.separator"})
	add("Connection", 4, connect.ConfigKey{Name: HeaderSepConfig, Type: connect.TypeString, Default: "|",
		Importance: connect.Low, Documentation: "Separator of the headers setting"})
	add("Connection", 5, connect.ConfigKey{Name: AuthTypeConfig, Type: connect.TypeString, Default: "NONE",
		Importance: connect.Medium, Validator: connect.InList(true, "NONE", "BASIC"),
		Documentation: "Authentication: NONE or BASIC"})
	add("Connection", 6, connect.ConfigKey{Name: UserConfig, Type: connect.TypeString, Importance: connect.Medium,
		Documentation: "User for BASIC authentication"})
	add("Connection", 7, connect.ConfigKey{Name: PasswordConfig, Type: connect.TypePassword, Importance: connect.Medium,
		Documentation: "Password for BASIC authentication"})
	add("Connection", 8, connect.ConfigKey{Name: ConnectTimeoutConfig, Type: connect.TypeInt, Default: "30000",
		Importance: connect.Low, Validator: connect.AtLeast(1), Documentation: "Connect timeout in milliseconds"})
	add("Connection", 9, connect.ConfigKey{Name: RequestTimeoutConfig, Type: connect.TypeInt, Default: "30000",
		Importance: connect.Low, Validator: connect.AtLeast(1), Documentation: "Whole-request timeout in milliseconds"})
	add("Request", 1, connect.ConfigKey{Name: BatchMaxSizeConfig, Type: connect.TypeInt, Default: "100",
		Importance: connect.Medium, Validator: connect.AtLeast(1), Documentation: "Most records per request"})
	add("Request", 2, connect.ConfigKey{Name: BodyFormatConfig, Type: connect.TypeString, Default: "json",
		Importance: connect.Medium, Validator: connect.InList(true, "json", "string"),
		Documentation: "json: a JSON array of the records; string: the values as text, joined"})
	add("Request", 3, connect.ConfigKey{Name: EnvelopeConfig, Type: connect.TypeBoolean, Default: "false",
		Importance: connect.Low, Documentation: "json format: send topic, partition, offset, timestamp, key, value and headers per record"})
	add("Request", 4, connect.ConfigKey{Name: BatchPrefixConfig, Type: connect.TypeString, Importance: connect.Low,
		Documentation: "string format: text before the values"})
	add("Request", 5, connect.ConfigKey{Name: BatchSuffixConfig, Type: connect.TypeString, Importance: connect.Low,
		Documentation: "string format: text after the values"})
	add("Request", 6, connect.ConfigKey{Name: BatchSepConfig, Type: connect.TypeString, Default: "\n",
		Importance: connect.Low, Documentation: "string format: text between values"})
	add("Retries", 1, connect.ConfigKey{Name: MaxRetriesConfig, Type: connect.TypeInt, Default: "10",
		Importance: connect.Medium, Validator: connect.AtLeast(0), Documentation: "Retries of a failed request before the runtime redelivers"})
	add("Retries", 2, connect.ConfigKey{Name: BackoffConfig, Type: connect.TypeInt, Default: "3000",
		Importance: connect.Medium, Validator: connect.AtLeast(0), Documentation: "First wait before a retry, in milliseconds, doubled each time"})
	add("Retries", 3, connect.ConfigKey{Name: BackoffMaxConfig, Type: connect.TypeInt, Default: "60000",
		Importance: connect.Low, Validator: connect.AtLeast(0), Documentation: "Longest wait before a retry, in milliseconds"})
	add("Retries", 4, connect.ConfigKey{Name: RetryCodesConfig, Type: connect.TypeString, Default: "408,429,500-",
		Importance: connect.Low, Validator: func(v any) error { _, err := parseCodes(v.(string)); return err },
		Documentation: "Statuses that are retried: codes and ranges (500-599, or 500- for all from 500)"})
	add("Retries", 5, connect.ConfigKey{Name: BehaviorConfig, Type: connect.TypeString, Default: "fail",
		Importance: connect.Medium, Validator: connect.InList(true, "fail", "log", "ignore"),
		Documentation: "What a request that cannot succeed does: fail the task, log and skip, or ignore"})
	return d
}

func validURL(v any) error {
	u, err := url.Parse(v.(string))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("must be an http:// or https:// URL")
	}
	return nil
}

// codeRange is an inclusive range of HTTP statuses.
type codeRange struct{ lo, hi int }

func parseCodes(s string) ([]codeRange, error) {
	var out []codeRange
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(strings.TrimSpace(lo))
		if err != nil {
			return nil, fmt.Errorf("bad status code %q", part)
		}
		b := a
		if isRange {
			b = 599
			if hi = strings.TrimSpace(hi); hi != "" {
				if b, err = strconv.Atoi(hi); err != nil {
					return nil, fmt.Errorf("bad status code range %q", part)
				}
			}
		}
		out = append(out, codeRange{a, b})
	}
	return out, nil
}

// Config is the parsed configuration of a task.
type Config struct {
	URL            string
	Method         string
	Headers        http.Header
	User, Password string // set for BASIC authentication
	Basic          bool
	BatchMaxSize   int
	StringFormat   bool
	Envelope       bool
	Prefix, Suffix string
	Separator      string
	MaxRetries     int
	Backoff        time.Duration
	BackoffMax     time.Duration
	RetryCodes     []codeRange
	Behavior       string // fail, log or ignore
	ConnectTimeout time.Duration
	RequestTimeout time.Duration
}

// ParseConfig checks props and returns the typed configuration.
func ParseConfig(props map[string]string) (Config, error) {
	v, err := ConfigDef().Parse(props)
	if err != nil {
		return Config{}, fmt.Errorf("http sink: %w", err)
	}
	str := func(k string) string { s, _ := v[k].(string); return s }
	num := func(k string) int { n, _ := v[k].(int32); return int(n) }
	ms := func(k string) time.Duration { return time.Duration(num(k)) * time.Millisecond }
	c := Config{URL: str(URLConfig), Method: strings.ToUpper(str(MethodConfig)),
		Basic: strings.EqualFold(str(AuthTypeConfig), "BASIC"), User: str(UserConfig), Password: str(PasswordConfig),
		BatchMaxSize: num(BatchMaxSizeConfig), StringFormat: strings.EqualFold(str(BodyFormatConfig), "string"),
		Prefix: str(BatchPrefixConfig), Suffix: str(BatchSuffixConfig), Separator: str(BatchSepConfig),
		MaxRetries: num(MaxRetriesConfig), Backoff: ms(BackoffConfig), BackoffMax: ms(BackoffMaxConfig),
		Behavior: strings.ToLower(str(BehaviorConfig)), ConnectTimeout: ms(ConnectTimeoutConfig),
		RequestTimeout: ms(RequestTimeoutConfig)}
	c.Envelope, _ = v[EnvelopeConfig].(bool)
	c.RetryCodes, _ = parseCodes(str(RetryCodesConfig))
	if c.Headers, err = parseHeaders(str(HeadersConfig), str(HeaderSepConfig)); err != nil {
		return Config{}, fmt.Errorf("http sink: %w", err)
	}
	return c, nil
}

func parseHeaders(s, sep string) (http.Header, error) {
	h := http.Header{}
	if strings.TrimSpace(s) == "" {
		return h, nil
	}
	if sep == "" {
		sep = "|"
	}
	for _, kv := range strings.Split(s, sep) {
		k, val, ok := strings.Cut(kv, ":")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("header %q of %s is not Name:Value", kv, HeadersConfig)
		}
		h.Add(k, strings.TrimSpace(val))
	}
	return h, nil
}

func (c *Config) retryStatus(code int) bool {
	for _, r := range c.RetryCodes {
		if code >= r.lo && code <= r.hi {
			return true
		}
	}
	return false
}
